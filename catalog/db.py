"""Engine and sessions for SQLite and PostgreSQL, and bringing a database to the current schema."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import DateTime, Engine, create_engine, event, select, text, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from catalog.tables import CatalogState, utcnow

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str) -> Engine:
    """An engine with the pragmas SQLite needs for concurrent use (WAL, busy timeout)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        gate = _writer_gate(parsed.database)
        engine = create_engine(
            url, hide_parameters=True,
            connect_args={"timeout": 30, "check_same_thread": False, "factory": _GatedConnection},
        )
        event.listen(engine, "connect", lambda connection, _: _sqlite_pragmas(connection, gate))
        event.listen(engine, "begin", _sqlite_begin_immediate)
        engine.dialect.colspecs = {**engine.dialect.colspecs, DateTime: _UtcDateTime}
        return engine
    # hide_parameters: a database error's message must not carry note bodies or terms into logs.
    return create_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=20, hide_parameters=True
    )


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


def _sqlite_pragmas(dbapi_connection: _GatedConnection, gate: threading.Lock) -> None:
    dbapi_connection.gate = gate
    dbapi_connection.isolation_level = None  # let SQLAlchemy's "begin" event issue BEGIN
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin_immediate(connection) -> None:  # type: ignore[no-untyped-def]
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


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine) -> None:
    """Bring an empty or older database to the current schema (Alembic `upgrade head`)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def downgrade(engine: Engine, revision: str = "base") -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


READ_ONLY = "partnermatch_read_only"


@contextmanager
def reading(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work that only reads. On SQLite it begins deferred instead of taking the write
    lock; on either database, flushing a change in it raises `ReadOnlySession`. Like any
    session, it connects at its first query: one that reads nothing costs no round trip."""
    bind = factory.kw["bind"].execution_options(**{READ_ONLY: True})
    with factory(bind=bind) as session:
        session.info[READ_ONLY] = True
        yield session


class ReadOnlySession(RuntimeError):
    """A change was flushed in a session opened with `reading`."""


@event.listens_for(Session, "before_flush")
def _refuse_writes(session: Session, _context, _instances) -> None:  # type: ignore[no-untyped-def]
    if session.info.get(READ_ONLY) and (session.new or session.dirty or session.deleted):
        raise ReadOnlySession("a change in a read-only session")


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def bump_generation(session: Session) -> int:
    """Mark the catalog as changed; replicas compare this number with their index's.

    One atomic UPDATE: a read-then-write would let two concurrent PostgreSQL transactions
    (READ COMMITTED) both write the same number, and replicas would miss one of the changes.
    """
    bump = (
        update(CatalogState)
        .where(CatalogState.id == 1)
        .values(generation=CatalogState.generation + 1, updated_at=utcnow())
        .returning(CatalogState.generation)
    )
    generation = session.execute(bump, execution_options={"synchronize_session": False}).scalar()
    if generation is None:  # the first change ever: create the row (a concurrent first wins)
        try:
            with session.begin_nested():
                session.add(CatalogState(id=1, generation=1, updated_at=utcnow()))
            return 1
        except IntegrityError:
            generation = session.execute(bump, execution_options={"synchronize_session": False}).scalar_one()
    return generation


def current_generation(session: Session) -> int:
    value = session.scalar(select(CatalogState.generation).where(CatalogState.id == 1))
    return value or 0


# The advisory lock one index rebuild at a time holds, across every replica on the database.
REBUILD_LOCK = 0x70_6D_69_64_78  # "pmidx"


@contextmanager
def rebuild_lock(engine: Engine) -> Iterator[None]:
    """One index rebuild at a time across processes sharing a PostgreSQL database (a session
    advisory lock, released with the connection if the process dies). On SQLite, whose
    processes share one machine, the index folder's file lock already serialises them."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": REBUILD_LOCK})
        connection.commit()  # hold the lock, not a transaction, while the rebuild runs
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": REBUILD_LOCK})
            connection.commit()
