"""How long a large run's exports and pages take, next to the database's own CSV of the same rows.

Builds a database as benchmarks/measures.py does (its loading code: the real
migrations, the questionnaire library, invented responses added in bulk, the
indexes made again afterwards from the migrations' definitions), with every
response in one run of ``ehc_plan_feedback`` open for six months, growing it
from one size to the next: 100,000 responses, then 900,000 more by default
(``--sizes``). Each response answers the questionnaire's choice questions,
context questions included (one in twenty left unanswered); one in four also
has a comment (some beginning with ``=`` or ``-``, which the export
neutralises), and one in five two answers to the multiple-choice question,
stored in the opposite order to the questionnaire's.

At each size it times, interleaved, best of ``--rounds`` each:

- the CSV export: ``exports.export_responses(run, "csv")``, the real service
  path from the audit record to the last byte, written to /dev/null; next to
  the database's own CSV of the same rows, written to /dev/null by its
  command-line client (``sqlite3 -csv``, or ``psql`` with ``\\copy ... to
  stdout csv``): one row per response, oldest first, its reference, time and
  language and one column per question in the export's order, answers as
  codes, several joined with "; " (the export writes labels, in the
  questionnaire's order). The ratio is export / database;
- the Excel export: how long until its first byte, and until its last;
- the run's responses per UK day (``runs.submissions_per_day``), and the
  run's page (``GET /officer/runs/<id>``, signed in as an officer, through
  the app's test client: every query and the template);
- the run's table of responses filtered by one context answer
  (``?school_phase=primary``, a fifth of the responses) and by two
  (``&locality=south``), through the test client.

Goals: CSV export within 2 times the database's own CSV at every size;
responses per day, the run's page and the filtered tables under 0.3 s at
every size; the Excel file's first byte within 1 s. Times are wall-clock.
On SQLite, where the database works in the process that asks, the ratio of
CPU times (the export's, this process's; the database's, its client's) is
printed too, the steadier figure when other work shares the machine. The
exit status is 0 when every goal is met, 1 otherwise.

Run from the repository root:

    .venv/bin/python benchmarks/exports.py
    .venv/bin/python benchmarks/exports.py --sizes 10000,100000 --rounds 3
    .venv/bin/python benchmarks/exports.py --database-url postgresql://survey:survey@127.0.0.1:5432/survey_bench

By default it runs on a temporary SQLite file; ``--database-url`` (which may
be given more than once) chooses the databases instead. A SQLite URL must
name a file that does not exist yet. On PostgreSQL everything is built in a
schema of its own, ``exports_bench``, dropped at the start and at the end.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import CSRF_TOKEN, conclude, machine, run, stop_on_sigterm  # noqa: E402
from measures import (  # noqa: E402
    FIRST_WAVE,
    WAVES,
    Counters,
    Plan,
    Target,
    add_responses,
    make_app,
    prepare,
    reset_schema,
    target_for,
    wave_start,
)

DEFAULT_SIZES = "100000,1000000"
SCHEMA = "exports_bench"
QUESTIONNAIRE = "ehc_plan_feedback"
RATIO_GOAL = 2.0
PAGE_GOAL = 0.3  # seconds
FIRST_BYTE_GOAL = 1.0  # seconds
FILTERS = {"one answer": "school_phase=primary", "two answers": "school_phase=primary&locality=south"}
COMMENT_EVERY = 4
NEEDS_EVERY = 5
COMMENTS = [
    "The caseworker listened to us and explained every step of the plan.",
    "=Nobody rang back for six weeks",
    "-The draft plan came late, and the school had not seen it.",
    "Clear, kind and on time. Thank you.",
    "+44 7700 900000 is the number we were given, but nobody answers it.",
]
# Three years of the measures benchmark's waves squeezed into one run's six months.
SQUEEZE = timedelta(days=182) / (wave_start(WAVES) - FIRST_WAVE)
PASSWORD = "violet tractor harbour 42"  # noqa: S105 - the benchmark's own throwaway account


# The data


def squeezed(stamp: str) -> str:
    """A time of the measures benchmark's three years, at the same point of the run's six months."""
    moment = datetime.fromisoformat(stamp)
    return f"{FIRST_WAVE + (moment - FIRST_WAVE) * SQUEEZE:%Y-%m-%d %H:%M:%S.%f}"


def in_one_run(questionnaire):
    """``add_responses``' ``more``: the responses put in six months, with comments and needs added.

    ``invent`` spreads responses over six waves of six months; here they are
    one run's, so their times are squeezed into its six months (in the same
    order). One response in four gets a comment, one in five two needs; every
    answer is numbered again, the added ones included.
    """
    needs = [option.value for option in questionnaire.question("needs_missing").options if not option.apart]
    chosen = [needs[-1], needs[0]]  # in the opposite order to the questionnaire's

    def more(chunks, first_answer: int):
        next_id = first_answer
        for responses, _, invented, answer_rows in chunks:
            response_rows, sent_at = [], {}
            for row in invented:
                sent_at[row[0]] = squeezed(row[-1])
                response_rows.append((*row[:-1], sent_at[row[0]]))
            # (response, run, version, key, value, audience, language, time) without the answer's id
            rows = [(*row[1:-1], sent_at[row[1]]) for row in answer_rows]
            for number, (response_id, _, _, run_id, version_id, audience, language, sent) in enumerate(response_rows):
                if response_id % COMMENT_EVERY == 0:
                    comment = COMMENTS[response_id // COMMENT_EVERY % len(COMMENTS)]
                    rows.append((response_id, run_id, version_id, "worked_well", comment, audience, language, sent))
                if number % NEEDS_EVERY == 1:
                    rows += [
                        (response_id, run_id, version_id, "needs_missing", code, audience, language, sent)
                        for code in chosen
                    ]
            numbered = [(next_id + index, *row) for index, row in enumerate(rows)]
            next_id += len(numbered)
            yield responses, len(numbered), response_rows, numbered

    return more


@dataclass
class Bench:
    target: Target
    app: object
    plan: Plan  # the questionnaire's responses, all in one run
    questionnaire: object
    counters: Counters = field(default_factory=Counters)
    officer_id: int | None = None

    @property
    def run_id(self) -> int:
        return self.plan.run_ids[0]


def build(url: str) -> Bench:
    from survey_app.extensions import db

    target = target_for(url, SCHEMA)
    if not target.is_sqlite:
        reset_schema(target)
    app = make_app(target)
    plans = prepare(target, app)
    # Every response in one run: the first of the questionnaire's runs, whatever the wave.
    plan = next(plan for plan in plans if plan.key == QUESTIONNAIRE)
    plan = dataclasses.replace(plan, run_ids=[plan.run_ids[0]] * WAVES)
    with app.app_context():
        from survey_app.services import questionnaires as questionnaire_service

        questionnaire = questionnaire_service.library().questionnaires[QUESTIONNAIRE]
        db.engine.dispose()
    return Bench(target, app, plan, questionnaire)


def grow(bench: Bench, size: int, seed: int) -> float:
    from survey_app.extensions import db

    started = time.monotonic()
    with bench.app.app_context():
        db.engine.dispose()  # the loading connection sets the file's journal mode aside
    add_responses(
        bench.target,
        [bench.plan],
        size - bench.counters.responses,
        bench.counters,
        seed,
        in_one_run(bench.questionnaire),
    )
    return time.monotonic() - started


# The database's own CSV


def database_csv_query(bench: Bench) -> str:
    """One row per response with one column per exported question, as the database's own client writes it."""
    from survey_app.services.exports import exported_questions

    columns = []
    for question in exported_questions(bench.questionnaire):
        key = question.key
        if bench.target.is_sqlite:
            columns.append(f"group_concat(CASE WHEN a.question_key = '{key}' THEN a.value END, '; ')")
        else:
            columns.append(f"string_agg(a.value, '; ' ORDER BY a.id) FILTER (WHERE a.question_key = '{key}')")
    return (
        f"SELECT r.reference, r.submitted_at, r.language, {', '.join(columns)} "  # noqa: S608 - fixed keys
        f"FROM response r LEFT JOIN answer a ON a.response_id = r.id WHERE r.run_id = {bench.run_id} "
        "GROUP BY r.id ORDER BY r.id"
    )


