"""How long work reports its progress: a callback the caller may pass, or not."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Told `done` of `total` items of a stage (e.g. "encoding (e5)") are done; called from the
    thread doing the work, at least once at the start (0) and once at the end (total)."""

    def __call__(self, stage: str, done: int, total: int) -> None: ...


def no_progress(stage: str, done: int, total: int) -> None:
    """The progress callback of callers that show none."""
