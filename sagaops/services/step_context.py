"""What a step's action or compensation is given, built the same way for every executor."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from sagaops import rules
from sagaops.definitions import StepContext
from sagaops.models import Saga, SagaStep


def to_json(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def step_context(saga: Saga, steps: list[SagaStep], step: SagaStep, *, attempt: int, compensating: bool) -> StepContext:
    key = f"{saga.pk}:{step.name}" + (":compensate" if compensating else "")
    return StepContext(
        saga_id=str(saga.pk),
        saga_type=saga.type,
        step=step.name,
        payload=saga.context.get("payload", {}),
        results=rules.results_for(steps, step.index, compensating=compensating),
        attempt=attempt,
        idempotency_key=key,
        correlation_id=saga.correlation_id,
    )
