"""The FastAPI application: `create_app(settings)`; heavy resources live in the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from catalog.db import open_database, session_factory, upgrade
from service.admin import routes as admin
from service.auth.keys import KeyCache
from service.auth.limiter import RateLimiter
from service.console import routes as console
from service.http import docs, errors, health
from service.http.admission import Admission
from service.http.middleware import RequestContext
from service.http.observability import Metrics, configure_logging
from service.index.changes import follow_commits
from service.index.matcher import Matcher
from service.introductions import routes as introductions
from service.kpis import routes as kpis
from service.partners import routes as partners
from service.recommendations import routes as recommendations
from service.settings import Settings
from service.slack import routes as slack
from service.slack.workspace import Workspaces

log = logging.getLogger(__name__)
MatcherFactory = Callable[[Settings, Any], Matcher]


def create_app(settings: Settings, matcher_factory: MatcherFactory = Matcher) -> FastAPI:
    app = FastAPI(
        title="partnermatch",
        version="0.1.0",
        description="Partner recommendations for a Shopify agency: catalog, matching, notes, KPIs.",
        lifespan=_lifespan(settings, matcher_factory),
        responses=errors.ERROR_RESPONSES,
        docs_url=None, redoc_url=None,  # served from installed files: `service/http/docs.py`
    )
    app.state.settings = settings
    app.state.metrics = Metrics()
    app.state.limiter = RateLimiter(settings.rate_limit_per_minute)
    app.state.keys = KeyCache(settings.auth_cache_seconds)
    app.state.workspaces = Workspaces(settings)
    errors.install(app)
    docs.install(app)
    console.install(app)
    for module in (health, recommendations, partners, slack, introductions, kpis, admin):
        app.include_router(module.router)
    app.add_middleware(Admission, app_ref=app, settings=settings)
    app.add_middleware(RequestContext, app_ref=app)  # outermost: every answer has its id
    return app


def _lifespan(settings: Settings, matcher_factory: MatcherFactory):  # type: ignore[no-untyped-def]
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not settings.slack_signing_secret.strip():
            log.warning("PARTNERMATCH_SLACK_SIGNING_SECRET is not set: every Slack request is "
                        "refused (401) until it is")
        database = open_database(settings.database_url)
        await run_in_threadpool(upgrade, database)
        app.state.database = database
        app.state.sessions = session_factory(database)
        app.state.matcher = matcher_factory(settings, app.state.sessions)
        app.state.matcher.serve_keyword_first()
        # what a request, a Slack job or any other unit of work of this process commits
        follow_commits(app.state.sessions, app.state.matcher.refresh)
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
            database.dispose()

    return lifespan


async def _follow_catalog(app: FastAPI, every: float) -> None:
    """Pick up catalog changes made by other processes (replicas, the CLI)."""
    while True:
        await asyncio.sleep(every)
        try:
            await run_in_threadpool(app.state.matcher.sync)
        except Exception:
            log.exception("index sync failed; retrying")


def build_app_from_environment() -> FastAPI:
    settings = Settings()
    configure_logging(settings.log_level)
    return create_app(settings)
