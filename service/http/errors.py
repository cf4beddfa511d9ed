"""The one error shape of the API, {"error", "detail", "fields", "request_id"}, and the handlers
that give every failure that shape: `detail` is always one sentence, `fields` names each refused
field of a validation error (empty otherwise)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
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


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.error, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Never the rejected input itself: it could carry confidential text into logs and clients.
        language = language_of(request.headers.get("accept-language"))
        fields = [{"field": ".".join(p for p in e["loc"][1:] if isinstance(p, str)) or str(e["loc"][0]),
                   "message": field_message(e, language)} for e in exc.errors()]
        detail = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
        return JSONResponse(error_body("validation_error", detail, fields), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        name = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(
            error_body(name, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(IntegrityError)
    async def integrity_error(_: Request, exc: IntegrityError) -> JSONResponse:
        # A unique key taken by another row, or by a concurrent request that committed first.
        return JSONResponse(
            error_body("conflict", "conflicts with data already stored"), status_code=409
        )

    @app.exception_handler(DataError)  # PostgreSQL: a value out of the column's range
    @app.exception_handler(OverflowError)  # SQLite: an integer wider than 64 bits
    async def out_of_range(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(
            error_body("bad_request", "a value is out of the range that can be stored"),
            status_code=400,
        )

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return JSONResponse(error_body("internal_error", "internal server error"), status_code=500)
