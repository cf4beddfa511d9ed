"""What a request must pass before it takes one of the process's request slots.

A slot is what the app handles a request in (`max_requests_in_flight` at once). Nothing that has
not shown a key may hold one, and nothing slow on the client's side may either:
1. the health routes (`/healthz`, `/readyz`, `/metrics`) skip all of this: they answer whatever
   else is going on;
2. the API (`/v1/...`) needs a valid key, checked first (the key cache, else a short read). A
   missing or wrong key is a 401, and counts against the client address: past
   `auth_failures_per_minute` of them it is a 429. A valid key counts against its own rate;
   Slack's routes need its signature headers (the signature itself is checked on the body);
3. the body is read whole, within `body_timeout_seconds` (else 408) and `max_body_bytes` (else
   413), before the request waits for a slot: a client trickling its body holds a connection,
   never a slot;
4. then it waits for a slot, in the event loop (no thread, no database connection); when
   `max_requests_waiting` already wait, it is a 503 with Retry-After.
"""

from __future__ import annotations

import json
import time

import anyio
from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from catalog.db import reading
from service.auth.callers import Caller
from service.auth.keys import find_key
from service.auth.limiter import RateLimiter
from service.errors import BadRequest, DomainError, Unauthorized, Unavailable
from service.http.errors import error_body
from service.settings import Settings

OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
KEYED = "/v1/"
SIGNED = "/slack/"
SLACK_HEADERS = (b"x-slack-signature", b"x-slack-request-timestamp")
SLACK_WINDOW = 300  # seconds: Slack's own limit on a request's age


class RequestTimeout(DomainError):
    status_code = 408
    error = "request_timeout"


class PayloadTooLarge(DomainError):
    status_code = 413
    error = "payload_too_large"


class Unsigned(Unauthorized):
    headers = None  # not a bearer-token route: no WWW-Authenticate challenge


class Busy(Unavailable):
    def __init__(self) -> None:
        super().__init__("too many requests are waiting; retry in a moment")
        self.headers = {"Retry-After": "1"}


class Admission:
    def __init__(self, app: ASGIApp, app_ref: FastAPI, settings: Settings) -> None:
        self.app = app
        self.app_ref = app_ref
        self.settings = settings
        self.failures = RateLimiter(settings.auth_failures_per_minute)
        self._slots: anyio.Semaphore | None = None
        self._waiting = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        try:
            _check_url(scope)
            await self._identify(scope)
            body = await self._read_body(scope, receive)
            slots = self._take_turn()
        except DomainError as error:
            await reject(send, error)
            return
        async with slots:
            await self.app(scope, _replay(body, receive), send)

    async def _identify(self, scope: Scope) -> None:
        path = scope["path"]
        if path.startswith(SIGNED):
            _check_slack_headers(scope)
        elif path.startswith(KEYED):
            caller = await self._caller(scope)
            self.app_ref.state.limiter.check(caller.id)
            scope.setdefault("state", {})["caller"] = caller

    async def _caller(self, scope: Scope) -> Caller:
        key = _bearer_key(scope)
        keys = self.app_ref.state.keys
        caller = keys.cached(key) if key else None
        if caller is None and key:
            caller = await run_in_threadpool(self._find, key)
            if caller is not None:
                keys.remember(key, caller)
        if caller is None:
            self.failures.check(_client(scope))  # 429 once this address has failed too often
            raise Unauthorized("unknown or revoked API key" if key else "missing bearer API key")
        return caller

    def _find(self, key: str) -> Caller | None:
        with reading(self.app_ref.state.sessions) as session:
            return find_key(session, key)

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        limit = self.settings.max_body_bytes
        if _declared_length(scope) > limit:
            raise PayloadTooLarge(f"request bodies are limited to {limit} bytes")
        chunks, size = [], 0
        try:
            with anyio.fail_after(self.settings.body_timeout_seconds):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        break
                    chunks.append(message.get("body", b""))
                    size += len(chunks[-1])
                    if size > limit:
                        raise PayloadTooLarge(f"request bodies are limited to {limit} bytes")
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            raise RequestTimeout(
                f"the request body did not arrive within {self.settings.body_timeout_seconds:g} s"
            ) from None
        return b"".join(chunks)

    def _take_turn(self) -> _Turn:
        """A place in the line for a slot, or Busy when the line is full."""
        if self._slots is None:  # made in the event loop, at the first request
            self._slots = anyio.Semaphore(self.settings.max_requests_in_flight)
        if self._slots.value == 0 and self._waiting >= self.settings.max_requests_waiting:
            raise Busy()
        return _Turn(self)


class _Turn:
    """Waiting for a slot (counted while it waits), then holding it."""

    def __init__(self, admission: Admission) -> None:
        self.admission = admission

    async def __aenter__(self) -> None:
        admission = self.admission
        assert admission._slots is not None
        admission._waiting += 1
        try:
            await admission._slots.acquire()
        finally:
            admission._waiting -= 1

    async def __aexit__(self, *_: object) -> None:
        assert self.admission._slots is not None
        self.admission._slots.release()


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body read already, then the connection's own messages (a disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def reject(send: Send, error: DomainError) -> None:
    body = json.dumps(error_body(error.error, str(error.detail))).encode()
    headers = [(b"content-type", b"application/json")]
    headers += [(k.lower().encode(), v.encode()) for k, v in (error.headers or {}).items()]
    await send({"type": "http.response.start", "status": error.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> bytes | None:
    return next((value for key, value in scope.get("headers", []) if key == name), None)


def _bearer_key(scope: Scope) -> str | None:
    scheme, _, key = (_header(scope, b"authorization") or b"").decode("latin-1").partition(" ")
    return key.strip() or None if scheme.lower() == "bearer" else None


def _check_slack_headers(scope: Scope) -> None:
    signature, stamp = (_header(scope, name) for name in SLACK_HEADERS)
    fresh = stamp is not None and stamp.isdigit() and abs(time.time() - int(stamp)) <= SLACK_WINDOW
    if not signature or not fresh:
        raise Unsigned("missing, bad or stale Slack signature")


def _check_url(scope: Scope) -> None:
    # A NUL can't be stored or compared by PostgreSQL: refused here, once, for every route.
    query = scope.get("query_string", b"")
    if "\x00" in scope["path"] or b"%00" in query or b"\x00" in query:
        raise BadRequest("NUL is not allowed in the URL")


def _declared_length(scope: Scope) -> int:
    value = _header(scope, b"content-length")
    if value is None:
        return 0
    return int(value) if value.isdigit() else 1 << 62  # unreadable: as too large


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return f"address:{client[0]}" if client else "address:unknown"
