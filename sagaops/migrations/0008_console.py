# The console: saved views of the saga list, the payload search index, the audit trail's index.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('sagaops', '0007_attention_code'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='SavedView',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100)),
                ('query', models.CharField(max_length=1000)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'ordering': ['name'],
            },
        ),
        # The console's search by the business keys definitions declare (customer, ...): one GIN index
        # serves an exact match on any key of the start payload (`context -> 'payload' @> {key: value}`).
        # Raw SQL: Django wraps an expression in parentheses before its operator class, which
        # PostgreSQL rejects; so the index is not in Saga.Meta.indexes.
        migrations.RunSQL(
            sql="CREATE INDEX saga_payload_search ON sagaops_saga USING gin ((context -> 'payload') jsonb_path_ops)",
            reverse_sql="DROP INDEX IF EXISTS saga_payload_search",
        ),
        # The error-type filter: failed status and error type are strongly correlated; without these
        # statistics PostgreSQL guesses ~1 % of the real matches and joins the slow way round.
        migrations.RunSQL(
            sql="CREATE STATISTICS IF NOT EXISTS sagastep_status_error (dependencies, mcv) "
            "ON status, last_error_type FROM sagaops_sagastep",
            reverse_sql="DROP STATISTICS IF EXISTS sagastep_status_error",
        ),
        migrations.AddIndex(
            model_name='sagaevent',
            index=models.Index(condition=models.Q(('actor_type', 'operator')), fields=['-id'], name='saga_event_operator'),
        ),
        migrations.AddField(
            model_name='savedview',
            name='user',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddConstraint(
            model_name='savedview',
            constraint=models.UniqueConstraint(fields=('user', 'name'), name='saved_view_unique_name'),
        ),
    ]
