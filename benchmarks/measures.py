"""How long the measures report and the measures pages take as the responses grow, and their memory.

Builds a database with the real migrations, publishes the questionnaire
library and opens a run of each questionnaire the measures read in each of
six six-monthly waves (April 2022 to March 2025, the first the baseline), then
adds invented responses straight into the tables, in bulk (executemany on
SQLite, COPY on PostgreSQL, the secondary indexes made again afterwards from
the migrations' own definitions), with their counts in ``answer_count`` (each
response added up by the app's own ``answer_counts.Tally``, as the journey
counts it, and written with its upserts), growing the same database from one
size to the next: 10,000, then 90,000 more, then 900,000 more by default.
Responses are spread evenly over the questionnaires, the waves and the three
years (36 months, 12 quarters, 4 calendar years, 6 waves); each answers every
choice question of its questionnaire, context questions included, one in
twenty left unanswered, with a valid answer code chosen by numpy (leaning to
the better end of the scale more in later waves). Multiple-choice, text,
number and date questions, and the equality section (stored apart), are left
unanswered.

At each size it times, interleaved, best of ``--rounds`` each:

- the report: ``survey_app.services.measures.report(measures, kind, as_of)``,
  every measure in every period of one kind, before disclosure control, by
  the real service path (reading ``answer_count``, then ``analysis``), for
  each period kind of ``--periods`` (quarter and month by default), each kind
  timed on its own; the measures file is read once, outside the timing;
- the officer pages, through the app's test client signed in as an officer
  (the server's time for the whole request, rendering included): the
  overview of every measure (``/officer/measures``, quarters) and one
  measure's page (``/officer/measures/<key>``, quarters, with its breakdown
  by school phase; ``--measure``, a composite by default), as of the report's
  day;
- once, for comparison, a bare GROUP BY of the answers the measures read (by
  run, UK month, question and answer): what counting the answers again, as
  the report did before ``answer_count``, costs.

The goal is that none of these grows with the number of responses: the time
at the largest size within 1.5 times the time at the smallest, for the
report of each kind and each page. Memory is measured in a fresh process (so
that what the benchmark itself holds does not hide it) running one report of
each kind and each page once: the Python heap's peak during each (tracemalloc:
every Python object, DataFrame and fetched row, but not what SQLite or libpq
allocate themselves), and how far the process's peak resident memory rose
above its resident memory just before (VmHWM, reset through
/proc/self/clear_refs). Goal: the heap's peak at the largest size within 1.5
times its peak at the smallest. Timings are never asserted: the exit status
is 0.

Run from the repository root:

    .venv/bin/python benchmarks/measures.py
    .venv/bin/python benchmarks/measures.py --sizes 10000,100000 --periods quarter,month,year,wave
    .venv/bin/python benchmarks/measures.py --database-url postgresql://survey:survey@127.0.0.1:5432/survey_bench

By default it runs on a temporary SQLite file, and then on PostgreSQL too when
TEST_DATABASE_URL is set; ``--database-url`` (which may be given more than
once) chooses the databases instead. A SQLite URL must name a file that does
not exist yet. On PostgreSQL everything is built in a schema of its own,
``measures_bench``, dropped at the start and at the end, so the database's
other schemas (the tests' ``public``) are left alone. After loading, PostgreSQL
is VACUUM ANALYZEd, as autovacuum would soon do after a bulk load; SQLite is
not analysed, as the app never runs ANALYZE.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import gc
import io
import itertools
import multiprocessing
import os
import re
import secrets
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from urllib.parse import quote

import numpy as np
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import machine, run, stop_on_sigterm  # noqa: E402

from analysis.measures import CompositeSource, PeriodKind  # noqa: E402

DEFAULT_SIZES = "10000,100000,1000000"
PERIOD_KINDS = [kind.value for kind in PeriodKind]
DEFAULT_KINDS = "quarter,month"
GROWTH_GOAL = 1.5  # each time at the largest size within this many times the same at the smallest
MEMORY_GOAL = 1.5  # the largest size's peak within this many times the smallest's
PAGES = ("overview", "measure page")
DEFAULT_MEASURE = "outcomes_better_parent_carers"
OFFICER_EMAIL = "bench-officer@example.gov.uk"
OFFICER_PASSWORD = "harbour violet tractor 42"  # noqa: S105 - a throwaway benchmark account
SCHEMA = "measures_bench"
FIRST_WAVE = datetime(2022, 4, 1)  # naive UTC, as the models hold times
WAVES = 6
WAVE_MONTHS = 6
AS_OF = date(2025, 3, 31)
SKIPPED = 0.05  # the share of questions left unanswered
CHUNK = 50_000  # responses generated and inserted at a time
ANSWERED_TYPES = {"single_choice", "likert", "yes_no"}
RESPONSE_COLUMNS = ("id", "reference", "submission_key", "run_id", "questionnaire_version_id", "audience", "language")
ANSWER_COLUMNS = (
    "id",
    "response_id",
    "run_id",
    "questionnaire_version_id",
    "question_key",
    "value",
    "audience",
    "language",
    "submitted_at",
)


# The database


@dataclass(frozen=True)
class Target:
    url: str  # as given
    app_url: str  # what the app connects to (on PostgreSQL, with the benchmark's schema first on the search path)
    schema: str = SCHEMA  # on PostgreSQL, where everything is built

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite:")

    @property
    def path(self) -> str:
        return self.url.removeprefix("sqlite:///")

    @property
    def name(self) -> str:
        return "SQLite" if self.is_sqlite else "PostgreSQL"

    @property
    def description(self) -> str:
        if self.is_sqlite:
            return f"SQLite {sqlite3.sqlite_version} (WAL) {self.path}"
        return f"PostgreSQL {re.sub(r'//[^@/]*@', '//', self.url)}, schema {self.schema}"

    def connect_postgresql(self, **options) -> psycopg.Connection:
        return psycopg.connect(re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql://", self.url), **options)


def target_for(url: str, schema: str = SCHEMA) -> Target:
    if url.startswith("sqlite:"):
        if Path(url.removeprefix("sqlite:///")).exists():
            raise SystemExit(f"{url} exists: give the name of a new file, which the benchmark fills.")
        return Target(url, url, schema)
    separator = "&" if "?" in url else "?"
    return Target(url, f"{url}{separator}options={quote(f'-csearch_path={schema}')}", schema)


def reset_schema(target: Target, drop_only: bool = False) -> None:
    with target.connect_postgresql(autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA IF EXISTS {target.schema} CASCADE")
        if not drop_only:
            connection.execute(f"CREATE SCHEMA {target.schema}")


def make_app(target: Target):
    from survey_app import create_app

    return create_app({"APP_ENV": "development", "SECRET_KEY": secrets.token_hex(32), "DATABASE_URL": target.app_url})


# What is answered


@dataclass(frozen=True)
class Asked:
    key: str
    values: np.ndarray  # the answer codes, best first
    cumulative: np.ndarray  # per wave: cumulative probabilities of the codes


@dataclass(frozen=True)
class Plan:
    """One questionnaire: its version, its runs (one per wave) and the questions its responses answer."""

    key: str
    version_id: int
    audience: str
    run_ids: list[int]
    questions: list[Asked]
    measured: list[str]  # the questions its measures read
    counting: object = None  # answer_counts.Counting: what its responses add to answer_count
    per_response: tuple = ()  # answer_counts.ResponseMeasure: the measures counted per response


def _leaning(count: int) -> np.ndarray:
    """Per wave, the cumulative chances of each of ``count`` codes: later waves lean more to the first (best)."""
    table = []
    for wave in range(WAVES):
        lean = wave / (WAVES - 1)
        weights = np.array([1 + lean * (count - index) for index in range(count)], dtype=float)
        table.append(np.cumsum(weights / weights.sum()))
    return np.array(table)


def wave_start(number: int) -> datetime:
    month = FIRST_WAVE.month - 1 + number * WAVE_MONTHS
    return FIRST_WAVE.replace(year=FIRST_WAVE.year + month // 12, month=month % 12 + 1)


def prepare(target: Target, app) -> list[Plan]:
    """Migrate, publish the library, and open one run per wave of each questionnaire the measures read."""
    from flask_migrate import upgrade

    from survey_app.database import begin_write
    from survey_app.extensions import db
    from survey_app.models import Role, SurveyRun, Wave
    from survey_app.services import accounts, answer_counts
    from survey_app.services import measures as measure_service
    from survey_app.services import questionnaires as questionnaire_service

    with app.app_context():
        with contextlib.redirect_stderr(io.StringIO()):  # Alembic's log of each migration
            upgrade()
        measured: dict[str, set[str]] = {}
        for measure in measure_service.measure_set().measures:
            source = measure.source
            if measure.is_recorded:
                continue
            questions = source.questions if isinstance(source, CompositeSource) else (source.question,)
            for key in source.questionnaires:
                measured.setdefault(key, set()).update(questions)
        library = questionnaire_service.library().questionnaires
        versions = {}
        for key in sorted(measured):
            questionnaire_service.publish(library[key])
        for version in questionnaire_service.latest_versions():
            versions[version.key] = version
        begin_write()
        waves = []
        for number in range(WAVES):
            opens = wave_start(number)
            wave = Wave(name=f"Wave {number + 1} ({opens:%B %Y})", is_baseline=number == 0, created_at=opens)
            db.session.add(wave)
            waves.append((wave, opens, wave_start(number + 1)))
        runs: dict[str, list[SurveyRun]] = {}
        for key in sorted(measured):
            version = versions[key]
            for wave, opens, closes in waves:
                survey_run = SurveyRun(
                    slug=f"{key.replace('_', '-')}-{opens:%Y-%m}",
                    title=f"{version.title} ({opens:%B %Y})",
                    questionnaire_version_id=version.id,
                    opens_at=opens,
                    closes_at=closes,
                    wave=wave,
                    expected_eligible=5_000,
                    created_at=opens,
                    updated_at=opens,
                )
                db.session.add(survey_run)
                runs.setdefault(key, []).append(survey_run)
        db.session.commit()
        accounts.create_user(OFFICER_EMAIL, OFFICER_PASSWORD, Role.OFFICER)
        # Counted per response as the migration registered them: the shipped measures file's.
        per_response = tuple(answer_counts.counted_measures(db.session.connection(), for_writing=False))
        db.session.rollback()
        plans = []
        for key in sorted(measured):
            questionnaire = library[key]
            asked = [
                Asked(
                    question.key,
                    np.array([option.value for option in question.options], dtype=object),
                    _leaning(len(question.options)),
                )
                for question in questionnaire.questions
                if question.type.value in ANSWERED_TYPES and question.section.value != "equality"
            ]
            plans.append(
                Plan(
                    key=key,
                    version_id=versions[key].id,
                    audience=versions[key].audience,
                    run_ids=[survey_run.id for survey_run in runs[key]],
                    questions=asked,
                    measured=sorted(measured[key]),
                    counting=answer_counts.counting_of(questionnaire),
                    per_response=per_response,
                )
            )
        db.session.remove()
    return plans


# Invented responses


@dataclass
class Counters:
    responses: int = 0
    answers: int = 0


def _stamps(microseconds: np.ndarray) -> np.ndarray:
    """Naive UTC times as SQLAlchemy writes them to SQLite ("2024-04-01 09:30:00.000000"), which PostgreSQL reads
    too."""
    text = np.datetime_as_string(microseconds.astype("datetime64[us]"), unit="us")
    return np.char.replace(text, "T", " ").astype(object)


def invent(plans: list[Plan], count: int, first_response: int, first_answer: int, seed: int, tallies=None):
    """Responses and answers, ``CHUNK`` responses at a time: yields (response rows, answer rows).

    With ``tallies`` (a list), each chunk's counts for ``answer_count`` are appended to it before the chunk is
    yielded, added up by the app's ``answer_counts.Tally`` as the journey adds up each response.
    """
    starts = np.array([wave_start(number) for number in range(WAVES + 1)], dtype="datetime64[us]").astype(np.int64)
    # Within each wave's six months, a day short of its end, so that nothing falls after the report's last day.
    spans = np.diff(starts) - 86_400_000_000
    run_table = np.array([plan.run_ids for plan in plans], dtype=np.int64)
    version_ids = np.array([plan.version_id for plan in plans], dtype=np.int64)
    audiences = np.array([plan.audience for plan in plans], dtype=object)
    for done in range(0, count, CHUNK):
        n = min(CHUNK, count - done)
        first = first_response + done
        rng = np.random.default_rng([seed, first])
        which = rng.integers(0, len(plans), n)
        wave = rng.integers(0, WAVES, n)
        moment = starts[wave] + (rng.random(n) * spans[wave]).astype(np.int64)
        order = np.argsort(moment, kind="stable")  # ids rise with time, as they do when people answer
        which, wave, moment = which[order], wave[order], moment[order]
        ids = np.arange(first, first + n, dtype=np.int64)
        run_ids = run_table[which, wave]
        stamps = _stamps(moment)
        positions, question_order, keys, values = [], [], [], []
        for index, plan in enumerate(plans):
            mine = np.flatnonzero(which == index)
            for number, asked in enumerate(plan.questions):
                chosen = mine[rng.random(len(mine)) >= SKIPPED]
                draws = rng.random(len(chosen))
                codes = (draws[:, None] > asked.cumulative[wave[chosen]]).sum(axis=1)
                codes = np.minimum(codes, len(asked.values) - 1)
                positions.append(chosen)
                question_order.append(np.full(len(chosen), number))
                keys.append(np.full(len(chosen), asked.key, dtype=object))
                values.append(asked.values[codes])
        position = np.concatenate(positions)
        order = np.lexsort((np.concatenate(question_order), position))  # each response's answers together
        position = position[order]
        answer_ids = np.arange(first_answer, first_answer + len(position), dtype=np.int64)
        first_answer += len(position)
        if tallies is not None:
            tallies.append(
                _tally(
                    plans, which, run_ids, moment, position, np.concatenate(keys)[order], np.concatenate(values)[order]
                )
            )
        responses = zip(
            ids.tolist(),
            [f"B{number:010d}" for number in ids.tolist()],
            [f"{number:032x}" for number in ids.tolist()],
            run_ids.tolist(),
            version_ids[which].tolist(),
            audiences[which].tolist(),
            itertools.repeat("en"),
            stamps.tolist(),
            strict=False,
        )
        answers = zip(
            answer_ids.tolist(),
            ids[position].tolist(),
            run_ids[position].tolist(),
            version_ids[which[position]].tolist(),
            np.concatenate(keys)[order].tolist(),
            np.concatenate(values)[order].tolist(),
            audiences[which[position]].tolist(),
            itertools.repeat("en"),
            stamps[position].tolist(),
            strict=False,
        )
        yield n, len(position), responses, answers


def _tally(plans, which, run_ids, moment, position, keys, values):
    """One chunk's counts, response by response, as the journey counts each response it stores."""
    from survey_app.services.answer_counts import Tally

    tally = Tally()
    sent = moment.astype("datetime64[us]").tolist()  # naive UTC datetimes
    bounds = np.searchsorted(position, np.arange(len(which) + 1)).tolist()
    keys, values, runs = keys.tolist(), values.tolist(), run_ids.tolist()
    for index, plan_index in enumerate(which.tolist()):
        plan = plans[plan_index]
        low, high = bounds[index], bounds[index + 1]
        answers = {key: (value,) for key, value in zip(keys[low:high], values[low:high], strict=True)}
        tally.response(plan.counting, runs[index], plan.audience, sent[index], answers, plan.per_response)
    return tally.counts


