"""Keeps the matching engine in step with the catalog in the database.

The database is the source of truth. The engine's index carries the catalog generation it was
built for; a change made through this process is applied to the engine at once, and changes made
by other processes (replicas, the CLI) are picked up by `sync`, which compares generations.
"""

from __future__ import annotations

import fcntl
import gc
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from catalog.db import reading
from catalog.generation import current_generation, rebuild_lock
from catalog.repository import active_partner_ids, active_partners, adoption_rates, archived_since
from catalog.tables import Partner, utcnow
from models.embedders import make_embedder
from models.embedding_cache import CachedEmbedder, EmbeddingStore
from models.engine import FILL_STAGE, EngineConfig, MatchingEngine, SearchResult
from models.engine.store import SavedVersion, current_version
from models.files import write_atomic
from models.glossary import Glossary
from models.progress import Progress, no_progress
from models.vector_index import IndexMismatch
from service.index.documents import partner_document
from service.index.view_cache import PartnerViews
from service.settings import Settings

log = logging.getLogger(__name__)
# Rows written by another process within this window of a sync may commit late; look back this far.
CLOCK_SLACK = timedelta(seconds=5)
LOCK_FILE = ".lock"
WARM_UP_QUERIES = ("partner search warm-up", "パートナー検索の準備")
EMBEDDINGS_FILE = "embeddings.sqlite"
STATUS_FILE = "status.json"  # the last build's or fill's progress, for `catalog stats`
T = TypeVar("T")


