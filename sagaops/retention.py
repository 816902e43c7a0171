"""Retention: delete finished sagas past their retention, and the bookkeeping that no longer matters.

Only finished sagas (completed, compensated, resolved) are ever deleted, and only once they
finished longer ago than their status's retention: an active or stuck saga is never touched.
Deletes go in batches of SAGAOPS_PRUNE_BATCH sagas, one short transaction each (the saga rows,
their steps and timeline events), walking the `saga_newest_first` index from its old end with a
keyset, so no batch holds locks for long and no batch re-reads what an earlier one skipped.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Count, Q
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.module_loading import import_string

from sagaops.choreography.models import DeadLetter, OutboxEvent, ProcessedEvent
from sagaops.conf import conf
from sagaops.models import Saga, SagaEvent, SagaStep
from sagaops.states import FINISHED_SAGA_STATUSES

_DURATION = re.compile(r"^\s*(\d+)\s*([dhms]?)\s*$")
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1, "": 1}


def parse_duration(text: str) -> timedelta | None:
    """ "30d", "12h", "45m", "600s" or "600" -> a timedelta; "off" -> None (keep forever)."""
    if text.strip().lower() in ("off", "never", "forever"):
        return None
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (use a number with d, h, m or s, e.g. 30d, or off)")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


@dataclass
class PruneReport:
    dry_run: bool = False
    sagas: dict[str, int] = field(default_factory=dict)  # by final status
    steps: int = 0
    events: int = 0
    bookkeeping: dict[str, int] = field(default_factory=dict)  # processed events, outbox, dead letters, hooks
    archived_to: str = ""
    stopped_early: bool = False  # the time budget ran out before the backlog did

    @property
    def total(self) -> int:
        return sum(self.sagas.values()) + self.steps + self.events + sum(self.bookkeeping.values())

    def lines(self) -> list[str]:
        verb = "would delete" if self.dry_run else "deleted"
        by_status = ", ".join(f"{n} {status}" for status, n in sorted(self.sagas.items())) or "none"
        lines = [f"sagas {verb}: {sum(self.sagas.values())} ({by_status}); {self.steps} steps, {self.events} events"]
        lines += [f"{name} {verb}: {n}" for name, n in self.bookkeeping.items()]
        if self.archived_to:
            lines.append(f"archived to {self.archived_to}")
        if self.stopped_early:
            lines.append("stopped at the time budget; the next run continues")
        return lines


def retention_cutoffs(
    *, older_than: timedelta | None = None, statuses: list[str] | None = None, now: datetime | None = None
) -> dict[str, datetime]:
    """{final status: finished before this time} for the statuses to prune.

    older_than applies to every status given; without it each status has its own retention
    (conf.SAGAOPS_RETENTION), and a status set to "off" is not pruned.
    """
    now = now or timezone.now()
    statuses = list(statuses or FINISHED_SAGA_STATUSES)
    unknown = [s for s in statuses if s not in FINISHED_SAGA_STATUSES]
    if unknown:
        allowed = ", ".join(FINISHED_SAGA_STATUSES)
        raise ValueError(f"only finished sagas can be pruned: {', '.join(unknown)} is not one of {allowed}")
    cutoffs = {}
    for status in statuses:
        keep = older_than if older_than is not None else parse_duration(conf.SAGAOPS_RETENTION[status])
        if keep is not None:
            cutoffs[status] = now - keep
    return cutoffs


def retention_prune(
    *,
    older_than: timedelta | None = None,
    statuses: list[str] | None = None,
    dry_run: bool = False,
    batch: int | None = None,
    max_seconds: float | None = None,
    archive_dir: str | None = None,
    now: datetime | None = None,
) -> PruneReport:
    """Prune finished sagas and the bookkeeping; returns what was (or, dry_run, would be) deleted."""
    now = now or timezone.now()
    batch = batch or conf.SAGAOPS_PRUNE_BATCH
    deadline = time.monotonic() + (conf.SAGAOPS_PRUNE_MAX_SECONDS if max_seconds is None else max_seconds)
    archive_dir = conf.SAGAOPS_PRUNE_ARCHIVE_DIR if archive_dir is None else archive_dir
    report = PruneReport(dry_run=dry_run)
    cutoffs = retention_cutoffs(older_than=older_than, statuses=statuses, now=now)
    if cutoffs:
        if dry_run:
            _count_sagas(cutoffs, report)
        else:
            _delete_sagas(cutoffs, report, batch=batch, deadline=deadline, archive_dir=archive_dir, now=now)
    _prune_bookkeeping(report, now=now, batch=batch, dry_run=dry_run, deadline=deadline)
    return report


def _prunable(cutoffs: dict[str, datetime]) -> Q:
    # finished_at >= created_at, so the created_at bound (the index range) loses no candidate.
    by_status = Q()
    for status, cutoff in cutoffs.items():
        by_status |= Q(status=status, finished_at__lt=cutoff)
    return Q(created_at__lt=max(cutoffs.values())) & by_status


def _count_sagas(cutoffs: dict[str, datetime], report: PruneReport) -> None:
    sagas = Saga.objects.filter(_prunable(cutoffs))
    report.sagas = dict(sagas.order_by().values_list("status").annotate(n=Count("pk")))
    report.steps = SagaStep.objects.filter(saga__in=sagas).count()
    report.events = SagaEvent.objects.filter(saga__in=sagas).count()


def _delete_sagas(
    cutoffs: dict[str, datetime], report: PruneReport, *, batch: int, deadline: float, archive_dir: str, now
) -> None:
    after: tuple[datetime, object] | None = None  # keyset: (created_at, id) of the last row seen
    archive = _archive_path(archive_dir, now) if archive_dir else None
    while time.monotonic() < deadline:
        rows = Saga.objects.filter(_prunable(cutoffs))
        if after is not None:
            # The >= bound is the index range start; the OR alone would rescan from the oldest entry.
            rows = rows.filter(created_at__gte=after[0]).filter(
                Q(created_at__gt=after[0]) | Q(created_at=after[0], pk__gt=after[1])
            )
        with transaction.atomic():
            # SKIP LOCKED: a row some other transaction holds is left for the next run.
            chosen = list(
                rows.order_by("created_at", "pk")
                .select_for_update(skip_locked=True)
                .values_list("pk", "created_at", "status")[:batch]
            )
            if not chosen:
                return
            ids = [pk for pk, _, _ in chosen]
            if archive is not None:
                _archive(archive, ids)
                report.archived_to = str(archive)
            _, deleted = Saga.objects.filter(pk__in=ids).delete()
        after = (chosen[-1][1], chosen[-1][0])
        for _, _, status in chosen:
            report.sagas[status] = report.sagas.get(status, 0) + 1
        report.steps += deleted.get(SagaStep._meta.label, 0)
        report.events += deleted.get(SagaEvent._meta.label, 0)
        if len(chosen) < batch:
            return
    report.stopped_early = True


def _archive_path(directory: str, now: datetime) -> Path:
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    return path / f"sagas-{now:%Y-%m-%d}.jsonl"


def _archive(path: Path, ids: list) -> None:
    """Append the sagas with their steps and events as JSON lines, on disk before they are deleted."""
    steps: dict = {pk: [] for pk in ids}
    events: dict = {pk: [] for pk in ids}
    for step in SagaStep.objects.filter(saga_id__in=ids).order_by("saga_id", "index"):
        steps[step.saga_id].append(model_to_dict(step, exclude=["saga"]))
    for event in SagaEvent.objects.filter(saga_id__in=ids).order_by("saga_id", "id"):
        events[event.saga_id].append({"id": event.pk, "at": event.at, **model_to_dict(event, exclude=["saga"])})
    with path.open("a", encoding="utf-8") as out:
        for saga in Saga.objects.filter(pk__in=ids).order_by("created_at"):
            row = {
                "id": saga.pk,
                "created_at": saga.created_at,
                "updated_at": saga.updated_at,
                **model_to_dict(saga),
                "steps": steps[saga.pk],
                "events": events[saga.pk],
            }
            out.write(json.dumps(row, cls=DjangoJSONEncoder, separators=(",", ":")) + "\n")
        out.flush()
        os.fsync(out.fileno())


def _prune_bookkeeping(report: PruneReport, *, now: datetime, batch: int, dry_run: bool, deadline: float) -> None:
    tables = [
        ("processed events", ProcessedEvent.objects, "processed_at", conf.SAGAOPS_RETENTION_PROCESSED_EVENTS),
        (
            "published outbox events",
            OutboxEvent.objects.filter(published_at__isnull=False),
            "created_at",
            conf.SAGAOPS_RETENTION_OUTBOX,
        ),
        ("dead letters", DeadLetter.objects, "dead_at", conf.SAGAOPS_RETENTION_DEAD_LETTERS),
    ]
    for name, rows, column, retention in tables:
        keep = parse_duration(retention)
        if keep is not None:
            old = rows.filter(**{f"{column}__lt": now - keep})
            report.bookkeeping[name] = old.count() if dry_run else _delete_in_batches(old, batch, deadline)
    keep = parse_duration(conf.SAGAOPS_RETENTION_TOMBSTONES)
    if keep is not None:
        for hook in conf.SAGAOPS_RETENTION_HOOKS:
            report.bookkeeping[hook] = import_string(hook)(older_than=now - keep, batch=batch, dry_run=dry_run)


def _delete_in_batches(rows, batch: int, deadline: float) -> int:
    """Oldest first by primary key (rows are inserted in time order), one short transaction each."""
    deleted = 0
    while time.monotonic() < deadline:
        ids = list(rows.order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            break
        count, _ = rows.model.objects.filter(pk__in=ids).delete()
        deleted += count
        if len(ids) < batch:
            break
    return deleted
