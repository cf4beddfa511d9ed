"""Structured JSON logs with request ids, and Prometheus metrics."""

from __future__ import annotations

import json
import logging
import sqlite3
import sys
import traceback
from datetime import UTC, datetime

import psycopg
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from sqlalchemy.exc import StatementError

from service.http.context import request_id_var

_STANDARD = set(vars(logging.makeLogRecord({})))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": request_id_var.get(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)

    def formatException(self, ei) -> str:  # type: ignore[no-untyped-def]  # noqa: N802
        """The traceback, with database errors told by class, SQLSTATE and SQL only: their
        messages may quote stored values (PostgreSQL's "Failing row contains (...)")."""
        error = ei[1]
        parts, seen = [], set()
        while error is not None and id(error) not in seen:
            seen.add(id(error))
            frames = "".join(traceback.format_tb(error.__traceback__))
            parts.append(f"{frames}{type(error).__module__}.{type(error).__qualname__}: "
                         f"{_safe_message(error)}")
            error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
        return "\n(raised while handling, or caused by:)\n".join(reversed(parts))


def _safe_message(error: BaseException) -> str:
    if isinstance(error, StatementError):
        original = error.orig
        state = getattr(original, "sqlstate", None) or getattr(original, "sqlite_errorname", None)
        return f"{type(original).__name__} ({state}) in SQL: {error.statement}"
    if isinstance(error, psycopg.Error | sqlite3.Error):
        state = getattr(error, "sqlstate", None) or getattr(error, "sqlite_errorname", None)
        return f"database error ({state})"
    return str(error)


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    # On the handler too: some libraries (bm25s) set their own loggers to DEBUG when imported.
    handler.setLevel(level.upper())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


class Metrics:
    """One registry per app, so several apps (tests, workers) never share counters by accident."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "partnermatch_http_requests_total", "HTTP requests", ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "partnermatch_http_request_seconds", "HTTP request latency", ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.index_size = Gauge(
            "partnermatch_index_documents", "Partners in the index", registry=self.registry
        )
        self.index_generation = Gauge(
            "partnermatch_index_generation", "Catalog generation of the index",
            registry=self.registry,
        )
        self.index_pending = Gauge(
            "partnermatch_index_vectors_pending",
            "Partners searchable by keyword whose vectors are still being encoded",
            registry=self.registry,
        )
