"""Coverage gaps: what clients asked for that no partner covers well — the recruiting list.

A request is a gap when
- `low_score`: its best candidate's relevance (`top_score`, the engine's fused reciprocal-rank
  score) is under the threshold, or nothing was found at all; or
- `not_a_fit`: it has feedback and every verdict on it is "not a fit": the manager found no
  candidate worth proposing. (A proposal the client later turned down is not a gap.)

Gaps are grouped by what they ask for, simply: requests that name the same glossary concepts
(in either language, so 「定期購入」 and "subscriptions" meet) form one group; requests that name
no concept join the first group whose words overlap theirs by half or more (Jaccard of the
engine's tokens), else start their own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.tables import Feedback, RecommendationRequest
from models.glossary import Glossary
from models.text import detect_language, tokenize

WORD_OVERLAP = 0.5
EXAMPLES = 5


@dataclass(frozen=True)
class Asked:
    id: str
    query: str
    created_at: datetime
    top_score: float | None
    verdicts: tuple[str, ...] = ()  # every feedback verdict recorded on the request


@dataclass
class Group:
    key: str
    label: str
    concepts: list[str]
    requests: list[Asked] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)
    tokens: set[str] = field(default_factory=set)

    @property
    def best_score(self) -> float | None:
        scores = [r.top_score for r in self.requests if r.top_score is not None]
        return max(scores) if scores else None


def gap_reason(asked: Asked, threshold: float) -> str | None:
    if asked.top_score is None or asked.top_score < threshold:
        return "low_score"
    if asked.verdicts and all(verdict == "not_a_fit" for verdict in asked.verdicts):
        return "not_a_fit"
    return None


def group_gaps(asked: Iterable[Asked], threshold: float, glossary: Glossary) -> list[Group]:
    """The gaps among the requests, grouped; the most asked-for first."""
    groups: dict[str, Group] = {}
    for request in sorted(asked, key=lambda a: (a.created_at, a.id)):
        reason = gap_reason(request, threshold)
        if reason is None:
            continue
        group = _group_for(request.query, groups, glossary)
        group.requests.append(request)
        group.reasons[reason] += 1
    return sorted(groups.values(), key=lambda g: (-len(g.requests), g.label))


def _group_for(query: str, groups: dict[str, Group], glossary: Glossary) -> Group:
    language = detect_language(query)
    entries = glossary.find(query)
    if entries:
        key = "concepts:" + "+".join(sorted(entry.id for entry in entries))
        label = " / ".join(entry.label(language) for entry in entries)
        return groups.setdefault(key, Group(key, label, [entry.id for entry in entries]))
    tokens = set(tokenize(query))
    for group in groups.values():
        if not group.concepts and _jaccard(tokens, group.tokens) >= WORD_OVERLAP:
            return group
    key = f"words:{len(groups)}:{' '.join(sorted(tokens))[:80]}"
    groups[key] = Group(key, query[:80], [], tokens=tokens)
    return groups[key]


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def load_asked(
    session: Session, start: date | None = None, end: date | None = None
) -> list[Asked]:
    query = select(RecommendationRequest)
    if start is not None:
        query = query.where(RecommendationRequest.created_at >= datetime.combine(start, time(), UTC))
    if end is not None:
        after = datetime.combine(end + timedelta(days=1), time(), UTC)
        query = query.where(RecommendationRequest.created_at < after)
    requests = list(session.scalars(query))
    verdicts: dict[str, list[str]] = {}
    if requests:
        rows = session.execute(
            select(Feedback.request_id, Feedback.verdict)
            .where(Feedback.request_id.in_([r.id for r in requests]))
        ).all()
        for request_id, verdict in rows:
            verdicts.setdefault(request_id, []).append(verdict)
    return [
        Asked(r.id, r.query, r.created_at, r.top_score, tuple(verdicts.get(r.id, ())))
        for r in requests
    ]


def summary(group: Group, examples: int = EXAMPLES) -> dict[str, object]:
    """A group as the API and the report show it."""
    requests: Sequence[Asked] = group.requests
    queries = list(dict.fromkeys(r.query for r in reversed(requests)))
    return {
        "key": group.key,
        "label": group.label,
        "concepts": group.concepts,
        "requests": len(requests),
        "reasons": dict(group.reasons),
        "best_score": round(group.best_score, 6) if group.best_score is not None else None,
        "first_asked": requests[0].created_at,
        "last_asked": requests[-1].created_at,
        "queries": queries[:examples],
        "request_ids": [r.id for r in requests][-20:],
    }
