"""Bulk actions by query: preview or start one (`POST /api/bulk-actions/`), follow its progress,
pause, resume or cancel it.

The selection is a saga filter, the same one `GET /api/sagas/` takes (`sagaops.selection`); a bad
filter is a 400 naming the field under `filter`. Starting, pausing, resuming and cancelling need
the permission of the action itself (`sagaops.retry_saga` for a bulk retry, ...), the same as a
single repair; reading needs `sagaops.view_saga`.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from sagaops.api.errors import Forbidden
from sagaops.api.permissions import VIEW_ALL_PERMISSION, readable_sagas
from sagaops.bulk_selectors import PREVIEW_LIMIT, PREVIEW_MAX, bulk_aftermath, bulk_get, bulk_items, bulk_outcomes
from sagaops.bulk_selectors import bulk_preview as preview_of
from sagaops.console.actions import ACTIONS, BULK_ACTIONS
from sagaops.exceptions import NotPermitted
from sagaops.models import BulkAction, BulkActionItem
from sagaops.rules.bulk import MAX_BULK_RATE
from sagaops.selection import InvalidFilter, filter_parse
from sagaops.services.bulk import (
    EmptySelection,
    Selection,
    bulk_action_spec,
    bulk_cancel,
    bulk_pause,
    bulk_resume,
    bulk_start,
)

LISTED_OUTCOMES = 20


class BulkInput(serializers.Serializer):
    filter = serializers.JSONField(help_text="a saga filter: the query parameters of GET /api/sagas/ as an object")
    action = serializers.ChoiceField(choices=BULK_ACTIONS)
    step = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    rate = serializers.FloatField(min_value=0.01, max_value=MAX_BULK_RATE, help_text="sagas per second")
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    preview = serializers.BooleanField(required=False, default=False, help_text="only say what it would do")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=PREVIEW_MAX, default=PREVIEW_LIMIT)

    def validate_filter(self, value):
        try:
            return filter_parse(value)
        except InvalidFilter as error:
            raise ValidationError(error.errors) from None

    def validate(self, attrs):
        if not attrs["preview"] and not attrs["reason"].strip():
            raise ValidationError({"reason": ["a reason is required to start a bulk action"]})
        if ACTIONS[attrs["action"]].per_step and not attrs["step"]:
            raise ValidationError({"step": [f"{attrs['action']} needs a step"]})
        return attrs


class PreviewRowOutput(serializers.Serializer):
    id = serializers.UUIDField(source="saga.pk")
    type = serializers.CharField(source="saga.type")
    status = serializers.CharField(source="saga.status")
    version = serializers.IntegerField(source="saga.version")
    created_at = serializers.DateTimeField(source="saga.created_at")
    verdict = serializers.ChoiceField(choices=["apply", "refuse"])
    reason = serializers.CharField(help_text="why it would be refused (the repair rule's message)")


class PreviewOutput(serializers.Serializer):
    count = serializers.IntegerField(help_text="sagas the filter selects now")
    sagas = PreviewRowOutput(many=True, source="rows", help_text="the first ones, in the order a run takes them")


class ItemOutput(serializers.Serializer):
    saga = serializers.UUIDField(source="saga_id")
    version = serializers.IntegerField(help_text="the saga's version when the run started (the fence)")
    outcome = serializers.CharField()
    message = serializers.CharField()


class BulkOutput(serializers.Serializer):
    id = serializers.UUIDField()
    action = serializers.CharField()
    step = serializers.CharField()
    filter = serializers.DictField(source="filters")
    rate = serializers.FloatField()
    reason = serializers.CharField()
    status = serializers.ChoiceField(choices=BulkAction.Status.choices)
    user = serializers.CharField(source="user.username")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    total = serializers.IntegerField()
    processed = serializers.IntegerField()
    outcomes = serializers.DictField(child=serializers.IntegerField(), help_text="pending, applied, refused, failed")
    aftermath = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="of the applied sagas, how many are now completed, compensated, stuck, resolved, in_flight",
    )
    refused = ItemOutput(many=True, help_text=f"the first {LISTED_OUTCOMES} refused sagas with the reason")
    failed = ItemOutput(many=True, help_text=f"the first {LISTED_OUTCOMES} failed sagas with the error")


def bulk_document(bulk: BulkAction) -> dict:
    bulk.outcomes, bulk.aftermath = bulk_outcomes(bulk), bulk_aftermath(bulk)
    bulk.refused = bulk_items(bulk, outcome=BulkActionItem.Outcome.REFUSED, limit=LISTED_OUTCOMES)
    bulk.failed = bulk_items(bulk, outcome=BulkActionItem.Outcome.FAILED, limit=LISTED_OUTCOMES)
    return BulkOutput(bulk).data


def _spec(user, action: str, step: str | None):
    try:
        return bulk_action_spec(user=user, action=action, step=step)
    except NotPermitted as error:
        raise Forbidden(str(error)) from None


class BulkListApi(APIView):
    """POST previews (`preview: true`) or starts a bulk action on every saga a filter selects."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=BulkInput, responses={200: PreviewOutput, 201: BulkOutput})
    def post(self, request):
        data = BulkInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        spec = _spec(request.user, values["action"], values["step"])
        selection, readable = Selection(filters=values["filter"]), readable_sagas(request.user)
        if values["preview"]:
            preview = preview_of(
                action=spec.name, step=values["step"], selection=selection, readable=readable, limit=values["limit"]
            )
            return Response(PreviewOutput(preview).data)
        try:
            bulk = bulk_start(
                user=request.user, action=spec.name, reason=values["reason"], rate=values["rate"],
                selection=selection, readable=readable, step=values["step"],
            )  # fmt: skip
        except EmptySelection as error:
            raise ValidationError({"filter": [str(error)]}) from None
        return Response(bulk_document(bulk_get(bulk_id=bulk.pk)), status=status.HTTP_201_CREATED)


