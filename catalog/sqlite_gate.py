"""SQLite for concurrent use: WAL, UTC times, and one writer of the process at a time.

SQLite lets one writer in at a time. Its busy handler makes the others sleep and retry; here the
writers of one process queue on a lock of the process instead (handed over at once), and SQLite's
own lock still orders them against other processes. Reads begin deferred and take no lock.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, event
from sqlalchemy.dialects import sqlite

# The execution option of a unit of work that only reads (`catalog.db.reading`).
READ_ONLY = "partnermatch_read_only"


def configure(engine: Engine, database: str | None) -> None:
    """Make a new SQLite engine concurrent: pragmas, the writer gate, BEGIN IMMEDIATE, UTC."""
    gate = _writer_gate(database)
    event.listen(engine, "connect", lambda connection, _: _pragmas(connection, gate))
    event.listen(engine, "begin", _begin_immediate)
    engine.dialect.colspecs = {**engine.dialect.colspecs, DateTime: _UtcDateTime}


CONNECT_ARGS = {"timeout": 30, "check_same_thread": False}


def connect_args() -> dict[str, Any]:
    """What `create_engine` passes to sqlite3.connect: gated connections, a busy timeout."""
    return {**CONNECT_ARGS, "factory": _GatedConnection}


class _UtcDateTime(sqlite.DATETIME):
    """SQLite keeps no time zone, and every time stored is UTC: read it back as UTC, as
    PostgreSQL does, so both engines answer the same (an API time always has its offset)."""

    def result_processor(self, dialect, coltype):  # type: ignore[no-untyped-def]
        parse = super().result_processor(dialect, coltype)

        def process(value):  # type: ignore[no-untyped-def]
            value = parse(value) if parse else value
            if self.timezone and value is not None and value.tzinfo is None:
                return value.replace(tzinfo=UTC)
            return value

        return process


_WRITER_GATES: dict[str, threading.Lock] = {}
_WRITER_GATES_LOCK = threading.Lock()
WRITE_WAIT_SECONDS = 30.0  # as SQLite's busy timeout


def _writer_gate(database: str | None) -> threading.Lock:
    """One lock per database file, shared by every engine of the process on that file."""
    if not database or database == ":memory:":
        return threading.Lock()
    with _WRITER_GATES_LOCK:
        return _WRITER_GATES.setdefault(str(Path(database).resolve()), threading.Lock())


def _then_leave_gate(end: Callable[[sqlite3.Connection], None]) -> Callable[[Any], None]:
    def ending(connection: _GatedConnection) -> None:
        try:
            end(connection)
        finally:
            connection._leave_gate()

    return ending


class _GatedConnection(sqlite3.Connection):
    """A SQLite connection whose write transactions queue on a lock of the process first.

    SQLite lets one writer in at a time; the others wait in its busy handler, which sleeps 1, 2,
    5, 10, 15, 20, 25 ... ms between tries, so under concurrent writes a waiter sleeps on well
    after the lock is free (measured: recommendations p50 177 ms with 8 clients, each request
    writing one row). Writers of one process wait on a Python lock instead, handed over at once;
    SQLite's own lock still orders them against other processes."""

    gate: threading.Lock
    holds_gate = False

    def take_gate(self) -> None:
        if not self.gate.acquire(timeout=WRITE_WAIT_SECONDS):
            raise sqlite3.OperationalError("database is locked (waited for another writer)")
        self.holds_gate = True

    def _leave_gate(self) -> None:
        if self.holds_gate:
            self.holds_gate = False
            self.gate.release()

    # However a transaction ends (or the connection with it), the next writer goes in.
    commit = _then_leave_gate(sqlite3.Connection.commit)
    rollback = _then_leave_gate(sqlite3.Connection.rollback)
    close = _then_leave_gate(sqlite3.Connection.close)


def _pragmas(dbapi_connection: _GatedConnection, gate: threading.Lock) -> None:
    dbapi_connection.gate = gate
    dbapi_connection.isolation_level = None  # let SQLAlchemy's "begin" event issue BEGIN
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_immediate(connection) -> None:  # type: ignore[no-untyped-def]
    # Take the write lock at the start, so concurrent writers wait instead of failing mid-way.
    # A read (`reading`) begins deferred: in WAL mode it reads a snapshot and takes no lock, so
    # reads neither wait for writers nor make them wait.
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")
        return
    dbapi_connection = connection.connection.dbapi_connection
    dbapi_connection.take_gate()
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        dbapi_connection.rollback()  # leaves the gate
        raise
