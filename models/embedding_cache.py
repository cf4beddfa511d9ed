"""Document embeddings kept on disk by (model, text), so a rebuild encodes only what changed.

Encoding is nearly all of an index build (two transformer models, tens of listings a second on
two cores); most rebuilds (a reindex, a restart after a crash mid-build, a replica's first start
beside another's cache) see texts already encoded. The store is a SQLite file: safe to share
between worker processes, and a crash loses at most the batch being written.
"""

from __future__ import annotations

import fcntl
import hashlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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
        self._encoding, self._encoding_lock = threading.Lock(), self.path.with_name(f"{self.path.name}.lock")
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

    @contextmanager
    def encoding(self) -> Iterator[None]:
        """Held while a batch is encoded: one encoder at a time per store, across the threads
        of a process (a lock) and its processes (a file lock beside the store)."""
        with self._encoding, open(self._encoding_lock, "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

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
        encoded = 0
        # Stored batch by batch: a build killed midway keeps what it had encoded. Each batch is
        # encoded under the store's lock, and looked up again once it is held: two processes
        # building at once (a server following a command's import) never encode a text twice.
        for start in range(0, len(missing), self.batch):
            batch = missing[start : start + self.batch]
            with self.store.encoding():
                found.update(self.store.get(self.name, batch, self.dimension))
                todo = [key for key in batch if key not in found]
                if todo:
                    vectors = self.embedder.encode_documents([text_of[k] for k in todo])
                    self.store.put(self.name, todo, vectors)
                    found.update(zip(todo, vectors, strict=True))
            encoded += len(todo)
        self.encoded += encoded
        self.reused += len(keys) - encoded
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for row, key in enumerate(keys):
            out[row] = found[key]
        return out
