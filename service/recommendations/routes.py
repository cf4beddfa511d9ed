"""Recommendations: the PM's question, ranked candidates with why; and the verdicts on them."""

from __future__ import annotations

from fastapi import APIRouter, Request

from catalog.db import reading, transaction
from service.http.deps import MatcherDep, PmDep, SessionDep, SettingsDep, ViewerDep
from service.recommendations.feedback import record_feedback
from service.recommendations.schemas import (
    FeedbackCreate,
    FeedbackRead,
    RecommendationCreate,
    RecommendationRead,
)
from service.recommendations.service import recommend

router = APIRouter(prefix="/v1/recommendations")


@router.post("", response_model=RecommendationRead, tags=["recommendations"])
def create_recommendation(
    body: RecommendationCreate, request: Request, matcher: MatcherDep, caller: ViewerDep
) -> RecommendationRead:
    """Rank partners for a requested feature (Japanese or English), with why and past notes.

    Viewers get no notes; PMs get non-confidential notes; partner managers all notes.
    The request is recorded under `request_id` for feedback and KPIs.
    """
    sessions = request.app.state.sessions
    # The reads (partners not in the views yet) take no write lock; the record is committed
    # as soon as it is written, so SQLite's write lock is held for one insert.
    with reading(sessions) as reader, transaction(sessions) as writer:
        return recommend(reader, matcher, caller, body, request_id=request.state.request_id,
                         writer=writer)


@router.post("/{request_id}/feedback", response_model=FeedbackRead, tags=["feedback"])
def create_feedback(
    request_id: str, body: FeedbackCreate, session: SessionDep, settings: SettingsDep,
    caller: PmDep,
) -> FeedbackRead:
    """Record a verdict (proposed, adopted, not_a_fit) on a partner of a recommendation.

    Creates or updates the introduction of that partner for that request; a retry changes
    nothing and answers the same `introduction_id`. The Slack buttons call the same function.
    Past dates go in the same call: `proposed_on`, `adopted_on` and `live_on` (an adopted
    verdict with `live_on` records the go-live too), checked together.
    """
    introduction = record_feedback(
        session, caller, request_id, body.partner_id, body.verdict, body.client, body.comment,
        adoption_signal=settings.adoption_signal,
        dates=body.model_dump(include={"proposed_on", "adopted_on", "live_on"}, exclude_none=True),
    )
    return FeedbackRead(
        introduction_id=introduction.id, request_id=request_id, partner_id=body.partner_id,
        verdict=body.verdict, status=introduction.status,  # type: ignore[arg-type]
    )
