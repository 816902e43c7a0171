"""Operator repairs: each needs its Django permission and a reason, is fenced by the optional
`expected_version`, replays a repeated `Idempotency-Key`, and lands on the saga's timeline."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from sagaops.api.idempotency import replayable
from sagaops.api.permissions import HasSagaPermission
from sagaops.api.sagas import IDEMPOTENCY_HEADER
from sagaops.api.selectors import saga_document_from_db
from sagaops.api.serializers import SagaDetailOutput
from sagaops.api.views import SagaopsApiView
from sagaops.models import Saga
from sagaops.selectors import compensation_preview
from sagaops.services import (
    branch_retry,
    compensation_mark_done,
    saga_compensate,
    saga_resolve,
    saga_retry,
    saga_retry_compensation,
    step_complete_by_hand,
    step_result_edit,
    step_skip,
)


class ActionInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)
    expected_version = serializers.IntegerField(required=False, min_value=0)


class RetryContextInput(serializers.Serializer):
    payload = serializers.DictField()


class RetryInput(ActionInput):
    context = RetryContextInput(required=False, help_text="The saga's context with an edited payload")


class ResultInput(ActionInput):
    result = serializers.JSONField(allow_null=True, help_text="The step's result, any JSON value")


class OperatorActionApi(SagaopsApiView):
    """Base of the operator endpoints; a subclass names its permission and calls its service."""

    permission_classes = [IsAuthenticated, HasSagaPermission]
    saga_permission = ""
    InputSerializer = ActionInput

    def perform(self, **kwargs) -> None:
        raise NotImplementedError

    def post(self, request, saga_id, step=None):
        Saga.objects.only("pk").get(pk=saga_id)  # 404 before judging the body
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)

        def act() -> Response:
            extra = {"step_name": step} if step is not None else {}
            self.perform(saga_id=saga_id, user=request.user, **extra, **data.validated_data)
            return Response(saga_document_from_db(saga_id=saga_id), status=status.HTTP_202_ACCEPTED)

        return replayable(request, f"{type(self).__name__}:{saga_id}:{step or ''}", act)


def operator_schema(input_serializer=ActionInput):
    return extend_schema(request=input_serializer, parameters=[IDEMPOTENCY_HEADER], responses={202: SagaDetailOutput})


class SagaRetryApi(OperatorActionApi):
    """Retry the saga forward from its failed or stalled step (optionally with an edited payload)."""

    saga_permission = "retry_saga"
    InputSerializer = RetryInput

    def perform(self, *, context=None, **kwargs) -> None:
        saga_retry(payload=context["payload"] if context else None, **kwargs)

    @operator_schema(RetryInput)
    def post(self, request, saga_id):
        return super().post(request, saga_id)


class SagaCompensateApi(OperatorActionApi):
    """Force compensation of every step that took (or may have taken) effect."""

    saga_permission = "compensate_saga"

    def perform(self, **kwargs) -> None:
        saga_compensate(**kwargs)

    @operator_schema()
    def post(self, request, saga_id):
        return super().post(request, saga_id)


class SagaRetryCompensationApi(OperatorActionApi):
    """Retry the compensation that failed."""

    saga_permission = "retry_compensation_saga"

    def perform(self, **kwargs) -> None:
        saga_retry_compensation(**kwargs)

    @operator_schema()
    def post(self, request, saga_id):
        return super().post(request, saga_id)


class SagaResolveApi(OperatorActionApi):
    """Close a stuck saga by hand: it was settled outside sagaops."""

    saga_permission = "resolve_saga"

    def perform(self, **kwargs) -> None:
        saga_resolve(**kwargs)

    @operator_schema()
    def post(self, request, saga_id):
        return super().post(request, saga_id)


class StepSkipApi(OperatorActionApi):
    """Skip a failed forward step (its work was done by hand) and go on."""

    saga_permission = "skip_step_saga"

    def perform(self, **kwargs) -> None:
        step_skip(**kwargs)

    @operator_schema()
    def post(self, request, saga_id, step):
        return super().post(request, saga_id, step)


class BranchRetryApi(OperatorActionApi):
    """Run one failed branch of a Parallel group again (its siblings keep their outcomes)."""

    saga_permission = "retry_saga"

    def perform(self, **kwargs) -> None:
        branch_retry(**kwargs)

    @operator_schema()
    def post(self, request, saga_id, step):
        return super().post(request, saga_id, step)


class CompensationDoneApi(OperatorActionApi):
    """Record a failed compensation as done by hand and carry on compensating."""

    saga_permission = "skip_step_saga"

    def perform(self, **kwargs) -> None:
        compensation_mark_done(**kwargs)

    @operator_schema()
    def post(self, request, saga_id, step):
        return super().post(request, saga_id, step)


class StepCompleteByHandApi(OperatorActionApi):
    """Record the result of a step done by hand (a failed, held or waiting next step); the saga goes on."""

    saga_permission = "complete_step_saga"
    InputSerializer = ResultInput

    def perform(self, **kwargs) -> None:
        step_complete_by_hand(**kwargs)

    @operator_schema(ResultInput)
    def post(self, request, saga_id, step):
        return super().post(request, saga_id, step)


class StepResultEditApi(OperatorActionApi):
    """Correct a succeeded step's result while the saga is stuck (or held) before its next step."""

    saga_permission = "edit_result_saga"
    InputSerializer = ResultInput

    def perform(self, **kwargs) -> None:
        step_result_edit(**kwargs)

    @operator_schema(ResultInput)
    def post(self, request, saga_id, step):
        return super().post(request, saga_id, step)


class CompensationInputOutput(serializers.Serializer):
    results = serializers.DictField()
    idempotency_key = serializers.CharField()
    action_key = serializers.CharField()


class CompensationPlanOutput(serializers.Serializer):
    step = serializers.CharField()
    index = serializers.IntegerField()
    status = serializers.CharField()
    outcome_unknown = serializers.BooleanField()
    kind = serializers.CharField()
    input = CompensationInputOutput()


class CompensationPreviewOutput(serializers.Serializer):
    allowed = serializers.BooleanField()
    refusal = serializers.CharField()
    payload = serializers.DictField()
    compensations = CompensationPlanOutput(many=True)


class CompensationPreviewApi(SagaopsApiView):
    """What force compensation would run now, in order, with each compensation's input; nothing runs."""

    permission_classes = [IsAuthenticated, HasSagaPermission]
    saga_permission = "view_saga"

    @extend_schema(responses={200: CompensationPreviewOutput})
    def get(self, request, saga_id):
        saga = Saga.objects.get(pk=saga_id)
        return Response(CompensationPreviewOutput(compensation_preview(saga=saga)).data)
