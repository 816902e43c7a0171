"""Confirmation forms: a required reason, and the version the operator looked at (the fence)."""

from __future__ import annotations

import uuid

from django import forms

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


class BulkForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 70, "placeholder": "Why? (recorded on every saga)"}),
        help_text="Required. Recorded with your name on the timeline of every saga touched.",
    )
    action = forms.CharField(widget=forms.HiddenInput)
    # The sagas (and the versions) the preview showed: exactly those are acted on.
    items = forms.CharField(widget=forms.HiddenInput)

    def clean_items(self):
        try:
            items = json_loads_storable(self.cleaned_data["items"])
            return [{"saga": str(uuid.UUID(str(i["saga"]))), "version": int(i["version"])} for i in items]
        except (ValueError, TypeError, KeyError, OverflowError):  # UnstorableJSON is a ValueError
            raise forms.ValidationError("the list of sagas was damaged; open the preview again") from None
