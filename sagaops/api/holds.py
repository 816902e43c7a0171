"""Holds: list and place them (`/api/holds/`), release one at a rate, pause or cancel its release.

Reading needs `sagaops.view_saga`, acting `sagaops.manage_hold`; every action needs a reason and
is in the admin log. A target that does not exist is a 400 naming the field; an action the
hold's state forbids (releasing a released hold) is a 409 saying why.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from sagaops import rules
from sagaops.api.views import SagaopsApiView
from sagaops.definitions import registered_definitions
from sagaops.holds_selectors import hold_get, hold_list
from sagaops.models import Hold
from sagaops.services.holds import hold_cancel_release, hold_pause_release, hold_place, hold_release

VIEW, MANAGE = "sagaops.view_saga", "sagaops.manage_hold"


class HoldPermission(BasePermission):
    """Reads need view_saga; writes need manage_hold."""

    def has_permission(self, request, view) -> bool:
        needed = VIEW if request.method in ("GET", "HEAD", "OPTIONS") else MANAGE
        if not request.user.has_perm(needed):
            self.message = f"you need the {needed} permission"
            return False
        return True


class ReleaseOutput(serializers.Serializer):
    rate = serializers.FloatField(source="release_rate", allow_null=True)
    reason = serializers.CharField(source="release_reason")
    released_by = serializers.CharField(source="released_by.username", default=None)
    started_at = serializers.DateTimeField(source="release_started_at", allow_null=True)
    released = serializers.IntegerField(source="released_count")
    progress = serializers.FloatField(allow_null=True, help_text="released / (released + still held), 0..1")


class HoldOutput(serializers.Serializer):
    id = serializers.IntegerField()
    target = serializers.CharField()
    saga_type = serializers.CharField()
    step = serializers.CharField()
    participant = serializers.CharField()
    status = serializers.CharField()
    source = serializers.CharField()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(source="created_by.username", default=None)
    held = serializers.IntegerField(help_text="sagas this hold keeps waiting now")
    release = ReleaseOutput(source="*")
    finished_at = serializers.DateTimeField(allow_null=True)


class HoldInput(serializers.Serializer):
    saga_type = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    step = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    participant = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    reason = serializers.CharField(max_length=2000)

    def validate(self, attrs: dict) -> dict:
        refusal = rules.target_refusal(
            saga_type=attrs["saga_type"],
            step=attrs["step"],
            participant=attrs["participant"],
            definitions=registered_definitions(),
        )
        if refusal is not None:
            raise serializers.ValidationError({refusal.field: [refusal.message]})
        return attrs


class HoldFilter(serializers.Serializer):
    status = serializers.ChoiceField(choices=Hold.Status.choices, required=False)


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class ReleaseInput(ReasonInput):
    rate = serializers.FloatField(
        min_value=0.01, max_value=rules.holds.MAX_RELEASE_RATE, help_text="sagas let go per second"
    )


class HoldListApi(SagaopsApiView):
    """GET: the holds, newest first, with their progress. POST: hold a step or a participant."""

    permission_classes = [IsAuthenticated, HoldPermission]

    @extend_schema(parameters=[HoldFilter], responses={200: HoldOutput(many=True)})
    def get(self, request):
        filters = HoldFilter(data=request.query_params)
        filters.is_valid(raise_exception=True)
        holds = hold_list(status=filters.validated_data.get("status"))
        return Response(HoldOutput(holds, many=True).data)

    @extend_schema(request=HoldInput, responses={201: HoldOutput})
    def post(self, request):
        data = HoldInput(data=request.data)
        data.is_valid(raise_exception=True)
        hold = hold_place(user=request.user, **data.validated_data)
        return Response(HoldOutput(hold_get(hold_id=hold.pk)).data, status=status.HTTP_201_CREATED)


class HoldDetailApi(SagaopsApiView):
    permission_classes = [IsAuthenticated, HoldPermission]

    @extend_schema(responses={200: HoldOutput})
    def get(self, request, hold_id):
        return Response(HoldOutput(hold_get(hold_id=hold_id)).data)


class HoldActionApi(SagaopsApiView):
    """Base of the hold actions: 404 for an unknown hold, then the input, then the service."""

    permission_classes = [IsAuthenticated, HoldPermission]
    InputSerializer = ReasonInput

    def act(self, *, hold_id, user, **data) -> None:
        raise NotImplementedError

    def post(self, request, hold_id):
        hold_get(hold_id=hold_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        self.act(hold_id=hold_id, user=request.user, **data.validated_data)
        return Response(HoldOutput(hold_get(hold_id=hold_id)).data, status=status.HTTP_202_ACCEPTED)


class HoldReleaseApi(HoldActionApi):
    """Let the held sagas go at `rate` per second (resumes a paused release, at the new rate)."""

    InputSerializer = ReleaseInput

    def act(self, **kwargs) -> None:
        hold_release(**kwargs)

    @extend_schema(request=ReleaseInput, responses={202: HoldOutput})
    def post(self, request, hold_id):
        return super().post(request, hold_id)


class HoldPauseReleaseApi(HoldActionApi):
    """Stop letting sagas go for now; releasing again resumes."""

    def act(self, **kwargs) -> None:
        hold_pause_release(**kwargs)

    @extend_schema(request=ReasonInput, responses={202: HoldOutput})
    def post(self, request, hold_id):
        return super().post(request, hold_id)


class HoldCancelReleaseApi(HoldActionApi):
    """Stop the release: the hold holds again (sagas already let go carry on)."""

    def act(self, **kwargs) -> None:
        hold_cancel_release(**kwargs)

    @extend_schema(request=ReasonInput, responses={202: HoldOutput})
    def post(self, request, hold_id):
        return super().post(request, hold_id)
