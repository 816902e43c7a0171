"""Replays for the `Idempotency-Key` header on operator actions: a double submit gets the first answer.

The first answer is kept in Redis for a day, keyed by the user, the action and the key; a key
reused with a different body is refused with 409. Refusals are not kept: a retry is re-judged.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable

import redis
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from sagaops import keys
from sagaops.api.errors import error_body
from sagaops.redis import get_redis

log = logging.getLogger(__name__)

KEEP_SECONDS = 24 * 3600
CLAIM_SECONDS = 60
# The stored key is "<principal id>:<key>" in a 200-character column.
MAX_KEY_LENGTH = 160


def idempotency_key(request) -> str | None:
    key = request.headers.get("Idempotency-Key", "").strip() or None
    if key is not None and len(key) > MAX_KEY_LENGTH:
        raise ValidationError({"Idempotency-Key": [f"at most {MAX_KEY_LENGTH} characters"]})
    return key


def scoped_idempotency_key(request) -> str | None:
    """The client's key in the caller's own key space: another service replaying (or squatting)
    the same key neither sees nor blocks this caller's saga."""
    key = idempotency_key(request)
    return None if key is None else f"{request.user.pk}:{key}"


def replayable(request, scope: str, handler: Callable[[], Response]) -> Response:
    key = idempotency_key(request)
    if key is None:
        return handler()
    digest = hashlib.sha256(json.dumps(request.data, sort_keys=True, default=str).encode()).hexdigest()
    redis_key = keys.idempotency_key(request.user.pk, scope, hashlib.sha256(key.encode()).hexdigest())
    client = get_redis()
    try:
        claimed = client.set(redis_key, json.dumps({"hash": digest}), nx=True, ex=CLAIM_SECONDS)
    except redis.RedisError:
        # No replay store: act anyway; the version fence still stops a double submission.
        log.warning("Redis unavailable: Idempotency-Key %s not recorded", key)
        return handler()
    if not claimed:
        kept = json.loads(client.get(redis_key) or "{}")
        if kept.get("hash") not in (None, digest):
            return Response(error_body("this Idempotency-Key was used with a different request"), status=409)
        if "status" not in kept:
            return Response(error_body("a request with this Idempotency-Key is still in progress"), status=409)
        return Response(kept["body"], status=kept["status"])
    try:
        response = handler()
    except BaseException:
        client.delete(redis_key)
        raise
    try:
        kept = {"hash": digest, "status": response.status_code, "body": response.data}
        client.set(redis_key, json.dumps(kept, default=str), ex=KEEP_SECONDS)
    except redis.RedisError:
        log.warning("Redis unavailable: the answer to Idempotency-Key %s was not kept for replay", key)
    return response
