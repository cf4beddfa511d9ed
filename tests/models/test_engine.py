"""Engine-level logic on ten hand-made listings with a deterministic hash embedder."""

import shutil

import pytest

from models.documents import Document
from models.engine import EngineConfig, MatchingEngine
from models.engine.store import VERSIONS_DIR
from models.glossary import Glossary
from tests.helpers.engine import CORPUS, HashEmbedder, listing


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


def test_bm25_is_rebuilt_only_when_a_listing_text_changes(engine):
    gift = next(d for d in CORPUS if d.id == "gift")
    before = engine._lexical
    engine.upsert([type(gift)(**{**gift.__dict__, "priors": {"status": 0.3}})])
    assert engine._lexical is before  # a new rating or status: same text, same BM25 index
    assert engine._documents["gift"].priors == {"status": 0.3}
    engine.upsert([type(gift)(**{**gift.__dict__, "title": "Gift Cards and Vouchers"})])
    assert engine._lexical is not before
    assert ids(engine.search("vouchers", mode="bm25")) == ["gift"]


def test_a_rebuild_analyses_only_the_listings_that_changed(engine, monkeypatch):
    analysed = []
    concepts_of = engine.texts.concepts_of
    monkeypatch.setattr(engine.texts, "concepts_of", lambda d: analysed.append(d.id) or concepts_of(d))
    gift = next(d for d in CORPUS if d.id == "gift")
    changed = type(gift)(**{**gift.__dict__, "title": "Gift Cards and Vouchers"})
    engine.build([changed if d.id == "gift" else d for d in CORPUS])
    assert analysed == ["gift"]
    assert ids(engine.search("vouchers", mode="bm25")) == ["gift"]
    assert ids(engine.search("sell gift cards", top_k=1)) == ["gift"]


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
    engine.search("live chat", top_k=3)  # another question (no kept answer), the same query
    assert engine.dense.calls == calls


def test_answers_are_kept_until_the_index_changes(engine, glossary):
    first = engine.search("gift cards", top_k=3)
    assert engine.search("gift cards", top_k=3) is first
    assert engine.search("gift cards", top_k=2) is not first
    assert engine.search("gift cards", top_k=3, filters={"platform": ["wix"]}) is not first
    engine.upsert([listing("seo", "SEO & Gift Card Bundles", "Gift cards for SEO fans.")])
    added = engine.search("gift cards", top_k=3)
    assert "seo" in ids(added)
    engine.remove(["seo"])
    assert "seo" not in ids(engine.search("gift cards", top_k=3))
    engine.build(CORPUS)
    assert engine.search("gift cards", top_k=3) is not first
    off = MatchingEngine(HashEmbedder(), None, glossary, EngineConfig(results_cache_size=0))
    off.build(CORPUS)
    again = off.search("gift cards", top_k=3)
    assert off.search("gift cards", top_k=3) is not again
    assert ids(off.search("gift cards", top_k=3)) == ids(again)


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


def test_a_save_that_dies_midway_leaves_the_previous_version_in_use(
    engine, glossary, tmp_path, monkeypatch
):
    engine.save(tmp_path, generation=1)
    engine.remove(["gift"])

    def dies(*args, **kwargs):
        raise RuntimeError("killed")

    # The vectors of generation 2 are written, then the save dies before its documents.
    monkeypatch.setattr("models.engine.persistence.save_documents", dies)
    with pytest.raises(RuntimeError):
        engine.save(tmp_path, generation=2)
    monkeypatch.undo()
    assert len(list((tmp_path / VERSIONS_DIR).iterdir())) == 2  # the dead save's folder is left
    fresh = MatchingEngine(HashEmbedder(), HashEmbedder("hash-ml", 32), glossary)
    saved = fresh.load(tmp_path)
    assert saved is not None and saved.generation == 1 and fresh.count() == 10
    engine.save(tmp_path, generation=3, extra={"watermark": "w"})
    names = [p.name for p in (tmp_path / VERSIONS_DIR).iterdir()]  # the next save cleans up
    assert len(names) == 1 and names[0].startswith("g0000000003-")
    saved = fresh.load(tmp_path, generation=3)
    assert saved is not None and saved.extra == {"watermark": "w"} and fresh.count() == 9


