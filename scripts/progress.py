"""Progress of long commands: counts, rate and time left.

The work reports through a plain `(stage, done, total)` callback (`models.progress.Progress`);
`ProgressBars` shows it as one rich bar per stage on a terminal and, anywhere else (a log, CI, a
pipe), as a plain line per stage every few seconds and when the stage ends.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class RateColumn(ProgressColumn):
    """Items per second, as rich measures them."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:,.1f}/s" if task.speed else "", style="progress.data.speed")


class ProgressBars:
    """A progress callback for a command's lifetime (`with ProgressBars(console) as progress:`)."""

    def __init__(self, console: Console, every: float = 10.0) -> None:
        self.console, self.every = console, every
        self._bars: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._plain: dict[str, tuple[float, float]] = {}  # stage -> (started, last line printed)
        self._finished: set[str] = set()
        self._lock = threading.Lock()

    def __enter__(self) -> ProgressBars:
        if self.console.is_terminal:
            self._bars = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
                TimeElapsedColumn(), TextColumn("elapsed,"), TimeRemainingColumn(), TextColumn("left"),
                console=self.console, transient=False,
            )
            self._bars.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None,
    ) -> None:
        if self._bars is not None:
            self._bars.stop()

    def __call__(self, stage: str, done: int, total: int) -> None:
        with self._lock:
            if self._bars is not None:
                self._bar(stage, done, total)
            else:
                self._line(stage, done, total)

    def _bar(self, stage: str, done: int, total: int) -> None:
        assert self._bars is not None
        task = self._tasks.get(stage)
        if task is None:
            task = self._tasks[stage] = self._bars.add_task(stage, total=total)
        self._bars.update(task, completed=done, total=total)

    def _line(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        first = stage not in self._plain
        started, printed = self._plain.get(stage, (now, now))
        if stage in self._finished or (not first and done < total and now - printed < self.every):
            return
        if done >= total:
            self._finished.add(stage)
        self._plain[stage] = (started, now)
        elapsed = now - started
        rate = done / elapsed if elapsed > 0 else 0.0
        line = f"{stage}: {done:,}/{total:,}"
        if total:
            line += f" ({done / total:.0%})"
        if rate:
            line += f", {rate:,.1f}/s"
        if done < total and rate:
            line += f", {_duration((total - done) / rate)} left"
        elif done >= total:
            line += f", done in {_duration(elapsed)}"
        self.console.print(line, highlight=False, soft_wrap=True)


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"
