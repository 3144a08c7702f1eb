"""A file lock so two overlapping runs (cron and serve, or two crons) never interleave."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType


class LockBusy(Exception):
    """Another process holds the run lock."""


class RunLock:
    """An exclusive, non-blocking lock on `<database>.lock`, released when the process dies."""

    def __init__(self, database: Path):
        self.path = Path(f"{database}.lock")
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise LockBusy(f"another run holds {self.path} (pid {holder})") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
