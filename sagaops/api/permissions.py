"""Who may do what: operators by Django permission, services within their account's limits."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from sagaops.api.errors import Forbidden
from sagaops.models import ServiceAccount


def service_account(user) -> ServiceAccount | None:
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.sagaops_service
    except ServiceAccount.DoesNotExist:
        return None


def _require_perm(user, perm: str, what: str) -> None:
    if not user.has_perm(perm):
        raise Forbidden(f"you need the {perm} permission to {what}")


def require_may_start(user, saga_type: str) -> None:
    account = service_account(user)
    if account is None:
        _require_perm(user, "sagaops.add_saga", "start sagas")
    elif not account.may_start(saga_type):
        raise Forbidden(f"service {account.name} may not start {saga_type} sagas")


def require_may_call_back(user, saga_type: str, step: str) -> None:
    account = service_account(user)
    if account is None:
        _require_perm(user, "sagaops.change_sagastep", "deliver step callbacks")
    elif not account.may_call_back(saga_type, step):
        raise Forbidden(f"service {account.name} does not own step {step} of {saga_type} sagas")


def require_service_name(user, name: str) -> None:
    account = service_account(user)
    if account is None:
        _require_perm(user, "sagaops.add_failurereport", "report failures")
    elif account.name != name:
        raise Forbidden(f"service {account.name} may not report for service {name}")


class HasDjangoPermission(BasePermission):
    """The view names the Django permission it needs (`required_permission`, "app.codename"):
    the participants' operations are for the services granted them (`sagaops_service --participant`)."""

    def has_permission(self, request, view) -> bool:
        if not request.user.has_perm(view.required_permission):
            self.message = f"you need the {view.required_permission} permission"
            return False
        return True


class HasSagaPermission(BasePermission):
    """The view names the Django permission its operator action needs (`saga_permission`)."""

    def has_permission(self, request, view) -> bool:
        codename = view.saga_permission
        if not request.user.has_perm(f"sagaops.{codename}"):
            self.message = f"you need the sagaops.{codename} permission"
            return False
        return True
