"""The writes the API owns: service accounts, their tokens, failure reports."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from rest_framework.authtoken.models import Token

from sagaops.models import FailureReport, ServiceAccount

SERVICE_USER_PREFIX = "service:"


# The participants' operations a service may be granted (`sagaops_service --participant`).
PARTICIPANT_PERMISSIONS = {
    "inventory": ["inventory.add_reservation", "inventory.change_reservation"],
    "payments": ["payments.add_payment", "payments.change_payment"],
}


@transaction.atomic
def service_account_create(
    *, name: str, saga_types: list[str] = (), steps: list[str] = (), participant: list[str] = ()
) -> tuple[ServiceAccount, str]:
    """Create (or update the limits of) a service account; returns it and its token.

    `participant` names the services whose operations it may call (inventory, payments): the
    checkout's remote steps do, with its token.
    """
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(username=f"{SERVICE_USER_PREFIX}{name}")
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    account, _ = ServiceAccount.objects.update_or_create(
        name=name, defaults={"user": user, "saga_types": sorted(set(saga_types)), "steps": sorted(set(steps))}
    )
    user.user_permissions.set(_permissions(participant))
    token, _ = Token.objects.get_or_create(user=user)
    return account, token.key


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


@transaction.atomic
def token_issue(*, user, rotate: bool = False) -> str:
    """The user's API token (a new one with rotate: the old one stops working)."""
    if rotate:
        Token.objects.filter(user=user).delete()
    token, _ = Token.objects.get_or_create(user=user)
    return token.key


def token_revoke(*, user) -> bool:
    deleted, _ = Token.objects.filter(user=user).delete()
    return bool(deleted)


def failure_report_create(*, service: str, code: str, correlation_id: str, detail: dict, user) -> FailureReport:
    return FailureReport.objects.create(
        service=service,
        code=code,
        correlation_id=correlation_id,
        detail=detail,
        reported_by=user if getattr(user, "is_authenticated", False) else None,
    )
