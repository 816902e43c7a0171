"""Output serializers shared by the saga views (each view keeps its own input serializer)."""

from rest_framework import serializers
from rest_framework.reverse import reverse

from sagaops.models import SagaEvent
from sagaops.rules import AttentionCode
from sagaops.states import SagaStatus, StepStatus


class StepOutput(serializers.Serializer):
    name = serializers.CharField()
    index = serializers.IntegerField()
    status = serializers.ChoiceField(choices=StepStatus.choices)
    attempts = serializers.IntegerField()
    compensation_attempts = serializers.IntegerField()
    last_error = serializers.CharField()
    group = serializers.CharField(help_text='the Parallel group the step is a branch step of ("" in the main sequence)')
    branch = serializers.CharField(help_text="the branch (its first step's name) within the group")


class SagaSummaryOutput(serializers.Serializer):
    id = serializers.UUIDField()
    type = serializers.CharField()
    status = serializers.ChoiceField(choices=SagaStatus.choices)
    current_step = serializers.IntegerField()
    version = serializers.IntegerField()
    correlation_id = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    definition_version = serializers.IntegerField()
    attention_reason = serializers.CharField()
    attention_code = serializers.ChoiceField(
        choices=[("", "none"), *[(c.value, c.value) for c in AttentionCode]],
        help_text="why it needs a human, for machines: retries_exhausted, compensation_failed, worker_lost, ...",
    )


class SagaContextOutput(serializers.Serializer):
    payload = serializers.DictField()
    results = serializers.DictField()


class ChildOutput(serializers.Serializer):
    id = serializers.UUIDField()
    type = serializers.CharField()
    step = serializers.CharField(source="parent_step", help_text="the parent's step that started it")


class SagaDetailOutput(SagaSummaryOutput):
    """Expects `step_rows`, `child_rows` and `api_context` set on the saga (see
    selectors.saga_document_from_db)."""

    context = SagaContextOutput(source="api_context")
    steps = StepOutput(many=True, source="step_rows")
    parent = serializers.UUIDField(source="parent_id", allow_null=True, help_text="the saga this one is a child of")
    parent_step = serializers.CharField(help_text="the parent's step that started this child saga")
    children = ChildOutput(many=True, source="child_rows", help_text="the child sagas its steps started")


class SagaLinkOutput(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=SagaStatus.choices)
    url = serializers.URLField()


class EventOutput(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    step = serializers.CharField()
    detail = serializers.DictField()
    actor_type = serializers.ChoiceField(choices=SagaEvent.Actor.choices)
    actor = serializers.CharField()
    reason = serializers.CharField()
    version = serializers.IntegerField()


def saga_url(request, saga_id) -> str:
    return reverse("api:saga-detail", kwargs={"saga_id": saga_id}, request=request)


def saga_link(request, saga_id, status: str) -> dict:
    return {"id": saga_id, "status": status, "url": saga_url(request, saga_id)}
