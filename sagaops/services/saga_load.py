"""The advance's load: a saga and its steps in one query, from one snapshot.

Through the ORM (`select_related` + `annotate(Exists(...))`) every advance compiled the same
query again; the worker's profile put that compile at a fifth of the advance task. The
statement here is built once from the models' metadata, and each column is turned into its
Python value by the same converters the ORM applies (`get_db_converters`: JSON, time zones), so
the instances are the ones the ORM would build (`Model.from_db`).
"""

from __future__ import annotations

from functools import lru_cache

from django.db import connection

from sagaops.models import Hold, Saga, SagaStep
from sagaops.services.prepared import execute_prepared


def saga_with_steps(saga_id) -> tuple[Saga | None, list[SagaStep], bool]:
    """The saga, its steps by index, and whether any hold is in force (the common case, none,
    costs no query of its own). A saga without steps (none is started so) is read alone."""
    sql, step_part, saga_part = _statement()
    with connection.cursor() as cursor:
        execute_prepared(cursor, sql, [*Hold.IN_FORCE, saga_id])
        rows = cursor.fetchall()
    if not rows:
        saga = Saga.objects.filter(pk=saga_id).first()
        return saga, [], bool(saga) and Hold.objects.filter(status__in=Hold.IN_FORCE).exists()
    saga = saga_part.instance(rows[0])
    steps = []
    for row in rows:
        step = step_part.instance(row)
        step.saga = saga  # the foreign key's cache: no query for `step.saga`
        steps.append(step)
    return saga, steps, bool(rows[0][-1])


class _Part:
    """One model's columns in the joined row, from `start`, with their converters."""

    def __init__(self, model, start: int):
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.names = [f.attname for f in self.fields]
        self.slice = slice(start, start + len(self.fields))
        # (position, column expression, converters) of the fields that have any
        self.converted = [(i, col, convs) for i, (col, convs) in enumerate(map(_converters, self.fields)) if convs]

    def columns(self, alias: str) -> list[str]:
        quote = connection.ops.quote_name
        return [f"{alias}.{quote(f.column)}" for f in self.fields]

    def instance(self, row):
        values = list(row[self.slice])
        for i, col, converters in self.converted:
            for convert in converters:
                values[i] = convert(values[i], col, connection)
        return self.model.from_db(connection.alias, self.names, values)


def _converters(field) -> tuple:
    col = field.get_col(field.model._meta.db_table)
    return col, connection.ops.get_db_converters(col) + col.get_db_converters(connection)


@lru_cache(maxsize=1)
def _statement() -> tuple[str, _Part, _Part]:
    quote = connection.ops.quote_name

    def column(model, name: str) -> str:
        return quote(model._meta.get_field(name).column)

    step_part = _Part(SagaStep, 0)
    saga_part = _Part(Saga, len(step_part.fields))
    in_force = ", ".join(["%s"] * len(Hold.IN_FORCE))
    sql = (
        f"SELECT {', '.join(step_part.columns('st') + saga_part.columns('s'))}, "
        f"EXISTS (SELECT 1 FROM {quote(Hold._meta.db_table)} WHERE {column(Hold, 'status')} IN ({in_force})) "
        f"FROM {quote(SagaStep._meta.db_table)} st "
        f"JOIN {quote(Saga._meta.db_table)} s ON s.{quote(Saga._meta.pk.column)} = st.{column(SagaStep, 'saga')} "
        f"WHERE st.{column(SagaStep, 'saga')} = %s ORDER BY st.{column(SagaStep, 'index')}"
    )
    return sql, step_part, saga_part
