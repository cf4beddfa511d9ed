"""Document embeddings kept on disk by (model, text), so a rebuild encodes only what changed.

Encoding is nearly all of an index build (two transformer models, tens of listings a second on
two cores); most rebuilds (a reindex, a restart after a crash mid-build, a replica's first start
beside another's cache) see texts already encoded. The store is a SQLite file: safe to share
between worker processes, and a crash loses at most the batch being written.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from models.embedders import Embedder

CHUNK = 500  # keys per lookup, under SQLite's bound-parameter limit


class EmbeddingStore:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._connection = sqlite3.connect(self.path, timeout=60, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock, self._connection as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(
                "CREATE TABLE IF NOT EXISTS embedding ("
                " model TEXT NOT NULL, key BLOB NOT NULL, vector BLOB NOT NULL,"
                " PRIMARY KEY (model, key)) WITHOUT ROWID"
            )

    def get(self, model: str, keys: Sequence[bytes], dimension: int) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        with self._lock:
            for start in range(0, len(keys), CHUNK):
                chunk = list(keys[start : start + CHUNK])
                marks = ",".join("?" * len(chunk))
                rows = self._connection.execute(
                    f"SELECT key, vector FROM embedding WHERE model = ? AND key IN ({marks})",
                    [model, *chunk],
                )
                for key, blob in rows:
                    vector = np.frombuffer(blob, dtype=np.float32)
                    if len(vector) == dimension:
                        found[key] = vector
        return found

    def put(self, model: str, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        rows = [
            (model, key, np.asarray(vector, dtype=np.float32).tobytes())
            for key, vector in zip(keys, vectors, strict=True)
        ]
        with self._lock, self._connection as connection:
            connection.executemany("INSERT OR REPLACE INTO embedding VALUES (?, ?, ?)", rows)

    def close(self) -> None:
        with self._lock:
            self._connection.close()


class CachedEmbedder:
    """An embedder whose document encodings go through the store; queries pass straight on
    (the engine caches those in memory)."""

    def __init__(self, embedder: Embedder, store: EmbeddingStore, batch: int = 256):
        self.embedder, self.store, self.batch = embedder, store, batch
        self.name, self.dimension = embedder.name, embedder.dimension
        self.encoded = self.reused = 0  # document texts, since this object was made

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.embedder.encode_queries(texts)

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        keys = [hashlib.sha256(text.encode()).digest() for text in texts]
        found = self.store.get(self.name, list(dict.fromkeys(keys)), self.dimension)
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        text_of = dict(zip(keys, texts, strict=True))
        self.encoded += len(missing)
        self.reused += len(keys) - len(missing)
        # Stored batch by batch: a build killed midway keeps what it had encoded.
        for start in range(0, len(missing), self.batch):
            batch = missing[start : start + self.batch]
            vectors = self.embedder.encode_documents([text_of[k] for k in batch])
            self.store.put(self.name, batch, vectors)
            found.update(zip(batch, vectors, strict=True))
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for row, key in enumerate(keys):
            out[row] = found[key]
        return out
