"""One settings module, driven by environment variables (see the table in README.md).

Defaults are embedded so that `make run` works on a bare machine: SQLite and kombu's filesystem
broker. Production points DATABASE_URL at PostgreSQL and CELERY_BROKER_URL at Redis.
"""
import datetime as dt
import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("MICROCODER_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Off unless asked for: a forgotten variable must never give a production server debug pages
# (they show settings, URL patterns and tracebacks). `make run` and the tests (pyproject's
# pytest env) turn it on.
DEBUG = env_bool("DEBUG", False)
DEV_SECRET_KEY = "dev-only-insecure-key-change-me"
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise RuntimeError(
            "SECRET_KEY must be set when DEBUG is off (production); for development set DEBUG=1 "
            "(`make run` does)"
        )
    SECRET_KEY = DEV_SECRET_KEY
elif SECRET_KEY == DEV_SECRET_KEY and not DEBUG:
    raise RuntimeError("SECRET_KEY is the development key, refused with DEBUG off; set a long random one")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our static files, not a CDN
    "axes",
    "csp",
    "curation",
    "training_jobs",
    "accounts",
    "evaluations",
]

MIDDLEWARE = [
    # First: answers /healthz/ before host validation and the TLS redirect (probes talk plain
    # HTTP to 127.0.0.1 inside the container).
    "microcoder_site.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: turns a locked-out login attempt into the 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "microcoder_site.urls"
WSGI_APPLICATION = "microcoder_site.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'microcoder.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file (not :memory:) so that a real worker process can share the test database; one per
    # test process, so that two test runs on one machine never share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test_microcoder_{os.getpid()}.sqlite3")}
    DATABASES["default"]["OPTIONS"] = {"timeout": 30, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"

# --- Redis (cache) and Celery -------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "celery-broker"
    for sub in ("queue", "processed", "control"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "data_folder_processed": str(_broker_dir / "processed"),
        "store_processed": False,
        "control_folder": str(_broker_dir / "control"),
    }
# Progress and results live on database rows; Celery's own result store is not used.
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True  # a killed worker loses nothing: the task is redelivered
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
# Queues: default, llm (I/O bound), sandbox (CPU bound), jobs (engine dispatch). The stage map
# routes every curation task to its stage's queue (curation.pipeline.route_task); then the rest.
CELERY_TASK_ROUTES = ["curation.pipeline.route_task", {"training_jobs.tasks.*": {"queue": "jobs"},
                                                       "evaluations.serving_sweep": {"queue": "jobs"}}]
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE = {
    "expire-review-leases": {"task": "curation.tasks.maintenance.expire_review_leases", "schedule": 300.0},
    "poll-training-runs": {"task": "training_jobs.tasks.poll_active", "schedule": 10.0},
    "sweep-eval-serving-jobs": {"task": "evaluations.serving_sweep", "schedule": 60.0},
}

# --- Imports ------------------------------------------------------------------------------
IMPORT_MAX_TEST_BYTES = int(os.environ.get("IMPORT_MAX_TEST_BYTES", str(16 * 1024 * 1024)))
IMPORT_MAX_DECOMPRESSED_BYTES = int(os.environ.get("IMPORT_MAX_DECOMPRESSED_BYTES", str(2 * 1024**3)))
IMPORT_CHUNK_SIZE = int(os.environ.get("IMPORT_CHUNK_SIZE", "1000"))
UPLOAD_DIR = VAR_DIR / "uploads"
# Graded files for the pass-rate import uploaded on the pipeline page (parsed in the request).
PASS_RATE_UPLOAD_MAX_BYTES = int(os.environ.get("PASS_RATE_UPLOAD_MAX_BYTES", 20 * 1024 * 1024))

# --- Judge --------------------------------------------------------------------------------
JUDGE_ALLOW_UNSANDBOXED = env_bool("JUDGE_ALLOW_UNSANDBOXED", False)
# The interpreter the sandbox runs Python solutions with (the system Python, never the app's
# virtualenv); a worker serving the sandbox queue refuses to start when it is missing.
JUDGE_PYTHON = os.environ.get("JUDGE_PYTHON", "/usr/bin/python3")

# --- LLM endpoint (any OpenAI-compatible server) ------------------------------------------
LLM_BASE_URL = os.environ.get("LLM_BASE_URL", "")
LLM_API_KEY = os.environ.get("LLM_API_KEY", "")
LLM_MODEL = os.environ.get("LLM_MODEL", "")
LLM_TEMPERATURE = float(os.environ.get("LLM_TEMPERATURE", "0.0"))
LLM_MAX_TOKENS = int(os.environ.get("LLM_MAX_TOKENS", "1024"))
LLM_TIMEOUT = float(os.environ.get("LLM_TIMEOUT", "60"))
LLM_CONCURRENCY = int(os.environ.get("LLM_CONCURRENCY", "16"))

# --- REST framework -----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Named, expiring, revocable tokens stored as SHA-256 digests (accounts.models.ApiToken).
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # One bucket per API token (per user for session calls, per address for anonymous ones).
    "DEFAULT_THROTTLE_CLASSES": ["accounts.throttles.ApiTokenRateThrottle"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "curation.api.exceptions.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "MicroCoder API",
    "VERSION": "1.0.0",
    # Swagger UI from drf-spectacular-sidecar's static files: /api/v1/docs/ works offline and
    # under `script-src 'self'`.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One schema name per choice set (two fields share VerificationStatus; several are "status").
    "ENUM_NAME_OVERRIDES": {
        "VerificationStatusEnum": "curation.models.VerificationStatus",
        "RunStatusEnum": "curation.models.RunStatus",
        "MatchStatusEnum": "curation.models.MatchStatus",
        "PredictionStatusEnum": "curation.models.PredictionStatus",
        "CalibrationMethodEnum": "curation.models.CalibrationMethod",
        "DuplicateMethodEnum": "curation.models.DuplicateMethod",
        "ContaminationMethodEnum": "curation.models.ContaminationMethod",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# --- Review -------------------------------------------------------------------------------
REVIEWS_PER_PROBLEM = int(os.environ.get("REVIEWS_PER_PROBLEM", "1"))
REVIEW_LEASE_MINUTES = int(os.environ.get("REVIEW_LEASE_MINUTES", "30"))
# A curator's adjusted weighted score further than this from the prediction goes to adjudication.
REVIEW_DISAGREEMENT_THRESHOLD = float(os.environ.get("REVIEW_DISAGREEMENT_THRESHOLD", "2.0"))
# Bulk accept/reject bypasses double review and adjudication, so only this role and up may do it.
BULK_REVIEW_ROLE = os.environ.get("BULK_REVIEW_ROLE", "adjudicator")

# --- Verification -------------------------------------------------------------------------
VERIFY_PARALLELISM = int(os.environ.get("VERIFY_PARALLELISM", str(os.cpu_count() or 2)))


# --- Security (production defaults; see README "Deployment") -------------------------------
# Static files are served by the app itself (whitenoise), with content-hashed, immutable names
# in production. With DEBUG on (make run, tests) names stay plain so no collectstatic is needed.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "microcoder_site.storage.StaticFilesStorage"
    },
}
# In development whitenoise serves straight from the app folders (no collectstatic needed).
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
if DEBUG:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# TLS: on by default in production. The app sits behind a TLS-terminating proxy that sets
# X-Forwarded-Proto; then HTTP is redirected, cookies are Secure and HSTS is sent. TLS=0 only for
# a trial on plain HTTP (check --deploy then warns, rightly).
TLS = env_bool("TLS", not DEBUG)
if TLS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    # Joining the browsers' preload list is a promise about the whole domain that only its owner
    # can make (SECURE_HSTS_PRELOAD=1); until then Django's reminder (W021) is not a defect.
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Content-Security-Policy (django-csp). Scripts only from our own static files: no inline code,
# no eval (htmx runs with allowEval off), nothing from a CDN. Styles: <style> elements and
# stylesheets only from 'self' (an injected <style> could read page content through attribute
# selectors); style *attributes* are allowed ('unsafe-inline' on style-src-attr only), because
# KaTeX's markup, Chart.js and progress bars size elements with them and a style attribute cannot
# select or exfiltrate anything. `data:` images for the SVG icons inside Swagger UI's and
# KaTeX's stylesheets.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-elem": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# Login throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one username from
# one address, that pair is locked out for LOGIN_LOCKOUT_MINUTES (the workspace login, the admin
# login and the API token endpoint all go through it). Locking the pair, not the account, keeps
# an attacker from locking a curator out from elsewhere. The address is REMOTE_ADDR (never a
# forgeable X-Forwarded-For): behind one proxy this is, in effect, a lockout per username.
AUTHENTICATION_BACKENDS = [
    "accounts.backends.LoginLockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = dt.timedelta(minutes=int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout_response"
AXES_VERBOSE = False
LOGGING.setdefault("loggers", {})["axes"] = {"level": "WARNING"}  # not one INFO line per login

# API rate limits (DRF throttles, read at request time so tests can change them).
API_TOKEN_RATE = os.environ.get("API_TOKEN_RATE", "1200/min")  # per token
API_TOKEN_CREATE_RATE = os.environ.get("API_TOKEN_CREATE_RATE", "10/hour")  # per user or address
API_TOKEN_MAX_DAYS = int(os.environ.get("API_TOKEN_MAX_DAYS", "365"))

# Webhooks: targets must resolve to public addresses. On-premise receivers are allowed by name:
# host names or CIDR ranges (e.g. "hooks.internal,10.20.0.0/16").
WEBHOOK_ALLOWED_HOSTS = env_list("WEBHOOK_ALLOWED_HOSTS", "")

# --- Training runs (training_jobs) ---------------------------------------------------------
# Job folders (logs, metrics, checkpoints) of local runs; Ray and Slurm targets name their own
# shared folder in their options (`jobs_root`). TRAINING_PYTHON is the interpreter of the
# training environment (`pip install '.[train]'`), never the web app's.
TRAINING_JOBS_DIR = Path(os.environ.get("TRAINING_JOBS_DIR", VAR_DIR / "training"))
TRAINING_PYTHON = os.environ.get("TRAINING_PYTHON", "")
TRAINING_PENDING_TIMEOUT_S = float(os.environ.get("TRAINING_PENDING_TIMEOUT_S", "3600"))
TRAINING_STALE_AFTER_S = float(os.environ.get("TRAINING_STALE_AFTER_S", "0"))  # 0: no staleness watchdog
# Evaluating a checkpoint: how long the evaluation waits for its serving job's /health (queueing
# on the cluster + loading the model) before it fails with the job's log tail.
EVAL_SERVE_TIMEOUT_S = float(os.environ.get("EVAL_SERVE_TIMEOUT_S", "900"))
