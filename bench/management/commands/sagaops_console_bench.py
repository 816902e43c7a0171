"""Seed a million sagas (with their steps and events) and time the console's pages.

    manage.py sagaops_console_bench                 # separate database "sagaops_console_bench" (created)
    manage.py sagaops_console_bench --sagas 200000  # smaller
    manage.py sagaops_console_bench --in-place      # the configured database (adds bench rows to it!)

Seeding is one INSERT ... SELECT generate_series per table. Seeded rows carry the correlation
id "bench:<n>"; a second run reuses them unless --reseed. Each page is requested in-process with
Django's test client (server time: middleware, queries, rendering; no network), once to warm up
and then --repeat times; the median and the worst are reported.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import psycopg
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from sagaops.definitions import get_definition, registered_types
from sagaops.models import Saga

TARGET_MS = 300
BENCH_USER = "bench-operator"

SEED_SAGAS = """
INSERT INTO sagaops_saga (id, type, definition_version, status, current_step, context, idempotency_key,
    request_hash, correlation_id, version, created_at, updated_at, finished_at, deadline, wake_at,
    last_error, attention_reason, attention_code, search, parent_step)
SELECT md5('bench-saga-' || g)::uuid, %(type)s, %(version)s, status, cur,
       jsonb_build_object('payload', jsonb_build_object('order_id', g, 'customer', 'customer-' || (g %% 5000),
                                                        'total', ((g %% 200) + 1)::text || '.00')),
       'bench-idem-' || g, '', 'bench:' || g, 12, created, created + dur,
       CASE WHEN status IN ('completed', 'compensated', 'resolved') THEN created + dur END,
       created + interval '10 minutes',
       CASE WHEN status IN ('running', 'pending') THEN now() + interval '30 seconds' END,
       CASE status WHEN 'compensated' THEN 'card declined' WHEN 'stuck' THEN err WHEN 'resolved' THEN err ELSE '' END,
       CASE status WHEN 'stuck' THEN 'step failed after 5 attempt(s): ' || err ELSE '' END,
       CASE status WHEN 'stuck' THEN 'retries_exhausted' ELSE '' END,
       '{}'::jsonb, ''
FROM (
    SELECT g, created, dur, err,
           CASE WHEN status = 'stuck' AND g %% 3 = 0 THEN 1 WHEN status = 'compensated' THEN 2
                WHEN status IN ('running', 'pending') THEN 2 ELSE %(last)s END AS cur,
           status
    FROM (
        SELECT g,
               now() - (%(n)s - g) * (interval '30 days' / %(n)s) AS created,
               interval '1 millisecond' * (400 + (g * 7907) %% 4000) AS dur,
               (ARRAY['SMTP server disconnected', 'step timed out after 10s', 'connection refused'])[1 + g %% 3] AS err,
               CASE WHEN g > %(n)s - 40 THEN (ARRAY['running', 'pending'])[1 + g %% 2]
                    WHEN (g * 7919) %% 1000 < 920 THEN 'completed'
                    WHEN (g * 7919) %% 1000 < 975 THEN 'compensated'
                    WHEN (g * 7919) %% 1000 < 980 THEN 'stuck'
                    WHEN (g * 7919) %% 1000 < 983 THEN 'resolved'
                    ELSE 'completed' END AS status
        FROM generate_series(1::bigint, %(n)s::bigint) AS g
    ) raw
) src
"""

# Step status from the saga's status and the step's index (stuck: every third saga is stuck in
# its compensation at step 1, the others past the pivot at the last step).
SEED_STEPS = """
INSERT INTO sagaops_sagastep (saga_id, index, name, status, attempts, compensation_attempts, outcome_unknown,
    result, last_error, last_error_type, last_traceback, started_at, finished_at, hold_passes)