def test_a_pointer_to_a_missing_version_is_refused(engine, glossary, tmp_path):
    saved = engine.save(tmp_path, generation=1)
    shutil.rmtree(saved.folder)
    assert MatchingEngine(HashEmbedder(), HashEmbedder("hash-ml", 32), glossary).load(tmp_path) is None


def test_a_loaded_index_answers_and_changes_like_the_one_saved(engine, glossary, tmp_path):
    engine.save(tmp_path, generation=1)
    fresh = MatchingEngine(HashEmbedder(), HashEmbedder("hash-ml", 32), glossary)
    assert fresh.load(tmp_path, generation=1)
    for query in ("sell gift cards", "定期便を始めたい", "gift wrap"):
        assert ids(fresh.search(query, top_k=5)) == ids(engine.search(query, top_k=5))
    # The first change after a load re-makes the kept documents' tokens: they still match.
    fresh.upsert([listing("new", "Noshi Wrapping", "Japanese noshi paper for every gift.")])
    assert ids(fresh.search("noshi", top_k=1)) == ["new"]
    assert ids(fresh.search("sell gift cards", top_k=1)) == ["gift"]
    fresh.remove(["gift"])
    assert "gift" not in ids(fresh.search("sell gift cards", top_k=5))


def test_a_glossary_changed_since_the_save_tags_the_listings_again(engine, glossary_path, tmp_path):
    engine.save(tmp_path, generation=1)
    extended = glossary_path.read_text(encoding="utf-8") + (
        "  - id: auto-billing\n    ja: [自動課金]\n    en: [automatic monthly billing]\n"
        "    label_ja: 自動課金\n")
    glossary_path.write_text(extended, encoding="utf-8")
    fresh = MatchingEngine(HashEmbedder(), None, Glossary.load(glossary_path))
    assert fresh.load(tmp_path, generation=1)
    # Only the new entry links 自動課金 to the subscription listing's "automatic monthly billing";
    # the listing names the concept once it is tagged again, and the reason says so.
    top = fresh.search("自動課金", top_k=1).candidates[0]
    assert top.id == "sub" and top.matched == ["自動課金"]


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


def test_a_reason_does_not_repeat_the_words_of_a_concept_it_names(glossary):
    from models import explain

    entry = glossary.by_id["subscriptions"]
    words = [("定期", "定期"), ("購入", "購入"), ("コーヒー", "コーヒー")]
    matched = explain.matched_terms([entry], {"subscriptions"}, words, {"定期", "購入", "コーヒー"}, "ja")
    assert matched == ["定期購入", "コーヒー"]


def test_a_graph_engine_answers_like_the_exhaustive_one_and_reports_its_recall(
    engine, glossary, tmp_path
):
    graph = MatchingEngine(HashEmbedder(), HashEmbedder("hash-ml", 32), glossary,
                           EngineConfig(graph_from=10))
    graph.build(CORPUS)
    assert graph.vector_graph() and not engine.vector_graph()
    queries = ["sell gift cards", "定期便を始めたい", "product reviews", "live chat"]
    for query in queries:  # ten listings: the graph walk sees every one
        assert ids(graph.search(query, top_k=5)) == ids(engine.search(query, top_k=5))
    assert graph.vector_recall(queries, 5) == {"dense": 1.0, "multilingual": 1.0}
    assert graph.vector_recall(queries, 5, jitter=0.01) == {"dense": 1.0, "multilingual": 1.0}
    graph.upsert([listing("new", "Noshi Wrapping", "Japanese noshi paper for every gift.")])
    graph.remove(["gift"])
    assert ids(graph.search("noshi", top_k=1)) == ["new"]
    assert "gift" not in ids(graph.search("sell gift cards", top_k=5))
    graph.save(tmp_path, generation=2)
    fresh = MatchingEngine(HashEmbedder(), HashEmbedder("hash-ml", 32), glossary,
                           EngineConfig(graph_from=10))
    assert fresh.load(tmp_path, generation=2) and fresh.vector_graph() and fresh.count() == 10
    assert ids(fresh.search("sell gift cards", top_k=5)) == ids(graph.search("sell gift cards", top_k=5))


