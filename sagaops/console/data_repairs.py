"""The "repair with data" page of a saga: complete a step by hand with its result, edit a step's
recorded result (shown as a diff before it is applied), and the preview of a forced compensation.

The rules (`sagaops.rules.data_repairs`) decide which forms to offer, as the services enforce.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from sagaops import rules
from sagaops.exceptions import ActionRefused
from sagaops.models import Saga, SagaStep
from sagaops.selectors import compensation_preview
from sagaops.services import step_complete_by_hand, step_result_edit
from sagaops.storable import UnstorableJSON, json_loads_storable

PERMS = {"complete": "sagaops.complete_step_saga", "edit": "sagaops.edit_result_saga"}


class ResultForm(forms.Form):
    op = forms.ChoiceField(choices=[("complete", "complete"), ("edit", "edit")], widget=forms.HiddenInput)
    step = forms.CharField(widget=forms.HiddenInput)
    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    result = forms.CharField(widget=forms.Textarea(attrs={"rows": 4, "cols": 60, "class": "sagaops-mono"}))
    reason = forms.CharField(max_length=2000, widget=forms.TextInput(attrs={"size": 50, "placeholder": "Why?"}))
    diff_confirmed = forms.BooleanField(widget=forms.HiddenInput, required=False)

    def clean_result(self):
        try:
            return json_loads_storable(self.cleaned_data["result"])
        except UnstorableJSON as error:
            raise forms.ValidationError(f"not valid JSON: {error}") from None


def _pretty(value) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)


def _forms(saga: Saga, steps: list[SagaStep], user) -> list[dict]:
    now, offered = timezone.now(), []
    for step in steps:
        for op, guard in (("complete", rules.can_complete_by_hand), ("edit", rules.can_edit_result)):
            if user.has_perm(PERMS[op]) and guard(saga, steps, step.name, now=now) is None:
                initial = {"op": op, "step": step.name, "expected_version": saga.version}
                initial["result"] = _pretty(step.result) if op == "edit" else "{}"
                offered.append({"op": op, "step": step, "form": ResultForm(initial=initial)})
    return offered


def data_repairs_page(request, model_admin, object_id):
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    saga = get_object_or_404(Saga, pk=object_id)
    diff = posted = None
    if request.method == "POST":
        posted = ResultForm(request.POST)
        if posted.is_valid():
            done, diff = _post(request, model_admin, saga, posted)
            if done:
                return HttpResponseRedirect(reverse("admin:sagaops_saga_change", args=[saga.pk]))
        else:
            model_admin.message_user(request, _errors(posted), messages.ERROR)
    steps = list(SagaStep.objects.filter(saga=saga).order_by("index"))
    ctx = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": f"Repair with data: saga {saga.pk}",
        "saga": saga,
        "offered": _forms(saga, steps, request.user),
        "preview": compensation_preview(saga=saga),
        "diff": diff,
        "confirm": posted if diff is not None else None,
    }
    return TemplateResponse(request, "sagaops/console/data_repairs.html", ctx)


def _errors(form: ResultForm) -> str:
    return "Refused: " + "; ".join(f"{name}: {' '.join(e)}" for name, e in form.errors.items())


def _post(request, model_admin, saga: Saga, form: ResultForm):
    """(done, diff): an edit is shown as a diff first, and applied once the operator confirms it."""
    data = form.cleaned_data
    if not request.user.has_perm(PERMS[data["op"]]):
        raise PermissionDenied
    if data["op"] == "edit" and not data["diff_confirmed"]:
        step = SagaStep.objects.filter(saga=saga, name=data["step"]).first()
        confirm = form.data.copy()
        confirm["diff_confirmed"] = "on"
        form.data = confirm
        return False, rules.result_diff(step.result if step else None, data["result"])
    run = step_complete_by_hand if data["op"] == "complete" else step_result_edit
    try:
        run(
            saga_id=saga.pk,
            step_name=data["step"],
            result=data["result"],
            user=request.user,
            reason=data["reason"],
            expected_version=data["expected_version"],
        )
    except ActionRefused as error:
        model_admin.message_user(request, f"Refused: {error}", messages.ERROR)
        return False, None
    label = "completed by hand" if data["op"] == "complete" else "result edited"
    model_admin.message_user(request, f"Step {data['step']} {label}.", messages.SUCCESS)
    return True, None
