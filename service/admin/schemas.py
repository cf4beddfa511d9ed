"""Schemas of admin operations."""

from __future__ import annotations

from pydantic import BaseModel


class ReindexRead(BaseModel):
    partners: int
    generation: int
    took_ms: float
