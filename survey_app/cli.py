"""Command-line tasks: ``flask --app wsgi questionnaires check|load``, ``demo``, ``users`` and ``retention``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from questionnaires import load_directory, load_files
from questionnaires.loader import questionnaire_files

from . import cli_measures
from .config import localities
from .models import PublishedVersionChanged, Role
from .services import accounts, retention, runs
from .services import demo as demo_data
from .services import questionnaires as questionnaire_service

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
    """Open a demo survey run for each published questionnaire that has none open.

    In development it also makes demo accounts (an admin, an officer and a
    viewer) and invented responses, and writes the sign-in details to
    instance/demo-login.txt.
    """
    versions = questionnaire_service.latest_versions()
    opened = runs.ensure_demo_runs(versions, days=days, opened_ago=demo_data.opened_ago())
    for run in opened:
        click.echo(f"Opened demo survey '{run.title}' at /surveys/{run.slug}")
    if not opened:
        click.echo("Every questionnaire already has a survey open.")
    if not demo_data.development_only():
        click.echo("No demo accounts or responses outside development (APP_ENV=development).")
        return
    added = demo_data.add_demo_responses(demo_data.demo_run_slugs())
    if added:
        click.echo(f"Added {added} invented responses to the demo surveys.")
    earlier, figures = demo_data.add_demo_history(demo_data.demo_run_slugs())
    if earlier:
        click.echo(f"Added {earlier} invented responses to earlier waves of the demo surveys.")
    if figures:
        click.echo(f"Recorded {figures} invented figures for the recorded measures.")
    instance = Path(current_app.instance_path)
    emails, password = demo_data.ensure_demo_accounts(instance)
    login = "\n".join(
        [
            # make run passes its PORT on to gunicorn, so the address printed is the one served.
            f"  Officer area: http://127.0.0.1:{os.environ.get('PORT', '5000')}/sign-in",
            *(f"  Sign in as {email}" for email in emails),
            f"  Password for each: {password}",
        ]
    )
    (instance / "demo-login.txt").write_text(login + "\n")
    click.echo(login)


users_cli = AppGroup("users", help="Manage who can sign in to the officer area.")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([role.value for role in Role]), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input, for scripts.")
def users_create(email: str, role: str, password_stdin: bool) -> None:
    """Create an account. The password is asked for (and never echoed) unless --password-stdin is given."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = accounts.create_user(email, password, role)
    except accounts.AccountError as refused:
        click.echo(f"Not created: {refused}.", err=True)
        sys.exit(1)
    click.echo(f"Created {user.email} ({user.role}).")


@users_cli.command("list")
def users_list() -> None:
    """List every account with its role and whether it can sign in."""
    for user in accounts.users():
        state = "active" if user.active else "disabled"
        signed_in = user.last_signed_in_at.strftime("%Y-%m-%d %H:%M UTC") if user.last_signed_in_at else "never"
        click.echo(f"{user.email}\t{user.role}\t{state}\tlast signed in {signed_in}")


@users_cli.command("disable")
@click.argument("email")
def users_disable(email: str) -> None:
    """Stop an account signing in, and end its sessions everywhere."""
    user = accounts.user_by_email(email)
    if user is None:
        click.echo(f"There is no user with the email address {email}.", err=True)
        sys.exit(1)
    accounts.set_active(user, False)
    click.echo(f"Disabled {user.email}; every session of theirs has ended.")


retention_cli = AppGroup("retention", help="Delete personal data that is past its retention period.")


@retention_cli.command("apply")
@click.option("--dry-run", is_flag=True, help="Only list what would be deleted; change nothing.")
def retention_apply(dry_run: bool) -> None:
    """Delete the responses of every run past its retention period, keeping their counts.

    A run's individual responses are kept for its retention period (24
    months unless set otherwise) after it closes. Then their counts, by
    month, question, answer and context group, are kept for measures and
    breakdowns, and the responses and their answers, the run's equality
    monitoring records and its invitations (with email addresses and link
    tokens) are deleted, in one transaction per run, each recorded in the
    audit log. Drafts past their expiry time and failed sign-ins over a day
    old are deleted too.

    Safe to run as often as you like: what has been deleted once is not
    found again. Run it daily, from cron or a systemd timer.
    """
    report = retention.apply(dry_run=dry_run)
    done = "would be deleted" if dry_run else "deleted"
    for run in report.runs:
        click.echo(
            f"Run '{run.title}': {_plural(run.responses, 'response')} {done}, counts kept "
            f"(also {_plural(run.equality_records, 'equality monitoring record')} "
            f"and {_plural(run.invitations, 'invitation')})"
        )
    total = sum(run.responses for run in report.runs)
    click.echo(
        f"{'Dry run, nothing changed: ' if dry_run else ''}{_plural(len(report.runs), 'run')} past "
        f"{'its' if len(report.runs) == 1 else 'their'} retention period, {_plural(total, 'response')} {done}; "
        f"{_plural(report.expired_drafts, 'expired draft')} and "
        f"{_plural(report.old_sign_in_failures, 'old failed sign-in')} {done}."
    )


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def init_app(app: Flask) -> None:
    app.cli.add_command(questionnaires_cli)
    app.cli.add_command(demo)
    app.cli.add_command(users_cli)
    app.cli.add_command(retention_cli)
    cli_measures.init_app(app)
