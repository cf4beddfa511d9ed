"""Databases and shared data for the tests: a fresh PostgreSQL database, emptying one, the
shared Shopify listings."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from catalog.tables import Base

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
APPSTORE = SHARED / "data" / "shopify-app-store-2020"
EVAL = SHARED / "eval"
POSTGRES_SERVER = os.environ.get("PARTNERMATCH_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")


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


def empty(database: Engine) -> None:
    """Delete every row, children first."""
    with database.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


def require_appstore() -> Path:
    if not (APPSTORE / "apps.csv").is_file():
        pytest.fail(f"the shared Shopify listings are missing at {APPSTORE}")
    return APPSTORE
