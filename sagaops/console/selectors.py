"""The console's read queries: the stuck page, failure groups, the dashboard and the saga detail.

Every query here is bounded (a LIMIT, a time window, or a small partial index) so the pages
stay fast on millions of sagas; `sagaops_console_bench` measures them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, Min, OuterRef, Q
from django.utils import timezone

from sagaops.conf import conf
from sagaops.definitions import SagaDefinition, find_definition
from sagaops.models import Saga, SagaEvent, SagaStep
from sagaops.rules import STALL_GRACE, is_stalled
from sagaops.search_keys import keys_contain
from sagaops.selectors import saga_context
from sagaops.states import SagaStatus, StepStatus

SECTION_LIMIT = 50
STALLABLE = (SagaStatus.PENDING, SagaStatus.RUNNING, SagaStatus.COMPENSATING)
TIMELINE_LIMIT = 500


def stuck_cutoff(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(seconds=conf.SAGAOPS_STUCK_AFTER)


def stalled_q(now: datetime | None = None) -> Q:
    """`sagaops.rules.is_stalled` as a query: active, no progress for SAGAOPS_STUCK_AFTER seconds,
    and no timer ahead (a saga waiting for a callback or a retry is not stalled)."""
    now = now or timezone.now()
    overdue = Q(wake_at__isnull=True) | Q(wake_at__lt=now - STALL_GRACE)
    return Q(status__in=STALLABLE, updated_at__lt=stuck_cutoff(now)) & overdue


def stuck_q(now: datetime | None = None) -> Q:
    """Stuck = status stuck, or stalled."""
    return Q(status=SagaStatus.STUCK) | stalled_q(now)


def definition_or_none(saga: Saga) -> SagaDefinition | None:
    return find_definition(saga.type, saga.definition_version)


# --- the stuck page ---


@dataclass
class StuckRow:
    saga: Saga
    step: SagaStep | None
    since: datetime

    @property
    def why(self) -> str:
        if self.saga.attention_reason:
            return self.saga.attention_reason
        if self.step is not None and self.step.last_error:
            return self.step.last_error
        if self.saga.status == SagaStatus.STUCK:
            return self.saga.last_error or "stuck"
        return f"no progress since {self.since:%Y-%m-%d %H:%M:%S} UTC (status {self.saga.status})"


@dataclass
class StuckSection:
    key: str
    title: str
    help: str
    rows: list[StuckRow]
    total: int


def culprit(saga: Saga, steps: list[SagaStep]) -> SagaStep | None:
    """The step an operator has to look at: a failed compensation, else a failed step, else the active one."""
    for wanted in (
        (StepStatus.COMPENSATION_FAILED,),
        (StepStatus.FAILED,),
        (StepStatus.RUNNING, StepStatus.WAITING, StepStatus.COMPENSATING),
    ):
        found = [s for s in steps if s.status in wanted]
        if found:
            return found[-1]
    return next((s for s in steps if s.index == saga.current_step), None)


def _rows(queryset, limit: int) -> list[StuckRow]:
    sagas = list(queryset.defer("context").order_by("updated_at")[:limit])
    steps: dict[Any, list[SagaStep]] = {}
    rows = SagaStep.objects.filter(saga_id__in=[s.pk for s in sagas]).defer("last_traceback", "result")
    for step in rows.order_by("saga_id", "index"):
        steps.setdefault(step.saga_id, []).append(step)
    began = problem_began([s.pk for s in sagas if s.status == SagaStatus.STUCK])
    return [
        StuckRow(saga, culprit(saga, steps.get(saga.pk, [])), began.get(saga.pk, saga.updated_at)) for saga in sagas
    ]


def problem_began(saga_ids: list) -> dict[Any, datetime]:
    """When each stuck saga first became stuck: an operator's retry that failed again is the same problem,
    so "since" must not restart at the last retry (updated_at does)."""
    if not saga_ids:
        return {}
    rows = SagaEvent.objects.filter(saga_id__in=saga_ids, kind="saga_stuck").values_list("saga_id")
    return dict(rows.annotate(first=Min("at")).order_by())


def stuck_sections(
    *, limit: int = SECTION_LIMIT, now: datetime | None = None, narrow: Q | None = None
) -> list[StuckSection]:
    """Failed compensations first (money or stock may be held), then stuck forward, then stalled.

    `narrow` (type, search, error type) restricts every section and its total."""
    comp_failed = Exists(SagaStep.objects.filter(saga=OuterRef("pk"), status=StepStatus.COMPENSATION_FAILED))
    stuck = Saga.objects.filter(status=SagaStatus.STUCK)
    queries = [
        (
            "compensation",
            "Failed compensations",
            "A compensation exhausted its retries: something is still held (stock, money). "
            "Retry the compensation once the participant is back, or undo it by hand and mark it done.",
            stuck.filter(comp_failed),
        ),
        (
            "forward",
            "Stuck going forward",
            "A step failed after its retries (usually past the pivot, so it cannot be undone). "
            "Fix the cause, then retry forward; or skip the step, force compensation, or resolve by hand.",
            stuck.exclude(comp_failed),
        ),
        (
            "stalled",
            "No progress",
            f"Pending, running or compensating with no transition for more than "
            f"{conf.SAGAOPS_STUCK_AFTER} s and its timer is overdue: a lost worker or timer. Retry forward "
            "(or retry compensation) kicks it; resolve closes it by hand.",
            Saga.objects.filter(stalled_q(now)),
        ),
    ]
    if narrow is not None:
        queries = [(key, title, help, qs.filter(narrow)) for key, title, help, qs in queries]
        totals = {key: qs.count() for key, _, _, qs in queries}  # bounded by the stuck/active partial indexes
    else:
        totals = _section_totals(now)
    return [StuckSection(key, title, help, _rows(qs, limit), totals[key]) for key, title, help, qs in queries]


def _stuck_total() -> int:
    return Saga.objects.filter(status=SagaStatus.STUCK).count()  # index-only on saga_unfinished


def _stalled_total(now: datetime | None = None) -> int:
    return Saga.objects.filter(stalled_q(now)).count()


def _section_totals(now: datetime | None) -> dict[str, int]:
    comp = (
        SagaStep.objects.filter(status=StepStatus.COMPENSATION_FAILED, saga__status=SagaStatus.STUCK)
        .values("saga_id")
        .distinct()
        .count()
    )
    return {"compensation": comp, "forward": _stuck_total() - comp, "stalled": _stalled_total(now)}


def stuck_count(now: datetime | None = None) -> int:
    """Stuck plus no progress, as two index-only counts (an OR of both would read the rows)."""
    return _stuck_total() + _stalled_total(now)


# --- failure groups ---

# One row per stuck saga with its culprit step: the failed compensation if any, else the failed
# step. Both sides read only small partial indexes (saga_unfinished, saga_step_failures).
_CULPRITS = """
    SELECT s.id AS saga_id, s.version, s.type, s.updated_at,
           COALESCE(st.name, '') AS step,
           CASE st.status WHEN 'compensation_failed' THEN 'compensation' WHEN 'failed' THEN 'forward'
                ELSE 'unknown' END AS phase,
           COALESCE(st.last_error_type, '') AS error_type
    FROM sagaops_saga s
    LEFT JOIN LATERAL (
        SELECT x.name, x.status, x.last_error_type FROM sagaops_sagastep x
        WHERE x.saga_id = s.id AND x.status IN ('failed', 'compensation_failed')
        ORDER BY (x.status = 'compensation_failed') DESC, x.index DESC
        LIMIT 1
    ) st ON true
    WHERE s.status = 'stuck'
