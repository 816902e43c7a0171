"""A transition's three writes in one statement: the fenced saga UPDATE, the step UPDATE, the events.

Through the ORM a checkpoint is three round trips (UPDATE saga, UPDATE step, INSERT events) and
three compiled queries; the engine's profile put them first on the hot path. One data-modifying
CTE does the same writes in one round trip, and writes the step and the events only when the
fenced saga update matched (`EXISTS (SELECT FROM fenced)`). Values are plain values of concrete
fields, prepared by each model field exactly as the ORM prepares them (`pre_save` for inserts,
`get_db_prep_save`); the statement's text depends only on which fields change, so it is cached.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.db import connection as default_connection
from django.db import connections

from sagaops.models import Saga, SagaEvent, SagaStep
from sagaops.services.bounds import bounded_traceback
from sagaops.services.prepared import execute_prepared


def fenced_write(
    saga: Saga,
    *,
    version: int,
    saga_values: dict[str, Any],
    step: SagaStep | None,
    step_values: dict[str, Any],
    events: list[SagaEvent],
    wait_for_flush: bool = True,
) -> bool:
    """Apply the writes if the saga is still at `version`; False (nothing written) otherwise.

    With no `saga_values` the saga row is only checked and locked, not updated. With
    `wait_for_flush=False` the transaction's commit does not wait for its WAL to reach the disk
    (`synchronous_commit` off for this transaction only, set in the same statement)."""
    conn = connections[default_connection.alias]
    step_values = step_values if step is not None else {}
    if "last_traceback" in step_values:
        step_values = {**step_values, "last_traceback": bounded_traceback(step_values["last_traceback"] or "")}
    sql = _statement(tuple(saga_values), tuple(step_values), len(events), wait_for_flush)
    params = _prepared(Saga, saga_values, conn)
    params += [saga.pk, version]
    if step_values:
        params += _prepared(SagaStep, step_values, conn)
        params.append(step.pk)
    fields = _event_fields()
    for event in events:
        params += [f.get_db_prep_save(f.pre_save(event, add=True), conn) for f in fields]
    with conn.cursor() as cursor:
        execute_prepared(cursor, sql, params)
        return cursor.fetchone()[0] == 1


def _prepared(model, values: dict[str, Any], conn) -> list[Any]:
    get_field = model._meta.get_field
    return [get_field(name).get_db_prep_save(value, conn) for name, value in values.items()]


def _q(name: str) -> str:
    return default_connection.ops.quote_name(name)


def _assignments(model, names: tuple[str, ...]) -> str:
    return ", ".join(f"{_q(model._meta.get_field(name).column)} = %s" for name in names)


@lru_cache(maxsize=1)
def _event_fields() -> list:
    return [f for f in SagaEvent._meta.concrete_fields if not f.primary_key]


def _cast(field) -> str:
    # text, not varchar(n): an explicit cast to varchar(n) would truncate where the ORM raises.
    db_type = field.db_type(default_connection)
    return "text" if db_type.startswith(("varchar", "char")) else db_type


@lru_cache(maxsize=256)
def _statement(saga_names: tuple[str, ...], step_names: tuple[str, ...], events: int, wait_for_flush: bool) -> str:
    saga_table, pk, version = _q(Saga._meta.db_table), _q(Saga._meta.pk.column), _q("version")
    if saga_names:
        assignments = _assignments(Saga, saga_names)
        fence = f"UPDATE {saga_table} SET {assignments} WHERE {pk} = %s AND {version} = %s RETURNING 1"
    else:
        # No saga field to write (a run of local steps writes them once, at its end): the fence
        # still checks the version, and the row lock keeps it until the run commits.
        fence = f"SELECT 1 FROM {saga_table} WHERE {pk} = %s AND {version} = %s FOR UPDATE"
    ctes = [f"fenced AS ({fence})"]
    if step_names:
        ctes.append(
            f"step AS (UPDATE {_q(SagaStep._meta.db_table)} SET {_assignments(SagaStep, step_names)} "
            f"WHERE {_q(SagaStep._meta.pk.column)} = %s AND EXISTS (SELECT FROM fenced))"
        )
    if events:
        # Typed placeholders: a VALUES list infers its column types from the rows (NULL alone is text).
        fields = _event_fields()
        row = "(" + ", ".join(f"%s::{_cast(f)}" for f in fields) + ")"
        columns = ", ".join(_q(f.column) for f in fields)
        ctes.append(
            f"events AS (INSERT INTO {_q(SagaEvent._meta.db_table)} ({columns}) "
            f"SELECT * FROM (VALUES {', '.join([row] * events)}) AS v WHERE EXISTS (SELECT FROM fenced))"
        )
    relaxed = "" if wait_for_flush else ", set_config('synchronous_commit', 'off', true)"
    return f"WITH {', '.join(ctes)} SELECT count(*){relaxed} FROM fenced"
