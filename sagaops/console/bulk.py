"""The console's bulk actions: by query from the saga list, or on a list (a failure group, the
list's checkboxes); a preview first, then a run at a rate with its progress, pause, resume and
cancel. Every decision is the engine's (`sagaops.services.bulk`, `sagaops.bulk_selectors`).
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from sagaops.bulk_selectors import (
    bulk_aftermath,
    bulk_items,
    bulk_outcomes,
    bulk_preview,
    bulk_summary,
    with_summaries,
)
from sagaops.console import selectors
from sagaops.console.actions import ACTIONS, BULK_ACTIONS
from sagaops.console.filters import started_range
from sagaops.console.forms import BulkForm, BulkQueryForm, BulkReasonForm
from sagaops.console.views import _context, _require_action, _require_view
from sagaops.exceptions import ActionRefused, NotPermitted
from sagaops.models import BulkAction, BulkActionItem, Saga
from sagaops.selection import InvalidFilter, filter_label, filter_parse, filter_storable
from sagaops.services.bulk import (
    Selection,
    bulk_cancel,
    bulk_pause,
    bulk_resume,
    bulk_start,
    selection_from,
)
from sagaops.storable import json_loads_storable

# A list the operator ticks or a failure group is shown in full before it runs: at most this many.
MAX_LISTED = 1000
DEFAULT_RATE = 50
AGE_WINDOWS = {"1h": timedelta(hours=1), "24h": timedelta(days=1), "7d": timedelta(days=7)}
# The saga list's query parameters that are the saga filter's keys as they are.
LIST_KEYS = {"status__exact": "status", "type": "type", "step": "step", "error_type": "error_type", "q": "q"}
# The list's own parameters (order, page, popup state): not part of the selection.
LIST_IGNORED = {"o", "p", "_changelist_filters", "action", "rate", "reason", "bulk_step", "preview"}


def list_filters(params) -> dict:
    """The saga list's query string as a saga filter: the bulk action selects what the list shows."""
    raw: dict = {}
    for name, value in params.items():
        if name in LIST_IGNORED or value == "":
            continue
        if name in LIST_KEYS:
            raw[LIST_KEYS[name]] = value
        elif name == "stuck" and value == "yes":
            raw["stuck"] = True
        elif name in ("started_from", "started_to"):
            continue  # below, both ends together
        elif name == "age" and value in AGE_WINDOWS:
            raw["created_after"] = timezone.now() - AGE_WINDOWS[value]
        elif name == "age" and value == "old":
            raw["created_before"] = timezone.now() - AGE_WINDOWS["7d"]
        else:
            raise InvalidFilter({name: ["this filter of the list cannot select a bulk action; use the others"]})
    try:
        raw.update(started_range({k: params.get(k, "") for k in ("started_from", "started_to")}))
    except ValueError as error:
        raise InvalidFilter({"started between": [f"not a date: {error}"]}) from None
    return filter_parse(filter_storable(raw))


def bulk_action_or_404(request, name: str):
    action = ACTIONS.get(name)
    if action is None or name not in BULK_ACTIONS:
        raise Http404("no such bulk action")
    _require_action(request, action)
    return action


# --- by query: from the saga list ---


def bulk_query(request, model_admin):
    """The saga list's filter: its count, the first sagas and what the action does to each; then start."""
    _require_view(request, model_admin)
    params = request.POST if request.method == "POST" else request.GET
    try:
        filters = list_filters({k: v for k, v in params.items() if k != "csrfmiddlewaretoken"})
    except InvalidFilter as error:
        model_admin.message_user(request, f"Bulk action refused: {error}", messages.ERROR)
        return HttpResponseRedirect(reverse("admin:sagaops_saga_changelist"))
    form = BulkQueryForm(params if "action" in params else None, initial={"rate": DEFAULT_RATE})
    form.fields["reason"].required = request.method == "POST"
    preview = None
    if form.is_valid():
        action = bulk_action_or_404(request, form.cleaned_data["action"])
        if request.method == "POST":
            return _start(request, model_admin, action, form, Selection(filters=filters), reverse_list(params))
        preview = bulk_preview(
            action=action.name, step=form.cleaned_data["bulk_step"], selection=Selection(filters=filters),
            readable=Saga.objects.all(),
        )  # fmt: skip
    ctx = _context(
        request, model_admin, "Bulk action by query", form=form, preview=preview, label=filter_label(filters),
        back=reverse_list(params), hidden=[(k, v) for k, v in params.items() if k in _list_params(params)],
    )  # fmt: skip
    return TemplateResponse(request, "sagaops/console/bulk_query.html", ctx)


