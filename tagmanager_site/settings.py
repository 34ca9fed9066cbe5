"""Settings for Tag Manager, read from the environment (and `.env` if present)."""

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)

# Good enough for a developer's own machine only.
_PLACEHOLDER_SECRET_KEY = "insecure-development-key"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default=_PLACEHOLDER_SECRET_KEY)
if not DEBUG and (SECRET_KEY == _PLACEHOLDER_SECRET_KEY or len(SECRET_KEY) < 32):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of 32 characters or more "
        "when DEBUG is off (see .env.example)."
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_rq",
    "tools",
    "jobs",
    # After the apps whose permissions its roles hold: its post_migrate step
    # needs them to exist.
    "accounts",
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
    "django_htmx.middleware.HtmxMiddleware",
    "tagmanager_site.middleware.HtmxLoginRedirectMiddleware",
]

ROOT_URLCONF = "tagmanager_site.urls"
WSGI_APPLICATION = "tagmanager_site.wsgi.application"

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


def _sqlite_options(config: dict) -> dict:
    """WAL and a busy timeout let the web process and workers write together."""
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config.setdefault("OPTIONS", {}).update(
            {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA busy_timeout=20000;"
                ),
            }
        )
        config.setdefault("TEST", {})["NAME"] = str(
            VAR_DIR / f"test_{Path(config['NAME']).name}"
        )
    return config


def _sandbox_default_url(database_url: str) -> str:
    """Where the sandbox lives when SANDBOX_DATABASE_URL is not set.

    Beside a SQLite product database, another SQLite file. Beside PostgreSQL,
    a database of its own on the same server, reached with the same role and
    named after the product's with "_sandbox" added: one server to run, and
    the tests exercise the sandbox's locking on PostgreSQL too. Not the
    product's own database: the two aliases would share one django_migrations
    table, so migrating one would record the other's migrations as applied
    without creating its tables.
    """
    if env.db_url_config(database_url)["ENGINE"] != "django.db.backends.postgresql":
        return f"sqlite:///{VAR_DIR / 'sandbox.sqlite3'}"

    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}_sandbox"))


# An empty URL counts as unset, so a copied .env.example may leave it blank.
_DATABASE_URL = env.str("DATABASE_URL", default="") or (
    f"sqlite:///{VAR_DIR / 'tagmanager.sqlite3'}"
)
DATABASES = {"default": _sqlite_options(env.db_url_config(_DATABASE_URL))}

SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=DEBUG)
if SANDBOX_ENABLED:
    INSTALLED_APPS.append("sandbox")
    DATABASES["sandbox"] = _sqlite_options(
        env.db_url_config(
            env.str("SANDBOX_DATABASE_URL", default="")
            or _sandbox_default_url(_DATABASE_URL)
        )
    )
    DATABASE_ROUTERS = ["sandbox.routers.SandboxRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

_VALIDATORS = "django.contrib.auth.password_validation"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"{_VALIDATORS}.UserAttributeSimilarityValidator"},
    {"NAME": f"{_VALIDATORS}.MinimumLengthValidator"},
    {"NAME": f"{_VALIDATORS}.CommonPasswordValidator"},
    {"NAME": f"{_VALIDATORS}.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "tools:dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
# Serve straight from the apps' static folders too, so that a fresh checkout
# works before `collectstatic` has run.
WHITENOISE_USE_FINDERS = True
STATICFILES_DIRS = [BASE_DIR / "static"]

SESSION_COOKIE_HTTPONLY = True
# htmx sends the token from the page (hx-headers), so scripts never need the
# cookie.
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
X_FRAME_OPTIONS = "DENY"

# Shared by the web processes and workers (the list of views, for one).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": VAR_DIR / "cache",
    }
}

# Redis only carries the queue; job state lives in the database.
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
# A 50,000-ticket job runs for many minutes; rq's 180 s default would kill it
# half-way.
RQ_JOB_TIMEOUT = env.int("RQ_JOB_TIMEOUT", default=6 * 60 * 60)
RQ_QUEUES = {
    "default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": RQ_JOB_TIMEOUT},
}
# Workers look for stopped jobs when they start and whenever a job's
# work-horse dies (see jobs/worker.py).
RQ = {"WORKER_CLASS": "jobs.worker.RecoveringWorker"}

