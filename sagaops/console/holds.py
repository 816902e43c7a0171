"""The Holds page: the holds with their progress, a form to hold a step or a participant, and
each hold's release (at a rate), pause and cancel. The services enforce the rules; a refusal is
a console message, never a traceback."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse

from sagaops import rules
from sagaops.definitions import registered_definitions
from sagaops.exceptions import ActionRefused
from sagaops.holds_selectors import hold_list
from sagaops.models import Hold
from sagaops.services.holds import hold_cancel_release, hold_pause_release, hold_place, hold_release

MANAGE = "sagaops.manage_hold"
REASON_WIDGET = forms.TextInput(attrs={"size": 40, "placeholder": "Why? (goes to the log)"})


def target_choices() -> list[tuple[str, str]]:
    """Every step of every registered type, then every participant a step declares."""
    steps, participants = [], set()
    for definition in registered_definitions():
        if definition.choreographed:
            continue  # its services run the steps: a hold cannot stop them
        for step in definition.steps:
            steps.append(f"{definition.name}:{step.name}")
            if step.participant:
                participants.add(step.participant)
    options = [(t, f"step {t}") for t in sorted(set(steps))]
    return options + [(f"participant:{p}", f"participant {p} (every step that calls it)") for p in sorted(participants)]


class HoldForm(forms.Form):
    target = forms.ChoiceField()
    reason = forms.CharField(max_length=2000, widget=REASON_WIDGET)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = target_choices()

    def target_fields(self) -> dict[str, str]:
        kind, _, rest = self.cleaned_data["target"].partition(":")
        if kind == "participant":
            return {"participant": rest}
        return {"saga_type": kind, "step": rest}


class ReleaseForm(forms.Form):
    rate = forms.FloatField(
        min_value=0.01, max_value=rules.holds.MAX_RELEASE_RATE, initial=5, help_text="sagas per second"
    )
    reason = forms.CharField(max_length=2000, widget=REASON_WIDGET)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=2000, widget=REASON_WIDGET)


ACTS = {
    "release": (ReleaseForm, lambda hold, user, data: hold_release(hold_id=hold.pk, user=user, **data), "release"),
    "pause": (ReasonForm, lambda hold, user, data: hold_pause_release(hold_id=hold.pk, user=user, **data), "pause"),
    "cancel": (ReasonForm, lambda hold, user, data: hold_cancel_release(hold_id=hold.pk, user=user, **data), "cancel"),
}


def _require_view(request, model_admin) -> None:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied


def holds_page(request, model_admin):
    _require_view(request, model_admin)
    form = HoldForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm(MANAGE):
            raise PermissionDenied
        if form.is_valid():
            try:
                hold = hold_place(user=request.user, reason=form.cleaned_data["reason"], **form.target_fields())
            except ActionRefused as error:
                model_admin.message_user(request, f"Hold refused: {error}", messages.ERROR)
            else:
                model_admin.message_user(request, f"Hold #{hold.pk} placed on {hold.target}.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:sagaops_saga_holds"))
    holds = hold_list()
    ctx = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": "Holds",
        "holds": holds,
        "form": form,
        "can_manage": request.user.has_perm(MANAGE),
        "release_form": ReleaseForm(),
        "reason_form": ReasonForm(),
        "releasing": any(h.status == Hold.Status.RELEASING for h in holds),
    }
    return TemplateResponse(request, "sagaops/console/holds.html", ctx)


def hold_act(request, model_admin, hold_id, act):
    """POST only: release, pause or cancel one hold's release."""
    _require_view(request, model_admin)
    if not request.user.has_perm(MANAGE):
        raise PermissionDenied
    back = HttpResponseRedirect(reverse("admin:sagaops_saga_holds"))
    if request.method != "POST" or act not in ACTS:
        return back
    hold = get_object_or_404(Hold, pk=hold_id)
    form_class, run, label = ACTS[act]
    form = form_class(request.POST)
    if not form.is_valid():
        errors = "; ".join(f"{name}: {' '.join(e)}" for name, e in form.errors.items())
        model_admin.message_user(request, f"Cannot {label} hold #{hold.pk}: {errors}", messages.ERROR)
        return back
    try:
        run(hold, request.user, form.cleaned_data)
    except ActionRefused as error:
        model_admin.message_user(request, f"Cannot {label} hold #{hold.pk}: {error}", messages.ERROR)
        return back
    model_admin.message_user(request, f"Hold #{hold.pk}: {label} done.", messages.SUCCESS)
    return back
