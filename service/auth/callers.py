"""Callers and their roles, and what each role may read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

ROLES = ("viewer", "pm", "partner_manager", "admin")
RANK = {role: rank for rank, role in enumerate(ROLES)}


@dataclass(frozen=True)
class Caller:
    """Who is asking: an API key or a Slack user mapped to a role."""

    id: str
    name: str
    role: str

    def at_least(self, role: str) -> bool:
        return RANK[self.role] >= RANK[role]

    @property
    def sees_notes(self) -> bool:
        return self.at_least("pm")

    @property
    def sees_confidential(self) -> bool:
        return self.at_least("partner_manager")

    @property
    def label(self) -> str:
        return f"{self.name} ({self.id})"


class _Note(Protocol):
    confidential: bool


N = TypeVar("N", bound=_Note)


def readable(notes: Sequence[N], caller: Caller) -> list[N]:
    """The notes this caller may read: none for viewers, no confidential ones for PMs."""
    if not caller.sees_notes:
        return []
    return [n for n in notes if caller.sees_confidential or not n.confidential]
