"""sagaops_prune: finished sagas past their retention go, in batches; nothing unfinished is touched."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.models import Reservation
from inventory.services import reservation_release
from payments.models import Payment
from payments.services import payment_refund
from project.celery import app
from sagaops import tasks
from sagaops.choreography.models import DeadLetter, ProcessedEvent
from sagaops.models import Saga, SagaEvent, SagaStep
from sagaops.retention import parse_duration, retention_prune
from tests.sagaops.factories import saga_row

pytestmark = pytest.mark.django_db

OLD = timedelta(days=40)


def prune(*args: str) -> str:
    out = StringIO()
    call_command("sagaops_prune", *args, stdout=out)
    return out.getvalue()


def test_prune_deletes_old_finished_sagas_with_their_steps_and_events():
    # given
    old = saga_row("completed", age=OLD)
    recent = saga_row("completed", age=timedelta(days=2))
    # when
    output = prune("--older-than", "30d")
    # then
    assert not Saga.objects.filter(pk=old.pk).exists()
    assert not SagaStep.objects.filter(saga_id=old.pk).exists()
    assert not SagaEvent.objects.filter(saga_id=old.pk).exists()
    assert Saga.objects.filter(pk=recent.pk).exists()
    assert "sagas deleted: 1 (1 completed); 1 steps, 2 events" in output


def test_prune_never_touches_an_active_or_stuck_saga_however_old():
    kept = [saga_row(status, age=timedelta(days=400)) for status in ("pending", "running", "compensating", "stuck")]
    prune("--older-than", "1d")
    assert Saga.objects.filter(pk__in=[s.pk for s in kept]).count() == 4
    assert SagaStep.objects.count() == 4


def test_each_final_status_has_its_own_retention():
    # defaults: completed 30 days, compensated and resolved 90 days
    completed, compensated = saga_row("completed", age=OLD), saga_row("compensated", age=OLD)
    resolved_old = saga_row("resolved", age=timedelta(days=100))
    retention_prune()
    assert set(Saga.objects.values_list("pk", flat=True)) == {compensated.pk}
    assert not Saga.objects.filter(pk__in=[completed.pk, resolved_old.pk]).exists()


def test_prune_only_the_statuses_given():
    completed, compensated = saga_row("completed", age=OLD), saga_row("compensated", age=OLD)
    prune("--older-than", "30d", "--status", "compensated")
    assert list(Saga.objects.values_list("pk", flat=True)) == [completed.pk]
    assert not Saga.objects.filter(pk=compensated.pk).exists()


def test_dry_run_reports_counts_and_deletes_nothing():
    for status in ("completed", "completed", "resolved"):
        saga_row(status, age=OLD)
    saga_row("running", age=OLD)
    output = prune("--older-than", "30d", "--dry-run")
    assert "sagas would delete: 3 (2 completed, 1 resolved); 3 steps, 6 events" in output
    assert Saga.objects.count() == 4 and SagaEvent.objects.count() == 8


def test_prune_deletes_in_batches_of_one_transaction_each():
    for _ in range(5):
        saga_row("completed", age=OLD)
    with CaptureQueriesContext(connection) as queries:
        report = retention_prune(older_than=timedelta(days=30), batch=2)
    saga_deletes = [q for q in queries.captured_queries if q["sql"].startswith('DELETE FROM "sagaops_saga"')]
    assert report.sagas == {"completed": 5}
    assert len(saga_deletes) == 3  # 2 + 2 + 1
    assert Saga.objects.count() == 0


def test_prune_archives_sagas_as_json_lines_before_deleting(tmp_path):
    saga = saga_row("completed", age=OLD, correlation_id="order:7")
    output = prune("--older-than", "30d", "--archive", str(tmp_path))
    [archive] = list(tmp_path.iterdir())
    [line] = archive.read_text().splitlines()
    row = json.loads(line)
    assert row["id"] == str(saga.pk) and row["correlation_id"] == "order:7" and row["status"] == "completed"
    assert [s["name"] for s in row["steps"]] == ["a"]
    assert [e["kind"] for e in row["events"]] == ["saga_started", "x"]
    assert f"archived to {archive}" in output


def test_prune_removes_old_bookkeeping_and_tombstones():
    # given: dedupe rows, a dead letter and participants' tombstones, old and new
    old_time = timezone.now() - timedelta(days=200)
    for event_id in ("old", "new"):
        ProcessedEvent.objects.create(group="g", event_id=event_id, event_type="t", message_id="1-0", consumer="c")
    ProcessedEvent.objects.filter(event_id="old").update(processed_at=old_time)
    DeadLetter.objects.create(group="g", stream="s", message_id="1-0")
    DeadLetter.objects.update(dead_at=old_time)
    payment_refund(reference="never-charged-old")
    payment_refund(reference="never-charged-new")
    Payment.objects.filter(reference="never-charged-old").update(created=old_time)
    reservation_release(reference="never-reserved-old")
    Reservation.objects.filter(reference="never-reserved-old").update(created=old_time)
    # when
    output = prune("--dry-run")
    report = retention_prune()
    # then
    assert "processed events would delete: 1" in output
    assert report.bookkeeping["processed events"] == 1 and report.bookkeeping["dead letters"] == 1
    assert list(ProcessedEvent.objects.values_list("event_id", flat=True)) == ["new"]
    assert not DeadLetter.objects.exists()
    assert list(Payment.objects.values_list("reference", flat=True)) == ["never-charged-new"]
    assert not Reservation.objects.exists()


def test_the_beat_schedule_runs_the_prune_task():
    saga_row("completed", age=OLD)
    entry = app.conf.beat_schedule["sagaops-prune"]
    assert entry["task"] == tasks.prune.name
    assert tasks.prune() == 4  # the saga, its step and two events
    assert not Saga.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--older-than", "soon"], "--older-than: not a duration: 'soon'"),
        (["--older-than", "off"], "--older-than: give a duration"),
        (["--status", "running"], "only finished sagas can be pruned: running"),
        (["--batch", "0"], "--batch: must be at least 1"),
    ],
)
def test_bad_input_is_one_clear_error(args, message):
    with pytest.raises(CommandError, match=message):
        prune(*args)


def test_durations():
    assert parse_duration("30d") == timedelta(days=30)
    assert parse_duration("12h") == timedelta(hours=12)
    assert parse_duration("90") == timedelta(seconds=90)
    assert parse_duration("off") is None
