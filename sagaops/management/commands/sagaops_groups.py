"""Create or refresh the "operator (view)" and "operator (repair)" groups (migrate does it too)."""

from django.core.management.base import BaseCommand

from sagaops.console.groups import ensure_operator_groups


class Command(BaseCommand):
    help = 'Create or refresh the "operator (view)" and "operator (repair)" groups and their permissions.'

    def handle(self, *args, **options):
        for name, count in ensure_operator_groups().items():
            self.stdout.write(f"{name}: {count} permissions")
