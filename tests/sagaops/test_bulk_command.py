"""manage.py sagaops_bulk: a preview, one-line errors, and a run followed with a progress bar."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from sagaops.console.groups import REPAIR_GROUP, ensure_operator_groups
from sagaops.models import BulkAction
from tests.console.factories import make_saga, seed_stuck


@pytest.fixture
def alice(django_user_model):
    from django.contrib.auth.models import Group

    ensure_operator_groups()
    user = django_user_model.objects.create_user("alice", is_staff=True)
    user.groups.add(Group.objects.get(name=REPAIR_GROUP))
    return user


def bulk(*args: str) -> str:
    out = StringIO()
    call_command("sagaops_bulk", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.mark.django_db
def test_a_preview_prints_the_count_and_each_verdict(alice):
    forward, compensation = make_saga("forward"), make_saga("compensation")
    out = bulk("--filter", "status=stuck", "--action", "retry", "--as", "alice", "--preview")
    assert out.startswith("2 saga(s) selected")
    assert f"{forward.pk} test.flow stuck        apply" in out
    assert f"{compensation.pk} test.flow stuck        refuse: the saga was compensating" in out
    assert not BulkAction.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--filter", "status=sleeping"], '--filter status: "sleeping" is not a valid choice.'),
        (["--filter", "status"], "--filter 'status': write it as name=value"),
        (["--filter", "colour=red"], "--filter colour: not a saga filter"),
        (["--filter", "created_after=soon"], "--filter created_after: Datetime has wrong format"),
        (["--action", "explode"], "unknown bulk action 'explode'"),
        (["--action", "skip_step"], "Skip step needs a step"),
        (["--rate", "0", "--reason", "x", "--yes"], "refused: rate must be more than 0"),
        (["--rate", "5", "--yes"], "--rate and --reason are required"),
        (["--rate", "5", "--reason", "x"], "pass --yes to start"),
    ],
)
def test_bad_input_is_one_line(alice, args, message):
    make_saga("forward")
    base = {"--action": "retry"}
    if "--action" in args:
        base = {}
    flat = [x for pair in base.items() for x in pair]
    with pytest.raises(CommandError) as error:
        bulk(*flat, *args, "--as", "alice")
    assert str(error.value).startswith(message) and "\n" not in str(error.value)
    assert not BulkAction.objects.exists()


@pytest.mark.django_db
def test_an_unknown_operator_or_bulk_is_one_line(alice):
    with pytest.raises(CommandError, match="no user 'bob'"):
        bulk("--action", "retry", "--as", "bob")
    with pytest.raises(CommandError, match="no bulk action 'nope'"):
        bulk("--pause", "nope", "--as", "alice")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("celery_worker")
def test_a_run_is_followed_to_the_end_with_a_progress_bar(alice):
    # given
    seed_stuck(30, payload={"order_id": 1})

    # when
    out = bulk(
        "--filter", "status=stuck", "--filter", "type=test.flow", "--action", "resolve", "--rate", "20",
        "--reason", "settled", "--as", "alice", "--yes",
    )  # fmt: skip

    # then
    assert "started on 30 saga(s)" in out
    assert (
        out.rstrip()
        .splitlines()[-1]
        .split("\r")[-1]
        .startswith("[##############################] 30/30 done · applied 30 · refused 0 · failed 0")
    )
    assert BulkAction.objects.get().status == "done"
