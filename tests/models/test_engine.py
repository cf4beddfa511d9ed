"""Engine-level logic on ten hand-made listings with a deterministic hash embedder."""

import pytest

from models.engine import EngineConfig, MatchingEngine
from tests.models.conftest import CORPUS, HashEmbedder, listing


@pytest.fixture
def engine(glossary) -> MatchingEngine:
    built = MatchingEngine(HashEmbedder(), HashEmbedder("hash-ml", 32), glossary)
    built.build(CORPUS)
    return built


def ids(result) -> list[str]:
    return [c.id for c in result.candidates]


def test_english_query_finds_the_listing(engine):
    result = engine.search("sell gift cards", top_k=3)
    assert result.language == "en"
    assert ids(result)[0] == "gift"
    assert [c.rank for c in result.candidates] == [1, 2, 3]


def test_japanese_query_crosses_over_through_the_glossary(glossary):
    # No multilingual channel: a hash "embedder" of Japanese words would only add noise here.
    engine = MatchingEngine(HashEmbedder(), None, glossary)
    engine.build(CORPUS)
    result = engine.search("定期便を始めたい", top_k=3)
    assert result.language == "ja"
    assert "subscription" in result.expansion
    top = result.candidates[0]
    assert top.id == "sub"
    assert top.matched[0] == "定期購入"  # the glossary label, in the query's language
    assert top.why.startswith("「定期購入」に対応")
    assert top.evidence is not None and "subscription" in top.evidence["text"].lower()
    assert sum(top.signals.values()) == pytest.approx(1.0, abs=1e-3)
    assert top.channels["bm25"] == 1 and top.channels["dense"] == 1


def test_baselines_use_the_raw_query_only(engine):
    # Without the glossary, BM25 and the English embedder cannot read Japanese.
    assert ids(engine.search("定期便を始めたい", mode="bm25")) == []
    assert "sub" not in ids(engine.search("定期便を始めたい", mode="dense", top_k=1))
    assert ids(engine.search("subscriptions", mode="bm25", top_k=1)) == ["sub"]
    only_bm25 = engine.search("subscriptions", mode="bm25", top_k=1).candidates[0]
    assert only_bm25.channels == {"bm25": 1} and only_bm25.signals == {"bm25": 1.0}


def test_filters_apply_before_the_cut(engine):
    result = engine.search("product reviews", top_k=3, filters={"platform": ["Shopify"]})
    assert "rev" not in ids(result)  # the best match is on BigCommerce
    assert len(result.candidates) == 3
    result = engine.search("product reviews", top_k=3, filters={"platform": ["bigcommerce"]})
    assert ids(result) == ["rev"]
    assert engine.search("reviews", filters={"platform": ["wix"]}).candidates == []


def test_upsert_and_remove_are_visible_at_once(engine):
    engine.upsert([listing("seo", "SEO & Gift Card Bundles", "Gift cards for SEO fans.",
                           platform="wix")])
    assert engine.count() == 10
    assert "seo" in ids(engine.search("gift cards", top_k=3))
    assert ids(engine.search("gift cards", filters={"platform": ["wix"]})) == ["seo"]
    engine.remove(["gift", "seo"])
    assert engine.count() == 8
    assert not {"gift", "seo"} & set(ids(engine.search("gift cards", top_k=8)))


def test_priors_reorder_near_ties_but_never_lift_the_irrelevant(glossary):
    twins = [
        listing("cold", "Gift Card Shop", "Sell gift cards."),
        listing("warm", "Gift Card Shop", "Sell gift cards."),
        *CORPUS[2:],
    ]
    twins[1] = type(twins[1])(**{**twins[1].__dict__, "priors": {"status": 1.0}})
    twins[0] = type(twins[0])(**{**twins[0].__dict__, "priors": {"status": 0.0}})
    seo = next(i for i, d in enumerate(twins) if d.id == "seo")
    twins[seo] = type(twins[seo])(**{**twins[seo].__dict__, "priors": {"status": 1.0}})
    engine = MatchingEngine(HashEmbedder(), None, glossary)
    engine.build(twins)
    with_priors = ids(engine.search("gift cards", top_k=3))
    assert with_priors[0] == "warm"
    assert ids(engine.search("gift cards", top_k=3, use_priors=False))[0] == "cold"  # id order
    # The SEO listing has the best prior of all but nothing to do with gift cards.
    assert "seo" not in with_priors


def test_query_embeddings_are_cached(engine):
    engine.search("live chat")
    calls = engine.dense.calls
    engine.search("live chat")
    assert engine.dense.calls == calls


def test_save_load_and_refusal(engine, glossary, tmp_path):
    engine.save(tmp_path, generation=3)
    fresh = MatchingEngine(HashEmbedder(), HashEmbedder("hash-ml", 32), glossary)
    assert fresh.load(tmp_path, generation=3)
    assert fresh.count() == 10
    assert ids(fresh.search("sell gift cards", top_k=1)) == ["gift"]
    assert not fresh.load(tmp_path, generation=4)
    other_model = MatchingEngine(HashEmbedder("another-model"), HashEmbedder("hash-ml", 32), glossary)
    assert not other_model.load(tmp_path, generation=3)
    assert not fresh.load(tmp_path / "missing", generation=3)


def test_crash_mid_save_leaves_the_old_engine_loadable(engine, glossary, tmp_path):
    engine.save(tmp_path, generation=1)
    (tmp_path / "dense" / ".meta.json.99.tmp").write_text("{")
    (tmp_path / ".documents.json.99.tmp").write_text("{")
    fresh = MatchingEngine(HashEmbedder(), HashEmbedder("hash-ml", 32), glossary)
    assert fresh.load(tmp_path, generation=1)
    assert fresh.count() == 10


def test_feedback_lifts_listings_that_share_the_top_listings_vocabulary(glossary):
    from dataclasses import replace

    corpus = [
        listing("a", "Automatic Billing", "Automatic billing for recurring subscriptions."),
        listing("b", "Boxes", "Billing for boxes of recurring subscriptions, shipped every month."),
        listing("c", "Invoices", "Billing of invoices as PDF."),
        *CORPUS[1:],
    ]
    without = MatchingEngine(HashEmbedder(), None, glossary, EngineConfig(feedback_docs=0))
    with_feedback = MatchingEngine(HashEmbedder(), None, glossary, replace(without.config, feedback_docs=1))
    bm25_ranks = []
    for engine in (without, with_feedback):
        engine.build(corpus)
        channels = {c.id: c.channels["bm25"] for c in engine.search("automatic billing", top_k=5).candidates}
        bm25_ranks.append((channels["a"], channels["b"], channels["c"]))
    # The short invoice listing first, until "recurring subscriptions" of the top listing counts.
    assert bm25_ranks == [(1, 3, 2), (1, 2, 3)]


def test_bm25_parameters_come_from_the_config(glossary):
    from dataclasses import replace

    corpus = [
        listing("short", "Wrap", "Gift wrap."),
        listing("long", "Tools", "Gift wrap, gift notes, " + "reports, exports, labels, " * 8),
    ]
    # b = 1: full length normalisation, the short listing wins; b = 0: the two mentions win.
    winners = []
    for b in (1.0, 0.0):
        engine = MatchingEngine(HashEmbedder(), None, glossary, replace(EngineConfig(), bm25_b=b))
        engine.build(corpus)
        winners.append(ids(engine.search("gift", top_k=1, mode="bm25"))[0])
    assert winners == ["short", "long"]
