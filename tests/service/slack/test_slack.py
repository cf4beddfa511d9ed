"""The Slack bot over real HTTP: signed bodies to the app on loopback, a fake Slack receiving."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from fastapi.testclient import TestClient
from slack_sdk.signature import Clock, SignatureVerifier
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from catalog.db import open_database, session_factory, upgrade
from catalog.tables import Feedback, Introduction, RecommendationRequest
from models.engine import MatchingEngine
from service.app import create_app
from service.index.matcher import Matcher
from service.settings import Settings
from service.slack.verify import is_signed
from service.slack.workspace import SlackUser, Workspaces, team_allowed
from tests.helpers.database import empty
from tests.helpers.processes import serve
from tests.helpers.service import CANARY, SHARE_CANARY, TERMS_CANARY, seed
from tests.helpers.slack import FakeSlack

SECRET = "test-signing-secret-0123456789"
TEAM = "T0PARTNER"
NOTE = "Onboarding took two weeks"  # Teiki Subscriptions' non-confidential note
QUERY = "定期購入を入れたい"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def signed(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    assert signature is not None
    return {**FORM, "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}


@dataclass
class Catalog:
    """The seeded test catalog, shared by the module's tests (they count rows as differences)."""

    settings: Settings
    sessions: sessionmaker[Session]
    ids: dict[str, str]
    matcher_factory: Callable[[Settings, Any], Matcher]
    search_delay: float = 0.0  # seconds each search sleeps first: a test double of timing only


@dataclass
class Bot:
    url: str
    slack: FakeSlack
    catalog: Catalog
    http: httpx.Client

    def command_body(self, text: str, user: str = "U0PM", channel: str = "C0GENERAL",
                     team: str = TEAM, **extra: str) -> tuple[bytes, str]:
        hook = f"cmd-{uuid.uuid4().hex[:12]}"
        fields = {"token": "legacy", "team_id": team, "team_domain": "agency",
                  "channel_id": channel, "channel_name": "general", "user_id": user,
                  "user_name": user.lower(), "command": "/partners", "text": text,
                  "response_url": self.slack.response_url(hook),
                  "trigger_id": f"trigger-{hook}", **extra}
        return urlencode(fields).encode(), hook

    def command(self, text: str, **fields: str) -> tuple[httpx.Response, str]:
        body, hook = self.command_body(text, **fields)
        return self.post("/slack/commands", body), hook

    def click_body(self, action_id: str, value: str, user: str = "U0PM",
                   channel: str = "C0GENERAL", team: str = TEAM) -> tuple[bytes, str]:
        hook = f"click-{uuid.uuid4().hex[:12]}"
        payload = {
            "type": "block_actions", "team": {"id": team},
            "user": {"id": user, "username": user.lower(), "team_id": team},
            "channel": {"id": channel, "name": "general"},
            "container": {"type": "message", "is_ephemeral": True, "channel_id": channel},
            "trigger_id": f"trigger-{hook}", "response_url": self.slack.response_url(hook),
            "actions": [{"type": "button", "action_id": action_id, "value": value,
                         "block_id": "c1", "action_ts": f"{time.time():.6f}"}],
        }
        return urlencode({"payload": json.dumps(payload)}).encode(), hook

    def click(self, action_id: str, value: str, **fields: str) -> tuple[httpx.Response, str]:
        body, hook = self.click_body(action_id, value, **fields)
        return self.post("/slack/interactions", body), hook

    def post(self, path: str, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.http.post(self.url + path, content=body,
                              headers=signed(body) if headers is None else headers)

    def answer(self, hook: str) -> dict[str, Any]:
        return self.slack.wait(lambda: self.slack.posts(hook))[0]

    def counts(self) -> tuple[int, int]:
        with self.catalog.sessions() as session:
            return (session.scalar(select(func.count()).select_from(RecommendationRequest)) or 0,
                    session.scalar(select(func.count()).select_from(Feedback)) or 0)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def catalog(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
    engine_parts: dict[str, Any],
) -> Iterator[Catalog]:
    """A seeded catalog on each engine, once per module: starting an app costs seconds."""
    folder = tmp_path_factory.mktemp("slack")
    if request.param == "sqlite":
        engine = open_database(f"sqlite:///{folder / 'partnermatch.db'}")
        upgrade(engine)
    else:
        engine = request.getfixturevalue("_migrated_postgres")
        empty(engine)
    sessions = session_factory(engine)
    _, ids = seed(sessions)
    settings = Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        index_dir=folder / "index", index_poll_seconds=0.2, slack_signing_secret=SECRET,
        slack_bot_token="xoxb-test", slack_allowed_teams=[TEAM],
        slack_user_roles={"U0VIEW": "viewer", f"{TEAM}:U0BOSS": "partner_manager", "U0EXTPM": "pm"},
    )

    def matcher_factory(settings: Settings, sessions: Any) -> Matcher:
        matcher = Matcher(settings, sessions, engine=MatchingEngine(**engine_parts))
        search = matcher.search

        def slowed_search(*args: Any, **kwargs: Any) -> Any:
            time.sleep(seeded.search_delay)  # the real search still runs, only later
            return search(*args, **kwargs)

        matcher.search = slowed_search  # type: ignore[method-assign]
        return matcher

    seeded = Catalog(settings, sessions, ids, matcher_factory)
    yield seeded
    if request.param == "sqlite":
        engine.dispose()
    else:
        empty(engine)


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack(team=TEAM, user_teams={"U0EXT": "T0OTHERORG", "U0EXTPM": "T0OTHERORG"},
                     guests={"U0GUEST"}, locales={"U0EN": "en-US"})
    with serve(fake.app()) as url:
        fake.url = url
        yield fake


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def bot(catalog: Catalog, slack: FakeSlack, http: httpx.Client) -> Iterator[Bot]:
    """The app served on loopback, its Slack API pointed at the fake Slack."""
    settings = catalog.settings.model_copy(update={
        "slack_api_url": f"{slack.url}/api/", "slack_response_url_prefixes": [f"{slack.url}/response/"]})
    with serve(create_app(settings, catalog.matcher_factory)) as url:
        yield Bot(url, slack, catalog, http)


