# The console's failure groups, stuck counts and stuck page: covering partial indexes so they
# read only the (few) stuck sagas and failed steps, not the rows of a million sagas.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sagaops", "0003_api_service_accounts"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="saga",
            index=models.Index(
                condition=models.Q(("status", "stuck")),
                fields=["updated_at"],
                include=["id", "type", "version"],
                name="saga_stuck_cover",
            ),
        ),
        migrations.AddIndex(
            model_name="sagastep",
            index=models.Index(
                condition=models.Q(("status__in", ["failed", "compensation_failed"])),
                fields=["saga"],
                include=["index", "status", "name", "last_error_type"],
                name="saga_step_failures",
            ),
        ),
    ]