def _list_params(params) -> set[str]:
    return {k for k in params if k not in LIST_IGNORED and k != "csrfmiddlewaretoken"}


def reverse_list(params) -> str:
    query = urlencode([(k, v) for k, v in params.items() if k in _list_params(params)])
    return reverse("admin:sagaops_saga_changelist") + (f"?{query}" if query else "")


def _start(request, model_admin, action, form, selection: Selection, back: str, source: str = "", step: str = ""):
    data = form.cleaned_data
    try:
        bulk = bulk_start(
            user=request.user, action=action.name, reason=data["reason"], rate=data["rate"], selection=selection,
            readable=Saga.objects.all(), step=step or data.get("bulk_step") or "", source=source,
        )  # fmt: skip
    except (ActionRefused, NotPermitted, InvalidFilter) as error:
        model_admin.message_user(request, f"{action.label} refused: {error}", messages.ERROR)
        return HttpResponseRedirect(back)
    model_admin.message_user(
        request, f"{action.label} started on {bulk.total} saga(s) at {bulk.rate:g}/s; progress below.", messages.SUCCESS
    )
    return HttpResponseRedirect(reverse("admin:sagaops_saga_bulk", args=[bulk.pk]))


# --- on a list: a failure group, or the sagas ticked on the list ---


def group_preview(request, model_admin):
    """Exactly which sagas a bulk action on this failure group will touch, then the confirmation."""
    _require_view(request, model_admin)
    action = bulk_action_or_404(request, request.GET.get("action", ""))
    if any("\x00" in value for value in request.GET.values()):
        # No saga's type, step or error holds NUL, and PostgreSQL cannot even compare with it.
        model_admin.message_user(request, "That failure group does not exist (its link was damaged).", messages.ERROR)
        return HttpResponseRedirect(reverse("admin:sagaops_saga_groups"))
    signature = selectors.Signature.from_params(request.GET)
    members = selectors.group_members(signature, limit=MAX_LISTED + 1)
    capped = len(members) > MAX_LISTED
    items = [{"saga": m.saga_id, "version": m.version} for m in members[:MAX_LISTED]]
    step = signature.step if action.per_step else ""
    form = BulkForm(initial={"action": action.name, "items": json.dumps(items), "rate": DEFAULT_RATE})
    source = f"failure group {signature.label}"
    return _confirm(request, model_admin, action, form, items, step=step, source=source, capped=capped)


def bulk_from_list(request, model_admin, queryset, action_name: str):
    """The admin changelist's bulk actions on ticked sagas end here: the same confirmation as a group."""
    action = ACTIONS[action_name]
    sagas = list(queryset.order_by("-created_at")[: MAX_LISTED + 1])
    if len(sagas) > MAX_LISTED:
        model_admin.message_user(
            request,
            f"At most {MAX_LISTED} ticked sagas per bulk action: use “Bulk action on this selection” for more.",
            messages.ERROR,
        )
        return None
    items = [{"saga": str(s.pk), "version": s.version} for s in sagas]
    form = BulkForm(initial={"action": action.name, "items": json.dumps(items), "rate": DEFAULT_RATE})
    return _confirm(request, model_admin, action, form, items, source="saga list")


def bulk_new(request, model_admin):
    """POST of a list's confirmation: start it."""
    _require_view(request, model_admin)
    if request.method != "POST":
        return HttpResponseRedirect(reverse("admin:sagaops_saga_groups"))
    form = BulkForm(request.POST)
    action = bulk_action_or_404(request, request.POST.get("action", ""))
    step, source = request.POST.get("bulk_step", ""), request.POST.get("source", "")
    if not form.is_valid():
        items = _items_or_empty(request.POST.get("items", "[]"))
        return _confirm(request, model_admin, action, form, items, step=step, source=source)
    selection = selection_from(items=form.cleaned_data["items"])
    back = reverse("admin:sagaops_saga_groups")
    return _start(request, model_admin, action, form, selection, back, source=source, step=step)


