"""The demo compensation rules (seed 003's delivery example, adapted), version 1 of each."""

from django.db import migrations


def create(apps, schema_editor):
    from sagaops.choreography.services.rules import DEMO_RULES

    Rule = apps.get_model("choreography", "CompensationRule")
    Compensation = apps.get_model("choreography", "RuleCompensation")
    Version = apps.get_model("choreography", "CompensationRuleVersion")
    for service, code, action, commands, description in DEMO_RULES:
        rule, created = Rule.objects.get_or_create(
            service=service, code=code, defaults={"action": str(action), "description": description, "version": 1}
        )
        if not created:
            continue
        Compensation.objects.bulk_create(
            Compensation(rule=rule, position=i, command=command) for i, command in enumerate(commands)
        )
        Version.objects.create(
            rule=rule, version=1, action=str(action), commands=list(commands), description=description
        )


class Migration(migrations.Migration):
    dependencies = [("choreography", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
