"""What the benchmarks share: a prepared database, gunicorn servers, and respondents driven over HTTP.

Respondents run as threads in a few client processes, each with its own
keep-alive connection and its own session cookie, and each reads pages with
regular expressions only, so that the client costs little next to the server it
measures. They answer without pausing: the load is as much as the server can
take.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import platform
import random
import re
import resource
import secrets
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from runpy import run_path
from urllib.parse import urlencode, urlsplit
from urllib.request import urlopen

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from questionnaires import Questionnaire, load_directory  # noqa: E402
from questionnaires.examples import example_form_values  # noqa: E402
from survey_app.config import DEFAULTS  # noqa: E402

BIN = Path(sys.executable).parent
GUNICORN_CONFIG = ROOT / "gunicorn.conf.py"
# The project's gunicorn settings with the access log off (a setting the
# command line cannot unset), so that logging does not weigh on the figures,
# and without the control socket, whose one default path every gunicorn on the
# machine would otherwise take from the others.
QUIET_CONFIG = """\
from runpy import run_path

globals().update({{name: value for name, value in run_path({path!r}).items() if not name.startswith("__")}})
accesslog = None
control_socket_disable = True
"""

CSRF_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SUBMISSION_KEY = re.compile(r'name="submission_key" value="([0-9a-f]{32})"')
REFERENCE = re.compile(r"<strong>([2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5})</strong>")
LOCKED = "database is locked"
SOCKET_TIMEOUT = 60


# The database


@dataclass(frozen=True)
class Database:
    url: str

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite:")

    @property
    def description(self) -> str:
        if self.is_sqlite:
            return f"SQLite (WAL) {self.url.removeprefix('sqlite:///')}"
        return f"PostgreSQL {re.sub(r'//[^@/]*@', '//', self.url)}"

    def _connect(self):
        if self.is_sqlite:
            return sqlite3.connect(self.url.removeprefix("sqlite:///"))
        return psycopg.connect(re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql://", self.url))

    def responses(self) -> list[tuple[str, str]]:
        """(reference, submission_key) of every stored response."""
        connection = self._connect()
        try:
            return [tuple(row) for row in connection.execute("SELECT reference, submission_key FROM response")]
        finally:
            connection.close()

    def scalar(self, sql: str):
        """The first value of a query's first row."""
        connection = self._connect()
        try:
            return connection.execute(sql).fetchone()[0]
        finally:
            connection.close()

    def integrity_check(self) -> str:
        """SQLite's own check of the file: "ok" or what is wrong."""
        connection = self._connect()
        try:
            return "; ".join(row[0] for row in connection.execute("PRAGMA integrity_check"))
        finally:
            connection.close()


def app_environment(database_url: str) -> dict[str, str]:
    """The environment of the flask commands and of every server start (the same key throughout)."""
    return {**os.environ, "APP_ENV": "development", "DATABASE_URL": database_url, "SECRET_KEY": secrets.token_hex(32)}


