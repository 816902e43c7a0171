"""Starting a saga: one statement that commits by itself, and a lost idempotency race answered
with the saga the other request created, inside a caller's transaction or outside any."""

import pytest
from django.db import connection, transaction

from sagaops.definitions import get_definition
from sagaops.models import Saga, SagaStep
from sagaops.services import saga_start
from sagaops.services import start as start_module


def lose_the_race(monkeypatch, key):
    """The other request inserts the key between this start's lookup and its insert."""
    real_replay = start_module._replay
    calls = []

    def replay(idempotency_key, digest):
        calls.append(idempotency_key)
        if len(calls) == 1:
            saga_start(saga_type="test.flow", payload={"n": 1}, idempotency_key=key)
            return None
        return real_replay(idempotency_key, digest)

    monkeypatch.setattr(start_module, "_replay", replay)


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_start_is_committed_and_a_lost_race_returns_the_winner(monkeypatch):
    assert not connection.in_atomic_block
    saga, created = saga_start(saga_type="test.flow", payload={"n": 0})
    assert created and Saga.objects.filter(pk=saga.pk).exists()
    assert SagaStep.objects.filter(saga=saga).count() == len(get_definition("test.flow").steps)
    lose_the_race(monkeypatch, "key-out")
    winner, created = saga_start(saga_type="test.flow", payload={"n": 1}, idempotency_key="key-out")
    assert not created
    assert list(Saga.objects.filter(idempotency_key="key-out").values_list("pk", flat=True)) == [winner.pk]


@pytest.mark.django_db(transaction=True)
def test_inside_a_callers_transaction_a_lost_race_leaves_that_transaction_usable(monkeypatch):
    lose_the_race(monkeypatch, "key-in")
    with transaction.atomic():
        winner, created = saga_start(saga_type="test.flow", payload={"n": 1}, idempotency_key="key-in")
        assert not created
        mine, created = saga_start(saga_type="test.flow", payload={"n": 2})  # the transaction goes on
        assert created
    assert Saga.objects.filter(pk__in=[winner.pk, mine.pk]).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_start_inside_a_transaction_that_rolls_back_leaves_nothing():
    with pytest.raises(RuntimeError), transaction.atomic():
        saga, _ = saga_start(saga_type="test.flow", payload={})
        raise RuntimeError("the caller's own write failed")
    assert not Saga.objects.filter(pk=saga.pk).exists()