def _write_counts(execute, counts, postgresql: bool) -> None:
    from survey_app.services.answer_counts import upserts

    for statement, parameters in upserts(counts, postgresql):
        execute(statement, parameters)


def _insert_sql(table: str, columns: tuple[str, ...], marker: str) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([marker] * len(columns))})"  # noqa: S608


def add_responses(target: Target, plans: list[Plan], count: int, counters: Counters, seed: int, more=None) -> None:
    """Add ``count`` responses, with ids following those already there.

    The tables' secondary indexes (and on PostgreSQL their foreign keys) are set aside while the rows go in and
    made again afterwards from their own definitions, as the migrations wrote them: building an index once is many
    times faster than growing it row by row. The app's connections must be closed. ``more``, if given, takes the
    chunks ``invent`` yields and gives them back with answers added (and every answer's id following the last);
    then ``answer_count`` is left as it is (what ``more`` adds is not counted), otherwise each chunk's counts are
    added to it in the chunk's transaction.
    """
    tallies = [] if more is None else None
    chunks = invent(plans, count, counters.responses + 1, counters.answers + 1, seed, tallies)
    if more is not None:
        chunks = more(chunks, counters.answers + 1)
    response_columns = (*RESPONSE_COLUMNS, "submitted_at")
    if target.is_sqlite:
        _add_to_sqlite(target, chunks, response_columns, counters, tallies)
    else:
        _add_to_postgresql(target, chunks, response_columns, counters, tallies)


