"""A run of local steps writes the saga row once, and a step that fails inside it rolls back
only its own action and checkpoint."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench import flows
from sagaops.models import Saga, SagaEvent, SagaStep
from sagaops.services import saga_advance, saga_start

pytestmark = pytest.mark.django_db(transaction=True)


def saga_row_updates(queries) -> int:
    return sum(1 for q in queries if 'UPDATE "sagaops_saga" SET' in q["sql"])


def test_a_run_of_four_local_steps_updates_the_saga_row_once_after_its_claim():
    # given a started saga of four local steps
    saga, _ = saga_start(saga_type=flows.SAGA_TYPE, payload={})
    # when it is advanced
    with CaptureQueriesContext(connection) as captured:
        saga_advance(saga_id=saga.pk)
    # then the claim and the run each updated the saga row once, and every step has its checkpoint
    assert saga_row_updates(captured.captured_queries) == 2
    saga = Saga.objects.get(pk=saga.pk)
    assert saga.status == "completed"
    assert list(SagaStep.objects.filter(saga=saga).values_list("status", flat=True)) == ["succeeded"] * 4
    # and each event kept the version its own transition reached
    versions = list(SagaEvent.objects.filter(saga=saga, kind="step_succeeded").values_list("version", flat=True))
    assert versions == sorted(versions) and len(set(versions)) == 4 and versions[-1] == saga.version
