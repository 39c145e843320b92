"""The SEND surveys web application."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from flask import Flask, render_template
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader
from markupsafe import Markup
from werkzeug.middleware.proxy_fix import ProxyFix

from questionnaires import load_directory

from . import cli, database, formatting, languages, security
from .config import DEVELOPMENT_MARKER, ROOT, build_config, localities, text_in
from .extensions import csrf, db, migrate

log = logging.getLogger(__name__)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(ROOT / "instance"))
    app.config.update(build_config(Path(app.instance_path), config))
    _say_which_environment(app)

    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    if app.config["PROXY_COUNT"]:
        proxies = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    app.jinja_loader = ChoiceLoader(
        [
            PackageLoader("survey_app"),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    WTFormsHelpers(app)
    formatting.init_app(app)
    languages.init_app(app)
    security.init_app(app)

    @app.context_processor
    def _service():
        # In the page's language: the titles, header and footer of Welsh
        # pages end with the Welsh names (SERVICE_NAME_CY, COUNCIL_NAME_CY).
        language = languages.current()
        return {
            "council_name": text_in(app.config, "COUNCIL_NAME", language)[0],
            "service_name": text_in(app.config, "SERVICE_NAME", language)[0],
        }

    @app.template_global()
    def setting_text(name: str) -> Markup:
        """A configured text in the page's language; marked as English where it has no translation."""
        text, text_language = text_in(app.config, name, languages.current())
        if text_language == languages.current():
            return Markup("{}").format(text)
        return Markup('<span lang="{}">{}</span>').format(text_language, text)

    @app.template_global()
    def setting_paragraphs(name: str) -> Markup:
        """A configured text of paragraphs in the page's language; marked as English where untranslated."""
        text, text_language = text_in(app.config, name, languages.current())
        if text_language == languages.current():
            return formatting.paragraphs(text)
        return Markup('<div lang="{}">{}</div>').format(text_language, formatting.paragraphs(text))

    # The header and footer are the same on every page in a language: render
    # them once per language.
    fragments: dict[tuple[str, str], Markup] = {}

    @app.template_global()
    def fragment(name: str) -> Markup:
        key = (name, languages.current())
        if key not in fragments:
            fragments[key] = Markup(render_template(name))  # noqa: S704 - autoescaped template output
        return fragments[key]

    from . import auth, officer, respondent, site

    auth.sessions.login_manager.init_app(app)
    app.register_blueprint(respondent.bp)
    app.register_blueprint(site.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(officer.bp)
    cli.init_app(app)

    # Validate every questionnaire file at start-up. A broken file is refused
    # (and reported with its file, line and field); the others still work.
    library = load_directory(Path(app.config["QUESTIONNAIRE_DIR"]), localities(app))
    for problem in library.problems:
        log.error("Questionnaire refused: %s", problem)
    app.extensions["questionnaire_library"] = library
    if app.config["APP_ENV"] != "testing":
        # Counts per response made by other measure definitions than the file's: say what to run.
        from .services.answer_counts import warn_if_stale

        warn_if_stale(app)
    return app


def _say_which_environment(app: Flask) -> None:
    """Say which environment the app runs in, and loudly when no setting chose it."""
    environment, source = app.config["APP_ENV"], app.config["APP_ENV_SOURCE"]
    log.info("Running in %s (chosen by %s).", environment, source)
    if DEVELOPMENT_MARKER in source:
        # Not a setting but a file `make run` left: say so wherever the app starts.
        print(
            f"Running in {environment}, as {source} asks, since none of APP_ENV, SECRET_KEY and "
            "DATABASE_URL is set. For anything but trying the service on this computer, set SECRET_KEY.",
            file=sys.stderr,
        )
