"""The version lifecycle: every saga type and version, registered here or still running, with its
unfinished sagas per status and the live workers that know it. A version with unfinished sagas and
no live worker that knows it is *unserved*: its sagas wait forever (`GET /api/saga-types/`, the
`version_unserved` alert)."""

from __future__ import annotations

from django.db.models import Count

from sagaops.console.heartbeat import Worker, live_workers
from sagaops.definitions import registered_definitions
from sagaops.models import Saga
from sagaops.states import ACTIVE_SAGA_STATUSES, SagaStatus

UNFINISHED = (*ACTIVE_SAGA_STATUSES, SagaStatus.STUCK)


def saga_type_versions(workers: list[Worker] | None = None) -> list[dict]:
    """[{"type", "version", "registered", "latest", "in_flight": {status: n}, "in_flight_total",
    "workers": [...], "unserved"}], by type then version."""
    known = {(d.name, d.version): d for d in registered_definitions()}
    counts: dict[tuple[str, int], dict[str, int]] = {}
    rows = Saga.objects.filter(status__in=UNFINISHED).values_list("type", "definition_version", "status")
    for saga_type, version, status, n in rows.annotate(n=Count("id")).order_by():
        counts.setdefault((saga_type, version), {})[status] = n
    workers = {w.hostname: set(w.definitions) for w in (live_workers() if workers is None else workers)}
    latest: dict[str, int] = {}
    for name, version in known:
        latest[name] = max(latest.get(name, 0), version)
    versions = []
    for key in sorted(set(known) | set(counts)):
        in_flight = counts.get(key, {})
        knowing = sorted(w for w, pairs in workers.items() if key in pairs)
        active = sum(n for status, n in in_flight.items() if status in ACTIVE_SAGA_STATUSES)
        versions.append(
            {
                "type": key[0],
                "version": key[1],
                "registered": key in known,
                "latest": latest.get(key[0]) == key[1],
                "choreographed": known[key].choreographed if key in known else None,
                "in_flight": in_flight,
                "in_flight_total": sum(in_flight.values()),
                "workers": knowing,
                # Stuck sagas wait for an operator anyway; active ones need a worker to move.
                "unserved": active > 0 and not knowing and not (key in known and known[key].choreographed),
            }
        )
    return versions
