"""The admin index as the console's front page, and a 403 that says which group is needed."""

import pytest
from django.urls import reverse

from tests.console.factories import make_saga

pytestmark = pytest.mark.django_db


def test_the_index_is_full_width_with_health_and_no_view_site_link(view_client):
    for _ in range(12):
        make_saga("forward")
    body = view_client.get(reverse("admin:index")).content.decode()
    assert 'id="system-health"' in body and 'id="sagaops-landing"' in body
    assert "View site" not in body
    assert 'class="colM' in body or 'id="content" class="colM"' in body
    assert "10 of 12 shown" in body


def test_a_viewer_is_told_which_group_repairs_need(view_client):
    saga = make_saga("forward")
    response = view_client.get(reverse("admin:sagaops_saga_action", args=[saga.pk, "retry"]))
    assert response.status_code == 403
    body = response.content.decode()
    assert 'id="forbidden"' in body and "operator (repair)" in body and "sagaops.retry_saga" in body


def test_an_outsider_is_told_which_group_the_console_needs(client, outsider):
    client.force_login(outsider)
    body = client.get(reverse("admin:sagaops_saga_stuck")).content.decode()
    assert "operator (view)" in body
