"""Callbacks of async steps: the service that was sent a command reports how it went.

Only the service that started the saga, a service granted the step (`sagaops_service --steps`)
or a person with `sagaops.change_sagastep` may call back. The first callback is accepted with
202 (the saga moves on in a worker); a repeated identical one (or a failure of an attempt
already settled) gets 200 and changes nothing; a callback for a step that is not waiting gets
409. What a callback may do is decided by `sagaops.rules.callbacks`.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from sagaops.api.permissions import require_may_call_back, saga_not_found
from sagaops.api.selectors import saga_document_from_db
from sagaops.api.serializers import SagaDetailOutput
from sagaops.api.views import SagaopsApiView
from sagaops.models import Saga
from sagaops.services import step_complete, step_fail

# The attempt the callback answers (`ctx.attempt` of the action that sent the command). With it,
# a replayed or late failure of an earlier attempt changes nothing, and a late success is adopted.
ATTEMPT = serializers.IntegerField(
    min_value=1, max_value=10_000, required=False, help_text="the attempt this callback answers (ctx.attempt)"
)


class CallbackOutput(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=["completed", "failed", "duplicate"])
    saga = SagaDetailOutput()


def _authorize(request, saga_id, step: str) -> Saga:
    """Who may call back is judged before the step is looked up: a stranger learns nothing."""
    saga = Saga.objects.only("pk", "type", "started_by").filter(pk=saga_id).first()
    if saga is None:
        raise saga_not_found(saga_id)
    require_may_call_back(request.user, saga, step)
    if not saga.steps.filter(name=step).exists():
        raise NotFound(f"saga {saga.pk} has no step {step!r}")
    return saga


def _answer(saga_id, outcome: str) -> Response:
    code = status.HTTP_200_OK if outcome == "duplicate" else status.HTTP_202_ACCEPTED
    return Response({"outcome": outcome, "saga": saga_document_from_db(saga_id=saga_id)}, status=code)


def _actor(request) -> str:
    return request.user.get_username()


class StepCompleteApi(SagaopsApiView):
    class InputSerializer(serializers.Serializer):
        result = serializers.JSONField(allow_null=True)
        attempt = ATTEMPT

    @extend_schema(request=InputSerializer, responses={202: CallbackOutput, 200: CallbackOutput})
    def post(self, request, saga_id, step):
        _authorize(request, saga_id, step)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = step_complete(saga_id=saga_id, step_name=step, actor=_actor(request), **data.validated_data)
        return _answer(saga_id, outcome)


class StepFailApi(SagaopsApiView):
    class InputSerializer(serializers.Serializer):
        error = serializers.CharField(max_length=2000)
        retryable = serializers.BooleanField(default=True)
        attempt = ATTEMPT

    @extend_schema(request=InputSerializer, responses={202: CallbackOutput, 200: CallbackOutput})
    def post(self, request, saga_id, step):
        _authorize(request, saga_id, step)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = step_fail(saga_id=saga_id, step_name=step, actor=_actor(request), **data.validated_data)
        return _answer(saga_id, outcome)
