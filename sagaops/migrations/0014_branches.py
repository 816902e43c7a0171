from importlib import import_module

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from sagaops.search_keys import FUNCTION_DROP, FUNCTION_SQL, INDEX_SQL

_v1 = import_module("sagaops.migrations.0012_one_search_index")
OLD_FUNCTION_SQL, OLD_INDEX_SQL, OLD_FUNCTION_DROP = _v1.FUNCTION_SQL, _v1.INDEX_SQL, _v1.FUNCTION_DROP


class Migration(migrations.Migration):

    dependencies = [
        ('sagaops', '0013_bulk_actions'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='saga',
            name='parent',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='children', to='sagaops.saga'),
        ),
        migrations.AddField(
            model_name='saga',
            name='parent_step',
            field=models.CharField(blank=True, default='', max_length=100),
        ),
        # A parent's children are found through the search document: the index is rebuilt on the
        # function that now also gives the parent (sagaops.search_keys).
        migrations.RunSQL(sql="DROP INDEX IF EXISTS saga_search", reverse_sql=OLD_INDEX_SQL),
        migrations.RunSQL(sql=OLD_FUNCTION_DROP, reverse_sql=OLD_FUNCTION_SQL),
        migrations.RunSQL(sql=FUNCTION_SQL, reverse_sql=FUNCTION_DROP),
        migrations.RunSQL(sql=INDEX_SQL, reverse_sql="DROP INDEX IF EXISTS saga_search"),
        # Statistics of the new expression: without them the planner guesses 10,000 rows per
        # key and walks the list's index instead (seconds at a million sagas until autovacuum).
        migrations.RunSQL(sql="ANALYZE sagaops_saga", reverse_sql=migrations.RunSQL.noop),
    ]