def buttons(message: dict[str, Any]) -> dict[str, list[str]]:
    """The values of each action's buttons, in the order shown."""
    found: dict[str, list[str]] = {}
    for block in message["blocks"]:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            found.setdefault(element["action_id"], []).append(element["value"])
    return found


def text_of(message: dict[str, Any]) -> str:
    return json.dumps(message["blocks"], ensure_ascii=False)


def test_slacks_published_example_verifies() -> None:
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="
        b"G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-"
        b"collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F3977008"
        b"85554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c4"
        b"47fce8b6703c"
    )
    secret, stamp = "8f742231b10e8888abcd99yyyzzz85a5", "1531420618"
    expected = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"

    class Then(Clock):
        def now(self) -> float:
            return 1531420618 + 30.0

    assert SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body) == expected
    headers = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": expected}
    assert is_signed(secret, body, headers, clock=Then())
    assert not is_signed(secret, body + b"x", headers, clock=Then())
    assert not is_signed(secret, body, headers)  # years old: stale


def test_command_answers_at_once_while_a_slow_search_runs(bot: Bot) -> None:
    before = bot.counts()
    bot.catalog.search_delay = 5.0
    try:
        started = time.monotonic()
        answer, hook = bot.command(QUERY)
        took = time.monotonic() - started
        message = bot.slack.wait(lambda: bot.slack.posts(hook), timeout=30)[0]
        arrived = time.monotonic() - started
    finally:
        bot.catalog.search_delay = 0.0
    print(f"acknowledged in {took * 1000:.1f} ms, answered after {arrived:.2f} s")
    assert answer.status_code == 200, answer.text
    assert took < 1.0, f"the acknowledgement took {took:.3f} s"
    assert answer.json()["response_type"] == "ephemeral"
    assert QUERY in answer.json()["text"]
    assert arrived > 4.5, "an answer before the slow search could finish"
    assert message["response_type"] == "ephemeral"
    assert "Teiki Subscriptions" in json.dumps(message["blocks"][1], ensure_ascii=False)
    assert NOTE in text_of(message) and CANARY not in json.dumps(message)
    assert len(buttons(message)["adopted"]) == 5 and len(buttons(message)["more"]) == 1
    assert bot.counts() == (before[0] + 1, before[1])
    with bot.catalog.sessions() as session:
        row = session.get(RecommendationRequest, json.loads(buttons(message)["more"][0])["r"])
        assert row is not None and row.channel == "slack"
        assert row.caller == f"u0pm (slack:{TEAM}:U0PM)"


def partner_ids(message: dict[str, Any]) -> list[str]:
    return [json.loads(value)["p"] for value in buttons(message)["adopted"]]


