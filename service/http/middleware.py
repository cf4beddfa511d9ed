"""The app-wide ASGI middleware: request ids, admission, the body size limit, access logs and
metrics."""

from __future__ import annotations

import contextlib
import json
import logging
import time
import uuid

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.http.context import request_id_var
from service.http.errors import error_body
from service.http.observability import Metrics

log = logging.getLogger(__name__)


class RequestContext:
    """Request ids, the body size limit, access logs and metrics, as plain ASGI middleware."""

    def __init__(self, app: ASGIApp, app_ref: FastAPI, max_body: int) -> None:
        self.app = app
        self.app_ref = app_ref
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = str(uuid.uuid4())
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = {"code": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            async with self._admitted():
                await self._handle(scope, receive, send_with_id)
        except _BodyTooLarge:
            await _reject_too_large(send_with_id, self.max_body)
        finally:
            self._observe(scope, status["code"], time.perf_counter() - started)
            request_id_var.reset(token)

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._declared_too_large(scope):
            await _reject_too_large(send, self.max_body)
        elif _nul_in_url(scope):
            await _reject(send, 400, "bad_request", "NUL is not allowed in the URL")
        else:
            await self.app(scope, self._limited(receive), send)

    def _admitted(self) -> contextlib.AbstractAsyncContextManager[object]:
        """At most `max_requests_in_flight` requests at once; the others wait here, in the event
        loop, holding no thread and no database connection (none is rejected)."""
        admission = getattr(self.app_ref.state, "admission", None)  # set by the lifespan
        return admission if admission is not None else contextlib.nullcontext()

    def _declared_too_large(self, scope: Scope) -> bool:
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                return not value.isdigit() or int(value) > self.max_body
        return False

    def _limited(self, receive: Receive) -> Receive:
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_body:
                raise _BodyTooLarge
            return message

        return limited

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        route = _route_template(scope)
        metrics: Metrics = self.app_ref.state.metrics
        metrics.requests.labels(scope["method"], route, str(status)).inc()
        metrics.latency.labels(scope["method"], route).observe(seconds)
        log.info(
            "request",
            extra={"method": scope["method"], "route": route, "status": status,
                   "ms": round(seconds * 1000, 2)},
        )


class _BodyTooLarge(Exception):
    pass


async def _reject_too_large(send: Send, limit: int) -> None:
    await _reject(send, 413, "payload_too_large", f"request bodies are limited to {limit} bytes")


async def _reject(send: Send, status: int, error: str, detail: str) -> None:
    body = json.dumps(error_body(error, detail)).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


def _nul_in_url(scope: Scope) -> bool:
    # A NUL can't be stored or compared by PostgreSQL: refused here, once, for every route.
    query = scope.get("query_string", b"")
    return "\x00" in scope["path"] or b"%00" in query or b"\x00" in query


def _route_template(scope: Scope) -> str:
    # Label by route template, not raw path, so ids don't explode the metric's cardinality.
    route = scope.get("route")  # set by the router on the scope it was handed
    return getattr(route, "path", "unmatched")
