"""Who may do what: operators by Django permission, services within their account's limits.

Ownership: a saga belongs to the principal that started it (`Saga.started_by`). A service reads
and calls back only its own sagas, plus the steps it is explicitly granted (`--steps`); a saga it
may not touch answers 404, the same as a saga that does not exist, so ids leak nothing. Operators
with `sagaops.view_saga` read everything; a person with no permission is refused with 403.
"""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission

from sagaops.api.errors import Forbidden
from sagaops.models import Saga, ServiceAccount

VIEW_ALL_PERMISSION = "sagaops.view_saga"
START_PERMISSION = "sagaops.add_saga"
CALL_BACK_PERMISSION = "sagaops.change_sagastep"
REPORT_PERMISSION = "sagaops.add_failurereport"


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


def saga_not_found(saga_id) -> NotFound:
    return NotFound(f"no saga {saga_id}")


def readable_sagas(user) -> QuerySet[Saga]:
    """The sagas `user` may read: all of them for an operator, else the ones it started."""
    if user.has_perm(VIEW_ALL_PERMISSION):
        return Saga.objects.all()
    if service_account(user) is None and not user.has_perm(START_PERMISSION):
        raise Forbidden(f"you need the {VIEW_ALL_PERMISSION} permission to read sagas")
    return Saga.objects.filter(started_by=user)


def require_may_read(user, saga_id) -> None:
    if not readable_sagas(user).filter(pk=saga_id).exists():
        raise saga_not_found(saga_id)


def require_may_start(user, saga_type: str) -> None:
    account = service_account(user)
    if account is None:
        _require_perm(user, START_PERMISSION, "start sagas")
    elif not account.may_start(saga_type):
        raise Forbidden(f"service {account.name} may not start {saga_type} sagas")


def require_may_call_back(user, saga: Saga, step: str) -> None:
    """The saga's owner, a service granted the step, or a person with the callback permission."""
    if saga.started_by_id == user.pk:
        return
    account = service_account(user)
    if account is None:
        _require_perm(user, CALL_BACK_PERMISSION, "deliver step callbacks")
    elif not account.is_granted(saga.type, step):
        raise saga_not_found(saga.pk)


def require_may_report(user, name: str, saga: Saga | None) -> None:
    """A service reports as itself, and only on a saga it started or whose type it is granted."""
    account = service_account(user)
    if account is None:
        _require_perm(user, REPORT_PERMISSION, "report failures")
        return
    if account.name != name:
        raise Forbidden(f"service {account.name} may not report for service {name}")
    if saga is not None and saga.started_by_id != user.pk and not account.is_granted_type(saga.type):
        raise Forbidden(f"service {account.name} may not report failures of saga {saga.pk}")


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