SELECT s.id, i, (%(names)s::text[])[i + 1], st,
       CASE WHEN st = 'pending' THEN 0 WHEN st = 'failed' THEN 5 ELSE 1 END,
       CASE WHEN st = 'compensation_failed' THEN 5 WHEN st = 'compensated' THEN 1 ELSE 0 END,
       false,
       CASE WHEN st = 'succeeded' THEN jsonb_build_object('ok', true) END,
       CASE WHEN st IN ('failed', 'compensation_failed') THEN s.last_error ELSE '' END,
       CASE WHEN st IN ('failed', 'compensation_failed')
            THEN (ARRAY['smtplib.SMTPServerDisconnected', 'sagaops.exceptions.StepTimeout',
                        'requests.exceptions.ConnectionError'])[1 + (ascii(right(s.correlation_id, 1)) %% 3)]
            ELSE '' END,
       CASE WHEN st IN ('failed', 'compensation_failed')
            THEN 'Traceback (most recent call last):' || chr(10) || '  ...' || chr(10) || s.last_error ELSE '' END,
       CASE WHEN st <> 'pending' THEN s.created_at + i * interval '50 milliseconds' END,
       CASE WHEN st NOT IN ('pending', 'running') THEN s.created_at + (i + 1) * interval '50 milliseconds' END,
       '[]'::jsonb
FROM (
    SELECT s.*, i,
           CASE
             WHEN s.status = 'completed' THEN 'succeeded'
             WHEN s.status = 'compensated' THEN CASE WHEN i < 2 THEN 'compensated' WHEN i = 2 THEN 'failed'
                                                     ELSE 'pending' END
             WHEN s.status IN ('stuck', 'resolved') AND s.current_step = 1 THEN
                  CASE WHEN i = 0 THEN 'succeeded' WHEN i = 1 THEN 'compensation_failed' WHEN i = 2 THEN 'failed'
                       ELSE 'pending' END
             WHEN s.status IN ('stuck', 'resolved') THEN CASE WHEN i = %(last)s THEN 'failed' ELSE 'succeeded' END
             ELSE CASE WHEN i < 2 THEN 'succeeded' WHEN i = 2 THEN 'running' ELSE 'pending' END
           END AS st
    FROM sagaops_saga s CROSS JOIN generate_series(0, %(last)s) AS i
    WHERE s.correlation_id LIKE 'bench:%%'
) s
"""

SEED_EVENTS = """
INSERT INTO sagaops_sagaevent (saga_id, at, kind, step, detail, actor_type, actor, reason, version)
SELECT s.id, s.created_at + k * interval '60 milliseconds',
       CASE WHEN k = 0 THEN 'saga_started'
            WHEN k <= 3 THEN 'step_succeeded'
            ELSE CASE s.status WHEN 'completed' THEN 'saga_completed' WHEN 'compensated' THEN 'saga_compensated'
                               WHEN 'stuck' THEN 'saga_stuck' WHEN 'resolved' THEN 'operator_resolve'
                               ELSE 'step_started' END END,
       CASE WHEN k BETWEEN 1 AND 3 THEN (%(names)s::text[])[k] ELSE '' END,
       CASE WHEN k BETWEEN 1 AND 3 THEN '{"attempt": 1}'::jsonb ELSE '{}'::jsonb END,
       CASE WHEN k = 4 AND s.status = 'resolved' THEN 'operator' ELSE 'system' END,
       CASE WHEN k = 4 AND s.status = 'resolved' THEN 'ops-oncall' ELSE '' END,
       CASE WHEN k = 4 AND s.status = 'resolved' THEN 'settled with the customer by phone' ELSE '' END,
       k + 1
