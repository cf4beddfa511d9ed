"""Document embeddings reused by (model, text) across builds and processes."""

import time
from concurrent.futures import ThreadPoolExecutor

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


def test_two_builders_sharing_a_store_never_encode_a_text_twice(tmp_path):
    """A server following a command's import encodes the same listings at the same time: each
    batch is encoded under the store's file lock and looked up again once it is held."""
    texts = [f"listing {n}" for n in range(40)]
    first, second = SlowHashEmbedder(), SlowHashEmbedder()
    builders = [CachedEmbedder(inner, EmbeddingStore(tmp_path / "embeddings.sqlite"), batch=4)
                for inner in (first, second)]  # two stores on one file: two processes
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda builder: builder.encode_documents(texts), builders))
    assert first.texts + second.texts == 40  # every text once, by one of them
    np.testing.assert_allclose(results[0], results[1])
    assert builders[0].encoded + builders[1].encoded == 40


class SlowHashEmbedder(HashEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.texts = 0

    def encode_documents(self, texts):
        self.texts += len(texts)
        time.sleep(0.01)  # long enough for the other builder to want the same batch
        return super().encode_documents(texts)
