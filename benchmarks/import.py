"""Does a large ``responses import`` hold up the people answering surveys at the same time?

Builds a fresh database in a temporary directory (``flask db upgrade``,
``flask questionnaires load``, ``flask demo``), as benchmarks/submit.py does,
writes two CSV files of invented responses to one shipped questionnaire
(10,000 and 100,000 rows: answers by code and by wording, free text, equality
monitoring answers, dates in UK time), and starts the survey app under
gunicorn with the project's settings (gunicorn.conf.py, access log off). Then,
while concurrent respondents answer the shipped questionnaires without pausing:

1. respondents alone, for a baseline of their latency;
2. ``flask --app wsgi responses import`` of the 10,000-row file into a new run,
   as a separate process, as an officer would run it;
3. the same with the 100,000-row file.

For each import it reports how long it took, the import process's peak
resident memory (its own, from wait4), and the respondents' requests that
overlapped it: how many, p50 and p99 latency. Over the whole run: respondents'
5xx responses and "database is locked" (in responses and in the server log),
and, with the server stopped, whether every response acknowledged to a
respondent is stored and every imported row is there.

Goals: no 5xx and no "database is locked"; respondents' p99 during the import
under 2 s; the import's peak memory flat in the file's size (100,000 rows
within 1.25x of 10,000); nothing lost. The exit status is 1 if any is missed.

Run from the repository root:

    .venv/bin/python benchmarks/import.py
    .venv/bin/python benchmarks/import.py --rows 100000 --respondents 32
    .venv/bin/python benchmarks/import.py --database-url postgresql://survey:survey@127.0.0.1:5432/survey_bench_import

PostgreSQL is used as it is (the import runs are made new, and responses
already there are left alone and not counted). The import's progress lines go
to standard error.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from common import (
    BIN,
    ROOT,
    Database,
    Load,
    Plan,
    Server,
    app_environment,
    conclude,
    gunicorn_settings,
    machine,
    prepare_database,
    print_failures,
    rate,
    run,
    shipped_surveys,
    stop_on_sigterm,
)

from questionnaires import Questionnaire, QuestionType
from questionnaires.schema import Question

RETRY_FOR = 10  # seconds: only a keep-alive connection closed under our feet should need a retry
P99_GOAL_MS = 2000
MEMORY_GOAL = 1.25  # the larger file's peak memory, at most this many times the smaller one's
PHRASES = (
    "The caseworker called back within a week.",
    "The Local Offer website was hard to search.",
    "Nobody told us about the annual review until the week before.",
    "The SENDIASS adviser explained the assessment clearly.",
    "We waited months for a reply to our email.",
)


# The files


def _cell(question: Question, rng: random.Random) -> str:
    """A valid answer as another tool might write it: the option's wording or its code."""
    kind = question.type
    if kind is QuestionType.MULTIPLE_CHOICE:
        chosen = rng.sample(question.scale_options, k=min(2, len(question.scale_options)))
        return "; ".join(option.label if rng.random() < 0.5 else option.value for option in chosen)
    if kind.is_choice:
        option = rng.choice(question.options)
        return option.label if rng.random() < 0.5 else option.value
    if kind is QuestionType.NUMBER:
        low = int(question.min) if question.min is not None else 0
        high = int(question.max) if question.max is not None else low + 100
        return str(rng.randint(low, high))
    if kind is QuestionType.DATE:
        return "14/11/2021"
    return " ".join(rng.sample(PHRASES, k=2))[: question.max_length]


def write_file(path: Path, questionnaire: Questionnaire, rows: int, seed: int) -> None:
    """``rows`` invented responses, one a row, each answering only what the routing would ask."""
    rng = random.Random(seed)
    questions = questionnaire.questions
    first = datetime(2021, 11, 1, 8, 0)
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        # Headed by key, except the first question, headed by its wording.
        writer.writerow(["submitted_at", questions[0].label, *(question.key for question in questions[1:])])
        for _ in range(rows):
            answers: dict[str, str] = {}
            cells = []
            for question in questions:
                skip = not question.is_shown(answers) or rng.random() < (0.7 if question.type.is_text else 0.1)
                cell = "" if skip else _cell(question, rng)
                if cell and question.type.is_choice and question.type is not QuestionType.MULTIPLE_CHOICE:
                    answers[question.key] = next(o.value for o in question.options if cell in (o.label, o.value))
                cells.append(cell)
            sent = first + timedelta(minutes=rng.randrange(60 * 24 * 28))
            writer.writerow([sent.strftime("%d/%m/%Y %H:%M"), *cells])


