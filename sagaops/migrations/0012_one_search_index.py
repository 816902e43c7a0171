from django.conf import settings
from django.db import migrations

# The search document as this migration made it (0014_branches adds the parent to it).
FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION sagaops_search_keys(context jsonb, search jsonb, correlation_id text)
RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT COALESCE(context -> 'payload', '{}'::jsonb) || COALESCE(search, '{}'::jsonb)
        || jsonb_strip_nulls(jsonb_build_object('correlation_id', NULLIF(correlation_id, '')))
$$
"""
FUNCTION_DROP = "DROP FUNCTION IF EXISTS sagaops_search_keys(jsonb, jsonb, text)"
INDEX_SQL = (
    "CREATE INDEX saga_search ON sagaops_saga USING gin "
    "(sagaops_search_keys(context, search, correlation_id) jsonb_path_ops) WITH (fastupdate = off)"
)


class Migration(migrations.Migration):
    dependencies = [
        ("sagaops", "0011_holds"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # The two GIN indexes of 0008 and 0009 (payload, result keys), the order-id expression index
    # and the correlation index become one GIN index on the search document.
    operations = [
        migrations.RunSQL(
            sql="DROP INDEX IF EXISTS saga_payload_search",
            reverse_sql="CREATE INDEX saga_payload_search ON sagaops_saga USING gin ((context -> 'payload') jsonb_path_ops)",
        ),
        migrations.RunSQL(
            sql="DROP INDEX IF EXISTS saga_search_keys",
            reverse_sql="CREATE INDEX saga_search_keys ON sagaops_saga USING gin (search jsonb_path_ops)",
        ),
        migrations.RemoveIndex(
            model_name="saga",
            name="saga_payload_order_id",
        ),
        migrations.RemoveIndex(
            model_name="saga",
            name="saga_by_correlation",
        ),
        migrations.RunSQL(
            sql=FUNCTION_SQL, reverse_sql=FUNCTION_DROP
        ),
        migrations.RunSQL(sql=INDEX_SQL, reverse_sql="DROP INDEX IF EXISTS saga_search"),
        # Statistics of the new expression: without them the planner guesses 10,000 rows per
        # key and walks the list's index instead (seconds at a million sagas until autovacuum).
        migrations.RunSQL(sql="ANALYZE sagaops_saga", reverse_sql=migrations.RunSQL.noop),
    ]
