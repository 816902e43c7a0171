"""Prepared statements: the engine's hot statements are prepared on the connection, and nothing
else is (a generic plan for a console filter over skewed data can take seconds)."""

import pytest
from django.db import connection

from sagaops.models import Saga
from sagaops.services import saga_start
from sagaops.services.saga_load import saga_with_steps

pytestmark = pytest.mark.django_db


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_the_engines_statements_are_prepared_and_the_orms_are_not():
    assert connection.settings_dict["OPTIONS"].get("server_side_binding") is True  # SAGAOPS_DB_PREPARE
    sagas = [saga_start(saga_type="test.flow", payload={"n": n})[0] for n in range(3)]
    for saga in sagas:
        saga_with_steps(saga.pk)
        list(Saga.objects.filter(status="stuck", last_error__icontains="card"))  # a console filter
    statements = prepared_statements()
    assert any(s.startswith("WITH new_saga AS (INSERT INTO") for s in statements)  # the start
    assert any(s.startswith("SELECT st.") and "JOIN" in s for s in statements)  # the load
    assert not any("ILIKE" in s.upper() or "LIKE" in s.upper() for s in statements)
    assert connection.connection.prepare_threshold is None  # Django's default, restored
