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
- Parity (a catalog with some listings rewritten, e.g. in Japanese): per intent, the recall@50 of
  its rewritten relevant listings in the variant catalog over their recall@50 in the original,
  averaged over the intents that have such listings. An intent whose original run finds none of
  them has no ratio and is left out (a language cannot lose what was never found).
- Kept: a run's nDCG@10 over a reference run's on the same intents (the variant catalog against
  the original, a PM's wording against the clean one).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
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
    search: Callable[[str], list[str]], intents: Sequence[Mapping[str, str]], qrels: Qrels,
    wordings: Sequence[str] = LANGUAGES,
) -> dict[str, Any]:
    """Per wording of the intents (the languages, or a PM's styles): the mean of each metric
    over the intents, plus per-intent rows and rankings, the JA/EN ratio when both languages
    ran, and the unjudged apps seen in top 10s (to list when judged@10 < 0.9)."""
    report: dict[str, Any] = {"per_intent": {}, "ranked": {}, "unjudged": {}}
    for wording in wordings:
        rows, rankings = {}, {}
        for intent in intents:
            grades = qrels.get(intent["id"], {})
            if not any(g >= 1 for g in grades.values()) or not intent.get(wording):
                continue
            ranked = rankings[intent["id"]] = search(intent[wording])
            rows[intent["id"]] = metrics(ranked, grades)
            unjudged = [doc_id for doc_id in ranked[:10] if doc_id not in grades]
            if unjudged:
                report["unjudged"][f"{intent['id']}/{wording}"] = unjudged
        report["per_intent"][wording], report["ranked"][wording] = rows, rankings
        report[wording] = _means(rows.values())
    if "en" in report and "ja" in report:
        report["ja/en"] = kept(report["ja"], report["en"])
    return report


def kept(run: Mapping[str, float], reference: Mapping[str, float]) -> float:
    """nDCG@10 of a run over a reference run's (0 when the reference found nothing)."""
    return run["ndcg@10"] / reference["ndcg@10"] if reference["ndcg@10"] > 0 else 0.0


def parity(
    original: Mapping[str, Sequence[str]], variant: Mapping[str, Sequence[str]], qrels: Qrels,
    rewritten: Collection[str], k: int = 50,
) -> float | None:
    """Mean over intents of the rewritten relevant listings' recall@k in the variant's rankings
    over theirs in the original's (intent id -> ranked ids); None when no intent has any."""
    ratios = []
    for intent_id, ranked in original.items():
        grades = qrels.get(intent_id, {})
        moved = {doc_id: g for doc_id, g in grades.items() if g >= 1 and doc_id in rewritten}
        before = recall_at(ranked, moved, k)
        if moved and before > 0 and intent_id in variant:
            ratios.append(recall_at(variant[intent_id], moved, k) / before)
    return sum(ratios) / len(ratios) if ratios else None


def _means(rows: Iterable[Mapping[str, float]]) -> dict[str, float]:
    rows = list(rows)
    return {m: (sum(r[m] for r in rows) / len(rows) if rows else 0.0) for m in METRICS}


@dataclass(frozen=True)
class Row:
    """One line of the table: a system on a catalog, asked in one wording."""

    system: str
    wording: str
    figures: Mapping[str, float]
    ja_en: float | None = None
    kept: float | None = None  # nDCG@10 over the reference run's (original catalog, clean wording)
    parity: float | None = None


def rows_of(system: str, report: Mapping[str, Any]) -> list[Row]:
    """A run's rows in the two languages, with the JA/EN ratio on the Japanese one."""
    return [Row(system, language, report[language],
                ja_en=report["ja/en"] if language == "ja" else None)
            for language in LANGUAGES]


def format_table(rows: Iterable[Row]) -> str:
    """A Markdown table, one line per system and wording, side by side."""
    lines = [
        "| system | lang | nDCG@10 | Recall@50 | MRR@10 | judged@10 | JA/EN | kept | parity |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        values = " | ".join(f"{row.figures[m]:.3f}" for m in METRICS)
        ratios = " | ".join("" if r is None else f"{r:.2f}" for r in (row.ja_en, row.kept, row.parity))
        lines.append(f"| {row.system} | {row.wording} | {values} | {ratios} |")
    return "\n".join(lines)
