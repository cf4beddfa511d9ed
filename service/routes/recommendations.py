"""Recommendations: the PM's question, ranked candidates with why."""

from __future__ import annotations

from fastapi import APIRouter, Request

from catalog.db import reading, transaction
from service.deps import MatcherDep, ViewerDep
from service.recommend import recommend
from service.schemas import RecommendationCreate, RecommendationRead

router = APIRouter(prefix="/v1/recommendations", tags=["recommendations"])


@router.post("", response_model=RecommendationRead)
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
