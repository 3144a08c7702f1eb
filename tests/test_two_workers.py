"""Two workers, one PostgreSQL database (issue 15, Build 4): both run the pipeline for the
same connector and Slack sink; one is killed with kill -9 while Slack holds its first post,
the other finishes. Every mention is stored once, every alert delivered once, no incident
posted twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from reputation.config import load_config
from reputation.store import Store
from tests.fakes import TOKEN, FakeSlack


@pytest.fixture
def config_database(database: Path | str) -> Path | str:
    if isinstance(database, Path):
        pytest.skip("two workers share a database on PostgreSQL only (SQLite: the run lock)")
    return database


def _worker(path: Path, name: str = "worker") -> subprocess.Popen[str]:
    """A `reputation run` process; its PostgreSQL sessions carry `name` (PGAPPNAME)."""
    env = {**os.environ, "SLACK_BOT_TOKEN": TOKEN, "NO_PROXY": "127.0.0.1,localhost",
           "PGAPPNAME": name}  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-m", "reputation", "run", "--json", "--config", str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


def _lease_holder(database: Path | str, lease: str) -> str:
    """The application name of the worker that holds `lease`."""
    store = Store.open(database)
    try:
        key = store._db.key(f"lease:{lease}") & 0xFFFFFFFFFFFFFFFF
        rows = store._rows(
            "SELECT a.application_name AS name FROM pg_locks l JOIN pg_stat_activity a"
            " ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
            " AND l.classid::bigint = ? AND l.objid::bigint = ?",
            [key >> 32, key & 0xFFFFFFFF],
        )
    finally:
        store.close()
    assert len(rows) == 1, rows
    return str(rows[0]["name"])


def _summary(worker: subprocess.Popen[str]) -> dict:
    out, err = worker.communicate(timeout=120)
    assert worker.returncode == 0, err
    return json.loads(out)


def test_one_worker_killed_mid_run_the_other_finishes_nothing_lost_nothing_twice(
    workspace: Callable, make_record: Callable, slack: FakeSlack
) -> None:
    records = [
        make_record(f"Acme Air lost my bag and nobody answers, terrible #{i}", minutes=i * 300,
                    author=f"big{i}", author_followers=50_000)
        for i in range(3)
    ] + [make_record(f"Acme Air flight {i} was fine", minutes=i) for i in range(40)]  # fmt: skip
    sink = {"type": "slack", "channel": "#rep", "base_url": slack.base_url, "timeout": "10s"}
    path = workspace(records, sinks=[sink])
    config = load_config(path)
    slack.fail("slow", delay=6)  # the first post is made, and answered late
    workers = {name: _worker(path, name) for name in ("a", "b")}
    deadline = time.monotonic() + 120
    while not slack.messages:  # each worker runs again as it ends (cron), until one posts
        for name, worker in workers.items():
            if worker.poll() is not None:
                _summary(worker)
                workers[name] = _worker(path, name)
        assert time.monotonic() < deadline, "no worker posted"
        time.sleep(0.02)
    posting = _lease_holder(config.database, "stage:deliver")
    workers.pop(posting).send_signal(signal.SIGKILL)  # kill -9 in the middle of delivery
    [survivor] = workers.values()
    during = _summary(survivor)
    time.sleep(6)  # the fake finishes answering the dead worker
    after = [_summary(_worker(path))]
    while after[-1]["pending"] and len(after) < 4:
        after.append(_summary(_worker(path)))
    store = Store.open(config.database)
    try:
        mentions = store._rows("SELECT key FROM mentions")
        deliveries = store._rows("SELECT fingerprint, sink, status FROM deliveries")
        runs = [r["status"] for r in store._rows("SELECT status FROM runs ORDER BY id")]
        counts = store.ledger.alert_counts()
    finally:
        store.close()
    per_incident = Counter(m["metadata"]["event_payload"]["incident"] for m in slack.top_level)
    print(
        f"\ntwo workers, one killed: {len(mentions)} mentions, {len(deliveries)} deliveries,"
        f" messages per incident {dict(per_incident)}, runs {runs}; the survivor sent"
        f" {during['sent']} in its run, then {[r['sent'] for r in after]}"
    )
    assert sorted(r["key"] for r in mentions) == sorted(f"x:{r['id']}" for r in records)
    assert runs.count("crashed") == 1 and runs.count("running") == 0
    assert counts["pending"] == counts["failed"] == 0 and counts["sent"] == len(deliveries) == 3
    assert {d["status"] for d in deliveries} == {"sent"}
    assert len(per_incident) == 3 and set(per_incident.values()) == {1}