def test_buttons_record_feedback_once_update_the_message_and_confirm(bot: Bot) -> None:
    _, hook = bot.command(QUERY)
    message = bot.answer(hook)
    teiki = bot.catalog.ids["t-sub"]
    assert partner_ids(message)[0] == teiki
    before, confirmed = bot.counts(), len(bot.slack.calls("chat.postEphemeral"))
    body, click = bot.click_body("adopted", buttons(message)["adopted"][0])
    headers = signed(body)

    assert bot.post("/slack/interactions", body, headers).status_code == 200
    update = bot.answer(click)
    assert update["replace_original"] is True
    first = json.dumps(update["blocks"][1:4], ensure_ascii=False)
    assert "Teiki Subscriptions" in first and "採用" in first and "u0pm" in first
    assert NOTE in text_of(update)
    confirmation = bot.slack.wait(lambda: bot.slack.calls("chat.postEphemeral")[confirmed:])[0]
    assert (confirmation["user"], confirmation["channel"]) == ("U0PM", "C0GENERAL")
    assert "Teiki Subscriptions" in confirmation["text"]
    assert confirmation["authorization"] == "Bearer xoxb-test"
    assert bot.counts() == (before[0], before[1] + 1)

    # The same click replayed within the five minutes, and retried: nothing recorded or sent again.
    for extra in ({}, {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}):
        assert bot.post("/slack/interactions", body, {**headers, **extra}).status_code == 200
    time.sleep(1.0)
    assert bot.counts() == (before[0], before[1] + 1)
    assert len(bot.slack.posts(click)) == 1
    assert len(bot.slack.calls("chat.postEphemeral")) == confirmed + 1
    with bot.catalog.sessions() as session:
        request_id = json.loads(buttons(message)["adopted"][0])["r"]
        introduction = session.scalars(
            select(Introduction).where(Introduction.request_id == request_id)).one()
        assert (introduction.partner_id, introduction.status) == (teiki, "adopted")


def test_more_shows_the_next_five_and_its_buttons_work(bot: Bot) -> None:
    _, hook = bot.command(QUERY)
    message = bot.answer(hook)
    before = bot.counts()
    answer, click = bot.click("more", buttons(message)["more"][0])
    assert answer.status_code == 200
    more = bot.answer(click)
    assert more["replace_original"] is False and more["response_type"] == "ephemeral"
    shown = partner_ids(more)
    assert shown and not set(shown) & set(partner_ids(message))
    assert '"*6. ' in json.dumps(more["blocks"][1], ensure_ascii=False)
    assert bot.counts() == (before[0] + 1, before[1])  # the next page is a recorded request

    _, verdict = bot.click("not_a_fit", buttons(more)["not_a_fit"][0])
    update = bot.answer(verdict)
    assert update["replace_original"] is True and partner_ids(update) == shown
    assert "見送り" in json.dumps(update["blocks"][1:4], ensure_ascii=False)
    assert bot.counts() == (before[0] + 1, before[1] + 1)


def test_public_answers_and_shared_channels_show_no_notes(bot: Bot) -> None:
    _, public = bot.command(f"public {QUERY}")
    _, flagged = bot.command(QUERY, is_ext_shared_channel="true")
    _, connect = bot.command(QUERY, channel="CEXT0SHARED")
    _, private = bot.command(QUERY)
    messages = {hook: bot.answer(hook) for hook in (public, flagged, connect, private)}

    assert messages[public]["response_type"] == "in_channel"
    for hook in (public, flagged, connect):
        assert "Teiki Subscriptions" in text_of(messages[hook])
        assert NOTE not in json.dumps(messages[hook]), hook
    assert NOTE in text_of(messages[private])  # the same request in a plain channel shows it
    assert CANARY not in json.dumps(list(messages.values()))
    assert {c["channel"] for c in bot.slack.calls("conversations.info")} >= {"CEXT0SHARED"}

    confirmed = len(bot.slack.calls("chat.postEphemeral"))
    _, click = bot.click("propose", buttons(messages[public])["propose"][0])
    update = bot.answer(click)
    bot.slack.wait(lambda: bot.slack.calls("chat.postEphemeral")[confirmed:])
    assert update["response_type"] == "in_channel" and "提案済み" in text_of(update)
    assert NOTE not in json.dumps(update)


def test_help_and_an_empty_request_explain_usage(bot: Bot) -> None:
    before, hooks = bot.counts(), []
    for text in ("help", "", "   ", "public", "HELP"):
        answer, hook = bot.command(text)
        hooks.append(hook)
        assert answer.status_code == 200
        usage = answer.json()["text"]
        assert answer.json()["response_type"] == "ephemeral"
        assert "依頼内容" in usage and "finds the top 5" in usage and "public" in usage
    time.sleep(0.5)
    assert bot.counts() == before and not any(bot.slack.posts(hook) for hook in hooks)


