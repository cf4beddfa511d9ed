"""A served index answers a large catalog by keyword at once, and gains its vector channels as a
background thread encodes them; it is saved only once whole."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine

from catalog.db import session_factory
from catalog.repository import active_partner_ids
from models.engine import MatchingEngine
from models.engine.store import current_version
from models.vector_index import IndexMismatch
from service.index.matcher import Matcher, read_status
from service.settings import Settings
from tests.helpers.engine import HashEmbedder
from tests.helpers.service import seed


class GatedEmbedder(HashEmbedder):
    """Encodes documents only once the test opens the gate: the encoding a real model would
    still be busy with."""

    def __init__(self, name: str, dimension: int, gate: threading.Event) -> None:
        super().__init__(name, dimension)
        self.gate = gate

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        assert self.gate.wait(30), "the test never opened the gate"
        return super().encode_documents(texts)


def wait_for(condition: Any, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture
def gated(database: Engine, tmp_path: Path, engine_parts: dict[str, Any]):
    gate = threading.Event()
    parts = {**engine_parts, "dense": GatedEmbedder("hash-64", 64, gate),
             "multilingual": GatedEmbedder("hash-ml", 32, gate)}
    url = database.url.render_as_string(hide_password=False)
    settings = Settings(database_url=url, index_dir=tmp_path / "index", index_keyword_first_from=2,
                        index_save_seconds=0)
    sessions = session_factory(database)
    seed(sessions)
    matcher = Matcher(settings, sessions, engine=MatchingEngine(**parts))
    yield matcher, gate, settings
    gate.set()


def test_a_served_build_answers_by_keyword_first_then_whole(gated) -> None:
    matcher, gate, settings = gated
    matcher.serve_keyword_first()
    matcher.start()  # returns with the encoding still held at the gate
    with matcher.sessions() as session:
        partners = len(active_partner_ids(session))
    assert matcher.ready and matcher.status()["vectors_pending"] == partners
    result = matcher.search("subscriptions", 5)
    assert result.candidates and result.channels == ("bm25",) and not result.complete
    matcher.flush()
    with pytest.raises(IndexMismatch):  # nothing saved while vectors are missing
        current_version(settings.index_dir)
    status = read_status(settings.index_dir)
    assert status is not None and status["vectors_pending"] == partners

    gate.set()
    wait_for(lambda: matcher.status()["complete"])
    result = matcher.search("subscriptions", 5)
    assert result.channels == ("bm25", "dense", "multilingual") and result.complete
    wait_for(lambda: (read_status(settings.index_dir) or {}).get("complete") is True)
    wait_for(lambda: (settings.index_dir / "CURRENT").exists())  # saved, once whole
    assert current_version(settings.index_dir).generation == matcher.generation


def test_a_command_waits_for_the_whole_index(gated) -> None:
    matcher, gate, settings = gated
    gate.set()
    seen: list[tuple[str, int, int]] = []
    matcher.progress = lambda stage, done, total: seen.append((stage, done, total))
    matcher.start()  # not serving: the build encodes before it returns
    assert matcher.status()["complete"]
    assert seen[-1][1] == seen[-1][2] == matcher.engine.count()
    assert current_version(settings.index_dir).generation == matcher.generation


def test_a_reindex_keeps_answering_from_the_whole_index_it_replaces(gated) -> None:
    matcher, gate, _ = gated
    matcher.serve_keyword_first()
    gate.set()
    matcher.start()
    wait_for(lambda: matcher.status()["complete"])
    gate.clear()  # the rebuild's encoding now waits at the gate
    rebuild = threading.Thread(target=matcher.rebuild)
    rebuild.start()
    time.sleep(0.2)
    result = matcher.search("subscriptions", 5)  # meanwhile: the old index, every channel
    assert result.complete and "dense" in result.channels
    gate.set()
    rebuild.join(30)
    assert matcher.status()["complete"]
