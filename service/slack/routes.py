"""Slack's two request URLs: verify, answer at once, leave the work to a background job."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, BackgroundTasks, Request, Response

from service.errors import BadRequest, Forbidden
from service.settings import Settings
from service.slack import blocks, jobs
from service.slack.verify import SignedBody
from service.slack.workspace import SlackUser, response_url_allowed, team_allowed

router = APIRouter(prefix="/slack", tags=["slack"])

PUBLIC_WORDS = ("public", "公開")
CLIENT = re.compile(
    r'(?:client|クライアント|顧客)[:：]\s*(?:["“「](?P<quoted>[^"”」]*)["”」]|(?P<word>\S+))\s*',
    re.IGNORECASE)
HELP_WORDS = ("help", "ヘルプ", "-h", "--help")
REFUSED = "このワークスペースでは使えません / This Slack workspace may not use partnermatch."


@router.post("/commands")
async def slash_command(
    request: Request, body: SignedBody, background: BackgroundTasks
) -> dict[str, Any]:
    """The `/partners` slash command: acknowledged at once, answered later through `response_url`."""
    form = _form(body)
    settings: Settings = request.app.state.settings
    team, user = form.get("team_id", ""), form.get("user_id", "")
    if not team_allowed(settings, team):
        return blocks.notice(REFUSED)
    public, client, query = parse_text(form.get("text", ""))
    if not query or query.lower() in HELP_WORDS:
        return blocks.help_message()
    if not form.get("response_url") or not form.get("trigger_id"):
        raise BadRequest("a slash command carries response_url and trigger_id")
    _check_response_url(settings, form["response_url"])
    command = jobs.Command(
        user=SlackUser(user, form.get("user_name", ""), team),
        channel=form.get("channel_id", ""), query=query, client=client, public=public,
        shared=form.get("is_ext_shared_channel", "").lower() == "true",
        response_url=form["response_url"], trigger_id=form["trigger_id"],
    )
    background.add_task(jobs.run_command, jobs.Context.of(request.app), command)
    return blocks.acknowledgement(query, public)


@router.post("/interactions")
async def interaction(request: Request, body: SignedBody, background: BackgroundTasks) -> Response:
    """Button clicks: feedback through the same function as the API, and "More"."""
    payload = _payload(body)
    settings: Settings = request.app.state.settings
    if payload.get("type") != "block_actions" or not payload.get("actions"):
        return Response(status_code=200)  # nothing of ours
    try:
        click = _click(settings, payload)
    except (KeyError, TypeError, ValueError) as error:
        raise BadRequest(f"not a partnermatch button: {error}") from error
    if click is not None:
        background.add_task(jobs.run_click, jobs.Context.of(request.app), click)
    return Response(status_code=200)


def parse_text(text: str) -> tuple[bool, str | None, str]:
    """`[public] [client:NAME] <request>`: `public` posts to the channel; `client:` (or
    `クライアント:`) names the client the introduction will be for, in quotes when it has spaces
    (`client:"Sakura Tea KK"`); the rest is the request itself."""
    words = text.strip().split(maxsplit=1)
    public = bool(words) and words[0].lower() in PUBLIC_WORDS
    rest = (words[1] if len(words) > 1 else "") if public else text
    client, rest = _client_of(rest.strip())
    return public, client, rest.strip()


def _client_of(text: str) -> tuple[str | None, str]:
    match = CLIENT.match(text)
    if match is None:
        return None, text
    name = (match["quoted"] or match["word"] or "").strip()
    return name[:200] or None, text[match.end():]


def _check_response_url(settings: Settings, url: str) -> None:
    if not response_url_allowed(settings, url):
        raise BadRequest("response_url is not one of Slack's")


def _click(settings: Settings, payload: dict[str, Any]) -> jobs.Click | None:
    team = (payload.get("team") or {}).get("id") or payload["user"].get("team_id", "")
    if not team_allowed(settings, team):
        raise Forbidden(REFUSED)
    action = payload["actions"][0]
    if action["action_id"] not in (*blocks.VERDICTS, "more"):
        return None
    user = payload["user"]
    channel = (payload.get("channel") or {}).get("id") or (
        payload.get("container") or {}).get("channel_id", "")
    _check_response_url(settings, payload["response_url"])
    return jobs.Click(
        user=SlackUser(user["id"], user.get("username") or user.get("name", ""), team,
                       own_team=user.get("team_id")),
        channel=channel, action=action["action_id"],
        ref=blocks.ButtonRef.decode(action["value"]), response_url=payload["response_url"],
        replay_key=action.get("action_ts") or payload["trigger_id"],
    )


def _form(body: bytes) -> dict[str, str]:
    try:
        fields = parse_qs(body.decode(), keep_blank_values=True)
    except UnicodeDecodeError as error:
        raise BadRequest("the body is not UTF-8 form data") from error
    return {name: values[0] for name, values in fields.items()}


def _payload(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(_form(body).get("payload", ""))
    except ValueError as error:
        raise BadRequest("an interaction carries a JSON payload") from error
    if not isinstance(payload, dict):
        raise BadRequest("an interaction carries a JSON object")
    return payload