class Matcher:
    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        engine: MatchingEngine | None = None,
        progress: Progress = no_progress,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.progress = progress  # what builds and large updates report to (a command's bars)
        # A serving process makes a large build or change searchable by keyword at once and
        # encodes its vectors in the background (`serve_keyword_first`); a command waits for them.
        self.keyword_first = False
        self._filler: threading.Thread | None = None
        self._fill_lock = threading.Lock()
        self._status_written = 0.0
        self.engine = engine or make_matching_engine(settings)
        self.views = PartnerViews()  # what recommendations show of partners, per generation
        self.generation = -1
        self._saved_generation = -1
        self._saved_at = time.monotonic()
        self._watermark: datetime | None = None
        self._lock = threading.RLock()

    @property
    def ready(self) -> bool:
        return self.generation >= 0

    def serve_keyword_first(self) -> None:
        """From now on, a build or change of at least `index_keyword_first_from` listings answers
        by keyword as soon as it is read, while a background thread encodes its vectors."""
        self.keyword_first = True

    def status(self) -> dict[str, object]:
        """The index as /readyz and `catalog stats` show it: its size, and how many listings
        still wait for their vectors (searchable by keyword meanwhile)."""
        pending = self.engine.pending()
        return {"partners": self.engine.count(), "generation": self.generation,
                "vectors_pending": pending, "complete": pending == 0}

    def start(self) -> None:
        """Load the saved index and catch up with the catalog from where it was saved; rebuild
        when there is none, it was built by other models, or it is ahead of the database."""
        with self._lock:
            generation = self._read(current_generation)
            saved = self._load()
            if saved is not None and saved.generation <= generation:
                self.generation = self._saved_generation = saved.generation
                self._watermark = _saved_watermark(saved)
                if self._catch_up():
                    log.info("index loaded", extra={"generation": self.generation,
                                                    "saved_generation": saved.generation})
                    _settle()
                    return
        self.rebuild()

    def warm_up(self) -> None:
        """A search in each language before serving, so the first requests do not pay the
        one-time costs (the models' first runs, the Japanese analyser's dictionary)."""
        for query in WARM_UP_QUERIES:
            self.search(query, 5)

    def rebuild(self) -> int:
        """Build the index afresh from the database, then save it.

        The encoding (minutes for thousands of new listings) runs outside the matcher's lock, so
        this process's writes are not held up meanwhile; any change the new build missed is newer
        than its watermark, and the next `sync` applies it. Replicas on one PostgreSQL database
        rebuild one at a time (an advisory lock), so they never all encode at once.
        """
        with rebuild_lock(self.sessions.kw["bind"]):
            started = utcnow()
            generation, documents = self._read(
                lambda session: (current_generation(session), self._documents(session, None))
            )
            # Keyword first only for an index that holds nothing yet (a first start): a reindex
            # keeps answering from the whole index it replaces until the new one is built.
            later = not self.engine.count() and self._vectors_later(len(documents))
            self.engine.build(documents, self._report, vectors=not later)
        with self._lock:
            self.generation = generation
            self._watermark = started - CLOCK_SLACK
            if later:
                self._fill_in_background()
            else:
                self._save()
                self._write_status(force=True)
            log.info("index built", extra={"generation": generation, "count": self.engine.count(),
                                           "vectors_pending": self.engine.pending()})
        _settle()
        return self.engine.count()

    def sync(self) -> bool:
        """Apply catalog changes made since the last sync, then save the index if it changed
        since its last save and that save is `index_save_seconds` old; True when anything
        changed. Changes not saved yet are caught up from the database at the next start."""
        with self._lock:
            changed = self._apply_changes()
        if time.monotonic() - self._saved_at >= self.settings.index_save_seconds:
            self.flush()
        return changed

    def refresh(self, partner_ids: Collection[str], generation: int) -> None:
        """Apply this process's own committed change at once: re-index the given partners (none
        when only their introductions changed) and forget the partner views. The save is left
        to `sync`, off the request's path."""
        with self._lock:
            self.views.invalidate()
            if partner_ids:
                live, gone = self._read(lambda session: self._changed(session, partner_ids))
                if gone:
                    self.engine.remove(gone)
                if live:
                    self.engine.upsert(live)
            if generation == self.generation + 1:
                self.generation = generation

    def flush(self) -> None:
        """Save the index if its generation is newer than the saved one. Worker processes share
        the folder and reach the same generations: the first to get there saves, once."""
        with self._lock:  # the generation and watermark the engine's index has reached
            generation, notes = self.generation, self._save_notes()
            if generation <= self._saved_generation or self.engine.pending():
                return  # saved already, or saved once the background encoding is done
        # Changes applied meanwhile are in the engine's copy too: they are newer than the
        # watermark, and a start from this save applies them again, which changes nothing.
        # This process's own writes do not wait for the disk.
        with index_folder_lock(self.settings.index_dir):
            try:
                on_disk = current_version(self.settings.index_dir).generation
            except IndexMismatch:
                on_disk = -1
            if on_disk < generation:
                self.engine.save(self.settings.index_dir, generation, notes)
        with self._lock:
            self._saved_generation = max(self._saved_generation, generation)
            self._saved_at = time.monotonic()

    def _apply_changes(self) -> bool:
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
        later = bool(changed) and self._vectors_later(len(changed))
        if changed:
            self.engine.upsert(changed, self._report, vectors=not later)
        self.generation = generation
        self._watermark = started - CLOCK_SLACK
        if later:
            self._fill_in_background()
        elif changed:
            self._write_status()
        return True

    def _catch_up(self) -> bool:
        """Bring a loaded index up to the catalog; False when the result cannot be trusted (an
        older index without a watermark, or not exactly the active partners: a saved index of
        another database at the same generation, say), and it is rebuilt."""
        if self.generation != self._read(current_generation):
            if self._watermark is None:
                return False
            self.sync()
        return self.engine.ids() == self._read(active_partner_ids)

    def _read(self, query: Callable[[Session], T]) -> T:
        """Read in a short read-only transaction of its own, ended before any encoding."""
        with reading(self.sessions) as session:
            return query(session)

    def _changed(self, session: Session, partner_ids: Collection[str]) -> tuple[list, list[str]]:  # type: ignore[type-arg]
        partners = session.scalars(select(Partner).where(Partner.id.in_(partner_ids))).all()
        live = [p for p in partners if p.status != "archived"]
        rates = adoption_rates(session) if live and self.settings.adoption_signal else {}
        documents = [partner_document(p, rates.get(p.id)) for p in live]
        return documents, [p.id for p in partners if p.status == "archived"]

    def _load(self) -> SavedVersion | None:
        try:
            with index_folder_lock(self.settings.index_dir):
                return self.engine.load(self.settings.index_dir)
        except Exception:  # an unreadable saved index is rebuilt, never served in part
            log.exception("saved index unreadable; rebuilding")
            return None

    def _vectors_later(self, count: int) -> bool:
        threshold = self.settings.index_keyword_first_from
        return self.keyword_first and threshold > 0 and count >= threshold

    def _fill_in_background(self) -> None:
        """One thread at a time encodes the pending listings; it ends only once it has seen
        none left (under `_fill_lock`), so listings made pending meanwhile are never stranded."""
        self._write_status(FILL_STAGE, 0, self.engine.pending(), force=True)
        with self._fill_lock:
            if self._filler is None:
                self._filler = threading.Thread(target=self._fill, name="index-fill", daemon=True)
                self._filler.start()

    def _fill(self) -> None:
        try:
            while True:
                self.engine.fill(self._report)
                with self._fill_lock:
                    if not self.engine.pending():
                        self._filler = None
                        break
        except Exception:
            with self._fill_lock:
                self._filler = None
            log.exception("encoding the index's vectors failed; the next change tries again")
            return
        log.info("index vectors encoded", extra={"count": self.engine.count()})
        self.flush()

    def _report(self, stage: str, done: int, total: int) -> None:
        """Progress of a build or fill: to the command's bars, and every second or so to a
        status file beside the index that `catalog stats` reads from another process."""
        self.progress(stage, done, total)
        self._write_status(stage, done, total, force=done >= total)

    def _write_status(self, stage: str = "", done: int = 0, total: int = 0, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._status_written < 1.0:
            return
        self._status_written = now
        status = {**self.status(), "stage": stage, "done": done, "total": total,
                  "pid": os.getpid(), "at": utcnow().isoformat()}
        try:
            self.settings.index_dir.mkdir(parents=True, exist_ok=True)
            write_atomic(self.settings.index_dir / STATUS_FILE, json.dumps(status).encode())
        except OSError:  # a status nobody may read is not worth failing a build for
            log.warning("index status not written", exc_info=True)

    def _save(self) -> None:
        with index_folder_lock(self.settings.index_dir):
            self.engine.save(self.settings.index_dir, self.generation, self._save_notes())
        self._saved_generation, self._saved_at = self.generation, time.monotonic()

    def _save_notes(self) -> dict[str, object]:
        """Where a later start resumes catching up from: changes older than this are in."""
        return {"watermark": self._watermark.isoformat() if self._watermark else None}

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

    def similar(self, partner_id: str, top_k: int) -> list[tuple[str, float]]:
        return self.engine.similar(partner_id, top_k)

    def _documents(self, session: Session, since: datetime | None) -> list:  # type: ignore[type-arg]
        rates = adoption_rates(session) if self.settings.adoption_signal else {}
        return [partner_document(p, rates.get(p.id)) for p in active_partners(session, since)]


def read_status(index_dir: Path) -> dict[str, object] | None:
    """The status the last build or background encoding beside this index wrote; None if none."""
    try:
        status = json.loads((index_dir / STATUS_FILE).read_text())
    except (OSError, ValueError):
        return None
    return status if isinstance(status, dict) else None


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


def _settle() -> None:
    """Exclude the objects alive now (the index just loaded or built: millions of them for a
    large catalog) from the cyclic collector's scans. Without this, every full collection walks
    them all while requests wait: a pause of a large share of a second at the tail of latency.
    They are still freed by reference counting once the index that holds them is replaced."""
    gc.freeze()


def _saved_watermark(saved: SavedVersion) -> datetime | None:
    raw = saved.extra.get("watermark")
    return datetime.fromisoformat(raw) if isinstance(raw, str) else None


def make_matching_engine(settings: Settings) -> MatchingEngine:
    """The matching engine the settings describe (loads the models: seconds, not at import)."""
    dense = make_embedder(settings.embedding_model, settings.embedding_backend, settings.onnx_dir)
    multilingual = make_embedder(
        settings.multilingual_model, settings.embedding_backend, settings.onnx_dir)
    if settings.embedding_cache:
        store = EmbeddingStore(settings.embedding_cache_path or settings.index_dir / EMBEDDINGS_FILE)
        dense = CachedEmbedder(dense, store) if dense else None
        multilingual = CachedEmbedder(multilingual, store) if multilingual else None
    if dense is None:
        raise ValueError("PARTNERMATCH_EMBEDDING_MODEL cannot be 'none': the dense channel is required")
    glossary = Glossary.load(settings.glossary_path)
    config = EngineConfig(
        graph_from=settings.hnsw_min_partners, results_cache_size=settings.results_cache_size)
    return MatchingEngine(dense=dense, multilingual=multilingual, glossary=glossary, config=config)
