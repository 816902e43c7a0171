"""Issue (rotate or revoke) an API token of an existing user, e.g. an operator."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from sagaops.api.services import token_issue, token_revoke


class Command(BaseCommand):
    help = (
        "Print a new API token of USERNAME (shown once: only its hash is kept); --rotate also revokes "
        "the user's other tokens, --revoke deletes them all, --expires-days N limits its life"
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--rotate", action="store_true")
        parser.add_argument("--revoke", action="store_true")
        parser.add_argument("--expires-days", type=float, default=None)

    def handle(self, *args, username, rotate, revoke, expires_days, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}")
        if revoke:
            revoked = token_revoke(user=user)
            self.stderr.write(f"revoked {revoked} token(s) of {username}")
            return
        if expires_days is not None and not 0 < expires_days <= 3650:
            raise CommandError("--expires-days takes a number of days from 0 to 3650")
        expires_in = timedelta(days=expires_days) if expires_days else None
        self.stdout.write(token_issue(user=user, rotate=rotate, expires_in=expires_in))
