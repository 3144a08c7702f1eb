"""Opening the store and sharing it: a database the command cannot use is one line and exit 1
for every command; a run waits for a short write from the command line instead of crashing;
a run killed with kill -9 is marked crashed by the next one."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from reputation.cli import main
from reputation.schema import migrations
from reputation.store import Store, StoreError, _schema_version
from tests.conftest import NOW, T0, scored

COMMANDS = [
    ["run"],
    ["run", "--json"],
    ["digest", "--date", "2026-11-22"],
    ["alerts"],
    ["alerts", "retry"],
    ["silence", "add", "brand=Acme Air", "--for", "1h"],
    ["silence", "list"],
    ["silence", "expire", "1"],
    ["rules", "test"],
]


@pytest.fixture
def config_database(tmp_path: Path) -> Path:
    """A SQLite file: what this module tests is the file (its folder, damage, locks)."""
    return tmp_path / "reputation.db"


@pytest.fixture
def used(workspace: Callable, make_record: Callable, tmp_path: Path) -> Path:
    """A workspace whose database holds a run's mentions, scores, alerts and a silence."""
    path = workspace(
        [
            make_record("Acme Air is terrible and awful", i, author_followers=90_000)
            for i in range(3)
        ]
    )
    assert main(["run", "--json", "--config", str(path)]) == 0
    assert main(["silence", "add", "severity=info", "--for", "1h", "--config", str(path)]) == 0
    return path


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


# -- a database written by a newer version ----------------------------------------------------


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_a_database_from_a_newer_version_is_refused_naming_both_versions(
    used: Path, tmp_path: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "reputation.db"
    with sqlite3.connect(database) as db:
        db.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at)"
            " VALUES ('reputation', 'm099_from_the_future', '2030-01-01')"
        )
        before = db.execute("SELECT COUNT(*) FROM runs").fetchone()
    db.close()
    capsys.readouterr()
    assert main([*argv, "--config", str(used)]) == 1
    line = _one_line(capsys)
    ours = _schema_version(m.name for m in migrations._migrations)
    assert f"database {database} has schema version 99" in line
    assert f"reads up to schema version {ours}" in line
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone() == before  # nothing written
    db.close()


def test_opening_refuses_a_newer_database_before_migrating_it(tmp_path: Path) -> None:
    Store.open(tmp_path / "r.db").close()
    with sqlite3.connect(tmp_path / "r.db") as db:
        db.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at)"
            " VALUES ('reputation', 'm042_later', 'x')"
        )
    db.close()
    with pytest.raises(StoreError, match="schema version 42"):
        Store.open(tmp_path / "r.db")


# -- a path through a file, a folder that cannot be written, a damaged file --------------------


