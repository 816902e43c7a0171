"""The writes the API owns: service accounts, their tokens, failure reports."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from django.db.models import QuerySet
from knox.models import AuthToken

from sagaops.models import FailureReport, ServiceAccount

SERVICE_USER_PREFIX = "service:"


# The participants' operations a service may be granted (`sagaops_service --participant`).
PARTICIPANT_PERMISSIONS = {
    "inventory": ["inventory.add_reservation", "inventory.change_reservation"],
    "payments": ["payments.add_payment", "payments.change_payment"],
}


@transaction.atomic
def service_account_create(
    *,
    name: str,
    saga_types: list[str] | None = None,
    steps: list[str] | None = None,
    participant: list[str] | None = None,
) -> tuple[ServiceAccount, str | None]:
    """Create a service account, or change the limits it is given; returns it and its new token.

    A limit left None keeps what the account has (nothing, for a new one), so re-running the
    command to rotate a token never widens or narrows what the service may do. `participant`
    names the services whose operations it may call (inventory, payments): the checkout's remote
    steps do, with its token. The token is returned only when one is issued (a new account).
    """
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(username=f"{SERVICE_USER_PREFIX}{name}")
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    account, _ = ServiceAccount.objects.get_or_create(name=name, defaults={"user": user})
    if saga_types is not None:
        account.saga_types = sorted(set(saga_types))
    if steps is not None:
        account.steps = sorted(set(steps))
    account.save(update_fields=["saga_types", "steps"])
    if participant is not None:
        user.user_permissions.set(_permissions(participant))
    token = token_issue(user=user) if created or not user_tokens(user).exists() else None
    return account, token


def participant_grants(account: ServiceAccount) -> list[str]:
    """The participants whose operations the account may call, from its permissions."""
    perms = account.user.get_all_permissions()
    return sorted(name for name, wanted in PARTICIPANT_PERMISSIONS.items() if set(wanted) <= perms)


def _permissions(participant: list[str]) -> list[Permission]:
    unknown = set(participant) - set(PARTICIPANT_PERMISSIONS)
    if unknown:
        choices = ", ".join(PARTICIPANT_PERMISSIONS)
        raise ValueError(f"unknown participant {sorted(unknown)[0]!r}: choose from {choices}")
    wanted = [perm for name in participant for perm in PARTICIPANT_PERMISSIONS[name]]
    return [
        Permission.objects.get(content_type__app_label=app, codename=codename)
        for app, codename in (perm.split(".") for perm in wanted)
    ]


def user_tokens(user) -> QuerySet[AuthToken]:
    return AuthToken.objects.filter(user=user)


@transaction.atomic
def token_issue(*, user, rotate: bool = False, expires_in: timedelta | None = None) -> str:
    """A new API token for the user; only its hash is stored, so this is the one time it is seen.

    rotate: the user's other tokens stop working. expires_in: the token is refused after that long
    (None: it lasts until revoked).
    """
    if rotate:
        user_tokens(user).delete()
    _, token = AuthToken.objects.create(user=user, expiry=expires_in)
    return token


def token_revoke(*, user) -> int:
    """Revoke every token of the user; returns how many there were."""
    deleted, _ = user_tokens(user).delete()
    return deleted


def failure_report_create(*, service: str, code: str, correlation_id: str, detail: dict, user) -> FailureReport:
    return FailureReport.objects.create(
        service=service,
        code=code,
        correlation_id=correlation_id,
        detail=detail,
        reported_by=user if getattr(user, "is_authenticated", False) else None,
    )
