"""Print (create, rotate or revoke) the API token of an existing user, e.g. an operator."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from sagaops.api.services import token_issue, token_revoke


class Command(BaseCommand):
    help = "Print the API token of USERNAME (created if missing); --rotate replaces it, --revoke deletes it"

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--rotate", action="store_true")
        parser.add_argument("--revoke", action="store_true")

    def handle(self, *args, username, rotate, revoke, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}")
        if revoke:
            revoked = token_revoke(user=user)
            self.stderr.write(f"revoked the token of {username}" if revoked else f"{username} had no token")
            return
        self.stdout.write(token_issue(user=user, rotate=rotate))
