"""Confirmation forms: a required reason, and the version the operator looked at (the fence)."""

from __future__ import annotations

import uuid

from django import forms

from sagaops.console.actions import ACTIONS, BULK_ACTIONS
from sagaops.rules.bulk import MAX_BULK_RATE
from sagaops.storable import UnstorableJSON, json_loads_storable


class ActionForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 70, "placeholder": "Why? (goes to the timeline and the log)"}),
        help_text="Required. Recorded with your name on the saga's timeline and in the admin log.",
    )
    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    step = forms.CharField(widget=forms.HiddenInput, required=False)


class RetryForm(ActionForm):
    payload = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 10, "cols": 70, "class": "sagaops-mono"}),
        help_text="The start payload as JSON. Leave it as it is to retry with the same payload; "
        "a change is shown as a diff before it is applied.",
    )
    # Set by the diff page: the operator saw the diff and confirmed it.
    diff_confirmed = forms.BooleanField(widget=forms.HiddenInput, required=False)

    def clean_payload(self):
        text = (self.cleaned_data.get("payload") or "").strip()
        if not text:
            return None
        try:
            # NaN, a lone surrogate, U+0000 or deep nesting would fail as a 500 when saved.
            value = json_loads_storable(text)
        except UnstorableJSON as error:
            raise forms.ValidationError(str(error)) from None
        if not isinstance(value, dict):
            raise forms.ValidationError("the payload must be a JSON object")
        return value


def _rate_field(**kwargs) -> forms.FloatField:
    return forms.FloatField(
        min_value=0.01,
        max_value=MAX_BULK_RATE,
        widget=forms.NumberInput(attrs={"step": "any"}),
        help_text="Sagas per second.",
        **kwargs,
    )


def _reason_field(**kwargs) -> forms.CharField:
    return forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 70, "placeholder": "Why? (recorded on every saga)"}),
        help_text="Required. Recorded with your name on the timeline of every saga touched.",
        **kwargs,
    )


class BulkQueryForm(forms.Form):
    """A bulk action by query: which action, its step (per-step actions), how fast, why."""

    action = forms.ChoiceField(choices=[(name, name) for name in BULK_ACTIONS])
    bulk_step = forms.CharField(required=False, max_length=100, label="step")
    rate = _rate_field()
    reason = _reason_field(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [(name, ACTIONS[name].label) for name in BULK_ACTIONS]


class BulkReasonForm(forms.Form):
    """Pause, resume (optionally at a new rate) or cancel a run."""

    reason = forms.CharField(max_length=2000)
    rate = _rate_field(required=False)


class BulkForm(forms.Form):
    reason = _reason_field()
    rate = _rate_field()
    action = forms.CharField(widget=forms.HiddenInput)
    # The sagas (and the versions) the preview showed: exactly those are acted on.
    items = forms.CharField(widget=forms.HiddenInput)

    def clean_items(self):
        try:
            items = json_loads_storable(self.cleaned_data["items"])
            return [{"saga": str(uuid.UUID(str(i["saga"]))), "version": int(i["version"])} for i in items]
        except (ValueError, TypeError, KeyError, OverflowError):  # UnstorableJSON is a ValueError
            raise forms.ValidationError("the list of sagas was damaged; open the preview again") from None
