"""Feedback on a recommendation: the one function behind the API route, the Slack buttons and the
demo data."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from catalog.tables import Feedback, Introduction, Partner, RecommendationRequest
from service.audit import audit
from service.auth.callers import Caller
from service.errors import BadRequest, Unprocessable
from service.introductions.lifecycle import DATE_OF, VERDICT_STATUS, check_dates, move
from service.introductions.service import introduction_changed
from service.records import get_or_404


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
    on: date | None = None,
    dates: Mapping[str, date] | None = None,
) -> Introduction:
    """Record a verdict on a partner the request returned, and create or move the Introduction of
    that partner for that request through its life cycle (a forbidden move: Conflict), dated `on`
    (else today). `dates` backdates it in the same call: `proposed_on`, `adopted_on` (with an
    adopted verdict), `live_on` (which takes an adopted introduction on to live), checked together
    (BadRequest when they do not follow each other).

    A retry (the same dedupe key, by default request + partner + verdict + caller) records nothing
    new and returns the same introduction. When the verdict moves the partner's adoption rate,
    the partner is re-indexed (with `adoption_signal` on), so the next ranking uses it.
    """
    if verdict not in VERDICT_STATUS:
        raise BadRequest(f"verdict must be one of {', '.join(VERDICT_STATUS)}")
    request = get_or_404(session, RecommendationRequest, request_id)
    get_or_404(session, Partner, partner_id)
    if partner_id not in {candidate["partner_id"] for candidate in request.candidates}:
        raise Unprocessable(f"partner {partner_id} is not a candidate of request {request_id}")
    key = dedupe_key or f"{request_id}:{partner_id}:{verdict}:{caller.id}"
    previous = session.scalar(select(Feedback).where(Feedback.dedupe_key == key))
    if previous is not None:
        return _introduction(session, request, partner_id, client, on)[0]
    dates = dates or {}
    introduction, created = _introduction(session, request, partner_id, client, on)
    before = None if created else introduction.status
    _backdate(introduction, VERDICT_STATUS[verdict], on, dates)
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


def _backdate(
    introduction: Introduction, status: str, on: date | None, dates: Mapping[str, date]
) -> None:
    if status == "rejected" and dates.keys() & {"adopted_on", "live_on"}:
        raise Unprocessable("a not_a_fit verdict takes no adoption or go-live date")
    if dates.get("proposed_on"):
        introduction.proposed_on = dates["proposed_on"]
    move(introduction, status, on=dates.get(DATE_OF[status]) or on)
    if dates.get("live_on"):
        move(introduction, "live", on=dates["live_on"])
    check_dates(introduction)


def _introduction(
    session: Session, request: RecommendationRequest, partner_id: str, client: str | None,
    on: date | None,
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
            proposed_on=on or date.today(),
        )
        session.add(introduction)
        session.flush()
        return introduction, True
    if client and not introduction.client:
        introduction.client = client
    return introduction, False
