import itertools

import pytest

from models.ranking import apply_priors, fuse, prior_value, shares


def test_weighted_rrf_by_hand():
    # k = 60. a: 1/61 (bm25 rank 1) + 0.5/62 (dense rank 2); b: 1/62 + 0.5/61; c: 0.5/63.
    fused = fuse({"bm25": ["a", "b"], "dense": ["b", "a", "c"]}, {"bm25": 1.0, "dense": 0.5})
    by_id = {f.id: f for f in fused}
    assert by_id["a"].relevance == pytest.approx(1 / 61 + 0.5 / 62)
    assert by_id["b"].relevance == pytest.approx(1 / 62 + 0.5 / 61)
    assert by_id["c"].relevance == pytest.approx(0.5 / 63)
    assert [f.id for f in fused] == ["a", "b", "c"]  # 0.02446 > 0.02433 > 0.00794
    assert by_id["a"].contributions == pytest.approx({"bm25": 1 / 61, "dense": 0.5 / 62})


def test_a_channel_with_no_weight_is_ignored():
    assert [f.id for f in fuse({"x": ["a"], "y": ["b"]}, {"y": 1.0})] == ["b"]


def test_priors_reorder_near_ties_only():
    relevance = {"relevant": 1.00, "near_tie": 0.98, "irrelevant": 0.50}
    priors = {"relevant": 0.0, "near_tie": 1.0, "irrelevant": 1.0}
    final = apply_priors(relevance, priors, band=0.05)
    # bonus = 0.05 x top (1.0) x prior: near_tie 0.98 + 0.05 = 1.03 passes relevant (1.00 + 0);
    # irrelevant 0.50 + 0.05 = 0.55 stays far below.
    assert final == pytest.approx({"relevant": 1.00, "near_tie": 1.03, "irrelevant": 0.55})
    assert sorted(final, key=final.get, reverse=True) == ["near_tie", "relevant", "irrelevant"]


def test_relevance_dominates_whatever_the_priors():
    """Property: if relevance(a) - relevance(b) > band x top, a stays above b for any priors."""
    band = 0.05
    relevance = {"a": 0.80, "b": 0.80 - 0.051, "c": 0.40, "d": 0.0, "top": 1.0}
    for values in itertools.product([0.0, 0.3, 1.0], repeat=len(relevance)):
        final = apply_priors(relevance, dict(zip(relevance, values, strict=True)), band)
        for x, y in itertools.permutations(relevance, 2):
            if relevance[x] - relevance[y] > band * max(relevance.values()):
                assert final[x] > final[y], (x, y, values)
        assert final["d"] == 0.0  # nothing relevant, nothing lifted


def test_no_band_means_no_effect():
    assert apply_priors({"a": 0.5, "b": 0.4}, {"a": 0.0, "b": 1.0}, band=0.0) == {"a": 0.5, "b": 0.4}


def test_prior_value_is_neutral_without_priors_and_clipped():
    assert prior_value({}) == 0.5
    assert prior_value({"status": 1.0, "negotiation": 0.0}) == 0.5
    assert prior_value({"status": 3.0}) == 1.0


def test_shares_sum_to_one():
    result = shares({"bm25": 0.03, "dense": 0.01}, prior_bonus=0.01)
    assert result == {"bm25": 0.6, "dense": 0.2, "priors": 0.2}
    assert shares({}) == {}


def test_rocchio_moves_the_query_towards_the_feedback_and_stays_unit():
    import numpy as np

    from models.ranking import rocchio

    query = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    feedback = np.array([[0.0, 1.0, 0.0], [0.0, 0.6, 0.8]], dtype=np.float32)
    moved = rocchio(query, feedback, beta=0.5)
    # q + 0.5 x mean = (1, 0.4, 0.2), renormalised.
    assert moved == pytest.approx(np.array([1.0, 0.4, 0.2]) / np.linalg.norm([1.0, 0.4, 0.2]), abs=1e-6)
    assert rocchio(query, feedback, beta=0.0) is query
    assert rocchio(query, feedback[:0], beta=0.5) is query


def test_a_scaled_document_moves_with_its_factor_and_keeps_its_shares():
    rankings = {"bm25": ["en", "ja"], "dense": ["en", "ja"], "multilingual": ["en"]}
    weights = {"bm25": 1.0, "dense": 1.0, "multilingual": 0.5}
    plain = {f.id: f for f in fuse(rankings, weights)}
    scaled = {f.id: f for f in fuse(rankings, weights, scale=lambda d: 1.25 if d == "ja" else 1.0)}
    assert scaled["ja"].relevance == pytest.approx(1.25 * plain["ja"].relevance)
    assert scaled["en"].relevance == plain["en"].relevance
    assert scaled["ja"].contributions["bm25"] / scaled["ja"].relevance == pytest.approx(0.5)
