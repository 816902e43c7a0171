"""The writes the API owns: service accounts, their tokens, failure reports."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from rest_framework.authtoken.models import Token

from sagaops.models import FailureReport, ServiceAccount

SERVICE_USER_PREFIX = "service:"


@transaction.atomic
def service_account_create(
    *, name: str, saga_types: list[str] = (), steps: list[str] = ()
) -> tuple[ServiceAccount, str]:
    """Create (or update the limits of) a service account; returns it and its token."""
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(username=f"{SERVICE_USER_PREFIX}{name}")
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    account, _ = ServiceAccount.objects.update_or_create(
        name=name, defaults={"user": user, "saga_types": sorted(set(saga_types)), "steps": sorted(set(steps))}
    )
    token, _ = Token.objects.get_or_create(user=user)
    return account, token.key


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
