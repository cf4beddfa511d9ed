"""Feedback on a recommendation: the verdict on one partner, and the introduction it makes."""

from __future__ import annotations

from fastapi import APIRouter

from service.deps import PmDep, SessionDep, SettingsDep
from service.feedback import record_feedback
from service.schemas_kpi import FeedbackCreate, FeedbackRead

router = APIRouter(prefix="/v1/recommendations", tags=["feedback"])


@router.post("/{request_id}/feedback", response_model=FeedbackRead)
def create_feedback(
    request_id: str, body: FeedbackCreate, session: SessionDep, settings: SettingsDep,
    caller: PmDep,
) -> FeedbackRead:
    """Record a verdict (proposed, adopted, not_a_fit) on a partner of a recommendation.

    Creates or updates the introduction of that partner for that request; a retry changes
    nothing and answers the same `introduction_id`. The Slack buttons call the same function.
    """
    introduction = record_feedback(
        session, caller, request_id, body.partner_id, body.verdict, body.client, body.comment,
        adoption_signal=settings.adoption_signal,
    )
    return FeedbackRead(
        introduction_id=introduction.id, request_id=request_id, partner_id=body.partner_id,
        verdict=body.verdict, status=introduction.status,  # type: ignore[arg-type]
    )
