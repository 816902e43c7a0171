"""Narrowing the stuck page and the failure groups: by saga type, error type and (stuck page) the search box."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from sagaops.console.filters import FAILED, cached_error_types
from sagaops.console.search import search_q
from sagaops.definitions import registered_types
from sagaops.models import SagaStep


@dataclass(frozen=True)
class Narrowing:
    saga_type: str = ""
    error_type: str = ""
    q: str = ""

    @classmethod
    def from_params(cls, params) -> Narrowing:
        return cls(params.get("type", "").strip(), params.get("error_type", "").strip(), params.get("q", "").strip())

    @property
    def active(self) -> bool:
        return bool(self.saga_type or self.error_type or self.q)

    def as_q(self) -> Q | None:
        if not self.active:
            return None
        q = Q()
        if self.saga_type:
            q &= Q(type=self.saga_type)
        if self.error_type:
            failed = SagaStep.objects.filter(status__in=FAILED, last_error_type=self.error_type)
            q &= Q(pk__in=failed.values("saga_id"))
        if self.q:
            q &= search_q(self.q)
        return q

    def described(self) -> str:
        parts = [f"type {self.saga_type}"] * bool(self.saga_type)
        parts += [f"error type {self.error_type}"] * bool(self.error_type)
        parts += [f"search “{self.q}”"] * bool(self.q)
        return ", ".join(parts)


def choices() -> dict[str, list[str]]:
    return {"types": registered_types(), "error_types": cached_error_types()}
