"""Document embeddings reused by (model, text) across builds and processes."""

import numpy as np

from models.embedding_cache import CachedEmbedder, EmbeddingStore
from tests.helpers.engine import HashEmbedder


def test_only_new_texts_are_encoded_and_vectors_come_back_in_order(tmp_path):
    store = EmbeddingStore(tmp_path / "embeddings.sqlite")
    inner = HashEmbedder()
    cached = CachedEmbedder(inner, store, batch=2)
    first = cached.encode_documents(["gift wrapping", "reviews with photos", "gift wrapping"])
    assert inner.calls == 2  # the repeated text is encoded once
    np.testing.assert_allclose(first, inner.encode_documents(
        ["gift wrapping", "reviews with photos", "gift wrapping"]))
    inner.calls = 0
    again = CachedEmbedder(inner, EmbeddingStore(tmp_path / "embeddings.sqlite"))  # another process
    second = again.encode_documents(["reviews with photos", "live chat", "gift wrapping"])
    assert inner.calls == 1  # only "live chat"
    np.testing.assert_allclose(second[[0, 2]], first[[1, 0]])


def test_another_model_or_dimension_does_not_reuse_vectors(tmp_path):
    store = EmbeddingStore(tmp_path / "embeddings.sqlite")
    CachedEmbedder(HashEmbedder("m1", 64), store).encode_documents(["gift wrapping"])
    other_model, other_size = HashEmbedder("m2", 64), HashEmbedder("m1", 32)
    CachedEmbedder(other_model, store).encode_documents(["gift wrapping"])
    vectors = CachedEmbedder(other_size, store).encode_documents(["gift wrapping"])
    assert other_model.calls == 1 and other_size.calls == 1 and vectors.shape == (1, 32)
    # Queries are never stored: they pass straight to the model.
    CachedEmbedder(other_model, store).encode_queries(["gift wrapping"])
    assert other_model.calls == 2
