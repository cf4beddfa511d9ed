import pytest

from models.documents import Document
from models.lexical import LexicalIndex, document_tokens
from models.text import tokenize


def doc(doc_id: str, title: str, *benefits: str, kind: str = "benefit") -> Document:
    return Document(id=doc_id, title=title, sections=tuple((kind, b) for b in benefits))


CORPUS = [
    doc("sub", "Subscriptions", "Recurring orders billed every month"),
    doc("gift", "Gift Cards", "Sell digital gift cards"),
    doc("rev", "Reviews", "Collect product reviews", "Photo reviews"),
    doc("ship", "Labels", "Print shipping labels in bulk"),
    doc("mixed", "Store Tools", "Gift wrap", "Monthly reports", "Subscriptions mentioned once"),
    doc("ja", "定期便アプリ", "定期購入を簡単に導入", kind="description_ja"),
]


@pytest.fixture
def index() -> LexicalIndex:
    built = LexicalIndex()
    built.build(CORPUS)
    return built


def test_title_counts_more_than_a_passing_mention(index):
    ids = [i for i, _ in index.search(tokenize("subscriptions"), 5)]
    assert ids[:2] == ["sub", "mixed"]


def test_japanese_documents_match_japanese_tokens(index):
    assert [i for i, _ in index.search(tokenize("定期便を始めたい"), 5)] == ["ja"]


def test_no_match_returns_nothing(index):
    assert index.search(tokenize("blockchain"), 5) == []
    assert index.search([], 5) == []


def test_filter_applies_before_the_cut(index):
    hits = index.search(tokenize("gift subscriptions"), 1, allowed={"mixed", "rev"})
    assert [i for i, _ in hits] == ["mixed"]


def test_a_change_makes_a_new_index_and_leaves_the_old_one_answering(index):
    changed = index.replaced([doc("rev", "Reviews", "Now also sells gift cards and gift cards")])
    assert "rev" in [i for i, _ in changed.search(tokenize("gift cards"), 5)]
    assert "rev" not in [i for i, _ in index.search(tokenize("gift cards"), 5)]
    smaller = changed.replaced(removed=["gift"])
    assert "gift" not in [i for i, _ in smaller.search(tokenize("gift cards"), 5)]
    assert smaller.count() == 5 and changed.count() == 6


def test_fields_are_weighted_by_repetition():
    tokens = document_tokens(doc("x", "Alpha", "beta"), {"title": 3, "benefit": 1})
    assert tokens.count("alpha") == 3 and tokens.count("beta") == 1


def test_feedback_terms_are_the_typical_words_of_the_given_documents(index):
    tokens = {d.id: document_tokens(d) for d in CORPUS}
    terms = index.feedback_terms([tokens["sub"], tokens["mixed"]], 3, exclude={"subscript"})
    assert terms and sum(terms.values()) == pytest.approx(1.0)
    assert "subscript" not in terms
    assert "month" in terms  # in both documents
    assert "recur" not in terms  # in one document of the corpus only: df < 2
    assert index.feedback_terms([], 3) == {}


def test_weighted_extra_terms_reorder_only_what_the_query_found(index):
    query = tokenize("subscriptions")
    assert [i for i, _ in index.search(query, 5)][:2] == ["sub", "mixed"]
    # "gift" lifts the listing that also has it, and brings in none that lacks the query's words.
    hits = [i for i, _ in index.search(query, 5, extra={"gift": 3.0})]
    assert hits == ["mixed", "sub"]


def test_a_change_goes_into_the_overlay_scored_as_the_built_index_scores(index):
    twin = doc("rev2", "Reviews", "Collect product reviews", "Photo reviews")  # as "rev"
    changed = index.replaced([twin])
    assert changed._bm25 is index._bm25  # nothing rebuilt
    scores = dict(changed.search(tokenize("photo reviews"), 5))
    assert scores["rev2"] == pytest.approx(scores["rev"], rel=1e-5)
    assert changed.count() == 7 and "rev2" in changed.ids


def test_changed_and_removed_listings_answer_with_their_new_text_only(index):
    changed = index.replaced(
        [doc("rev", "Reviews", "Wholesale price lists"), doc("new", "Zephyrine Vouchers", "")],
        removed=["gift"],
    )
    assert changed._bm25 is index._bm25
    assert changed.search(tokenize("photo"), 5) == []  # "rev" had the word, now has not
    assert [i for i, _ in changed.search(tokenize("wholesale"), 5)] == ["rev"]
    assert [i for i, _ in changed.search(tokenize("zephyrine"), 5)] == ["new"]  # a new word
    assert "gift" not in [i for i, _ in changed.search(tokenize("gift cards"), 5)]
    assert changed.search(tokenize("wholesale"), 5, allowed={"sub"}) == []
    assert changed.count() == 6 and sorted(changed.ids) == sorted(
        ["sub", "rev", "ship", "mixed", "ja", "new"])
    again = changed.replaced(removed=["new"])
    assert again.search(tokenize("zephyrine"), 5) == [] and again.count() == 5


def test_a_large_overlay_is_built_into_the_index(index, monkeypatch):
    monkeypatch.setattr("models.lexical.OVERLAY_MIN", 2)
    one = index.replaced([doc("a", "Alpha Tool", "")])
    assert one._bm25 is index._bm25
    three = one.replaced([doc("b", "Beta Tool", ""), doc("c", "Gamma Tool", "")])
    assert three._bm25 is not index._bm25 and not three._overlay and not three._hidden
    assert [i for i, _ in three.search(tokenize("alpha"), 5)] == ["a"]
    assert three.count() == 9


def test_the_overlay_is_saved_and_loaded(index, tmp_path):
    changed = index.replaced([doc("rev", "Reviews", "Wholesale price lists")], removed=["gift"])
    changed.save(tmp_path, {"generation": 3})
    loaded = LexicalIndex()
    loaded.load(tmp_path, {"generation": 3})
    query = tokenize("wholesale gift reviews")
    assert [i for i, _ in loaded.search(query, 5)] == [i for i, _ in changed.search(query, 5)]
    assert [s for _, s in loaded.search(query, 5)] == pytest.approx([s for _, s in changed.search(query, 5)])
    assert sorted(loaded.ids) == sorted(changed.ids)
