"""The keys a saga is found by, as one jsonb document, and the one way to look sagas up by them.

The document joins the start payload, the keys step results brought (`Saga.search`), the
correlation id and, for a child saga, its parent (`parent_saga`). PostgreSQL computes it from the
row with the function `sagaops_search_keys`, so every writer (the engine, choreography, bulk
loads) is covered, and one GIN index (`saga_search`, jsonb_path_ops) serves every lookup:
`keys_contain(order_id=42)`, `keys_contain(correlation_id="order:42")`, `children_of(saga_id)`.
A query uses the index only when it filters on the same function call, hence `SearchKeys` for
every lookup.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, Func, JSONField
from django.db.models.fields.json import DataContains

# IMMUTABLE so that an index may use it: jsonb_build_object is only STABLE because it can print
# any type; here it is given text. Created by migration 0014 (0012 made it without the parent).
FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION sagaops_search_keys(context jsonb, search jsonb, correlation_id text, parent uuid)
RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT COALESCE(context -> 'payload', '{}'::jsonb) || COALESCE(search, '{}'::jsonb)
        || jsonb_strip_nulls(jsonb_build_object(
            'correlation_id', NULLIF(correlation_id, ''), 'parent_saga', parent::text))
$$
"""
FUNCTION_DROP = "DROP FUNCTION IF EXISTS sagaops_search_keys(jsonb, jsonb, text, uuid)"
# fastupdate off: a lookup by correlation id (one per choreography event) then never scans a
# pending list of unmerged entries (up to 4 MB between vacuums); the insert pays a few GIN
# entries per saga instead.
INDEX_SQL = (
    "CREATE INDEX saga_search ON sagaops_saga USING gin "
    "(sagaops_search_keys(context, search, correlation_id, parent_id) jsonb_path_ops) WITH (fastupdate = off)"
)


class SearchKeys(Func):
    function = "sagaops_search_keys"
    output_field = JSONField()

    def __init__(self):
        super().__init__(F("context"), F("search"), F("correlation_id"), F("parent"))


def keys_contain(**keys: Any) -> DataContains:
    """A filter: the saga's search document holds every one of these key/value pairs."""
    return DataContains(SearchKeys(), keys)


def children_of(saga_id) -> DataContains:
    """A filter: the child sagas of this saga (sagaops.children.ChildSaga)."""
    return keys_contain(parent_saga=str(saga_id))
