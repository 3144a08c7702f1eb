"""`reputation serve` as an operator runs it, in a subprocess with a two-second schedule: its
log lines, a bad config edit, a held lock, and SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from reputation.lock import RunLock
from tests.conftest import sqlite_only, write_jsonl

STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


class Serving:
    """A `reputation serve` process whose stderr lines are collected as they come."""

    def __init__(self, config: Path):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "reputation", "serve", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            cwd=config.parent,
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    def wait_for(self, pattern: str, after: int = 0, timeout: float = 60) -> int:
        """The index of the first line from `after` on that matches `pattern`."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for i in range(after, len(self.lines)):
                    if re.search(pattern, self.lines[i]):
                        return i
                left = deadline - time.monotonic()
                ended = not self._reader.is_alive()  # stderr closed: no line will come
                if left <= 0 or ended:
                    pytest.fail(f"no line matching {pattern!r}:\n" + "\n".join(self.lines))
                self._changed.wait(min(left, 0.5))

    def stop(self) -> int:
        """SIGTERM, then the exit status."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(60)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[[Path], Serving]]:
    started: list[Serving] = []

    def start(config: Path) -> Serving:
        started.append(Serving(config))
        return started[-1]

    yield start
    for serving in started:
        if serving.proc.poll() is None:
            serving.proc.kill()
            serving.proc.wait(10)


def _config(workspace: Callable, records: list[dict] | None = None) -> Path:
    return workspace(records or [], schedule={"every": "2s"})


def test_routine_runs_are_one_info_line_each_with_utc_timestamps(
    workspace: Callable, serve: Callable[[Path], Serving]
) -> None:
    serving = serve(_config(workspace))
    start = serving.wait_for(r"serving .*: a run every 2 seconds, the first now; the digest")
    assert re.match(rf"{STAMP} INFO reputation: serving ", serving.lines[start])
    assert "every day at 00:05 UTC (next " in serving.lines[start]
    first = serving.wait_for(r"run: fetched", start)
    second = serving.wait_for(r"run: fetched", first + 1)
    for line in serving.lines[first : second + 1]:
        assert re.match(rf"{STAMP} INFO reputation: run: fetched 0 mention\(s\)", line), line
    assert serving.stop() == 0
    assert not any("WARNING" in line or "apscheduler" in line for line in serving.lines)


def test_a_bad_config_edit_skips_that_run_and_the_next_good_edit_applies(
    workspace: Callable, make_record: Callable, tmp_path: Path, serve: Callable[[Path], Serving]
) -> None:
    config = _config(workspace)
    good = yaml.safe_load(config.read_text())
    serving = serve(config)
    first = serving.wait_for(r"INFO reputation: run: fetched 0 mention")
    config.write_text(yaml.safe_dump({**good, "databse": "typo.db"}))
    error = serving.wait_for(r"ERROR reputation: config: databse: unknown key", first)
    serving.wait_for(
        rf"ERROR reputation: this run skipped: {re.escape(str(config))} has errors", error
    )
    # The next good edit: a connector reading a file that holds a mention.
    more = tmp_path / "more.jsonl"
    write_jsonl(more, [make_record("Acme Air lost my bag")])
    good["connectors"] = [{"type": "file", "name": "more", "path": str(more)}]
    config.write_text(yaml.safe_dump(good))
    serving.wait_for(r"INFO reputation: run: fetched 1 mention\(s\), 1 new", error)
    assert serving.stop() == 0
    assert not any("Traceback" in line for line in serving.lines)


def test_a_tick_that_finds_the_lock_held_is_skipped_with_an_info_line(
    workspace: Callable, tmp_path: Path, serve: Callable[[Path], Serving],
    config_database: Path | str,
) -> None:  # fmt: skip
    sqlite_only(config_database, "the run lock file (PostgreSQL workers take leases)")
    config = _config(workspace)
    with RunLock(tmp_path / "reputation.db"):
        serving = serve(config)
        skipped = serving.wait_for(r"run skipped: another run holds")
        line = serving.lines[skipped]
        assert re.match(rf"{STAMP} INFO reputation: run skipped: another run holds ", line)
        assert f"(pid {os.getpid()})" in line
        assert not any("run: fetched" in line for line in serving.lines)
    serving.wait_for(r"INFO reputation: run: fetched", skipped)  # released: the next tick runs
    assert serving.stop() == 0


def test_sigterm_during_a_run_lets_it_finish_and_releases_the_lock(
    workspace: Callable, tmp_path: Path, blackhole: str, serve: Callable[[Path], Serving],
    config_database: Path | str,
) -> None:  # fmt: skip
    sqlite_only(config_database, "the run lock file (PostgreSQL workers take leases)")
    config = workspace(
        None,
        connectors=[{"type": "rss", "feeds": [f"{blackhole}/feed.xml"], "timeout": "3s"}],
        schedule={"every": "1h"},
    )
    serving = serve(config)
    serving.wait_for(r"INFO reputation: serving ")
    database = tmp_path / "reputation.db"
    deadline = time.monotonic() + 30
    while _statuses(database) != ["running"]:  # the run has started: it waits on the feed
        assert time.monotonic() < deadline, serving.lines
        time.sleep(0.1)
    assert serving.stop() == 0
    text = "\n".join(serving.lines)
    assert "INFO reputation: received SIGTERM; stopping after the current job" in text
    assert re.search(r"WARNING reputation: run: error: connector rss: .*no answer within 3s", text)
    finished = serving.wait_for(r"INFO reputation: run: fetched 0 mention\(s\)")
    assert serving.lines[finished + 1 :] == [serving.lines[-1]]  # the run finished first
    assert serving.lines[-1].endswith("INFO reputation: stopped")
    assert _statuses(database) == ["errors"]  # recorded, not left running
    with RunLock(tmp_path / "reputation.db"):  # released
        pass


def _statuses(database: Path) -> list[str]:
    if not database.exists():
        return []
    with sqlite3.connect(database, timeout=10) as db:
        try:
            rows = db.execute("SELECT status FROM runs ORDER BY id").fetchall()
        except sqlite3.OperationalError:  # not migrated yet
            rows = []
    db.close()
    return [status for (status,) in rows]
