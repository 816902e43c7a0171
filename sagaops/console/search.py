"""The saga list's search box: every kind of id an operator is paged with, each matched through an index.

- a full saga id, or the 8-character short id the console shows everywhere (any hex prefix of 4+
  characters): a range on the primary key, so a prefix costs one index range scan;
- a correlation id or an idempotency key (exact; both indexed);
- an order id (digits): the payload's `order_id` (expression index) and the correlation id `order:<id>`;
- any business key a definition declares in `search_keys` (customer, a charge id, ...): exact,
  through the GIN indexes on the start payload and on the keys step results brought (`Saga.search`).
"""

from __future__ import annotations

import re
import uuid

from django.db.models import Q

from sagaops.definitions import search_keys

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
    q = Q(correlation_id=term) | Q(idempotency_key=term)
    by_id = id_prefix_q(term)
    if by_id is not None:
        q |= by_id
    digits = term.isascii() and term.isdigit()  # "²".isdigit() is true too, and int() refuses it
    if digits:
        q |= Q(context__payload__order_id=int(term)) | Q(correlation_id=f"order:{term}")
    for key in search_keys():
        if key == "order_id":
            continue  # matched above, through its own expression index
        q |= Q(context__payload__contains={key: term}) | Q(search__contains={key: term})
        if digits:
            q |= Q(context__payload__contains={key: int(term)}) | Q(search__contains={key: int(term)})
    return q
