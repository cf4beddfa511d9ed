"""Introductions (a partner proposed to a client, through adoption, going live and churn) and joint
initiatives: partner managers' records of what partnerships brought."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from catalog.tables import Initiative, Introduction
from catalog.vocabulary import InitiativeKind, InitiativeStatus, IntroductionStatus
from service.http.deps import ManagerDep, PmDep, SessionDep, SettingsDep
from service.http.forms import DayInput
from service.http.schemas import Limit, Offset, date_query
from service.introductions import initiatives, service
from service.introductions.schemas import (
    InitiativeCreate,
    InitiativePage,
    InitiativeRead,
    InitiativeUpdate,
    IntroductionPage,
    IntroductionRead,
    IntroductionSummary,
    IntroductionUpdate,
)
from service.records import get_or_404

router = APIRouter()


def _introduction(introduction_id: str, session: SessionDep) -> Introduction:
    return get_or_404(session, Introduction, introduction_id)


def _initiative(initiative_id: str, session: SessionDep) -> Initiative:
    return get_or_404(session, Initiative, initiative_id)


IntroductionDep = Annotated[Introduction, Depends(_introduction)]
InitiativeDep = Annotated[Initiative, Depends(_initiative)]


def present(introduction: Introduction) -> IntroductionRead:
    return IntroductionRead.model_validate(
        {
            **{name: getattr(introduction, name) for name in IntroductionRead.model_fields
               if hasattr(Introduction, name)},
            "partner_name": introduction.partner.name,
            "revenue_share_owed": service.share_owed_to_date(introduction),
        }
    )


def present_summary(introduction: Introduction) -> IntroductionSummary:
    """What a PM sees: no revenue, no satisfaction, nothing owed."""
    return IntroductionSummary.model_validate(
        {**{name: getattr(introduction, name) for name in IntroductionSummary.model_fields
            if hasattr(Introduction, name)}, "partner_name": introduction.partner.name}
    )


@router.get("/v1/introductions", response_model=IntroductionPage, tags=["introductions"])
def list_introductions(
    session: SessionDep,
    caller: PmDep,
    partner_id: Annotated[str | None, Query(max_length=36)] = None,
    status: IntroductionStatus | None = None,
    client: Annotated[str | None, Query(max_length=200, description="Client contains")] = None,
    request_id: Annotated[str | None, Query(max_length=36)] = None,
    start: Annotated[DayInput | None, date_query("from", "Proposed on or after")] = None,
    end: Annotated[DayInput | None, date_query("to", "Proposed on or before")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> IntroductionPage:
    """Introductions, newest proposal first, filtered and paged; for partner managers and admins
    with revenue and the revenue share owed. A PM sees only the introductions they proposed (of
    their recommendations, or given their feedback), with status and dates and no money."""
    money = caller.sees_confidential  # money goes with the contract details
    filters = service.IntroductionFilters(partner_id, status, client, request_id, start, end,
                                          proposed_by=None if money else caller.label)
    rows, total = service.list_introductions(session, filters, limit, offset)
    if money:
        return IntroductionPage(items=[present(row) for row in rows], total=total)
    return IntroductionPage(items=[present_summary(row) for row in rows], total=total)


@router.get("/v1/introductions/{introduction_id}", response_model=IntroductionRead,
            tags=["introductions"])
def read_introduction(introduction: IntroductionDep, caller: ManagerDep) -> IntroductionRead:
    """One introduction, with the revenue share owed so far."""
    return present(introduction)


@router.patch("/v1/introductions/{introduction_id}", response_model=IntroductionRead,
              tags=["introductions"])
def update_introduction(
    body: IntroductionUpdate, introduction: IntroductionDep, session: SessionDep,
    settings: SettingsDep, caller: ManagerDep,
) -> IntroductionRead:
    """Move the status (proposed → adopted → live → churned, or rejected), record revenue in yen
    (one-off unless `revenue_period` is monthly), satisfaction 1-5 and dates."""
    service.update_introduction(session, caller, introduction, body.model_dump(exclude_unset=True),
                                settings.adoption_signal)
    return present(introduction)


# -- joint initiatives -----------------------------------------------------------------------


@router.get("/v1/initiatives", response_model=InitiativePage, tags=["initiatives"])
def list_initiatives(
    session: SessionDep,
    caller: ManagerDep,
    partner_id: Annotated[str | None, Query(max_length=36)] = None,
    kind: InitiativeKind | None = None,
    status: InitiativeStatus | None = None,
    start: Annotated[DayInput | None, date_query("from", "Ending on or after")] = None,
    end: Annotated[DayInput | None, date_query("to", "Starting on or before")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> InitiativePage:
    """Joint initiatives, latest start first; `from`/`to` keep those overlapping the dates."""
    filters = initiatives.InitiativeFilters(partner_id, kind, status, start, end)
    rows, total = initiatives.list_initiatives(session, filters, limit, offset)
    return InitiativePage(items=[InitiativeRead.model_validate(r) for r in rows], total=total)


@router.post("/v1/initiatives", response_model=InitiativeRead, status_code=201,
             tags=["initiatives"])
def create_initiative(
    body: InitiativeCreate, session: SessionDep, caller: ManagerDep
) -> Initiative:
    """Start tracking a joint initiative with a partner (owner, dates, status, outcome)."""
    return initiatives.create_initiative(session, caller, body.model_dump())


@router.get("/v1/initiatives/{initiative_id}", response_model=InitiativeRead,
            tags=["initiatives"])
def read_initiative(initiative: InitiativeDep, caller: ManagerDep) -> Initiative:
    """One joint initiative."""
    return initiative


@router.patch("/v1/initiatives/{initiative_id}", response_model=InitiativeRead,
              tags=["initiatives"])
def update_initiative(
    body: InitiativeUpdate, initiative: InitiativeDep, session: SessionDep, caller: ManagerDep
) -> Initiative:
    """Change the fields sent, e.g. the status and outcome when it ends."""
    return initiatives.update_initiative(session, caller, initiative,
                                         body.model_dump(exclude_unset=True))


@router.delete("/v1/initiatives/{initiative_id}", status_code=204, tags=["initiatives"])
def delete_initiative(initiative: InitiativeDep, session: SessionDep, caller: ManagerDep) -> Response:
    """Delete an initiative entered by mistake (the audit trail keeps what it was)."""
    initiatives.delete_initiative(session, caller, initiative)
    return Response(status_code=204)
