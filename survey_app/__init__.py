"""The SEND surveys web application."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask, render_template
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader
from markupsafe import Markup
from werkzeug.middleware.proxy_fix import ProxyFix

from questionnaires import load_directory

from . import cli, database, formatting, languages, security
from .config import ROOT, build_config, localities
from .extensions import csrf, db, migrate

log = logging.getLogger(__name__)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(ROOT / "instance"))
    app.config.update(build_config(Path(app.instance_path), config))

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
        return {
            "council_name": app.config["COUNCIL_NAME"],
            "service_name": app.config["SERVICE_NAME"],
        }

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
    return app
