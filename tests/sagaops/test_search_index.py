"""One GIN index on the saga's search document serves every lookup by business key."""

from __future__ import annotations

import pytest
from django.db import connection

from sagaops.console.search import search_q
from sagaops.models import Saga
from sagaops.search_keys import keys_contain
from tests.sagaops.factories import saga_row

pytestmark = pytest.mark.django_db


def _saga_indexes() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'sagaops_saga' ORDER BY indexname")
        return [name for (name,) in cursor.fetchall()]


def test_the_saga_table_carries_six_indexes():
    assert _saga_indexes() == [
        "saga_by_principal",
        "saga_idempotency_key",
        "saga_newest_first",
        "saga_search",
        "saga_unfinished",
        "sagaops_saga_pkey",
    ]


def test_payload_keys_result_keys_and_the_correlation_id_are_found_whoever_wrote_the_row():
    saga = saga_row(
        "stuck",
        context={"payload": {"order_id": 42, "customer": "ann"}},
        correlation_id="order:42",
        search={"charge_id": "ch_1"},
    )
    saga_row("completed", context={"payload": {"order_id": 43}}, correlation_id="order:43")

    def found(**keys):
        return list(Saga.objects.filter(keys_contain(**keys)).values_list("pk", flat=True))

    assert found(order_id=42) == [saga.pk]
    assert found(customer="ann") == [saga.pk]
    assert found(charge_id="ch_1") == [saga.pk]
    assert found(correlation_id="order:42") == [saga.pk]
    assert found(correlation_id="") == []  # no correlation id is not a key
    assert list(Saga.objects.filter(search_q("42"))) == [saga]
    assert list(Saga.objects.filter(search_q("ann"))) == [saga]


def test_lookups_by_key_use_the_search_index():
    saga_row("completed", context={"payload": {"order_id": 1}}, correlation_id="order:1")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = Saga.objects.filter(keys_contain(correlation_id="order:1")).explain()
    assert "saga_search" in plan, plan
    plan = Saga.objects.filter(search_q("ann")).order_by().explain()  # on a tiny table the ordering would pick a walk
    assert "saga_search" in plan, plan
