"""A new saga's rows in one statement: the saga, its steps and its first event.

Through the ORM a start is three INSERTs (the saga, `bulk_create` of the steps, of the event),
three compiled queries and three round trips before the commit. One statement of plain INSERTs
chained in a WITH does the same writes in one round trip. Values are prepared by each model
field exactly as the ORM prepares them (`pre_save` for an insert, then `get_db_prep_save`), so
defaults and `auto_now_add` behave the same; the statement's text depends only on how many
steps and events there are, so it is cached. The steps' foreign key to the saga is checked at
commit (Django declares it deferrable), when the saga row is there.
"""

from __future__ import annotations

from functools import lru_cache

from django.db import connection as default_connection
from django.db import connections
from django.db.models import Model

from sagaops.models import Saga, SagaEvent, SagaStep
from sagaops.services.prepared import execute_prepared


def saga_insert(saga: Saga, steps: list[SagaStep], events: list[SagaEvent]) -> None:
    """Insert the saga (its primary key set by its default), its steps and its events."""
    conn = connections[default_connection.alias]
    params = _values(saga, _fields(Saga), conn)
    for row in steps:
        params += _values(row, _fields(SagaStep), conn)
    for row in events:
        params += _values(row, _fields(SagaEvent), conn)
    with conn.cursor() as cursor:
        execute_prepared(cursor, _statement(len(steps), len(events)), params)
    saga._state.adding = False


def _values(obj: Model, fields: list, conn) -> list:
    return [f.get_db_prep_save(f.pre_save(obj, add=True), conn) for f in fields]


@lru_cache(maxsize=4)
def _fields(model) -> list:
    # The saga's key is a UUID made here; the steps' and events' keys come from their sequences.
    return [f for f in model._meta.concrete_fields if model is Saga or not f.primary_key]


def _q(name: str) -> str:
    return default_connection.ops.quote_name(name)


def _insert(model, rows: int) -> str:
    fields = _fields(model)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    columns = ", ".join(_q(f.column) for f in fields)
    return f"INSERT INTO {_q(model._meta.db_table)} ({columns}) VALUES {', '.join([row] * rows)}"


@lru_cache(maxsize=64)
def _statement(steps: int, events: int) -> str:
    ctes = [f"new_saga AS ({_insert(Saga, 1)})"]
    if steps:
        ctes.append(f"new_steps AS ({_insert(SagaStep, steps)})")
    if not events:
        return f"WITH {', '.join(ctes)} SELECT 1"
    return f"WITH {', '.join(ctes)} {_insert(SagaEvent, events)}"