def test_workspaces_and_roles_come_from_the_settings(bot: Bot) -> None:
    before = bot.counts()
    refused, stranger = bot.command(QUERY, team="T0OTHER")
    assert refused.status_code == 200 and "may not use" in refused.json()["text"]
    _, viewer = bot.command(QUERY, user="U0VIEW")
    _, boss = bot.command(QUERY, user="U0BOSS")
    viewed, bossed = bot.answer(viewer), bot.answer(boss)
    assert "Teiki Subscriptions" in text_of(viewed) and NOTE not in json.dumps(viewed)
    assert NOTE in text_of(bossed) and CANARY not in json.dumps(bossed)  # never confidential

    value = buttons(viewed)["adopted"][0]
    assert bot.click("adopted", value, team="T0OTHER")[0].status_code == 403
    _, click = bot.click("adopted", value, user="U0VIEW")
    assert "pm" in bot.answer(click)["text"]
    time.sleep(0.5)
    assert bot.counts() == (before[0] + 2, before[1])
    assert bot.slack.posts(stranger) == []


def test_users_of_another_workspace_and_guests_read_as_viewers(bot: Bot) -> None:
    """Slack Connect: a user of another organisation, or a guest, unmapped, gets no notes even in
    a direct message; one mapped to a role in the settings gets that role's answer."""
    hooks = {user: bot.command(QUERY, user=user, channel="D0DIRECT")[1]
             for user in ("U0EXT", "U0GUEST", "U0EXTPM", "U0PM")}
    answers = {user: bot.answer(hook) for user, hook in hooks.items()}
    for user in ("U0EXT", "U0GUEST"):
        assert "Teiki Subscriptions" in text_of(answers[user]) and NOTE not in json.dumps(answers[user])
    assert NOTE in text_of(answers["U0EXTPM"]) and NOTE in text_of(answers["U0PM"])
    _, click = bot.click("adopted", buttons(answers["U0EXT"])["adopted"][0], user="U0EXT")
    assert "pm" in bot.answer(click)["text"]  # a viewer gives no feedback


def test_answers_speak_the_users_language(bot: Bot) -> None:
    """Japanese unless Slack says the user reads English: buttons, statuses, note kinds."""
    english, japanese = (bot.answer(bot.command(QUERY, user=user)[1]) for user in ("U0EN", "U0PM"))
    labels = {user: [e["text"]["text"] for b in message["blocks"] if b["type"] == "actions"
                     for e in b["elements"]] for user, message in (("en", english), ("ja", japanese))}
    assert labels["en"][:3] == ["Propose", "Adopted", "Not a fit"]
    assert labels["ja"][:3] == ["提案する", "採用", "見送り"]
    assert "`active`" in text_of(english) and "`提携中`" in text_of(japanese)
    assert "meeting:" in text_of(english) and "打ち合わせ:" in text_of(japanese)
    _, click = bot.click("adopted", buttons(english)["adopted"][0], user="U0EN")
    assert "Adopted" in json.dumps(bot.answer(click)["blocks"][1:4])


def test_answers_go_to_slacks_hooks_only(bot: Bot) -> None:
    before = bot.counts()
    body, _ = bot.command_body(QUERY, response_url="https://attacker.example/hook")
    refused = bot.post("/slack/commands", body)
    assert refused.status_code == 400 and "response_url" in refused.json()["detail"]
    _, hook = bot.command(QUERY)
    value = buttons(bot.answer(hook))["adopted"][0]
    click, _ = bot.click_body("adopted", value)
    payload = json.loads(dict(parse_qsl(click.decode()))["payload"])
    payload["response_url"] = "http://127.0.0.1:1/elsewhere"
    forged = urlencode({"payload": json.dumps(payload)}).encode()
    assert bot.post("/slack/interactions", forged).status_code == 400
    time.sleep(0.5)
    assert bot.counts() == (before[0] + 1, before[1])


def test_no_secret_reaches_a_slack_answer(bot: Bot) -> None:
    """The three canaries (a confidential note, a public note's terms, revenue-share terms) in no
    answer, button update or confirmation, whatever the role: Slack shows at most public notes."""
    hooks = [bot.command(query, user=user)[1] for user in ("U0PM", "U0BOSS")
             for query in (QUERY, "subscriptions agreed for the first year", "rev share of fees")]
    messages = [bot.answer(hook) for hook in hooks]
    _, click = bot.click("adopted", buttons(messages[3])["adopted"][0], user="U0BOSS")
    messages.append(bot.answer(click))
    _, more = bot.click("more", buttons(messages[0])["more"][0])
    messages.append(bot.answer(more))
    sent = json.dumps([*messages, *(r.body for r in bot.slack.received)], ensure_ascii=False)
    assert NOTE in sent
    for secret in (CANARY, TERMS_CANARY, SHARE_CANARY):
        assert secret not in sent, secret


