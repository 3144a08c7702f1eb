"""A storm through `run_once` (issue 12): rules read each window once per batch, never once per
mention, and the work queues and windows read indexes, not whole tables."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from reputation import engine, pipeline
from reputation.config import load_config
from reputation.pipeline import run_once
from reputation.store import Store
from tests.conftest import NOW, REPO, T0, scored, sqlite_only, write_jsonl

GRIPES = [
    "@acmeair the app is down again, can't log in, this is awful",
    "Acme Air check-in is broken and support hangs up on me. Worst airline ever",
    "Is Acme Air down? nothing works, terrible service, so angry",
]


def storm(n: int) -> list[dict[str, Any]]:
    """n complaints about Acme Air from small accounts within 30 minutes of T0."""
    return [
        {
            "id": f"{n}-{i}",
            "source": "x",
            "text": f"{GRIPES[i % len(GRIPES)]} ({i})",
            "author": f"user{i}",
            "author_followers": 50,
            "created_at": (T0 + timedelta(seconds=1_800 * i / n)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        for i in range(n)
    ]


def config_for(folder: Path, records: list[dict[str, Any]]) -> Path:
    folder.mkdir()
    write_jsonl(folder / "mentions.jsonl", records)
    config = {
        "database": str(folder / "reputation.db"),
        "brands": [{"name": "Acme Air", "terms": ["acme air", "@acmeair"]}],
        "connectors": [{"type": "file", "path": str(folder / "mentions.jsonl")}],
        "rules": str(REPO / "rules"),
        "sinks": [],
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@contextmanager
def traced(store: Store) -> Iterator[list[str]]:
    """Every SQL statement run on the store's connection inside the block."""
    statements: list[str] = []
    store._db.conn.set_trace_callback(statements.append)
    try:
        yield statements
    finally:
        store._db.conn.set_trace_callback(None)


def rule_phase(
    monkeypatch: pytest.MonkeyPatch, folder: Path, n: int
) -> tuple[list[str], int, list[dict[str, Any]]]:
    """Run a storm of n complaints through run_once; return the statements rule evaluation
    ran, the rows the window reads returned, and the alerts."""
    seen: dict[str, Any] = {"rows": 0}
    window = Store.window

    def counting_window(self: Store, *args: Any, **kwargs: Any) -> Any:
        found = window(self, *args, **kwargs)
        seen["rows"] += len(found)
        return found

    def evaluate_traced(store: Store, *args: Any, **kwargs: Any) -> int:
        with traced(store) as statements:
            created = engine.evaluate_rules(store, *args, **kwargs)
        seen["statements"] = statements
        return created

    monkeypatch.setattr(pipeline, "evaluate_rules", evaluate_traced)
    monkeypatch.setattr(Store, "window", counting_window)
    summary = run_once(load_config(config_for(folder, storm(n))), now=NOW, env={})
    assert summary.errors == [] and summary.scored == n
    store = Store.open(folder / "reputation.db")
    try:
        alerts = store._rows("SELECT rule, summary FROM alerts")
    finally:
        store.close()
    return seen["statements"], seen["rows"], alerts


def window_reads(statements: list[str]) -> list[str]:
    """Reads of scored mentions other than the work queue: the rules' window reads."""
    return [s for s in statements if "FROM mentions m JOIN scores s" in s
            and "s.evaluated = 0" not in s]  # fmt: skip