def database_csv(bench: Bench, query: str) -> tuple[float, float]:
    """(wall seconds, the client's CPU seconds) of the database's client writing the CSV to /dev/null."""
    if bench.target.is_sqlite:
        command, environment = ["sqlite3", "-csv", bench.target.path, query], None
    else:
        url = re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql://", bench.target.url)
        command = ["psql", url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", f"\\copy ({query}) to stdout with csv"]
        environment = {**os.environ, "PGOPTIONS": f"-csearch_path={SCHEMA}"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        subprocess.run(command, stdout=sink, env=environment, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


# The app


def export(bench: Bench, file_format: str, keep: Path | None = None) -> tuple[float, float, float, int]:
    """(seconds to the first byte, seconds in all, CPU seconds, bytes) of one export, written to /dev/null."""
    from survey_app.extensions import db
    from survey_app.models import SurveyRun, User
    from survey_app.services import exports

    with bench.app.app_context():
        survey_run = db.session.get(SurveyRun, bench.run_id)
        officer = db.session.get(User, bench.officer_id)
        cpu = time.process_time()
        started = time.perf_counter()
        first = None
        written = 0
        with open(keep or os.devnull, "wb") as sink:
            for chunk in exports.export_responses(survey_run, file_format, by=officer).chunks:
                if first is None:
                    first = time.perf_counter() - started
                sink.write(chunk)
                written += len(chunk)
        took = time.perf_counter() - started
        cpu = time.process_time() - cpu
        db.session.remove()
    return first, took, cpu, written


def per_day(bench: Bench) -> tuple[float, int]:
    from survey_app.extensions import db
    from survey_app.models import SurveyRun
    from survey_app.services import runs

    with bench.app.app_context():
        survey_run = db.session.get(SurveyRun, bench.run_id)
        started = time.perf_counter()
        days = runs.submissions_per_day(survey_run)
        took = time.perf_counter() - started
        db.session.remove()
    return took, len(days)


def sign_in(bench: Bench):
    """An officer account, and a test client signed in with it through the sign-in page."""
    from survey_app.models import Role
    from survey_app.services import accounts

    with bench.app.app_context():
        bench.officer_id = accounts.create_user("bench.officer@example.gov.uk", PASSWORD, Role.OFFICER).id
    client = bench.app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    token = CSRF_TOKEN.search(page).group(1)
    signed = client.post(
        "/sign-in", data={"csrf_token": token, "email": "bench.officer@example.gov.uk", "password": PASSWORD}
    )
    if signed.status_code != 303:
        raise SystemExit(f"signing in failed: {signed.status_code}")
    return client


def page(client, path: str) -> float:
    started = time.perf_counter()
    response = client.get(path)
    response.get_data()
    took = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"GET {path}: {response.status_code}")
    return took


# The run


@dataclass
class Figures:
    database: str
    responses: int
    answers: int
    loaded_seconds: float
    csv_seconds: float = float("inf")
    csv_cpu: float = float("inf")
    csv_bytes: int = 0
    database_seconds: float = float("inf")
    database_cpu: float = float("inf")
    xlsx_first: float = float("inf")
    xlsx_seconds: float = float("inf")
    xlsx_bytes: int = 0
    per_day: float = float("inf")
    days: int = 0
    run_page: float = float("inf")
    filtered: dict[str, float] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.csv_seconds / self.database_seconds

    @property
    def cpu_ratio(self) -> float:
        """On SQLite only: PostgreSQL's work is in its server, counted in neither."""
        if self.database != "SQLite" or not self.database_cpu:
            return float("nan")
        return self.csv_cpu / self.database_cpu


def measure(bench: Bench, client, figures: Figures, rounds: int, page_rounds: int, workdir: Path) -> None:
    query = database_csv_query(bench)
    figures.filtered = dict.fromkeys(FILTERS, float("inf"))
    for number in range(rounds):
        _, took, cpu, written = export(bench, "csv")
        figures.csv_seconds, figures.csv_cpu = min(figures.csv_seconds, took), min(figures.csv_cpu, cpu)
        figures.csv_bytes = written
        wall, cpu = database_csv(bench, query)
        figures.database_seconds, figures.database_cpu = (
            min(figures.database_seconds, wall),
            min(figures.database_cpu, cpu),
        )
        # The first workbook is kept for a moment, to check that it is a whole ZIP file.
        workbook = workdir / "responses.xlsx" if number == 0 else None
        first, took, _, written = export(bench, "xlsx", keep=workbook)
        figures.xlsx_first, figures.xlsx_seconds = min(figures.xlsx_first, first), min(figures.xlsx_seconds, took)
        figures.xlsx_bytes = written
        if workbook is not None:
            with zipfile.ZipFile(workbook) as archive:
                broken = archive.testzip()
            workbook.unlink()
            if broken is not None:
                raise SystemExit(f"the Excel file's {broken} is damaged")
        print(
            f"    round {number + 1}: CSV {figures.csv_seconds:.1f} s, database {figures.database_seconds:.1f} s, "
            f"Excel {figures.xlsx_seconds:.1f} s",
            flush=True,
        )
    for _ in range(page_rounds):
        took, figures.days = per_day(bench)
        figures.per_day = min(figures.per_day, took)
        figures.run_page = min(figures.run_page, page(client, f"/officer/runs/{bench.run_id}"))
        for name, query_string in FILTERS.items():
            took = page(client, f"/officer/runs/{bench.run_id}/responses?{query_string}")
            figures.filtered[name] = min(figures.filtered[name], took)


def bench_database(url: str, sizes: list[int], args, workdir: Path) -> tuple[list[Figures], str]:
    from survey_app.extensions import db

    bench = build(url)
    results = []
    try:
        client = sign_in(bench)
        for size in sizes:
            loaded = grow(bench, size, args.seed)
            figures = Figures(bench.target.name, bench.counters.responses, bench.counters.answers, loaded)
            print(
                f"  {figures.database}: {figures.responses:,} responses, {figures.answers:,} answers "
                f"({loaded:.0f} s to add)",
                flush=True,
            )
            measure(bench, client, figures, args.rounds, args.page_rounds, workdir)
            results.append(figures)
        with bench.app.app_context():
            db.engine.dispose()
        return results, bench.target.description
    finally:
        if not bench.target.is_sqlite and not args.keep:
            reset_schema(bench.target, drop_only=True)


def print_table(results: list[Figures]) -> None:
    print(
        f"{'database':<11} {'responses':>10} {'CSV s':>7} {'db CSV s':>8} {'ratio':>6} {'CPU ratio':>9} "
        f"{'XLSX 1st s':>10} {'XLSX s':>7} {'per day s':>9} {'run page s':>10} "
        + " ".join(f"{f'filter {name} s':>17}" for name in FILTERS)
    )
    for figures in results:
        print(
            f"{figures.database:<11} {figures.responses:>10,} {figures.csv_seconds:7.2f} "
            f"{figures.database_seconds:8.2f} {figures.ratio:6.2f} {figures.cpu_ratio:9.2f} "
            f"{figures.xlsx_first:10.3f} {figures.xlsx_seconds:7.1f} {figures.per_day:9.3f} {figures.run_page:10.3f} "
            + " ".join(f"{figures.filtered[name]:17.3f}" for name in FILTERS)
        )


def goals(results: list[Figures]) -> dict[str, bool]:
    checks = {}
    for figures in results:
        where = f"{figures.database} {figures.responses:,}"
        checks[f"{where}: CSV export / database CSV <= {RATIO_GOAL:g} ({figures.ratio:.2f})"] = (
            figures.ratio <= RATIO_GOAL
        )
        checks[f"{where}: Excel first byte < {FIRST_BYTE_GOAL:g} s ({figures.xlsx_first:.3f} s)"] = (
            figures.xlsx_first < FIRST_BYTE_GOAL
        )
        checks[f"{where}: responses per day < {PAGE_GOAL:g} s ({figures.per_day:.3f} s)"] = figures.per_day < PAGE_GOAL
        checks[f"{where}: run page < {PAGE_GOAL:g} s ({figures.run_page:.3f} s)"] = figures.run_page < PAGE_GOAL
        for name, took in figures.filtered.items():
            checks[f"{where}: responses filtered by {name} < {PAGE_GOAL:g} s ({took:.3f} s)"] = took < PAGE_GOAL
    return checks


def _sizes(text: str) -> list[int]:
    sizes = sorted({int(part.replace("_", "")) for part in text.split(",") if part.strip()})
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError("give sizes as whole numbers above 0, like 10000,100000")
    return sizes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", type=_sizes, default=_sizes(DEFAULT_SIZES), help=f"numbers of responses (default {DEFAULT_SIZES})"
    )
    parser.add_argument(
        "--database-url",
        action="append",
        help="a database to run on, instead of a temporary SQLite file (may be repeated)",
    )
    parser.add_argument("--rounds", type=int, default=2, help="timings of each export, the best kept (default 2)")
    parser.add_argument("--page-rounds", type=int, default=5, help="timings of each page, the best kept (default 5)")
    parser.add_argument("--seed", type=int, default=1, help="of the invented answers (default 1)")
    parser.add_argument("--keep", action="store_true", help=f"leave the PostgreSQL schema {SCHEMA} in place")
    args = parser.parse_args()
    stop_on_sigterm()

    machine_line = machine()
    began = time.monotonic()
    results: list[Figures] = []
    descriptions = []
    with tempfile.TemporaryDirectory(prefix="survey-bench-") as directory:
        workdir = Path(directory)
        print("Generating and timing:")
        for url in args.database_url or [f"sqlite:///{workdir / 'survey.db'}"]:
            figures, description = bench_database(url, args.sizes, args, workdir)
            results += figures
            descriptions.append(description)
    took = time.monotonic() - began

    print()
    print("Exports and pages of a large run (benchmarks/exports.py)")
    print(f"  machine    {machine_line}")
    for description in descriptions:
        print(f"  database   {description}")
    print(
        f"  data       one run of {QUESTIONNAIRE}; every choice question answered (one in twenty left out), "
        f"a comment for one response in {COMMENT_EVERY}, two needs for one in {NEEDS_EVERY}"
    )
    print(f"  timing     best of {args.rounds} (exports) and {args.page_rounds} (pages); wall-clock seconds")
    print("  db CSV     the database's own client writing one row per response, codes not labels, to /dev/null")
    print("  CPU ratio  SQLite: the export's CPU time / the sqlite3 client's")
    print()
    print_table(results)
    return conclude("Goals", goals(results), took)


if __name__ == "__main__":
    run(main)
