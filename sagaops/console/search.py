"""The saga list's search box: every kind of id an operator is paged with, each matched through an index.

- a full saga id, or the 8-character short id the console shows everywhere (any hex prefix of 4+
  characters): a range on the primary key, so a prefix costs one index range scan;
- an idempotency key (exact; its unique index);
- a correlation id, an order id (digits: the payload's `order_id` and the correlation id
  `order:<id>`) and any business key a definition declares in `search_keys` (customer, a charge
  id, ...): exact, through the one GIN index on the saga's search document (`sagaops.search_keys`).
"""

from __future__ import annotations

import re
import uuid

from django.db.models import Q

from sagaops.definitions import search_keys
from sagaops.search_keys import keys_contain

HEX_PREFIX = re.compile(r"^[0-9a-f]{4,32}$")


def id_prefix_q(term: str) -> Q | None:
    digits = term.lower().replace("-", "")
    if not HEX_PREFIX.match(digits):
        return None
    if len(digits) == 32:
        return Q(pk=uuid.UUID(digits))
    low = uuid.UUID(digits.ljust(32, "0"))
    high = uuid.UUID(digits.ljust(32, "f"))
    return Q(pk__gte=low, pk__lte=high)


def search_q(term: str) -> Q | None:
    """What the search term matches, or None for an empty term."""
    term = term.strip()
    if not term:
        return None
    if "\x00" in term:
        return Q(pk__in=[])  # nothing holds NUL, and PostgreSQL cannot compare with it
    q = Q(idempotency_key=term) | Q(keys_contain(correlation_id=term))
    by_id = id_prefix_q(term)
    if by_id is not None:
        q |= by_id
    digits = term.isascii() and term.isdigit()  # "²".isdigit() is true too, and int() refuses it
    if digits:
        q |= Q(keys_contain(order_id=int(term))) | Q(keys_contain(correlation_id=f"order:{term}"))
    for key in search_keys():
        q |= Q(keys_contain(**{key: term}))
        if digits and key != "order_id":
            q |= Q(keys_contain(**{key: int(term)}))
    return q
