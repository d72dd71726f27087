"""Settings for the OMS, read from the environment.

Embedded default (nothing set): SQLite in the checkout, Celery on a local
file transport, a generated secret key in var/. Production: DATABASE_URL,
REDIS_URL, SECRET_KEY, DEBUG=0, ALLOWED_HOSTS.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("OMS_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", default=False)


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY", "").strip()
    if key:
        return key
    if not DEBUG:
        # A server that silently runs on a made-up key would sign sessions and
        # tracking links that break on the next restart or on another server.
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY (or DEBUG=1 for a local run)."
        )
    # Local runs only: generate once into an ignored file, so sessions survive restarts.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    # Swagger UI and Redoc's assets, served from here: /api/docs/ works offline.
    "drf_spectacular_sidecar",
    "import_export",
    "core",
    "outbox",
    "inventory",
    "orders",
    "fulfilment",
    "returns",
    "alerts",
    "lab",
    "supply",
    "connectors",
    # After the apps above: its post_migrate hook gives roles their permissions, which
    # must exist by then.
    "accounts",
    # Login lockout after repeated failures (per account and per address).
    "axes",
    "console",
    "operations",
    "demo",
]

MIDDLEWARE = [
    # First: every answer, a refusal included, carries the request's id, and every log line
    # written while it runs.
    "core.request_id.RequestIdMiddleware",
    "core.http_metrics.RequestMetricsMiddleware",
    # A body larger than its endpoint takes is refused before anything reads it.
    "core.limits.BodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # A URL with a control character (?q=%00) is a 400 before any view reads it.
    "core.input_guard.InputGuardMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # The console's four (core.console_only): an API request without a cookie passes them by.
    "core.console_only.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "core.console_only.CsrfViewMiddleware",
    "core.console_only.AuthenticationMiddleware",
    "core.console_only.MessageMiddleware",
    # After the session and the person are known: the admin's changelists read from the
    # read replica (when there is one and it keeps up).
    "accounts.admin_reads.AdminChangelistReadsMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: it answers a locked-out login with the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "oms.urls"
WSGI_APPLICATION = "oms.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # The open-alerts badge on staff pages (counted only where shown).
                "alerts.context_processors.alerts_badge",
                # The product's name and each role's navigation (console.navigation).
                "console.navigation.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        # Persistent connections: reconnecting per request cut order throughput 2.5x
        # (measured with bench/orders.py: 60 against 147 orders/s).
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "600")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # The embedded database is shared by the web server, worker and beat:
        # WAL lets readers run beside the single writer, and the timeout waits
        # for the writer instead of failing with "database is locked".
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    # Server-side binding lets PostgreSQL prepare the statements a connection repeats (after
    # DB_PREPARE_THRESHOLD runs): order capture spent a third less PostgreSQL CPU per order
    # (docs/performance.md). Set DB_SERVER_SIDE_BINDING=0 behind a transaction-pooling
    # PgBouncer older than 1.21, which cannot keep prepared statements.
    _server_side_binding = env_bool("DB_SERVER_SIDE_BINDING", True)
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "server_side_binding": _server_side_binding,
            "prepare_threshold": (
                int(os.environ.get("DB_PREPARE_THRESHOLD", "5")) if _server_side_binding else None
            ),
        }
    )
    # DB_POOL=N: psycopg's pool in each process (Django's OPTIONS["pool"]), up to N
    # connections, instead of one persistent connection; Django refuses both at once.
    # Measured against persistent connections and PgBouncer in docs/deployment.md.
    _pool_size = int(os.environ.get("DB_POOL", "0") or 0)
    if _pool_size:
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": 1,
            "max_size": _pool_size,
            # A request waits this long for a free connection, then fails (503 at /healthz).
            "timeout": 10,
        }

# A streaming replica (hot standby) for the heavy read-only pages: dashboards, exports,
# reports, the console's big lists (core/replica.py). They fall back to the primary while the
# replica is more than OMS_REPLICA_MAX_LAG_SECONDS behind, or does not answer.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "").strip()
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL,
        conn_max_age=DATABASES["default"]["CONN_MAX_AGE"],
        conn_health_checks=True,
    )
    DATABASES["replica"]["OPTIONS"] = dict(DATABASES["default"].get("OPTIONS", {}))
# Whether heavy reads may go to the `replica` alias at all (tests define the alias as a mirror
# of the test database and switch this on where they test it).
OMS_READ_REPLICA = bool(DATABASE_REPLICA_URL)
OMS_REPLICA_MAX_LAG_SECONDS = float(os.environ.get("OMS_REPLICA_MAX_LAG_SECONDS", "30"))
DATABASE_ROUTERS = ["core.replica.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Paris")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# A local run serves static files straight from the apps, with no collectstatic step.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = VAR_DIR / "media"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Request bodies, refused with 413 before they are read (core/limits.py): API endpoints,
# stock counts through the API (JSON lines or a CSV file), and pages (admin imports).
OMS_API_MAX_BODY_BYTES = int(os.environ.get("OMS_API_MAX_BODY_BYTES", str(1024 * 1024)))
OMS_STOCK_COUNT_MAX_BODY_BYTES = int(
    os.environ.get("OMS_STOCK_COUNT_MAX_BODY_BYTES", str(20 * 1024 * 1024))
)
OMS_PAGE_MAX_BODY_BYTES = int(os.environ.get("OMS_PAGE_MAX_BODY_BYTES", str(50 * 1024 * 1024)))
# Django's own cap on what it reads into memory: never below the caps above, which answer first.
DATA_UPLOAD_MAX_MEMORY_SIZE = max(
    OMS_API_MAX_BODY_BYTES, OMS_STOCK_COUNT_MAX_BODY_BYTES, OMS_PAGE_MAX_BODY_BYTES
)

LOGIN_URL = "admin:login"

# Logins: django-axes counts failures and refuses further attempts, separately per
# account and per client address, until the cool-off ends or someone unlocks
# (admin "Access attempts", or `manage.py axes_reset_username NAME` / `axes_reset_ip IP`).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/lockout.html"
AXES_CLIENT_IP_CALLABLE = "accounts.client_ip.client_ip"
AXES_SENSITIVE_PARAMETERS = ["password"]
# How many reverse proxies in front of the app append to X-Forwarded-For: the client is
# the address the outermost trusted one saw. 0 (the default) trusts no header: without a
# proxy the client writes X-Forwarded-For itself, and could pick its own rate-limit bucket.
OMS_TRUSTED_PROXY_COUNT = int(os.environ.get("OMS_TRUSTED_PROXY_COUNT", "0"))

# Security: strict by default, relaxed only for a local DEBUG run.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 3600)))
# Shared counter PCs in stores: a closed browser ends the session unless told otherwise.
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", True)
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    # Behind one reverse proxy that terminates TLS.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

REDIS_URL = os.environ.get("REDIS_URL", "").strip()

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "oms",
        },
        # Markers that web servers and workers must agree on (core/kick.py).
        "coordination": {
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "oms-coordination",
        },
    }
else:
    # A file cache is shared by every process of a local run (web, worker, beat),
    # which a per-process memory cache is not.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        },
        "coordination": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "coordination"),
        },
    }

# Celery. With REDIS_URL: Redis. Without: kombu's filesystem transport, a
# folder of message files that a real worker and beat share on one machine.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL or "filesystem://"
if CELERY_BROKER_URL == "filesystem://":
    _queue_dir = VAR_DIR / "celery" / "queue"
    _processed_dir = VAR_DIR / "celery" / "processed"
    _control_dir = VAR_DIR / "celery" / "control"
    # kombu's filesystem transport expects its folders to exist.
    for _folder in (_queue_dir, _processed_dir, _control_dir):
        _folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        "control_folder": str(_control_dir),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # A task taken by a worker and not acknowledged within this time (the worker was
        # killed, and no process was left to give it back) is delivered again. Ten minutes:
        # long enough that a task still running is rarely delivered twice (each long task
        # claims its work under a lease, so a second delivery does nothing), short enough
        # that a lost message comes back soon. Beat's sweeps restart dead jobs without
        # waiting for it (OMS_JOB_LEASE_SECONDS); no task here is scheduled further ahead
        # than this (an ETA beyond it would be delivered again).
        "visibility_timeout": 600,
    }
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "oms")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "stock-reconcile-nightly": {
        "task": "alerts.tasks.stock_reconcile_task",
        "schedule": crontab(hour=3, minute=15),
    },
    # What has served its time goes, in short batches (operations/retention.py): delivered
    # webhook events, idempotency records, job files, internal timeline noise.
    "retention-prune": {
        "task": "operations.tasks.retention_prune_task",
        "schedule": crontab(hour=4, minute=0),
    },
    # A stored storefront webhook left `received` (its wake-up lost, or its worker's run cut
    # off and its claim lapsed) is applied here.
    "storefront-orders-resume": {
        "task": "connectors.tasks.storefront_orders_resume_task",
        "schedule": timedelta(minutes=5),
    },
    # Stock arrivals enqueue backorder allocation at once; this sweep catches what a broker
    # outage dropped.
    "backorders-sweep": {
        "task": "orders.tasks.backorders_allocate_task",
        "schedule": timedelta(minutes=5),
    },
    # The dashboards' network stock by location reads every stock row: kept as a snapshot.
    "console-stock-snapshot": {
        "task": "console.tasks.stock_snapshot_refresh_task",
        "schedule": timedelta(minutes=5),
    },
    # Expired reservations already count as sellable; this gives their units back for good.
    "reservations-expire": {
        "task": "orders.tasks.reservations_expire_task",
        "schedule": timedelta(minutes=1),
    },
    # Click & collect orders not collected within their store's hold period are cancelled.
    "pickups-expire": {
        "task": "orders.tasks.pickups_expire_task",
        "schedule": crontab(minute=30),
    },
    # Webhooks: commits kick the relay at once; this sweep sends what a broker outage kept
    # waiting, retries that fell due, and the stock.changed events of the ledger.
    "outbox-relay-sweep": {
        "task": "outbox.tasks.outbox_relay_task",
        "schedule": timedelta(seconds=30),
    },
    # Storefronts: the relay's reader kicks the sender at once; this sweep sends the retries
    # that fell due and what a lost kick left.
    "connectors-push-sweep": {
        "task": "connectors.tasks.connectors_push_task",
        "schedule": timedelta(seconds=30),
    },
    # Every SKU's figure to every storefront again: what drifted on their side comes back.
    # Storefronts drop webhooks: their orders updated since the last sync are read back.
    "connectors-reconcile": {
        "task": "connectors.tasks.connectors_reconcile_task",
        "schedule": timedelta(minutes=10),
    },
    "connectors-stock-push-nightly": {
        "task": "connectors.tasks.connectors_stock_push_all_task",
        "schedule": crontab(hour=2, minute=45),
    },
    # Alerts: stock changes kick an evaluation at once; this sweep evaluates every rule
    # (the time-based ones, and what a lost kick missed), set-based.
    "alerts-sweep": {
        "task": "alerts.tasks.alerts_sweep_task",
        "schedule": timedelta(minutes=10),
    },
    # Count imports and console jobs whose worker died are restarted (or failed) once their
    # lease runs out; tasks the broker lost are sent again.
    "count-imports-sweep": {
        "task": "inventory.tasks.stock_count_imports_sweep_task",
        "schedule": timedelta(minutes=1),
    },
    "console-jobs-sweep": {
        "task": "console.tasks.console_jobs_sweep_task",
        "schedule": timedelta(minutes=1),
    },
    # Each person gets at most one e-mail per interval of the alert policy.
    "alerts-digests": {
        "task": "alerts.tasks.alerts_digests_send_task",
        "schedule": timedelta(minutes=5),
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # DRF's token scheme, with the token and its user read in one plain query.
        "accounts.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Authenticated, with the Django permissions of the route (accounts/permissions.py).
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.RolePermission"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    # Bodies nested too deep for json are a 400, not a 500 (core.api.parsers).
    "DEFAULT_PARSER_CLASSES": [
        "core.api.parsers.JSONParser",
        "core.api.parsers.FormParser",
        "core.api.parsers.MultiPartParser",
    ],
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "OMS integration API",
    "DESCRIPTION": "Orders, stock, sourcing and fulfilment for omnichannel retail.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The error answers every operation shares, with their shapes (core/api/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "LocationKindEnum": "inventory.models.Location.Kind",
        "MovementKindEnum": "inventory.models.StockMovement.Kind",
        "DeliveryMethodEnum": "orders.models.Order.DeliveryMethod",
    },
}

IMPORT_EXPORT_SKIP_ADMIN_LOG = False
# The uploaded file waits between preview and confirm in the cache (Redis in production),
# which every app server shares; the default, a file in one server's /tmp, is not.
IMPORT_EXPORT_TMP_STORAGE_CLASS = "import_export.tmp_storages.CacheStorage"
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True

# Stock counts larger than this run as a background task from the admin.
OMS_COUNT_IMPORT_SYNC_MAX_ROWS = int(os.environ.get("OMS_COUNT_IMPORT_SYNC_MAX_ROWS", "2000"))
# Background jobs (count imports, console jobs): a running job whose heartbeat is older
# than this lost its worker, and the sweep restarts it (inventory.services.counts).
OMS_JOB_LEASE_SECONDS = float(os.environ.get("OMS_JOB_LEASE_SECONDS", "120"))
# Admin exports of more rows than this are written by a background job (console).
OMS_EXPORT_SYNC_MAX_ROWS = int(os.environ.get("OMS_EXPORT_SYNC_MAX_ROWS", "2000"))
# Sourcing inside an order request runs under this budget (milliseconds).
OMS_SOURCING_BUDGET_MS = float(os.environ.get("OMS_SOURCING_BUDGET_MS", "200"))
OMS_SOURCING_STRATEGY = os.environ.get("OMS_SOURCING_STRATEGY", "optimal")
# A delivery quote's sourcing plan (dates and cost only) runs under this smaller budget.
OMS_QUOTE_SOURCING_BUDGET_MS = float(os.environ.get("OMS_QUOTE_SOURCING_BUDGET_MS", "20"))
# What one more shipment costs beyond its carrier price (handling, packaging, annoyance).
OMS_SPLIT_PENALTY = float(os.environ.get("OMS_SPLIT_PENALTY", "3.0"))
OMS_MAX_SHIPMENTS = (
    int(os.environ["OMS_MAX_SHIPMENTS"]) if os.environ.get("OMS_MAX_SHIPMENTS") else None
)
# A location that rejects sends its lines elsewhere; after this many attempts a person decides.
OMS_MAX_SOURCING_ATTEMPTS = int(os.environ.get("OMS_MAX_SOURCING_ATTEMPTS", "3"))
# Delivery options (orders.delivery): same-day delivery only from a location this close to
# the customer; at most this many click & collect stores offered, nearest first.
OMS_SAME_DAY_RADIUS_KM = float(os.environ.get("OMS_SAME_DAY_RADIUS_KM", "30"))
OMS_PICKUP_OPTIONS_MAX = int(os.environ.get("OMS_PICKUP_OPTIONS_MAX", "3"))
# Seconds another process may keep using carrier, calendar and price settings after a change.
OMS_DELIVERY_CONFIG_TTL = float(os.environ.get("OMS_DELIVERY_CONFIG_TTL", "60"))
# Basket reservations: how long they hold stock by default, and at most.
OMS_RESERVATION_MINUTES = int(os.environ.get("OMS_RESERVATION_MINUTES", "15"))
OMS_RESERVATION_MAX_MINUTES = int(os.environ.get("OMS_RESERVATION_MAX_MINUTES", "120"))
# Tracking lookups: failures allowed per client address and per order number in the window,
# past which /track/ answers 429 without looking (orders/tracking/limits.py).
OMS_TRACKING_MAX_FAILURES = int(os.environ.get("OMS_TRACKING_MAX_FAILURES", "10"))
OMS_TRACKING_WINDOW_SECONDS = int(os.environ.get("OMS_TRACKING_WINDOW_SECONDS", "600"))
# Public address of the site, for links sent to customers (tracking).
OMS_PUBLIC_URL = os.environ.get("OMS_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

# Webhooks (outbox): an answer must come within the timeout; failed deliveries are
# retried with exponential backoff (base doubling up to max, with jitter) until the horizon
# after their event, then they are dead. The relay sends up to CONCURRENCY at once, claiming
# BATCH deliveries per round for CLAIM_SECONDS (a relay that dies lets them go after that).
OMS_WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("OMS_WEBHOOK_TIMEOUT_SECONDS", "10"))
OMS_WEBHOOK_HORIZON_HOURS = float(os.environ.get("OMS_WEBHOOK_HORIZON_HOURS", "24"))
OMS_WEBHOOK_RETRY_BASE_SECONDS = float(os.environ.get("OMS_WEBHOOK_RETRY_BASE_SECONDS", "10"))
OMS_WEBHOOK_RETRY_MAX_SECONDS = float(os.environ.get("OMS_WEBHOOK_RETRY_MAX_SECONDS", "3600"))
OMS_WEBHOOK_CONCURRENCY = int(os.environ.get("OMS_WEBHOOK_CONCURRENCY", "16"))
# Hosts (names or addresses) that outbound requests may reach although they are not public:
# a receiver on this machine in development and tests (core/outbound.py).
OMS_OUTBOUND_ALLOWED_HOSTS = env_list("OMS_OUTBOUND_ALLOWED_HOSTS")
# Fernet keys that seal storefront credentials at rest (connectors.sealing): the first
# seals, every one opens. Unset: one key derived from SECRET_KEY.
OMS_SECRET_KEY_CONNECTORS = env_list("OMS_SECRET_KEY_CONNECTORS")
OMS_WEBHOOK_BATCH = int(os.environ.get("OMS_WEBHOOK_BATCH", "200"))
OMS_WEBHOOK_CLAIM_SECONDS = float(os.environ.get("OMS_WEBHOOK_CLAIM_SECONDS", "300"))

# Idempotency-Key answers are replayed for this long, then pruned (core/api/idempotency.py).
OMS_IDEMPOTENCY_TTL_HOURS = float(os.environ.get("OMS_IDEMPOTENCY_TTL_HOURS", "24"))
# Retention (operations/retention.py): each kind of row is pruned past its horizon, in
# batches of OMS_RETENTION_BATCH rows, each its own short transaction. The ledger stays.
OMS_RETAIN_DELIVERED_EVENTS_DAYS = float(os.environ.get("OMS_RETAIN_DELIVERED_EVENTS_DAYS", "30"))
OMS_RETAIN_JOB_FILES_DAYS = float(os.environ.get("OMS_RETAIN_JOB_FILES_DAYS", "30"))
OMS_RETAIN_TIMELINE_NOISE_DAYS = float(os.environ.get("OMS_RETAIN_TIMELINE_NOISE_DAYS", "180"))
OMS_RETENTION_BATCH = int(os.environ.get("OMS_RETENTION_BATCH", "1000"))
# An Idempotency-Key claimed by a request that never answered (its worker died, or the
# database restarted under it and the claim could not be dropped) is taken over by a retry
# after this long (core/api/idempotency.py). Longer than gunicorn's 30-second timeout, so a
# request still running is never run a second time beside it.
OMS_IDEMPOTENCY_STALE_SECONDS = float(os.environ.get("OMS_IDEMPOTENCY_STALE_SECONDS", "120"))
# A claim records the PostgreSQL session that took it; a retry that finds that session gone
# (its process was killed, or the primary restarted) takes the claim over at once instead of
# waiting the stale horizon. Off behind a pooler in transaction mode (PgBouncer), where a
# request's statements run on whichever server session is free, so the claim's session says
# nothing of the request (core/api/idempotency.py).
OMS_IDEMPOTENCY_CLAIMER_CHECK = env_bool("OMS_IDEMPOTENCY_CLAIMER_CHECK", True)

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "oms@localhost")

# Log lines: JSON objects (core.logs), one a line, each with the request id of the request
# or task that wrote it; LOG_FORMAT=plain for text a person reads in a terminal.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json").strip().lower()
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or plain, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "core.logs.JsonFormatter"},
        "plain": {"()": "core.logs.PlainFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# Errors reported to Sentry (or any server that speaks its protocol), with the request id as
# a tag: off unless SENTRY_DSN is set.
SENTRY_DSN = os.environ.get("SENTRY_DSN", "").strip()
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        environment=os.environ.get("SENTRY_ENVIRONMENT", "production"),
        traces_sample_rate=float(os.environ.get("SENTRY_TRACES_SAMPLE_RATE", "0")),
        # Customers' names, e-mails and addresses stay here.
        send_default_pii=False,
    )

# Prometheus: /metrics answers a scrape with `Authorization: Bearer <OMS_METRICS_TOKEN>`, from
# an address in OMS_METRICS_ALLOWED_IPS, or both when both are set; with neither, not at all.
# Several processes per host (gunicorn workers, Celery's pool): PROMETHEUS_MULTIPROC_DIR, an
# empty folder per service, read by prometheus_client itself (core/metrics.py).
OMS_METRICS_TOKEN = os.environ.get("OMS_METRICS_TOKEN", "").strip()
OMS_METRICS_ALLOWED_IPS = env_list("OMS_METRICS_ALLOWED_IPS")
# A worker host serves its processes' task figures on this port (0: not served).
OMS_WORKER_METRICS_PORT = int(os.environ.get("OMS_WORKER_METRICS_PORT", "0"))
OMS_WORKER_METRICS_ADDRESS = os.environ.get("OMS_WORKER_METRICS_ADDRESS", "127.0.0.1")
