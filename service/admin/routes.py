"""Admin operations: a full rebuild of the index from the database."""

from __future__ import annotations

import time

from fastapi import APIRouter

from service.admin.schemas import ReindexRead
from service.audit import audit
from service.http.deps import AdminDep, MatcherDep, SessionDep

router = APIRouter(prefix="/v1/admin", tags=["admin"])


@router.post("/reindex", response_model=ReindexRead)
def reindex(session: SessionDep, matcher: MatcherDep, caller: AdminDep) -> ReindexRead:
    """Rebuild this worker's index from the database and save it; searches go on meanwhile."""
    started = time.perf_counter()
    partners = matcher.rebuild()
    audit(session, caller.label, "reindex", "index", "all",
          {"partners": partners, "generation": matcher.generation})
    took = round((time.perf_counter() - started) * 1000, 2)
    return ReindexRead(partners=partners, generation=matcher.generation, took_ms=took)
