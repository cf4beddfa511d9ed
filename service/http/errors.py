"""The one error shape of the API, {"error", "detail", "fields", "request_id"}, and the handlers
that give every failure that shape: `detail` is always one sentence, `fields` names each refused
field of a validation error (empty otherwise)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.errors import DomainError
from service.http.context import request_id_var
from service.http.forms import field_message, language_of

log = logging.getLogger(__name__)


def error_body(
    error: str, detail: str, fields: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    return {"error": error, "detail": detail, "fields": fields or [],
            "request_id": request_id_var.get()}


class FieldError(BaseModel):
    field: str
    message: str


class ErrorRead(BaseModel):
    """The one error shape of the API."""

    error: str
    detail: str
    fields: list[FieldError]
    request_id: str | None


# Documented on every route, so clients (and schema checks) know each answer's shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorRead, "description": description}
    for status, description in (
        (400, "Bad request"), (401, "Missing or unknown API key"), (403, "Role too low"),
        (404, "Not found"), (409, "Conflict with stored data"), (413, "Body too large"),
        (422, "Invalid input: `fields` says which, and the form expected"),
        (429, "Rate limited"), (503, "Not ready"),
    )
}


ErrorPage = Callable[[Request, int, dict[str, Any], Exception], Response | None]


def _answer(
    request: Request, exc: Exception, status: int, body: dict[str, Any],
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The error in the one JSON shape, unless a face that renders pages (the console, which
    sets `app.state.error_page`) answers it with a page of its own."""
    page: ErrorPage | None = getattr(request.app.state, "error_page", None)
    if page is not None and (answer := page(request, status, body, exc)) is not None:
        return answer
    return JSONResponse(body, status_code=status, headers=headers)


def refused_fields(errors: Sequence[Any], language: str, skip: int) -> list[dict[str, str]]:
    """Each refused field of a validation error (its location less `skip` leading parts: a
    request's "body"), never with the rejected input itself: it could carry confidential text
    into logs and clients."""
    return [{"field": ".".join(str(p) for p in e["loc"][skip:] if isinstance(p, str))
             or str(e["loc"][0]), "message": field_message(e, language)} for e in errors]


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        return _answer(request, exc, exc.status_code, error_body(exc.error, str(exc.detail)),
                       exc.headers)

    @app.exception_handler(RequestValidationError)
    @app.exception_handler(ValidationError)  # a form's fields checked by a schema in the route
    async def validation_error(
        request: Request, exc: RequestValidationError | ValidationError
    ) -> Response:
        language = language_of(request.headers.get("accept-language"))
        skip = 1 if isinstance(exc, RequestValidationError) else 0
        fields = refused_fields(exc.errors(), language, skip)
        detail = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
        return _answer(request, exc, 422, error_body("validation_error", detail, fields))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        name = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _answer(request, exc, exc.status_code, error_body(name, str(exc.detail)),
                       exc.headers)

    @app.exception_handler(IntegrityError)
    async def integrity_error(request: Request, exc: IntegrityError) -> Response:
        # A unique key taken by another row, or by a concurrent request that committed first.
        return _answer(request, exc, 409, error_body("conflict", "conflicts with data already stored"))

    @app.exception_handler(DataError)  # PostgreSQL: a value out of the column's range
    @app.exception_handler(OverflowError)  # SQLite: an integer wider than 64 bits
    async def out_of_range(request: Request, exc: Exception) -> Response:
        return _answer(request, exc, 400, error_body(
            "bad_request", "a value is out of the range that can be stored"))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error")
        return _answer(request, exc, 500, error_body("internal_error", "internal server error"))
