"""What every command needs: settings, a migrated database, and (on demand) the matcher."""

from __future__ import annotations

import getpass
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from catalog.db import open_database, session_factory, transaction, upgrade
from models.progress import Progress, no_progress
from service.http.observability import configure_logging
from service.index.changes import follow_commits
from service.index.matcher import EMBEDDINGS_FILE, Matcher
from service.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    database: Engine
    progress: Progress = field(default=no_progress)  # what the index's builds report to

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        sessions = session_factory(self.database)
        follow_commits(sessions, self._apply)
        return sessions

    @cached_property
    def matcher(self) -> Matcher:
        """The engine with an index current for the catalog (loaded, or rebuilt when stale)."""
        matcher = Matcher(self.settings, self.sessions, progress=self.progress)
        matcher.start()
        return matcher

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with transaction(self.sessions) as session:
            yield session

    def _apply(self, partner_ids: Collection[str], generation: int) -> None:
        """A change this command committed: a started matcher follows it at once; one started
        later catches up from the database."""
        if "matcher" in self.__dict__:
            self.matcher.refresh(partner_ids, generation)


def cli_actor() -> str:
    """Who runs the command, as the audit trail names them."""
    try:
        return f"cli ({getpass.getuser()})"
    except (KeyError, OSError):  # no login name for this uid (a bare container)
        return "cli"


def open_runtime(settings: Settings | None = None, progress: Progress = no_progress) -> Runtime:
    """Every command brings the database to the current schema first."""
    settings = settings or Settings()
    configure_logging("WARNING" if settings.log_level.upper() == "INFO" else settings.log_level)
    database = open_database(settings.database_url)
    upgrade(database)
    return Runtime(settings=settings, database=database, progress=progress)


def scratch_runtime(
    folder: Path, settings: Settings | None = None, progress: Progress = no_progress,
) -> Runtime:
    """A runtime over a database and index of their own in `folder`, sharing the settings' models
    and embedding cache: a catalog that repeats the main one's listings encodes none of them."""
    settings = settings or Settings()
    cache = settings.embedding_cache_path or settings.index_dir / EMBEDDINGS_FILE
    return open_runtime(settings.model_copy(update={
        "database_url": f"sqlite:///{folder / 'catalog.db'}", "index_dir": folder / "index",
        "embedding_cache_path": cache,
    }), progress)
