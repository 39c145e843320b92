"""Does an acknowledged response survive the server being killed? SIGKILL gunicorn again and again, and count.

Builds a fresh SQLite database in a temporary directory, as benchmarks/submit.py
does, and starts the survey app under gunicorn (the project's settings, access
log off). Concurrent respondents answer the shipped questionnaires without
pausing while, at random moments, the whole gunicorn process group (master and
workers) is killed with SIGKILL and started again on the same port.

A respondent whose request fails with a connection error sends the same request
again until the server is back: the same answers, and for "Send answers" the
same submission_key, which the app promises to store once. Any other surprise
sends the respondent back to the start of a new journey.

After the last restart and a quiet period the server is stopped and the
database checked: every reference shown on a confirmation page must be in
``response.reference``, no submission_key may be stored twice, there must be at
least as many responses as acknowledgements, and ``PRAGMA integrity_check``
must say "ok". The exit status is 1 otherwise.

Run from the repository root:

    .venv/bin/python benchmarks/crash.py
    .venv/bin/python benchmarks/crash.py --kills 50 --respondents 128
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from collections import Counter
from pathlib import Path

from common import (
    Load,
    Plan,
    Server,
    app_environment,
    conclude,
    gunicorn_settings,
    machine,
    prepare_database,
    print_failures,
    run,
    shipped_surveys,
    stop_on_sigterm,
)

RETRY_FOR = 60  # seconds a respondent keeps sending a request again while the server is down


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=10, help="times to SIGKILL gunicorn (default 10)")
    parser.add_argument("--respondents", type=int, default=64, help="concurrent respondents (default 64)")
    parser.add_argument(
        "--max-gap", type=float, default=3, help="most seconds from a restart to the next kill (default 3)"
    )
    parser.add_argument("--quiet", type=float, default=5, help="seconds without kills at the end (default 5)")
    parser.add_argument(
        "--client-processes", type=int, default=os.cpu_count(), help="client processes (default: one per CPU)"
    )
    args = parser.parse_args()
    stop_on_sigterm()

    machine_line = machine()
    began = time.monotonic()
    surveys = shipped_surveys()
    restarts: list[float] = []
    with tempfile.TemporaryDirectory(prefix="survey-crash-") as directory:
        workdir = Path(directory)
        environment = app_environment(f"sqlite:///{workdir / 'survey.db'}")
        database = prepare_database(environment)
        server = Server("wsgi:app", environment, workdir, "survey")
        try:
            server.start()
            plan = Plan(server.port, surveys, RETRY_FOR, ramp_up=0)
            with Load(plan, args.respondents, args.client_processes) as load:
                for _ in range(args.kills):
                    time.sleep(random.uniform(0.2, args.max_gap))
                    killed_at = time.monotonic()
                    server.kill()
                    server.start()
                    restarts.append(time.monotonic() - killed_at)
                time.sleep(args.quiet)
                tally = load.stop()
        finally:
            server.stop()
        responses = database.responses()
        integrity = database.integrity_check()
        locked_in_log = server.log_count("database is locked")
    took = time.monotonic() - began

    acknowledged = {reference for _, reference in tally.confirmations}
    stored = {reference for reference, _ in responses}
    lost = sorted(acknowledged - stored)
    shared_keys = [key for key, count in Counter(key for _, key in responses).items() if count > 1]
    checks = {
        f"every acknowledged response stored: {len(lost)} lost": not lost,
        f"no submission_key stored twice: {len(shared_keys)} shared": not shared_keys,
        f"responses stored >= acknowledged: {len(responses)} >= {len(acknowledged)}": len(responses)
        >= len(acknowledged),
        f"PRAGMA integrity_check: {integrity}": integrity == "ok",
        f'no "database is locked" or 5xx: {tally.locked + locked_in_log} and {tally.server_errors}': (
            tally.locked + locked_in_log + tally.server_errors == 0
        ),
    }

    print()
    print("Crash benchmark (benchmarks/crash.py)")
    print(f"  machine                  {machine_line}")
    print(f"  database                 {database.description}")
    print(f"  gunicorn                 {gunicorn_settings()}")
    print(
        f"  load                     {args.respondents} concurrent respondents, keep-alive connections, no pauses, "
        f"in {min(args.client_processes, args.respondents)} client processes"
    )
    print()
    print(f"  kills performed          {len(restarts)} (SIGKILL to the gunicorn master and workers together)")
    if restarts:
        print(
            f"  back up after            {sum(restarts) / len(restarts):.1f} s on average, "
            f"{max(restarts):.1f} s at most (kill to the first page served)"
        )
    print(f"  requests sent again      {tally.retries} after a connection error")
    print(f"  responses sent again     {tally.resubmissions} (Send answers, same submission_key, after an error)")
    print(f"  journeys started again   {sum(tally.failures.values())}")
    print_failures(tally)
    print(f"  responses acknowledged   {len(acknowledged)} (confirmation page with a reference received)")
    print(
        f"  responses stored         {len(responses)} ({tally.unread} of them sent as the run stopped, "
        "their confirmation page not read)"
    )
    print(f"  lost                     {len(lost)}{': ' + ', '.join(lost) if lost else ''}")
    return conclude("Checks", checks, took)


if __name__ == "__main__":
    run(main)
