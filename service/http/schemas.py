"""What every API schema builds on: inputs that forbid unknown fields and unstorable text,
outputs read from rows, and the date query parameters."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Self

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, model_validator

Text = Field(default="", max_length=20_000)
Tags: Any = Field(default_factory=list, max_length=100)
# A page of a list: at most 200 rows, from at most 100,000 rows in (deeper pages would make the
# database skip that many rows for each request: narrow the filters instead).
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=100_000)]
# Dates a period may start or end on: far enough for any report, and month arithmetic stays valid.
EARLIEST, LATEST = dt.date(1970, 1, 1), dt.date(2999, 12, 31)


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="after")
    def _storable_text(self) -> Self:
        """NUL and unpaired surrogates can't be stored (PostgreSQL, UTF-8): refused with a 422."""
        for name, value in self:
            if not _storable(value):
                raise ValueError(f"{name}: text must not contain NUL or unpaired surrogates")
        return self


def _storable(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")  # fails on an unpaired surrogate
        except UnicodeEncodeError:
            return False
        return "\x00" not in value
    if isinstance(value, list | tuple):
        return all(_storable(v) for v in value)
    if isinstance(value, dict):
        return all(_storable(k) and _storable(v) for k, v in value.items())
    return True


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def date_query(alias: str, description: str) -> Any:
    """A date query parameter (`from`, `to`) within EARLIEST..LATEST."""
    # pydantic bounds dates as it bounds numbers; FastAPI's signature only says numbers
    return Query(alias=alias, ge=EARLIEST, le=LATEST, description=description)  # type: ignore[arg-type]