def test_a_storm_reads_each_window_once_per_batch_not_per_mention(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    n = 1_500
    small, small_rows, small_alerts = rule_phase(monkeypatch, tmp_path / "small", n)
    large, large_rows, large_alerts = rule_phase(monkeypatch, tmp_path / "large", 2 * n)
    # The storm is a burst: the frequency rule fired, once (realert holds the rest back).
    for alerts in (small_alerts, large_alerts):
        assert [a["rule"] for a in alerts] == ["complaint-burst"]
    batches = -(-2 * n // 500)  # run_once evaluates 500 mentions at a time
    # One window read per batch for the one brand (re-reading per mention: 3,000 of them).
    assert 0 < len(window_reads(large)) <= batches
    # Each mention is read back about once, not once per later mention in its window.
    assert small_rows <= 2 * n and large_rows <= 2 * 2 * n
    # Twice the mentions cost a few statements per extra batch, not one or more per mention.
    assert len(large) - len(small) < n / 20


def plan(store: Store, statement: str) -> str:
    rows = store._db.execute("EXPLAIN QUERY PLAN " + statement).fetchall()
    return "\n".join(row[-1] for row in rows)


def test_work_queues_and_windows_read_indexes(store: Store, database: Path | str) -> None:
    # PostgreSQL's planner reads a table this small whole whatever its indexes: the plans
    # are checked on SQLite, where they do not depend on the table's size.
    sqlite_only(database, "EXPLAIN QUERY PLAN and its trace callback are SQLite's")
    for i in range(30):
        scored(store, str(i), i)
    calls: list[Callable[[], Any]] = [
        lambda: store.mentions_to_score(),
        lambda: store.unevaluated(),
        lambda: store.window("Acme Air", T0, NOW),
        lambda: store.window("Acme Air", T0, NOW, "category", "other"),
        lambda: store.first_mention_at("Acme Air"),
        lambda: list(store.newest_first(NOW, since=T0, brand="Acme Air")),
        lambda: store.ledger.alerts_of_groups(["r|Acme Air|Acme Air"], T0, NOW),
        # An alert's incident lookups (incidents.attach, muting): by brand and time.
        lambda: store.ledger.incident_with_mentions("Acme Air", ["x:1"], T0, NOW),
        lambda: store.ledger.incident_linked_to("Acme Air", "parent_id", ["x:1"], T0, NOW),
        lambda: store.ledger.incident_linked_to("Acme Air", "thread_id", ["x:1"], T0, NOW),
        lambda: store.ledger.incident_with_hashes("Acme Air", ["abc"], T0, NOW),
        lambda: store.ledger.incident_of_category("Acme Air", "other", T0, NOW, critical=True),
    ]
    for call in calls:
        with traced(store) as statements:
            call()
        for statement in statements:
            steps = plan(store, statement)
            # A SCAN reads a whole table or index; only the partial indexes that hold the
            # work queues (what is due, nothing else) may be read whole.
            queues = ("INDEX scores_due", "INDEX mentions_to_score")
            scans = [line for line in steps.splitlines()
                     if line.startswith("SCAN") and not line.endswith(queues)]  # fmt: skip
            assert scans == [], (statement, steps)
    with traced(store) as statements:
        store.mentions_to_score()
        store.unevaluated()
    steps = [plan(store, s) for s in statements]
    assert "mentions_to_score" in steps[0] and "scores_due" in steps[1]


RULES = {
    "frequency": "num_events: 3\ntimeframe: 20m\nquery_key: category\n",
    "spike": "timeframe: 15m\nspike_height: 2\nthreshold_cur: 2\n",
    "same_hour": "type: spike\ntimeframe: 30m\nspike_height: 1.5\nbaseline: same_hour\n"
    "baseline_days: 2\n",
    "new_term": "field: hashtags\nterms_window: 6h\nmin_history: 1h\n",
}


@pytest.mark.parametrize("kind", sorted(RULES))
def test_a_batch_fires_as_one_mention_at_a_time_does(
    kind: str, tmp_path: Path, database: Path | str
) -> None:
    import random

    from reputation.engine import load_rules
    from reputation.ruletypes import RULE_TYPES
    from reputation.validate import Checker
    from reputation.windows import Windows

    folder = tmp_path / "rules"
    folder.mkdir()
    kind_line = "" if kind == "same_hour" else f"type: {kind}\n"
    where = "where: {complaint: {gte: 0.4}}\n"
    (folder / "r.yaml").write_text(f"name: r\n{kind_line}{where}{RULES[kind]}")
    [rule] = load_rules(folder, Checker(folder))
    store = Store.open(database)
    rng = random.Random(kind)
    for i in range(400):
        tags = " ".join(rng.sample([f"#t{n}" for n in range(12)], 2))
        scored(store, str(i), rng.uniform(-3 * 24 * 60, 60), complaint=rng.random(),
               severity=rng.random(), category=rng.choice("xyz"), text=f"{tags} {i}")  # fmt: skip
    rows = [r for r in store.unevaluated(1_000) if rule.matches(r)]
    rule_type = RULE_TYPES[rule.type]
    windows = Windows(store)
    batched: list[list[Any]] = []
    for start in range(0, len(rows), 37):  # batches in event order, windows carried over
        windows.next_batch()
        batched += rule_type.fire_batch(rule, rows[start : start + 37], windows)
    alone = [rule_type.fire(rule, row, store) for row in rows]

    def seen(firings: list[Any]) -> list[tuple[Any, ...]]:
        out = []
        for f in firings:
            top = max((r["severity"] for r in f.evidence), default=0.0)
            # A type that reports its evidence's top severity must report the true one.
            assert f.severity in (None, top)
            out.append((f.group_value, f.summary, f.reasons, [r["key"] for r in f.evidence], top))
        return out

    assert [seen(f) for f in batched] == [seen(f) for f in alone]
    assert sum(map(len, alone)) > 0, "the rule fires somewhere in this data"
    store.close()


def test_postgresql_reads_the_work_queues_in_index_order_without_sorting(
    store: Store, database: Path | str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if isinstance(database, Path):
        pytest.skip("PostgreSQL's plans (SQLite's: test_work_queues_and_windows_read_indexes)")
    from reputation.db import PostgresDatabase, to_postgres

    for i in range(30):
        scored(store, str(i), i)
    store._db.execute_native("UPDATE mentions SET scored_version = 0")  # due again, both
    store._db.execute_native("UPDATE scores SET evaluated = 0")
    seen: list[tuple[str, list[Any]]] = []
    execute = PostgresDatabase.execute

    def tracing(self: PostgresDatabase, sql: str, parameters: Any = None) -> Any:
        seen.append((sql, list(parameters or ())))
        return execute(self, sql, parameters)

    monkeypatch.setattr(PostgresDatabase, "execute", tracing)
    store.mentions_to_score()
    store.unevaluated()
    monkeypatch.undo()
    # A table this small is read whole unless scans are ruled out; what is left is whether
    # the index gives the order (SQLite's NULL order, the translation's) or a sort is needed.
    store._db.execute_native("SET enable_seqscan = off")
    store._db.execute_native("SET enable_bitmapscan = off")  # a bitmap loses the order
    for (sql, params), index in zip(seen, ("mentions_to_score", "scores_due"), strict=True):
        rows = store._db.execute_native("EXPLAIN " + to_postgres(sql), params).fetchall()
        steps = "\n".join(row[0] for row in rows)
        assert index in steps and "Sort" not in steps, steps
