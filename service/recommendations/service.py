"""The recommendation use case, shared by the HTTP API, the Slack bot and the evaluation."""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.tables import RecommendationRequest
from models.engine import Match, SearchResult
from models.explain import why
from service.auth.callers import Caller, readable
from service.index.matcher import Matcher
from service.recommendations.partner_views import PartnerView, load_views
from service.recommendations.schemas import (
    Candidate,
    Evidence,
    Filters,
    RecommendationCreate,
    RecommendationRead,
    SimilarPartner,
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
    result, candidates = _ranked(session, matcher, caller, request.query, request.top_k,
                                 request.filters)
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
        request_id=record.id, language=result.language, took_ms=took, candidates=candidates,
        channels=list(result.channels), complete=result.complete,
    )


def recommendation_again(
    session: Session, matcher: Matcher, caller: Caller, request_id: str, query: str,
    filters: Filters, top_k: int,
) -> RecommendationRead | None:
    """A recommendation this caller was given, shown again under its own id and recording
    nothing (verdicts on it refer to it still): the engine's results cache answers it, unless the
    index changed since, and only partners it showed are shown. None when the caller was given
    none with this id, query and filters."""
    started = time.perf_counter()
    record = session.get(RecommendationRequest, request_id)
    if (record is None or record.caller != caller.label or record.query != query
            or record.filters != filters.model_dump(exclude_defaults=True)):
        return None
    result, candidates = _ranked(session, matcher, caller, query, top_k, filters)
    shown = {c["partner_id"] for c in record.candidates}
    return RecommendationRead(
        request_id=record.id, language=result.language,
        took_ms=round((time.perf_counter() - started) * 1000, 2),
        candidates=[c for c in candidates if c.partner.id in shown],
        channels=list(result.channels), complete=result.complete,
    )


def _ranked(
    session: Session, matcher: Matcher, caller: Caller, query: str, top_k: int, filters: Filters
) -> tuple[SearchResult, list[Candidate]]:
    generation = matcher.generation  # before the views are read: they are never older
    result = matcher.search(query, top_k, filters.facets() or None)
    views = matcher.views.get(session, [m.id for m in result.candidates], generation, load_views)
    return result, [
        _candidate(match, views[match.id], caller, result.language)
        for match in result.candidates
        if match.id in views
    ]


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


def similar_partners(
    session: Session, matcher: Matcher, partner_id: str, top_k: int = 5
) -> list[SimilarPartner]:
    """The partners most like one, itself left out (its own listing is the query), as any role
    may see them; none for a partner the index does not hold (an archived one)."""
    generation = matcher.generation  # before the views are read: they are never older
    found = matcher.similar(partner_id, top_k)
    views = matcher.views.get(session, [doc_id for doc_id, _ in found], generation, load_views)
    shown = [(doc_id, score) for doc_id, score in found if doc_id in views]
    return [SimilarPartner(rank=rank, score=round(score, 6), partner=views[doc_id].summary)
            for rank, (doc_id, score) in enumerate(shown, start=1)]


def recent_questions(session: Session, caller: Caller, limit: int = 8) -> list[str]:
    """The caller's latest distinct questions, newest first."""
    rows = session.scalars(
        select(RecommendationRequest.query)
        .where(RecommendationRequest.caller == caller.label)
        .order_by(RecommendationRequest.created_at.desc())
        .limit(limit * 4)
    )
    return list(dict.fromkeys(rows))[:limit]
