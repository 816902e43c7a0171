"""sagaops settings: every knob is an environment variable with a working local default.

The README lists them all. Production runs with DJANGO_DEBUG=0 and a real DJANGO_SECRET_KEY.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from sagaops.broker import broker_options
from sagaops.conf import DEFAULTS, env_setting

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off")
    SECRET_KEY = "sagaops-local-development-only-key-do-not-use-in-production"
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

# Production (DJANGO_DEBUG=0) is HTTPS-only: secure cookies, HSTS, redirect to https. Behind a
# TLS-terminating proxy set DJANGO_SECURE_PROXY_SSL_HEADER=1 so Django trusts X-Forwarded-Proto.
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
    if env_bool("DJANGO_SECURE_PROXY_SSL_HEADER", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
# An operations console session lasts a shift, not Django's two weeks.
SESSION_COOKIE_AGE = int(float(os.environ.get("SAGAOPS_SESSION_HOURS", "8")) * 3600)
X_FRAME_OPTIONS = "DENY"

# Console login throttling (django-axes): after this many failed logins for one username from one
# address within the window, that pair is refused until the window has passed. The username is
# normalised (sagaops.security.login_username), so " admin" and "Admin " count as "admin".
SAGAOPS_LOGIN_FAILURE_LIMIT = env_setting("SAGAOPS_LOGIN_FAILURE_LIMIT")
SAGAOPS_LOGIN_FAILURE_WINDOW = env_setting("SAGAOPS_LOGIN_FAILURE_WINDOW")
AXES_FAILURE_LIMIT = SAGAOPS_LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(seconds=SAGAOPS_LOGIN_FAILURE_WINDOW)
# The pair, not the address alone: operators behind one proxy do not lock each other out, and a
# stranger cannot lock an operator out of the console from elsewhere during an incident.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "sagaops.security.login_username"
AXES_LOCKOUT_CALLABLE = "sagaops.security.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_ONLY_ADMIN_SITE = True
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Content-Security-Policy (django-csp): no inline or foreign scripts anywhere. Inline style
# attributes stay allowed (the console's bars and legends); they cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

INSTALLED_APPS = [
    # This repository's wiring (its Celery app, the admin site's titles, the 403 page), then sagaops
    # before django.contrib.admin: the console's admin templates (sagaops/templates/admin/) win.
    "project",
    "sagaops",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "axes",
    "csp",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "sagaops.observability",
    "orders",
    "payments",
    "inventory",
    "sagaops.choreography",
    # The benchmark and soak commands (bench/): this repository's, not the product's.
    "bench",
]

MIDDLEWARE = [
    "sagaops.observability.middleware.CorrelationIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the refusal page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sagaops")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
# A worker on Celery's threads pool (I/O-bound remote steps, README) shares a few connections among
# hundreds of threads: SAGAOPS_DB_POOL=N gives it psycopg's pool of at most N connections, and a
# remote step hands its connection back while the call waits (docs/PERFORMANCE.md).
SAGAOPS_DB_POOL = int(os.environ.get("SAGAOPS_DB_POOL", "0"))
if SAGAOPS_DB_POOL:
    DATABASES["default"].update(CONN_MAX_AGE=0, CONN_HEALTH_CHECKS=False)
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {"min_size": 2, "max_size": SAGAOPS_DB_POOL, "timeout": 30}
# Prepared statements for the engine's hot statements (sagaops/services/prepared.py): with
# server-side binding the start, the load, the claims and the checkpoints are planned once per
# connection instead of once per saga (about 40 % of PostgreSQL's CPU per saga, docs/PERFORMANCE.md);
# every other query stays unprepared (Django's prepare_threshold=None). SAGAOPS_DB_PREPARE=0 goes
# back to client-side binding, Django's default, for a connection pooler that does not keep
# prepared statements (PgBouncer before 1.21 in transaction mode).
SAGAOPS_DB_PREPARE = os.environ.get("SAGAOPS_DB_PREPARE", "1") != "0"
if SAGAOPS_DB_PREPARE:
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis db 1 holds the cache and the saga mirror; db 0 is the Celery broker.
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1")
# A `redis+cluster://host:port` URL names one node of a Redis Cluster (sagaops/redis.py).
SAGAOPS_REDIS_CLUSTER = REDIS_URL.split("://", 1)[0] in ("redis+cluster", "rediss+cluster")
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "sagaops-cache",
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
    }
}
if SAGAOPS_REDIS_CLUSTER:
    CACHES["default"]["OPTIONS"]["CONNECTION_FACTORY"] = "sagaops.cluster_cache.ClusterConnectionFactory"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Who the default alert rules page (and Django mails server errors to): comma-separated addresses.
ADMINS = [(a.strip(), a.strip()) for a in os.environ.get("DJANGO_ADMINS", "").split(",") if a.strip()]
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "sagaops@localhost")
# SMTP (EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend) for alert mail.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10

# --- Celery: sagaops.celery.configure(app) (project/celery.py) installs the engine's reliability
# settings (late acks, reject on worker lost, prefetch 1), its queues, routes and beat schedule.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
# Redis or RabbitMQ (sagaops/broker.py has what differs and why). The visibility timeout (Redis)
# must exceed the longest step timeout, or a running step's task is redelivered under it; the
# heartbeat (RabbitMQ) is how soon the broker gives a lost host's task to another worker.
_broker = broker_options(
    CELERY_BROKER_URL,
    visibility_timeout=int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600")),
    heartbeat=float(os.environ.get("CELERY_BROKER_HEARTBEAT", "10")),
)
CELERY_BROKER_TRANSPORT_OPTIONS = _broker.transport_options
CELERY_TASK_DEFAULT_QUEUE_TYPE = _broker.queue_type
CELERY_TASK_DEFAULT_EXCHANGE_TYPE = _broker.exchange_type
CELERY_BROKER_HEARTBEAT = _broker.heartbeat
# Both queues declared as the broker wants them (quorum queues on RabbitMQ).
CELERY_TASK_QUEUES = _broker.task_queues()
# A prefix on every broker key (Redis broker), for a run that shares its Redis database.
if os.environ.get("CELERY_BROKER_KEYPREFIX"):
    CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = os.environ["CELERY_BROKER_KEYPREFIX"]
# Any number of beats may run (one per host): the one holding the leader lease schedules, the
# others take over within SAGAOPS_BEAT_LEASE_SECONDS when it dies (sagaops/beat.py).
SAGAOPS_BEAT_LEASE_SECONDS = env_setting("SAGAOPS_BEAT_LEASE_SECONDS")
SAGAOPS_PRUNE_SECONDS = env_setting("SAGAOPS_PRUNE_SECONDS")
SAGAOPS_ALERT_CHECK_SECONDS = env_setting("SAGAOPS_ALERT_CHECK_SECONDS")
SAGAOPS_CHOREOGRAPHY_CHECK_SECONDS = env_setting("SAGAOPS_CHOREOGRAPHY_CHECK_SECONDS")

# --- sagaops engine ---
# Comma-separated fault injection spec, off by default: "payments.charge=error:0.2,orders.notify=hang".
SAGAOPS_FAULTS = env_setting("SAGAOPS_FAULTS")
# Let running workers take a fault spec from Redis (`sagaops_demo --faults`); on when debugging.
SAGAOPS_FAULTS_FROM_REDIS = env_setting("SAGAOPS_FAULTS_FROM_REDIS", DEBUG)
# If a new saga's first advance task is lost (broker down or flushed), its timer starts it
# after this many seconds; a duplicate advance is harmless, so keep it short.
SAGAOPS_START_GRACE = env_setting("SAGAOPS_START_GRACE")
# How long an executor's Redis lock on a saga lives (seconds). A worker killed mid-run leaves its
# lock behind: the saga's next executor waits this long before it can take over.
SAGAOPS_LOCK_TTL = env_setting("SAGAOPS_LOCK_TTL")
# How long a finished saga's Redis mirror is kept (seconds).
SAGAOPS_MIRROR_TTL = env_setting("SAGAOPS_MIRROR_TTL")
# How often the reconcile pass runs (seconds): it re-arms the timers due within two periods and
# heals the mirror of sagas changed within two periods.
SAGAOPS_RECONCILE_SECONDS = env_setting("SAGAOPS_RECONCILE_SECONDS")
# The heal looks for recently finished sagas among those created within this many seconds (its
# cost is proportional to the sagas created in that window); above the checkout's 10 minutes.
SAGAOPS_MIRROR_HEAL_CREATED_WITHIN = env_setting("SAGAOPS_MIRROR_HEAL_CREATED_WITHIN")
# A status read trusts an unfinished mirror hash written within this many seconds; an older one
# is checked against the database's version.
SAGAOPS_MIRROR_TRUST_SECONDS = env_setting("SAGAOPS_MIRROR_TRUST_SECONDS")
# Timers: sorted sets sagaops:timers:{0}..{N-1}. Changing N strands armed timers in the old shards
# until the reconcile pass re-arms them (or run `sagaops_rebuild_mirror`).
SAGAOPS_TIMER_SHARDS = env_setting("SAGAOPS_TIMER_SHARDS")
# A tick pops due timers in batches of SAGAOPS_TICK_BATCH until none is due or SAGAOPS_TICK_BUDGET
# seconds have passed; ticks overlap when a backlog outlasts the beat's one-second period.
SAGAOPS_TICK_BATCH = env_setting("SAGAOPS_TICK_BATCH")
SAGAOPS_TICK_BUDGET = env_setting("SAGAOPS_TICK_BUDGET")
# Retention (sagaops_prune and its beat entry): how long finished sagas are kept, by final status,
# as a duration ("30d", "12h", "45m", "600s") or "off" to keep them forever.
SAGAOPS_RETENTION = {
    status: os.environ.get(f"SAGAOPS_RETENTION_{status.upper()}", keep)
    for status, keep in DEFAULTS["SAGAOPS_RETENTION"].items()
}
# The bookkeeping around them: consumer dedupe rows, published outbox rows, dead letters, and the
# participants' tombstones (a refund or release that arrived before its forward call).
SAGAOPS_RETENTION_PROCESSED_EVENTS = env_setting("SAGAOPS_RETENTION_PROCESSED_EVENTS")
SAGAOPS_RETENTION_OUTBOX = env_setting("SAGAOPS_RETENTION_OUTBOX")
SAGAOPS_RETENTION_DEAD_LETTERS = env_setting("SAGAOPS_RETENTION_DEAD_LETTERS")
SAGAOPS_RETENTION_TOMBSTONES = env_setting("SAGAOPS_RETENTION_TOMBSTONES")
# Rows deleted per transaction, and the time budget of one scheduled run (seconds).
SAGAOPS_PRUNE_BATCH = env_setting("SAGAOPS_PRUNE_BATCH")
SAGAOPS_PRUNE_MAX_SECONDS = env_setting("SAGAOPS_PRUNE_MAX_SECONDS")
# A directory: pruned sagas are appended there as JSON lines (sagas-YYYY-MM-DD.jsonl) before they
# are deleted. Empty: no archive.
SAGAOPS_PRUNE_ARCHIVE_DIR = env_setting("SAGAOPS_PRUNE_ARCHIVE_DIR")
# The participants' own retention: callables (dotted paths) given the cutoff, the batch size and
# dry_run, returning how many rows they deleted (or would). The engine never imports a domain app.
SAGAOPS_RETENTION_HOOKS = env_setting(
    "SAGAOPS_RETENTION_HOOKS", ["inventory.retention.tombstones_prune", "payments.retention.tombstones_prune"]
)
# Size caps: a step's traceback keeps its last N characters, a timeline event's detail N bytes of JSON.
SAGAOPS_TRACEBACK_MAX = env_setting("SAGAOPS_TRACEBACK_MAX")
SAGAOPS_EVENT_DETAIL_MAX = env_setting("SAGAOPS_EVENT_DETAIL_MAX")
# A running/compensating saga with no progress for longer than this is shown as stuck (seconds).
SAGAOPS_STUCK_AFTER = env_setting("SAGAOPS_STUCK_AFTER")
# The console's system health: workers write a heartbeat this often (s); red past these limits (s).
SAGAOPS_WORKER_HEARTBEAT = env_setting("SAGAOPS_WORKER_HEARTBEAT")
SAGAOPS_HEALTH_TICK_LAG = env_setting("SAGAOPS_HEALTH_TICK_LAG")
SAGAOPS_HEALTH_RECONCILE_AGE = env_setting("SAGAOPS_HEALTH_RECONCILE_AGE")
SAGAOPS_HEALTH_QUEUE_DEPTH = env_setting("SAGAOPS_HEALTH_QUEUE_DEPTH")
SAGAOPS_HEALTH_STREAM_LAG = env_setting("SAGAOPS_HEALTH_STREAM_LAG")
# Base URL of the inventory and payments services; empty means call them in-process.
SAGAOPS_PARTICIPANTS_URL = os.environ.get("SAGAOPS_PARTICIPANTS_URL", "")
# Extra modules that register saga definitions, besides each app's sagas.py (comma-separated),
# e.g. "bench.flows" for the benchmark's worker.
SAGAOPS_SAGA_MODULES = env_setting("SAGAOPS_SAGA_MODULES")

# Service accounts authenticate with a token (`manage.py sagaops_service`), operators with their
# own token (`manage.py sagaops_token`) or their console session.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "sagaops.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["sagaops.api.parsers.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "sagaops.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "sagaops.api.errors.exception_handler",
    # Per token (a token is one user): generous defaults, tuned by environment.
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.UserRateThrottle",
        "rest_framework.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": os.environ.get("SAGAOPS_API_RATE", "6000/min"),
        "anon": os.environ.get("SAGAOPS_API_ANON_RATE", "600/min"),
    },
}
# API tokens (django-rest-knox): only a SHA-512 digest is stored; a token is shown once, when it
# is issued, and lasts until revoked unless issued with an expiry (`--expires-days`).
REST_KNOX = {
    "TOKEN_TTL": None,
    "AUTO_REFRESH": False,
    "AUTH_HEADER_PREFIX": "Token",
    # Recognisable in logs and by secret scanners.
    "TOKEN_PREFIX": "sgo_",
}
# Largest API request body accepted (bytes); a bigger one gets 413.
SAGAOPS_API_MAX_BODY_BYTES = env_setting("SAGAOPS_API_MAX_BODY_BYTES")
# The token the checkout saga sends to the participants when it calls them over HTTP.
SAGAOPS_PARTICIPANTS_TOKEN = os.environ.get("SAGAOPS_PARTICIPANTS_TOKEN", "")
SAGAOPS_PARTICIPANTS_TIMEOUT = float(os.environ.get("SAGAOPS_PARTICIPANTS_TIMEOUT", "5"))

SPECTACULAR_SETTINGS = {
    "TITLE": "sagaops API",
    "DESCRIPTION": "Start and watch sagas, deliver async step callbacks, repair stuck sagas, place orders.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": "/api/",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "SagaStatusEnum": "sagaops.states.SagaStatus",
        "StepStatusEnum": "sagaops.states.StepStatus",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "sagaops.api.schema.add_error_responses",
    ],
}

# --- observability (docs/OBSERVABILITY.md) ---
# Every process of a host writes its metrics here (prometheus_client multiprocess mode); empty it
# before starting the processes. The default is set in the environment so Celery children inherit it.
PROMETHEUS_MULTIPROC_DIR = os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", "/tmp/sagaops-prometheus")
# When set, GET /metrics needs "Authorization: Bearer <token>". With DJANGO_DEBUG=0 and no token,
# /metrics answers 401 to everyone (and `check --deploy` warns): it names every saga type and queue.
SAGAOPS_METRICS_TOKEN = env_setting("SAGAOPS_METRICS_TOKEN")
# OpenTelemetry: "otlp" or "console" installs the SDK's TracerProvider with that exporter (docs/OBSERVABILITY.md).
SAGAOPS_TRACE_EXPORTER = env_setting("SAGAOPS_TRACE_EXPORTER")
SAGAOPS_SERVICE_NAME = env_setting("SAGAOPS_SERVICE_NAME")
# Redis streams whose consumer groups /metrics reports (pending, lag), comma-separated.
SAGAOPS_METRICS_STREAMS = env_setting("SAGAOPS_METRICS_STREAMS")
# Where alerts link to: {SAGAOPS_CONSOLE_URL}/admin/sagaops/saga/<id>/change/
SAGAOPS_CONSOLE_URL = env_setting("SAGAOPS_CONSOLE_URL")
# More than this many alerts per rule and channel within the window are sent as one digest.
SAGAOPS_ALERT_RATE_LIMIT = env_setting("SAGAOPS_ALERT_RATE_LIMIT")
SAGAOPS_ALERT_RATE_WINDOW = env_setting("SAGAOPS_ALERT_RATE_WINDOW")
# Delivery tries per alert (email or webhook), waiting DELAY, 2*DELAY, 4*DELAY... seconds between them.
SAGAOPS_ALERT_MAX_ATTEMPTS = env_setting("SAGAOPS_ALERT_MAX_ATTEMPTS")
SAGAOPS_ALERT_RETRY_DELAY = env_setting("SAGAOPS_ALERT_RETRY_DELAY")
SAGAOPS_ALERT_WEBHOOK_TIMEOUT = env_setting("SAGAOPS_ALERT_WEBHOOK_TIMEOUT")
# Private networks alert webhooks may reach anyway (comma-separated CIDRs, e.g. "10.20.0.0/16");
# by default a webhook to a loopback, link-local or private address is refused.
SAGAOPS_ALERT_WEBHOOK_ALLOWED_NETWORKS = env_setting("SAGAOPS_ALERT_WEBHOOK_ALLOWED_NETWORKS")
# The periodic check alerts sagas that became stuck within this many hours but were never alerted.
SAGAOPS_ALERT_CATCH_UP_HOURS = env_setting("SAGAOPS_ALERT_CATCH_UP_HOURS")

# Every line carries the saga id, correlation id, step and attempt when known; LOG_FORMAT=json
# writes one JSON object per line. Celery uses this configuration too (project/celery.py).
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"saga_context": {"()": "sagaops.observability.logging.SagaContextFilter"}},
    "formatters": {
        "plain": {"()": "sagaops.observability.logging.PlainFormatter"},
        "json": {"()": "sagaops.observability.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["saga_context"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}

# --- choreography and the supervisor (docs/CHOREOGRAPHY.md) ---
# "orchestrated" (the engine runs order.checkout) or "choreographed" (services react to events);
# POST /api/orders/ may choose per order with "mode".
SAGAOPS_CHECKOUT_MODE = os.environ.get("SAGAOPS_CHECKOUT_MODE", "orchestrated")
# Every stream name starts with this, e.g. "sagaops:stream:events".
SAGAOPS_STREAM_PREFIX = env_setting("SAGAOPS_STREAM_PREFIX")
SAGAOPS_STREAM_MAXLEN = env_setting("SAGAOPS_STREAM_MAXLEN")
# A pending entry idle this long (ms) is claimed by another consumer (XAUTOCLAIM); after this many
# deliveries it goes to the dead-letter stream.
SAGAOPS_STREAM_CLAIM_IDLE_MS = env_setting("SAGAOPS_STREAM_CLAIM_IDLE_MS")
SAGAOPS_STREAM_MAX_DELIVERIES = env_setting("SAGAOPS_STREAM_MAX_DELIVERIES")
# A choreographed saga with no event for this long (seconds) is marked stuck with what it waits for.
SAGAOPS_CHOREOGRAPHY_OVERDUE = env_setting("SAGAOPS_CHOREOGRAPHY_OVERDUE")
# The supervisor re-requests an unacknowledged compensation after ACK_TIMEOUT seconds, or RETRY_DELAY
# seconds after a refusal, and gives up (saga stuck) after MAX_ATTEMPTS requests.
SAGAOPS_SUPERVISOR_ACK_TIMEOUT = env_setting("SAGAOPS_SUPERVISOR_ACK_TIMEOUT")
SAGAOPS_SUPERVISOR_RETRY_DELAY = env_setting("SAGAOPS_SUPERVISOR_RETRY_DELAY")
SAGAOPS_SUPERVISOR_MAX_ATTEMPTS = env_setting("SAGAOPS_SUPERVISOR_MAX_ATTEMPTS")
