"""Settings, all from environment variables with defaults that run on a fresh machine.

With nothing set the platform uses SQLite and a local Redis (started by `scripts/run`).
Set DATABASE_URL / REDIS_URL to run on PostgreSQL and a Redis of your own.
"""

import contextlib
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Safe by default: DEBUG only when asked for (scripts/run asks), and no known key in production.
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "Set SECRET_KEY to a long random value (or DEBUG=true for local development)."
        )
    SECRET_KEY = "dev-only-insecure-key-set-SECRET_KEY-in-production"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

# HTTPS in production (docs/deploy.md); off by default so plain-HTTP development works.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
if env_bool("USE_X_FORWARDED_PROTO", False):
    # Only behind a proxy that sets this header itself, overwriting what the client sent.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_rq",
    "axes",
    "accounts",
    "detector",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    # Content-Security-Policy on HTML pages: no inline script anywhere (deepfake_site/csp.py).
    "deepfake_site.csp.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "deepfake_site.urls"
WSGI_APPLICATION = "deepfake_site.wsgi.application"

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
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"),
        conn_max_age=60,
        # A persistent connection is checked before reuse: a restarted database costs no request.
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Repeated failed sign-ins lock out (accounts/login_limits.py, accounts/lockout_handler.py):
# counted by django-axes in the shared cache, per username at one address and per address, with
# separate limits, so one user's failures never lock another out. The client address is
# REMOTE_ADDR unless that is one of TRUSTED_PROXIES (addresses or networks, comma-separated):
# then the address that proxy wrote in X-Forwarded-For (accounts/client_address.py).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", "")
AXES_HANDLER = "accounts.lockout_handler.LoginLimitsHandler"
AXES_CLIENT_IP_CALLABLE = "accounts.client_address.client_address"
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "10"))
LOGIN_ADDRESS_FAILURE_LIMIT = int(os.environ.get("LOGIN_ADDRESS_FAILURE_LIMIT", "100"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_COOLOFF_MINUTES", "15")))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.login_limits.login_locked_out_response"
AXES_ENABLE_ADMIN = False  # the cache handler keeps no database records to show
AXES_VERBOSE = False  # no banner on every start: commands keep their output to what they say
# Sign-ups per client address (accounts/signup_limits.py): each account has its own upload budget.
SIGNUP_RATE = os.environ.get("SIGNUP_RATE", "5/hour")
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "detector:analysis-list"
LOGOUT_REDIRECT_URL = "login"
# Mail (password resets, reviews that contradict a verdict): the console backend only with DEBUG.
# Configure an SMTP server with the variables below (docs/deploy.md). Without DEBUG and without an explicit
# EMAIL_BACKEND, messages are dropped with an error rather than printed (password-reset links
# would land in the log), and `check --deploy` warns (accounts/mail.py, accounts/checks.py).
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "accounts.mail.UnconfiguredEmailBackend",
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "noreply@localhost")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
# Where the site is reached, for links in emails sent outside a request.
SITE_URL = os.environ.get("SITE_URL", "http://localhost:8000")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "var" / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Uploaded media is private: it lives under MEDIA_ROOT but no URL maps to it; files are
# served only through detector views that check ownership.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
MEDIA_URL = "/private-media-is-not-served/"
MAX_UPLOAD_MB = int(os.environ.get("MAX_UPLOAD_MB", "200"))
# Uploaded files older than this many days are deleted (results are kept); 0 keeps them for ever.
MEDIA_RETENTION_DAYS = int(os.environ.get("MEDIA_RETENTION_DAYS", "0"))
FILE_UPLOAD_HANDLERS = ["detector.uploads.SizeLimitedUploadHandler"]
# Uploads stream to temp files here, beside the media and as private, not in /tmp: a web worker
# killed mid-upload leaves its file, and `manage.py media_audit --fix` removes it after an hour.
FILE_UPLOAD_TEMP_DIR = os.environ.get("FILE_UPLOAD_TEMP_DIR", str(MEDIA_ROOT / "tmp"))
with contextlib.suppress(OSError):  # at start-up; the upload handler makes it again if it goes
    Path(FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True, mode=0o700)
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

# Installed detector models (files + cards) live here, outside MEDIA_ROOT.
MODELS_ROOT = Path(os.environ.get("MODELS_ROOT", BASE_DIR / "var" / "models"))
# Published detectors (ml/models/catalog.py): a folder or http(s) address holding their files under
# the published names, used instead of the upstream addresses; empty: download upstream.
MODELS_MIRROR = os.environ.get("MODELS_MIRROR", "")
# The published detector `install_model --first-run` (scripts/run) installs: meso4-df or dfdc-b7.
DETECTORS = os.environ.get("DETECTORS", "meso4-df")

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
RQ_JOB_TIMEOUT = int(os.environ.get("RQ_JOB_TIMEOUT", "3600"))
# One queue per kind of work: `default` for light jobs, `gpu` for classification.
RQ_QUEUES = {
    "default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": RQ_JOB_TIMEOUT},
    "gpu": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": RQ_JOB_TIMEOUT},
}
# The cache holds upload budgets and failed sign-ins, so all web processes must share it: Redis, in a database
# of its own (clearing a cache flushes its whole database). CACHE_URL=locmem:// for one process.
CACHE_URL = os.environ.get("CACHE_URL", "redis://127.0.0.1:6379/1")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
        if CACHE_URL.startswith("locmem")
        else {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    )
}
# A per-process cache is what locmem:// asks for: login failures then count per process too.
SILENCED_SYSTEM_CHECKS = ["axes.W001"] if CACHE_URL.startswith("locmem") else []
# One budget per user for uploads and re-analyses, web and API together (detector/upload_budget.py).
UPLOAD_RATE = os.environ.get("API_UPLOAD_RATE", "60/hour")
# Analyses go to this queue; set ANALYSIS_QUEUE=gpu when a GPU worker serves that queue.
ANALYSIS_QUEUE = os.environ.get("ANALYSIS_QUEUE", "default")
# When an active model's card says "compute": "gpu_recommended", analyses go to this queue
# instead (empty: always ANALYSIS_QUEUE).
GPU_QUEUE = os.environ.get("GPU_QUEUE", "")
if GPU_QUEUE:
    RQ_QUEUES.setdefault(GPU_QUEUE, {"URL": REDIS_URL, "DEFAULT_TIMEOUT": RQ_JOB_TIMEOUT})
