import math

import pytest

from models.evaluation import (
    evaluate,
    format_table,
    judged_at,
    mrr_at,
    ndcg_at,
    qrels_from_rows,
    recall_at,
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
    assert "| full | ja | 0.480 |" in format_table({"full": report})
