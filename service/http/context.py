"""Per-request context shared by the middleware, the error handlers and the logs."""

from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