"""


@dataclass(frozen=True)
class Signature:
    type: str
    step: str
    phase: str
    error_type: str

    @property
    def label(self) -> str:
        where = f"{self.step} ({'compensation' if self.phase == 'compensation' else 'forward'})"
        return f"{self.type} · {where} · {self.error_type.rsplit('.', 1)[-1] or 'no error type'}"

    def as_params(self) -> dict[str, str]:
        return {"type": self.type, "step": self.step, "phase": self.phase, "error_type": self.error_type}

    @classmethod
    def from_params(cls, params) -> Signature:
        return cls(*(params.get(k, "") for k in ("type", "step", "phase", "error_type")))


@dataclass
class FailureGroup:
    signature: Signature
    count: int
    first_at: datetime
    last_at: datetime
    sample_error: str
    params: dict[str, str] = field(default_factory=dict)


def failure_groups(*, limit: int = 200, saga_type: str = "", error_type: str = "") -> list[FailureGroup]:
    sql = f"""
        SELECT type, step, phase, error_type, count(*), min(updated_at), max(updated_at),
               (array_agg(saga_id ORDER BY updated_at DESC))[1]
        FROM ({_CULPRITS}) culprits
        WHERE (%(type)s = '' OR type = %(type)s) AND (%(error_type)s = '' OR error_type = %(error_type)s)
        GROUP BY type, step, phase, error_type
        ORDER BY count(*) DESC, type, step
        LIMIT %(limit)s
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {"type": saga_type, "error_type": error_type, "limit": limit})
        rows = cursor.fetchall()
    # The latest error of each group: read from one saga per group only.
    errors = dict(Saga.objects.filter(pk__in=[r[7] for r in rows]).values_list("pk", "last_error"))
    groups = []
    for type_, step, phase, error_type, count, first_at, last_at, sample in rows:
        signature = Signature(type_, step, phase, error_type)
        groups.append(FailureGroup(signature, count, first_at, last_at, errors.get(sample, ""), signature.as_params()))
    return groups


