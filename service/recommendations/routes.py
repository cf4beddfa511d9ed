"""Recommendations: the PM's question, ranked candidates with why; and the verdicts on them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from catalog.db import reading, transaction
from catalog.tables import Partner
from service.http.deps import MatcherDep, PmDep, SessionDep, SettingsDep, ViewerDep
from service.recommendations.feedback import record_feedback
from service.recommendations.schemas import (
    FeedbackCreate,
    FeedbackRead,
    RecommendationCreate,
    RecommendationRead,
    SimilarPartner,
)
from service.recommendations.service import recommend, similar_partners
from service.records import get_or_404

router = APIRouter()  # what the app includes: the two below
recommendation_routes = APIRouter(prefix="/v1/recommendations")
similar_routes = APIRouter(tags=["recommendations"])


@recommendation_routes.post("", response_model=RecommendationRead, tags=["recommendations"])
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


@recommendation_routes.post("/{request_id}/feedback", response_model=FeedbackRead, tags=["feedback"])
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


@similar_routes.get("/v1/partners/{partner_id}/similar", response_model=list[SimilarPartner])
def similar(
    partner_id: str, session: SessionDep, matcher: MatcherDep, caller: ViewerDep,
    top_k: Annotated[int, Query(ge=1, le=20)] = 5,
) -> list[SimilarPartner]:
    """The partners most like this one: its own listing ranks the catalog, itself left out.
    Any role; no notes or terms. None for an archived partner."""
    partner = get_or_404(session, Partner, partner_id)
    return similar_partners(session, matcher, partner.id, top_k)


router.include_router(recommendation_routes)
router.include_router(similar_routes)
