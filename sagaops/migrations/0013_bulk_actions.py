# Bulk actions by query, at a rate: the selection as item rows (one per saga, with its outcome)
# instead of two JSON lists, the pace and the chain of ticks. Earlier bulk actions are converted;
# one that had not finished goes on under the new runner (the beat's bulks_kick starts it).

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


OUTCOMES = {"done": "applied", "refused": "refused", "error": "failed"}


def items_to_rows(apps, schema_editor):
    BulkAction = apps.get_model("sagaops", "BulkAction")
    BulkActionItem = apps.get_model("sagaops", "BulkActionItem")
    now = django.utils.timezone.now()
    for bulk in BulkAction.objects.all().iterator():
        rows, seen = [], set()
        for item in bulk.items:
            if item["saga"] in seen:
                continue
            seen.add(item["saga"])
            result = bulk.results.get(item["saga"]) or {}
            outcome = OUTCOMES.get(result.get("outcome"), "pending")
            rows.append(
                BulkActionItem(
                    bulk=bulk, saga_id=item["saga"], version=item["version"], outcome=outcome,
                    message=result.get("message", ""), processed_at=None if outcome == "pending" else now,
                )  # fmt: skip
            )
        BulkActionItem.objects.bulk_create(rows)
        bulk.total, bulk.processed = len(rows), sum(1 for r in rows if r.outcome != "pending")
        if bulk.status != "done":
            bulk.status, bulk.tick, bulk.next_tick_at, bulk.paced_from = "running", 1, now, now
        bulk.save()


class Migration(migrations.Migration):

    dependencies = [
        ('sagaops', '0012_one_search_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='BulkActionItem',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('saga_id', models.UUIDField()),
                ('version', models.PositiveIntegerField()),
                ('outcome', models.CharField(choices=[('pending', 'Pending'), ('applied', 'Applied'), ('refused', 'Refused'), ('failed', 'Failed')], default='pending', max_length=10)),
                ('message', models.TextField(blank=True, default='')),
                ('processed_at', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'ordering': ['bulk', 'id'],
            },
        ),
        migrations.AddField(
            model_name='bulkaction',
            name='cursor',
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='bulkaction',
            name='filters',
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name='bulkaction',
            name='next_tick_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='bulkaction',
            name='paced_count',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='bulkaction',
            name='paced_from',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='bulkaction',
            name='processed',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='bulkaction',
            name='rate',
            field=models.FloatField(default=50.0, help_text='sagas per second'),
        ),
        migrations.AddField(
            model_name='bulkaction',
            name='tick',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='bulkaction',
            name='total',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AlterField(
            model_name='bulkaction',
            name='status',
            field=models.CharField(choices=[('running', 'Running'), ('paused', 'Paused'), ('cancelled', 'Cancelled'), ('done', 'Done')], default='running', max_length=10),
        ),
        migrations.AddIndex(
            model_name='bulkaction',
            index=models.Index(condition=models.Q(('status', 'running')), fields=['next_tick_at'], name='bulk_running'),
        ),
        migrations.AddField(
            model_name='bulkactionitem',
            name='bulk',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='items', to='sagaops.bulkaction'),
        ),
        migrations.AddIndex(
            model_name='bulkactionitem',
            index=models.Index(fields=['bulk', 'id'], name='bulk_item_walk'),
        ),
        migrations.AddIndex(
            model_name='bulkactionitem',
            index=models.Index(fields=['bulk', 'outcome'], name='bulk_item_outcome'),
        ),
        migrations.AddConstraint(
            model_name='bulkactionitem',
            constraint=models.UniqueConstraint(fields=('bulk', 'saga_id'), name='bulk_item_once'),
        ),
        migrations.RunPython(items_to_rows, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name='bulkaction',
            name='items',
        ),
        migrations.RemoveField(
            model_name='bulkaction',
            name='results',
        ),
    ]