def _add_to_sqlite(target: Target, chunks, response_columns: tuple[str, ...], counters: Counters, tallies) -> None:
    connection = sqlite3.connect(target.path, isolation_level=None)
    try:
        # Loading only; the app's own connections set WAL and their synchronous setting again.
        connection.execute("PRAGMA journal_mode=OFF")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-262144")
        indexes = connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('response', 'answer') "
            "AND sql IS NOT NULL"
        ).fetchall()
        for name, _ in indexes:
            connection.execute(f'DROP INDEX "{name}"')
        for responses, answers, response_rows, answer_rows in chunks:
            connection.execute("BEGIN")
            connection.executemany(_insert_sql("response", response_columns, "?"), response_rows)
            connection.executemany(_insert_sql("answer", ANSWER_COLUMNS, "?"), answer_rows)
            if tallies is not None:
                _write_counts(connection.execute, tallies.pop(0), postgresql=False)
            connection.execute("COMMIT")
            counters.responses += responses
            counters.answers += answers
        for _, sql in indexes:
            connection.execute(sql)
        connection.execute("PRAGMA journal_mode=WAL")
    finally:
        connection.close()


def _add_to_postgresql(target: Target, chunks, response_columns: tuple[str, ...], counters: Counters, tallies) -> None:
    with target.connect_postgresql(options=f"-csearch_path={target.schema}") as connection:
        indexes = connection.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s AND tablename IN ('response', 'answer') "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE connamespace = %s::regnamespace)",
            (target.schema, target.schema),
        ).fetchall()
        foreign_keys = connection.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid IN ('response'::regclass, 'answer'::regclass)"
        ).fetchall()
        for table, name, _ in foreign_keys:
            connection.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            connection.execute(f'DROP INDEX "{name}"')
        connection.commit()
        with connection.cursor() as cursor:
            for responses, answers, response_rows, answer_rows in chunks:
                with cursor.copy(f"COPY response ({', '.join(response_columns)}) FROM STDIN") as copy:
                    for row in response_rows:
                        copy.write_row(row)
                with cursor.copy(f"COPY answer ({', '.join(ANSWER_COLUMNS)}) FROM STDIN") as copy:
                    for row in answer_rows:
                        copy.write_row(row)
                if tallies is not None:
                    _write_counts(cursor.execute, tallies.pop(0), postgresql=True)
                connection.commit()
                counters.responses += responses
                counters.answers += answers
        for _, definition in indexes:
            connection.execute(definition)
        for table, name, definition in foreign_keys:
            connection.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        for table in ("response", "answer"):
            connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608
            )
        connection.commit()
    with target.connect_postgresql(autocommit=True, options=f"-csearch_path={target.schema}") as connection:
        connection.execute("VACUUM ANALYZE response")
        connection.execute("VACUUM ANALYZE answer")
        connection.execute("VACUUM ANALYZE answer_count")


