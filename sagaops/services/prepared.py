"""The engine's hot statements, prepared: planned once per connection, not once per saga.

Every saga sends the same few statements (its start, its load, its claims and checkpoints), each
a primary-key lookup or write whose text is fixed, so a generic plan serves every saga. With
the connection binding parameters on the server (`OPTIONS["server_side_binding"]`, which the
project's `SAGAOPS_DB_PREPARE` turns on) they run as psycopg prepared statements; PostgreSQL's
CPU per saga falls by about 40 % (docs/PERFORMANCE.md). Only these: the console's and the API's
ORM queries stay unprepared, planned with their own values each time, because a generic plan
for a filter over skewed data (one error type among a million sagas) can take seconds.
"""

from __future__ import annotations


def execute_prepared(cursor, sql: str, params) -> None:
    """`cursor.execute(sql, params)` on a Django cursor, as a prepared statement when the
    connection binds on the server (with client-side binding, Django's default, as it is)."""
    if not cursor.db.settings_dict.get("OPTIONS", {}).get("server_side_binding"):
        cursor.execute(sql, params)
        return
    psycopg_connection = cursor.cursor.connection
    threshold = psycopg_connection.prepare_threshold
    psycopg_connection.prepare_threshold = 0  # prepare it on its first run; later runs reuse it
    try:
        cursor.execute(sql, params)
    finally:
        psycopg_connection.prepare_threshold = threshold
