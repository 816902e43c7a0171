"""Check that PostgreSQL and Redis answer, and create the database if it is missing.

Runs before the database may exist (``make run`` / ``make test`` call it first), so it skips
Django's system checks and never touches the ORM: it talks to PostgreSQL with psycopg through
the ``postgres`` maintenance database and to Redis with redis-py. A service that does not
answer gives one line saying where it was looked for and how to start it, never a traceback.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from redis.cluster import RedisCluster
from redis.exceptions import RedisClusterException, RedisError

from sagaops.conf import conf
from sagaops.redis import CLUSTER_SCHEMES, node_url

LOCAL_HOSTS = {"", "localhost", "127.0.0.1", "::1"}
PG_START_HINT = "start it with 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start'"
REDIS_START_HINT = "start it with 'redis-server --daemonize yes --save \"\" --appendonly no'"
CONNECT_TIMEOUT = 3  # seconds

# Keys of DATABASES[...]["OPTIONS"] that Django understands but libpq does not.
DJANGO_ONLY_DB_OPTIONS = {
    "isolation_level",
    "server_side_binding",
    "pool",
    "assume_role",
    "cursor_factory",
}

# psycopg/libpq wording for "nothing is listening there" (as opposed to "it answered: no").
UNREACHABLE_MARKERS = (
    "connection refused",
    "could not connect",
    "timeout expired",
    "could not translate host name",
    "no such file or directory",
    "name or service not known",
    "network is unreachable",
    "no route to host",
    "connection timed out",
    "server closed the connection unexpectedly",
)


def one_line(exc: BaseException) -> str:
    """The first meaningful line of an exception message (libpq errors span several lines)."""
    text = str(exc)
    if "FATAL:" in text:  # libpq: 'connection to server at "h", port p failed: FATAL:  <reason>'
        text = "FATAL: " + text.split("FATAL:", 1)[1].strip()
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line
    return exc.__class__.__name__


def mask_url(url: str) -> str:
    """The URL with its password replaced by ***, for printing."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


