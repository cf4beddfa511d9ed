"""The console's pages. Each parses a form or query, calls the domain function the JSON API
calls, and renders a template; roles as in the API (`service/auth/callers.py`)."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from catalog.db import reading, transaction
from catalog.tables import Introduction, Partner
from catalog.vocabulary import (
    CATEGORIES,
    INTRODUCTION_STATUSES,
    NOTE_KINDS,
    PARTNER_KINDS,
    PARTNER_STATUSES,
    PLATFORMS,
    REVENUE_PERIODS,
)
from service.auth.keys import find_key
from service.console import charts, manage, records
from service.console.i18n import language_of
from service.console.session import (
    COOKIE,
    LOGIN_COOKIE,
    ConsoleUser,
    CsrfRefused,
    Sessions,
    SignInNeeded,
    check_csrf,
)
from service.console.web import HERE, PostedDep, UserDep, error_page, forbidden, render
from service.http.deps import SessionDep, SettingsDep
from service.introductions import service as introductions
from service.introductions.lifecycle import NEXT
from service.introductions.routes import present as present_introduction
from service.introductions.schemas import IntroductionUpdate
from service.kpis.groups import kpi_groups
from service.kpis.report import build_report, default_out, type_sections, type_words
from service.kpis.report import render as render_report
from service.kpis.service import kpi_report, period_of
from service.kpis.targets import current_quarter
from service.partners import service as partners
from service.partners.routes import present, present_note
from service.partners.schemas import ContactCreate, NoteCreate, PartnerUpdate
from service.recommendations.feedback import record_feedback
from service.recommendations.schemas import Filters, RecommendationCreate
from service.recommendations.service import (
    recent_questions,
    recommend,
    recommendation_again,
    similar_partners,
)
from service.records import get_or_404

router = APIRouter(include_in_schema=False)
TOP_K = 5  # candidates a search shows


def install(app: FastAPI) -> None:
    app.state.console_sessions = Sessions(app.state.settings)
    app.state.error_page = error_page
    app.include_router(manage.router)  # first: /partners/import is not a partner's id
    app.include_router(router)
    app.include_router(records.router)
    app.mount("/console/static", StaticFiles(directory=HERE / "static"), name="console-static")
    app.add_exception_handler(SignInNeeded, _to_login)
    app.add_exception_handler(CsrfRefused, _csrf_refused)


async def _to_login(request: Request, exc: Exception) -> Response:
    return RedirectResponse("/login", status_code=303)


async def _csrf_refused(request: Request, exc: Exception) -> Response:
    detail = "the form's CSRF token is missing or wrong"
    page = await run_in_threadpool(error_page, request, 403, {"detail": detail, "fields": []}, exc)
    return page or HTMLResponse(f"403: {detail}", status_code=403)


# -- sign in and out --------------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request, error: bool = False) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", None, status_code=401 if error else 200,
                      csrf=token, error=error)
    response.set_cookie(LOGIN_COOKIE, token, max_age=3600, httponly=True, samesite="strict",
                        secure=request.app.state.console_sessions.secure)
    return response


@router.post("/login")
def login(
    request: Request, api_key: Annotated[str, Form(max_length=200)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request.cookies.get(LOGIN_COOKIE), csrf)
    with reading(request.app.state.sessions) as session:
        caller = find_key(session, api_key.strip()) if api_key.strip() else None
    if caller is None:
        return RedirectResponse("/login?error=true", status_code=303)
    sessions: Sessions = request.app.state.console_sessions
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(COOKIE, sessions.cookie_value(caller), max_age=sessions.max_age,
                        **sessions.cookie_options())  # type: ignore[arg-type]
    response.delete_cookie(LOGIN_COOKIE)
    return response


@router.post("/logout")
def logout(user: PostedDep) -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


# -- search -----------------------------------------------------------------------------------


@router.get("/")
@router.get("/search")
def search_page(
    request: Request, user: UserDep, session: SessionDep, q: str = "", status: str = "",
    platform: str = "", language: str = "", kind: str = "", category: str = "",
    shown: Annotated[str, Query(alias="request", max_length=36)] = "",
) -> HTMLResponse:
    """The PM's screen: one box, the ranked candidates and the verdict buttons. Asking records
    the request (as the API does), so its verdicts can refer to it; coming back to a request
    (`request=` its id, from a partner's page) shows it again without recording another."""
    chosen = {"status": status, "platform": platform, "language": language, "kind": kind,
              "category": category}
    query, filters = q.strip()[:2000], _filters(chosen)
    answer = None
    if query and shown:
        answer = recommendation_again(session, request.app.state.matcher, user.caller, shown,
                                      query, filters, TOP_K)
    if query and answer is None:
        answer = _ask(request, user, query, filters)
    here = "/search?" + urlencode({"q": q, **{k: v for k, v in chosen.items() if v},
                                   "request": answer.request_id}) if answer else ""
    return render(request, "search.html", user, q=q, chosen=chosen, answer=answer, here=here,
                  recent=recent_questions(session, user.caller),
                  options={"status": PARTNER_STATUSES, "platform": PLATFORMS,
                           "language": ("ja", "en"), "kind": PARTNER_KINDS,
                           "category": CATEGORIES})


def _filters(chosen: dict[str, str]) -> Filters:
    return Filters.model_validate({
        "statuses": [chosen["status"]] if chosen["status"] in PARTNER_STATUSES else [],
        "kinds": [chosen["kind"]] if chosen["kind"] in PARTNER_KINDS else [],
        "platforms": [chosen["platform"]] if chosen["platform"] else [],
        "languages": [chosen["language"]] if chosen["language"] else [],
        "categories": [chosen["category"]] if chosen["category"] else [],
    })


def _ask(request: Request, user: ConsoleUser, query: str, filters: Filters) -> Any:
    body = RecommendationCreate(query=query, top_k=TOP_K, filters=filters)
    sessions = request.app.state.sessions
    with reading(sessions) as reader, transaction(sessions) as writer:
        return recommend(reader, request.app.state.matcher, user.caller, body, channel="console",
                         request_id=request.state.request_id, writer=writer)


def back_to_search(back: str) -> str:
    """A link back to the search results a page was opened from; only ever the search page."""
    return back if back.startswith("/search?") else ""


@router.post("/feedback")
def feedback(
    request: Request, user: PostedDep, session: SessionDep, settings: SettingsDep,
    request_id: Annotated[str, Form(max_length=36)], partner_id: Annotated[str, Form(max_length=36)],
    verdict: Annotated[str, Form(max_length=16)], back: Annotated[str, Form(max_length=4000)] = "",
) -> HTMLResponse:
    if not user.caller.sees_notes:  # the API's rule: feedback is for PMs and up
        return forbidden(request, user)
    introduction = record_feedback(session, user.caller, request_id, partner_id, verdict,
                                   adoption_signal=settings.adoption_signal)
    return render(request, "recorded.html", user, introduction=introduction, verdict=verdict,
                  back=back_to_search(back))


# -- partners ---------------------------------------------------------------------------------


@router.get("/partners/{partner_id}")
def partner_page(
    request: Request, partner_id: str, user: UserDep, session: SessionDep,
    back: Annotated[str, Query(max_length=4000)] = "",
) -> HTMLResponse:
    """A partner's page; `back`: the search results it was opened from."""
    partner = get_or_404(session, Partner, partner_id)
    caller = user.caller
    intros = []
    if caller.sees_confidential:
        filters = introductions.IntroductionFilters(partner_id=partner.id)
        intros = [present_introduction(i)
                  for i in introductions.list_introductions(session, filters, 50, 0)[0]]
    return render(request, "partner.html", user, partner=present(partner, caller),
                  notes=[present_note(n, caller) for n in partners.visible_notes(partner, caller)],
                  contacts=partners.list_contacts(session, partner) if caller.sees_notes else [],
                  introductions=intros, note_kinds=NOTE_KINDS, statuses=PARTNER_STATUSES,
                  similar=similar_partners(session, request.app.state.matcher, partner.id),
                  back=back_to_search(back))


@router.post("/partners/{partner_id}/notes")
def add_note(
    request: Request, partner_id: str, user: PostedDep, session: SessionDep,
    kind: Annotated[str, Form()], body: Annotated[str, Form()],
    terms: Annotated[str, Form()] = "", confidential: Annotated[bool, Form()] = False,
) -> Response:
    if not user.caller.sees_confidential:
        return forbidden(request, user)
    partner = get_or_404(session, Partner, partner_id)
    note = NoteCreate(kind=kind, body=body, terms=terms or None,  # type: ignore[arg-type]
                      confidential=confidential)
    partners.create_note(session, user.caller, partner, note.model_dump(exclude_none=True))
    return RedirectResponse(f"/partners/{partner.id}", status_code=303)


@router.post("/partners/{partner_id}")
def edit_partner(
    request: Request, partner_id: str, user: PostedDep, session: SessionDep,
    status: Annotated[str, Form()], revenue_share_terms: Annotated[str, Form()] = "",
) -> Response:
    """A manager sets the status and the revenue-share terms (blank: none), as PATCH does."""
    if not user.caller.sees_confidential:
        return forbidden(request, user)
    partner = get_or_404(session, Partner, partner_id)
    changes = PartnerUpdate.model_validate(
        {"status": status, "revenue_share_terms": revenue_share_terms.strip() or None})
    partners.update_partner(session, user.caller, partner, changes.model_dump(exclude_unset=True))
    return RedirectResponse(f"/partners/{partner.id}", status_code=303)


@router.post("/partners/{partner_id}/contacts")
def add_contact(
    request: Request, partner_id: str, user: PostedDep, session: SessionDep,
    name: Annotated[str, Form()], role: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
) -> Response:
    if not user.caller.sees_confidential:
        return forbidden(request, user)
    partner = get_or_404(session, Partner, partner_id)
    contact = ContactCreate.model_validate({"name": name, "role": role or None, "email": email or None})
    partners.create_contact(session, user.caller, partner, contact.model_dump(exclude_none=True))
    return RedirectResponse(f"/partners/{partner.id}#contacts", status_code=303)


# -- introductions ----------------------------------------------------------------------------


@router.get("/introductions")
def introductions_board(request: Request, user: UserDep, session: SessionDep) -> HTMLResponse:
    """The board by status; each card offers only the moves the life cycle allows."""
    if not user.caller.sees_confidential:
        return forbidden(request, user)
    rows, _ = introductions.list_introductions(session, introductions.IntroductionFilters(), 500, 0)
    columns = {status: [present_introduction(r) for r in rows if r.status == status]
               for status in INTRODUCTION_STATUSES}
    return render(request, "introductions.html", user, columns=columns, next_moves=NEXT,
                  periods=REVENUE_PERIODS)


@router.post("/introductions/{introduction_id}")
def edit_introduction(
    request: Request, introduction_id: str, user: PostedDep, session: SessionDep,
    settings: SettingsDep, status: Annotated[str, Form()] = "",
    revenue: Annotated[str, Form()] = "", revenue_period: Annotated[str, Form()] = "",
    satisfaction: Annotated[str, Form()] = "",
) -> Response:
    if not user.caller.sees_confidential:
        return forbidden(request, user)
    introduction = get_or_404(session, Introduction, introduction_id)
    sent = {"status": status, "revenue": revenue, "revenue_period": revenue_period,
            "satisfaction": satisfaction}
    # the API's schema checks the form as it checks JSON (yen, 1-5, the vocabularies)
    changes = IntroductionUpdate.model_validate({k: v for k, v in sent.items() if v.strip()})
    introductions.update_introduction(session, user.caller, introduction,
                                      changes.model_dump(exclude_unset=True), settings.adoption_signal)
    return RedirectResponse(f"/introductions#i-{introduction.id}", status_code=303)


# -- KPIs -------------------------------------------------------------------------------------


@router.get("/kpis")
def kpis_page(
    request: Request, user: UserDep, session: SessionDep,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
) -> HTMLResponse:
    if not user.caller.sees_confidential:
        return forbidden(request, user)
    report = kpi_report(session, period_of(start, end))
    top = sorted(report.partners, key=lambda p: p.partner_sourced_revenue, reverse=True)[:10]
    chart = charts.bars([(p.name, p.partner_sourced_revenue) for p in top if p.partner_sourced_revenue])
    # per partner type: the quarter of the period's last day, the period targets are set for
    types = kpi_groups(session, current_quarter(report.to), "partner_type", date.today())
    language = language_of(request)
    return render(request, "kpis.html", user, report=report, chart=chart, types=types,
                  type_sections=type_sections(types, language),
                  type_words=type_words(types, language))


@router.get("/kpis/report.{fmt}")
def kpi_report_file(
    request: Request, fmt: str, user: UserDep, session: SessionDep, settings: SettingsDep,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
) -> Response:
    """The report `partnermatch report` writes (CSV, or HTML with its charts), for the period."""
    if not user.caller.sees_confidential or fmt not in ("csv", "html"):
        return forbidden(request, user)
    period = period_of(start, end)
    data = build_report(session, period, request.app.state.matcher.engine.glossary,
                        settings.gap_threshold)
    return Response(render_report(data, fmt), media_type=f"text/{fmt}; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{default_out(fmt, period)}"'})
