"""The analysis package stays pure: nothing in it imports Flask, SQLAlchemy or the web application.

Two checks. The first reads the source of every module in ``analysis`` with
``ast``, resolves relative imports, and follows imports of the project's own
packages (such as ``questionnaires``) to their files, so an import hidden
one step away is found too. The second imports every module in a fresh
Python and looks at what ended up in ``sys.modules``.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "analysis"
FORBIDDEN = {"flask", "sqlalchemy", "werkzeug", "jinja2", "survey_app"}


def forbidden(module: str) -> bool:
    top = module.partition(".")[0]
    return top in FORBIDDEN or top.startswith("flask_")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str, is_package: bool) -> set[str]:
    """Every module the source imports, by its full name, with relative imports resolved.

    ``from x import y`` counts as importing both ``x`` and ``x.y``, since y
    may be a module. Calls of ``importlib.import_module`` and ``__import__``
    with a literal name count too.
    """
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".") if package else []
                if node.level - 1 > len(parts) - 1:
                    raise ValueError(f"{module}: a relative import goes above the top-level package")
                base = ".".join(parts[: len(parts) - (node.level - 1)])
                origin = f"{base}.{node.module}" if node.module else base
            else:
                origin = node.module or ""
            found.add(origin)
            found.update(f"{origin}.{alias.name}" for alias in node.names if alias.name != "*")
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            function = node.func
            name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
            if name in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                found.add(node.args[0].value)
    return found


def project_file(module: str) -> Path | None:
    """The project's own file for a module name, if it is one of ours."""
    path = ROOT.joinpath(*module.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file() and ".venv" not in candidate.parts:
            return candidate
    return None


def imports_reached(start: list[Path]) -> dict[str, str]:
    """Every module reached by import from the start files, following the project's own modules, with who imports it."""
    reached: dict[str, str] = {}
    queue = list(start)
    seen: set[Path] = set()
    while queue:
        path = queue.pop()
        if path in seen:
            continue
        seen.add(path)
        importer = module_name(path)
        for module in imported_modules(path.read_text(encoding="utf-8"), importer, path.name == "__init__.py"):
            reached.setdefault(module, importer)
            # Importing a.b.c runs a/__init__.py and a/b/__init__.py first.
            parts = module.split(".")
            for end in range(1, len(parts) + 1):
                found = project_file(".".join(parts[:end]))
                if found is not None:
                    queue.append(found)
    return reached


ANALYSIS_FILES = sorted(PACKAGE.rglob("*.py"))
ANALYSIS_MODULES = [module_name(path) for path in ANALYSIS_FILES]


def test_the_package_has_the_modules_expected():
    # A guard against the walk finding nothing (a wrong path would make every check below pass).
    assert {"analysis", "analysis.proportions", "analysis.breakdowns", "analysis.representation"} <= set(
        ANALYSIS_MODULES
    )
    assert len(ANALYSIS_MODULES) >= 10


def test_no_analysis_module_imports_the_web_application_or_the_database():
    reached = imports_reached(ANALYSIS_FILES)

    problems = sorted(f"{importer} imports {module}" for module, importer in reached.items() if forbidden(module))

    assert problems == []
    # The walk did see the package's real imports, including relative ones and the questionnaires it reads.
    assert {"scipy.stats", "pandas", "analysis.proportions", "questionnaires"} <= reached.keys()


@pytest.mark.parametrize(
    ("source", "module", "is_package", "expected"),
    [
        ("import flask", "analysis.x", False, {"flask"}),
        ("import sqlalchemy.orm as orm", "analysis.x", False, {"sqlalchemy.orm"}),
        ("from flask_babel import gettext", "analysis.x", False, {"flask_babel", "flask_babel.gettext"}),
        (
            "from .proportions import compare",
            "analysis.x",
            False,
            {"analysis.proportions", "analysis.proportions.compare"},
        ),
        ("from . import spc", "analysis.x", False, {"analysis", "analysis.spc"}),
        ("from . import spc", "analysis", True, {"analysis", "analysis.spc"}),
        ("from .. import survey_app", "analysis.sub.x", False, {"analysis", "analysis.survey_app"}),
        ("from ...survey_app import db", "analysis.sub.x", False, None),
        ("def f():\n    from werkzeug import exceptions", "analysis.x", False, {"werkzeug", "werkzeug.exceptions"}),
        ("import importlib\nimportlib.import_module('jinja2')", "analysis.x", False, {"importlib", "jinja2"}),
        ("__import__('survey_app.models')", "analysis.x", False, {"survey_app.models"}),
        ("from x import *", "analysis.x", False, {"x"}),
    ],
)
def test_the_import_reader_finds_every_kind_of_import(source, module, is_package, expected):
    if expected is None:
        with pytest.raises(ValueError, match="above the top-level package"):
            imported_modules(source, module, is_package)
    else:
        assert imported_modules(source, module, is_package) == expected


@pytest.mark.parametrize(
    ("module", "bad"),
    [
        ("flask", True),
        ("flask.json", True),
        ("flask_sqlalchemy", True),
        ("flask_babel", True),
        ("sqlalchemy.orm", True),
        ("werkzeug", True),
        ("jinja2", True),
        ("survey_app.services.runs", True),
        ("flaskish", False),
        ("scipy.stats", False),
        ("analysis.survey", False),
        ("questionnaires", False),
    ],
)
def test_what_counts_as_forbidden(module, bad):
    assert forbidden(module) is bad


def test_the_walk_follows_the_projects_own_packages(tmp_path, monkeypatch):
    # A pure-looking module that imports a project package which imports Flask is caught, with the importer named.
    (tmp_path / "pure").mkdir()
    (tmp_path / "pure" / "__init__.py").write_text("")
    (tmp_path / "pure" / "sums.py").write_text("from helpers.tools import add\n")
    (tmp_path / "helpers").mkdir()
    (tmp_path / "helpers" / "__init__.py").write_text("")
    (tmp_path / "helpers" / "tools.py").write_text("import flask\n\ndef add(a, b):\n    return a + b\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)

    reached = imports_reached(sorted((tmp_path / "pure").rglob("*.py")))

    assert reached["flask"] == "helpers.tools"


def modules_after_importing(modules: list[str]) -> set[str]:
    """The top-level names in sys.modules after a fresh Python imports the modules."""
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.returncode == 0, completed.stderr
    return set(json.loads(completed.stdout.strip().splitlines()[-1]))


def test_importing_every_analysis_module_loads_no_web_or_database_code():
    loaded = modules_after_importing(ANALYSIS_MODULES)

    assert set(ANALYSIS_MODULES) <= loaded
    assert sorted(name for name in loaded if forbidden(name)) == []


def test_the_import_check_would_see_flask():
    # The same check on a module list that does pull Flask in finds it, so the test above can fail.
    pytest.importorskip("flask")
    loaded = modules_after_importing(["analysis.proportions", "flask"])
    assert "flask" in loaded and "werkzeug" in loaded
