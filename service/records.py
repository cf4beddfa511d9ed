"""Rows by id and PATCH, the one way every domain does them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from service.errors import BadRequest, NotFound

Row = TypeVar("Row")


def get_or_404(session: Session, model: type[Row], row_id: str, what: str | None = None) -> Row:
    """The row of `model` with this id; NotFound when there is none or it was withdrawn (a row
    with a `deleted_at` is kept for the record, but is gone for every caller)."""
    row = session.get(model, row_id)
    if row is None or getattr(row, "deleted_at", None) is not None:
        name = what or getattr(model, "__tablename__", model.__name__).rstrip("s").replace("_", " ")
        raise NotFound(f"no {name} {row_id}")
    return row


def apply_patch(row: Any, changes: Mapping[str, Any]) -> None:
    """Set the fields sent. Null clears a field that may be empty; for one that may not (its
    column is NOT NULL), it is refused and nothing changes."""
    columns = row.__table__.c
    refused = [name for name, value in changes.items() if value is None and not columns[name].nullable]
    if refused:
        raise BadRequest(f"{', '.join(refused)} cannot be null")
    for name, value in changes.items():
        setattr(row, name, value)
