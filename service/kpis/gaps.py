"""Coverage gaps: what clients asked for that no partner covers well — the recruiting list.

A request is a gap when
- `low_score`: the best score the PM was shown (`top_score`, recorded with the request: the
  engine's fused reciprocal-rank relevance with its bounded priors, as on the candidates) is
  under the threshold, or nothing was shown at all; or
- `not_a_fit`: it has feedback and every verdict on it is "not a fit": the manager found no
  candidate worth proposing. (A proposal the client later turned down is not a gap.)

Gaps are grouped by what they ask for, simply: requests that name the same glossary concepts
(in either language, so 「定期購入」 and "subscriptions" meet) form one group; requests that name
no concept join the first group whose words overlap theirs by half or more (Jaccard of the
engine's tokens), else start their own. The database picks the gaps; the newest 2,000 of the
period are grouped. The period is by default that of the KPIs: the twelve calendar months up to
today.

A vague request (「売上を伸ばしたい」, "grow sales") is no recruiting need: it names no glossary
concept and every word of it is a business goal or an asking word (`VAGUE_WORDS`: sales, grow,
revenue, more, customers, help, app...). Such gaps are listed apart (`vague`), grouped the same way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from catalog.tables import Feedback, RecommendationRequest
from models.glossary import Entry, Glossary
from models.text import detect_language, tokenize

# Business goals and asking words, in Japanese and English: a request made of these alone says
# what the client wants to achieve, not what kind of partner would do it.
VAGUE_WORDS = (
    "売上 売り上げ 売れる 伸ばす 伸びる 増やす 増える 上げる 上がる アップ 向上 改善 成長 拡大 強化 "
    "利益 収益 業績 集客 顧客 お客 客 もっと 何 何か 良い いい ある 欲しい 方法 アプリ ツール 提案 "
    "相談 お願い 助ける 手伝う ビジネス 事業 "
    "sales sale sell grow growth revenue revenues increase boost improve improvement more better "
    "business profit profits customers customer traffic help us our we want need needs app apps "
    "tool tools something anything any ideas idea way ways get make"
)
WORD_OVERLAP = 0.5
EXAMPLES = 5
EXAMINED = 2_000  # gaps grouped at most, the newest of the period


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
    vague: bool = False
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
    concepts: dict[str, list[Entry]] = {}  # a query asked again is looked up once
    for request in sorted(asked, key=lambda a: (a.created_at, a.id)):
        reason = gap_reason(request, threshold)
        if reason is None:
            continue
        if request.query not in concepts:
            concepts[request.query] = glossary.find(request.query)
        group = _group_for(request.query, concepts[request.query], groups,
                           is_vague(request.query, concepts[request.query]))
        group.requests.append(request)
        group.reasons[reason] += 1
    return sorted(groups.values(), key=lambda g: (-len(g.requests), g.label))


def is_vague(query: str, entries: list[Entry]) -> bool:
    """The request names no glossary concept and only business goals and asking words."""
    return not entries and set(tokenize(query)) <= _vague_tokens()


@lru_cache(maxsize=1)
def _vague_tokens() -> frozenset[str]:
    return frozenset(token for word in VAGUE_WORDS.split() for token in tokenize(word))


def _group_for(query: str, entries: list[Entry], groups: dict[str, Group], vague: bool) -> Group:
    language = detect_language(query)
    if entries:
        key = "concepts:" + "+".join(sorted(entry.id for entry in entries))
        label = " / ".join(entry.label(language) for entry in entries)
        return groups.setdefault(key, Group(key, label, [entry.id for entry in entries]))
    tokens = set(tokenize(query))
    for group in groups.values():
        if (not group.concepts and group.vague == vague
                and _jaccard(tokens, group.tokens) >= WORD_OVERLAP):
            return group
    key = f"{'vague' if vague else 'words'}:{len(groups)}:{' '.join(sorted(tokens))[:80]}"
    groups[key] = Group(key, query[:80], [], vague=vague, tokens=tokens)
    return groups[key]


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def load_gaps(
    session: Session, threshold: float, start: date | None = None, end: date | None = None,
    limit: int = EXAMINED,
) -> list[Asked]:
    """The requests of the period that are gaps (see `gap_reason`), the newest `limit` of them,
    chosen by the database: however many requests are stored, few rows come back."""
    request = RecommendationRequest
    only_not_a_fit = (
        select(Feedback.request_id).group_by(Feedback.request_id)
        .having(func.sum(case((Feedback.verdict != "not_a_fit", 1), else_=0)) == 0)
    )
    query = select(request.id, request.query, request.created_at, request.top_score).where(
        or_(request.top_score.is_(None), request.top_score < threshold,
            request.id.in_(only_not_a_fit)))
    if start is not None:
        query = query.where(request.created_at >= datetime.combine(start, time(), UTC))
    if end is not None:
        query = query.where(request.created_at < datetime.combine(end + timedelta(days=1), time(), UTC))
    rows = session.execute(query.order_by(request.created_at.desc()).limit(limit)).all()
    verdicts: dict[str, list[str]] = {}
    for request_id, verdict in session.execute(
        select(Feedback.request_id, Feedback.verdict)
        .where(Feedback.request_id.in_([row.id for row in rows]))
    ) if rows else ():
        verdicts.setdefault(request_id, []).append(verdict)
    return [Asked(row.id, row.query, row.created_at, row.top_score, tuple(verdicts.get(row.id, ())))
            for row in rows]


def summary(group: Group, examples: int = EXAMPLES) -> dict[str, object]:
    """A group as the API and the report show it."""
    requests: Sequence[Asked] = group.requests
    queries = list(dict.fromkeys(r.query for r in reversed(requests)))
    return {
        "key": group.key,
        "label": group.label,
        "vague": group.vague,
        "concepts": group.concepts,
        "requests": len(requests),
        "reasons": dict(group.reasons),
        "best_score": round(group.best_score, 6) if group.best_score is not None else None,
        "first_asked": requests[0].created_at,
        "last_asked": requests[-1].created_at,
        "queries": queries[:examples],
        "request_ids": [r.id for r in requests][-20:],
    }
