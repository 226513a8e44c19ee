"""GridCare settings. Everything that differs between a demo and production comes from the
environment: DATABASE_URL, GRIDCARE_SECRET_KEY, GRIDCARE_DEBUG, GRIDCARE_ALLOWED_HOSTS, GRIDCARE_VAR_DIR,
GRIDCARE_TASK_BACKEND, GRIDCARE_HTTPS (and GRIDCARE_HSTS_SECONDS), GRIDCARE_PG_PREPARE, GRIDCARE_PG_PIPELINE. `gridcare check --deploy`
reviews them."""
import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = Path(os.environ.get("GRIDCARE_PROJECT_DIR", BASE_DIR.parent.parent))
VAR_DIR = Path(os.environ.get("GRIDCARE_VAR_DIR", PROJECT_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = os.environ.get("GRIDCARE_SECRET_KEY", "gridcare-demo-insecure-key-change-me-in-production")  # DEMO_SECRET_KEY
DEBUG = os.environ.get("GRIDCARE_DEBUG", "0") == "1"
ALLOWED_HOSTS = os.environ.get("GRIDCARE_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("GRIDCARE_CSRF_TRUSTED_ORIGINS", "").split(",") if o]
DEMO_SECRET_KEY = "gridcare-demo-insecure-key-change-me-in-production"

# Behind the intranet's TLS reverse proxy (GRIDCARE_HTTPS=1): the proxy says the request came over HTTPS
# (X-Forwarded-Proto), cookies go over HTTPS only, plain HTTP is redirected; HSTS only when asked for
# (GRIDCARE_HSTS_SECONDS), since a browser then refuses plain HTTP to the host for that long.
if os.environ.get("GRIDCARE_HTTPS", "0") == "1":
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("GRIDCARE_HSTS_SECONDS", "0"))
SILENCED_SYSTEM_CHECKS = ["security.W021"]  # HSTS preload lists are for public sites, not an intranet host

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tasks",
    "django_tasks_db",
    "ninja",  # /api/docs served from django-ninja's own static Swagger UI, not its CDN (isolated intranet)
    "gridcare.core",
    "gridcare.accounts",
    "gridcare.grid",
    "gridcare.customers",
    "gridcare.notifications",
    "gridcare.workorders",
    "gridcare.outages",
    "gridcare.analytics",
    "gridcare.knowledge",
    "gridcare.intelligence",
    "gridcare.metering",
    "gridcare.billing",
    "gridcare.hall",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "gridcare.core.middleware.ChineseByDefaultMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "gridcare.core.middleware.AuditActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "gridcare.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "gridcare.accounts.context.navigation",
            ],
        },
    },
]
WSGI_APPLICATION = "gridcare.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'gridcare.sqlite3'}",
        conn_max_age=int(os.environ.get("GRIDCARE_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the task worker use the demo database at the same time.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
# The fixed statements of the intake path (core.fixed_sql.cursor) are prepared on PostgreSQL; 0 turns that
# off for a connection pooler in transaction mode that cannot keep prepared statements (PgBouncer < 1.21).
GRIDCARE_PG_PREPARE = os.environ.get("GRIDCARE_PG_PREPARE", "1") == "1"
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and GRIDCARE_PG_PREPARE:
    # psycopg prepares nothing, not even a statement executed with prepare=True, on a connection without a
    # prepare threshold, and Django opens its connections without one. A threshold no statement reaches
    # prepares exactly the statements asked for (core.fixed_sql) and leaves every ORM query unprepared, as
    # before: a generic plan could be much slower for a time range (bench/README.md, "Tried and not adopted").
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 2**31 - 1)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend plus deferred writes: rows nobody reads back in the transaction (audit rows, an
    # order's events, the after-intake queue) travel with the next statement or the COMMIT, in one pipeline
    # (core/pgbackend/base.py). GRIDCARE_PG_PIPELINE=0 writes each at once.
    DATABASES["default"]["ENGINE"] = "gridcare.core.pgbackend"
GRIDCARE_PG_PIPELINE = os.environ.get("GRIDCARE_PG_PIPELINE", "1") == "1"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "zh-hans"
# Bootstrap's alert classes: an error message is `alert-danger` (Django's default tag `error` has no style)
MESSAGE_TAGS = {40: "danger"}  # django.contrib.messages.constants.ERROR
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
NODE_MODULES = PROJECT_DIR / "node_modules"
STATICFILES_DIRS = [BASE_DIR / "static"]
if NODE_MODULES.exists():
    # Front-end packages installed from the npm registry at set-up (package-lock.json); never a CDN.
    STATICFILES_DIRS += [
        ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
        ("vendor/echarts", NODE_MODULES / "echarts" / "dist"),
        ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Background work: the Django Tasks API. Embedded default: the database backend with
# `gridcare db_worker`; production may point GRIDCARE_TASK_BACKEND at another backend (e.g. RQ).
TASKS = {
    "default": {
        "BACKEND": os.environ.get("GRIDCARE_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# Login throttling: failures per username and per client address within the window.
GRIDCARE_LOGIN_MAX_FAILURES = int(os.environ.get("GRIDCARE_LOGIN_MAX_FAILURES", "5"))
GRIDCARE_LOGIN_WINDOW_SECONDS = int(os.environ.get("GRIDCARE_LOGIN_WINDOW_SECONDS", "900"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("GRIDCARE_LOG_LEVEL", "WARNING")},
}
