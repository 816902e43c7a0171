from django.conf import settings
from django.db import migrations

from sagaops.search_keys import FUNCTION_SQL, INDEX_SQL


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
            sql=FUNCTION_SQL, reverse_sql="DROP FUNCTION IF EXISTS sagaops_search_keys(jsonb, jsonb, text)"
        ),
        migrations.RunSQL(sql=INDEX_SQL, reverse_sql="DROP INDEX IF EXISTS saga_search"),
    ]