# Timing


def bare_group_by(plans: list[Plan]):
    """One GROUP BY of the answers the measures read: each questionnaire's runs and measured questions, by run,
    UK month, question and answer, sent by the end of the report's last day."""
    from sqlalchemy import and_, func, or_, select

    from survey_app.models import Answer
    from survey_app.services.uk_time import end_of_uk_day, uk_month

    month = uk_month(Answer.submitted_at)
    mine = or_(*(and_(Answer.run_id.in_(plan.run_ids), Answer.question_key.in_(plan.measured)) for plan in plans))
    return (
        select(Answer.run_id, month, Answer.question_key, Answer.value, func.count())
        .where(mine, Answer.submitted_at < end_of_uk_day(AS_OF))
        .group_by(Answer.run_id, month, Answer.question_key, Answer.value)
    )


@dataclass
class Figures:
    database: str
    responses: int
    answers: int
    loaded_seconds: float  # to add this size's new responses and their counts
    count_rows: int = 0  # rows of answer_count
    group_by: float = float("inf")
    group_by_rows: int = 0
    times: dict[str, float] = field(default_factory=dict)  # best seconds per report kind and page
    report_rows: dict[str, int] = field(default_factory=dict)
    peaks: dict[str, int] = field(default_factory=dict)  # the Python heap's peak per report kind and page, bytes
    resident: dict[str, int | None] = field(default_factory=dict)  # the resident memory's peak growth, bytes


