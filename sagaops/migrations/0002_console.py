# The operations console: the bulk-action model, the indexes behind the saga list's filters and
# search, and the "operator (view)" / "operator (repair)" groups.
import uuid

import django.db.models.deletion
import django.db.models.fields.json
from django.conf import settings
from django.db import migrations, models


def create_operator_groups(apps, schema_editor):
    from sagaops.console.groups import ensure_operator_groups

    ensure_operator_groups(apps=apps)


class Migration(migrations.Migration):
    dependencies = [
        ("sagaops", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="BulkAction",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                ("action", models.CharField(max_length=30)),
                ("step", models.CharField(blank=True, default="", max_length=100)),
                ("reason", models.TextField()),
                ("source", models.CharField(blank=True, default="", max_length=300)),
                (
                    "status",
                    models.CharField(
                        choices=[("queued", "Queued"), ("running", "Running"), ("done", "Done")],
                        default="queued",
                        max_length=10,
                    ),
                ),
                ("items", models.JSONField(default=list)),
                ("results", models.JSONField(default=dict)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
            ],
            options={"ordering": ["-created_at"]},
        ),
        migrations.AddIndex(
            model_name="saga",
            index=models.Index(fields=["type", "-created_at"], name="saga_by_type"),
        ),
        migrations.AddIndex(
            model_name="saga",
            index=models.Index(
                condition=models.Q(("last_error", ""), _negated=True), fields=["-created_at"], name="saga_with_error"
            ),
        ),
        migrations.AddIndex(
            model_name="saga",
            index=models.Index(
                django.db.models.fields.json.KeyTransform(
                    "order_id", django.db.models.fields.json.KeyTransform("payload", "context")
                ),
                name="saga_payload_order_id",
            ),
        ),
        migrations.RunPython(create_operator_groups, migrations.RunPython.noop),
    ]