RQ_SHOW_ADMIN_LINK = True
# Result callbacks go only to public addresses; these hosts (names or IPs) are allowed anyway.
WEBHOOK_ALLOWED_HOSTS = env_list("WEBHOOK_ALLOWED_HOSTS", "")
# How a callback URL's host is looked up when it is given (detector/callback_guard.py): a dotted
# path to a function host, port -> addresses. Tests set their own, so they never use outside DNS.
CALLBACK_RESOLVER = "detector.callback_guard.system_resolve"
# The worker settles analyses whose job process died, and sweeps for orphans this often (seconds).
RQ = {"WORKER_CLASS": "detector.queue.worker.AnalysisWorker"}
SWEEP_INTERVAL_S = int(os.environ.get("SWEEP_INTERVAL_S", "30"))
# Pauses (seconds) before each retry of a result callback the receiver did not accept.
WEBHOOK_RETRY_INTERVALS = [10, 60, 300, 1800]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "detector.api.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "detector.api.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Deepfake detection API",
    "DESCRIPTION": "Upload images and videos, follow their analysis, fetch explained verdicts.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name for a choice set that several fields share (verdict and answer; review labels).
    "ENUM_NAME_OVERRIDES": {
        "VerdictEnum": "detector.models.Analysis.Verdict",
        "ReviewLabelEnum": "detector.models.Analysis.ReviewLabel",
    },
}

# Lines written while an analysis job runs carry its id (detector/queue/log_context.py).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"analysis_id": {"()": "detector.queue.log_context.AnalysisIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(analysis_id)s]: %(message)s"},
        "json": {"()": "detector.queue.log_context.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["analysis_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