def _confirm(request, model_admin, action, form, items, *, step="", source="", capped=False):
    sagas = {str(s.pk): s for s in Saga.objects.filter(pk__in=[i["saga"] for i in items])}
    rows = [(item, sagas.get(item["saga"])) for item in items]
    ctx = _context(
        request, model_admin, f"{action.label}{' ' + step if step else ''} on {len(items)} saga(s)", action=action,
        form=form, rows=rows, step=step, source=source, capped=capped, max_listed=MAX_LISTED,
    )  # fmt: skip
    return TemplateResponse(request, "sagaops/console/bulk_confirm.html", ctx)


def _items_or_empty(text: str) -> list[dict]:
    try:
        items = json_loads_storable(text)
        return [{"saga": str(uuid.UUID(str(i["saga"]))), "version": int(i["version"])} for i in items]
    except (ValueError, TypeError, KeyError, OverflowError):  # UnstorableJSON is a ValueError
        return []


# --- a run: progress, pause, resume, cancel ---


def bulk_detail(request, model_admin, bulk_id):
    _require_view(request, model_admin)
    bulk = get_object_or_404(BulkAction.objects.select_related("user"), pk=bulk_id)
    counts = bulk_outcomes(bulk)
    outcome = request.GET.get("outcome", "")
    outcome = outcome if outcome in BulkActionItem.Outcome.values else ""
    done = bulk.total - counts["pending"]
    action = ACTIONS[bulk.action]
    ctx = _context(
        request, model_admin, f"Bulk action: {action.label}", bulk=bulk, action=action, counts=counts, done=done,
        percent=int(100 * done / bulk.total) if bulk.total else 100, summary=bulk_summary(counts, bulk),
        aftermath=bulk_aftermath(bulk), items=bulk_items(bulk, outcome=outcome), outcome=outcome,
        may_act=action.allowed(request.user), reason_form=BulkReasonForm(initial={"rate": bulk.rate}),
        outcomes=BulkActionItem.Outcome.values,
    )  # fmt: skip
    return TemplateResponse(request, "sagaops/console/bulk_detail.html", ctx)


BULK_VERBS = {"pause": bulk_pause, "resume": bulk_resume, "cancel": bulk_cancel}


def bulk_act(request, model_admin, bulk_id, act):
    """POST pause / resume / cancel, audited with the operator and the reason."""
    _require_view(request, model_admin)
    bulk = get_object_or_404(BulkAction, pk=bulk_id)
    verb = BULK_VERBS.get(act)
    if verb is None or request.method != "POST":
        raise Http404("no such bulk verb")
    _require_action(request, ACTIONS[bulk.action])
    form = BulkReasonForm(request.POST)
    back = HttpResponseRedirect(reverse("admin:sagaops_saga_bulk", args=[bulk.pk]))
    if not form.is_valid():
        model_admin.message_user(request, f"{act.capitalize()} refused: {_form_errors(form)}", messages.ERROR)
        return back
    extra = {"rate": form.cleaned_data["rate"]} if act == "resume" and form.cleaned_data.get("rate") else {}
    try:
        verb(bulk_id=bulk.pk, user=request.user, reason=form.cleaned_data["reason"], **extra)
    except ActionRefused as error:
        model_admin.message_user(request, f"{act.capitalize()} refused: {error}", messages.ERROR)
        return back
    model_admin.message_user(request, f"Bulk action {act}d." if act != "cancel" else "Bulk action cancelled.")
    return back


def _form_errors(form) -> str:
    return "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())


def bulk_list(request, model_admin):
    _require_view(request, model_admin)
    bulks = with_summaries(list(BulkAction.objects.select_related("user")[:50]))
    ctx = _context(request, model_admin, "Bulk actions", bulks=bulks, labels={k: a.label for k, a in ACTIONS.items()})
    return TemplateResponse(request, "sagaops/console/bulk_list.html", ctx)
