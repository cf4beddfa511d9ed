"""Shared fixtures: a migrated database on each engine (SQLite file and the real PostgreSQL)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from catalog.db import make_engine, session_factory, upgrade
from catalog.tables import Base

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
APPSTORE = SHARED / "data" / "shopify-app-store-2020"
EVAL = SHARED / "eval"
POSTGRES_SERVER = os.environ.get("PARTNERMATCH_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty database on the PostgreSQL server (no schema yet), dropped afterwards."""
    name = f"partnermatch_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{POSTGRES_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{POSTGRES_SERVER}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of our own on the PostgreSQL server, dropped at the end of the run."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def _migrated_postgres(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'partnermatch.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_engine(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[Engine]:
    """A database at the current schema, empty, on each engine in turn."""
    if request.param == "sqlite":
        engine = make_engine(sqlite_url)
        upgrade(engine)
        yield engine
        engine.dispose()
        return
    engine = request.getfixturevalue("_migrated_postgres")
    _empty(engine)
    yield engine
    _empty(engine)


@pytest.fixture
def session_maker(db_engine: Engine) -> sessionmaker[Session]:
    return session_factory(db_engine)


def _empty(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


def require_appstore() -> Path:
    if not (APPSTORE / "apps.csv").is_file():
        pytest.fail(f"the shared Shopify listings are missing at {APPSTORE}")
    return APPSTORE
