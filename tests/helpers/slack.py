"""A fake Slack on loopback: what our app posts to response_url and calls of its Web API."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route


@dataclass
class Received:
    kind: str  # "response" (a response_url post) or "api" (a Web API call)
    name: str  # the response_url's hook name, or the API method
    body: dict[str, Any]
    at: float


@dataclass
class FakeSlack:
    """Records what our app sends to Slack and answers its Web API like the installing workspace
    `team` would: channels whose id starts with CEXT are shared with another organisation; users
    belong to `team` unless `user_teams` says otherwise; `guests` are guest accounts."""

    team: str = "T0PARTNER"
    user_teams: dict[str, str] = field(default_factory=dict)
    guests: set[str] = field(default_factory=set)
    locales: dict[str, str] = field(default_factory=dict)  # users.info's locale, else ja-JP
    received: list[Received] = field(default_factory=list)
    url: str = ""
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/response/{hook}", self._response, methods=["POST"]),
            Route("/api/{method}", self._api, methods=["GET", "POST"]),
        ])

    def response_url(self, hook: str) -> str:
        return f"{self.url}/response/{hook}"

    def posts(self, hook: str) -> list[dict[str, Any]]:
        return [r.body for r in self.received if r.kind == "response" and r.name == hook]

    def calls(self, method: str) -> list[dict[str, Any]]:
        return [r.body for r in self.received if r.kind == "api" and r.name == method]

    def wait(self, ready: Callable[[], Any], timeout: float = 20) -> Any:
        """Block until `ready()` is truthy and return it; fail after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not (result := ready()):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"Slack received nothing matching in {timeout} s")
                self._changed.wait(left)
        return result

    def _record(self, kind: str, name: str, body: dict[str, Any]) -> None:
        with self._changed:
            self.received.append(Received(kind, name, body, time.monotonic()))
            self._changed.notify_all()

    async def _response(self, request: Request) -> Response:
        self._record("response", request.path_params["hook"], await request.json())
        return PlainTextResponse("ok")

    async def _api(self, request: Request) -> Response:
        method = request.path_params["method"]
        body: dict[str, Any] = dict(request.query_params)
        if request.headers.get("content-type", "").startswith("application/json"):
            body.update(await request.json())
        else:
            body.update(parse_qsl((await request.body()).decode()))
        body["authorization"] = request.headers.get("authorization", "")
        self._record("api", method, body)
        if method == "conversations.info":
            channel = str(body.get("channel", ""))
            return JSONResponse({"ok": True, "channel": {
                "id": channel, "is_ext_shared": channel.startswith("CEXT")}})
        if method == "users.info":
            user = str(body.get("user", ""))
            return JSONResponse({"ok": True, "user": {
                "id": user, "team_id": self.user_teams.get(user, self.team),
                "is_restricted": user in self.guests, "locale": self.locales.get(user, "ja-JP")}})
        if method == "auth.test":
            return JSONResponse({"ok": True, "team_id": self.team})
        return JSONResponse({"ok": True})
