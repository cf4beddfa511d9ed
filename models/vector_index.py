"""Inner-product search over L2-normalised vectors (FAISS), with string ids.

Vectors are stored as 16-bit floats (FAISS's scalar quantizer). That halves the memory and the
time of a scan, which reads every vector (7.5 ms against 3.4 ms for 100,000 x 384 on one core
here); against float32 storage, the top 10 of the development queries are the same in both
channels (recall@10 1.0, recall@100 0.999).

Two layouts, chosen by the size of a full build:
- flat (`IndexIDMap2(IndexScalarQuantizer)`): every vector is scored. Ids are removable in place.
- graph, from `graph_from` vectors on (`IndexHNSWSQ`): an HNSW graph over the same storage, so a
  search visits a few thousand vectors instead of all of them. A graph cannot drop a node: a
  replaced or removed vector stays in it, masked out of every answer, until the next full build.
  A filtered search scores the allowed vectors exactly (a graph walk that skips most nodes
  misses allowed ones).
Filters become a FAISS IDSelector, so they apply before the cut to top-k. `save` writes the
vectors and a meta JSON (model, dimension, generation, ids) into a folder; the engine store gives
every save a fresh folder and switches to it in one atomic step, so a crash never leaves a torn
pair in use.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import orjson

from models.files import write_atomic

META_FILE = "meta.json"
VECTORS_FILE = "vectors.faiss"
STORAGE = "fp16"  # in the meta: an index saved with another storage is rebuilt, not mixed
# HNSW: 32 links per node; a build weighs 128 candidates per insertion, a search keeps at least
# EF_SEARCH (and at least k) on its list. Measured on 100,000 distinct vectors (the real
# listings' vectors moved apart by noise) with the bench's queries, MiniLM / e5: recall@10 1.0 /
# 0.998 and recall@100 1.0 / 0.991 against exhaustive search, 1.0-1.7 ms a search on one core
# (3.4 ms exhaustive). With 64 and 256: 1.0 / 0.991 and 0.989 / 0.952, and builds of the same
# graph varied from 0.974 to 1.0 @10 (insertion order): too close to the 0.98 wanted.
GRAPH_LINKS = 32
EF_CONSTRUCTION = 128
EF_SEARCH = 512


class IndexMismatch(Exception):
    """The saved index was built by another model, dimension or catalog generation."""


class VectorIndex:
    def __init__(self, dimension: int, graph_from: int = 0):
        """`graph_from`: a full build of at least this many vectors makes a graph (0: never)."""
        self.dimension, self.graph_from = dimension, graph_from
        self._index: Any = faiss.IndexIDMap2(faiss.IndexScalarQuantizer(
            dimension, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT))
        self._int_of: dict[str, int] = {}
        self._id_of: dict[int, str] = {}
        self._next = 0
        # graph layout only: a key is the vector's position; masked keys are replaced or removed
        self._graph = False
        self._masked: set[int] = set()
        self._mask: Any = None  # (IDSelector excluding `_masked`, its inner selector)

    @property
    def graph(self) -> bool:
        return self._graph

    def count(self) -> int:
        return len(self._int_of)

    def ids(self) -> set[str]:
        return set(self._int_of)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._int_of

    def build(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        self.__init__(self.dimension, self.graph_from)  # type: ignore[misc]
        if self.graph_from and len(ids) >= self.graph_from:
            self._graph = True
            self._index = faiss.IndexHNSWSQ(  # faiss's stubs take the quantizer type for an object
                self.dimension, faiss.ScalarQuantizer.QT_fp16, GRAPH_LINKS,  # type: ignore[arg-type]
                faiss.METRIC_INNER_PRODUCT)
            self._index.hnsw.efConstruction = EF_CONSTRUCTION
        self.add(ids, vectors)

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Add vectors; an id already present is replaced."""
        vectors = self._checked(vectors, len(ids))
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate ids in one add")
        self.delete([i for i in ids if i in self._int_of])
        keys = np.array([self._assign(i) for i in ids], dtype=np.int64)
        if not len(keys):
            return
        if self._graph:  # positions: the graph numbers its vectors in the order they come
            faiss.omp_set_num_threads(os.cpu_count() or 1)
            self._index.add(vectors)
        else:
            self._index.add_with_ids(vectors, keys)

    def delete(self, ids: Collection[str]) -> None:
        keys = [self._int_of.pop(i) for i in ids if i in self._int_of]
        for key in keys:
            del self._id_of[key]
        if not keys:
            return
        if self._graph:
            self._set_masked(self._masked | set(keys))
        else:
            self._index.remove_ids(faiss.IDSelectorBatch(np.array(keys, dtype=np.int64)))

    def search(
        self, vectors: np.ndarray, k: int, allowed: Collection[str] | None = None,
        exact: bool = False,
    ) -> list[list[tuple[str, float]]]:
        """The k best per query vector; `exact` scores every vector, graph or not."""
        vectors = self._checked(vectors, None)
        index, params = self._index, None
        if exact and self._graph and allowed is None:
            index = faiss.downcast_index(self._index.storage)
            if self._mask is not None:
                params = faiss.SearchParameters(sel=self._mask[0])  # type: ignore[call-arg]
        elif allowed is not None:
            keys = np.array([self._int_of[i] for i in allowed if i in self._int_of], dtype=np.int64)
            if not len(keys):
                return [[] for _ in range(len(vectors))]
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(keys))  # type: ignore[call-arg]
            if self._graph:  # every allowed vector scored, straight from the graph's storage
                index = faiss.downcast_index(self._index.storage)
        elif self._graph:
            params = faiss.SearchParametersHNSW(efSearch=max(EF_SEARCH, k))  # type: ignore[attr-defined]
            if self._mask is not None:
                params.sel = self._mask[0]
        k = min(k, self.count())
        if k <= 0:
            return [[] for _ in range(len(vectors))]
        # A few queries over a few thousand vectors take well under a millisecond on one thread;
        # FAISS's own OpenMP pool would only contend with the embedders' pools for 2 cores.
        faiss.omp_set_num_threads(1 if len(vectors) <= 4 else (os.cpu_count() or 1))
        scores, keys_found = index.search(vectors, k, params=params)
        id_of = self._id_of
        return [
            [
                (id_of[key], score)
                for key, score in zip(row_keys, row_scores, strict=True)
                if key >= 0  # FAISS pads with -1 when fewer than k pass the filter
            ]
            for row_keys, row_scores in zip(keys_found.tolist(), scores.tolist(), strict=True)
        ]

    def recall(self, vectors: np.ndarray, k: int) -> float:
        """The mean share of each query vector's exact top k that `search` finds. A vector
        scoring as high as the exact k-th counts as found: copies of one vector tie."""
        exact, found = self.search(vectors, k, exact=True), self.search(vectors, k)
        shares = [sum(score >= best[-1][1] - 1e-4 for _, score in hits) / len(best)
                  for best, hits in zip(exact, found, strict=True) if best]
        return round(float(np.mean(shares)), 4) if shares else 1.0

    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        """The stored vectors of some ids (as stored: to 16-bit precision)."""
        out = np.empty((len(ids), self.dimension), dtype=np.float32)
        for row, doc_id in enumerate(ids):
            out[row] = self._index.reconstruct(self._int_of[doc_id])
        return out

    def save(self, folder: Path | str, meta: dict[str, Any]) -> None:
        write_files(Path(folder), self.dump(meta))

    def dump(self, meta: dict[str, Any]) -> dict[str, bytes]:
        """The files `save` writes, as bytes: a snapshot to write later, outside any lock."""
        full_meta = {
            **meta, "dimension": self.dimension, "storage": STORAGE,
            "ids": {doc_id: key for doc_id, key in self._int_of.items()}, "next": self._next,
            "graph": self._graph, "masked": sorted(self._masked),
        }
        return {VECTORS_FILE: faiss.serialize_index(self._index).tobytes(),
                META_FILE: orjson.dumps(full_meta)}

    def load(self, folder: Path | str, expect: dict[str, Any] | None = None) -> dict[str, Any]:
        """Load a saved index; raises IndexMismatch if `expect` differs from the saved meta."""
        folder = Path(folder)
        try:
            meta = orjson.loads((folder / META_FILE).read_bytes())
        except (OSError, ValueError) as error:
            raise IndexMismatch(f"no readable index meta in {folder}: {error}") from None
        wanted = {"dimension": self.dimension, "storage": STORAGE, **(expect or {})}
        for key, value in wanted.items():
            if meta.get(key) != value:
                raise IndexMismatch(f"saved index has {key}={meta.get(key)!r}, expected {value!r}")
        try:
            index = faiss.read_index(str(folder / VECTORS_FILE))
        except (OSError, RuntimeError) as error:  # FAISS raises RuntimeError on a bad file
            raise IndexMismatch(f"no readable vectors in {folder}: {error}") from None
        graph, masked = bool(meta.get("graph")), [int(key) for key in meta.get("masked", [])]
        if index.ntotal != len(meta["ids"]) + len(masked) or index.d != self.dimension:
            raise IndexMismatch(f"saved index in {folder} does not match its meta")
        self.__init__(self.dimension, self.graph_from)  # type: ignore[misc]
        self._index, self._graph = index, graph
        self._int_of = {doc_id: int(key) for doc_id, key in meta["ids"].items()}
        self._id_of = {key: doc_id for doc_id, key in self._int_of.items()}
        self._next = int(meta["next"])
        self._set_masked(set(masked))
        if graph != bool(self.graph_from and self.count() >= self.graph_from):
            # saved in the other layout (the setting changed): the same vectors, laid out anew
            ids = list(self._int_of)
            self.build(ids, self.vectors(ids))
        return meta

    def _set_masked(self, masked: set[int]) -> None:
        self._masked = masked
        if masked:  # the inner selector is kept too: the outer one does not own it
            inner = faiss.IDSelectorBatch(np.fromiter(masked, dtype=np.int64, count=len(masked)))
            self._mask = (faiss.IDSelectorNot(inner), inner)

    def _assign(self, doc_id: str) -> int:
        key, self._next = self._next, self._next + 1
        self._int_of[doc_id], self._id_of[key] = key, doc_id
        return key

    def _checked(self, vectors: np.ndarray, rows: int | None) -> np.ndarray:
        vectors = np.ascontiguousarray(np.atleast_2d(vectors), dtype=np.float32)
        if vectors.shape[1] != self.dimension or (rows is not None and len(vectors) != rows):
            raise ValueError(f"expected {rows or 'n'} x {self.dimension} vectors, got {vectors.shape}")
        return vectors


def write_files(folder: Path, files: dict[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        write_atomic(folder / name, data)
