"""Create a service account (or change its limits) and print its API token."""

from django.core.management.base import BaseCommand, CommandError

from sagaops.api.services import PARTICIPANT_PERMISSIONS, service_account_create, token_issue, token_revoke
from sagaops.definitions import registered_types
from sagaops.models import ServiceAccount


class Command(BaseCommand):
    help = "Create a service account and print its token: sagaops_service NAME [--types T ...] [--steps TYPE:STEP ...]"

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--types", nargs="*", default=[], help="saga types it may start (default: any)")
        parser.add_argument(
            "--steps", nargs="*", default=[], help="TYPE:STEP (or TYPE:*) callbacks it may deliver (default: any)"
        )
        parser.add_argument(
            "--participant",
            nargs="*",
            default=[],
            choices=sorted(PARTICIPANT_PERMISSIONS),
            help="services whose operations it may call over HTTP (the checkout's remote steps do)",
        )
        parser.add_argument("--rotate", action="store_true", help="replace its token with a new one")
        parser.add_argument("--revoke", action="store_true", help="delete its token: it can no longer call the API")

    def handle(self, *args, name, types, steps, participant, rotate, revoke, **options):
        unknown = [t for t in types if t not in registered_types()]
        if unknown:
            raise CommandError(f"unknown saga type(s): {', '.join(unknown)}; known: {', '.join(registered_types())}")
        if any(":" not in s for s in steps):
            raise CommandError("--steps takes TYPE:STEP entries, e.g. order.checkout:charge_payment")
        if revoke:
            account = ServiceAccount.objects.filter(name=name).select_related("user").first()
            if account is None:
                raise CommandError(f"no service account {name!r}")
            token_revoke(user=account.user)
            self.stderr.write(f"revoked the token of service {name}")
            return
        account, token = service_account_create(name=name, saga_types=types, steps=steps, participant=participant)
        if rotate:
            token = token_issue(user=account.user, rotate=True)
        self.stderr.write(
            f"service {account.name}: types {account.saga_types or 'any'}, steps {account.steps or 'any'}, "
            f"participant operations {', '.join(participant) or 'none'}"
        )
        self.stdout.write(token)
