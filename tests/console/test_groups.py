"""The operator groups: created by the migration, refreshed by `manage.py sagaops_groups`."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from sagaops.console.groups import REPAIR_GROUP, VIEW_GROUP

pytestmark = pytest.mark.django_db


def codenames(name):
    return set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))


def test_the_view_group_can_only_look():
    call_command("sagaops_groups")
    assert codenames(VIEW_GROUP) == {"view_saga", "view_sagastep", "view_sagaevent", "view_bulkaction", "view_hold"}


def test_the_repair_group_has_one_permission_per_action():
    call_command("sagaops_groups")
    actions = {"retry_saga", "compensate_saga", "retry_compensation_saga", "skip_step_saga", "resolve_saga"}
    with_data = {"manage_hold", "complete_step_saga", "edit_result_saga"}
    assert actions | with_data <= codenames(REPAIR_GROUP)


def test_the_command_is_idempotent():
    call_command("sagaops_groups")
    call_command("sagaops_groups")
    assert Group.objects.filter(name__startswith="operator (").count() == 2
