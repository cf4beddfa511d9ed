"""What every command needs: settings, a migrated database, and (on demand) the matcher."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from catalog.db import make_engine, session_factory, transaction, upgrade
from service.matching import Matcher
from service.observability import configure_logging
from service.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    engine: Engine

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return session_factory(self.engine)

    @cached_property
    def matcher(self) -> Matcher:
        """The engine with an index current for the catalog (loaded, or rebuilt when stale)."""
        matcher = Matcher(self.settings, self.sessions)
        matcher.start()
        return matcher

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with transaction(self.sessions) as session:
            yield session


def open_runtime(settings: Settings | None = None) -> Runtime:
    """Every command brings the database to the current schema first."""
    settings = settings or Settings()
    configure_logging("WARNING" if settings.log_level.upper() == "INFO" else settings.log_level)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    return Runtime(settings=settings, engine=engine)
