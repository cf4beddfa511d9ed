"""Read-only units of work: no write lock on SQLite, and no change can slip through them."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from catalog.db import ReadOnlySession, reading, transaction
from catalog.generation import current_generation
from catalog.tables import Partner


def _other_writer(factory: sessionmaker[Session]) -> sqlite3.Connection:
    path = make_url(str(factory.kw["bind"].url)).database
    assert path is not None
    return sqlite3.connect(path, timeout=0.05, isolation_level=None)


def test_a_read_on_sqlite_takes_no_write_lock(sqlite_url: str) -> None:
    from catalog.db import open_database, session_factory, upgrade

    engine = open_database(sqlite_url)
    upgrade(engine)
    factory = session_factory(engine)
    other = _other_writer(factory)
    with reading(factory) as session:
        current_generation(session)
        other.execute("BEGIN IMMEDIATE")  # a writer goes ahead while the read is open
        other.execute("ROLLBACK")
    with transaction(factory) as session:
        current_generation(session)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")  # a write transaction holds the lock from BEGIN
    other.close()
    engine.dispose()


def test_a_change_in_a_read_is_refused(session_maker: sessionmaker[Session]) -> None:
    with pytest.raises(ReadOnlySession), reading(session_maker) as session:
        session.add(Partner(name="Nope", kind="app"))
        session.flush()
    with reading(session_maker) as session:
        assert session.query(Partner).filter_by(name="Nope").count() == 0


def test_writers_of_one_process_queue_for_sqlite_and_every_ending_lets_the_next_in(
    sqlite_url: str,
) -> None:
    import threading

    from catalog.db import open_database, session_factory, upgrade
    from catalog.generation import bump_generation

    engine = open_database(sqlite_url)
    upgrade(engine)
    factory = session_factory(engine)
    done = threading.Event()

    def write() -> None:
        with transaction(factory) as session:
            bump_generation(session)
        done.set()

    for end in ("commit", "rollback", "close"):
        done.clear()
        session = factory()
        generation = current_generation(session)  # this transaction holds the write lock
        waiting = threading.Thread(target=write)
        waiting.start()
        waiting.join(0.3)
        assert not done.is_set()  # the second writer waits for the first
        if end == "commit":
            bump_generation(session)
            session.commit()
        elif end == "rollback":
            session.rollback()
        else:
            session.close()
        waiting.join(10)
        assert done.is_set()  # and goes on as soon as the first one ends, however it ends
        with reading(factory) as check:
            assert current_generation(check) > generation
    engine.dispose()