class Command(BaseCommand):
    help = (
        "Check that PostgreSQL and Redis (cache/mirror and Celery broker) answer, and create "
        "the configured database if it does not exist. Safe to run before migrations."
    )
    requires_system_checks = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-create",
            action="store_true",
            help="Only check; do not create the database when it is missing.",
        )

    def handle(self, *args, **options):
        self.verbosity = options.get("verbosity", 1)
        failures: list[str] = []

        db_failure = self.check_postgres(create=not options["no_create"])
        if db_failure:
            failures.append(db_failure)

        seen_servers: set[tuple] = set()
        for label, url in (
            ("REDIS_URL", conf.redis_url),
            ("CELERY_BROKER_URL", settings.CELERY_BROKER_URL),
        ):
            failure = self.check_broker_or_redis(label, url, seen_servers)
            if failure:
                failures.append(failure)

        if failures:
            raise CommandError("\n".join(failures), returncode=1)
        self.say("Preflight ok: PostgreSQL and Redis answer.")

    # --- output -----------------------------------------------------------------------------

    def say(self, message: str) -> None:
        if self.verbosity >= 1:
            self.stdout.write(message)

    # --- PostgreSQL -------------------------------------------------------------------------

    def check_postgres(self, create: bool) -> str | None:
        db = settings.DATABASES["default"]
        engine = db.get("ENGINE", "")
        if "postgresql" not in engine:
            self.say(f"Database engine {engine!r} is not PostgreSQL: nothing to check.")
            return None

        import psycopg
        from psycopg import errors, sql

        name = db.get("NAME") or ""
        host = str(db.get("HOST") or "")
        port = str(db.get("PORT") or "5432")
        where = f"{host}:{port}" if host and not host.startswith("/") else f"{host or 'the local socket'} (port {port})"
        is_local = host in LOCAL_HOSTS or host.startswith("/")

        params = {
            "user": db.get("USER") or None,
            "password": db.get("PASSWORD") or None,
            "host": host or None,
            "port": port,
            "connect_timeout": CONNECT_TIMEOUT,
        }
        for key, value in (db.get("OPTIONS") or {}).items():
            if key not in DJANGO_ONLY_DB_OPTIONS and isinstance(value, (str, int)):
                params[key] = value
        params = {k: v for k, v in params.items() if v is not None}

        def unreachable(exc: BaseException) -> str:
            hint = PG_START_HINT if is_local else "check that it is running and that DATABASE_URL is right"
            return f"PostgreSQL is not reachable at {where}: {hint}"

        def refused(exc: BaseException) -> str:
            return f"PostgreSQL at {where} refused the connection: {one_line(exc)} (check DATABASE_URL)"

        def classify(exc: BaseException) -> str:
            text = str(exc).lower()
            if any(marker in text for marker in UNREACHABLE_MARKERS):
                return unreachable(exc)
            return refused(exc)

        if not name:
            return "DATABASES['default'] has no NAME: set DATABASE_URL to postgres://user@host:port/dbname"

        try:
            conn = psycopg.connect(dbname="postgres", autocommit=True, **params)
        except psycopg.OperationalError as exc:
            message = classify(exc)
            if message.startswith("PostgreSQL is not reachable"):
                return message
            # The server answered but will not let us into the maintenance database (a managed
            # service, say): the target database may still be there and usable.
            try:
                psycopg.connect(dbname=name, **params).close()
            except psycopg.Error:
                return message
            self.say(f"PostgreSQL at {where}: database {name!r} exists.")
            return None
        except psycopg.Error as exc:
            return refused(exc)

        with conn:
            version = conn.info.server_version
            pretty = f"{version // 10000}.{version % 10000}"
            self.say(f"PostgreSQL {pretty} answers at {where}.")
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if exists:
                self.say(f"Database {name!r} exists.")
                return None
            if not create:
                return f"Database {name!r} does not exist on {where}: run 'manage.py sagaops_preflight' to create it"
            try:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            except errors.DuplicateDatabase:
                self.say(f"Database {name!r} exists (created concurrently).")
                return None
            except errors.InsufficientPrivilege as exc:
                user = params.get("user", "the current user")
                return (
                    f"Database {name!r} does not exist and {user} may not create it ({one_line(exc)}): "
                    f'ask an administrator to run CREATE DATABASE "{name}" OWNER "{user}"'
                )
            except psycopg.Error as exc:
                return f"Could not create database {name!r} on {where}: {one_line(exc)}"
            self.say(self.style.SUCCESS(f"Created database {name!r}."))
        return None

    # --- Redis / broker ---------------------------------------------------------------------

    def check_broker_or_redis(self, label: str, url: str, seen_servers: set) -> str | None:
        shown = mask_url(url)
        try:
            parts = urlsplit(url)
            scheme = parts.scheme
            server = (
                scheme,
                parts.hostname,
                parts.port,
                parts.path if scheme == "unix" else "",
            )
            host = parts.hostname or ""
        except ValueError:
            return f"{label} is not a valid URL: {shown}"

        if scheme in CLUSTER_SCHEMES:
            return self.check_redis_cluster(label, url)

        if scheme in {"redis", "rediss", "unix"}:
            import redis

            if server in seen_servers:
                # Same Redis server as an earlier URL that did not answer: one line is enough.
                return None
            client = None
            try:
                client = redis.Redis.from_url(
                    url,
                    socket_connect_timeout=CONNECT_TIMEOUT,
                    socket_timeout=CONNECT_TIMEOUT,
                )
                client.ping()
            except ValueError as exc:
                return f"{label} is not a valid Redis URL ({shown}): {one_line(exc)}"
            except redis.AuthenticationError as exc:
                return f"Redis at {shown} refused the connection: {one_line(exc)} (check {label})"
            except (redis.ConnectionError, redis.TimeoutError):
                seen_servers.add(server)
                local = scheme == "unix" or host in LOCAL_HOSTS
                hint = REDIS_START_HINT if local else f"check that it is running and that {label} is right"
                return f"Redis is not reachable at {shown}: {hint}"
            except redis.RedisError as exc:
                return f"Redis at {shown} answered with an error: {one_line(exc)} (check {label})"
            finally:
                if client is not None:
                    client.close()
            self.say(f"Redis answers at {shown} ({label}).")
            return None

        # Another Celery broker (RabbitMQ through amqp://, ...): ask kombu to connect once.
        from kombu import Connection

        try:
            with Connection(url, connect_timeout=CONNECT_TIMEOUT) as conn:
                conn.ensure_connection(
                    max_retries=1,
                    interval_start=0,
                    interval_step=0,
                    timeout=CONNECT_TIMEOUT,
                )
        except Exception as exc:  # noqa: BLE001 - any failure here means "the broker does not answer"
            return f"The Celery broker is not reachable at {shown}: {one_line(exc)} (check {label})"
        self.say(f"Celery broker answers at {shown} ({label}).")
        return None

    def check_redis_cluster(self, label: str, url: str) -> str | None:
        """A `redis+cluster://` URL: one named node must answer and the cluster must be whole."""
        shown = mask_url(url)
        try:
            client = RedisCluster.from_url(
                node_url(url), socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=CONNECT_TIMEOUT
            )
        except ValueError as exc:
            return f"{label} is not a valid Redis Cluster URL ({shown}): {one_line(exc)}"
        except (RedisClusterException, RedisError) as exc:
            return f"Redis Cluster is not reachable at {shown}: {one_line(exc)} (check {label})"
        try:
            state = client.cluster_info().get("cluster_state")
        except (RedisClusterException, RedisError) as exc:
            return f"Redis Cluster at {shown} answered with an error: {one_line(exc)} (check {label})"
        finally:
            client.close()
        if state != "ok":
            return f"Redis Cluster at {shown} is in state {state!r}, not 'ok' (check its nodes: redis-cli cluster info)"
        self.say(f"Redis Cluster answers at {shown} ({label}).")
        return None
