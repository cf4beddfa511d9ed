"""The database: SQLite or PostgreSQL, its units of work, and bringing it to the current schema.

"database" names a SQLAlchemy `Engine` throughout the project; "engine" alone is the matching
engine (`models/engine.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from catalog import sqlite_gate
from catalog.sqlite_gate import READ_ONLY

MIGRATIONS = Path(__file__).parent / "migrations"


def open_database(url: str) -> Engine:
    """The database at `url`; SQLite made ready for concurrent use (`catalog/sqlite_gate.py`)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        database = create_engine(url, hide_parameters=True, connect_args=sqlite_gate.connect_args())
        sqlite_gate.configure(database, parsed.database)
        return database
    # hide_parameters: a database error's message must not carry note bodies or terms into logs.
    return create_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=20, hide_parameters=True
    )


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(database: Engine) -> None:
    """Bring an empty or older database to the current schema (Alembic `upgrade head`)."""
    config = alembic_config(database.url.render_as_string(hide_password=False))
    with database.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def downgrade(database: Engine, revision: str = "base") -> None:
    config = alembic_config(database.url.render_as_string(hide_password=False))
    with database.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def session_factory(database: Engine) -> sessionmaker[Session]:
    return sessionmaker(database, expire_on_commit=False)


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


