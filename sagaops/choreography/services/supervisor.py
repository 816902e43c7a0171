"""The supervisor (seed 003): failure reports in, the rule's compensations out, each tracked
until its service acknowledges it, retried, and the saga marked stuck when one cannot be done.

Reports arrive on the reports stream (`bus.report_failure`) and through `POST /api/reports/`,
which only stores a FailureReport row: the supervisor consumer picks unhandled rows up on every
loop (a partial index keeps that cheap), so both paths end in `report_handle`.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from sagaops.choreography.bus import COMMAND_DONE, COMMAND_FAILED, FAILURE_REPORTED, REPORTS, BusEvent, handles, publish
from sagaops.choreography.models import CompensationRequest, CompensationRule, ReportHandling
from sagaops.choreography.services.rules import rule_version_current
from sagaops.choreography.services.tracker import SUPERVISOR_PLANNED, SUPERVISOR_STUCK
from sagaops.conf import conf
from sagaops.models import FailureReport, Saga
from sagaops.search_keys import keys_contain

log = logging.getLogger(__name__)

SUPERVISOR = "supervisor"
TICK_BATCH = 100
Req, Handling = CompensationRequest.Status, ReportHandling.Status


@handles(FAILURE_REPORTED, group=SUPERVISOR, stream=REPORTS)
def on_failure_reported(event: BusEvent) -> None:
    p = event.payload
    detail = {**(p.get("detail") or {}), "event_id": event.event_id}
    report = FailureReport.objects.create(
        service=str(p["service"])[:150],
        code=str(p["code"])[:100],
        correlation_id=event.correlation_id[:200],
        detail=detail,
    )
    report_handle(report_id=report.pk)


@handles(COMMAND_DONE, group=SUPERVISOR)
def on_command_done(event: BusEvent) -> None:
    request_acknowledged(request_id=event.payload.get("request_id"), result=event.payload.get("result"))


@handles(COMMAND_FAILED, group=SUPERVISOR)
def on_command_failed(event: BusEvent) -> None:
    p = event.payload
    request_refused(request_id=p.get("request_id"), attempt=p.get("attempt"), error=p.get("error", ""))


def _tracked_saga(report: FailureReport) -> Saga | None:
    try:
        saga_id = uuid.UUID(str(report.detail.get("saga_id")))
    except ValueError:
        saga_id = None
    if saga_id is not None:
        return Saga.objects.filter(pk=saga_id).first()
    if report.correlation_id:
        return Saga.objects.filter(keys_contain(correlation_id=report.correlation_id)).order_by("-created_at").first()
    return None


def _subject(report: FailureReport, saga: Saga | None) -> dict:
    subject = {**(saga.context.get("payload", {}) if saga else {}), **report.detail}
    if saga is not None:
        subject["saga_id"] = str(saga.pk)
    return subject


def report_handle(*, report_id: int) -> ReportHandling | None:
    """Apply the rule in force to an unhandled report (None if another supervisor has it)."""
    with transaction.atomic():
        report = (
            FailureReport.objects.select_for_update(skip_locked=True)
            .filter(pk=report_id, handled_at__isnull=True)
            .first()
        )
        if report is None:
            return None
        report.handled_at = timezone.now()
        report.save(update_fields=["handled_at"])
        return _handle(report)


def _handle(report: FailureReport) -> ReportHandling:
    saga = _tracked_saga(report)
    version = rule_version_current(service=report.service, code=report.code)
    step = str(report.detail.get("step", ""))
    handling = ReportHandling(report=report, rule_version=version, saga_id=saga.pk if saga else None)
    handling.subject = _subject(report, saga)
    base = {"report_id": report.pk, "service": report.service, "code": report.code, "step": step}
    base["saga_id"] = str(saga.pk) if saga else None
    if version is None:
        return _stuck_at_once(handling, base, f"no rule for ({report.service}, {report.code})", no_rule=True)
    if version.action == CompensationRule.Action.RETRY_STEP:
        if not step:
            reason = (
                f"the rule for ({report.service}, {report.code}) retries the failed step, but the report names none"
            )
            return _stuck_at_once(handling, base, reason)
        commands, handling.status = [f"{report.service}.{step}"], Handling.RETRYING
    else:
        commands, handling.status = list(version.commands), Handling.COMPENSATING
    handling.save()
    requests = CompensationRequest.objects.bulk_create(
        CompensationRequest(handling=handling, position=i, command=c) for i, c in enumerate(commands)
    )
    publish(
        SUPERVISOR_PLANNED,
        correlation_id=_correlation(handling),
        payload={
            **base,
            "action": version.action,
            "rule": str(version.rule),
            "version": version.version,
            "commands": commands,
            "requests": [{"request_id": r.pk, "command": r.command} for r in requests],
        },
        source=SUPERVISOR,
    )
    _request_next(handling)
    return handling


def _stuck_at_once(handling: ReportHandling, base: dict, reason: str, *, no_rule: bool = False) -> ReportHandling:
    handling.status, handling.reason, handling.finished_at = Handling.STUCK, reason, timezone.now()
    handling.save()
    payload = {**base, "reason": reason, "no_rule": no_rule}
    publish(SUPERVISOR_STUCK, correlation_id=_correlation(handling), payload=payload, source=SUPERVISOR)
    log.warning("supervisor: report %s: %s", handling.report_id, reason)
    return handling


def _correlation(handling: ReportHandling) -> str:
    return handling.report.correlation_id or handling.subject.get("correlation_id", "") or str(handling.saga_id or "")


def _request_next(handling: ReportHandling) -> None:
    following = handling.requests.filter(status=Req.WAITING).order_by("position").first()
    if following is not None:
        request_send(following, handling)
        return
    handling.status, handling.finished_at = Handling.DONE, timezone.now()
    handling.save(update_fields=["status", "finished_at"])


def request_send(request: CompensationRequest, handling: ReportHandling) -> None:
    now = timezone.now()
    request.attempts += 1
    request.status, request.requested_at = Req.REQUESTED, now
    request.next_attempt_at = now + timedelta(seconds=conf.SAGAOPS_SUPERVISOR_ACK_TIMEOUT)
    request.save(update_fields=["attempts", "status", "requested_at", "next_attempt_at"])
    payload = {
        "request_id": request.pk,
        "command": request.command,
        "attempt": request.attempts,
        "subject": handling.subject,
        "saga_id": str(handling.saga_id) if handling.saga_id else None,
    }
    publish(request.command, correlation_id=_correlation(handling), payload=payload, source=SUPERVISOR)


def _locked_request(request_id) -> CompensationRequest | None:
    if not isinstance(request_id, int):
        return None
    requests = CompensationRequest.objects.select_for_update().select_related("handling__report")
    return requests.filter(pk=request_id).first()


def request_acknowledged(*, request_id, result=None) -> None:
    """The service did it (a late ack of an earlier attempt counts too): request the next one."""
    with transaction.atomic():
        request = _locked_request(request_id)
        if request is None or request.status != Req.REQUESTED:
            return
        request.status, request.acked_at, request.next_attempt_at = Req.DONE, timezone.now(), None
        request.result = result
        request.save(update_fields=["status", "acked_at", "next_attempt_at", "result"])
        _request_next(request.handling)


def request_refused(*, request_id, attempt, error: str) -> None:
    """The service refused (a business rule): retry after a delay, give up after the last attempt."""
    with transaction.atomic():
        request = _locked_request(request_id)
        if request is None or request.status != Req.REQUESTED or attempt != request.attempts:
            return
        request.last_error = error[:2000]
        if request.attempts >= conf.SAGAOPS_SUPERVISOR_MAX_ATTEMPTS:
            _give_up(request, f"was refused {request.attempts} time(s): {error}")
            return
        request.next_attempt_at = timezone.now() + timedelta(seconds=conf.SAGAOPS_SUPERVISOR_RETRY_DELAY)
        request.save(update_fields=["last_error", "next_attempt_at"])


def _give_up(request: CompensationRequest, why: str) -> None:
    handling = request.handling
    reason = f"compensation {request.command} could not be done: it {why}"
    request.status, request.next_attempt_at = Req.FAILED, None
    request.save(update_fields=["status", "next_attempt_at", "last_error"])
    handling.status, handling.reason, handling.finished_at = Handling.STUCK, reason, timezone.now()
    handling.save(update_fields=["status", "reason", "finished_at"])
    payload = {
        "report_id": handling.report_id,
        "service": handling.report.service,
        "code": handling.report.code,
        "command": request.command,
        "reason": reason,
        "saga_id": str(handling.saga_id) if handling.saga_id else None,
    }
    publish(SUPERVISOR_STUCK, correlation_id=_correlation(handling), payload=payload, source=SUPERVISOR)
    log.warning("supervisor: report %s: %s", handling.report_id, reason)


def supervisor_tick(*, now: datetime | None = None) -> int:
    """Handle the reports that came through the API, re-request what was not acknowledged in time."""
    now = now or timezone.now()
    unhandled = FailureReport.objects.filter(handled_at__isnull=True).order_by("received_at")
    done = sum(1 for pk in unhandled.values_list("pk", flat=True)[:TICK_BATCH] if report_handle(report_id=pk))
    due = CompensationRequest.objects.filter(status=Req.REQUESTED, next_attempt_at__lte=now)
    for pk in due.values_list("pk", flat=True)[:TICK_BATCH]:
        with transaction.atomic():
            request = (
                CompensationRequest.objects.select_for_update(skip_locked=True)
                .select_related("handling__report")
                .filter(pk=pk, status=Req.REQUESTED, next_attempt_at__lte=now)
                .first()
            )
            if request is None:
                continue
            if request.attempts >= conf.SAGAOPS_SUPERVISOR_MAX_ATTEMPTS:
                last = f" (last error: {request.last_error})" if request.last_error else ""
                _give_up(request, f"was not acknowledged after {request.attempts} request(s){last}")
            else:
                request_send(request, request.handling)
            done += 1
    return done
