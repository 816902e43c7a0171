"""Size caps on what a transition writes, so a pathological error cannot bloat a row.

A traceback keeps its tail (the innermost frames and the exception are at the end); an event's
detail that serialises to more than the cap is replaced by a marker with a preview.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from sagaops.conf import conf

TRUNCATED = "[truncated] "


def bounded_traceback(text: str) -> str:
    cap = conf.SAGAOPS_TRACEBACK_MAX
    if len(text) <= cap:
        return text
    return TRUNCATED + text[-(cap - len(TRUNCATED)) :]


def bounded_detail(detail: dict[str, Any]) -> dict[str, Any]:
    cap = conf.SAGAOPS_EVENT_DETAIL_MAX
    encoded = json.dumps(detail, cls=DjangoJSONEncoder, separators=(",", ":"))
    if len(encoded) <= cap:
        return detail
    return {"truncated": True, "bytes": len(encoded), "preview": encoded[: cap // 2]}
