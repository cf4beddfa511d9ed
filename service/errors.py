"""Domain exceptions: what went wrong, in the words of the domain. Every face turns them into its
own answer (the JSON API's one error shape: `service/http/errors.py`; a Slack notice; a CLI
message)."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status_code = 400
    error = "bad_request"
    headers: dict[str, str] | None = None

    def __init__(self, detail: Any = None) -> None:
        super().__init__(detail)
        self.detail = detail if detail is not None else self.error.replace("_", " ")


class BadRequest(DomainError):
    status_code = 400
    error = "bad_request"


class Unauthorized(DomainError):
    status_code = 401
    error = "unauthorized"
    headers: dict[str, str] | None = {"WWW-Authenticate": "Bearer"}


class Forbidden(DomainError):
    status_code = 403
    error = "forbidden"


class NotFound(DomainError):
    status_code = 404
    error = "not_found"


class Conflict(DomainError):
    status_code = 409
    error = "conflict"


class Unprocessable(DomainError):
    """Well-formed, but it names something the request cannot refer to."""

    status_code = 422
    error = "validation_error"


class RateLimited(DomainError):
    status_code = 429
    error = "rate_limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many requests; retry after {retry_after} s")
        self.headers = {"Retry-After": str(retry_after)}


class Unavailable(DomainError):
    status_code = 503
    error = "unavailable"
