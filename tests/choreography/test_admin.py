"""The console pages of the choreography app: rules edited inline and versioned, dry run, dead letters."""

import pytest
from django.urls import reverse

from sagaops.choreography import bus
from sagaops.choreography.models import CompensationRule, DeadLetter
from sagaops.choreography.selectors import stream_info

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rules")]


@pytest.fixture
def console(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", password="x"))
    return client


def inline_form(rule: CompensationRule, commands: list[str]) -> dict:
    existing = list(rule.compensations.order_by("position"))
    data = {
        "service": rule.service,
        "code": rule.code,
        "action": rule.action,
        "description": rule.description,
        "compensations-TOTAL_FORMS": str(len(commands)),
        "compensations-INITIAL_FORMS": str(len(existing)),
        "compensations-MIN_NUM_FORMS": "0",
        "compensations-MAX_NUM_FORMS": "1000",
    }
    for i, command in enumerate(commands):
        data[f"compensations-{i}-position"] = str(i)
        data[f"compensations-{i}-command"] = command
        data[f"compensations-{i}-rule"] = str(rule.pk)
        if i < len(existing):
            data[f"compensations-{i}-id"] = str(existing[i].pk)
    return data


@pytest.mark.parametrize(
    "model", ["compensationrule", "compensationruleversion", "reporthandling", "deadletter", "outboxevent"]
)
def test_the_lists_render(console, model):
    assert console.get(reverse(f"admin:choreography_{model}_changelist")).status_code == 200


def test_editing_a_rule_inline_records_a_new_version(console):
    rule = CompensationRule.objects.get(service="payments", code="insufficient_funds")
    url = reverse("admin:choreography_compensationrule_change", args=[rule.pk])
    page = console.get(url)
    assert "would request: 1. inventory.release, 2. orders.cancel (rule v1)" in page.content.decode()
    answer = console.post(url, inline_form(rule, ["payments.refund", "inventory.release"]))
    assert answer.status_code == 302, answer.content.decode()[:2000]
    rule.refresh_from_db()
    latest = rule.versions.order_by("-version").first()
    assert (rule.version, latest.commands, latest.created_by.username) == (
        2,
        ["payments.refund", "inventory.release"],
        "root",
    )


def test_an_unknown_command_is_refused(console):
    rule = CompensationRule.objects.get(service="payments", code="insufficient_funds")
    url = reverse("admin:choreography_compensationrule_change", args=[rule.pk])
    answer = console.post(url, inline_form(rule, ["delivery.teleport"]))
    assert answer.status_code == 200  # the form again, with the error
    assert CompensationRule.objects.get(pk=rule.pk).version == 1


def test_the_dry_run_action_says_what_would_be_requested(console):
    rule = CompensationRule.objects.get(service="orders", code="notify_failed")
    url = reverse("admin:choreography_compensationrule_changelist")
    answer = console.post(url, {"action": "dry_run", "_selected_action": [rule.pk]}, follow=True)
    assert "would request: a retry of the failed step only" in answer.content.decode()


def test_replay_publishes_a_dead_letter_again(console):
    fields = {"type": "OrderCreated", "event_id": "e1", "correlation_id": "c", "payload": "{}"}
    letter = DeadLetter.objects.create(group="inventory", stream=bus.EVENTS, message_id="1-0", fields=fields)
    url = reverse("admin:choreography_deadletter_changelist")
    answer = console.post(url, {"action": "replay", "_selected_action": [letter.pk]}, follow=True)
    assert "replayed as" in answer.content.decode()
    assert stream_info(bus.EVENTS)["length"] == 1
    letter.refresh_from_db()
    assert letter.replayed_at is not None


def test_a_choreographed_saga_has_the_same_console_page(console):
    from tests.choreography.conftest import pending_order

    _, saga = pending_order()
    page = console.get(reverse("admin:sagaops_saga_change", args=[saga.pk]))
    assert page.status_code == 200
    assert "order.checkout.choreographed" in page.content.decode()
