"""App-wide FastAPI dependencies as Annotated aliases: the settings, the matcher, the session,
the caller and the roles."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from catalog.db import reading, transaction
from service.auth.callers import Caller
from service.auth.keys import find_key
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
    """The key's caller: from the key cache in the event loop, else read in a worker thread."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("missing bearer API key")
    keys = request.app.state.keys
    caller = keys.cached(credentials.credentials)
    if caller is None:
        caller = await run_in_threadpool(_look_up, request, credentials.credentials)
        if caller is None:
            raise Unauthorized("unknown or revoked API key")
        keys.remember(credentials.credentials, caller)
    request.app.state.limiter.check(caller.id)
    request.state.caller = caller
    return caller


def _look_up(request: Request, key: str) -> Caller | None:
    session = getattr(request.state, "session", None)
    if session is not None and session.in_transaction():
        # another dependency has begun the request's transaction: read in it, rather than
        # hold a second connection of the pool
        return find_key(session, key)
    # Else a short read of its own, so the request's transaction (on SQLite: the write lock)
    # starts only when the route needs the database: a search does not run under the lock.
    with reading(request.app.state.sessions) as own:
        return find_key(own, key)


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
