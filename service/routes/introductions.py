"""Introductions: a partner proposed to a client, through adoption, going live and churn."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from catalog.tables import Introduction
from service.audit import audit
from service.deps import ManagerDep, SessionDep, SettingsDep
from service.errors import NotFound
from service.introductions import (
    introduction_changed,
    list_introductions,
    share_owed_to_date,
    update_introduction,
)
from service.schemas_kpi import (
    IntroductionPage,
    IntroductionRead,
    IntroductionStatus,
    IntroductionUpdate,
    date_query,
)

router = APIRouter(prefix="/v1/introductions", tags=["introductions"])


def get_introduction(introduction_id: str, session: SessionDep) -> Introduction:
    introduction = session.get(Introduction, introduction_id)
    if introduction is None:
        raise NotFound(f"no introduction {introduction_id}")
    return introduction


IntroductionDep = Annotated[Introduction, Depends(get_introduction)]


def present(introduction: Introduction) -> IntroductionRead:
    return IntroductionRead.model_validate(
        {
            **{name: getattr(introduction, name) for name in IntroductionRead.model_fields
               if hasattr(Introduction, name)},
            "partner_name": introduction.partner.name,
            "revenue_share_owed": share_owed_to_date(introduction),
        }
    )


@router.get("", response_model=IntroductionPage)
def list_all(
    session: SessionDep,
    caller: ManagerDep,
    partner_id: Annotated[str | None, Query(max_length=36)] = None,
    status: IntroductionStatus | None = None,
    client: Annotated[str | None, Query(max_length=200, description="Client contains")] = None,
    request_id: Annotated[str | None, Query(max_length=36)] = None,
    start: Annotated[date | None, date_query("from", "Proposed on or after")] = None,
    end: Annotated[date | None, date_query("to", "Proposed on or before")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> IntroductionPage:
    """Introductions, newest proposal first, filtered and paged; with the revenue share owed."""
    filters = {"partner_id": partner_id, "status": status, "client": client,
               "request_id": request_id, "start": start, "end": end}
    rows, total = list_introductions(session, filters, limit, offset)
    return IntroductionPage(items=[present(row) for row in rows], total=total)


@router.get("/{introduction_id}", response_model=IntroductionRead)
def read_one(introduction: IntroductionDep, caller: ManagerDep) -> IntroductionRead:
    """One introduction, with the revenue share owed so far."""
    return present(introduction)


@router.patch("/{introduction_id}", response_model=IntroductionRead)
def update(
    body: IntroductionUpdate, introduction: IntroductionDep, session: SessionDep,
    settings: SettingsDep, caller: ManagerDep,
) -> IntroductionRead:
    """Move the status (proposed → adopted → live → churned, or rejected), record revenue in yen
    (one-off unless `revenue_period` is monthly), satisfaction 1-5 and dates."""
    before = introduction.status
    changes = body.model_dump(exclude_unset=True)
    update_introduction(introduction, changes)
    session.flush()
    audit(session, caller.label, "update", "introduction", introduction.id, changes)
    introduction_changed(
        session, introduction.partner, before, introduction.status, settings.adoption_signal)
    return present(introduction)
