"""How fast whole responses go through, next to a hello-world app under the same gunicorn.

Builds a fresh database in a temporary directory (``flask db upgrade``,
``flask questionnaires load``, ``flask demo``), starts the survey app and
benchmarks/hello_app.py under gunicorn with the project's settings
(gunicorn.conf.py, access log off), then:

1. Journeys: N concurrent respondents, each a keep-alive connection with its own
   session cookie, answer the shipped questionnaires in turn, without pausing:
   start page, every question page (GET, then POST of valid answers with the
   CSRF token), check answers, "Send answers" (with its submission_key),
   confirmation. Every GET and POST counts as a journey request.
2. Hello world: the same number of connections GET / for the same time.

Respondents join during a warm-up; then, over the measured period, it reports
completed responses per second, journey requests per second, page latency (p50,
p99), the server's CPU time per request (gunicorn's processes, from /proc), 5xx
responses and "database is locked" (in responses and in the server log), the
same for hello world, and the ratio of the two request rates. Finally, with the
servers stopped, it checks that every reference shown on a confirmation page is
in ``response.reference``.

On a machine with few CPUs the client competes with the server: its CPU use is
printed too. The server's CPU time per request is the steadier figure when other
work shares the machine.

Goals: journey req/s >= 0.25 x hello req/s; no 5xx and no "database is locked";
no acknowledged response lost; every stored response counted in ``answer_count`` (which the journey
updates in the same transaction as each response). The exit status is 1 if any goal is missed.

Run from the repository root:

    .venv/bin/python benchmarks/submit.py
    .venv/bin/python benchmarks/submit.py --respondents 128 --seconds 60
    .venv/bin/python benchmarks/submit.py --database-url postgresql://survey:survey@127.0.0.1:5432/survey_test

PostgreSQL is used as it is (responses already there are left alone and not
counted). WEB_CONCURRENCY and THREADS set gunicorn's workers and threads for
both apps, as they do in production.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from common import (
    Load,
    Plan,
    Server,
    Survey,
    Tally,
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

RATIO_GOAL = 0.25
RETRY_FOR = 10  # seconds: only a keep-alive connection closed under our feet should need a retry
# The responses answer_count has counted (each response adds 1 to its run and month's count with no question).
COUNTED_RESPONSES = (
    "SELECT coalesce(sum(count), 0) FROM answer_count "
    "WHERE retained = false AND group_key = '' AND question_key = '' AND value = '' AND group_value = ''"
)


@dataclass(frozen=True)
class Phase:
    tally: Tally  # what the clients saw, warm-up included
    start: float  # the measured window
    end: float
    server_cpu: float  # seconds of CPU the server used in the window


def measure(server: Server, surveys: list[Survey], args) -> Phase:
    """Respondents join during the warm-up, then all are measured for args.seconds."""
    plan = Plan(server.port, surveys, RETRY_FOR, ramp_up=args.warmup)
    with Load(plan, args.respondents, args.client_processes) as load:
        time.sleep(args.warmup)
        cpu, start = server.cpu_seconds(), time.monotonic()
        time.sleep(args.seconds)
        end, cpu = time.monotonic(), server.cpu_seconds() - cpu
        return Phase(load.stop(), start, end, cpu)


def print_requests(phase: Phase, total_seconds: float) -> float:
    tally, seconds = phase.tally, phase.end - phase.start
    requests = rate(tally.samples, phase.start, phase.end)
    print(f"  requests                 {requests.per_second:8.1f} /s  ({requests.count} in {seconds:.0f} s)")
    print(f"  latency                  p50 {requests.p50_ms:.1f} ms, p99 {requests.p99_ms:.1f} ms")
    print(
        f"  server CPU               {phase.server_cpu / max(requests.count, 1) * 1000:.2f} ms per request "
        f"({phase.server_cpu / seconds:.0%} of one core)"
    )
    print(
        f"  client CPU               {tally.cpu_seconds:.1f} s in {total_seconds:.0f} s "
        f"({tally.cpu_seconds / total_seconds:.0%} of one core)"
    )
    if tally.retries:
        print(f"  requests sent again      {tally.retries} (connection closed or reset)")
    if tally.failures:
        print(f"  unexpected replies       {sum(tally.failures.values())}, each respondent then starting again:")
        print_failures(tally)
    return requests.per_second


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--respondents", type=int, default=64, help="concurrent respondents (default 64)")
    parser.add_argument("--seconds", type=float, default=20, help="measured period of each phase (default 20)")
    parser.add_argument(
        "--warmup", type=float, default=10, help="warm-up before each measurement, respondents joining (default 10)"
    )
    parser.add_argument(
        "--client-processes", type=int, default=os.cpu_count(), help="client processes (default: one per CPU)"
    )
    parser.add_argument("--database-url", help="run against this database instead of a temporary SQLite file")
    args = parser.parse_args()
    stop_on_sigterm()

    machine_line = machine()
    began = time.monotonic()
    surveys = shipped_surveys()
    with tempfile.TemporaryDirectory(prefix="survey-bench-") as directory:
        workdir = Path(directory)
        environment = app_environment(args.database_url or f"sqlite:///{workdir / 'survey.db'}")
        database = prepare_database(environment)
        stored_before = {reference for reference, _ in database.responses()}
        survey_server = Server("wsgi:app", environment, workdir, "survey")
        hello_server = Server("benchmarks.hello_app:app", environment, workdir, "hello")
        try:
            survey_server.start()
            hello_server.start()
            journeys = measure(survey_server, surveys, args)
            hello = measure(hello_server, [], args)
        finally:
            survey_server.stop()
            hello_server.stop()
        locked_in_log = survey_server.log_count("database is locked")
        tracebacks = survey_server.log_count("Traceback")
        stored = {reference for reference, _ in database.responses()} - stored_before
        held, counted = database.scalar("SELECT count(*) FROM response"), database.scalar(COUNTED_RESPONSES)
    took = time.monotonic() - began

    phase_seconds = args.warmup + args.seconds
    print()
    print("Survey journey benchmark (benchmarks/submit.py)")
    print(f"  machine                  {machine_line}")
    print(f"  database                 {database.description}")
    print(f"  gunicorn                 {gunicorn_settings()}; the same for both apps")
    print(
        f"  load                     {args.respondents} concurrent respondents, keep-alive connections, no pauses, "
        f"in {min(args.client_processes, args.respondents)} client processes"
    )
    print(f"  timing                   {args.warmup:.0f} s warm-up, then {args.seconds:.0f} s measured, per phase")
    print()
    completed = sum(1 for received, _ in journeys.tally.confirmations if journeys.start <= received < journeys.end)
    print(f"Journey: {' and '.join(survey.slug for survey in surveys)}, alternating")
    print(
        f"  responses completed      {completed / (journeys.end - journeys.start):8.1f} /s  "
        f"({completed} in {journeys.end - journeys.start:.0f} s)"
    )
    journey_rate = print_requests(journeys, phase_seconds)
    print(f"  5xx responses            {journeys.tally.server_errors}")
    print(f'  "database is locked"     {journeys.tally.locked} in responses, {locked_in_log} in the server log')
    print(f"  tracebacks in the log    {tracebacks}")
    print()
    print("Hello world: GET / at the same concurrency, for the same time")
    hello_rate = print_requests(hello, phase_seconds)
    print(f"  5xx responses            {hello.tally.server_errors}")

    acknowledged = {reference for _, reference in journeys.tally.confirmations}
    lost = sorted(acknowledged - stored)
    ratio = journey_rate / hello_rate if hello_rate else 0.0
    goals = {
        f"journey req/s / hello req/s = {journey_rate:.1f} / {hello_rate:.1f} = {ratio:.2f} (goal >= {RATIO_GOAL})": (
            ratio >= RATIO_GOAL
        ),
        f"no 5xx with {args.respondents} respondents": journeys.tally.server_errors == 0,
        f'no "database is locked" with {args.respondents} respondents': journeys.tally.locked + locked_in_log == 0,
        f"no response lost: {len(acknowledged)} acknowledged, {len(acknowledged) - len(lost)} of them stored; "
        f"{len(stored)} stored in this run, {journeys.tally.unread} of them sent as the run stopped": not lost,
        f"every response counted in answer_count, in its own transaction: {counted} counted, {held} stored": (
            counted == held
        ),
    }
    return conclude("Goals", goals, took, [f"lost references: {', '.join(lost)}"] if lost else [])


if __name__ == "__main__":
    run(main)
