from django.core.management.base import BaseCommand

from sagaops.services.timers import mirror_rebuild, timers_rearm_all


class Command(BaseCommand):
    help = (
        "Rebuild the Redis mirror (hashes, logs, timers) from PostgreSQL: unfinished sagas, and finished "
        "sagas whose mirror was left unfinished (a lost final write); --all: every saga."
    )

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="every saga, finished ones too")

    def handle(self, *args, all: bool, **options):
        count = mirror_rebuild(include_finished=all)
        timers = timers_rearm_all()
        self.stdout.write(f"rebuilt the mirror of {count} saga(s); re-armed {timers} timer(s)")