# The queue dashboards. django-rq's is mounted at /django-rq/ behind the
# operators' permission (tagmanager_site/queue_dashboard.py); django-rq's own
# copy inside the admin would let in any staff account, so it is not
# registered. rq-dashboard runs as a process of its own on 127.0.0.1 (the
# Procfile's "dashboard"), behind HTTP basic auth from RQ_DASHBOARD_USERNAME and
# RQ_DASHBOARD_PASSWORD, which only that process reads; the navbar links to it
# on RQ_DASHBOARD_PORT.
RQ_SHOW_ADMIN_LINK = False
RQ_DASHBOARD_PORT = env.int("RQ_DASHBOARD_PORT", default=9181)

# Crash recovery. A running job refreshes its heartbeat every
# JOB_HEARTBEAT_SECONDS; once it has been quiet for JOB_STALE_AFTER_SECONDS
# (or its process is seen gone on this machine) the job is queued again and
# resumes where it stopped. `recover_jobs --every` looks that often.
JOB_HEARTBEAT_SECONDS = env.float("JOB_HEARTBEAT_SECONDS", default=10.0)
JOB_STALE_AFTER_SECONDS = env.float("JOB_STALE_AFTER_SECONDS", default=60.0)
JOB_RECOVERY_INTERVAL_SECONDS = env.float("JOB_RECOVERY_INTERVAL_SECONDS", default=20.0)
if JOB_STALE_AFTER_SECONDS < 2 * JOB_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured(
        "JOB_STALE_AFTER_SECONDS must be at least twice JOB_HEARTBEAT_SECONDS, "
        "or live jobs would be taken for dead."
    )

# Zendesk. ZENDESK_URL wins over the subdomain; with the sandbox on and no
# account configured, the client talks to the sandbox mounted by this app.
ZENDESK_SUBDOMAIN = env.str("ZENDESK_SUBDOMAIN", default="")
ZENDESK_EMAIL = env.str("ZENDESK_EMAIL", default="")
ZENDESK_API_TOKEN = env.str("ZENDESK_API_TOKEN", default="")
ZENDESK_OAUTH_TOKEN = env.str("ZENDESK_OAUTH_TOKEN", default="")
_default_zendesk_url = (
    f"https://{ZENDESK_SUBDOMAIN}.zendesk.com"
    if ZENDESK_SUBDOMAIN
    else "http://127.0.0.1:8000/sandbox"
)
ZENDESK_URL = env.str("ZENDESK_URL", default=_default_zendesk_url).rstrip("/")
ZENDESK_CONNECT_TIMEOUT = env.float("ZENDESK_CONNECT_TIMEOUT", default=5.0)
ZENDESK_READ_TIMEOUT = env.float("ZENDESK_READ_TIMEOUT", default=60.0)
ZENDESK_MAX_RETRIES = env.int("ZENDESK_MAX_RETRIES", default=5)
ZENDESK_BACKOFF_SECONDS = env.float("ZENDESK_BACKOFF_SECONDS", default=1.0)
# 429s are waited out for up to this long per call before the call fails.
ZENDESK_RATE_LIMIT_WAIT_SECONDS = env.float(
    "ZENDESK_RATE_LIMIT_WAIT_SECONDS", default=600.0
)
# How long a chunk may wait for its Zendesk job, or for room to queue one.
ZENDESK_JOB_WAIT_SECONDS = env.float("ZENDESK_JOB_WAIT_SECONDS", default=600.0)
# How many update_many jobs one run keeps queued at Zendesk at once. Zendesk
# allows 30 per account, shared with every other run and integration; 20
# leaves a third of them, and the engine also keeps within what Zendesk's
# zendesk-ratelimit-inflight-jobs header says is left. Keeping up with the
# rate limit takes about (requests a second) x (seconds a Zendesk job takes).
ZENDESK_MAX_JOBS_IN_FLIGHT = env.int("ZENDESK_MAX_JOBS_IN_FLIGHT", default=20)

