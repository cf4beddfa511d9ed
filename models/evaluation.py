"""Matching-quality metrics, as defined in shared/docs/EVALUATION.md. Pure: ids in, numbers out.

Choices written down:
- nDCG@10 uses gain = grade (2 or 1, unjudged = 0) and discount 1/log2(rank + 1); the ideal DCG
  ranks all judged apps of the intent by grade, so an intent's nDCG is 1 only if its best apps
  lead. An intent with no app of grade >= 1 is skipped (nothing to find).
- Recall@50: relevant = grade >= 1; found in the top 50 / all relevant of the intent.
- MRR@10: 1 / rank of the first grade-2 app in the top 10, 0 if none there.
- judged@10: share of the returned top 10 (at most 10) that carries any judgment, grade 0
  included; an empty result counts as fully judged (nothing unjudged was shown).
- JA/EN ratio: mean Japanese nDCG@10 / mean English nDCG@10 over the same intents.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

Qrels = Mapping[str, Mapping[str, int]]  # intent id -> app id -> grade
LANGUAGES = ("en", "ja")
METRICS = ("ndcg@10", "recall@50", "mrr@10", "judged@10")


def dcg(gains: Sequence[float]) -> float:
    return sum(gain / math.log2(rank + 1) for rank, gain in enumerate(gains, start=1))


def ndcg_at(ranked: Sequence[str], grades: Mapping[str, int], k: int = 10) -> float:
    ideal = dcg(sorted((g for g in grades.values() if g > 0), reverse=True)[:k])
    if ideal <= 0:
        return 0.0
    return dcg([grades.get(doc_id, 0) for doc_id in ranked[:k]]) / ideal


def recall_at(ranked: Sequence[str], grades: Mapping[str, int], k: int = 50) -> float:
    relevant = {doc_id for doc_id, grade in grades.items() if grade >= 1}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def mrr_at(ranked: Sequence[str], grades: Mapping[str, int], k: int = 10) -> float:
    for rank, doc_id in enumerate(ranked[:k], start=1):
        if grades.get(doc_id, 0) >= 2:
            return 1.0 / rank
    return 0.0


def judged_at(ranked: Sequence[str], grades: Mapping[str, int], k: int = 10) -> float:
    top = ranked[:k]
    return sum(doc_id in grades for doc_id in top) / len(top) if top else 1.0


def metrics(ranked: Sequence[str], grades: Mapping[str, int]) -> dict[str, float]:
    return {
        "ndcg@10": ndcg_at(ranked, grades), "recall@50": recall_at(ranked, grades),
        "mrr@10": mrr_at(ranked, grades), "judged@10": judged_at(ranked, grades),
    }


def qrels_from_rows(rows: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    for row in rows:
        qrels.setdefault(str(row["intent"]), {})[str(row["app_id"])] = int(row["grade"])
    return qrels


def evaluate(
    search: Callable[[str], list[str]], intents: Sequence[Mapping[str, str]], qrels: Qrels
) -> dict[str, Any]:
    """Per language: the mean of each metric over the intents, plus per-intent rows, the JA/EN
    ratio and the unjudged apps seen in top 10s (to list when judged@10 < 0.9)."""
    report: dict[str, Any] = {"per_intent": {}, "unjudged": {}}
    for language in LANGUAGES:
        rows = {}
        for intent in intents:
            grades = qrels.get(intent["id"], {})
            if not any(g >= 1 for g in grades.values()):
                continue
            ranked = search(intent[language])
            rows[intent["id"]] = metrics(ranked, grades)
            unjudged = [doc_id for doc_id in ranked[:10] if doc_id not in grades]
            if unjudged:
                report["unjudged"][f"{intent['id']}/{language}"] = unjudged
        report["per_intent"][language] = rows
        report[language] = _means(rows.values())
    en = report["en"]["ndcg@10"]
    report["ja/en"] = report["ja"]["ndcg@10"] / en if en > 0 else 0.0
    return report


def _means(rows: Iterable[Mapping[str, float]]) -> dict[str, float]:
    rows = list(rows)
    return {m: (sum(r[m] for r in rows) / len(rows) if rows else 0.0) for m in METRICS}


def format_table(reports: Mapping[str, Mapping[str, Any]]) -> str:
    """A Markdown table, one row per system and language, side by side."""
    lines = [
        "| system | lang | nDCG@10 | Recall@50 | MRR@10 | judged@10 | JA/EN |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for system, report in reports.items():
        for language in LANGUAGES:
            values = " | ".join(f"{report[language][m]:.3f}" for m in METRICS)
            ratio = f"{report['ja/en']:.2f}" if language == "ja" else ""
            lines.append(f"| {system} | {language} | {values} | {ratio} |")
    return "\n".join(lines)
