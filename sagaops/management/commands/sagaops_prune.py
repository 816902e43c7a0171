"""Delete finished sagas past their retention, and the bookkeeping that no longer matters.

manage.py sagaops_prune                         # the retention settings (SAGAOPS_RETENTION_*)
manage.py sagaops_prune --older-than 30d --status completed,compensated --dry-run
manage.py sagaops_prune --archive /var/lib/sagaops/archive   # JSON lines before deleting
"""

from django.core.management.base import BaseCommand, CommandError

from sagaops.retention import parse_duration, retention_prune


class Command(BaseCommand):
    help = "Delete finished sagas (and their steps and events) past their retention, in batches."

    def add_arguments(self, parser):
        parser.add_argument("--older-than", help="finished longer ago than this, e.g. 30d, 12h (default: settings)")
        parser.add_argument("--status", help="comma-separated final statuses (default: completed,compensated,resolved)")
        parser.add_argument("--dry-run", action="store_true", help="count what would be deleted, delete nothing")
        parser.add_argument("--batch", type=int, help="sagas per transaction (default: SAGAOPS_PRUNE_BATCH)")
        parser.add_argument("--max-seconds", type=float, help="stop after this long (default: no limit)")
        parser.add_argument("--archive", help="a directory: append the pruned sagas there as JSON lines first")

    def handle(self, *args, older_than, status, dry_run, batch, max_seconds, archive, **options):
        try:
            age = parse_duration(older_than) if older_than else None
        except ValueError as error:
            raise CommandError(f"--older-than: {error}") from None
        if older_than and age is None:
            raise CommandError("--older-than: give a duration such as 30d (off means never prune)")
        if batch is not None and batch < 1:
            raise CommandError("--batch: must be at least 1")
        statuses = [s.strip() for s in status.split(",") if s.strip()] if status else None
        try:
            report = retention_prune(
                older_than=age,
                statuses=statuses,
                dry_run=dry_run,
                batch=batch,
                max_seconds=max_seconds if max_seconds is not None else float("inf"),
                archive_dir=archive,
            )
        except ValueError as error:
            raise CommandError(f"--status: {error}") from None
        for line in report.lines():
            self.stdout.write(line)