FROM sagaops_saga s CROSS JOIN generate_series(0, 4) AS k
WHERE s.correlation_id LIKE 'bench:%%'
"""


class Command(BaseCommand):
    help = "Seed 1,000,000 sagas with steps and events and time the console's pages (target < 300 ms each)."

    def add_arguments(self, parser):
        parser.add_argument("--sagas", type=int, default=1_000_000)
        parser.add_argument("--database", default="sagaops_console_bench", help="Separate database to seed (created).")
        parser.add_argument(
            "--in-place",
            action="store_true",
            help="Seed and measure the configured database itself (adds the bench rows to it).",
        )
        parser.add_argument("--reseed", action="store_true", help="Delete the bench rows and seed again.")
        parser.add_argument("--repeat", type=int, default=5)
        parser.add_argument(
            "--fast-load",
            action="store_true",
            help="Drop the secondary indexes and skip FK triggers while seeding, then rebuild them "
            "(used for the separate database; needs a PostgreSQL superuser).",
        )

    def handle(self, *args, **options):
        if not options["in_place"]:
            return self.run_in_separate_database(options)
        self.seed(options["sagas"], reseed=options["reseed"], fast=options["fast_load"])
        self.measure(options["repeat"])

    # --- a separate database: create it, then run this command in it ---

    def run_in_separate_database(self, options) -> None:
        db = settings.DATABASES["default"]
        name = options["database"]
        if name == db["NAME"]:
            raise CommandError(f"{name} is the configured database: use --in-place to seed it on purpose")
        conninfo = {"host": db.get("HOST") or None, "port": db.get("PORT") or None, "user": db.get("USER") or None}
        conninfo["password"] = db.get("PASSWORD") or None
        with psycopg.connect(dbname="postgres", autocommit=True, **{k: v for k, v in conninfo.items() if v}) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
                self.stdout.write(f"created database {name}")
        url = f"postgres://{db.get('USER') or ''}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{name}"
        if db.get("PASSWORD"):
            url = url.replace("@", f":{db['PASSWORD']}@", 1)
        env = {**os.environ, "DATABASE_URL": url}
        manage = Path(settings.BASE_DIR) / "manage.py"
        settings_module = os.environ.get("DJANGO_SETTINGS_MODULE", "sagaops.settings")
        migrate = [sys.executable, manage, "migrate", "--noinput", "-v", "0", "--settings", settings_module]
        if subprocess.run(migrate, env=env).returncode:
            raise CommandError(f"could not migrate database {name}")
        cmd = [sys.executable, manage, "sagaops_console_bench", "--in-place", "--settings", settings_module]
        cmd += ["--sagas", str(options["sagas"]), "--repeat", str(options["repeat"]), "--fast-load"]
        if options["reseed"]:
            cmd.append("--reseed")
        if subprocess.run(cmd, env=env).returncode:
            raise CommandError(f"the benchmark in database {name} failed (see above)")

    # --- seeding ---

    def seed(self, n: int, *, reseed: bool, fast: bool = False) -> None:
        existing = Saga.objects.filter(correlation_id__startswith="bench:").count()
        if existing and not reseed:
            self.stdout.write(f"reusing {existing} bench sagas (--reseed to seed again)")
            return
        if existing:
            self.delete_bench_rows()
        definition = get_definition(
            "order.checkout" if "order.checkout" in registered_types() else registered_types()[0]
        )
        names = [s.name for s in definition.steps]
        params = {"n": n, "type": definition.name, "version": definition.version, "last": len(names) - 1}
        started = time.monotonic()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
            dropped = self.drop_indexes(cursor) if fast else []
            for label, sql in (("sagas", SEED_SAGAS), ("steps", SEED_STEPS), ("events", SEED_EVENTS)):
                t0 = time.monotonic()
                cursor.execute(sql, {**params, "names": names})
                self.stdout.write(f"  {label}: {cursor.rowcount} rows in {time.monotonic() - t0:.1f} s")
            t0 = time.monotonic()
            for definition_sql in dropped:
                cursor.execute(definition_sql)
            if dropped:
                self.stdout.write(f"  rebuilt {len(dropped)} indexes in {time.monotonic() - t0:.1f} s")
        with connection.cursor() as cursor:
            for table in ("sagaops_saga", "sagaops_sagastep", "sagaops_sagaevent"):
                cursor.execute(f"VACUUM ANALYZE {table}")
        self.stdout.write(f"seeded {n} sagas in {time.monotonic() - started:.1f} s (with VACUUM ANALYZE)")

    def drop_indexes(self, cursor) -> list[str]:
        """Secondary indexes are rebuilt once after the load, much faster than row by row."""
        cursor.execute("SET LOCAL session_replication_role = replica")  # no per-row FK triggers
        cursor.execute(
            """
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.tablename IN ('sagaops_saga', 'sagaops_sagastep', 'sagaops_sagaevent')
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
            """
        )
        rows = cursor.fetchall()
        for name, _ in rows:
            cursor.execute(f'DROP INDEX "{name}"')
        return [definition for _, definition in rows]

    def delete_bench_rows(self) -> None:
        bench = "SELECT id FROM sagaops_saga WHERE correlation_id LIKE 'bench:%%'"
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM sagaops_sagaevent WHERE saga_id IN ({bench})")
            cursor.execute(f"DELETE FROM sagaops_sagastep WHERE saga_id IN ({bench})")
            cursor.execute("DELETE FROM sagaops_saga WHERE correlation_id LIKE 'bench:%%'")
        self.stdout.write("deleted the previous bench rows")

    # --- measuring ---

    def measure(self, repeat: int) -> None:
        User = get_user_model()
        user = User.objects.filter(username=BENCH_USER).first() or User.objects.create_superuser(
            BENCH_USER, password=None
        )
        client = Client(SERVER_NAME="localhost")
        client.force_login(user)
        stuck = Saga.objects.filter(status="stuck", correlation_id__startswith="bench:").order_by("updated_at").first()
        order_id = Saga.objects.filter(correlation_id__startswith="bench:").count() // 2
        base = "/admin/sagaops/saga/"
        short = str(stuck.pk)[:8] if stuck else ""
        steps = get_definition(stuck.type).steps if stuck else []
        last_step = steps[-1].name if steps else ""
        now = timezone.now()
        span = f"started_from={(now - timedelta(days=12)):%Y-%m-%d}&started_to={(now - timedelta(days=10)):%Y-%m-%d}"
        pages = [
            ("stuck page", f"{base}stuck/"),
            (
                "stuck page, narrowed (type + error type)",
                f"{base}stuck/?type=order.checkout&error_type=smtplib.SMTPServerDisconnected",
            ),
            ("stuck page, narrowed (search customer)", f"{base}stuck/?q=customer-42"),
            ("list, first page", base),
            ("list, filtered (compensated, type)", f"{base}?status__exact=compensated&type=order.checkout"),
            ("list, filtered (has error, last 7 days)", f"{base}?error=yes&age=7d"),
            ("list, filtered (error type)", f"{base}?error_type=smtplib.SMTPServerDisconnected"),
            (
                "list, filtered (step + error type)",
                f"{base}?step={last_step}&error_type=smtplib.SMTPServerDisconnected",
            ),
            ("list, started between (2 days)", f"{base}?{span}"),
            ("list, search by order id", f"{base}?q={order_id}"),
            ("list, search by short id", f"{base}?q={short}" if short else None),
            ("list, search by customer", f"{base}?q=customer-42"),
            ("list, search with no match", f"{base}?q=nobody-at-all"),
            ("saga detail", f"{base}{stuck.pk}/change/" if stuck else None),
            ("saga live state (the page's poll)", f"{base}{stuck.pk}/live/" if stuck else None),
            ("confirm page (resolve)", f"{base}{stuck.pk}/act/resolve/" if stuck else None),
            ("failure groups", f"{base}groups/"),
            ("failure groups, narrowed (error type)", f"{base}groups/?error_type=smtplib.SMTPServerDisconnected"),
            ("dashboard (with system health)", f"{base}dashboard/"),
            ("admin index (attention + health)", "/admin/"),
            ("audit trail", f"{base}audit/"),
            ("audit trail, by operator and action", f"{base}audit/?operator=ops-oncall&kind=operator_resolve"),
        ]
        total = Saga.objects.count()
        self.stdout.write(f"\n{total} sagas in the database; {repeat} timed requests per page after one warm-up\n")
        self.stdout.write(f"{'page':42} {'median ms':>10} {'worst ms':>10}  target < {TARGET_MS} ms")
        slow = []
        for label, url in pages:
            if url is None:
                continue
            times = self.time_page(client, url, repeat)
            median, worst = statistics.median(times), max(times)
            mark = "ok" if median < TARGET_MS else "SLOW"
            if mark == "SLOW":
                slow.append(label)
            self.stdout.write(f"{label:42} {median:10.1f} {worst:10.1f}  {mark}")
        if slow:
            self.stdout.write(self.style.WARNING(f"over target: {', '.join(slow)}"))

    def time_page(self, client: Client, url: str, repeat: int) -> list[float]:
        response = client.get(url)
        if response.status_code != 200:
            raise CommandError(f"GET {url} answered {response.status_code}")
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
        return times
