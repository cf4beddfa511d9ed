"""The recommendation use case, shared by the HTTP API, the Slack bot and the evaluation."""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.tables import RecommendationRequest
from models.engine import Match
from models.explain import why
from service.auth.callers import Caller, readable
from service.index.matcher import Matcher
from service.recommendations.partner_views import PartnerView, load_views
from service.recommendations.schemas import (
    Candidate,
    Evidence,
    RecommendationCreate,
    RecommendationRead,
)

NOTES_SHOWN = 3


def recommend(
    session: Session,
    matcher: Matcher,
    caller: Caller,
    request: RecommendationCreate,
    channel: str = "api",
    request_id: str | None = None,
    writer: Session | None = None,
) -> RecommendationRead:
    """Rank partners for a request, attach what the caller may see, and record what was shown.

    `session` is read; the record is written through `writer` when given (the HTTP route reads
    in a read-only transaction and writes the record alone: on SQLite the write lock is then
    held for one insert, not for the reads and the building of the answer).
    """
    started = time.perf_counter()
    generation = matcher.generation  # before the views are read: they are never older
    result = matcher.search(request.query, request.top_k, request.filters.facets() or None)
    views = matcher.views.get(session, [m.id for m in result.candidates], generation, load_views)
    candidates = [
        _candidate(match, views[match.id], caller, result.language)
        for match in result.candidates
        if match.id in views
    ]
    record = RecommendationRequest(
        query=request.query,
        language=result.language,
        caller=caller.label,
        channel=channel,
        filters=request.filters.model_dump(exclude_defaults=True),
        client=request.client.model_dump(exclude_none=True),
        candidates=[{"partner_id": c.partner.id, "rank": c.rank, "score": c.score} for c in candidates],
        # the best score the caller was shown: coverage gaps are decided with it
        top_score=max((c.score for c in candidates), default=None),
    )
    if request_id:
        record.id = request_id
    if writer is not None:
        session.rollback()  # the read is over: its connection goes back before the write
    target = writer or session
    target.add(record)
    target.flush()
    took = round((time.perf_counter() - started) * 1000, 2)
    return RecommendationRead(
        request_id=record.id, language=result.language, took_ms=took, candidates=candidates
    )


def explanation(match: Match, caller: Caller, language: str) -> tuple[dict[str, str] | None, str]:
    """The evidence and one-line reason this caller may read.

    Viewers see no negotiation notes, so evidence quoted from a note is dropped and the reason
    is rebuilt without it.
    """
    if match.evidence and match.evidence["kind"] == "note" and not caller.sees_notes:
        return None, why(match.matched, None, language)  # type: ignore[arg-type]
    return match.evidence, match.why


PAUSED = {"ja": "（提携休止中）", "en": " (partnership paused)"}


def _candidate(match: Match, view: PartnerView, caller: Caller, language: str) -> Candidate:
    evidence, reason = explanation(match, caller, language)
    if view.summary.status == "paused":  # ranked by its fit, a step below active equals: say so
        reason += PAUSED.get(language, PAUSED["en"])
    return Candidate(
        rank=match.rank,
        score=round(match.score, 6),
        partner=view.summary,
        why=reason,
        matched=match.matched,
        evidence=Evidence(**evidence) if evidence else None,
        signals={k: round(v, 4) for k, v in match.signals.items()},
        notes=readable(view.notes, caller)[:NOTES_SHOWN],
        adoptions=view.adoptions,
    )


def recent_questions(session: Session, caller: Caller, limit: int = 8) -> list[str]:
    """The caller's latest distinct questions, newest first."""
    rows = session.scalars(
        select(RecommendationRequest.query)
        .where(RecommendationRequest.caller == caller.label)
        .order_by(RecommendationRequest.created_at.desc())
        .limit(limit * 4)
    )
    return list(dict.fromkeys(rows))[:limit]