def page_urls(measure_key: str) -> dict[str, str]:
    as_of = f"as_of={AS_OF.day}&as_of={AS_OF.month}&as_of={AS_OF.year}"
    return {
        "overview": f"/officer/measures?period=quarter&{as_of}",
        "measure page": f"/officer/measures/{measure_key}?period=quarter&{as_of}",
    }


def signed_in_client(app):
    """The app's test client, signed in as the benchmark's officer through the sign-in page."""
    client = app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page
    )
    signed = client.post(
        "/sign-in", data={"csrf_token": token.group(1), "email": OFFICER_EMAIL, "password": OFFICER_PASSWORD}
    )
    if signed.status_code != 303:
        raise SystemExit(f"The benchmark's officer could not sign in (HTTP {signed.status_code}).")
    return client


def _page(client, url: str) -> int:
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"{url} answered HTTP {response.status_code}.")
    return len(response.get_data())


def measure(app, plans: list[Plan], kinds: list[str], rounds: int, figures: Figures, measure_key: str) -> None:
    from sqlalchemy import func, select

    from survey_app.extensions import db
    from survey_app.models import AnswerCount
    from survey_app.services import measures as measure_service

    figures.times = dict.fromkeys([*kinds, *PAGES], float("inf"))
    urls = page_urls(measure_key)
    with app.app_context():
        measures = measure_service.measure_set()
        figures.count_rows = db.session.scalar(select(func.count()).select_from(AnswerCount))
        db.session.rollback()
        client = signed_in_client(app)

        def report(kind: str):
            try:
                return measure_service.report(measures, PeriodKind(kind), AS_OF)
            finally:
                db.session.rollback()

        def group_by():
            try:
                return db.session.execute(bare_group_by(plans)).all()
            finally:
                db.session.rollback()

        figures.group_by, rows = _timed(group_by)
        figures.group_by_rows = len(rows)
        for _ in range(rounds):
            for kind in kinds:
                seconds, made = _timed(lambda kind=kind: report(kind))
                figures.times[kind] = min(figures.times[kind], seconds)
                figures.report_rows[kind] = len(made.rows)
            for name, url in urls.items():
                seconds, _ = _timed(lambda url=url: _page(client, url))
                figures.times[name] = min(figures.times[name], seconds)
        db.session.remove()


