from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("sagaops", "0004_console_indexes"),
    ]

    operations = [
        migrations.RenameField(model_name="sagastep", old_name="timed_out", new_name="outcome_unknown"),
    ]