def _bulk_or_404(bulk_id) -> BulkAction:
    bulk = bulk_get(bulk_id=bulk_id)
    if bulk is None:
        raise NotFound(f"no bulk action {bulk_id}")
    return bulk


class BulkDetailApi(APIView):
    """A bulk action's progress: its outcomes so far and what became of the sagas it was applied to."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=BulkOutput)
    def get(self, request, bulk_id):
        if not request.user.has_perm(VIEW_ALL_PERMISSION):
            raise Forbidden(f"you need the {VIEW_ALL_PERMISSION} permission to read bulk actions")
        return Response(bulk_document(_bulk_or_404(bulk_id)))


class VerbInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    rate = serializers.FloatField(
        required=False, min_value=0.01, max_value=MAX_BULK_RATE, help_text="resume only: a new rate"
    )


class BulkVerbApi(APIView):
    """Base of pause / resume / cancel: the action's own permission, an optional reason, audited."""

    permission_classes = [IsAuthenticated]
    verb = staticmethod(bulk_pause)

    @extend_schema(request=VerbInput, responses=BulkOutput)
    def post(self, request, bulk_id):
        bulk = _bulk_or_404(bulk_id)
        _spec(request.user, bulk.action, None)
        data = VerbInput(data=request.data)
        data.is_valid(raise_exception=True)
        extra = {"rate": data.validated_data["rate"]} if "rate" in data.validated_data else {}
        if extra and self.verb is not bulk_resume:
            raise ValidationError({"rate": ["only a resume takes a rate"]})
        self.verb(bulk_id=bulk.pk, user=request.user, reason=data.validated_data["reason"], **extra)
        return Response(bulk_document(bulk_get(bulk_id=bulk.pk)))


class BulkPauseApi(BulkVerbApi):
    """Stop after the batch in progress."""

    verb = staticmethod(bulk_pause)


class BulkResumeApi(BulkVerbApi):
    """Go on from where it stopped, at the same rate or a new one."""

    verb = staticmethod(bulk_resume)


class BulkCancelApi(BulkVerbApi):
    """Stop for good; the sagas not reached stay as they are."""

    verb = staticmethod(bulk_cancel)
