"""What every console page shares: the templates, the signed-in user and the form check."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from catalog.db import reading
from service.console import charts
from service.console.i18n import LANG_COOKIE, LANGUAGES, MESSAGES, language_of, translator
from service.console.session import ConsoleUser, SignInNeeded, check_csrf, current_user
from service.http.deps import SessionDep
from service.http.errors import refused_fields

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["highlight"] = charts.highlight


def _user(request: Request, session: SessionDep) -> ConsoleUser:
    return current_user(request, session)


UserDep = Annotated[ConsoleUser, Depends(_user)]


async def _posted(request: Request, user: UserDep, csrf: Annotated[str, Form()] = "") -> ConsoleUser:
    """The user of a form post that carries its session's CSRF token. The fields typed are kept
    for the request, so a page that refuses them can offer them again."""
    check_csrf(user.csrf, csrf)
    form = await request.form()  # already read for the route's fields: parsed once
    request.state.typed = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf"}
    return user


PostedDep = Annotated[ConsoleUser, Depends(_posted)]


def render(request: Request, name: str, user: ConsoleUser | None, status_code: int = 200,
           **context: Any) -> HTMLResponse:
    language = language_of(request)
    response = templates.TemplateResponse(
        request, name, {"t": translator(language), "lang": language, "languages": LANGUAGES,
                        "switch": {code: _switched(request, code) for code in LANGUAGES},
                        "user": user, "caller": user.caller if user else None,
                        "yen": charts.yen, **context},
        status_code=status_code,
    )
    if request.query_params.get("lang") in LANGUAGES:  # the switch sticks
        response.set_cookie(LANG_COOKIE, language, max_age=365 * 86400, samesite="lax")
    return response


def _switched(request: Request, language: str) -> str:
    """This page in another language: the same path and query (a search stays a search)."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return f"{request.url.path}?{urlencode([*query, ('lang', language)])}"


def forbidden(request: Request, user: ConsoleUser) -> HTMLResponse:
    return render(request, "forbidden.html", user, status_code=403)


# Fields of the console's forms that are chosen or carried, not typed: sent again as they were.
UNTYPED = frozenset({"request_id", "partner_id", "verdict", "back", "confirm", "status", "kind",
                     "revenue_period"})
CHECKBOXES = frozenset({"confidential"})


def error_page(
    request: Request, status: int, body: dict[str, Any], exc: Exception
) -> HTMLResponse | None:
    """A failure of a console page as a page in the user's language, with the way back and, for
    a refused form, the fields as they were typed to correct and send again; None for the API's
    routes (they answer JSON)."""
    endpoint = request.scope.get("endpoint")
    if endpoint is None or not endpoint.__module__.startswith("service.console."):
        return None
    language = language_of(request)
    fields = body["fields"]
    if isinstance(exc, RequestValidationError | ValidationError):  # in the page's language
        fields = refused_fields(exc.errors(), language, 1 if isinstance(exc, RequestValidationError) else 0)
    with reading(request.app.state.sessions) as session:
        try:
            user: ConsoleUser | None = current_user(request, session)
        except SignInNeeded:
            user = None
    sent: dict[str, str] = getattr(request.state, "typed", {}) if request.method == "POST" else {}
    typed = {k: v for k, v in sent.items() if v.strip()}
    if not set(typed) - UNTYPED:  # nothing typed to offer again
        typed = {}
    referer = request.headers.get("referer", "")
    back = referer if referer.startswith(str(request.base_url)) else "/"
    known = status if f"err_{status}" in MESSAGES[language] else "other"
    return render(request, "error.html", user, status_code=status, known=known,
                  detail=body["detail"] if not fields else "", fields=fields, typed=typed,
                  untyped=UNTYPED, checkboxes=CHECKBOXES, action=request.url.path, back=back)
