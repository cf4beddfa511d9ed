"""Offline replay of recorded feedback: does the adoption signal rank adopted partners higher?

Requests with feedback are ordered by time and split in two. Adoption rates are learnt from the
earlier part only (per partner: adopted / (adopted + not a fit), each request-partner pair counted
once with its last verdict). Every later request with an adopted partner is searched again and
ranked twice with the engine's own bounded priors (`models.ranking.apply_priors`): with the
partner's other priors only, and with the learnt adoption rate added. The adopted partners are
the relevant ones (grade 2); the metrics are nDCG@10 and MRR@10 (models/evaluation.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.repository import active_partners
from catalog.tables import Feedback, RecommendationRequest
from models.engine import MatchingEngine
from models.evaluation import mrr_at, ndcg_at
from models.ranking import apply_priors, prior_value
from service.index.documents import partner_document
from service.recommendations.schemas import Filters

DEPTH = 40  # candidates re-ranked: the engine applies priors to the top 4 x top_k (10)
CUTOFF = 10


@dataclass(frozen=True)
class Replayed:
    request_id: str
    query: str
    filters: dict[str, Any]
    asked_at: datetime
    verdicts: dict[str, str]  # partner id -> last verdict


def load_replayed(session: Session) -> list[Replayed]:
    rows = session.execute(
        select(Feedback.request_id, Feedback.partner_id, Feedback.verdict, RecommendationRequest)
        .join(RecommendationRequest, RecommendationRequest.id == Feedback.request_id)
        .order_by(Feedback.created_at, Feedback.id)
    ).all()
    verdicts: dict[str, dict[str, str]] = defaultdict(dict)
    requests: dict[str, RecommendationRequest] = {}
    for request_id, partner_id, verdict, request in rows:
        verdicts[request_id][partner_id] = verdict  # rows come oldest first: the last one stays
        requests[request_id] = request
    return sorted(
        (Replayed(rid, r.query, r.filters or {}, r.created_at, verdicts[rid])
         for rid, r in requests.items()),
        key=lambda r: (r.asked_at, r.request_id),
    )


def learnt_rates(requests: list[Replayed]) -> dict[str, float]:
    wins: dict[str, int] = defaultdict(int)
    decided: dict[str, int] = defaultdict(int)
    for request in requests:
        for partner_id, verdict in request.verdicts.items():
            if verdict in ("adopted", "not_a_fit"):
                decided[partner_id] += 1
                wins[partner_id] += verdict == "adopted"
    return {pid: wins[pid] / total for pid, total in decided.items()}


def replay(session: Session, engine: MatchingEngine, split: float = 0.5) -> dict[str, Any]:
    """nDCG@10 and MRR@10 of adopted partners on the later requests, without and with the signal."""
    requests = load_replayed(session)
    cut = int(len(requests) * split)
    train, test = requests[:cut], [r for r in requests[cut:] if "adopted" in r.verdicts.values()]
    rates = learnt_rates(train)
    base = {p.id: dict(partner_document(p).priors) for p in active_partners(session)}
    scores: dict[str, list[float]] = defaultdict(list)
    for request in test:
        grades = {pid: 2 for pid, v in request.verdicts.items() if v == "adopted"}
        relevance = _relevance(engine, request)
        for name, with_signal in (("without", False), ("with", True)):
            ranked = rerank(relevance, base, rates if with_signal else {}, engine.config.prior_band)
            scores[f"{name}.ndcg@10"].append(ndcg_at(ranked, grades, CUTOFF))
            scores[f"{name}.mrr@10"].append(mrr_at(ranked, grades, CUTOFF))
    mean = {key: round(sum(v) / len(v), 4) if v else None for key, v in scores.items()}
    return {
        "requests_with_feedback": len(requests), "learnt_from": len(train),
        "evaluated": len(test), "partners_with_a_rate": len(rates),
        "split_at": train[-1].asked_at.isoformat() if train else None,
        "without_adoption": {"ndcg@10": mean.get("without.ndcg@10"),
                             "mrr@10": mean.get("without.mrr@10")},
        "with_adoption": {"ndcg@10": mean.get("with.ndcg@10"), "mrr@10": mean.get("with.mrr@10")},
    }


def _relevance(engine: MatchingEngine, request: Replayed) -> dict[str, float]:
    facets = Filters.model_validate(request.filters).facets() if request.filters else {}
    result = engine.search(request.query, top_k=DEPTH, filters=facets or None, use_priors=False)
    return {match.id: match.relevance for match in result.candidates}


def rerank(
    relevance: Mapping[str, float], priors: Mapping[str, Mapping[str, float]],
    rates: Mapping[str, float], band: float,
) -> list[str]:
    """Order candidates as the engine would, with the given adoption rates as a prior."""
    values = {
        pid: prior_value({**priors.get(pid, {}), **({"adoption": rates[pid]} if pid in rates else {})})
        for pid in relevance
    }
    final = apply_priors(relevance, values, band)
    return sorted(final, key=lambda pid: (-final[pid], pid))[:CUTOFF]
