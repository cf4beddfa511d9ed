"""What every console page shares: the templates, the signed-in user and the form check."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from service.console import charts
from service.console.i18n import LANG_COOKIE, LANGUAGES, language_of, translator
from service.console.session import ConsoleUser, check_csrf, current_user
from service.http.deps import SessionDep

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["highlight"] = charts.highlight


def _user(request: Request, session: SessionDep) -> ConsoleUser:
    return current_user(request, session)


UserDep = Annotated[ConsoleUser, Depends(_user)]


def _posted(user: UserDep, csrf: Annotated[str, Form()] = "") -> ConsoleUser:
    """The user of a form post that carries its session's CSRF token."""
    check_csrf(user.csrf, csrf)
    return user


PostedDep = Annotated[ConsoleUser, Depends(_posted)]


def render(request: Request, name: str, user: ConsoleUser | None, status_code: int = 200,
           **context: Any) -> HTMLResponse:
    language = language_of(request)
    response = templates.TemplateResponse(
        request, name, {"t": translator(language), "lang": language, "languages": LANGUAGES,
                        "user": user, "caller": user.caller if user else None,
                        "yen": charts.yen, **context},
        status_code=status_code,
    )
    if request.query_params.get("lang") in LANGUAGES:  # the switch sticks
        response.set_cookie(LANG_COOKIE, language, max_age=365 * 86400, samesite="lax")
    return response


def forbidden(request: Request, user: ConsoleUser) -> HTMLResponse:
    return render(request, "forbidden.html", user, status_code=403)