@dataclass
class GroupMember:
    saga_id: str
    version: int
    updated_at: datetime


def group_members(signature: Signature, *, limit: int) -> list[GroupMember]:
    """Exactly the sagas a bulk action on this group would touch, with the version each was seen at."""
    sql = f"""
        SELECT saga_id, version, updated_at FROM ({_CULPRITS}) culprits
        WHERE type = %s AND step = %s AND phase = %s AND error_type = %s
        ORDER BY updated_at
        LIMIT %s
    """
    params = [signature.type, signature.step, signature.phase, signature.error_type, limit]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [GroupMember(str(r[0]), r[1], r[2]) for r in cursor.fetchall()]


# --- the dashboard ---


@dataclass
class Window:
    key: str
    label: str
    since: datetime
    by_status: dict[str, int]
    per_type: list[dict[str, Any]]

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def finished(self) -> int:
        return sum(self.by_status.get(s, 0) for s in (SagaStatus.COMPLETED, SagaStatus.COMPENSATED))

    def rate(self, status: str) -> float | None:
        return 100.0 * self.by_status.get(status, 0) / self.finished if self.finished else None

    @property
    def in_flight(self) -> int:
        return sum(self.by_status.get(s, 0) for s in STALLABLE)

    @property
    def completion_rate(self) -> float | None:
        return self.rate(SagaStatus.COMPLETED)

    @property
    def compensation_rate(self) -> float | None:
        return self.rate(SagaStatus.COMPENSATED)


def active_counts() -> dict[str, int]:
    """Sagas not yet finished, all time (served by the partial index on active statuses)."""
    statuses = (*STALLABLE, SagaStatus.STUCK)
    rows = Saga.objects.filter(status__in=statuses).values_list("status").annotate(n=Count("pk")).order_by()
    counts = dict.fromkeys(statuses, 0)
    counts.update(dict(rows))
    return counts


def window_stats(windows: list[tuple[str, str, datetime]]) -> list[Window]:
    """Sagas started in each window: counts by status and, per type, the duration of the completed ones.

    One scan of the widest window (the created_at index) serves all of them.
    """
    since = min(w[2] for w in windows)
    counts = ", ".join(f"count(*) FILTER (WHERE created_at >= %(w{i})s)" for i in range(len(windows)))
    dur = "extract(epoch FROM finished_at - created_at)"
    per_type_cols = ", ".join(
        f"count(*) FILTER (WHERE created_at >= %(w{i})s), "
        f"count(*) FILTER (WHERE {done} AND created_at >= %(w{i})s), "
        f"count(*) FILTER (WHERE status = 'compensated' AND created_at >= %(w{i})s), "
        f"avg({dur}) FILTER (WHERE {done} AND created_at >= %(w{i})s), "
        f"percentile_cont(0.95) WITHIN GROUP (ORDER BY {dur}) FILTER (WHERE {done} AND created_at >= %(w{i})s)"
        for i, done in ((i, "status = 'completed'") for i in range(len(windows)))
    )
    params = {"since": since, **{f"w{i}": w[2] for i, w in enumerate(windows)}}
    with connection.cursor() as cursor:
        where = "FROM sagaops_saga WHERE created_at >= %(since)s"
        cursor.execute(f"SELECT status, {counts} {where} GROUP BY status", params)
        by_status = cursor.fetchall()
        cursor.execute(
            f"SELECT type, {per_type_cols} {where} GROUP BY type ORDER BY type",
            params,
        )
        per_type = cursor.fetchall()
    result = []
    for i, (key, label, start) in enumerate(windows):
        statuses = {row[0]: row[1 + i] for row in by_status if row[1 + i]}
        types = []
        for row in per_type:
            total, completed, compensated, avg, p95 = row[1 + 5 * i : 6 + 5 * i]
            if total:
                types.append(
                    {"type": row[0], "total": total, "completed": completed, "compensated": compensated}
                    | {"avg": avg, "p95": p95}
                )
        result.append(Window(key, label, start, statuses, types))
    return result