BAD_HEADERS: dict[str, Callable[[bytes], dict[str, str]]] = {
    "missing": lambda body: dict(FORM),
    "no signature": lambda body: {**FORM, "X-Slack-Request-Timestamp": str(int(time.time()))},
    "other secret": lambda body: signed(body, secret="not-our-secret"),
    "stale": lambda body: signed(body, timestamp=int(time.time()) - 301),
    "from the future": lambda body: signed(body, timestamp=int(time.time()) + 301),
    "malformed timestamp": lambda body: {**signed(body), "X-Slack-Request-Timestamp": "soon"},
    "malformed signature": lambda body: {**signed(body), "X-Slack-Signature": "v0=zz"},
    "another body": lambda body: signed(body + b"&text=more"),
}


def test_bad_stale_and_retried_requests_change_nothing(bot: Bot) -> None:
    _, hook = bot.command(QUERY)
    value = buttons(bot.answer(hook))["adopted"][0]
    before = bot.counts()
    command, command_hook = bot.command_body(QUERY)
    click, click_hook = bot.click_body("adopted", value)
    for name, make_headers in BAD_HEADERS.items():
        for path, body in (("/slack/commands", command), ("/slack/interactions", click)):
            answer = bot.post(path, body, make_headers(body))
            assert answer.status_code == 401, (name, path, answer.text)
    time.sleep(0.5)
    assert bot.counts() == before
    assert bot.slack.posts(command_hook) == [] and bot.slack.posts(click_hook) == []

    # Slack retrying a command it thinks timed out: answered once, recorded once.
    for retry in ("", "1", "2"):
        headers = {**signed(command), **({"X-Slack-Retry-Num": retry} if retry else {})}
        assert bot.post("/slack/commands", command, headers).status_code == 200
    bot.answer(command_hook)
    time.sleep(1.0)
    assert len(bot.slack.posts(command_hook)) == 1
    assert bot.counts() == (before[0] + 1, before[1])


def test_roles_and_workspaces_without_a_list_or_a_bot_token() -> None:
    settings = Settings(slack_user_roles={"U1": "admin", "T1:U2": "viewer", "U3": "owner"})
    assert team_allowed(settings, "T-any") and not team_allowed(
        settings.model_copy(update={"slack_allowed_teams": ["T1"]}), "T-any")
    workspaces = Workspaces(settings)

    def role(user: str, team: str = "T1", own_team: str | None = None) -> str:
        return workspaces.caller(SlackUser(user, "", team, own_team)).role

    assert role("U1") == "admin" and role("U2") == "viewer"
    assert role("U3") == "viewer"  # an unknown role: the least
    assert workspaces.caller(SlackUser("U4", "", "T1")).id == "slack:T1:U4"
    assert role("U4") == "pm"  # nothing to ask Slack: the workspace a request comes from is home
    assert role("U4", own_team="T9") == "viewer"  # a button says the user is another's
    installed = Workspaces(settings.model_copy(update={"slack_team_id": "T1"}))
    assert installed.caller(SlackUser("U4", "", "T5")).role == "viewer"
    # without a bot token nothing can be checked: notes in direct messages only
    assert workspaces.channel_allows_notes("D0DIRECT")
    assert not workspaces.channel_allows_notes("C0GENERAL")


def test_the_start_says_when_slack_is_not_configured(
    tmp_path: Any, matcher_factory: Callable[[Settings, Any], Matcher],
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'nobot.db'}", index_dir=tmp_path / "i")
    with caplog.at_level("WARNING"), TestClient(create_app(settings, matcher_factory)):
        pass
    assert any("SLACK_SIGNING_SECRET is not set" in r.getMessage() for r in caplog.records)


def test_a_command_can_name_the_client(bot: Bot) -> None:
    _, hook = bot.command(f'client:"Sakura Tea KK" {QUERY}')
    message = bot.answer(hook)
    assert QUERY in text_of(message) and "Sakura Tea KK" not in text_of(message)
    _, click = bot.click("propose", buttons(message)["propose"][0])
    bot.answer(click)
    with bot.catalog.sessions() as session:
        request_id = json.loads(buttons(message)["propose"][0])["r"]
        row = session.get(RecommendationRequest, request_id)
        intro = session.scalars(select(Introduction).where(Introduction.request_id == request_id)).one()
    assert row is not None and row.query == QUERY and row.client == {"name": "Sakura Tea KK"}
    assert intro.client == "Sakura Tea KK"
