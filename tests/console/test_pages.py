"""The console's pages through Django's test client: content, permissions, and speed habits."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sagaops.models import SagaEvent
from tests.console.factories import make_saga

pytestmark = pytest.mark.django_db

STUCK = reverse("admin:sagaops_saga_stuck")
LIST = reverse("admin:sagaops_saga_changelist")
GROUPS = reverse("admin:sagaops_saga_groups")
DASHBOARD = reverse("admin:sagaops_saga_dashboard")


def detail(saga):
    return reverse("admin:sagaops_saga_change", args=[saga.pk])


@pytest.fixture
def sagas():
    return {
        "forward": make_saga("forward"),
        "compensation": make_saga("compensation"),
        "stalled": make_saga("stalled", ago=timedelta(hours=1)),
        "fresh": make_saga("stalled"),
        "completed": make_saga("completed"),
    }


def section_ids(response, key):
    section = next(s for s in response.context["sections"] if s.key == key)
    return {row.saga.pk for row in section.rows}


def test_stuck_page_sorts_sagas_into_sections_with_the_why(view_client, sagas):
    response = view_client.get(STUCK)
    assert response.status_code == 200
    assert section_ids(response, "compensation") == {sagas["compensation"].pk}
    assert section_ids(response, "forward") == {sagas["forward"].pk}
    assert section_ids(response, "stalled") == {sagas["stalled"].pk}
    body = response.content.decode()
    assert "step e failed after 3 attempt(s) past the pivot" in body
    assert "compensation of step b failed" in body
    assert str(sagas["completed"].pk) not in body and str(sagas["fresh"].pk) not in body


def test_the_admin_index_lands_on_the_stuck_sagas(view_client, sagas):
    body = view_client.get(reverse("admin:index")).content.decode()
    assert 'id="sagaops-landing"' in body and "3 sagas need attention" in body
    assert STUCK in body


def test_pages_need_the_view_permission(client, outsider, sagas):
    client.force_login(outsider)
    for url in (STUCK, GROUPS, DASHBOARD, detail(sagas["forward"])):
        assert client.get(url).status_code == 403, url


def test_anonymous_is_sent_to_the_login(client):
    response = client.get(STUCK)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_saga_detail_shows_steps_traceback_context_and_timeline(view_client, sagas, repairer):
    saga = sagas["forward"]
    SagaEvent.objects.create(
        saga=saga, kind="operator_retry", actor_type="operator", actor="repairer", reason="mail server fixed"
    )
    body = view_client.get(detail(saga)).content.decode()
    assert "test.flow v1" in body
    assert '<pre class="traceback">' in body and "Traceback (most recent call last)" in body
    assert "&quot;order_id&quot;: 4242" in body  # the context as JSON
    assert "mail server fixed" in body and "operator_retry" in body


def test_a_viewer_sees_no_repair_buttons(view_client, sagas):
    body = view_client.get(detail(sagas["forward"])).content.decode()
    assert "sagaops-action" not in body


def test_a_repairer_sees_the_buttons_that_fit_the_state(repair_client, sagas):
    forward = {a.name for a, _ in repair_client.get(detail(sagas["forward"])).context["actions"]}
    assert forward == {"retry", "skip_step", "resolve"}  # past the pivot: no force compensation
    comp = {a.name for a, _ in repair_client.get(detail(sagas["compensation"])).context["actions"]}
    assert comp == {"retry_compensation", "compensation_done", "resolve"}
    assert repair_client.get(detail(sagas["completed"])).context["actions"] == []


def test_an_unknown_saga_is_404(view_client):
    assert view_client.get(reverse("admin:sagaops_saga_change", args=["not-a-uuid"])).status_code == 404


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status__exact=stuck", {"forward", "compensation"}),
        ("type=test.flow&status__exact=completed", {"completed"}),
        ("stuck=yes", {"forward", "compensation", "stalled"}),
        ("age=1h", {"forward", "compensation", "fresh", "completed"}),
        ("age=old", set()),
        ("error=yes", {"forward", "compensation"}),
    ],
)
def test_list_filters(view_client, sagas, query, expected):
    response = view_client.get(f"{LIST}?{query}")
    assert response.status_code == 200
    ids = {s.pk for s in response.context["cl"].result_list}
    assert ids == {sagas[k].pk for k in expected}


def test_list_is_newest_first(view_client, sagas):
    result = list(view_client.get(LIST).context["cl"].result_list)
    assert [s.created_at for s in result] == sorted((s.created_at for s in result), reverse=True)


@pytest.mark.parametrize("field", ["id", "correlation_id", "idempotency_key", "order_id"])
def test_list_search(view_client, field):
    saga = make_saga("forward", correlation_id="corr-77", idempotency_key="idem-77", payload={"order_id": 77})
    make_saga("forward", payload={"order_id": 78})
    term = {"id": saga.pk, "correlation_id": "corr-77", "idempotency_key": "idem-77", "order_id": "77"}[field]
    ids = [s.pk for s in view_client.get(LIST, {"q": term}).context["cl"].result_list]
    assert ids == [saga.pk]


def test_list_never_counts_the_whole_table(view_client, sagas):
    with CaptureQueriesContext(connection) as queries:
        view_client.get(LIST, {"status__exact": "stuck"})
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper() and "sagaops_saga" in q["sql"]]
    # The list's count is capped; the others are the stuck badge's (partial indexes on a status).
    unbounded = [sql for sql in counts if "LIMIT" not in sql and '"status" = ' not in sql and '"status" IN' not in sql]
    assert counts and not unbounded, unbounded


def test_failure_groups_count_each_stuck_saga_once(view_client, sagas):
    make_saga("forward")
    groups = {(g.signature.step, g.signature.phase): g.count for g in view_client.get(GROUPS).context["groups"]}
    assert groups == {("e", "forward"): 2, ("b", "compensation"): 1}


def test_dashboard(view_client, sagas):
    response = view_client.get(DASHBOARD)
    assert response.status_code == 200
    body = response.content.decode()
    assert "<svg" in body and "Top failure signatures" in body
    day = response.context["windows"][1]
    assert day.by_status["completed"] == 1 and day.completion_rate == 100.0
    assert response.context["stuck_count"] == 3
    assert response.context["durations"][0]["type"] == "test.flow"
    assert view_client.get(DASHBOARD, {"chart": "hour"}).status_code == 200


def test_bulk_pages(repair_client, repairer):
    from sagaops.models import BulkAction

    saga = make_saga("forward")
    bulk = BulkAction.objects.create(user=repairer, action="resolve", reason="x", source="saga list", total=1)
    bulk.items.create(saga_id=saga.pk, version=7)
    assert "saga list" in repair_client.get(reverse("admin:sagaops_saga_bulk_list")).content.decode()
    page = repair_client.get(reverse("admin:sagaops_saga_bulk", args=[bulk.pk])).content.decode()
    assert "0 of 1 processed" in page and 'http-equiv="refresh"' in page


def test_list_offers_no_per_filter_counts(view_client, sagas):
    assert "Show counts" not in view_client.get(LIST).content.decode()