def throughput(*, since: datetime, bucket: timedelta) -> list[tuple[datetime, dict[str, int]]]:
    """Sagas started per time bucket since `since`, split by their status now."""
    sql = """
        SELECT date_bin(%s, created_at, %s) AS bucket, status, count(*)
        FROM sagaops_saga WHERE created_at >= %s
        GROUP BY 1, 2
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [bucket, since, since])
        rows = cursor.fetchall()
    n = int((timezone.now() - since) / bucket) + 1
    buckets = [(since + i * bucket, {}) for i in range(n)]
    for at, status, count in rows:
        i = int((at - since) / bucket)
        if 0 <= i < n:
            buckets[i][1][status] = count
    return buckets


def dashboard(*, now: datetime | None = None, chart: str = "day") -> dict[str, Any]:
    now = now or timezone.now()
    windows = window_stats(
        [("hour", "Last hour", now - timedelta(hours=1)), ("day", "Last 24 hours", now - timedelta(days=1))]
    )
    if chart == "hour":
        series = throughput(
            since=(now - timedelta(hours=1)).replace(second=0, microsecond=0), bucket=timedelta(minutes=1)
        )
    else:
        series = throughput(
            since=(now - timedelta(days=1)).replace(minute=0, second=0, microsecond=0), bucket=timedelta(hours=1)
        )
    types = sorted({row["type"] for w in windows for row in w.per_type})
    durations = [
        {"type": t, "cells": [next((r for r in w.per_type if r["type"] == t), None) for w in windows]} for t in types
    ]
    return {
        "durations": durations,
        "active": active_counts(),
        "stuck_count": stuck_count(now),
        "windows": windows,
        "throughput": series,
        "top_failures": failure_groups(limit=10),
    }


# --- the saga detail ---


@dataclass
class StepView:
    step: SagaStep
    kind: str
    pivot: bool
    compensable: bool
    group: str = ""  # the Parallel group and branch the step belongs to ("" in the main sequence)
    branch: str = ""


def saga_detail(*, saga: Saga, kind: str = "") -> dict[str, Any]:
    steps = list(SagaStep.objects.filter(saga=saga).order_by("index"))
    definition = definition_or_none(saga)
    views = []
    for step in steps:
        spec = definition.steps[step.index] if definition and step.index < len(definition.steps) else None
        views.append(
            StepView(
                step,
                spec.kind if spec else "?",
                bool(spec and spec.pivot),
                bool(spec and spec.compensation is not None),
                spec.group if spec else "",
                spec.branch if spec else "",
            )
        )
    events = list(SagaEvent.objects.filter(saga=saga).select_related("user").order_by("-id")[:TIMELINE_LIMIT])
    return {
        "definition": definition,
        "steps": views,
        "step_rows": steps,
        "culprit": culprit(saga, steps),
        "errored": [s for s in steps if s.last_error],
        "forward_cause": forward_cause(steps),
        "context": saga_context(saga=saga, steps=steps),
        "all_events": events[::-1],  # oldest first, for the chart
        "events": [e for e in events if not kind or e.kind == kind],  # newest first
        "event_kinds": sorted({e.kind for e in events}),
        "kind": kind,
        "events_truncated": len(events) == TIMELINE_LIMIT,
        "stalled": is_stalled(saga, now=timezone.now(), stuck_after=timedelta(seconds=conf.SAGAOPS_STUCK_AFTER)),
        "active": saga.status in STALLABLE,
        "related": related_sagas(saga),
        "lanes": {v.step.name: v.group for v in views if v.group},
    }


def forward_cause(steps: list[SagaStep]) -> SagaStep | None:
    """The failed forward step that made a saga turn back: shown next to a failed compensation."""
    if not any(s.status == StepStatus.COMPENSATION_FAILED for s in steps):
        return None
    return next((s for s in reversed(steps) if s.status == StepStatus.FAILED), None)


RELATED_LIMIT = 20


def related_sagas(saga: Saga) -> list[Saga]:
    """Other sagas with the same correlation id (the indexed column), newest first."""
    if not saga.correlation_id:
        return []
    others = Saga.objects.filter(keys_contain(correlation_id=saga.correlation_id)).exclude(pk=saga.pk).defer("context")
    return list(others.order_by("-created_at")[:RELATED_LIMIT])


def saga_live(*, saga_id) -> dict[str, Any] | None:
    """What the saga page polls while a saga is active: enough to know that it moved."""
    row = Saga.objects.filter(pk=saga_id).values("status", "version", "updated_at").first()
    if row is None:
        return None
    return {
        "status": row["status"],
        "version": row["version"],
        "updated_at": row["updated_at"].isoformat(),
        "active": row["status"] in STALLABLE,
    }
