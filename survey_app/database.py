"""Database behaviour that the models rely on, for SQLite and PostgreSQL.

SQLite runs in WAL mode with foreign keys on and a busy timeout. A write must
start with ``BEGIN IMMEDIATE``: a transaction that begins deferred, reads, and
then tries to write cannot wait for the lock and fails at once with
"database is locked", whatever the timeout. So every service that writes calls
``begin_write()`` before its first read, and a flush outside such a
transaction is refused loudly rather than failing now and then under load.
Reads outside a write transaction run statement by statement (autocommit).
"""

from __future__ import annotations

import sqlite3
import threading

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from .extensions import db


class WriteOutsideTransaction(RuntimeError):
    """A flush on SQLite in a transaction that was not begun by begin_write()."""


class WriteLockTimeout(RuntimeError):
    """Another write held SQLite's lock for longer than the busy timeout."""


def init_app(app: Flask) -> None:
    """Configure this app's engine: SQLite's pragmas, and no transactions begun by the driver."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        return
    busy_timeout_ms = int(app.config["SQLITE_BUSY_TIMEOUT_MS"])
    synchronous = app.config["SQLITE_SYNCHRONOUS"]
    if synchronous not in ("NORMAL", "FULL", "EXTRA"):
        raise ValueError(f"SQLITE_SYNCHRONOUS must be NORMAL, FULL or EXTRA, not {synchronous!r}")

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: sqlite3.Connection, connection_record) -> None:
        # The driver must not begin transactions itself: begin_write does,
        # for writes only. Reads run in autocommit, each a consistent
        # snapshot of its own, so a page's reads never hold a transaction open.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        # NORMAL is durable when the process is killed (WAL mode); only a
        # power cut can lose the last commits. FULL survives that too.
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        # Deleted rows are overwritten with zeros, so a redacted comment, an
        # erased response or one past its retention period does not linger
        # in free pages of the file.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()


@event.listens_for(Session, "before_flush")
def _require_write_transaction(session: Session, flush_context, instances) -> None:
    if not session.info.get(_WRITING) and session.get_bind().dialect.name == "sqlite":
        raise WriteOutsideTransaction("Call begin_write() before changing the database.")


# Threads of one process wait for SQLite's write lock here, in turn, rather
# than in SQLite's busy handler, which sleeps in growing steps and so leaves
# the lock idle while writers sleep. Other processes still meet the busy timeout.
_sqlite_writer = threading.Lock()
_WRITING = "writing"
_HOLDS_WRITER = "holds_sqlite_writer"


def begin_write() -> None:
    """Make the session's transaction a write transaction, if it is not one already.

    On SQLite the reads before it ran in autocommit, so ``BEGIN IMMEDIATE``
    on the same connection starts a fresh transaction holding the write lock:
    there is no read transaction to upgrade.
    """
    session = db.session()
    if session.info.get(_WRITING):
        return
    if session.get_bind().dialect.name == "sqlite":
        timeout = current_app.config["SQLITE_BUSY_TIMEOUT_MS"] / 1000
        if not _sqlite_writer.acquire(timeout=timeout):
            raise WriteLockTimeout(f"No write to the database was possible for {timeout:g} seconds.")
        session.info[_HOLDS_WRITER] = True
        try:
            session.connection().exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            session.rollback()
            raise
    session.info[_WRITING] = True


@event.listens_for(Session, "after_transaction_end")
def _end_write(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_WRITING, None)
        if session.info.pop(_HOLDS_WRITER, False):
            _sqlite_writer.release()
