"""App-wide FastAPI dependencies as Annotated aliases: the settings, the matcher, the session,
the caller and the roles."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from catalog.db import reading, transaction
from service.auth.callers import Caller
from service.errors import Forbidden, Unauthorized
from service.index.matcher import Matcher
from service.settings import Settings

bearer = HTTPBearer(auto_error=False, description="An API key from `partnermatch keys create`.")


# Dependencies that do no I/O are coroutines: FastAPI runs a plain function in a worker thread,
# a hop of its own per dependency and request.
async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_matcher(request: Request) -> Matcher:
    return request.app.state.matcher


def get_session(request: Request) -> Iterator[Session]:
    """One unit of work per request: commit on success, roll back on error. A GET only reads:
    its transaction takes no write lock on SQLite (`reading`). What a request changed reaches
    this process's index right after the commit (`service/index/changes.py`)."""
    if request.method in ("GET", "HEAD"):
        with reading(request.app.state.sessions) as session:
            request.state.session = session
            yield session
        return
    with transaction(request.app.state.sessions) as session:
        request.state.session = session
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
MatcherDep = Annotated[Matcher, Depends(get_matcher)]
# "function" scope: commit before the response is sent, so a 2xx is only ever sent for a
# committed write (FastAPI's default runs the exit code after the response).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def get_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    """The key's caller, found before the request was admitted (`service/http/admission.py`);
    `credentials` only documents the bearer scheme in the OpenAPI schema."""
    caller = getattr(request.state, "caller", None)
    if caller is None:
        raise Unauthorized("missing bearer API key")
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]


def require(role: str) -> Callable[[Caller], Awaitable[Caller]]:
    async def dependency(caller: CallerDep) -> Caller:
        if not caller.at_least(role):
            raise Forbidden(f"this needs the {role} role or higher; your key has {caller.role}")
        return caller

    return dependency


ViewerDep = Annotated[Caller, Depends(require("viewer"))]
PmDep = Annotated[Caller, Depends(require("pm"))]
ManagerDep = Annotated[Caller, Depends(require("partner_manager"))]
AdminDep = Annotated[Caller, Depends(require("admin"))]