def _timed(work):
    gc.collect()
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def _memory(name: str) -> int:
    """VmRSS or VmHWM (the peak) of this process, in bytes."""
    found = re.search(rf"^{name}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE)
    return int(found.group(1)) * 1024


def _in_fresh_process(target: Target, kinds: list[str], measure_key: str) -> dict[str, tuple[int, int | None]]:
    """In a process of its own, one report of each kind and each page once: (the Python heap's peak, how far the
    resident memory's peak rose above where it was before) in bytes, for each. The second is None where Linux
    cannot reset the peak. Each page is requested once before, so that the first time a template is compiled is
    not counted."""
    from survey_app.extensions import db
    from survey_app.services import measures as measure_service

    app = make_app(target)
    peaks = {}
    with app.app_context():
        measures = measure_service.measure_set()
        client = signed_in_client(app)
        urls = page_urls(measure_key)
        work = {kind: lambda kind=kind: measure_service.report(measures, PeriodKind(kind), AS_OF) for kind in kinds}
        work |= {name: lambda url=url: _page(client, url) for name, url in urls.items()}
        for url in urls.values():
            _page(client, url)
        for name, job in work.items():
            gc.collect()
            try:
                Path("/proc/self/clear_refs").write_text("5")  # start the peak (VmHWM) again from here
                resident = _memory("VmRSS")
            except OSError:
                resident = None
            tracemalloc.start()
            try:
                job()
                heap = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
                db.session.rollback()
            peaks[name] = (heap, None if resident is None else _memory("VmHWM") - resident)
        db.engine.dispose()
    return peaks


def memory_in_fresh_process(target: Target, kinds: list[str], figures: Figures, measure_key: str) -> None:
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        peaks = pool.submit(_in_fresh_process, target, kinds, measure_key).result()
    figures.peaks = {name: heap for name, (heap, _) in peaks.items()}
    figures.resident = {name: resident for name, (_, resident) in peaks.items()}


# The run


def bench(target: Target, sizes: list[int], kinds: list[str], args) -> tuple[list[Figures], int]:
    """Every size on one database; returns the figures and how many questionnaires were answered."""
    from survey_app.extensions import db

    if not target.is_sqlite:
        reset_schema(target)
    try:
        app = make_app(target)
        plans = prepare(target, app)
        counters = Counters()
        results = []
        for size in sizes:
            started = time.monotonic()
            with app.app_context():
                db.engine.dispose()  # the loading connection sets the file's journal mode aside
            add_responses(target, plans, size - counters.responses, counters, args.seed)
            figures = Figures(target.name, counters.responses, counters.answers, time.monotonic() - started)
            print(
                f"  {target.name}: {counters.responses:,} responses, {counters.answers:,} answers "
                f"({figures.loaded_seconds:.0f} s to add, with their counts)",
                flush=True,
            )
            started = time.monotonic()
            measure(app, plans, kinds, args.rounds, figures, args.measure)
            memory_in_fresh_process(target, kinds, figures, args.measure)
            print(
                f"    timed in {time.monotonic() - started:.0f} s; answer_count has {figures.count_rows:,} rows; "
                f"the GROUP BY returns {figures.group_by_rows:,} rows",
                flush=True,
            )
            results.append(figures)
        with app.app_context():
            db.engine.dispose()
        return results, len(plans)
    finally:
        if not target.is_sqlite and not args.keep:
            reset_schema(target, drop_only=True)


def _mb(size: float | None) -> str:
    return "" if size is None else f"{size / 1e6:.1f}"


def print_table(results: list[Figures], kinds: list[str]) -> None:
    names = [*kinds, *PAGES]
    print(
        f"{'database':<11} {'responses':>10} {'answers':>11} {'count rows':>10} {'timed':<13} {'seconds':>8} "
        f"{'heap MB':>8} {'RSS MB':>7} {'GROUP BY s':>10}"
    )
    for figures in results:
        for number, name in enumerate(names):
            first = number == 0
            print(
                f"{figures.database if first else '':<11} "
                f"{f'{figures.responses:,}' if first else '':>10} "
                f"{f'{figures.answers:,}' if first else '':>11} "
                f"{f'{figures.count_rows:,}' if first else '':>10} "
                f"{('report, ' + name) if name in kinds else name:<13} {figures.times[name]:8.3f} "
                f"{_mb(figures.peaks.get(name)):>8} "
                f"{_mb(figures.resident.get(name)):>7} "
                f"{f'{figures.group_by:.2f}' if first else '':>10}"
            )


def verdicts(results: list[Figures], kinds: list[str]) -> list[str]:
    lines = []
    for database in dict.fromkeys(figures.database for figures in results):
        mine = [figures for figures in results if figures.database == database]
        smallest, largest = mine[0], mine[-1]
        for name in [*kinds, *PAGES]:
            growth = largest.times[name] / smallest.times[name]
            lines.append(
                f"  {database}: {('report, ' + name) if name in kinds else name}: {smallest.times[name]:.3f} s at "
                f"{smallest.responses:,}, {largest.times[name]:.3f} s at {largest.responses:,}: x{growth:.2f} "
                f"(goal <= {GROWTH_GOAL:g}): {'met' if growth <= GROWTH_GOAL else 'NOT MET'}"
            )
        low, high = max(smallest.peaks.values()), max(largest.peaks.values())
        lines.append(
            f"  {database}: memory flat: {'met' if high / low <= MEMORY_GOAL else 'NOT MET'} (heap peak "
            f"{low / 1e6:.1f} MB at {smallest.responses:,}, {high / 1e6:.1f} MB at {largest.responses:,}: "
            f"x{high / low:.2f}, goal <= {MEMORY_GOAL:g})"
        )
    return lines


def _sizes(text: str) -> list[int]:
    sizes = sorted({int(part.replace("_", "")) for part in text.split(",") if part.strip()})
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError("give sizes as whole numbers above 0, like 10000,100000")
    return sizes


def _kinds(text: str) -> list[str]:
    kinds = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [kind for kind in kinds if kind not in PERIOD_KINDS]
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(f"period kinds are {', '.join(PERIOD_KINDS)}, not {', '.join(unknown)}")
    return kinds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", type=_sizes, default=_sizes(DEFAULT_SIZES), help=f"numbers of responses (default {DEFAULT_SIZES})"
    )
    parser.add_argument(
        "--periods",
        "--period",
        type=_kinds,
        default=_kinds(DEFAULT_KINDS),
        help=f"period kinds to report, each timed on its own: {', '.join(PERIOD_KINDS)} (default {DEFAULT_KINDS})",
    )
    parser.add_argument(
        "--database-url",
        action="append",
        help="a database to run on, instead of a temporary SQLite file and TEST_DATABASE_URL (may be repeated)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="timings of each, the best kept (default 3)")
    parser.add_argument("--seed", type=int, default=1, help="of the invented answers (default 1)")
    parser.add_argument("--keep", action="store_true", help=f"leave the PostgreSQL schema {SCHEMA} in place")
    parser.add_argument(
        "--measure", default=DEFAULT_MEASURE, help=f"the measure whose page is timed (default {DEFAULT_MEASURE})"
    )
    args = parser.parse_args()
    stop_on_sigterm()

    machine_line = machine()
    began = time.monotonic()
    results: list[Figures] = []
    descriptions = []
    questionnaires = 0
    with tempfile.TemporaryDirectory(prefix="survey-bench-") as directory:
        urls = args.database_url or [
            f"sqlite:///{Path(directory) / 'survey.db'}",
            *([os.environ["TEST_DATABASE_URL"]] if os.environ.get("TEST_DATABASE_URL") else []),
        ]
        print("Generating and timing:")
        for url in urls:
            target = target_for(url)
            descriptions.append(target.description)
            figures, questionnaires = bench(target, args.sizes, args.periods, args)
            results += figures
    took = time.monotonic() - began

    print()
    print("Measures report benchmark (benchmarks/measures.py)")
    print(f"  machine    {machine_line}")
    for description in descriptions:
        print(f"  database   {description}")
    print(
        f"  data       {WAVES} waves of {WAVE_MONTHS} months from {FIRST_WAVE:%B %Y}, one run per wave of each of "
        f"the {questionnaires} questionnaires the measures read; report as of {AS_OF}"
    )
    print(
        f"  timing     best of {args.rounds}, reports and pages interleaved; each period kind's report timed on its "
        "own; pages through the test client signed in as an officer, as of the report's day, by quarter"
    )
    print(f"  pages      overview: /officer/measures; measure page: /officer/measures/{args.measure}")
    print("  heap MB    the Python heap's peak during one report or page, in a fresh process (tracemalloc)")
    print("  RSS MB     how far the resident memory's peak rose above where it was, over the same")
    print("  GROUP BY   once: counting the answers the measures read again, as the report did before answer_count")
    print()
    print_table(results, args.periods)
    print()
    print("Goals")
    for line in verdicts(results, args.periods):
        print(line)
    print()
    print(f"Took {took:.0f} s in all.")
    return 0


if __name__ == "__main__":
    run(main)
