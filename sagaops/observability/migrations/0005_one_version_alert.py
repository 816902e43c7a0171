# One alert for a definition version no live worker serves: `version_unserved` (one alert per
# version, naming it). Rules of the dropped `unknown_version` kind (a count of such versions,
# including the default rule of 0002) become version_unserved rules with the same recipients.

from django.db import migrations, models


def to_version_unserved(apps, schema_editor):
    AlertRule = apps.get_model("observability", "AlertRule")
    AlertRule.objects.filter(kind="unknown_version").update(kind="version_unserved", threshold=0, firing_since=None)


class Migration(migrations.Migration):

    dependencies = [
        ('observability', '0004_alert_kinds'),
    ]

    operations = [
        migrations.RunPython(to_version_unserved, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='alertrule',
            name='kind',
            field=models.CharField(choices=[('saga_stuck', 'A saga became stuck'), ('compensation_failed', 'A compensation failed'), ('stuck_count_over', 'Sagas needing attention over the threshold'), ('timer_backlog_over', 'Oldest due timer overdue by more than the threshold (s)'), ('no_worker', 'No live Celery worker for more than the threshold (s)'), ('tick_lag_over', 'Last timer tick longer ago than the threshold (s)'), ('breaker_tripped', "A step's circuit breaker tripped (the step is held)"), ('version_unserved', 'A saga version has active sagas and no live worker knows it')], max_length=30),
        ),
    ]
