"""Several workers on one database (issue 15): leases for connectors and stages, runs of
live workers left alone. On SQLite the run lock makes a run alone, so every lease is its."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from reputation.config import load_config
from reputation.pipeline import run_once
from reputation.store import Store
from tests.conftest import NOW


def postgres_only(database: Path | str) -> None:
    if isinstance(database, Path):
        pytest.skip("leases between workers: SQLite runs one worker at a time (the run lock)")


def close_as_killed(store: Store, watcher: Store) -> None:
    """Close a worker's connection and wait until the server has ended its session (the
    locks of a killed worker go when the server notices, a moment after the socket closes)."""
    pid = store._db.conn.info.backend_pid
    store.close()
    for _ in range(100):
        if not watcher._rows("SELECT 1 FROM pg_stat_activity WHERE pid = ?", [pid]):
            return
        time.sleep(0.05)
    raise AssertionError(f"the server kept session {pid}")


def test_on_sqlite_every_lease_is_granted_even_twice(database: Path | str) -> None:
    if not isinstance(database, Path):
        pytest.skip("SQLite's leases")
    first, second = Store.open(database), Store.open(database)
    try:
        with first.lease("connector:file") as one, second.lease("connector:file") as two:
            assert (one, two) == (True, True)
    finally:
        first.close()
        second.close()


def test_a_lease_is_one_workers_until_released_or_its_connection_ends(
    database: Path | str,
) -> None:
    postgres_only(database)
    first, second = Store.open(database), Store.open(database)
    try:
        with first.lease("connector:file") as mine:
            assert mine
            with second.lease("connector:file") as theirs, second.lease("stage:x") as other:
                assert (theirs, other) == (False, True)
        with second.lease("connector:file") as theirs:
            assert theirs  # released at the end of the block
        third = Store.open(database)
        with third.lease("stage:rules") as held:
            assert held
            close_as_killed(third, second)  # the worker dies holding it
            with second.lease("stage:rules") as taken:
                assert taken
    finally:
        first.close()
        second.close()


def test_a_connector_another_worker_reads_is_skipped_and_read_next_time(
    database: Path | str,
    workspace: Callable[..., Path],
    make_record: Callable[..., dict],
) -> None:
    postgres_only(database)
    config = load_config(workspace([make_record("Acme Air lost my bag")]))
    other = Store.open(database)
    try:
        with other.lease("connector:file") as held:
            assert held
            summary = run_once(config, now=NOW)
        assert summary.new_mentions == 0
        assert "connector file: another worker is reading it; skipped" in summary.warnings
        assert run_once(config, now=NOW).new_mentions == 1
    finally:
        other.close()


def test_delivery_waits_while_another_worker_delivers(
    database: Path | str,
    workspace: Callable[..., Path],
    make_record: Callable[..., dict],
) -> None:
    postgres_only(database)
    angry = make_record("Acme Air is terrible and awful", author_followers=90_000)
    config = load_config(workspace([angry]))
    other = Store.open(database)
    try:
        with other.lease("stage:deliver") as held:
            assert held
            first = run_once(config, now=NOW)
        assert (first.alerts, first.sent, first.pending) == (1, 0, 1)
        second = run_once(config, now=NOW)
        assert (second.alerts, second.sent, second.pending) == (0, 1, 0)
    finally:
        other.close()


def test_only_runs_whose_worker_is_gone_are_marked_crashed(database: Path | str) -> None:
    postgres_only(database)
    alive, dead, next_one = Store.open(database), Store.open(database), Store.open(database)
    try:
        live_run = alive.start_run(NOW)
        dead_run = dead.start_run(NOW)
        close_as_killed(dead, alive)  # kill -9: the connection ends, the run stays `running`
        next_one.start_run(NOW)
        status = {r["id"]: r["status"] for r in next_one._rows("SELECT id, status FROM runs")}
        assert (status[live_run], status[dead_run]) == ("running", "crashed")
    finally:
        alive.close()
        next_one.close()