def test_a_listing_written_in_japanese_meets_an_english_query(glossary):
    # No glossary entry names a map: the dictionary's rendering (地図 -> map, 店舗 -> shop) does.
    japanese = listing("map-ja", "店舗マップ", "実店舗の場所を地図で案内します。")
    engine = MatchingEngine(HashEmbedder(), None, glossary)
    engine.build([*CORPUS, japanese])
    result = engine.search("map of our shops", top_k=3)
    assert ids(result)[0] == "map-ja"
    assert result.candidates[0].channels["bm25"] == 1 and result.candidates[0].channels["dense"] == 1


def test_a_japanese_query_meets_english_listings_on_words_the_glossary_lacks(glossary):
    english = listing("map", "Store Map", "Show a map of your shops.")
    engine = MatchingEngine(HashEmbedder(), None, glossary)
    engine.build([*CORPUS, english])
    top = engine.search("地図で店舗を案内したい", top_k=1).candidates[0]
    # no glossary entry: MiniLM reads the query's dictionary rendering instead of nothing
    assert top.id == "map" and top.channels == {"bm25": 1, "dense": 1}


def test_a_listing_in_japanese_is_compensated_for_the_channel_that_cannot_read_it(glossary):
    from models.engine.texts import written_in_japanese

    japanese = listing("ja", "ギフトカード販売", "デジタルギフトカードを販売できます。")
    bilingual = Document(id="both", title="Gift Cards", sections=(
        ("description", "Sell gift cards."), ("description_ja", "ギフトカードを販売。")))
    assert written_in_japanese(japanese) and not written_in_japanese(bilingual)
    engine = MatchingEngine(HashEmbedder(), HashEmbedder("hash-ml", 32), glossary)
    engine.build([*CORPUS, japanese])
    rankings = {"bm25": ["gift", "ja"], "dense": ["gift", "ja"], "multilingual": ["gift", "ja"]}
    english, ja = ({f.id: f.relevance for f in engine._fuse(rankings, language)} for language in ("en", "ja"))
    # English questions: BM25 and MiniLM (weights 1 + 1 of 2.5) read it, through its rendering
    assert english["ja"] == pytest.approx(2.5 / 2 * (1 / 62 + 1 / 62 + 0.5 / 62))
    assert english["gift"] == pytest.approx(2.5 / 61) and ja["ja"] == pytest.approx(3 / 62)


def test_encoders_read_a_japanese_listing_in_english_words_too(glossary):
    engine = MatchingEngine(HashEmbedder(), HashEmbedder("hash-ml", 32), glossary)
    japanese = listing("map-ja", "店舗マップ", "実店舗の場所を地図で案内します。")
    english = CORPUS[0]
    assert "map" in engine.texts.dense(japanese) and "地図" not in engine.texts.dense(japanese)
    multilingual = engine.texts.multilingual(japanese)
    assert "地図" in multilingual and "map" in multilingual  # e5 reads both
    assert engine.texts.multilingual(english) == engine.texts.dense(english)


def test_similar_listings_leave_the_listing_itself_out(engine):
    similar = engine.similar("gift", top_k=3)
    assert [doc_id for doc_id, _ in similar][0] == "wrap"  # the other gift listing
    assert "gift" not in [doc_id for doc_id, _ in similar]
    assert len(similar) == 3 and similar[0][1] >= similar[1][1] >= similar[2][1] > 0
    assert engine.similar("nope") == []
    engine.remove(["wrap"])
    assert "wrap" not in [doc_id for doc_id, _ in engine.similar("gift", top_k=9)]
