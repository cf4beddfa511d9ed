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
