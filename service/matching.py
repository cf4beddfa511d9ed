"""Keeps the matching engine in step with the catalog in the database.

The database is the source of truth. The engine's index carries the catalog generation it was
built for; a change made through this process is applied to the engine at once, and changes made
by other processes (replicas, the CLI) are picked up by `sync`, which compares generations.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta

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
        with self._lock, self.sessions() as session:
            generation = current_generation(session)
            if self.engine.load(self.settings.index_dir, generation):
                log.info("index loaded", extra={"generation": generation})
                self.generation = generation
                self._watermark = utcnow() - CLOCK_SLACK
                return
        self.rebuild()

    def rebuild(self) -> int:
        with self._lock, self.sessions() as session:
            started = utcnow()
            generation = current_generation(session)
            self.engine.build(self._documents(session, None))
            self.engine.save(self.settings.index_dir, generation)
            self.generation = generation
            self._watermark = started - CLOCK_SLACK
            log.info("index built", extra={"generation": generation, "count": self.engine.count()})
            return self.engine.count()

    def sync(self) -> bool:
        """Apply catalog changes made since the last sync; True when anything changed."""
        with self._lock, self.sessions() as session:
            generation = current_generation(session)
            if generation == self.generation:
                return False
            if self._watermark is None:
                self.rebuild()
                return True
            started = utcnow()
            changed = self._documents(session, self._watermark)
            removed = archived_since(session, self._watermark)
            if removed:
                self.engine.remove(list(removed))
            if changed:
                self.engine.upsert(changed)
            self.generation = generation
            self._watermark = started - CLOCK_SLACK
            self.engine.save(self.settings.index_dir, generation)
            return True

    def refresh(self, session: Session, partner_ids: Collection[str], generation: int) -> None:
        """Apply this process's own committed change of the given partners at once."""
        with self._lock:
            partners = session.scalars(select(Partner).where(Partner.id.in_(partner_ids))).all()
            live = [p for p in partners if p.status != "archived"]
            gone = [p.id for p in partners if p.status == "archived"]
            if gone:
                self.engine.remove(gone)
            if live:
                rates = adoption_rates(session) if self.settings.adoption_signal else {}
                self.engine.upsert([partner_document(p, rates.get(p.id)) for p in live])
            if generation == self.generation + 1:
                self.generation = generation
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


def make_engine(settings: Settings) -> MatchingEngine:
    """The matching engine the settings describe (loads the models: seconds, not at import)."""
    dense = make_embedder(settings.embedding_model)
    multilingual = make_embedder(settings.multilingual_model)
    glossary = Glossary.load(settings.glossary_path)
    return MatchingEngine(dense=dense, multilingual=multilingual, glossary=glossary)
