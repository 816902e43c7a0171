"""The console's pages, mounted inside the admin by SagaAdmin.get_urls (admin login, look and permissions).

Reads go through `sagaops.console.selectors`; every repair goes through an engine service, and a
refusal is shown to the operator with `message_user` at level error.
"""

from __future__ import annotations

import json
import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode

from sagaops.bulk_selectors import with_summaries
from sagaops.conf import conf
from sagaops.console import selectors
from sagaops.console.actions import ACTIONS, can_repair, offered
from sagaops.console.audit import PAGE as AUDIT_PAGE
from sagaops.console.audit import AuditQuery, action_kinds, audit_trail
from sagaops.console.audit import operators as audit_operators
from sagaops.console.charts import legend, throughput_svg
from sagaops.console.filters import parse_when
from sagaops.console.forms import ActionForm, RetryForm
from sagaops.console.gantt import spans, steps_svg
from sagaops.console.groups import REPAIR_GROUP, VIEW_GROUP
from sagaops.console.links import saga_links
from sagaops.console.narrow import Narrowing
from sagaops.console.narrow import choices as narrow_choices
from sagaops.console.plan import payload_changes, pivot_warning, repair_plan
from sagaops.exceptions import ActionRefused
from sagaops.holds_selectors import held_count, held_steps_list
from sagaops.models import BulkAction, Saga, SagaStep, SavedView
from sagaops.saga_types import saga_type_versions


def _require_view(request, model_admin) -> None:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied(
            f"The console's pages need the group {VIEW_GROUP!r} (or the permission sagaops.view_saga)."
        )


def _require_action(request, spec) -> None:
    if not spec.allowed(request.user):
        raise PermissionDenied(f"{spec.label} needs the group {REPAIR_GROUP!r} (or the permission {spec.perm}).")


def _context(request, model_admin, title: str, **extra):
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": title,
        "can_repair": can_repair(request.user),
        **extra,
    }


def detail_url(saga_id) -> str:
    return reverse("admin:sagaops_saga_change", args=[saga_id])


# --- pages ---


def stuck(request, model_admin):
    _require_view(request, model_admin)
    narrowing = Narrowing.from_params(request.GET)
    sections = selectors.stuck_sections(narrow=narrowing.as_q())
    ctx = _context(
        request,
        model_admin,
        "Stuck sagas",
        sections=sections,
        total=sum(s.total for s in sections),
        threshold=conf.SAGAOPS_STUCK_AFTER,
        narrowing=narrowing,
        with_search=True,
        **narrow_choices(),
        held_rows=held_steps_list(),
        held_total=held_count(),
    )
    return TemplateResponse(request, "sagaops/console/stuck.html", ctx)


def saga_detail(request, model_admin, object_id):
    _require_view(request, model_admin)
    saga = get_object_or_404(Saga, pk=_uuid_or_404(object_id))
    detail = selectors.saga_detail(saga=saga, kind=request.GET.get("kind", ""))
    ctx = _context(
        request,
        model_admin,
        f"Saga {saga.pk}",
        saga=saga,
        original=saga,
        actions=offered(saga, detail["step_rows"], request.user),
        context_json=json.dumps(detail["context"], indent=2, sort_keys=True, default=str),
        chart=steps_svg(spans(detail["all_events"]), lanes=detail["lanes"]),
        links=saga_links(saga),
        **detail,
    )
    return TemplateResponse(request, "sagaops/console/saga_detail.html", ctx)


def saga_live(request, model_admin, object_id):
    """Polled by saga_live.js while the saga is active: the page reloads when the version moves."""
    _require_view(request, model_admin)
    state = selectors.saga_live(saga_id=object_id)
    if state is None:
        raise Http404("no such saga")
    return JsonResponse(state)


def failure_groups(request, model_admin):
    _require_view(request, model_admin)
    narrowing = Narrowing.from_params(request.GET)
    groups = selectors.failure_groups(saga_type=narrowing.saga_type, error_type=narrowing.error_type)
    for group in groups:
        group.actions = [
            (ACTIONS[name], urlencode({**group.params, "action": name}))
            for name in _group_actions(group.signature)
            if ACTIONS[name].allowed(request.user)
        ]
    ctx = _context(request, model_admin, "Failure groups", groups=groups, narrowing=narrowing, **narrow_choices())
    return TemplateResponse(request, "sagaops/console/groups.html", ctx)


def _group_actions(signature: selectors.Signature) -> list[str]:
    if signature.phase == "compensation":
        return ["retry_compensation", "compensation_done", "resolve"]
    return ["retry", "skip_step", "compensate", "resolve"] if signature.step else ["retry", "compensate", "resolve"]


def dashboard(request, model_admin):
    _require_view(request, model_admin)
    chart = "hour" if request.GET.get("chart") == "hour" else "day"
    data = selectors.dashboard(chart=chart)
    svg = throughput_svg(data["throughput"], label_format="%H:%M")
    ctx = _context(
        request, model_admin, "Dashboard", chart=chart, svg=svg, legend=legend(), versions=saga_type_versions(), **data
    )
    return TemplateResponse(request, "sagaops/console/dashboard.html", ctx)


# --- one action on one saga ---


def saga_action(request, model_admin, object_id, action):
    _require_view(request, model_admin)
    spec = ACTIONS.get(action)
    if spec is None:
        raise Http404("no such action")
    _require_action(request, spec)
    saga = get_object_or_404(Saga, pk=object_id)
    form_class = RetryForm if spec.name == "retry" else ActionForm
    if request.method == "POST":
        form = form_class(request.POST)
        if form.is_valid():
            return _act(request, model_admin, spec, saga, form)
    else:
        form = form_class(initial=_initial(request, saga))
    return _confirm_page(request, model_admin, spec, saga, form)


