"""Liveness, readiness and metrics: open to all, no key needed."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from service.errors import Unavailable

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> dict[str, object]:
    """The database answers and the index is loaded: searchable, by keyword at least. While a
    large catalog's vectors are encoded in the background, `vectors_pending` counts the listings
    left and `complete` is false."""
    state = request.app.state
    try:
        with state.database.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:
        raise Unavailable("database unreachable") from error
    if not state.matcher.ready:
        raise Unavailable("index not ready")
    return {"status": "ready", **state.matcher.status()}


@router.get("/metrics", response_class=Response)
def metrics(request: Request) -> Response:
    """Prometheus metrics: requests and latency by route, index size and generation."""
    state = request.app.state
    state.metrics.index_size.set(state.matcher.engine.count())
    state.metrics.index_generation.set(state.matcher.generation)
    state.metrics.index_pending.set(state.matcher.engine.pending())
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
