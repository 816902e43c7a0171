"""In-process counters for the benchmark's sample: SQL queries, commits, Redis commands.

`Probe` wraps, while it is active: the database connection (CaptureQueriesContext for the
queries, its `commit` for explicit commits, an execute wrapper for writes made in autocommit,
each of which is a commit of its own) and redis-py's client and pipeline (every command sent,
by Redis database, and every round trip).
"""

from __future__ import annotations

from collections import Counter
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

import redis
from django.db import DEFAULT_DB_ALIAS, connections
from django.test.utils import CaptureQueriesContext
from redis.client import Pipeline

_MISSING = object()
# A write outside a transaction commits on its own (a WITH may write: counted, to be safe).
_WRITES = ("insert", "update", "delete", "with")
# What Django records for transaction control (psycopg sends BEGIN as a round trip of its own).
_TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK"}


@contextmanager
def patched(owner, name: str, replacement):
    """Set `owner.name` to `replacement` for the block, then put back what was there."""
    original = owner.__dict__.get(name, _MISSING)
    setattr(owner, name, replacement)
    try:
        yield
    finally:
        if original is _MISSING:
            delattr(owner, name)
        else:
            setattr(owner, name, original)


@dataclass
class Counts:
    queries: int = 0  # SQL statements, transaction control (BEGIN, COMMIT) left out
    db_round_trips: int = 0  # everything sent to PostgreSQL, BEGIN and COMMIT included
    commits: int = 0
    redis_commands: Counter = field(default_factory=Counter)  # Redis db -> commands
    redis_round_trips: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.queries + other.queries,
            self.db_round_trips + other.db_round_trips,
            self.commits + other.commits,
            self.redis_commands + other.redis_commands,
            self.redis_round_trips + other.redis_round_trips,
        )

    def __sub__(self, other: Counts) -> Counts:
        return Counts(
            self.queries - other.queries,
            self.db_round_trips - other.db_round_trips,
            self.commits - other.commits,
            self.redis_commands - other.redis_commands,
            self.redis_round_trips - other.redis_round_trips,
        )


class Probe:
    """Counts what this process sends to PostgreSQL and Redis while it is entered."""

    def __init__(self) -> None:
        self._commits = 0
        self._redis = Counter()
        self._round_trips = 0
        self._stack = ExitStack()
        self._captured: CaptureQueriesContext | None = None

    def snapshot(self) -> Counts:
        sent = [q["sql"] for q in self._captured.captured_queries] if self._captured else []
        statements = sum(1 for sql in sent if sql not in _TRANSACTION_CONTROL)
        return Counts(statements, len(sent), self._commits, Counter(self._redis), self._round_trips)

    def __enter__(self) -> Probe:
        conn = connections[DEFAULT_DB_ALIAS]
        self._captured = self._stack.enter_context(CaptureQueriesContext(conn))
        self._stack.enter_context(conn.execute_wrapper(self._autocommit_writes))
        self._stack.enter_context(patched(conn, "commit", self._counting_commit(conn.commit)))
        self._patch_redis()
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()

    def _counting_commit(self, commit):
        def wrapper():
            self._commits += 1
            return commit()

        return wrapper

    def _autocommit_writes(self, execute, sql, params, many, context):
        conn = context["connection"]
        if not conn.in_atomic_block and sql.lstrip().split(None, 1)[0].lower() in _WRITES:
            self._commits += 1
        return execute(sql, params, many, context)

    def _count_redis(self, client, commands: int) -> None:
        db = client.connection_pool.connection_kwargs.get("db", 0)
        self._redis[int(db)] += commands
        self._round_trips += 1

    def _patch_redis(self) -> None:
        probe = self
        execute_command = redis.Redis.execute_command
        immediate = Pipeline.immediate_execute_command
        execute = Pipeline.execute

        def counted_command(client, *args, **options):
            probe._count_redis(client, 1)
            return execute_command(client, *args, **options)

        def counted_immediate(pipe, *args, **options):
            probe._count_redis(pipe, 1)
            return immediate(pipe, *args, **options)

        def counted_execute(pipe, *args, **options):
            if pipe.command_stack:
                probe._count_redis(pipe, len(pipe.command_stack))
            return execute(pipe, *args, **options)

        self._stack.enter_context(patched(redis.Redis, "execute_command", counted_command))
        self._stack.enter_context(patched(Pipeline, "immediate_execute_command", counted_immediate))
        self._stack.enter_context(patched(Pipeline, "execute", counted_execute))
