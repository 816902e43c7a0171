"""sagaops_operator: operators and repairs from the shell."""

import uuid
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from sagaops.models import Saga
from tests.api.conftest import DONE_BEFORE_E, make_saga

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("sagaops_operator", *args, stdout=out)
    return out.getvalue()


def stuck_after_pivot():
    return make_saga(status="stuck", steps={**DONE_BEFORE_E, "e": "failed"}, attention_reason="e failed")


def test_add_puts_a_new_operator_in_the_repair_group_and_shows_the_password_once():
    output = run("add", "dana", "--repair")
    user = get_user_model().objects.get(username="dana")
    assert "password (shown once):" in output and user.is_staff
    assert list(user.groups.values_list("name", flat=True)) == ["operator (repair)"]
    again = run("add", "dana", "--view")
    assert "password" not in again
    assert list(user.groups.values_list("name", flat=True)) == ["operator (view)"]


def test_stuck_lists_the_sagas_that_need_a_human():
    saga = stuck_after_pivot()
    make_saga(status="completed", steps={})
    output = run("stuck")
    assert str(saga.pk) in output and "e failed" in output
    assert len(output.strip().splitlines()) == 1


def test_show_says_which_repairs_the_saga_accepts():
    output = run("show", str(stuck_after_pivot().pk))
    assert "repairs accepted now: retry, skip_step e, resolve" in output


def test_repair_runs_the_service_in_the_operators_name():
    run("add", "dana", "--repair")
    saga = stuck_after_pivot()
    output = run("repair", str(saga.pk), "resolve", "--as", "dana", "--reason", "settled with the customer")
    assert "Resolve by hand: queued; the saga is now resolved" in output
    event = Saga.objects.get(pk=saga.pk).events.get(kind="operator_resolve")
    assert (event.actor, event.reason) == ("dana", "settled with the customer")


def test_a_refused_repair_is_one_line():
    run("add", "dana", "--repair")
    saga = stuck_after_pivot()
    with pytest.raises(CommandError, match="refused: the saga is past its pivot"):
        run("repair", str(saga.pk), "compensate", "--as", "dana", "--reason", "undo it")


def test_a_viewer_may_not_repair():
    run("add", "vic", "--view")
    with pytest.raises(CommandError, match="vic may not resolve by hand"):
        run("repair", str(stuck_after_pivot().pk), "resolve", "--as", "vic", "--reason", "x")


def test_a_bad_saga_id_is_one_line():
    with pytest.raises(CommandError, match="'nope' is not a saga id"):
        run("show", "nope")
    with pytest.raises(CommandError, match="no saga"):
        run("show", str(uuid.uuid4()))
