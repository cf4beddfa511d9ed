"""FastAPI dependencies as Annotated aliases: the session, the caller, the matcher, roles."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from catalog.db import bump_generation
from service.auth import Caller, find_key
from service.errors import Forbidden, Unauthorized
from service.matching import Matcher
from service.settings import Settings

bearer = HTTPBearer(auto_error=False, description="An API key from `partnermatch keys create`.")


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_matcher(request: Request) -> Matcher:
    return request.app.state.matcher


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: commit on success, roll back on error.

    Catalog changes are announced with `catalog_changed`; after the commit they are applied to
    this process's index at once, so the next recommendation sees them.
    """
    with request.app.state.sessions() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        changed = session.info.pop("changed_partners", None)
        if changed:
            request.app.state.matcher.refresh(session, changed, session.info.pop("generation"))


def catalog_changed(session: Session, *partner_ids: str) -> None:
    """Record that these partners changed: bumps the generation other replicas follow."""
    session.info.setdefault("changed_partners", set()).update(partner_ids)
    session.info["generation"] = bump_generation(session)


SettingsDep = Annotated[Settings, Depends(get_settings)]
MatcherDep = Annotated[Matcher, Depends(get_matcher)]
SessionDep = Annotated[Session, Depends(get_session)]


def get_caller(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("missing bearer API key")
    caller = find_key(session, credentials.credentials)
    if caller is None:
        raise Unauthorized("unknown or revoked API key")
    request.app.state.limiter.check(caller.id)
    request.state.caller = caller
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]


def require(role: str) -> Callable[[Caller], Caller]:
    def dependency(caller: CallerDep) -> Caller:
        if not caller.at_least(role):
            raise Forbidden(f"this needs the {role} role or higher; your key has {caller.role}")
        return caller

    return dependency


ViewerDep = Annotated[Caller, Depends(require("viewer"))]
PmDep = Annotated[Caller, Depends(require("pm"))]
ManagerDep = Annotated[Caller, Depends(require("partner_manager"))]
AdminDep = Annotated[Caller, Depends(require("admin"))]
