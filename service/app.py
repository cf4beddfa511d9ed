"""The FastAPI application: `create_app(settings)`; heavy resources live in the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from catalog.db import make_engine, session_factory, upgrade
from service import errors, slack
from service.auth import KeyCache, RateLimiter
from service.context import request_id_var
from service.matching import Matcher
from service.observability import Metrics, configure_logging
from service.routes import (
    admin,
    feedback,
    health,
    initiatives,
    introductions,
    kpis,
    notes,
    partners,
    recommendations,
)
from service.settings import Settings

log = logging.getLogger(__name__)
MatcherFactory = Callable[[Settings, Any], Matcher]


def create_app(settings: Settings, matcher_factory: MatcherFactory = Matcher) -> FastAPI:
    app = FastAPI(
        title="partnermatch",
        version="0.1.0",
        description="Partner recommendations for a Shopify agency: catalog, matching, notes, KPIs.",
        lifespan=_lifespan(settings, matcher_factory),
        responses=errors.ERROR_RESPONSES,
    )
    app.state.settings = settings
    app.state.metrics = Metrics()
    app.state.limiter = RateLimiter(settings.rate_limit_per_minute)
    app.state.keys = KeyCache(settings.auth_cache_seconds)
    errors.install(app)
    for module in (health, recommendations, partners, notes, slack,
                   feedback, introductions, initiatives, kpis, admin):
        app.include_router(module.router)
    app.add_middleware(RequestContext, app_ref=app, max_body=settings.max_body_bytes)
    return app


def _lifespan(settings: Settings, matcher_factory: MatcherFactory):  # type: ignore[no-untyped-def]
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        await run_in_threadpool(upgrade, engine)
        app.state.db = engine
        app.state.sessions = session_factory(engine)
        app.state.admission = anyio.Semaphore(settings.max_requests_in_flight)
        app.state.matcher = matcher_factory(settings, app.state.sessions)
        await run_in_threadpool(app.state.matcher.start)
        await run_in_threadpool(app.state.matcher.warm_up)
        follower = asyncio.create_task(_follow_catalog(app, settings.index_poll_seconds))
        try:
            yield
        finally:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
            try:
                await run_in_threadpool(app.state.matcher.flush)  # the last changes' save
            except Exception:
                log.exception("index save at shutdown failed; the next start catches up")
            engine.dispose()

    return lifespan


async def _follow_catalog(app: FastAPI, every: float) -> None:
    """Pick up catalog changes made by other processes (replicas, the CLI)."""
    while True:
        await asyncio.sleep(every)
        try:
            await run_in_threadpool(app.state.matcher.sync)
        except Exception:
            log.exception("index sync failed; retrying")


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
    import json

    body = json.dumps(errors.error_body(error, detail)).encode()
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


def build_app_from_environment() -> FastAPI:
    settings = Settings()
    configure_logging(settings.log_level)
    return create_app(settings)
