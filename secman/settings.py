"""The one settings module. Every value an operator may change is read from the
environment here, through the strict helpers in `secman.conf`; docs/configuration.md
lists them all."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from secman.conf import env, envbool, envchoice, envint, envlist, envzone, secret_key

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env("SECMAN_DATA_DIR", "var")).resolve()

DEBUG = envbool("SECMAN_DEBUG", False)
SECRET_KEY = secret_key(DATA_DIR)
ALLOWED_HOSTS = envlist("SECMAN_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = envlist("SECMAN_CSRF_TRUSTED_ORIGINS", [])

# --- database ---------------------------------------------------------------------------

DATABASE_URL = env("DATABASE_URL", "")
if not DATABASE_URL:
    # Built from the path itself, never through a URL: a '#', '?', '%' or space in the
    # data dir would otherwise be read as URL syntax ('/tmp/x#y' became '/tmp/x').
    _database: dict[str, Any] = {"ENGINE": "django.db.backends.sqlite3",
                                 "NAME": str(DATA_DIR / "secman.sqlite3")}
elif DATABASE_URL.startswith("sqlite:") and ("#" in DATABASE_URL or "?" in DATABASE_URL):
    raise ImproperlyConfigured(
        f"DATABASE_URL={DATABASE_URL!r} holds '#' or '?', which a URL reads as the end of "
        "the path: percent-encode them in the path (%23, %3F), or leave DATABASE_URL "
        "unset to use the SQLite file in SECMAN_DATA_DIR")
else:
    try:
        _database = dict(dj_database_url.parse(DATABASE_URL, conn_max_age=60))
    except Exception as exc:  # dj-database-url raises bare ValueErrors and KeyErrors
        raise ImproperlyConfigured(
            f"DATABASE_URL cannot be read ({exc}): use sqlite:///PATH or "
            "postgres://USER@HOST:PORT/NAME"
        ) from None
if _database["ENGINE"] == "django.db.backends.sqlite3":
    _database["CONN_MAX_AGE"] = 0
    _database["OPTIONS"] = {
        # WAL lets readers go on while one writer writes; IMMEDIATE takes the write lock at
        # the start of a transaction so two writers queue instead of failing half-way.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
        "PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": envint("SECMAN_SQLITE_TIMEOUT", 20, minimum=1, maximum=600),
    }
elif _database["ENGINE"] not in (
    "django.db.backends.postgresql",
    "django.db.backends.postgresql_psycopg2",
):
    raise ImproperlyConfigured(
        f"DATABASE_URL uses {_database['ENGINE']!r}: secman supports SQLite (sqlite:///PATH) "
        "and PostgreSQL (postgres://...) only"
    )
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- applications -------------------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "secman.core",
    "secman.people",
    "secman.authority",
    "secman.eventlog",
    "secman.documents",
    "secman.visits",
    "secman.physical",
    "secman.systems",
    "secman.privileged",
    "secman.logs",
    "secman.backups",
    "secman.incidents",
    "secman.recovery",
    "secman.software",
    "secman.support",
    "secman.compliance",
    "secman.dashboard",
]

MIDDLEWARE = [
    # First, so every entry a request makes (sign-ins and refused sign-ins included)
    # says it came through the web pages or the API.
    "secman.core.middleware.ChannelMiddleware",
    # Next, so that every error under /api/ (Django's own pages too) is answered in JSON.
    "secman.core.middleware.ApiErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Signed-in pages and API answers: Cache-Control no-store (static files never get here).
    "secman.core.middleware.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Last, so that a locked-out client is answered before any view runs.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "secman.urls"
WSGI_APPLICATION = "secman.wsgi.application"

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
                "secman.dashboard.context_processors.navigation",
            ],
        },
    },
]

# --- authentication -----------------------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "today"
LOGOUT_REDIRECT_URL = "login"

AXES_FAILURE_LIMIT = envint("SECMAN_LOGIN_FAILURE_LIMIT", 5, minimum=1, maximum=100)
AXES_COOLOFF_TIME = envint("SECMAN_LOGIN_COOLOFF_MINUTES", 30, minimum=1) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# Reverse proxies in front of secman (each appends to X-Forwarded-For); 0: none, and the
# header is ignored. The lockout and the sign-in entries use the same client address.
SECMAN_PROXY_COUNT = envint("SECMAN_PROXY_COUNT", 0, minimum=0, maximum=5)
AXES_CLIENT_IP_CALLABLE = "secman.core.addresses.client_address"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = envint("SECMAN_SESSION_HOURS", 12, minimum=1, maximum=24 * 30) * 3600
# Secure cookies need HTTPS in front of secman: set this when a TLS proxy serves it.
SECURE_COOKIES = envbool("SECMAN_SECURE_COOKIES", False)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Strict CSP: nothing inline, nothing from elsewhere. Pages are plain HTML forms and links
# (no htmx, no framework): what a browser does with a download, an error page or a reload
# is what the person gets.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- request and upload sizes (docs/security.md, "Uploads") --------------------------------

# The whole request body: above it, 413 before anything reads it (core.uploads). It must
# hold the largest file secman accepts (compliance evidence, 20 MB) with the form around it.
SECMAN_MAX_REQUEST_BYTES = envint("SECMAN_MAX_REQUEST_MB", 25, minimum=1,
                                  maximum=1024) * 1024 * 1024
MIDDLEWARE.insert(MIDDLEWARE.index("csp.middleware.CSPMiddleware") + 1,
                  "secman.core.uploads.RequestSizeMiddleware")
# Form fields (everything but files) kept in memory, and JSON bodies of the API.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # 2.5 MB, Django's default, stated
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
# Every upload form takes one file.
DATA_UPLOAD_MAX_NUMBER_FILES = 5
# An uploaded file above this goes to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# --- static files -------------------------------------------------------------------------

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Files are served straight from the package by WhiteNoise's finders: there is no
# collectstatic step to forget, and no STATIC_ROOT.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- locale -------------------------------------------------------------------------------

LANGUAGE_CODE = "en-gb"
# Times are stored in UTC and shown in this zone, always with its name: 2026-12-03 14:05 UTC.
TIME_ZONE = envzone("SECMAN_TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True
# 24-hour, ISO-like dates and times everywhere (secman/formats replaces the locale's).
FORMAT_MODULE_PATH = ["secman.formats"]

# --- email --------------------------------------------------------------------------------

EMAIL_HOST = env("SECMAN_EMAIL_HOST", "")
EMAIL_PORT = envint("SECMAN_EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env("SECMAN_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env("SECMAN_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = envbool("SECMAN_EMAIL_USE_TLS", False)
EMAIL_USE_SSL = envbool("SECMAN_EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = envint("SECMAN_EMAIL_TIMEOUT", 10, minimum=1, maximum=300)
DEFAULT_FROM_EMAIL = env("SECMAN_EMAIL_FROM", "secman@localhost")
EMAIL_SUBJECT_PREFIX = "[secman] "
# Without a mail server configured, mail goes to the log instead of being lost silently.
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
SITE_URL = env("SECMAN_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# --- Event Log ----------------------------------------------------------------------------

# The name in every checkpoint (C2SP tlog-checkpoint "origin") and of the signing key.
# The database keeps the name the first key was made under, and that name signs from then
# on, whatever SITE_URL says (secman.eventlog.keys). This is the name a new log gets; set
# explicitly, it must also be the stored one (system check secman.E007), and only
# `secman eventlog origin set` changes the stored one.
EVENTLOG_ORIGIN = env("SECMAN_EVENTLOG_ORIGIN", "")
EVENTLOG_ORIGIN_EXPLICIT = bool(EVENTLOG_ORIGIN)
if not EVENTLOG_ORIGIN:
    EVENTLOG_ORIGIN = f"{urlsplit(SITE_URL).netloc or 'secman'}/eventlog"
elif any(c.isspace() or c == "+" for c in EVENTLOG_ORIGIN):
    raise ImproperlyConfigured(f"SECMAN_EVENTLOG_ORIGIN={EVENTLOG_ORIGIN!r} is not a log "
                               "name: use one without spaces or '+', e.g. "
                               "secman.example.org/eventlog")
EVENTLOG_KEY_FILE = env("SECMAN_EVENTLOG_KEY_FILE", "")
EVENTLOG_CHECKPOINT_EVERY = envint("SECMAN_EVENTLOG_CHECKPOINT_EVERY", 1000, minimum=1)
EVENTLOG_CHECKPOINT_SECONDS = envint("SECMAN_EVENTLOG_CHECKPOINT_SECONDS", 60, minimum=1)
# Who receives every checkpoint by mail, so copies exist outside secman (SM 4.2).
EVENTLOG_WITNESSES = envlist("SECMAN_EVENTLOG_WITNESSES", [])
# At most one checkpoint mailed to the witnesses this often (eventlog.signing).
EVENTLOG_WITNESS_MAIL_SECONDS = envint("SECMAN_EVENTLOG_WITNESS_MAIL_SECONDS", 3600,
                                       minimum=0)

# --- the systems' logs (SM 4.2) ----------------------------------------------------------------

# rsyslog's spool for secman (docs/logs.md): when set, `secman serve` runs `secman logs
# ingest SPOOL --follow` in a process beside gunicorn.
LOGS_SPOOL = env("SECMAN_LOGS_SPOOL", "").strip()

# --- backups (SP/SM 4.3) -------------------------------------------------------------------

# GnuPG's home directory for secman's OpenPGP work (its own backups, the DR sets'
# recipient check); empty: GnuPG's default (~/.gnupg of the user secman runs as).
BACKUP_GNUPGHOME = env("SECMAN_BACKUP_GNUPGHOME", "").strip()
# The OpenPGP keys `secman backup create` encrypts to, and the keys a disaster-recovery
# set's OpenPGP layer must be encrypted to (SM 4.3.5 "GPG public key"): fingerprints,
# comma-separated. Only public keys are needed where backups are made.
BACKUP_RECIPIENTS = [fp.upper().replace(" ", "")
                     for fp in envlist("SECMAN_BACKUP_RECIPIENTS", [])]
for _fingerprint in BACKUP_RECIPIENTS:
    if len(_fingerprint) not in (40, 64) or any(c not in "0123456789ABCDEF"
                                                 for c in _fingerprint):
        raise ImproperlyConfigured(f"SECMAN_BACKUP_RECIPIENTS: {_fingerprint!r} is not an "
                                   "OpenPGP fingerprint (40 hex digits, or 64 for v5 keys)")

# --- incidents (SM 5.3.2) -----------------------------------------------------------------

# SM 5.3.2: the initial report of an incident is mailed at once to these addresses
# (comma-separated); empty: the Systems Administration team (SECMAN_SYSADMIN_LIST, else
# its members). The person on the spot adds a CC per incident.
SECMAN_INCIDENT_WARNING_LIST = [a.strip().lower()
                                for a in envlist("SECMAN_INCIDENT_WARNING_LIST", [])]
for _address in SECMAN_INCIDENT_WARNING_LIST:
    if _address.count("@") != 1 or " " in _address:
        raise ImproperlyConfigured(f"SECMAN_INCIDENT_WARNING_LIST: {_address!r} is not an "
                                   "email address")

# --- physical visits (SM 2.3.3, 2.3.4) ------------------------------------------------------

# SM 2.3.3: every closed visit is reported to the systems administration mailing list.
SECMAN_SYSADMIN_LIST = env("SECMAN_SYSADMIN_LIST", "").strip()
# SM 2.3.4: an emergency access files a dispute, mailed to this address.
SECMAN_DISPUTE_ADDRESS = env("SECMAN_DISPUTE_ADDRESS", "").strip()
for _name, _address in (("SECMAN_SYSADMIN_LIST", SECMAN_SYSADMIN_LIST),
                        ("SECMAN_DISPUTE_ADDRESS", SECMAN_DISPUTE_ADDRESS)):
    if _address and (_address.count("@") != 1 or " " in _address or "," in _address):
        raise ImproperlyConfigured(f"{_name}={_address!r} is not one email address")

# --- OS lifecycle and patches (SM 3.2, SP 3.2.3) ---------------------------------------------

# Debian's release calendar (package distro-info-data): when each release's security
# support ends.
SECMAN_DISTRO_INFO_CSV = env("SECMAN_DISTRO_INFO_CSV", "/usr/share/distro-info/debian.csv")
# A system on oldstable is "due soon" this many days before its security support ends.
SECMAN_OS_UPGRADE_LEAD_DAYS = envint("SECMAN_OS_UPGRADE_LEAD_DAYS", 90, minimum=1,
                                     maximum=730)
# The host agents (docs/agent.md): the largest report taken, and how long a pending
# security update may wait before it is a finding (SP 3.2.3).
SECMAN_AGENT_REPORT_MAX_KB = envint("SECMAN_AGENT_REPORT_MAX_KB", 1024, minimum=64,
                                    maximum=16384)
SECMAN_AGENT_UPDATE_DAYS = envint("SECMAN_AGENT_UPDATE_DAYS", 7, minimum=1, maximum=365)

# --- compliance (SP/SM all chapters) --------------------------------------------------------

# A section whose text has not changed for this long is due for review.
COMPLIANCE_REVIEW_DAYS = envint("SECMAN_REVIEW_AFTER_DAYS", 365, minimum=1)
# Duty occurrences are generated this many days ahead (calendars show them).
COMPLIANCE_HORIZON_DAYS = envint("SECMAN_DUTY_HORIZON_DAYS", 42, minimum=1, maximum=400)
# `secman serve` evaluates controls and sends reminders every this many seconds, in a process
# of its own beside gunicorn;
# 0 turns that off (run `secman duties run` from cron or a separate process instead).
COMPLIANCE_RUN_SECONDS = envint("SECMAN_DUTIES_EVERY", 300, minimum=0)

# --- API ----------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # The error answers every operation can give, declared once (secman.core.api).
    "DEFAULT_SCHEMA_CLASS": "secman.core.api.AutoSchema",
    # ?limit= 1 to 1000 and ?offset=, anything else a 400 (not a database error).
    "DEFAULT_PAGINATION_CLASS": "secman.core.api_input.Pagination",
    "PAGE_SIZE": 100,
    # JSON nested deeper than secman.core.api_input.MAX_JSON_DEPTH is a 400.
    "DEFAULT_PARSER_CLASSES": ["secman.core.api_input.JSONParser"],
    "EXCEPTION_HANDLER": "secman.core.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "secman API",
    "DESCRIPTION": "Security Policy and Security Manual as running software.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "status"; name each choice set after its meaning.
    "ENUM_NAME_OVERRIDES": {
        "ComputerStatusEnum": "secman.physical.choices.ComputerStatus",
        "MediaStatusEnum": "secman.physical.choices.MediaStatus",
        "RetirementMethodEnum": "secman.physical.choices.RetirementMethod",
        "SystemKindEnum": "secman.systems.choices.SystemKind",
        "AccountKindEnum": "secman.privileged.choices.AccountKind",
        "SecretKindEnum": "secman.privileged.choices.SecretKind",
    },
}

# --- logging ------------------------------------------------------------------------------

LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR"]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Calendar feed tokens travel in URLs; no log line may carry one.
    "filters": {"redact": {"()": "secman.core.redaction.RedactingFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": envchoice("SECMAN_LOG_LEVEL", "INFO", LOG_LEVELS)},
    # A refused request (403, 404) is in the access log already; Django would also log its
    # traceback as a warning. Server errors (500) are still logged with theirs.
    "loggers": {"axes": {"level": "WARNING"}, "django.request": {"level": "ERROR"}},
}
