"""Progress of long commands (`backfill`, `train`): a rich bar per task on a terminal, plain
timestamped lines when the output is not a terminal (cron, a log file)."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any, TextIO

from reputation.text import terminal_safe
from reputation.timeutil import utcnow


class Reporter:
    """Named tasks, each with a count done (of a total, if known) and a line of detail."""

    def __init__(self, stream: TextIO | None = None, live: bool | None = None):
        self.stream = stream or sys.stdout
        self.live = self.stream.isatty() if live is None else live
        self._bar: Any = None
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> Reporter:
        if self.live:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self._bar = Progress(
                SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                MofNCompleteColumn(), TextColumn("{task.fields[detail]}"), TimeElapsedColumn(),
                console=Console(file=self.stream),
            )  # fmt: skip
            self._bar.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

    def start(self, name: str, total: int | None = None, detail: str = "") -> None:
        """Begin the task `name` (of `total` steps, if known)."""
        if self._bar is not None:
            self._tasks[name] = self._bar.add_task(terminal_safe(name), total=total,
                                                   detail=terminal_safe(detail))  # fmt: skip
        else:
            self._line(name, detail or "started")

    def update(self, name: str, completed: int, detail: str = "") -> None:
        """`completed` steps of `name` are done; `detail` says what."""
        if self._bar is not None:
            self._bar.update(self._tasks[name], completed=completed, detail=terminal_safe(detail))
        else:
            self._line(name, detail or f"{completed} done")

    def finish(self, name: str, detail: str) -> None:
        """The task `name` ended as `detail` says."""
        if self._bar is not None:
            task = self._tasks[name]
            total = self._bar.tasks[self._bar.task_ids.index(task)].completed
            self._bar.update(task, total=max(total, 1), completed=max(total, 1),
                             detail=terminal_safe(detail))  # fmt: skip
        else:
            self._line(name, detail)

    def note(self, text: str) -> None:
        """One line outside any task."""
        if self._bar is not None:
            self._bar.console.print(terminal_safe(text), markup=False, highlight=False)
        else:
            self._line(None, text)

    def _line(self, name: str | None, text: str) -> None:
        stamp = utcnow().strftime("%Y-%m-%d %H:%M:%S UTC")
        where = f"{name}: " if name else ""
        print(terminal_safe(f"{stamp} {where}{text}"), file=self.stream, flush=True)
