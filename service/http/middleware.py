"""The outermost ASGI middleware: request ids, access logs and metrics (what a request must pass
before the app is `admission.py`)."""

from __future__ import annotations

import logging
import time
import uuid

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.http.context import request_id_var
from service.http.observability import Metrics

log = logging.getLogger(__name__)


class RequestContext:
    """Request ids, access logs and metrics, as plain ASGI middleware."""

    def __init__(self, app: ASGIApp, app_ref: FastAPI) -> None:
        self.app = app
        self.app_ref = app_ref

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
            await self.app(scope, receive, send_with_id)
        finally:
            self._observe(scope, status["code"], time.perf_counter() - started)
            request_id_var.reset(token)

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


def _route_template(scope: Scope) -> str:
    # Label by route template, not raw path, so ids don't explode the metric's cardinality.
    route = scope.get("route")  # set by the router on the scope it was handed
    return getattr(route, "path", "unmatched")
