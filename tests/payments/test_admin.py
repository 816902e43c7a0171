import pytest
from django.urls import reverse


@pytest.mark.parametrize("model", ["account", "coupon", "payment"])
@pytest.mark.parametrize("query", ["", "?q=abc", "?q=1"])
def test_the_changelist_renders_and_searches(admin_client, model, query):
    response = admin_client.get(reverse(f"admin:payments_{model}_changelist") + query)

    assert response.status_code == 200
