"""Command-line tasks: ``flask --app wsgi questionnaires check|load`` and ``demo``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from questionnaires import load_directory, load_files
from questionnaires.loader import questionnaire_files

from .config import localities
from .models import PublishedVersionChanged
from .services import questionnaires as questionnaire_service
from .services import runs

questionnaires_cli = AppGroup("questionnaires", help="Check and publish questionnaire definitions.")


@questionnaires_cli.command("check")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--translations",
    is_flag=True,
    help="Also list every text with no translation into a language its questionnaire declares.",
)
def check(files: tuple[Path, ...], translations: bool) -> None:
    """Validate questionnaire files (all of them when none are named).

    Prints one "file:line: message" per problem; exits 1 if there are any.
    A missing translation is shown in English to respondents, so it is only
    a problem when --translations is given.
    """
    directory = Path(current_app.config["QUESTIONNAIRE_DIR"])
    paths = list(files) or questionnaire_files(directory)
    library = load_files(paths, directory, localities(current_app))
    problems = library.problems + (library.missing_translations() if translations else [])
    for problem in problems:
        click.echo(str(problem))
    if problems:
        click.echo(f"{len(problems)} problem(s) found.", err=True)
        sys.exit(1)
    checked = "questionnaire file(s) and their translations" if translations else "questionnaire file(s)"
    click.echo(f"{len(paths)} {checked} checked: no problems.", err=True)


@questionnaires_cli.command("load")
def load() -> None:
    """Validate every questionnaire file and publish new versions to the database."""
    library = load_directory(Path(current_app.config["QUESTIONNAIRE_DIR"]), localities(current_app))
    if library.problems:
        for problem in library.problems:
            click.echo(str(problem))
        click.echo("Nothing was published: correct the problems above first.", err=True)
        sys.exit(1)
    failed = False
    for questionnaire in library.questionnaires.values():
        try:
            result = questionnaire_service.publish(questionnaire)
        except PublishedVersionChanged as refused:
            click.echo(str(refused), err=True)
            failed = True
            continue
        state = "published" if result.created else "already published, unchanged"
        click.echo(f"{result.key} version {result.version}: {state}")
    if failed:
        sys.exit(1)


@click.command("demo")
@click.option("--days", default=90, show_default=True, help="How long the demo surveys stay open.")
def demo(days: int) -> None:
    """Open a demo survey run for each published questionnaire that has none open."""
    opened = runs.ensure_demo_runs(questionnaire_service.latest_versions(), days=days)
    for run in opened:
        click.echo(f"Opened demo survey '{run.title}' at /surveys/{run.slug}")
    if not opened:
        click.echo("Every questionnaire already has a survey open.")


def init_app(app: Flask) -> None:
    app.cli.add_command(questionnaires_cli)
    app.cli.add_command(demo)