# The rate budget. Zendesk limits requests per account, and agents working in
# Zendesk spend the same allowance: every worker and web process together
# keep to ZENDESK_RATE_BUDGET_PERCENT of the account's limit, through a token
# bucket in the queue's Redis (zendesk/budget.py).
ZENDESK_RATE_LIMIT_PER_MINUTE = env.int("ZENDESK_RATE_LIMIT_PER_MINUTE", default=700)
ZENDESK_RATE_BUDGET_PERCENT = env.int("ZENDESK_RATE_BUDGET_PERCENT", default=80)
if ZENDESK_RATE_LIMIT_PER_MINUTE <= 0:
    raise ImproperlyConfigured("ZENDESK_RATE_LIMIT_PER_MINUTE must be above 0.")
if not 1 <= ZENDESK_RATE_BUDGET_PERCENT <= 100:
    raise ImproperlyConfigured("ZENDESK_RATE_BUDGET_PERCENT must be between 1 and 100.")

# The sandbox's behaviour, tuned like a real Enterprise account by default.
SANDBOX_RATE_LIMIT_PER_MINUTE = env.int("SANDBOX_RATE_LIMIT_PER_MINUTE", default=700)
SANDBOX_JOB_LATENCY_SECONDS = env.float("SANDBOX_JOB_LATENCY_SECONDS", default=0.5)
SANDBOX_MAX_QUEUED_JOBS = env.int("SANDBOX_MAX_QUEUED_JOBS", default=30)


# Sandbox fault modes, all off by default: standing faults that reproduce the
# ways Zendesk misbehaves (see sandbox/fault_modes.py). Rates are fractions of
# calls, jobs or tickets, from 0 to 1. A "fault modes" row saved in the admin
# replaces every one of these at run time until it is deleted.
def _fault_rate(name: str) -> float:
    rate = env.float(name, default=0.0)
    if not 0 <= rate <= 1:
        raise ImproperlyConfigured(f"{name} must be a fraction from 0 to 1.")
    return rate


SANDBOX_FAULT_THROTTLE_RATE = _fault_rate("SANDBOX_FAULT_THROTTLE_RATE")
SANDBOX_FAULT_RETRY_AFTER_SECONDS = env.int(
    "SANDBOX_FAULT_RETRY_AFTER_SECONDS", default=10
)
SANDBOX_FAULT_SERVER_ERROR_RATE = _fault_rate("SANDBOX_FAULT_SERVER_ERROR_RATE")
SANDBOX_FAULT_DELAY_SECONDS = env.float("SANDBOX_FAULT_DELAY_SECONDS", default=0.0)
SANDBOX_FAULT_DELAY_PATHS = env.list("SANDBOX_FAULT_DELAY_PATHS", default=[])
SANDBOX_FAULT_JOB_FAIL_RATE = _fault_rate("SANDBOX_FAULT_JOB_FAIL_RATE")
SANDBOX_FAULT_JOB_STUCK_RATE = _fault_rate("SANDBOX_FAULT_JOB_STUCK_RATE")
SANDBOX_FAULT_JOB_VANISH_RATE = _fault_rate("SANDBOX_FAULT_JOB_VANISH_RATE")
SANDBOX_FAULT_TOO_MANY_JOBS = env.bool("SANDBOX_FAULT_TOO_MANY_JOBS", default=False)
SANDBOX_FAULT_TICKET_FAIL_RATE = _fault_rate("SANDBOX_FAULT_TICKET_FAIL_RATE")
SANDBOX_FAULT_SEED = env.int("SANDBOX_FAULT_SEED", default=0)

# Tickets up to this many run in the request; more go to a worker.
TOOLS_INLINE_TICKET_LIMIT = env.int("TOOLS_INLINE_TICKET_LIMIT", default=500)
TOOLS_BACKGROUND_TICKET_LIMIT = env.int("TOOLS_BACKGROUND_TICKET_LIMIT", default=50_000)

DEMO_MODE = env.bool("DEMO_MODE", default=False)
DEMO_ADMIN_PASSWORD = env.str("DEMO_ADMIN_PASSWORD", default="")
DEMO_AGENT_PASSWORD = env.str("DEMO_AGENT_PASSWORD", default="")
DEMO_SUPERVISOR_PASSWORD = env.str("DEMO_SUPERVISOR_PASSWORD", default="")
DEMO_OPERATOR_PASSWORD = env.str("DEMO_OPERATOR_PASSWORD", default="")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.server": {"level": "WARNING"},
    },
}
