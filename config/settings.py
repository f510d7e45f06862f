"""Settings for the transfer case-tracking service: one module, everything from the environment.

Development defaults need no servers (SQLite, the Celery file-system transport). With
``DJANGO_ENV=production`` the variables marked required must be set and well-formed, or start-up
stops with a message naming the variable.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ssl
from pathlib import Path

import csp.constants
import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured(
        f"DJANGO_ENV must be development, test or production, not {DJANGO_ENV!r}"
    )
PRODUCTION = DJANGO_ENV == "production"


def _required(name: str, default: str) -> str:
    """A variable production must set; development falls back to ``default``."""
    value = env.str(name, default="")
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(f"{name} must be set when DJANGO_ENV=production")
    return default


SECRET_KEY = _required("SECRET_KEY", "dev-insecure-secret-key-not-for-production-use-0123456789")
if PRODUCTION and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters in production")
DEBUG = env.bool("DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DJANGO_ENV=production")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "agencies",
    "accounts",
    "cases",
    "workflow",
    "notifications",
    # Signed documents, the applicant pages, the staff workbench
    "documents",
    "portal",
    "desk",
    "django_htmx",
    # REST API
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_prometheus",
    # django-axes, under a name people read (accounts/axes_app.py)
    "accounts.axes_app.AxesConfig",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.sessions.SessionRenewalMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Neither reads the body; the upload check below needs the user and the messages.
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # request.htmx: the workbench answers an in-place update with the part that changed.
    "django_htmx.middleware.HtmxMiddleware",
    # Before CSRF's check, which reads a form's body (uploads included).
    "config.errors.UploadSizeMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # DEBUG's technical 404 page lists the URL patterns: people get the real page (config/errors.py).
    "config.errors.NotFoundPageMiddleware",
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Project-wide overrides of other apps' templates (the admin's search form).
        "DIRS": [BASE_DIR / "overrides"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context.page_settings",
            ],
        },
    },
]

try:
    DATABASES = {
        "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
    }
except (ImproperlyConfigured, ValueError, KeyError) as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is malformed: {exc}") from exc
if PRODUCTION and not env.str("DATABASE_URL", default=""):
    raise ImproperlyConfigured("DATABASE_URL must be set when DJANGO_ENV=production")
# django-environ accepts almost anything ("nonsense" becomes an empty engine); say so at start-up.
_engine = DATABASES["default"].get("ENGINE", "")
if _engine not in {"django.db.backends.postgresql", "django.db.backends.sqlite3"} or not (
    DATABASES["default"].get("NAME")
):
    raise ImproperlyConfigured(
        "DATABASE_URL is malformed: use postgres://user:password@host:port/name "
        "(or sqlite:///path in development)"
    )
if PRODUCTION and _engine != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL when DJANGO_ENV=production")
DATABASES["default"].setdefault("ATOMIC_REQUESTS", False)
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60 if PRODUCTION else 0)
if _engine == "django.db.backends.postgresql" and env.bool("DB_SERVER_SIDE_BINDING", default=False):
    # psycopg sends parameters apart from the statement and prepares a statement on the server
    # after it ran a few times on a connection (prepare_threshold): no quoting in Python, no
    # parsing and planning of the same statement again. Not behind a transaction-pooling
    # PgBouncer older than 1.21 (it cannot follow prepared statements): docs/operations.md.
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]

# --- pages ----------------------------------------------------------------------------------------
# Sessions end 30 minutes after the last request (each request renews them) and with the browser.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=30 * 60)
# Renewed by config.sessions.SessionRenewalMiddleware at most once a minute, not written on every
# request.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
LOGIN_URL = "portal:signin"
CSRF_FAILURE_VIEW = "config.errors.csrf_failure"
# A strict Content-Security-Policy (django-csp): scripts, styles and images from this site only, no
# inline script anywhere; the pages work without JavaScript. Swagger UI relaxes styles only
# (config/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.constants.SELF],
        "script-src": [csp.constants.SELF],
        "style-src": [csp.constants.SELF],
        "img-src": [csp.constants.SELF, "data:"],
        "font-src": [csp.constants.SELF],
        "connect-src": [csp.constants.SELF],
        "object-src": [csp.constants.NONE],
        "base-uri": [csp.constants.SELF],
        "form-action": [csp.constants.SELF],
        "frame-ancestors": [csp.constants.NONE],
    }
}
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Attachments (the case's materials) go through Django's storage API: the file system under
# var/media by default (never served as static files: the API hands them out after the access
# check), or an S3-compatible bucket when ATTACHMENT_S3_BUCKET is set (django-storages; credentials
# from the usual AWS_* variables or the instance's role).
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
ATTACHMENT_S3_BUCKET = env.str("ATTACHMENT_S3_BUCKET", default="")
_default_storage = (
    {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": ATTACHMENT_S3_BUCKET,
            "endpoint_url": env.str("ATTACHMENT_S3_ENDPOINT_URL", default="") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
    if ATTACHMENT_S3_BUCKET
    else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
)
# Documents (documents/): signed with each issuing agency's key and certificate from
# DOCUMENT_PKI_DIR (agency-<code>.key, agency-<code>.crt, the chain in ca.crt). In development
# and tests a development CA there issues them on first use (DOCUMENT_DEV_PKI); production must
# provide the files. The font must be TrueType with Chinese glyphs (embedded in each PDF).
DOCUMENT_PKI_DIR = env.path("DOCUMENT_PKI_DIR", default=VAR_DIR / "pki")
DOCUMENT_DEV_PKI = env.bool("DOCUMENT_DEV_PKI", default=not PRODUCTION)
DOCUMENT_KEY_PASSWORD = env.str("DOCUMENT_KEY_PASSWORD", default="")
DOCUMENT_FONT_PATH = env.str(
    "DOCUMENT_FONT_PATH", default="/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
)
DOCUMENT_FONT_INDEX = env.int("DOCUMENT_FONT_INDEX", default=0)
# Where people reach the service: the documents' QR codes and printed addresses point here.
# Required in production: a document's QR code is issued once and never changes.
PUBLIC_BASE_URL = _required("PUBLIC_BASE_URL", "http://127.0.0.1:8000")
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
# Files one case may hold: materials are a handful of documents; a client uploading in a loop is
# stopped here (and by the per-account "upload" throttle) before it fills the store.
ATTACHMENT_MAX_PER_CASE = env.int("ATTACHMENT_MAX_PER_CASE", default=50)
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- personal data -------------------------------------------------------------------------------
# ID numbers are encrypted with Fernet. ID_NUMBER_KEYS is a comma-separated list: the first key
# encrypts, every key decrypts, so a new key can be put in front while rows are re-encrypted.
# ID_NUMBER_DIGEST_KEY keys the HMAC used to find a case by ID number without decrypting.
_dev_key = base64.urlsafe_b64encode(hashlib.sha256(SECRET_KEY.encode()).digest()).decode()
ID_NUMBER_KEYS = [k.strip() for k in _required("ID_NUMBER_KEYS", _dev_key).split(",") if k.strip()]
for _key in ID_NUMBER_KEYS:
    try:
        Fernet(_key.encode())
    except ValueError:
        # Never echo the key itself.
        raise ImproperlyConfigured(
            "ID_NUMBER_KEYS must be comma-separated Fernet keys (32 url-safe base64-encoded bytes)"
        ) from None
ID_NUMBER_DIGEST_KEY = _required("ID_NUMBER_DIGEST_KEY", "dev-digest-" + SECRET_KEY)

# --- the transfer rules --------------------------------------------------------------------------
# After a request for materials the stage's clock restarts with the full window ("restart", the
# national rule) or resumes with the working days that were left ("resume").
MATERIALS_CLOCK_POLICY = env.str("MATERIALS_CLOCK_POLICY", default="restart")
if MATERIALS_CLOCK_POLICY not in {"restart", "resume"}:
    raise ImproperlyConfigured("MATERIALS_CLOCK_POLICY must be 'restart' or 'resume'")
# How often a process re-checks whether the working-day calendar changed (seconds).
CALENDAR_RELOAD_SECONDS = env.int("CALENDAR_RELOAD_SECONDS", default=30)

# --- security in production ----------------------------------------------------------------------
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "filters": {
        "mask_id_numbers": {"()": "config.logging_filters.MaskIdNumbersFilter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["mask_id_numbers"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Django's defaults give these loggers handlers of their own (a DEBUG-only console, the
        # runserver line) that bypass the mask: everything goes to the masked console instead.
        "django": {"handlers": [], "propagate": True},
        "django.server": {"handlers": [], "propagate": True},
    },
}

if DJANGO_ENV == "test":
    # Hashing cost is not what the tests measure.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# --- REST API ------------------------------------------------------------------------------------
# DRF with JWT (Bearer) and session auth; problem-details errors from one handler
# (api/exceptions.py); drf-spectacular for the OpenAPI schema; django-axes locks out repeated
# login failures; throttle rates are env-driven so benchmarks can lift them.
AUTHENTICATION_BACKENDS = [
    # Counts failures and refuses locked-out credentials; must come first (django-axes).
    "config.auth.AxesBackend",
    "django.contrib.auth.backends.ModelBackend",
]
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # simplejwt's, remembering the tokens it validated (api/authentication.py).
        "api.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_THROTTLE_CLASSES": [
        "core.throttling.AnonThrottle",
        "core.throttling.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="120/min"),
        "user": env.str("THROTTLE_USER", default="1200/min"),
        "status_lookup": env.str("THROTTLE_STATUS_LOOKUP", default="10/min"),
        "login": env.str("THROTTLE_LOGIN", default="20/min"),
        "id_lookup": env.str("THROTTLE_ID_LOOKUP", default="20/hour"),
        "upload": env.str("THROTTLE_UPLOAD", default="60/hour"),
        "document_verification": env.str("THROTTLE_DOCUMENT_VERIFICATION", default="60/min"),
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.exceptions.problem_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": True,
    "STRICT_JSON": True,
    # How many proxies of ours stand in front of gunicorn (docs/operations.md): 0 trusts no
    # X-Forwarded-For at all, so a client cannot pick the address its requests are counted under.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
}
# Bodies above this are refused with 413 (the JSON parser enforces it for API requests too).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=64 * 1024)
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": dt.timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": dt.timedelta(hours=env.int("JWT_REFRESH_HOURS", default=24)),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "UPDATE_LAST_LOGIN": False,
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default=SECRET_KEY),
    # A refresh token is good once: refreshing returns a new one and blacklists the old.
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    # Every token carries a digest of the account's password hash: a password change ends them all
    # (a deactivation too: CHECK_USER_IS_ACTIVE, simplejwt's default).
    "CHECK_REVOKE_TOKEN": True,
    "TOKEN_REFRESH_SERIALIZER": "api.serializers.TokenRefreshSerializer",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "医保关系转移接续 API",
    "DESCRIPTION": (
        "Case tracking for basic medical insurance relationship transfers. Errors are problem "
        "details (RFC 9457, application/problem+json) with a stable `code`; messages follow "
        "Accept-Language (zh-Hans by default, en)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's files are served from our own static files: agency networks are often closed.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "CaseStateEnum": "cases.states.CaseState",
        "ActionEnum": "cases.states.Action",
        "UserActionEnum": "api.serializers.USER_ACTION_CHOICES",
        "StageEnum": "agencies.policies.Stage",
        "ResponsibleEnum": "agencies.policies.Responsible",
        "RejectReasonEnum": "cases.states.RejectReason",
        "InsuranceTypeEnum": "cases.states.InsuranceType",
        "BalanceOutcomeEnum": "cases.states.BalanceOutcome",
        "CaseKindEnum": "cases.states.CaseKind",
        "IntraProvinceModeEnum": "agencies.policies.IntraProvinceMode",
        "MainBasisEnum": "cases.states.MainBasis",
        "DocumentKindEnum": "documents.models.DocumentKind",
    },
}
# Django's cache (CACHE_URL; local memory by default). The throttle counters have caches of their
# own, below REDIS_URL: Redis shared by every process and host, and a local fallback.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
# Login lock-out (django-axes): 5 failures for one username from one address lock that pair out for
# 15 minutes; answered 429 with problem details (config/auth.py, api/views/auth.py).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
AXES_LOCKOUT_CALLABLE = "config.auth.lockout_response"
# The address a failure is counted under: the throttles' rule (NUM_PROXIES), not ipware's guess.
AXES_CLIENT_IP_CALLABLE = "core.throttling.client_address"

# --- Celery, notifications and the SLA scan ------------------------------------------------------
# Broker: Redis (REDIS_URL) in production and tests; without it the file-system transport in
# var/celery, so `make run` needs no server. Messages are JSON only. Beat's schedule is in code
# (config/celery.py); in production beat holds a Redis lock (celery-redbeat), so a second beat
# can stand by without double-firing.
REDIS_URL = env.str("REDIS_URL", default="")
# Throttle counters (core.throttling.SharedCounters): in Redis when there is one, so the limits hold
# across every gunicorn worker and host; in this process's memory while Redis is unreachable (short
# timeouts: a request waits at most that long before counting locally). Without Redis (make run)
# they are per process.
THROTTLE_REDIS_URL = env.str("THROTTLE_REDIS_URL", default=REDIS_URL)
CACHES["throttle"] = (
    {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": THROTTLE_REDIS_URL,
        "KEY_PREFIX": env.str("THROTTLE_KEY_PREFIX", default="throttle"),
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.25, "SOCKET_TIMEOUT": 0.25},
    }
    if THROTTLE_REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "throttle"}
)
CACHES["throttle_fallback"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "throttle-fallback",
}
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured("REDIS_URL is malformed: use redis://host:port/db or rediss://...")
if PRODUCTION and not REDIS_URL:
    raise ImproperlyConfigured("REDIS_URL must be set when DJANGO_ENV=production")
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=90)
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # kombu's Redis transport with a guard that keeps a worker alive through a Redis outage
    # (config/broker.py). Named explicitly, so kombu no longer reads TLS from the rediss://
    # scheme: a rediss:// URL gets certificate checking here (kombu's default was none).
    CELERY_BROKER_TRANSPORT = "config.broker:Transport"
    if REDIS_URL.startswith("rediss://"):
        CELERY_BROKER_USE_SSL = {"ssl_cert_reqs": ssl.CERT_REQUIRED}
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Unacknowledged (acks_late) messages come back after this; far above the longest task.
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
        "socket_connect_timeout": 3,
    }
else:
    CELERY_BROKER_URL = "filesystem://"
    _celery_dir = VAR_DIR / "celery"
    for _sub in ("out", "processed", "control"):
        (_celery_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_dir / "out"),
        "data_folder_out": str(_celery_dir / "out"),
        "processed_folder": str(_celery_dir / "processed"),
        # Exchange tables; the default is ./control in whatever directory the process started.
        "control_folder": str(_celery_dir / "control"),
        # The transport polls its folder; the default 1 s makes a demo's backlog crawl.
        "polling_interval": 0.1,
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # logs go through LOGGING above
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A transition's on-commit publish must not hang a request while Redis is away: a short retry,
# then the row waits for the sweeper.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
if PRODUCTION:
    # redbeat's scheduler, riding out Redis outages instead of exiting (config/beat.py).
    CELERY_BEAT_SCHEDULER = "config.beat:ResilientRedBeatScheduler"
    CELERY_REDBEAT_REDIS_URL = env.str("REDBEAT_REDIS_URL", default=REDIS_URL)
    CELERY_REDBEAT_LOCK_TIMEOUT = env.int("REDBEAT_LOCK_TIMEOUT", default=300)
    # Bounded waits: a Redis that stops answering (not refusing) must not hang beat past its lock.
    CELERY_REDBEAT_REDIS_OPTIONS = {"socket_connect_timeout": 3, "socket_timeout": 5}

# The SLA scan claims at most this many clocks per transaction (its memory is bounded by it).
SLA_SCAN_BATCH_SIZE = env.int("SLA_SCAN_BATCH_SIZE", default=2000)
# Delivery: attempts before a row is failed, exponential backoff between them, how long a worker's
# claim on a row lasts (above CELERY_TASK_TIME_LIMIT, so a live worker never loses it), and after
# how long the sweeper re-queues a row still pending.
NOTIFICATION_MAX_ATTEMPTS = env.int("NOTIFICATION_MAX_ATTEMPTS", default=5)
NOTIFICATION_RETRY_BACKOFF_SECONDS = env.float("NOTIFICATION_RETRY_BACKOFF_SECONDS", default=30.0)
NOTIFICATION_RETRY_BACKOFF_MAX_SECONDS = env.float(
    "NOTIFICATION_RETRY_BACKOFF_MAX_SECONDS", default=1800.0
)
NOTIFICATION_LEASE_SECONDS = env.float(
    "NOTIFICATION_LEASE_SECONDS", default=CELERY_TASK_TIME_LIMIT + 30
)
NOTIFICATION_SWEEP_AFTER_SECONDS = env.float("NOTIFICATION_SWEEP_AFTER_SECONDS", default=120.0)
# Channels. Email through Django's backends (SMTP in production: EMAIL_HOST etc.).
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="noreply@yibao.example")
SMS_BACKEND = env.str("SMS_BACKEND", default="notifications.sms.LoggingSmsGateway")
SMS_FILE_PATH = env.str("SMS_FILE_PATH", default=str(VAR_DIR / "sms.jsonl"))
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
