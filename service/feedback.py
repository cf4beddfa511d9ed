"""Feedback on a recommendation: the one function behind the API route and the Slack buttons."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from catalog.tables import Feedback, Introduction, Partner, RecommendationRequest
from service.audit import audit
from service.auth import Caller
from service.errors import BadRequest, NotFound
from service.introductions import introduction_changed

VERDICT_STATUS = {"proposed": "proposed", "adopted": "adopted", "not_a_fit": "rejected"}


def record_feedback(
    session: Session,
    caller: Caller,
    request_id: str,
    partner_id: str,
    verdict: str,
    client: str | None = None,
    comment: str | None = None,
    dedupe_key: str | None = None,
    adoption_signal: bool = True,
) -> Introduction:
    """Record a verdict and create or update the Introduction of that partner for that request.

    A retry (the same dedupe key, by default request + partner + verdict + caller) records nothing
    new and returns the same introduction. When the verdict moves the partner's adoption rate,
    the partner is re-indexed (with `adoption_signal` on), so the next ranking uses it.
    """
    if verdict not in VERDICT_STATUS:
        raise BadRequest(f"verdict must be one of {', '.join(VERDICT_STATUS)}")
    request = session.get(RecommendationRequest, request_id)
    if request is None:
        raise NotFound(f"no recommendation request {request_id}")
    if session.get(Partner, partner_id) is None:
        raise NotFound(f"no partner {partner_id}")
    key = dedupe_key or f"{request_id}:{partner_id}:{verdict}:{caller.id}"
    previous = session.scalar(select(Feedback).where(Feedback.dedupe_key == key))
    if previous is not None:
        return _introduction(session, request, partner_id, client)[0]
    introduction, created = _introduction(session, request, partner_id, client)
    before = None if created else introduction.status
    _advance(introduction, VERDICT_STATUS[verdict])
    feedback = Feedback(
        request_id=request_id, partner_id=partner_id, verdict=verdict, caller=caller.label,
        client=client, comment=comment, dedupe_key=key, introduction_id=introduction.id,
    )
    try:
        with session.begin_nested():
            session.add(feedback)
    except IntegrityError:  # a concurrent retry won the race: same outcome, nothing more to do
        return introduction
    introduction_changed(session, introduction.partner, before, introduction.status, adoption_signal)
    audit(session, caller.label, "feedback", "introduction", introduction.id,
          {"verdict": verdict, "request_id": request_id, "partner_id": partner_id})
    return introduction


def _introduction(
    session: Session, request: RecommendationRequest, partner_id: str, client: str | None
) -> tuple[Introduction, bool]:
    introduction = session.scalar(
        select(Introduction).where(
            Introduction.request_id == request.id, Introduction.partner_id == partner_id
        )
    )
    if introduction is None:
        introduction = Introduction(
            request_id=request.id, partner_id=partner_id, request_text=request.query,
            client=client or request.client.get("name"), status="proposed",
            proposed_on=date.today(),
        )
        session.add(introduction)
        session.flush()
        return introduction, True
    if client and not introduction.client:
        introduction.client = client
    return introduction, False


def _advance(introduction: Introduction, status: str) -> None:
    """Move to the verdict's status; a verdict never moves a live or churned introduction back."""
    if introduction.status in ("live", "churned"):
        return
    today = date.today()
    introduction.status = status
    if status == "adopted":
        introduction.adopted_on = introduction.adopted_on or today
    elif status == "rejected":
        introduction.rejected_on = introduction.rejected_on or today
    elif status == "proposed":
        introduction.proposed_on = introduction.proposed_on or today
