"""A savepoint kept until the transaction ends: `transaction.atomic()` inside a transaction, less
its RELEASE on success.

A run of local steps gives each step a savepoint, so that a failing step rolls back its own
action and checkpoint and the steps before it stay. `atomic()` sends two statements per step
(SAVEPOINT, RELEASE SAVEPOINT), each a round trip; here a step that succeeds sends only the
first. PostgreSQL releases every savepoint at commit, and releasing one earlier frees nothing a
run needs (a released subtransaction's id stays with the transaction). On an exception it does
what `atomic()` does: roll back to the savepoint, drop the on-commit callbacks registered since,
and, if even that fails, leave the transaction marked for rollback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import Error, transaction


@contextmanager
def kept_savepoint() -> Iterator[None]:
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise transaction.TransactionManagementError("kept_savepoint() runs inside a transaction")
    sid = connection.savepoint()
    connection.savepoint_ids.append(sid)  # on-commit callbacks registered inside belong to it
    try:
        yield
    except BaseException:
        connection.savepoint_ids.pop()
        _roll_back_to(connection, sid)
        raise
    connection.savepoint_ids.pop()
    if connection.needs_rollback:  # an inner block asked for it without raising through here
        _roll_back_to(connection, sid)


def _roll_back_to(connection, sid: str) -> None:
    connection.needs_rollback = False
    try:
        connection.savepoint_rollback(sid)
    except Error:
        connection.needs_rollback = True
