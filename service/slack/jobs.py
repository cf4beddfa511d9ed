"""The Slack bot's work, done after Slack has had its answer: search, record feedback, post back.

Each job runs in a worker thread (the search is CPU-bound) and calls the same functions as the HTTP
API: `recommend` and `record_feedback`. Retried or replayed requests are recognised in the database
(a recommendation id derived from the trigger, the feedback's unique dedupe key), so they do
nothing twice, whichever process they reach.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, cast

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from catalog.db import reading, transaction
from catalog.tables import Feedback, Partner, RecommendationRequest
from models.engine import Match
from models.text import Language
from service.auth.callers import Caller, readable
from service.errors import DomainError
from service.index.matcher import Matcher
from service.recommendations.feedback import record_feedback
from service.recommendations.partner_views import PartnerView, load_views
from service.recommendations.schemas import (
    Candidate,
    ClientInfo,
    Filters,
    RecommendationCreate,
    RecommendationRead,
)
from service.recommendations.service import explanation, recommend
from service.records import get_or_404
from service.settings import Settings
from service.slack import blocks
from service.slack.blocks import PAGE, Answer, ButtonRef, CandidateView, NoteView
from service.slack.workspace import SlackUser, Workspaces, shown_as, web_client

log = logging.getLogger(__name__)
MAX_SHOWN = 50  # the API's top_k limit
FAILED = "⚠️ 検索に失敗しました。もう一度お試しください / Something went wrong; please try again."
NEEDS_PM = "フィードバックには pm 以上の権限が必要です / Feedback needs the pm role or higher."


@dataclass(frozen=True)
class Context:
    settings: Settings
    sessions: sessionmaker[Session]
    matcher: Matcher
    workspaces: Workspaces

    @classmethod
    def of(cls, app: FastAPI) -> Context:
        return cls(app.state.settings, app.state.sessions, app.state.matcher, app.state.workspaces)


@dataclass(frozen=True)
class Command:
    user: SlackUser
    channel: str
    query: str
    client: str | None
    public: bool
    shared: bool  # the payload says the channel is shared with another organisation
    response_url: str
    trigger_id: str


@dataclass(frozen=True)
class Click:
    user: SlackUser
    channel: str
    action: str  # a key of blocks.VERDICTS, or "more"
    ref: ButtonRef
    response_url: str
    replay_key: str  # action_ts, or the trigger id: the same for a replay of the same click


def run_command(ctx: Context, command: Command) -> None:
    _guarded(command.response_url, _answer_command, ctx, command)


def run_click(ctx: Context, click: Click) -> None:
    job = _more if click.action == "more" else _feedback
    _guarded(click.response_url, job, ctx, click)


def _guarded(response_url: str, job: Callable[..., None], *args: Any) -> None:
    # A background job has no caller to raise to: tell the Slack user instead of failing silently.
    try:
        job(*args)
    except DomainError as error:
        post(response_url, {**blocks.notice(f"⚠️ {error.detail}"), "replace_original": False})
    except Exception:
        log.exception("slack job failed")
        post(response_url, {**blocks.notice(FAILED), "replace_original": False})


def _answer_command(ctx: Context, command: Command) -> None:
    caller, language = ctx.workspaces.caller(command.user), ctx.workspaces.language(command.user)
    notes = _notes_shown(ctx, caller, command.channel, command.public or command.shared)
    body = RecommendationCreate(query=command.query[:2000], top_k=PAGE,
                                client=ClientInfo(name=command.client))
    read = _recommend_once(ctx, f"command:{command.trigger_id}", shown_as(caller, notes),
                           lambda _session: body)
    if read is not None:
        post(command.response_url, blocks.answer_message(
            _answer(read, command.query, 0, command.public, notes, language)))


def _more(ctx: Context, click: Click) -> None:
    """The next page: the same request asked again for more candidates, recorded as a new one."""
    ref = click.ref
    query = ""

    def asked_again(session: Session) -> RecommendationCreate:
        nonlocal query
        row = _request_row(session, ref.request_id)
        query = row.query
        return RecommendationCreate(
            query=row.query, top_k=min(ref.offset + PAGE, MAX_SHOWN),
            filters=Filters(**row.filters), client=ClientInfo(**row.client),
        )

    caller, language = ctx.workspaces.caller(click.user), ctx.workspaces.language(click.user)
    notes = _notes_shown(ctx, caller, click.channel, not ref.notes)
    read = _recommend_once(ctx, f"more:{click.replay_key}:{click.user.id}",
                           shown_as(caller, notes), asked_again)
    if read is not None:
        answer = _answer(read, query, ref.offset, ref.public, notes, language)
        post(click.response_url, {**blocks.answer_message(answer), "replace_original": False})


def _recommend_once(
    ctx: Context, trigger: str, viewer: Caller, asked: Callable[[Session], RecommendationCreate]
) -> RecommendationRead | None:
    """Recommend under an id derived from the trigger; None when that trigger was answered."""
    request_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"partnermatch:slack:{trigger}"))
    try:
        with transaction(ctx.sessions) as session:
            if session.get(RecommendationRequest, request_id) is not None:
                return None  # a retry or replay of a request already answered
            return recommend(session, ctx.matcher, viewer, asked(session), channel="slack",
                             request_id=request_id)
    except IntegrityError:
        return None  # a concurrent retry recorded it first and posts the answer


def _feedback(ctx: Context, click: Click) -> None:
    verdict = blocks.VERDICTS[click.action]
    caller = ctx.workspaces.caller(click.user)
    if not caller.at_least("pm"):
        post(click.response_url, {**blocks.notice(NEEDS_PM), "replace_original": False})
        return
    key = f"slack:{click.replay_key}:{click.user.id}"
    with transaction(ctx.sessions) as session:
        if session.scalar(select(Feedback.id).where(Feedback.dedupe_key == key)) is not None:
            return  # a replayed click: recorded already, and already confirmed
        record_feedback(session, caller, click.ref.request_id, click.ref.partner_id,
                        verdict, dedupe_key=key, adoption_signal=ctx.settings.adoption_signal)
        partner = session.get(Partner, click.ref.partner_id)
        name = partner.name if partner else click.ref.partner_id
    notes = _notes_shown(ctx, caller, click.channel, not click.ref.notes)
    language = ctx.workspaces.language(click.user)
    with reading(ctx.sessions) as session:
        answer = rebuild(session, ctx.matcher, replace(click.ref, notes=notes), caller, language)
    post(click.response_url, {**blocks.answer_message(answer), "replace_original": True})
    confirm(ctx.settings, click, blocks.confirmation(verdict, name, language))


def _notes_shown(ctx: Context, caller: Caller, channel: str, hidden: bool) -> bool:
    """Whether an answer may show negotiation notes: not when `hidden` (a public answer, a channel
    the payload says is shared, a button of an answer shown without them), never to a role
    below pm, and only in a channel that allows them (see `workspace.py`)."""
    return not hidden and caller.sees_notes and ctx.workspaces.channel_allows_notes(channel)


def rebuild(
    session: Session, matcher: Matcher, ref: ButtonRef, caller: Caller, language: str = "ja"
) -> Answer:
    """The answer a button belongs to, as it stands now (with the verdicts given so far).

    Slack does not send back the blocks of an ephemeral message, so they are rebuilt from the
    recorded request; the reasons come from the same search, run again.
    """
    row = _request_row(session, ref.request_id)
    shown = [c for c in row.candidates if ref.offset < c["rank"] <= ref.offset + PAGE]
    generation = matcher.generation
    facets = Filters(**row.filters).facets() or None
    matches = {m.id: m for m in matcher.search(row.query, ref.offset + PAGE, facets).candidates}
    views = matcher.views.get(session, [c["partner_id"] for c in shown], generation, load_views)
    verdicts = _verdicts(session, row.id)
    viewer = shown_as(caller, ref.notes)
    asked_in = cast(Language, row.language)  # the reasons speak the question's language
    candidates = [
        _partner_view(views[c["partner_id"]], c["rank"], matches.get(c["partner_id"]),
                      asked_in, viewer, verdicts.get(c["partner_id"]))
        for c in shown
        if c["partner_id"] in views
    ]
    return Answer(row.id, row.query, candidates, ref.offset, ref.public, ref.notes,
                  _has_more(len(row.candidates), ref.offset), language)


def confirm(settings: Settings, click: Click, text: str) -> None:
    """Tell the one who clicked, and only them."""
    if settings.slack_bot_token and click.channel:
        try:
            web_client(settings).chat_postEphemeral(channel=click.channel, user=click.user.id,
                                                    text=text)
            return
        except Exception:
            log.warning("chat.postEphemeral failed; confirming through response_url")
    post(click.response_url, {**blocks.notice(text), "replace_original": False})


def post(response_url: str, message: dict[str, Any]) -> None:
    try:
        answer = httpx.post(response_url, json=message, timeout=10)
    except httpx.HTTPError as error:
        log.warning("posting to response_url failed: %s", error)
        return
    if answer.status_code >= 300:
        log.warning("response_url answered %s: %s", answer.status_code, answer.text[:200])


def _answer(
    read: RecommendationRead, query: str, offset: int, public: bool, notes: bool, language: str
) -> Answer:
    shown = read.candidates[offset : offset + PAGE]
    return Answer(read.request_id, query, [_candidate_view(c) for c in shown], offset,
                  public, notes, _has_more(len(read.candidates), offset), language)


def _has_more(count: int, offset: int) -> bool:
    return count >= offset + PAGE and offset + 2 * PAGE <= MAX_SHOWN


def _candidate_view(candidate: Candidate) -> CandidateView:
    note = next((n for n in candidate.notes if not n.confidential), None)
    partner = candidate.partner
    return CandidateView(
        partner_id=partner.id, rank=candidate.rank, name=partner.name,
        reason=candidate.why, platforms=partner.platforms,
        status=partner.status, url=partner.url,
        note=NoteView(str(note.date), note.kind, note.body) if note else None,
    )


def _partner_view(
    view: PartnerView, rank: int, match: Match | None, language: Language, viewer: Caller,
    verdict: tuple[str, str] | None,
) -> CandidateView:
    note = next((n for n in readable(view.notes, viewer) if not n.confidential), None)
    partner = view.summary
    return CandidateView(
        partner_id=partner.id, rank=rank, name=partner.name,
        reason=explanation(match, viewer, language)[1] if match else "",
        platforms=list(partner.platforms), status=partner.status, url=partner.url,
        note=NoteView(str(note.date), note.kind, note.body) if note else None,
        verdict=verdict[0] if verdict else None, verdict_by=verdict[1] if verdict else None,
    )


def _request_row(session: Session, request_id: str) -> RecommendationRequest:
    return get_or_404(session, RecommendationRequest, request_id)


def _verdicts(session: Session, request_id: str) -> dict[str, tuple[str, str]]:
    """The latest verdict on each partner of a request, and the name of who gave it."""
    rows = session.execute(
        select(Feedback.partner_id, Feedback.verdict, Feedback.caller)
        .where(Feedback.request_id == request_id)
        .order_by(Feedback.created_at)
    )
    return {partner: (verdict, caller.rsplit(" (", 1)[0]) for partner, verdict, caller in rows}
