"""Settings, each overridable by an environment variable of the same name.

Production is the default: it refuses to start without a SECRET_KEY and marks
the session cookie Secure. ``APP_ENV=development`` (set by ``make run``) keeps
a generated key in the instance folder and allows plain-HTTP cookies on
localhost.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, Any] = {
    "APP_ENV": "production",
    # Who runs the service. Shown in the header, footer and privacy notice.
    "COUNCIL_NAME": "Example Council",
    "SERVICE_NAME": "Have your say about SEND",
    "CONTACT_EMAIL": "send.engagement@example.gov.uk",
    "DATA_CONTROLLER": "",  # defaults to COUNCIL_NAME
    "DATA_PROTECTION_OFFICER_EMAIL": "dpo@example.gov.uk",
    "LAWFUL_BASIS": (
        "We collect your answers to carry out our public task of reviewing and improving services "
        "for children and young people with special educational needs and disabilities "
        "(UK GDPR Article 6(1)(e)). Where answers include information about health or disability, "
        "we process it for reasons of substantial public interest (UK GDPR Article 9(2)(g))."
    ),
    "RESPONSE_RETENTION_MONTHS": 24,
    "RESULTS_TEXT": (
        "We read every response. A summary of what families told us, and what we are changing "
        "because of it, goes to the SEND partnership board and is published on the Local Offer."
    ),
    "ACCESSIBILITY_STATEMENT_DATE": "23 November 2026",
    # Storage
    "DATABASE_URL": "sqlite:///survey.db",
    "SQLITE_BUSY_TIMEOUT_MS": 30_000,
    "SQLITE_SYNCHRONOUS": "NORMAL",
    "QUESTIONNAIRE_DIR": str(ROOT / "questionnaires"),
    # The journey
    "DRAFT_LIFETIME_HOURS": 72,
    "CLOSING_GRACE_MINUTES": 60,
    "RUN_CACHE_SECONDS": 5,
    # Save and come back later: how long a return link works.
    "RETURN_LINK_DAYS": 28,
    # The service's address, like https://have-your-say.example.gov.uk, used
    # in emailed links. Set it in production: without it, links are built
    # from the address the request came in on.
    "PUBLIC_URL": "",
    # The areas offered by the "locality" context question, comma-separated.
    # They are copied into each questionnaire version when it is published.
    "LOCALITIES": "North, South, East, West",
    # Email (only for sending return links). With no MAIL_SERVER, the email
    # option is not offered.
    "MAIL_SERVER": "",
    "MAIL_PORT": 25,
    "MAIL_USE_TLS": False,  # STARTTLS after connecting
    "MAIL_USE_SSL": False,  # TLS from the start (usually port 465)
    "MAIL_USERNAME": "",
    "MAIL_PASSWORD": "",
    "MAIL_FROM": "",  # defaults to CONTACT_EMAIL
    "MAIL_TIMEOUT_SECONDS": 10,
    # The officer area
    # A session ends after this many minutes without a request, and after
    # this many hours in all.
    "OFFICER_IDLE_MINUTES": 30,
    "OFFICER_SESSION_HOURS": 10,
    # Failed sign-ins allowed within the window, per account and per network address.
    "SIGN_IN_WINDOW_MINUTES": 15,
    "SIGN_IN_ACCOUNT_LIMIT": 5,
    "SIGN_IN_ADDRESS_LIMIT": 20,
    # How many proxies in front of the app set X-Forwarded-For and
    # X-Forwarded-Proto (0 when the app is reached directly). Sign-in
    # throttling counts by the address they report.
    "PROXY_COUNT": 0,
    # Words and phrases that suggest a risk of harm in a young person's
    # comment, comma-separated; such comments are shown first for follow-up.
    "RISK_WORDS": (
        "hurt myself, hurting myself, hurt me, hurts me, hit me, hits me, kill myself, suicide, suicidal, "
        "self-harm, self harm, cut myself, cutting myself, want to die, end my life, abuse, abused, "
        "not safe, unsafe, scared to go home, afraid, bullied, bully, touched me, run away, nobody cares"
    ),
    # Free-text tags offered to officers for comments, comma-separated; officers can add others.
    "COMMENT_TAGS": (
        "communication, waiting times, EHC plan quality, annual reviews, transport, health services, "
        "social care, school placement, praise, complaint"
    ),
    # Board measures: their definitions, and disclosure control on every
    # figure that leaves the officer area. Counts from 1 to the threshold are
    # shown as "c"; no percentage is shown on a base under the minimum.
    "MEASURES_FILE": str(ROOT / "analysis" / "measures.yaml"),
    "DISCLOSURE_THRESHOLD": 5,
    "DISCLOSURE_MINIMUM_BASE": 10,
    "SECRET_KEY": "",
}


def _from_environment(name: str, default: Any) -> Any:
    raw = os.environ.get(name)
    if raw is None:
        return default
    if isinstance(default, bool):
        if raw.strip().lower() in ("1", "true", "yes", "on"):
            return True
        if raw.strip().lower() in ("0", "false", "no", "off", ""):
            return False
        raise RuntimeError(f"The setting {name} must be true or false, not {raw!r}.")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise RuntimeError(f"The setting {name} must be a whole number, not {raw!r}.") from None
    return raw


def localities(app) -> list[str]:
    """The council's areas, as the locality question offers them."""
    return [name.strip() for name in app.config["LOCALITIES"].split(",") if name.strip()]


def database_uri(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs written the usual way."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def build_config(instance_path: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    settings = {name: _from_environment(name, default) for name, default in DEFAULTS.items()}
    settings.update(overrides or {})
    development = settings["APP_ENV"] in ("development", "testing")

    if not settings["SECRET_KEY"]:
        if not development:
            raise RuntimeError(
                "Set the SECRET_KEY environment variable to a long random value "
                "(for example: python -c 'import secrets; print(secrets.token_hex(32))')."
            )
        settings["SECRET_KEY"] = _development_secret_key(instance_path)

    settings["DATA_CONTROLLER"] = settings["DATA_CONTROLLER"] or settings["COUNCIL_NAME"]
    settings["MAIL_FROM"] = settings["MAIL_FROM"] or settings["CONTACT_EMAIL"]
    lifetime = timedelta(hours=settings["DRAFT_LIFETIME_HOURS"])
    settings.update(
        SQLALCHEMY_DATABASE_URI=database_uri(settings["DATABASE_URL"]),
        # A server connection can drop; a SQLite file cannot, so only a
        # server database is pinged when a connection is taken from the pool.
        SQLALCHEMY_ENGINE_OPTIONS={
            "pool_pre_ping": not settings["DATABASE_URL"].startswith("sqlite"),
            # Database errors are logged without their parameters: they can be answers.
            "hide_parameters": True,
        },
        # The CSRF token lives as long as the session, so someone who pauses
        # for an hour does not lose the page they were on.
        WTF_CSRF_TIME_LIMIT=None,
        PERMANENT_SESSION_LIFETIME=lifetime,
        # The cookie is sent again only when it changes (answers saved).
        SESSION_REFRESH_EACH_REQUEST=False,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=not development,
        HSTS=not development,
        REMEMBER_COOKIE_SECURE=not development,
        REMEMBER_COOKIE_HTTPONLY=True,
        MAX_CONTENT_LENGTH=1024 * 1024,
    )
    return settings


def _development_secret_key(instance_path: Path) -> str:
    """A key kept in the instance folder, so that sessions survive a restart."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