def _point_database_at(config: Path, database: Path) -> None:
    data = yaml.safe_load(config.read_text())
    data["database"] = str(database)
    config.write_text(yaml.safe_dump(data))


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_a_database_path_through_a_file_is_one_line(
    workspace: Callable, tmp_path: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    path = workspace([])
    (tmp_path / "blocker").write_text("a file where a folder should be")
    _point_database_at(path, tmp_path / "blocker" / "r.db")
    assert main([*argv, "--config", str(path)]) == 1
    line = _one_line(capsys)
    assert str(tmp_path / "blocker") in line


@pytest.fixture
def unwritable() -> Iterator[Callable[[Path], None]]:
    """Makes a folder unwritable: by its mode, or (for root, whom modes do not stop) by
    chattr +i; undone at the end."""
    undo: list[Callable[[], object]] = []

    def make(folder: Path) -> None:
        folder.chmod(0o555)
        undo.append(lambda: folder.chmod(0o755))
        if os.access(folder, os.W_OK) and os.geteuid() == 0:
            chattr = shutil.which("chattr")
            done = chattr and subprocess.run([chattr, "+i", str(folder)], check=False)
            if not done or done.returncode != 0:
                pytest.skip("root, and chattr +i cannot make a folder unwritable here")
            undo.append(lambda: subprocess.run([chattr, "-i", str(folder)], check=True))
        probe = folder / "probe"
        try:
            probe.touch()
        except OSError:
            return
        probe.unlink()
        pytest.skip("cannot make a folder unwritable here")

    yield make
    for step in reversed(undo):
        step()


@pytest.mark.parametrize("fresh", [False, True], ids=["existing", "new"])
@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_a_database_folder_that_cannot_be_written_is_one_line(
    used: Path,
    tmp_path: Path,
    argv: list[str],
    fresh: bool,
    unwritable: Callable[[Path], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    if not fresh:  # the database was there before the folder's permissions changed
        shutil.copy(tmp_path / "reputation.db", folder / "r.db")
    _point_database_at(used, folder / "r.db")
    unwritable(folder)
    capsys.readouterr()
    assert main([*argv, "--config", str(used)]) == 1
    line = _one_line(capsys)
    assert str(folder) in line


def _damage_every_table_but_the_migrations(database: Path) -> None:
    """Overwrite the root page of every table and index except sqlite-utils' migration list,
    so the store opens but whatever a command reads or writes next is damaged."""
    with sqlite3.connect(database) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page = db.execute("PRAGMA page_size").fetchone()[0]
        roots = [
            root
            for name, table, root in db.execute(
                "SELECT name, tbl_name, rootpage FROM sqlite_master WHERE rootpage > 1"
            )
            if table != "_sqlite_migrations"
        ]
    db.close()
    with database.open("r+b") as handle:
        for root in roots:
            handle.seek((root - 1) * page)
            handle.write(b"\xa5" * page)


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_a_partly_damaged_database_is_one_line(
    used: Path, tmp_path: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    _damage_every_table_but_the_migrations(tmp_path / "reputation.db")
    Store.open(tmp_path / "reputation.db").close()  # it still opens: the damage is met later
    capsys.readouterr()
    assert main([*argv, "--config", str(used)]) == 1
    line = _one_line(capsys)
    assert "database" in line and "malformed" in line


# -- a short write from the command line during a run ------------------------------------------


def test_a_write_from_the_command_line_waits_for_the_runs_transaction(tmp_path: Path) -> None:
    database = tmp_path / "r.db"
    run = Store.open(database)
    scored(run, "1", 0)
    rules_read = threading.Event()
    silenced = threading.Event()
    failures: list[BaseException] = []

    def silence_add() -> None:  # `reputation silence add`, on its own connection
        cli = Store.open(database)
        try:
            rules_read.wait(10)
            cli.ledger.add_silence({"brand": "Acme Air"}, timedelta(hours=1), "flood", NOW)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)
        finally:
            cli.close()
            silenced.set()

    writer = threading.Thread(target=silence_add)
    writer.start()
    with run.transaction():  # as engine.evaluate_rules: read the window, then record
        assert len(run.window("Acme Air", T0, NOW)) == 1
        rules_read.set()
        # With a deferred BEGIN the silence commits here at once, and the incident insert
        # below fails with "database is locked"; begun IMMEDIATE, the silence waits.
        assert not silenced.wait(1.0)
        run.ledger.open_incident("Acme Air", "other", "warning", "t", None, T0, NOW)
    writer.join(20)
    assert silenced.is_set() and failures == []
    assert run._rows("SELECT COUNT(*) AS n FROM silences") == [{"n": 1}]
    assert run._rows("SELECT COUNT(*) AS n FROM incidents") == [{"n": 1}]
    run.close()


def test_writes_outside_a_transaction_start_as_writers_too(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "r.db")
    statements: list[str] = []
    store._db.conn.set_trace_callback(statements.append)
    store.source_succeeded("file", NOW)
    store._db.conn.set_trace_callback(None)
    assert statements[0] == "BEGIN IMMEDIATE"
    store.close()


# -- a run killed with kill -9 --------------------------------------------------------------


def test_the_next_run_marks_a_run_that_never_finished_as_crashed(store: Store) -> None:
    first = store.start_run(NOW)
    second = store.start_run(NOW + timedelta(minutes=10))
    rows = store._rows("SELECT id, status, errors FROM runs ORDER BY id")
    assert [(r["id"], r["status"]) for r in rows] == [(first, "crashed"), (second, "running")]
    assert "ended without recording its outcome" in rows[0]["errors"]


def test_a_run_killed_with_kill_9_is_marked_crashed_by_the_next_run(
    workspace: Callable, tmp_path: Path, blackhole: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = workspace([])
    hanging = tmp_path / "hanging.yaml"
    data = yaml.safe_load(path.read_text())
    data["connectors"] = [{"type": "rss", "feeds": [f"{blackhole}/feed.xml"], "timeout": "60s"}]
    hanging.write_text(yaml.safe_dump(data))
    proc = subprocess.Popen(
        [sys.executable, "-m", "reputation", "run", "--config", str(hanging)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        database = tmp_path / "reputation.db"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until the run has recorded its start
            if database.exists() and _statuses(database) == ["running"]:
                break
            time.sleep(0.1)
        assert _statuses(database) == ["running"]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    assert main(["run", "--json", "--config", str(path)]) == 0
    assert _statuses(database) == ["crashed", "ok"]


def _statuses(database: Path) -> list[str]:
    with sqlite3.connect(database, timeout=10) as db:
        try:
            rows = db.execute("SELECT status FROM runs ORDER BY id").fetchall()
        except sqlite3.OperationalError:  # not created yet
            rows = []
    db.close()
    return [status for (status,) in rows]


@pytest.mark.parametrize("error", ["database disk image is malformed", "file is not a database"])
def test_a_damaged_file_is_named_as_such(tmp_path: Path, error: str) -> None:
    from reputation.store import _why

    why = _why(tmp_path / "reputation.db", sqlite3.DatabaseError(error))
    assert why == f"{error}: the file is damaged, or is not a reputation database"
