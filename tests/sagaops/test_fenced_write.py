"""The one-statement checkpoint: the saga under its fence, the step and the events, or nothing."""

import pytest
from django.utils import timezone

from sagaops import mirror
from sagaops.models import Saga, SagaEvent, SagaStep
from sagaops.redis import get_redis
from sagaops.rules import Event
from sagaops.services import saga_start
from sagaops.services.fenced_write import fenced_write
from sagaops.services.transitions import event_row

pytestmark = pytest.mark.django_db


def started():
    saga, _ = saga_start(saga_type="test.flow", payload={})
    return saga, SagaStep.objects.get(saga=saga, index=0)


def write(saga, step, *, version, events=("one", "two")):
    return fenced_write(
        saga,
        version=version,
        saga_values={"version": version + 1, "updated_at": timezone.now(), "status": "running"},
        step=step,
        step_values={"status": "succeeded", "result": {"ok": 1}, "lease_expires_at": None},
        events=[event_row(saga, Event(kind, step.name, {"n": 1}), version + 1) for kind in events],
    )


def test_writes_the_saga_the_step_and_the_events_in_order():
    saga, step = started()
    assert write(saga, step, version=saga.version)
    saga.refresh_from_db()
    step.refresh_from_db()
    assert (saga.status, saga.version) == ("running", 2)
    assert (step.status, step.result, step.lease_expires_at) == ("succeeded", {"ok": 1}, None)
    kinds = list(SagaEvent.objects.filter(saga=saga, version=2).order_by("id").values_list("kind", "step", "detail"))
    assert kinds == [("one", step.name, {"n": 1}), ("two", step.name, {"n": 1})]


def test_a_stale_version_writes_nothing():
    saga, step = started()
    assert not write(saga, step, version=saga.version + 5)
    assert Saga.objects.get(pk=saga.pk).version == 1
    assert SagaStep.objects.get(pk=step.pk).status == "pending"
    assert not SagaEvent.objects.filter(saga=saga, kind__in=["one", "two"]).exists()


def test_a_null_foreign_key_and_empty_texts_are_written():
    saga, step = started()
    assert write(saga, step, version=saga.version, events=("solo",))
    event = SagaEvent.objects.get(saga=saga, kind="solo")
    assert (event.user_id, event.actor, event.reason) == (None, "", "")


def test_the_mirror_log_is_a_capped_list_and_replaces_an_old_stream():
    saga, _ = started()
    client = get_redis()
    client.delete(mirror.log_key(saga.id))
    client.xadd(mirror.log_key(saga.id), {"e": "{}"})  # written by an older release
    client.hdel(mirror.saga_key(saga.id), "version")
    mirror.publish(saga, [{"k": "a"}, {"k": "b"}], finished=True)
    assert client.type(mirror.log_key(saga.id)) == "list"
    assert mirror.read_log(saga.id) == [{"k": "a"}, {"k": "b"}]
    assert client.ttl(mirror.log_key(saga.id)) > 0 and client.ttl(mirror.saga_key(saga.id)) > 0
