"""Settings, each overridable by an environment variable of the same name.

Production is the default: it refuses to start without a SECRET_KEY and marks
the session cookie Secure. ``APP_ENV=development`` (set by ``make run``) keeps
a generated key in the instance folder and allows plain-HTTP cookies on
localhost. ``make run`` also leaves ``instance/app-env``, so that later
``flask --app wsgi ...`` commands in the same checkout use development too,
as long as neither APP_ENV, SECRET_KEY nor DATABASE_URL is set (see
``app_environment``).

Texts respondents read (the service's and council's names, what happens to
the results, the lawful basis) have a Welsh version in a setting of the same
name ending ``_CY``. The shipped English defaults have Welsh defaults; a
council that sets its own English text and no Welsh one has it shown in
English on Welsh pages.
"""

from __future__ import annotations

import os
import secrets
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from questionnaires.shared import locality_names

ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, Any] = {
    "APP_ENV": "production",
    # Who runs the service. Shown in the header, footer and privacy notice.
    # Each text a respondent reads has a Welsh version, NAME_CY: see WELSH_DEFAULTS.
    "COUNCIL_NAME": "Example Council",
    "COUNCIL_NAME_CY": "",
    "SERVICE_NAME": "Have your say about SEND",
    "SERVICE_NAME_CY": "",
    "CONTACT_EMAIL": "send.engagement@example.gov.uk",
    "DATA_CONTROLLER": "",  # defaults to COUNCIL_NAME
    "DATA_CONTROLLER_CY": "",  # defaults to COUNCIL_NAME_CY
    "DATA_PROTECTION_OFFICER_EMAIL": "dpo@example.gov.uk",
    "LAWFUL_BASIS": (
        "We collect your answers to carry out our public task of reviewing and improving services "
        "for children and young people with special educational needs and disabilities "
        "(UK GDPR Article 6(1)(e)). Where answers include information about health or disability, "
        "we process it for reasons of substantial public interest (UK GDPR Article 9(2)(g))."
    ),
    "LAWFUL_BASIS_CY": "",
    "RESPONSE_RETENTION_MONTHS": 24,
    # What happens next, on the confirmation page.
    "RESULTS_TEXT": (
        "We read every response. A summary of what families told us, and what we are changing "
        "because of it, goes to the SEND partnership board and is published on the Local Offer."
    ),
    "RESULTS_TEXT_CY": "",
    # A date: 2026-11-23 or 23 November 2026. Shown in the page's language.
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
    # The areas offered by the "locality" context question, comma-separated,
    # each as its English name or "English|Welsh". The stored answer is made
    # from the English name (North is ``north``), so adding or changing a
    # Welsh name keeps every answer. They are copied into each questionnaire
    # version when it is published.
    "LOCALITIES": "North|Gogledd, South|De, East|Dwyrain, West|Gorllewin",
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


# The Welsh of the shipped English defaults. Each is used only while its
# English setting keeps the shipped default: a council's own English text
# needs its own Welsh (NAME_CY), and is shown in English until it has one.
WELSH_DEFAULTS: dict[str, str] = {
    "COUNCIL_NAME": "Cyngor Enghreifftiol",
    "SERVICE_NAME": "Dweud eich dweud am AAA",
    "LAWFUL_BASIS": (
        "Rydyn ni'n casglu eich atebion er mwyn cyflawni ein tasg gyhoeddus o adolygu a gwella "
        "gwasanaethau i blant a phobl ifanc ag anghenion addysgol arbennig ac anableddau "
        "(Erthygl 6(1)(e) GDPR y DU). Pan fydd atebion yn cynnwys gwybodaeth am iechyd neu anabledd, "
        "rydyn ni'n ei phrosesu am resymau o fudd sylweddol i'r cyhoedd (Erthygl 9(2)(g) GDPR y DU)."
    ),
    "RESULTS_TEXT": (
        "Rydyn ni'n darllen pob ymateb. Mae crynodeb o'r hyn a ddywedodd teuluoedd wrthym, a'r hyn "
        "rydyn ni'n ei newid o ganlyniad, yn mynd i fwrdd partneriaeth AAA ac yn cael ei gyhoeddi "
        "ar y Cynnig Lleol."
    ),
}
# Settings whose text respondents read, each with a Welsh version NAME_CY.
TRANSLATED_SETTINGS = ("COUNCIL_NAME", "SERVICE_NAME", "DATA_CONTROLLER", "LAWFUL_BASIS", "RESULTS_TEXT")

# Left in the instance folder by `make run`: later flask commands in this
# checkout use development settings (see ``app_environment``).
DEVELOPMENT_MARKER = "app-env"


def text_in(config, name: str, language: str) -> tuple[str, str]:
    """A setting's text for a page in ``language``, and the language that text is in.

    The ``NAME_CY`` version on Welsh pages where there is one; the English
    setting otherwise (the caller marks it ``lang="en"`` where it can).
    """
    if language != "en":
        translated = config.get(f"{name}_{language.upper().replace('-', '_')}")
        if translated:
            return translated, language
    return config[name], "en"


def localities(app) -> list[str]:
    """The council's areas, as the locality question offers them: "North" or "North|Gogledd"."""
    return [name.strip() for name in app.config["LOCALITIES"].split(",") if name.strip()]


def _check_localities(value: str) -> None:
    """Refuse an area written wrongly now, rather than offer it to respondents."""
    for entry in value.split(","):
        if entry.strip():
            try:
                locality_names(entry)
            except ValueError as problem:
                raise RuntimeError(f"The setting LOCALITIES has a problem: {problem}.") from None


def _statement_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = " ".join(str(value).split())
    for form in ("%Y-%m-%d", "%d %B %Y"):
        try:
            return datetime.strptime(text, form).date()
        except ValueError:
            continue
    raise RuntimeError(
        f"The setting ACCESSIBILITY_STATEMENT_DATE must be a date like 2026-11-23 or 23 November 2026, not {value!r}."
    )


def database_uri(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs written the usual way."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def app_environment(instance_path: Path, overrides: dict[str, Any] | None = None) -> tuple[str, str]:
    """The environment to run in, and what decided it.

    APP_ENV decides when it is set. Without it, a checkout where ``make run``
    has been run (it leaves ``instance/app-env``) runs in development, so that
    the README's ``flask --app wsgi ...`` commands work as printed, but only
    while neither SECRET_KEY nor DATABASE_URL is set: a deployment sets those,
    and is never turned into development by a file left behind. Otherwise,
    production.
    """
    overrides = overrides or {}
    if "APP_ENV" in overrides:
        return overrides["APP_ENV"], "settings"
    if os.environ.get("APP_ENV"):
        return os.environ["APP_ENV"], "APP_ENV"
    configured = any(overrides.get(name) or os.environ.get(name) for name in ("SECRET_KEY", "DATABASE_URL"))
    if not configured and _marked_for_development(instance_path):
        return "development", f"{instance_path.name}/{DEVELOPMENT_MARKER} (left by make run)"
    return DEFAULTS["APP_ENV"], "the default"


def _marked_for_development(instance_path: Path) -> bool:
    try:
        lines = (instance_path / DEVELOPMENT_MARKER).read_text(encoding="utf-8").splitlines()
    except OSError:
        return False
    return any(line.strip() == "APP_ENV=development" for line in lines)


def build_config(instance_path: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    settings = {name: _from_environment(name, default) for name, default in DEFAULTS.items()}
    settings.update(overrides or {})
    settings["APP_ENV"], settings["APP_ENV_SOURCE"] = app_environment(instance_path, overrides)
    development = settings["APP_ENV"] in ("development", "testing")

    if not settings["SECRET_KEY"]:
        if not development:
            left = (
                f" ({instance_path.name}/{DEVELOPMENT_MARKER}, left by make run, is not used while "
                "DATABASE_URL is set: set APP_ENV=development as well to use development settings.)"
                if settings["APP_ENV_SOURCE"] == "the default" and _marked_for_development(instance_path)
                else ""
            )
            raise RuntimeError(
                "Set the SECRET_KEY environment variable to a long random value "
                "(for example: python -c 'import secrets; print(secrets.token_hex(32))'). "
                "To try the service on this computer instead, run `make run`: it sets up development "
                "settings (APP_ENV=development), and flask commands run later in this checkout use them too." + left
            )
        settings["SECRET_KEY"] = _development_secret_key(instance_path)

    _check_localities(settings["LOCALITIES"])
    settings["ACCESSIBILITY_STATEMENT_DATE"] = _statement_date(settings["ACCESSIBILITY_STATEMENT_DATE"])
    for name in TRANSLATED_SETTINGS:
        welsh = f"{name}_CY"
        settings[welsh] = str(settings[welsh] or "").strip()
        if not settings[welsh] and name in WELSH_DEFAULTS and settings[name] == DEFAULTS[name]:
            settings[welsh] = WELSH_DEFAULTS[name]
    if not settings["DATA_CONTROLLER"]:
        settings["DATA_CONTROLLER"] = settings["COUNCIL_NAME"]
        settings["DATA_CONTROLLER_CY"] = settings["DATA_CONTROLLER_CY"] or settings["COUNCIL_NAME_CY"]
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
