"""The catalog generation: one number, bumped by every change the index must follow, which
every process compares with its own index's; and the lock one index rebuild at a time holds."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from catalog.tables import CatalogState, utcnow


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
def rebuild_lock(database: Engine) -> Iterator[None]:
    """One index rebuild at a time across processes sharing a PostgreSQL database (a session
    advisory lock, released with the connection if the process dies). On SQLite, whose
    processes share one machine, the index folder's file lock already serialises them."""
    if database.dialect.name != "postgresql":
        yield
        return
    with database.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": REBUILD_LOCK})
        connection.commit()  # hold the lock, not a transaction, while the rebuild runs
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": REBUILD_LOCK})
            connection.commit()
