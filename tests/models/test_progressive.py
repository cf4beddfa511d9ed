"""Listings searchable by keyword at once, by every channel once `fill` has encoded them."""

import pytest

from models.engine import MatchingEngine
from tests.helpers.engine import CORPUS, HashEmbedder, listing

QUERIES = ["sell gift cards", "product reviews", "定期便を始めたい", "subscriptions"]


def answers(engine: MatchingEngine) -> list[list[tuple[str, float]]]:
    return [[(c.id, c.score) for c in engine.search(q, top_k=5).candidates] for q in QUERIES]


@pytest.fixture
def whole(glossary) -> MatchingEngine:
    built = MatchingEngine(HashEmbedder(), HashEmbedder("hash-ml", 32), glossary)
    built.build(CORPUS)
    return built


@pytest.fixture
def keyword_first(glossary) -> MatchingEngine:
    built = MatchingEngine(HashEmbedder(), HashEmbedder("hash-ml", 32), glossary)
    built.build(CORPUS, vectors=False)
    return built


def test_a_build_without_vectors_answers_by_keyword_and_says_so(keyword_first):
    assert keyword_first.pending() == len(CORPUS)
    result = keyword_first.search("sell gift cards", top_k=3)
    assert result.candidates[0].id == "gift"
    assert result.channels == ("bm25",) and not result.complete
    assert set(result.candidates[0].channels) == {"bm25", "dense", "multilingual"}
    assert result.candidates[0].channels["dense"] is None  # ranked by no vector channel yet


def test_filled_in_batches_it_answers_as_a_whole_build_does(whole, keyword_first) -> None:
    seen: list[tuple[int, int]] = []
    assert keyword_first.fill(lambda stage, done, total: seen.append((done, total)), batch=4) == len(CORPUS)
    assert keyword_first.pending() == 0
    assert seen[0] == (0, len(CORPUS)) and seen[-1] == (len(CORPUS), len(CORPUS))
    result = keyword_first.search("sell gift cards", top_k=3)
    assert result.channels == ("bm25", "dense", "multilingual") and result.complete
    assert answers(keyword_first) == answers(whole)


def test_halfway_the_encoded_listings_rank_in_every_channel(keyword_first):
    class Stop(Exception):
        pass

    def stop_after_first_batch(stage: str, done: int, total: int) -> None:
        if done >= 4:
            raise Stop

    with pytest.raises(Stop):
        keyword_first.fill(stop_after_first_batch, batch=4)  # killed after one batch
    assert keyword_first.pending() == len(CORPUS) - 4
    result = keyword_first.search("sell gift cards", top_k=5)
    assert "dense" in result.channels and not result.complete
    assert keyword_first.fill() == len(CORPUS) - 4  # resumed where it stopped


def test_a_change_or_removal_meanwhile_wins_over_the_batch_being_encoded(whole, glossary):
    engine = MatchingEngine(HashEmbedder(), HashEmbedder("hash-ml", 32), glossary)
    engine.build(CORPUS, vectors=False)
    changed = listing("gift", "Gift Cards Plus", "sell gift cards and store credit")
    engine.upsert([changed])  # encoded at once: no longer pending
    engine.remove(["rev"])
    assert engine.pending() == len(CORPUS) - 2
    engine.fill()
    whole.upsert([changed])
    whole.remove(["rev"])
    assert answers(engine) == answers(whole)


def test_a_large_change_can_go_keyword_first_too(whole):
    changed = [listing(d.id, d.title, "wholesale price lists for B2B") for d in CORPUS[:3]]
    whole.upsert(changed, vectors=False)
    assert whole.pending() == 3
    assert not whole.search("wholesale price lists", top_k=3).complete
    whole.fill()
    assert whole.search("wholesale price lists", top_k=3).complete


def test_no_save_while_vectors_are_missing(keyword_first, tmp_path):
    with pytest.raises(ValueError, match="still being encoded"):
        keyword_first.save(tmp_path, 1)
    keyword_first.fill()
    keyword_first.save(tmp_path, 1)
