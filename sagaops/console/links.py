"""Where an operator goes next from a saga: its order and customer, its parent or child sagas, its
choreography events, its dead letters and report handlings. Built from URL names only: the engine
never imports a domain app, and a link whose admin page is not installed is left out."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode

from sagaops.models import Saga
from sagaops.search_keys import children_of


@dataclass(frozen=True)
class Link:
    key: str
    label: str
    url: str


def _admin(name: str, *args, query: dict | None = None) -> str | None:
    try:
        url = reverse(f"admin:{name}", args=args)
    except NoReverseMatch:
        return None
    return f"{url}?{urlencode(query)}" if query else url


def _family(saga: Saga) -> list[tuple[str, str, str | None]]:
    """A child saga's parent and a parent's children (sagaops.children.ChildSaga), both ways."""
    found = []
    if saga.parent_id:
        label = f"Parent saga {str(saga.parent_id)[:8]} (its step {saga.parent_step})"
        found.append(("parent", label, _admin("sagaops_saga_change", saga.parent_id)))
    for child in Saga.objects.filter(children_of(saga.pk)).order_by("created_at").only("id", "type", "parent_step"):
        label = f"Child saga {child.type} {str(child.pk)[:8]} (step {child.parent_step})"
        found.append((f"child-{child.parent_step}", label, _admin("sagaops_saga_change", child.pk)))
    return found


def saga_links(saga: Saga) -> list[Link]:
    payload = saga.payload if isinstance(saga.payload, dict) else {}
    sagas = reverse("admin:sagaops_saga_changelist")
    candidates = []
    order_id = payload.get("order_id")
    if order_id is not None:
        candidates.append(("order", f"Order {order_id}", _admin("orders_order_change", order_id)))
    customer = payload.get("customer")
    if customer:
        candidates += [
            ("customer-sagas", f"Sagas of customer {customer}", f"{sagas}?{urlencode({'q': customer})}"),
            (
                "customer-orders",
                f"Orders of customer {customer}",
                _admin("orders_order_changelist", query={"customer": customer}),
            ),
        ]
    if saga.correlation_id:
        corr = {"correlation_id": saga.correlation_id}
        candidates += [
            (
                "correlation",
                f"Sagas with correlation id {saga.correlation_id}",
                f"{sagas}?{urlencode({'q': saga.correlation_id})}",
            ),
            ("events", "Choreography events", _admin("choreography_outboxevent_changelist", query=corr)),
            ("dead-letters", "Dead letters", _admin("choreography_deadletter_changelist", query=corr)),
        ]
    candidates += _family(saga)
    candidates.append(
        ("handlings", "Report handlings", _admin("choreography_reporthandling_changelist", query={"saga_id": saga.pk}))
    )
    return [Link(key, label, url) for key, label, url in candidates if url]
