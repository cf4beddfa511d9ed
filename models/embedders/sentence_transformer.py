"""A sentence-transformers model on torch."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np

from models.embedders.base import QUERY_THREADS, SMALL_BATCH, is_remote_name, l2_normalise, resolve_model_path

_torch_threads_lock = threading.Lock()


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
            resolve_model_path(name_or_path), device="cpu", backend=backend,  # type: ignore[arg-type]  # "onnx" or "torch", checked by Settings
            local_files_only=not is_remote_name(name_or_path),
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
        with torch_threads(QUERY_THREADS):
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


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """torch's thread count is process-wide: set it for one call and put it back."""
    import torch

    with _torch_threads_lock:
        previous = torch.get_num_threads()
        torch.set_num_threads(count)
        try:
            yield
        finally:
            torch.set_num_threads(previous)
