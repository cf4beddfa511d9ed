"""Keeps the matching engine in step with the catalog in the database.

The database is the source of truth. The engine's index carries the catalog generation it was
built for; a change made through this process is applied to the engine at once, and changes made
by other processes (replicas, the CLI) are picked up by `sync`, which compares generations.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from catalog.db import current_generation
from catalog.repository import active_partners, adoption_rates, archived_since
from catalog.tables import Partner, utcnow
from models.embedders import make_embedder
from models.engine import MatchingEngine, SearchResult
from models.glossary import Glossary
from service.indexing import partner_document
from service.settings import Settings

log = logging.getLogger(__name__)
# Rows written by another process within this window of a sync may commit late; look back this far.
CLOCK_SLACK = timedelta(seconds=5)
LOCK_FILE = ".lock"
T = TypeVar("T")


class Matcher:
    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        engine: MatchingEngine | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.engine = engine or make_engine(settings)
        self.generation = -1
        self._watermark: datetime | None = None
        self._lock = threading.RLock()

    @property
    def ready(self) -> bool:
        return self.generation >= 0

    def start(self) -> None:
        """Load the saved index when it fits the catalog, else rebuild it from the database."""
        with self._lock:
            generation = self._read(current_generation)
            if self._load(generation):
                log.info("index loaded", extra={"generation": generation})
                self.generation = generation
                self._watermark = utcnow() - CLOCK_SLACK
                return
        self.rebuild()

    def rebuild(self) -> int:
        """Build the index afresh from the database, then save it.

        The encoding (minutes for thousands of listings) runs outside the matcher's lock, so this
        process's writes are not held up meanwhile; any change the new build missed is newer than
        its watermark, and the next `sync` applies it.
        """
        started = utcnow()
        generation, documents = self._read(
            lambda session: (current_generation(session), self._documents(session, None))
        )
        self.engine.build(documents)
        with self._lock:
            self._save(generation)
            self.generation = generation
            self._watermark = started - CLOCK_SLACK
            log.info("index built", extra={"generation": generation, "count": self.engine.count()})
            return self.engine.count()

    def sync(self) -> bool:
        """Apply catalog changes made since the last sync; True when anything changed."""
        with self._lock:
            generation = self._read(current_generation)
            if generation == self.generation:
                return False
            if self._watermark is None:
                self.rebuild()
                return True
            started, since = utcnow(), self._watermark
            generation, changed, removed = self._read(lambda session: (
                current_generation(session), self._documents(session, since),
                list(archived_since(session, since)),
            ))
            if removed:
                self.engine.remove(removed)
            if changed:
                self.engine.upsert(changed)
            self.generation = generation
            self._watermark = started - CLOCK_SLACK
            self._save(generation)
            return True

    def refresh(self, partner_ids: Collection[str], generation: int) -> None:
        """Apply this process's own committed change of the given partners at once."""
        with self._lock:
            live, gone = self._read(lambda session: self._changed(session, partner_ids))
            if gone:
                self.engine.remove(gone)
            if live:
                self.engine.upsert(live)
            if generation == self.generation + 1:
                self.generation = generation
                self._save(generation)

    def _read(self, query: Callable[[Session], T]) -> T:
        """Read in a short transaction of its own, ended before any encoding: on SQLite every
        transaction holds the write lock (BEGIN IMMEDIATE), and other writers wait for it."""
        with self.sessions() as session:
            return query(session)

    def _changed(self, session: Session, partner_ids: Collection[str]) -> tuple[list, list[str]]:  # type: ignore[type-arg]
        partners = session.scalars(select(Partner).where(Partner.id.in_(partner_ids))).all()
        live = [p for p in partners if p.status != "archived"]
        rates = adoption_rates(session) if live and self.settings.adoption_signal else {}
        documents = [partner_document(p, rates.get(p.id)) for p in live]
        return documents, [p.id for p in partners if p.status == "archived"]

    def _load(self, generation: int) -> bool:
        try:
            with index_folder_lock(self.settings.index_dir):
                return self.engine.load(self.settings.index_dir, generation)
        except Exception:  # an unreadable saved index is rebuilt, never served in part
            log.exception("saved index unreadable; rebuilding")
            return False

    def _save(self, generation: int) -> None:
        with index_folder_lock(self.settings.index_dir):
            self.engine.save(self.settings.index_dir, generation)

    def search(
        self,
        query: str,
        top_k: int,
        filters: Mapping[str, Collection[str]] | None = None,
        mode: str = "full",
    ) -> SearchResult:
        return self.engine.search(
            query, top_k=top_k, filters=filters, mode=mode,  # type: ignore[arg-type]
            use_priors=True,
        )

    def _documents(self, session: Session, since: datetime | None) -> list:  # type: ignore[type-arg]
        rates = adoption_rates(session) if self.settings.adoption_signal else {}
        return [partner_document(p, rates.get(p.id)) for p in active_partners(session, since)]


@contextmanager
def index_folder_lock(folder: Path) -> Iterator[None]:
    """One process at a time saves or loads the index folder.

    Worker processes share the folder; a save deletes the index files it replaced, so without
    the lock one worker's save could delete the file another's meta names, or its temp files.
    """
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK_FILE, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def make_engine(settings: Settings) -> MatchingEngine:
    """The matching engine the settings describe (loads the models: seconds, not at import)."""
    dense = make_embedder(settings.embedding_model)
    multilingual = make_embedder(settings.multilingual_model)
    glossary = Glossary.load(settings.glossary_path)
    return MatchingEngine(dense=dense, multilingual=multilingual, glossary=glossary)
