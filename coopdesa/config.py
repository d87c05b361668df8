"""Configuration read from the environment.

Every setting is documented in docs/configuration.md. ``COOPDESA_ENV`` picks the class:
``development`` (the default, for an office laptop), ``production`` or ``testing``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

#: Secrets that must never protect a production deployment.
WEAK_SECRETS = frozenset({"", "dev", "changeme", "secret", "development"})


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def instance_secret_key(instance_path: str) -> str:
    """Return the secret key stored in ``instance/secret_key``, creating it once.

    The file is written with mode 0600 so that only the account running the app reads it.
    """
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


class Config:
    ENV_NAME = "development"
    SECRET_KEY: str | None = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI: str | None = os.environ.get("DATABASE_URL")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SQLALCHEMY_RECORD_QUERIES = False

    # Sessions: HttpOnly and SameSite=Lax always, Secure outside development.
    SESSION_COOKIE_NAME = "coopdesa_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("COOPDESA_SECURE_COOKIES", True)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    PERMANENT_SESSION_LIFETIME = int(os.environ.get("COOPDESA_SESSION_HOURS", "12")) * 3600

    WTF_CSRF_TIME_LIMIT = 8 * 3600
    MAX_CONTENT_LENGTH = int(os.environ.get("COOPDESA_MAX_UPLOAD_MB", "20")) * 1024 * 1024

    BABEL_DEFAULT_LOCALE = "id"
    BABEL_DEFAULT_TIMEZONE = os.environ.get("COOPDESA_TIMEZONE", "Asia/Jakarta")
    LANGUAGES = ("id", "en")

    BOOTSTRAP_SERVE_LOCAL = True
    BOOTSTRAP_BOOTSWATCH_THEME = None

    REDIS_URL: str | None = os.environ.get("COOPDESA_REDIS_URL")
    # Background jobs (coopdesa.jobs): on the RQ queue "coopdesa" when REDIS_URL is set,
    # else in a local pool of JOB_WORKERS processes of the app server. JOB_TIMEOUT seconds
    # per job (a job still running later is marked failed). JOB_FALLBACK: what submitting
    # does when Redis is configured but unreachable: "local" runs the job in the local
    # pool (noted on the job), "fail" marks it failed with the reason.
    JOB_WORKERS = int(os.environ.get("COOPDESA_JOB_WORKERS", "2"))
    JOB_TIMEOUT = int(os.environ.get("COOPDESA_JOB_TIMEOUT", "3600"))
    JOB_FALLBACK = os.environ.get("COOPDESA_JOB_FALLBACK", "local")
    #: Run local jobs synchronously in the submitting process (tests only).
    JOBS_EAGER = False
    #: Seconds a rendered page of the busiest read views stays in Redis (coopdesa.pagecache;
    #: every committed write makes all of them stale at once). 0: no page cache.
    PAGE_CACHE_SECONDS = int(os.environ.get("COOPDESA_PAGE_CACHE_SECONDS", "300"))
    #: Seconds a rendered draft or record PDF stays in Redis, keyed by the SHA-256 of what
    #: was rendered (coopdesa.documents.render). 0: no render cache.
    RENDER_CACHE_SECONDS = int(os.environ.get("COOPDESA_RENDER_CACHE_SECONDS", "3600"))
    RATELIMIT_STORAGE_URI = os.environ.get("COOPDESA_REDIS_URL") or "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_ENABLED = True
    #: Failed logins allowed per client address and per account name.
    LOGIN_RATE_LIMIT = os.environ.get("COOPDESA_LOGIN_RATE_LIMIT", "5 per minute;20 per hour")

    #: Who reviews a village's third-party proposals: "ketua_bpd" or "kepala_desa".
    THIRD_PARTY_REVIEWER_ROLE = os.environ.get("COOPDESA_THIRD_PARTY_REVIEWER", "ketua_bpd")

    # Outgoing e-mail for reminders; without SMTP_HOST notices stay in the app.
    SMTP_HOST = os.environ.get("COOPDESA_SMTP_HOST")
    SMTP_PORT = int(os.environ.get("COOPDESA_SMTP_PORT", "587"))
    SMTP_USER = os.environ.get("COOPDESA_SMTP_USER")
    SMTP_PASSWORD = os.environ.get("COOPDESA_SMTP_PASSWORD")
    SMTP_FROM = os.environ.get("COOPDESA_SMTP_FROM", "coopdesa@localhost")
    SMTP_STARTTLS = _bool("COOPDESA_SMTP_STARTTLS", True)

    ALLOW_DEMO = True

    # Documents (coopdesa.documents): worker processes rendering PDFs (0: in the calling
    # process, without a time limit), the time and address-space limit of one render.
    RENDER_WORKERS = int(os.environ.get("COOPDESA_RENDER_WORKERS", "2"))
    RENDER_TIMEOUT = float(os.environ.get("COOPDESA_RENDER_TIMEOUT", "60"))
    RENDER_MEMORY_MB = int(os.environ.get("COOPDESA_RENDER_MEMORY_MB", "2048"))
    #: Scheduling priority of the render processes (nice increment, 0-19): a PDF takes
    #: the CPU the pages leave, so pages stay fast while documents render. 19, the lowest:
    #: every web worker has its own RENDER_WORKERS processes (10 with 5 workers), and at +10
    #: ten busy renderers together weigh as much as one web thread in the kernel's share of
    #: the CPU (CFS weights 10 x 110 against 1024); at +19, 10 x 15.
    RENDER_NICE = int(os.environ.get("COOPDESA_RENDER_NICE", "19"))
    #: Paper of documents unless a user picks another: "f4" (215 x 330 mm) or "a4".
    DEFAULT_PAPER = os.environ.get("COOPDESA_PAPER", "f4")
    #: The public address printed on final documents and encoded in their QR codes, e.g.
    #: https://coopdesa.wonosobokab.go.id (default: the address of the signing request).
    PUBLIC_URL = os.environ.get("COOPDESA_PUBLIC_URL")
    #: Requests to the public verification page per client address.
    VERIFY_RATE_LIMIT = os.environ.get("COOPDESA_VERIFY_RATE_LIMIT", "30 per minute;300 per hour")
    #: Requests to the villages' public pages (/publik) per client address.
    PUBLIC_RATE_LIMIT = os.environ.get("COOPDESA_PUBLIC_RATE_LIMIT",
                                       "120 per minute;2000 per hour")
    #: Days after a reporting period ends by which its implementation report is due.
    REPORT_DUE_DAYS = int(os.environ.get("COOPDESA_REPORT_DUE_DAYS", "30"))
    # Files (coopdesa.files.storage): in the database unless an S3-compatible bucket is
    # named; keys are the prefix + the file's generated name; access keys come from the
    # standard AWS variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY). See docs/backup.md.
    S3_BUCKET = os.environ.get("COOPDESA_S3_BUCKET")
    S3_ENDPOINT_URL = os.environ.get("COOPDESA_S3_ENDPOINT_URL")
    S3_REGION = os.environ.get("COOPDESA_S3_REGION")
    S3_PREFIX = os.environ.get("COOPDESA_S3_PREFIX", "")
    #: The thresholds of the bonding / bridging / networking rule, as a JSON object naming
    #: any of bridging_partners, networking_partners, networking_kinds, networking_outside
    #: (coopdesa.network.stages.StageRule); empty for the defaults.
    NETWORK_STAGE_RULE = os.environ.get("COOPDESA_NETWORK_STAGE_RULE", "")
    #: Reverse proxies (nginx) in front of the app whose X-Forwarded-For/-Proto are believed;
    #: 0 (the default) believes none. Behind nginx set 1, or every visitor has nginx's
    #: address and the per-address rate limits count the whole kabupaten as one client.
    PROXY_COUNT = int(os.environ.get("COOPDESA_PROXY_COUNT", "0"))


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    SESSION_COOKIE_SECURE = _bool("COOPDESA_SECURE_COOKIES", False)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-only-" + "0" * 32
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    WTF_CSRF_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"
    RENDER_WORKERS = 0
    PUBLIC_URL = "https://coopdesa.example"
    JOBS_EAGER = True


class ProductionConfig(Config):
    ENV_NAME = "production"
    ALLOW_DEMO = False


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_for(env_name: str | None) -> type[Config]:
    """Return the config class for ``COOPDESA_ENV``; an unknown name is an error, not a guess."""
    name = (env_name or "development").strip().lower()
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(
            f"COOPDESA_ENV={env_name!r} is not one of {', '.join(sorted(CONFIGS))}"
        ) from None
