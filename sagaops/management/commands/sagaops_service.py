"""Create a service account (or change its limits) and print its API token once."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from sagaops.api.services import (
    PARTICIPANT_PERMISSIONS,
    participant_grants,
    service_account_create,
    token_issue,
    token_revoke,
)
from sagaops.definitions import registered_types
from sagaops.models import ServiceAccount


class Command(BaseCommand):
    help = (
        "Create a service account and print its token: sagaops_service NAME [--types T ...] "
        "[--steps TYPE:STEP ...] [--participant inventory payments] [--rotate] [--revoke] [--expires-days N]. "
        "Limits change only with their flag; a flag given with no values clears that limit."
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        # default None = keep what the account has; an empty list = clear it.
        parser.add_argument("--types", nargs="*", default=None, help="saga types it may start (none given: any)")
        parser.add_argument(
            "--steps",
            nargs="*",
            default=None,
            help="TYPE:STEP (or TYPE:*) callbacks it may deliver for sagas it did not start itself",
        )
        parser.add_argument(
            "--participant",
            nargs="*",
            default=None,
            choices=sorted(PARTICIPANT_PERMISSIONS),
            help="services whose operations it may call over HTTP (the checkout's remote steps do)",
        )
        parser.add_argument("--rotate", action="store_true", help="replace its token with a new one")
        parser.add_argument("--revoke", action="store_true", help="delete its token: it can no longer call the API")
        parser.add_argument("--expires-days", type=float, default=None, help="a new token stops working after N days")

    def handle(self, *args, name, types, steps, participant, rotate, revoke, expires_days, **options):
        self._check(types or [], steps or [], expires_days)
        if revoke:
            self._revoke(name)
            return
        account, token = service_account_create(name=name, saga_types=types, steps=steps, participant=participant)
        expires_in = timedelta(days=expires_days) if expires_days else None
        if rotate or expires_in is not None:
            token = token_issue(user=account.user, rotate=True, expires_in=expires_in)
        self.stderr.write(
            f"service {account.name}: may start {', '.join(account.saga_types) or 'any type'}; "
            f"may call back its own sagas{' and ' + ', '.join(account.steps) if account.steps else ''}; "
            f"participant operations {', '.join(participant_grants(account)) or 'none'}"
        )
        if token is None:
            self.stderr.write("its token is unchanged (it is shown only when issued; --rotate issues a new one)")
            return
        self.stdout.write(token)

    def _check(self, types: list[str], steps: list[str], expires_days: float | None) -> None:
        unknown = [t for t in types if t not in registered_types()]
        if unknown:
            raise CommandError(f"unknown saga type(s): {', '.join(unknown)}; known: {', '.join(registered_types())}")
        if any(":" not in s for s in steps):
            raise CommandError("--steps takes TYPE:STEP entries, e.g. order.checkout:charge_payment")
        if expires_days is not None and not 0 < expires_days <= 3650:
            raise CommandError("--expires-days takes a number of days from 0 to 3650")

    def _revoke(self, name: str) -> None:
        account = ServiceAccount.objects.filter(name=name).select_related("user").first()
        if account is None:
            raise CommandError(f"no service account {name!r}")
        token_revoke(user=account.user)
        self.stderr.write(f"revoked the token of service {name}")
