"""Pure ranking functions: weighted reciprocal rank fusion, pseudo-relevance feedback, bounded
priors, signal shares.

Relevance dominates. A business prior (status, negotiation outcome, adoption) adds at most
`band` x the top relevance, so it may reorder candidates whose relevance is within that band of
each other, and can never lift a candidate over one whose relevance is higher by more than it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

RRF_K = 60  # the constant of Cormack et al.: damps the head so one channel cannot dominate
PRIOR_BAND = 0.05  # a prior moves a candidate by at most 5% of the top relevance
NEUTRAL_PRIOR = 0.5


@dataclass(slots=True)  # not frozen: a frozen dataclass is three times slower to create
class Fused:
    id: str
    relevance: float
    contributions: Mapping[str, float]  # channel -> its part of the relevance


def fuse(
    rankings: Mapping[str, Sequence[str]], weights: Mapping[str, float], k: int = RRF_K,
    scale: Callable[[str], float] | None = None,
) -> list[Fused]:
    """Weighted RRF: relevance(d) = sum over channels c of w_c / (k + rank_c(d)), ranks from 1,
    times `scale(d)` when given (a document some channels cannot read: see the engine)."""
    parts: dict[str, dict[str, float]] = {}
    for channel, ranking in rankings.items():
        weight = weights.get(channel, 0.0)
        if weight <= 0:
            continue
        for rank, doc_id in enumerate(ranking, start=1):
            parts.setdefault(doc_id, {})[channel] = weight / (k + rank)
    if scale is not None:
        for doc_id, part in parts.items():
            if (factor := scale(doc_id)) != 1.0:
                parts[doc_id] = {channel: value * factor for channel, value in part.items()}
    fused = [Fused(doc_id, sum(p.values()), p) for doc_id, p in parts.items()]
    fused.sort(key=lambda f: (-f.relevance, f.id))
    return fused


def rocchio(query: np.ndarray, feedback: np.ndarray, beta: float) -> np.ndarray:
    """Pseudo-relevance feedback for a dense query: move the (unit) query vector towards the
    mean of the top documents' vectors by `beta`, and renormalise. A request that describes a
    need without its usual words ("automatic monthly deliveries") meets the listings that do."""
    query = np.asarray(query, dtype=np.float32)
    if beta <= 0 or len(feedback) == 0:
        return query
    moved = query + beta * np.asarray(feedback, dtype=np.float32).mean(axis=0)
    return (moved / max(float(np.linalg.norm(moved)), 1e-12)).astype(np.float32)


def prior_value(priors: Mapping[str, float]) -> float:
    """Mean of the partner's priors, clipped to [0, 1]; no priors is neutral."""
    if not priors:
        return NEUTRAL_PRIOR
    return min(1.0, max(0.0, sum(priors.values()) / len(priors)))


def apply_priors(
    relevance: Mapping[str, float], priors: Mapping[str, float], band: float = PRIOR_BAND
) -> dict[str, float]:
    """Final score = relevance + band * top_relevance * prior, prior in [0, 1].

    Two candidates' bonuses differ by at most band * top, so when relevance(a) - relevance(b)
    exceeds that, a stays above b whatever the priors. Candidates with no relevance get nothing.
    """
    top = max(relevance.values(), default=0.0)
    def bonus(doc_id: str, rel: float) -> float:
        prior = min(1.0, max(0.0, priors.get(doc_id, NEUTRAL_PRIOR)))
        return band * top * prior if rel > 0 else 0.0

    return {doc_id: rel + bonus(doc_id, rel) for doc_id, rel in relevance.items()}


def shares(contributions: Mapping[str, float], prior_bonus: float = 0.0) -> dict[str, float]:
    """Each signal's share of the final score (channels and "priors"), summing to 1."""
    parts = {**contributions, **({"priors": prior_bonus} if prior_bonus > 0 else {})}
    total = sum(parts.values())
    if total <= 0:
        return {}
    return {name: round(value / total, 4) for name, value in parts.items()}
