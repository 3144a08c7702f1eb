"""A file lock so two overlapping runs (cron and serve, or two crons) never interleave."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType
from typing import Any

from reputation.db import is_postgres
from reputation.errors import StoreError


class LockBusy(Exception):
    """Another process holds the run lock."""

    def __init__(self, path: Path, holder: str):
        super().__init__(f"another run holds {path} (pid {holder})")
        self.path, self.holder = path, holder

    def details(self) -> dict[str, Any]:
        """The lock file and the holder's pid, for `run --json`."""
        pid = int(self.holder) if self.holder.isdigit() else None
        return {"lock": str(self.path), "pid": pid}


class RunLock:
    """An exclusive, non-blocking lock on `<database>.lock`, released when the process dies.
    A PostgreSQL database takes none: its workers share it, stage by stage, through leases
    (Store.lease), so this lock holds nothing there."""

    def __init__(self, database: Path | str):
        self.shared = is_postgres(database)
        self.path = Path(f"{database}.lock")
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        if self.shared:
            return self
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:  # the database's folder cannot be made or written
            raise StoreError(f"cannot take the run lock {self.path}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise LockBusy(self.path, holder) from None
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