def _initial(request, saga: Saga) -> dict:
    try:
        seen = int(request.GET.get("v", saga.version))
    except ValueError:
        seen = saga.version
    return {
        "expected_version": seen,
        "step": request.GET.get("step", ""),
        "payload": json.dumps(saga.payload, indent=2, sort_keys=True),
    }


def _act(request, model_admin, spec, saga: Saga, form):
    data = form.cleaned_data
    payload = data.get("payload")
    if payload is not None and payload == saga.payload:
        payload = None
    if spec.name == "retry" and payload is not None and not data.get("diff_confirmed"):
        diff = payload_changes(saga.payload, payload)
        confirm = RetryForm(
            initial={**data, "payload": json.dumps(payload, indent=2, sort_keys=True), "diff_confirmed": True}
        )
        return _confirm_page(request, model_admin, spec, saga, confirm, diff=diff)
    try:
        spec.run(
            saga_id=saga.pk,
            user=request.user,
            reason=data["reason"],
            expected_version=data["expected_version"],
            step=data.get("step") or "",
            payload=payload,
        )
    except ActionRefused as error:
        model_admin.message_user(request, f"{spec.label} refused: {error}", messages.ERROR)
        return HttpResponseRedirect(detail_url(saga.pk))
    model_admin.message_user(request, _outcome_message(spec), messages.SUCCESS)
    return HttpResponseRedirect(detail_url(saga.pk))


def _outcome_message(spec) -> str:
    """Say what actually happened: a resolve is final, every other repair only hands the saga to a worker."""
    if spec.name == "resolve":
        return f"{spec.label}: done. The saga is closed."
    return (
        f"{spec.label}: queued. A worker carries the saga on; this page follows it and shows the outcome when it lands."
    )


def _confirm_page(request, model_admin, spec, saga: Saga, form, diff=None):
    seen = form["expected_version"].value()
    step = form["step"].value() or ""
    steps = list(SagaStep.objects.filter(saga=saga).order_by("index"))
    definition = selectors.definition_or_none(saga)
    ctx = _context(
        request,
        model_admin,
        f"{spec.label}{' ' + step if step else ''}: saga {saga.pk}",
        saga=saga,
        original=saga,
        action=spec,
        form=form,
        step=step,
        diff=diff,
        plan=repair_plan(spec.name, saga, steps, definition, step),
        pivot_warning=pivot_warning(definition, steps, [row.key for row in diff or []]),
        stale=seen not in (None, "") and str(seen) != str(saga.version),
        seen=seen,
    )
    return TemplateResponse(request, "sagaops/console/confirm.html", ctx)


# --- helpers ---


def _uuid_or_404(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Http404("not a saga id") from None


# --- saved views of the saga list ---


def saved_view_create(request, model_admin):
    _require_view(request, model_admin)
    changelist = reverse("admin:sagaops_saga_changelist")
    if request.method != "POST":
        return HttpResponseRedirect(changelist)
    name = request.POST.get("name", "").strip()[:100]
    query = request.POST.get("query", "").strip().lstrip("?")[:1000]
    if not name:
        model_admin.message_user(request, "A saved view needs a name.", messages.ERROR)
        return HttpResponseRedirect(f"{changelist}?{query}")
    SavedView.objects.update_or_create(user=request.user, name=name, defaults={"query": query})
    model_admin.message_user(request, f"View {name!r} saved.", messages.SUCCESS)
    return HttpResponseRedirect(f"{changelist}?{query}")


def saved_view_delete(request, model_admin, view_id):
    _require_view(request, model_admin)
    if request.method == "POST":
        deleted, _ = SavedView.objects.filter(pk=view_id, user=request.user).delete()
        if deleted:
            model_admin.message_user(request, "View deleted.", messages.SUCCESS)
    return HttpResponseRedirect(reverse("admin:sagaops_saga_changelist"))


# --- the audit trail ---


def audit(request, model_admin):
    _require_view(request, model_admin)
    query, error = _audit_query(request.GET)
    if error:
        model_admin.message_user(request, error, messages.ERROR)
    rows = audit_trail(query)
    bulks = BulkAction.objects.select_related("user").order_by("-created_at")
    if query.operator:
        bulks = bulks.filter(user__username=query.operator)
    if query.since:
        bulks = bulks.filter(created_at__gte=query.since)
    if query.until:
        bulks = bulks.filter(created_at__lte=query.until)
    ctx = _context(
        request,
        model_admin,
        "Audit trail: operator actions",
        rows=rows,
        query=query,
        params=request.GET,
        operators=audit_operators(),
        kinds=action_kinds(),
        bulks=with_summaries(list(bulks[:20])),
        labels={k: a.label for k, a in ACTIONS.items()},
        page_size=AUDIT_PAGE,
    )
    return TemplateResponse(request, "sagaops/console/audit.html", ctx)


def _audit_query(params) -> tuple[AuditQuery, str]:
    try:
        since = parse_when(params["since"]) if params.get("since") else None
        until = parse_when(params["until"], end=True) if params.get("until") else None
    except ValueError as error:
        return AuditQuery(
            params.get("operator", ""), params.get("kind", "")
        ), f"Not a date: {error} (use 2026-01-31 or 2026-01-31T14:05)."
    return AuditQuery(params.get("operator", ""), params.get("kind", ""), since, until), ""
