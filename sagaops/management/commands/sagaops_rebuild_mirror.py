from django.core.management.base import BaseCommand

from sagaops.services.timers import mirror_rebuild, timers_reconcile


class Command(BaseCommand):
    help = "Rebuild the Redis mirror (hashes, logs, timers) of sagas from PostgreSQL."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="also finished sagas (default: active and stuck)")

    def handle(self, *args, all: bool, **options):
        count = mirror_rebuild(include_finished=all)
        timers = timers_reconcile()
        self.stdout.write(f"rebuilt the mirror of {count} saga(s); re-armed {timers} timer(s)")
