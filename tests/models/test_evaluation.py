import math

import pytest

from models.evaluation import (
    Row,
    evaluate,
    format_table,
    judged_at,
    kept,
    mrr_at,
    ndcg_at,
    parity,
    qrels_from_rows,
    recall_at,
    rows_of,
)

GRADES = {"a": 2, "b": 1, "c": 0, "d": 2}  # judged apps of one intent; unjudged count as 0


def test_ndcg_by_hand():
    # ranked: x(unjudged, 0), a(2), c(0), b(1)
    # DCG  = 0/log2(2) + 2/log2(3) + 0/log2(4) + 1/log2(5) = 1.26186 + 0.43068 = 1.69254
    # IDCG = 2/log2(2) + 2/log2(3) + 1/log2(4)             = 2 + 1.26186 + 0.5 = 3.76186
    expected = (2 / math.log2(3) + 1 / math.log2(5)) / (2 + 2 / math.log2(3) + 1 / 2)
    assert ndcg_at(["x", "a", "c", "b"], GRADES) == pytest.approx(expected)
    assert ndcg_at(["x", "a", "c", "b"], GRADES) == pytest.approx(0.44992, abs=1e-5)
    assert ndcg_at(["a", "d", "b"], GRADES) == pytest.approx(1.0)
    assert ndcg_at(["a"], {"a": 0}) == 0.0


def test_ndcg_counts_only_the_top_ten():
    ranked = [f"x{i}" for i in range(10)] + ["a"]
    assert ndcg_at(ranked, GRADES) == 0.0


def test_recall_mrr_and_judged_by_hand():
    ranked = ["x", "c", "b", "a"]
    assert recall_at(ranked, GRADES) == pytest.approx(2 / 3)  # a and b of {a, b, d}
    assert mrr_at(ranked, GRADES) == pytest.approx(1 / 4)  # first grade-2 (a) at rank 4
    assert mrr_at(["b", "c"], GRADES) == 0.0  # grade 1 does not count
    assert judged_at(ranked, GRADES) == pytest.approx(3 / 4)  # c (grade 0) is judged, x is not


def test_evaluate_per_language_and_ratio():
    intents = [{"id": "I1", "en": "gift cards", "ja": "ギフトカード"}]
    qrels = qrels_from_rows([
        {"intent": "I1", "app_id": "a", "grade": 2}, {"intent": "I1", "app_id": "b", "grade": 1},
    ])
    answers = {"gift cards": ["a", "b"], "ギフトカード": ["z", "a"]}
    report = evaluate(lambda q: answers[q], intents, qrels)
    assert report["en"]["ndcg@10"] == pytest.approx(1.0)
    # JA: DCG = 2/log2(3) = 1.26186; IDCG = 2 + 1/log2(3) = 2.63093 → 0.47962
    assert report["ja"]["ndcg@10"] == pytest.approx(0.47962, abs=1e-5)
    assert report["ja/en"] == pytest.approx(0.47962, abs=1e-5)
    assert report["ja"]["mrr@10"] == 0.5
    assert report["unjudged"] == {"I1/ja": ["z"]}
    assert report["ranked"]["ja"] == {"I1": ["z", "a"]}
    assert "| full | ja | 0.480 |" in format_table(rows_of("full", report))


def test_evaluate_other_wordings_skips_intents_without_one():
    intents = [{"id": "I1", "ja_typo": "ぎふとかーど"}, {"id": "I2", "ja_typo": ""}]
    qrels = {"I1": {"a": 2}, "I2": {"b": 2}}
    report = evaluate(lambda q: ["a"], intents, qrels, wordings=("ja_typo",))
    assert list(report["per_intent"]["ja_typo"]) == ["I1"]
    assert report["ja_typo"]["ndcg@10"] == 1.0
    assert "ja/en" not in report


def test_kept_is_the_ndcg_ratio():
    assert kept({"ndcg@10": 0.6}, {"ndcg@10": 0.8}) == pytest.approx(0.75)
    assert kept({"ndcg@10": 0.6}, {"ndcg@10": 0.0}) == 0.0


def test_parity_by_hand():
    qrels = {"I1": {"a": 2, "b": 1, "c": 2}, "I2": {"d": 2}, "I3": {"e": 2}, "I4": {"f": 1}}
    rewritten = {"a", "b", "d", "e"}  # c and f kept their text
    original = {"I1": ["a", "b", "c"], "I2": ["d"], "I3": ["x"], "I4": ["f"]}
    variant = {"I1": ["a", "c"], "I2": ["d"], "I3": ["e"], "I4": []}
    # I1: rewritten relevant {a, b}: 1/2 found in the variant over 2/2 in the original = 0.5;
    # I2: 1/1 over 1/1 = 1; I3: the original found none of them, no ratio; I4: none rewritten.
    assert parity(original, variant, qrels, rewritten) == pytest.approx(0.75)
    assert parity(original, variant, qrels, set()) is None


def test_parity_may_exceed_one():
    qrels = {"I1": {"a": 2, "b": 2}}
    assert parity({"I1": ["a"]}, {"I1": ["a", "b"]}, qrels, {"a", "b"}) == pytest.approx(2.0)


def test_table_shows_ratios_where_given():
    figures = {"ndcg@10": 0.5, "recall@50": 0.6, "mrr@10": 0.7, "judged@10": 0.8}
    table = format_table([Row("full, variant", "en", figures, kept=0.9, parity=0.95),
                          Row("full", "ja_typo", figures, kept=0.73)])
    assert "| full, variant | en | 0.500 | 0.600 | 0.700 | 0.800 |  | 0.90 | 0.95 |" in table
    assert "| full | ja_typo | 0.500 | 0.600 | 0.700 | 0.800 |  | 0.73 |  |" in table