def prepare_database(environment: dict[str, str]) -> Database:
    """Migrate, publish the shipped questionnaires and open their demo surveys."""
    for command in (["db", "upgrade"], ["questionnaires", "load"], ["demo"]):
        done = subprocess.run(
            [BIN / "flask", "--app", "wsgi", *command], cwd=ROOT, env=environment, capture_output=True, text=True
        )
        if done.returncode:
            raise SystemExit(f"flask {' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    return Database(environment["DATABASE_URL"])


@dataclass(frozen=True)
class Survey:
    slug: str
    questionnaire: Questionnaire


def shipped_surveys() -> list[Survey]:
    """The shipped questionnaires, at the slugs ``flask demo`` opens them at."""
    library = load_directory(ROOT / "questionnaires", DEFAULTS["LOCALITIES"].split(","))
    return [Survey(key.replace("_", "-"), questionnaire) for key, questionnaire in library.questionnaires.items()]


# Servers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gunicorn_settings() -> str:
    settings = run_path(str(GUNICORN_CONFIG))
    keepalive = settings.get("keepalive", 2)
    return (
        f"{settings['workers']} workers x {settings['threads']} threads ({settings['worker_class']}), "
        f"keep-alive {keepalive} s, access log off"
    )


class Server:
    """gunicorn with the project's settings, in a session of its own so that it can be killed whole."""

    def __init__(self, app: str, environment: dict[str, str], workdir: Path, name: str):
        self.app = app
        self.port = free_port()
        self.environment = {**environment, "BIND": f"127.0.0.1:{self.port}"}
        self.config = workdir / "gunicorn.bench.conf.py"
        self.config.write_text(QUIET_CONFIG.format(path=str(GUNICORN_CONFIG)))
        self.log = workdir / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> None:
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [BIN / "gunicorn", "--config", self.config, self.app],
                cwd=ROOT,
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        give_up_at = time.monotonic() + timeout
        while time.monotonic() < give_up_at:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn {self.app} exited with {self.process.returncode}; see {self.log}")
            try:
                with urlopen(f"http://127.0.0.1:{self.port}/", timeout=5) as page:
                    page.read()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit(f"gunicorn {self.app} did not answer within {timeout} s; see {self.log}")

    def kill(self) -> None:
        """SIGKILL the master and its workers at once, as a crash or an out-of-memory kill would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.kill()

    def cpu_seconds(self) -> float:
        """CPU time used so far by the master and its workers, from /proc (Linux)."""
        ticks = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()  # from the third field, state
            except OSError:
                continue  # gone meanwhile
            if int(fields[2]) == self.process.pid:  # process group
                ticks += int(fields[11]) + int(fields[12])  # utime and stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def log_count(self, text: str) -> int:
        return self.log.read_text(errors="replace").count(text) if self.log.exists() else 0


# Respondents


class Stopped(Exception):
    """The run is over: leave the journey where it is."""


class JourneyFailed(Exception):
    """A page other than the one a person would see; the respondent starts again."""


@dataclass
class Tally:
    """What a client saw: one per respondent thread, merged per process and then overall."""

    samples: list[tuple[float, float]] = field(default_factory=list)  # (finished at, seconds) of every request
    confirmations: list[tuple[float, str]] = field(default_factory=list)  # (received at, reference)
    server_errors: int = 0
    locked: int = 0
    retries: int = 0  # requests sent again after a connection error
    resubmissions: int = 0  # "Send answers" posted again (same submission_key) after a connection error
    unread: int = 0  # answers accepted (303) as the run stopped, their confirmation page not read
    failures: Counter = field(default_factory=Counter)
    cpu_seconds: float = 0.0

    def add(self, other: Tally) -> None:
        self.samples += other.samples
        self.confirmations += other.confirmations
        self.server_errors += other.server_errors
        self.locked += other.locked
        self.retries += other.retries
        self.resubmissions += other.resubmissions
        self.unread += other.unread
        self.failures += other.failures
        self.cpu_seconds += other.cpu_seconds


@dataclass(frozen=True)
class Reply:
    status: int
    location: str
    body: str
    attempts: int


class Client:
    """One respondent's browser: a keep-alive HTTP/1.1 connection and a cookie jar.

    Written on a bare socket because ``http.client`` costs about four times the
    CPU per request, CPU that the server on the same machine would go without.
    A request that fails with a connection error (the server closed an idle
    keep-alive connection, or is down) is sent again, the same, for up to
    ``retry_for`` seconds.
    """

    def __init__(self, port: int, tally: Tally, stop, retry_for: float):
        self.port = port
        self.socket: socket.socket | None = None
        self.reader = None
        self.cookies: dict[str, str] = {}
        self.tally = tally
        self.stop = stop
        self.retry_for = retry_for

    def close(self) -> None:
        if self.socket is not None:
            self.reader.close()
            self.socket.close()
            self.socket = None

    def _exchange(self, request: bytes) -> tuple[int, dict[str, list[str]], bytes]:
        if self.socket is None:
            self.socket = socket.create_connection(("127.0.0.1", self.port), timeout=SOCKET_TIMEOUT)
            self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.reader = self.socket.makefile("rb")
        self.socket.sendall(request)
        status_line = self.reader.readline(65536)
        headers: dict[str, list[str]] = {}
        while (line := self.reader.readline(65536)) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers.setdefault(name.lower(), []).append(value.strip())
        try:
            status = int(status_line.split(None, 2)[1])
            length = int(headers["content-length"][0])
        except (IndexError, KeyError, ValueError):
            raise ConnectionError(f"no complete response: {status_line!r}") from None
        body = self.reader.read(length)
        if len(body) < length:
            raise ConnectionError("the response was cut short")
        if headers.get("connection", [""])[0].lower() == "close":
            self.close()
        return status, headers, body

    def request(self, method: str, path: str, form: list[tuple[str, str]] | None = None) -> Reply:
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
        if self.cookies:
            head += f"Cookie: {'; '.join(f'{name}={value}' for name, value in self.cookies.items())}\r\n"
        body = urlencode(form).encode() if form is not None else b""
        if form is not None:
            head += f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
        request = f"{head}\r\n".encode("latin-1") + body
        give_up_at = time.monotonic() + self.retry_for
        for attempt in itertools.count(1):
            if self.stop.is_set():
                raise Stopped()
            started = time.monotonic()
            try:
                status, headers, content = self._exchange(request)
                break
            except OSError as error:
                self.close()
                if time.monotonic() >= give_up_at:
                    raise JourneyFailed(f"{method} {path}: {type(error).__name__}") from None
                self.tally.retries += 1
                if attempt > 1:
                    time.sleep(0.1)
        finished = time.monotonic()
        self.tally.samples.append((finished, finished - started))
        text = content.decode()
        if status >= 500:
            self.tally.server_errors += 1
        if LOCKED in text:
            self.tally.locked += 1
        for cookie in headers.get("set-cookie", ()):
            name, _, value = cookie.split(";", 1)[0].partition("=")
            if value:
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        location = urlsplit(headers.get("location", [""])[0])
        return Reply(status, location.path + (f"?{location.query}" if location.query else ""), text, attempt)

    def expect(self, status: int, method: str, path: str, form: list[tuple[str, str]] | None = None) -> Reply:
        reply = self.request(method, path, form)
        if reply.status != status:
            raise JourneyFailed(f"{method} {path}: {reply.status}, expected {status}")
        return reply


def _find(pattern: re.Pattern, reply: Reply, what: str, path: str) -> str:
    found = pattern.search(reply.body)
    if found is None:
        raise JourneyFailed(f"no {what} on {path}")
    return found.group(1)


def journey(client: Client, survey: Survey) -> str:
    """A new respondent answers every page shown, sends the answers, and reads the reference."""
    client.cookies.clear()
    start = f"/surveys/{survey.slug}"
    client.expect(200, "GET", start)
    path = f"{start}/questions/{survey.questionnaire.pages[0].key}"
    while "/questions/" in path:
        page = client.expect(200, "GET", path)
        form = [("csrf_token", _find(CSRF_TOKEN, page, "CSRF token", path))]
        for question in survey.questionnaire.page(path.rsplit("/", 1)[1]).questions:
            if f'name="{question.key}"' in page.body:
                form += [(question.key, value) for value in example_form_values(question)]
        path = client.expect(302, "POST", path, form).location
    check = client.expect(200, "GET", path)
    form = [
        ("csrf_token", _find(CSRF_TOKEN, check, "CSRF token", path)),
        ("submission_key", _find(SUBMISSION_KEY, check, "submission key", path)),
    ]
    sent = client.expect(303, "POST", path, form)
    client.tally.resubmissions += sent.attempts > 1
    try:
        confirmation = client.expect(200, "GET", sent.location)
    except Stopped:
        client.tally.unread += 1
        raise
    return _find(REFERENCE, confirmation, "reference", sent.location)


@dataclass(frozen=True)
class Plan:
    """What every respondent of a load is told: where, what to answer, and how patiently."""

    port: int
    surveys: list[Survey]  # none: GET / again and again (the hello-world baseline)
    retry_for: float
    ramp_up: float  # each respondent starts at a random moment within this many seconds


def _respondent(number: int, plan: Plan, stop, tally: Tally) -> None:
    """Journeys one after another, alternating the surveys, until the stop event."""
    if stop.wait(random.uniform(0, plan.ramp_up)):
        return
    client = Client(plan.port, tally, stop, plan.retry_for)
    try:
        for turn in itertools.count(number):
            try:
                if plan.surveys:
                    reference = journey(client, plan.surveys[turn % len(plan.surveys)])
                    tally.confirmations.append((time.monotonic(), reference))
                else:
                    client.expect(200, "GET", "/")
            except JourneyFailed as failure:
                tally.failures[str(failure)] += 1
    except Stopped:
        pass
    finally:
        client.close()


def _client_process(first: int, count: int, plan: Plan, ready, stop, results) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    tallies = [Tally() for _ in range(count)]
    threads = [
        threading.Thread(target=_respondent, args=(first + n, plan, stop, tally), daemon=True)
        for n, tally in enumerate(tallies)
    ]
    parent = os.getppid()
    ready.wait(timeout=60)
    for thread in threads:
        thread.start()
    while not stop.wait(1):
        if os.getppid() != parent:  # the benchmark itself was killed: stop rather than run on
            stop.set()
    total = Tally()
    for thread, tally in zip(threads, tallies, strict=True):
        thread.join(SOCKET_TIMEOUT + 5)
        total.add(tally)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    total.cpu_seconds = usage.ru_utime + usage.ru_stime
    results.put(total)


class Load:
    """Respondents spread over client processes (threads in each), started together and stopped together.

    Respondents join over ``plan.ramp_up`` seconds, so that journeys do not
    all end together and responses arrive evenly.
    """

    def __init__(self, plan: Plan, respondents: int, processes: int):
        context = multiprocessing.get_context("spawn")
        self.stop_event = context.Event()
        self.results = context.Queue()
        processes = max(1, min(processes, respondents))
        shares = [respondents // processes + (n < respondents % processes) for n in range(processes)]
        firsts = [sum(shares[:n]) for n in range(processes)]
        self.ready = context.Barrier(processes + 1)
        self.processes = [
            context.Process(
                target=_client_process,
                args=(first, share, plan, self.ready, self.stop_event, self.results),
                daemon=True,
            )
            for first, share in zip(firsts, shares, strict=True)
        ]

    def __enter__(self) -> Load:
        """Start the client processes, returning once every one is ready to start its respondents."""
        for process in self.processes:
            process.start()
        self.ready.wait(timeout=60)
        return self

    def stop(self) -> Tally:
        """Stop every respondent (each finishes the request it is waiting for) and gather what they saw."""
        self.stop_event.set()
        total = Tally()
        for _ in self.processes:
            total.add(self.results.get(timeout=SOCKET_TIMEOUT + 30))
        for process in self.processes:
            process.join()
        return total

    def __exit__(self, *exc) -> None:
        self.stop_event.set()
        for process in self.processes:
            if process.is_alive():
                process.terminate()
            process.join()


# Figures


@dataclass(frozen=True)
class Rate:
    count: int
    per_second: float
    p50_ms: float
    p99_ms: float


def rate(samples: list[tuple[float, float]], start: float, end: float) -> Rate:
    """Requests finished between start and end, per second, and their latency."""
    latencies = [seconds for finished, seconds in samples if start <= finished < end]
    if len(latencies) < 2:
        return Rate(len(latencies), len(latencies) / (end - start), float("nan"), float("nan"))
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return Rate(len(latencies), len(latencies) / (end - start), cuts[49] * 1000, cuts[98] * 1000)


def stop_on_sigterm() -> None:
    """Let SIGTERM, like Ctrl+C, run the clean-up: the servers, in sessions of their own, would outlive us."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def machine() -> str:
    """The machine, and how busy it already is: other work on it skews the figures."""
    return (
        f"{os.cpu_count()} CPUs, {platform.system()}, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f} before the run"
    )


def print_verdicts(title: str, results: dict[str, bool], notes: list[str] = ()) -> int:
    """Print each check as PASS or FAIL under ``title``; the exit status: 0 when all passed."""
    print(title)
    for check, passed in results.items():
        print(f"  {'PASS' if passed else 'FAIL'}  {check}")
    for note in notes:
        print(f"  {note}")
    return 0 if all(results.values()) else 1


def conclude(title: str, results: dict[str, bool], took: float, notes: list[str] = ()) -> int:
    """End a benchmark's report: its checks, then how long it took; returns the exit status."""
    print()
    status = print_verdicts(title, results, notes)
    print()
    print(f"Took {took:.0f} s in all.")
    return status


def run(main) -> None:
    """Run a benchmark's ``main`` as a script; Ctrl+C stops it with a word, not a traceback."""
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("Interrupted: the servers and clients are stopped.")


def print_failures(tally: Tally) -> None:
    for reason, count in tally.failures.most_common(5):
        print(f"    {count:>6} x {reason}")