# The imports


@dataclass(frozen=True)
class Import:
    rows: int
    size_mb: float
    start: float
    end: float
    peak_rss_mb: float
    status: int
    output: str


def run_import(path: Path, rows: int, title: str, questionnaire: str, environment: dict[str, str]) -> Import:
    """The import command as a process of its own: its time and peak resident memory (from wait4)."""
    command = [BIN / "flask", "--app", "wsgi", "responses", "import", path, "--new-run", title]
    start = time.monotonic()
    process = subprocess.Popen(
        [*command, "--questionnaire", questionnaire], cwd=ROOT, env=environment, stdout=subprocess.PIPE, text=True
    )
    _, status, usage = os.wait4(process.pid, 0)
    end = time.monotonic()
    process.returncode = os.waitstatus_to_exitcode(status)
    output = process.stdout.read().strip()
    process.stdout.close()
    # ru_maxrss is in kilobytes on Linux.
    return Import(rows, path.stat().st_size / 1e6, start, end, usage.ru_maxrss / 1024, process.returncode, output)


def idle_rss_mb(environment: dict[str, str]) -> float:
    """The peak resident memory of the same command loading the app and doing nothing (its --help)."""
    process = subprocess.Popen(
        [BIN / "flask", "--app", "wsgi", "responses", "import", "--help"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss / 1024


@dataclass(frozen=True)
class Latency:
    count: int
    p50_ms: float
    p99_ms: float
    slowest_ms: float


def overlapping(samples: list[tuple[float, float]], start: float, end: float) -> Latency:
    """Requests that were in flight at any moment between start and end (those held up by the import included)."""
    latencies = [seconds for finished, seconds in samples if finished - seconds < end and finished > start]
    if len(latencies) < 2:
        return Latency(len(latencies), float("nan"), float("nan"), float("nan"))
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return Latency(len(latencies), cuts[49] * 1000, cuts[98] * 1000, max(latencies) * 1000)


def imported_responses(database: Database, title: str) -> int:
    title = title.replace("'", "''")
    return database.scalar(
        f"SELECT count(*) FROM response JOIN survey_run ON survey_run.id = response.run_id "  # noqa: S608 - our titles
        f"WHERE survey_run.title = '{title}'"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the large file (default 100,000)")
    parser.add_argument("--small-rows", type=int, default=10_000, help="rows of the small file (default 10,000)")
    parser.add_argument("--respondents", type=int, default=32, help="concurrent respondents (default 32)")
    parser.add_argument("--baseline", type=float, default=20, help="seconds of respondents alone (default 20)")
    parser.add_argument("--warmup", type=float, default=10, help="seconds for respondents to join (default 10)")
    parser.add_argument(
        "--client-processes", type=int, default=os.cpu_count(), help="client processes (default: one per CPU)"
    )
    parser.add_argument("--questionnaire", default="send_pathways_information", help="what the files answer")
    parser.add_argument("--database-url", help="run against this database instead of a temporary SQLite file")
    args = parser.parse_args()
    stop_on_sigterm()

    machine_line = machine()
    began = time.monotonic()
    surveys = shipped_surveys()
    questionnaire = next(survey.questionnaire for survey in surveys if survey.questionnaire.key == args.questionnaire)
    stamp = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    with tempfile.TemporaryDirectory(prefix="survey-bench-") as directory:
        workdir = Path(directory)
        files = []
        for rows, seed in ((args.small_rows, 1), (args.rows, 2)):
            path = workdir / f"responses-{rows}.csv"
            write_file(path, questionnaire, rows, seed)
            files.append((path, rows, f"Import benchmark {rows:,} rows {stamp}"))
        environment = app_environment(args.database_url or f"sqlite:///{workdir / 'survey.db'}")
        database = prepare_database(environment)
        stored_before = {reference for reference, _ in database.responses()}
        server = Server("wsgi:app", environment, workdir, "survey")
        imports: list[Import] = []
        idle_mb = idle_rss_mb(environment)
        try:
            server.start()
            plan = Plan(server.port, surveys, RETRY_FOR, ramp_up=args.warmup)
            with Load(plan, args.respondents, args.client_processes) as load:
                time.sleep(args.warmup)
                alone_start = time.monotonic()
                time.sleep(args.baseline)
                alone_end = time.monotonic()
                for path, rows, title in files:
                    imports.append(run_import(path, rows, title, args.questionnaire, environment))
                    time.sleep(3)
                tally = load.stop()
        finally:
            server.stop()
        locked_in_log = server.log_count("database is locked")
        tracebacks = server.log_count("Traceback")
        stored = {reference for reference, _ in database.responses()} - stored_before
        imported = {title: imported_responses(database, title) for _, _, title in files}
    took = time.monotonic() - began

    print()
    print("Import benchmark (benchmarks/import.py)")
    print(f"  machine                  {machine_line}")
    print(f"  database                 {database.description}")
    print(f"  gunicorn                 {gunicorn_settings()}")
    print(
        f"  respondents              {args.respondents} concurrent, keep-alive connections, no pauses, "
        f"in {min(args.client_processes, args.respondents)} client processes"
    )
    print(f"  files                    {args.questionnaire}: {', '.join(f'{rows:,}' for _, rows, _ in files)} rows")
    print()
    alone = rate(tally.samples, alone_start, alone_end)
    print(f"Respondents alone, {alone_end - alone_start:.0f} s")
    print(f"  requests                 {alone.per_second:.1f} /s, p50 {alone.p50_ms:.0f} ms, p99 {alone.p99_ms:.0f} ms")
    during = []
    for result, (_, _, title) in zip(imports, files, strict=True):
        latency = overlapping(tally.samples, result.start, result.end)
        during.append(latency)
        print()
        print(f"Import of {result.rows:,} rows ({result.size_mb:.1f} MB)")
        print(f"  exit status              {result.status}: {result.output[-200:]}")
        seconds = result.end - result.start
        print(f"  time                     {seconds:.1f} s ({result.rows / seconds:,.0f} rows a second)")
        print(
            f"  peak memory (RSS)        {result.peak_rss_mb:.0f} MB "
            f"({result.peak_rss_mb - idle_mb:+.0f} MB over the command loading the app alone, {idle_mb:.0f} MB)"
        )
        print(f"  responses stored         {imported[title]:,} of {result.rows:,}")
        print(
            f"  respondents meanwhile    {latency.count / seconds:.1f} requests/s, p50 {latency.p50_ms:.0f} ms, "
            f"p99 {latency.p99_ms:.0f} ms, slowest {latency.slowest_ms:.0f} ms"
        )
    print()
    print(f"  5xx responses            {tally.server_errors}")
    print(f'  "database is locked"     {tally.locked} in responses, {locked_in_log} in the server log')
    print(f"  tracebacks in the log    {tracebacks}")
    if tally.failures:
        print(f"  unexpected replies       {sum(tally.failures.values())}, each respondent then starting again:")
        print_failures(tally)

    acknowledged = {reference for _, reference in tally.confirmations}
    lost = sorted(acknowledged - stored)
    small, large = imports
    memory_ratio = large.peak_rss_mb / small.peak_rss_mb
    worst_p99 = max(latency.p99_ms for latency in during)
    goals = {
        f"no 5xx from respondents during the imports: {tally.server_errors} (goal 0)": tally.server_errors == 0,
        f'no "database is locked": {tally.locked + locked_in_log} (goal 0)': tally.locked + locked_in_log == 0,
        f"respondents' p99 during the imports {worst_p99:.0f} ms (goal < {P99_GOAL_MS} ms; "
        f"{alone.p99_ms:.0f} ms alone)": worst_p99 < P99_GOAL_MS,
        f"import memory flat: {large.peak_rss_mb:.0f} MB for {large.rows:,} rows, {small.peak_rss_mb:.0f} MB for "
        f"{small.rows:,} (x{memory_ratio:.2f}, goal <= x{MEMORY_GOAL})": memory_ratio <= MEMORY_GOAL,
        "every import succeeded with every row stored": all(
            result.status == 0 and imported[title] == result.rows
            for result, (_, _, title) in zip(imports, files, strict=True)
        ),
        f"no respondent's response lost: {len(acknowledged)} acknowledged, {len(acknowledged) - len(lost)} of "
        f"them stored": not lost,
    }
    return conclude("Goals", goals, took, [f"lost references: {', '.join(lost)}"] if lost else [])


if __name__ == "__main__":
    run(main)
