"""After `make run`, the README's `flask --app wsgi ...` commands work as
printed, in development on the same instance database; production still
refuses to start without SECRET_KEY. Each case runs the real command in a
copy of the checkout, so its instance folder is the copy's own."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from survey_app.config import ROOT, app_environment, build_config

# What a checkout needs to run flask commands (the rest is build tooling and tests).
NEEDED = ("wsgi.py", "Makefile", "survey_app", "questionnaires", "migrations", "analysis")
EMAIL = "officer@northshire.example"
PASSWORD = "copper lantern meadow 7391"


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    """A copy of the checkout with no instance folder, as after a fresh clone."""
    copy = tmp_path_factory.mktemp("checkout")
    for name in NEEDED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__", "node_modules"))
        else:
            shutil.copy2(source, copy / name)
    return copy


def run(checkout: Path, *args: str, stdin: str | None = None, **settings: str) -> subprocess.CompletedProcess:
    """A command as a person types it in the checkout: only PATH and HOME, plus ``settings``."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(checkout), "LANG": "C.UTF-8", **settings}
    return subprocess.run(
        args, cwd=checkout, env=env, input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


def flask(checkout: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return run(checkout, sys.executable, "-m", "flask", "--app", "wsgi", *args, **kwargs)


def test_production_refuses_to_start_without_a_secret_key_and_says_what_to_do(checkout):
    result = flask(checkout, "users", "list")
    assert result.returncode != 0
    assert "Set the SECRET_KEY environment variable" in result.stderr
    assert "make run" in result.stderr
    assert not (checkout / "instance" / "secret_key").exists(), "no key is made for production"


def test_the_readmes_commands_work_after_make_run_on_the_same_instance_database(checkout):
    made = run(checkout, "make", "--no-print-directory", "-s", "instance/app-env")
    assert made.returncode == 0, made.stderr
    assert "APP_ENV=development" in (checkout / "instance" / "app-env").read_text()

    upgraded = flask(checkout, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "Running in development, as instance/app-env (left by make run) asks" in upgraded.stderr
    created = flask(checkout, "users", "create", EMAIL, "--role", "officer", "--password-stdin", stdin=PASSWORD)
    assert created.returncode == 0, created.stderr
    listed = flask(checkout, "users", "list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith(f"{EMAIL}\tofficer\tactive")
    assert (checkout / "instance" / "survey.db").exists() and (checkout / "instance" / "secret_key").exists()


def test_a_deployment_is_never_made_development_by_the_file_make_run_leaves(checkout):
    (checkout / "instance").mkdir(exist_ok=True)
    (checkout / "instance" / "app-env").write_text("APP_ENV=development\n")
    # DATABASE_URL set, no SECRET_KEY: production, refused, and told why the file was not used.
    refused = flask(checkout, "users", "list", DATABASE_URL=f"sqlite:///{checkout / 'deployed.db'}")
    assert refused.returncode != 0
    assert "Set the SECRET_KEY" in refused.stderr and "is not used while DATABASE_URL is set" in refused.stderr
    # With SECRET_KEY set, as a deployment has it, the app runs in production.
    shown = run(
        checkout, sys.executable, "-c", "from wsgi import app; print(app.config['APP_ENV'])", SECRET_KEY="k" * 64
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == "production" and "Running in development" not in shown.stderr


def test_only_a_file_saying_development_counts(tmp_path, monkeypatch):
    for name in ("APP_ENV", "SECRET_KEY", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    assert app_environment(tmp_path) == ("production", "the default")
    (tmp_path / "app-env").write_text("# APP_ENV=development\nAPP_ENV=production\n")
    assert app_environment(tmp_path) == ("production", "the default")
    (tmp_path / "app-env").write_text("APP_ENV=development\n")
    assert app_environment(tmp_path)[0] == "development"
    assert app_environment(tmp_path, {"APP_ENV": "testing"}) == ("testing", "settings")
    assert app_environment(tmp_path, {"SECRET_KEY": "k"}) == ("production", "the default")
    monkeypatch.setenv("APP_ENV", "production")
    assert app_environment(tmp_path) == ("production", "APP_ENV")
    with pytest.raises(RuntimeError, match="Set the SECRET_KEY"):
        build_config(tmp_path)
