"""Retention and privacy (issue 14 item 5): `reputation forget --author` leaves no table
holding the handle or the text (full-text tables included), a rerun sends nothing new even
when the source serves the posts again, and the day's digest no longer lists them; runs
prune old data in bounded batches."""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from reputation.cli import main
from reputation.config import Config, load_config
from reputation.models import Mention
from reputation.pipeline import run_once
from reputation.retention import RetentionSettings, prune
from reputation.store import Store
from reputation.validate import ConfigError
from tests.conftest import NOW, T0, write_jsonl
from tests.fakes import TOKEN, FakeSlack

ENV = {"SLACK_BOT_TOKEN": TOKEN}
HANDLE = "Loud_Larry"
WORD = "zanzibarflux"  # a word only their posts use
THEIR_TEXT = f"Acme Air lost my bag in {WORD} and nobody answers, terrible"
RULE = """name: loud-complaint
type: any
description: a complaint by a large account
where: {author_followers: {gte: 10000}}
severity: warning
"""


def their_posts(make_record: Callable) -> list[dict[str, Any]]:
    # fmt: off
    return [
        make_record(THEIR_TEXT, minutes=0, id="m1", author=HANDLE, author_followers=50_000),
        make_record(f"Still no bag, Acme Air. {WORD} again", minutes=3, id="m2",
                    author=f"@{HANDLE.lower()}", author_followers=50_000),
        make_record(f"@{HANDLE} so sorry, DM us", minutes=9, id="r1", author="@acmeair",
                    parent_id="m1"),
    ]
    # fmt: on


def others(make_record: Callable) -> list[dict[str, Any]]:
    loud = make_record("Acme Air cancelled my flight, awful service", minutes=1, id="o1",
                       author="ann", author_followers=20_000)  # fmt: skip
    return [loud, make_record("Acme Air crew were lovely today", minutes=2, id="o2", author="bob")]


@pytest.fixture
def config(workspace: Callable, slack: FakeSlack, tmp_path: Path, make_record: Callable) -> Config:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "loud.yaml").write_text(RULE)
    sinks = [{"type": "slack", "channel": "#rep", "base_url": slack.base_url,
              "min_interval": "1s"}]  # fmt: skip
    records = their_posts(make_record) + others(make_record)
    return load_config(workspace(records, sinks=sinks, rules_dir=rules))


def text_cells(database: Path | str) -> list[tuple[str, str, str]]:
    """(table, column, value) of every text value in every table, FTS tables included, and
    the FTS index's own blobs decoded as far as they go (on PostgreSQL: every table of the
    schema; its search index is over the table's own text)."""
    if not isinstance(database, Path):
        return _postgres_text_cells(database)
    found = []
    with sqlite3.connect(database) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        assert "mentions_fts" in tables and "mentions_fts_data" in tables
        for table in tables:
            cursor = db.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - names from the schema
            found += _texts(table, cursor.description, cursor.fetchall())
    return found


def _postgres_text_cells(dsn: str) -> list[tuple[str, str, str]]:
    import psycopg
    from psycopg import sql

    found = []
    with psycopg.connect(dsn) as db:
        tables = [r[0] for r in db.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")]  # fmt: skip
        assert "mentions" in tables and "forgotten" in tables
        for table in tables:
            cursor = db.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(table)))
            found += _texts(table, cursor.description, cursor.fetchall())
    return found


def _texts(table: str, description: Any, rows: list[Any]) -> list[tuple[str, str, str]]:
    names = [d[0] for d in description]
    found = []
    for row in rows:
        for name, value in zip(names, row, strict=True):
            if isinstance(value, bytes):
                value = value.decode("latin-1")
            if isinstance(value, str):
                found.append((table, name, value))
    return found


def holding(database: Path | str, *needles: str) -> list[tuple[str, str]]:
    lowered = [n.lower() for n in needles]
    return sorted({(t, c) for t, c, v in text_cells(database)
                   if any(n in v.lower() for n in lowered)})  # fmt: skip


def test_forget_leaves_nothing_sends_nothing_again_and_scrubs_the_digest(
    config: Config, slack: FakeSlack, make_record: Callable, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    summary = run_once(config, now=NOW, env=ENV)
    assert summary.errors == [] and summary.alerts == 3, summary
    assert main(["digest", "--date", "2026-11-22", "--config", str(config.path)]) == 0
    day = tmp_path / "digests" / "2026-11-22.csv"
    assert WORD in day.read_text() and "'@loud_larry" in day.read_text()
    before = holding(config.database, HANDLE, WORD)
    # The check can fail: before the forget they are all over the database, index included.
    assert {("mentions", "text"), ("mentions", "author"), ("alerts", "summary"),
            ("replies", "text")} <= set(before)  # fmt: skip
    if isinstance(config.database, Path):
        assert ("mentions_fts_data", "block") in before
    posts = len(slack.top_level) + len(slack.replies)
    capsys.readouterr()

    assert main(["forget", "--author", "@loud_larry", "--config", str(config.path)]) == 0
    out = capsys.readouterr().out
    assert "forgot @loud_larry: 2 mention(s), 2 snapshot(s), 2 score(s), 1 brand reply" in out
    assert "redacted 2 alert(s)" in out and "redacted 1 incident(s)" in out
    assert "removed 2 row(s) from 2026-11-22.csv" in out

    assert holding(config.database, HANDLE, WORD, THEIR_TEXT) == []
    store = Store.open(config.database)
    try:  # full-text search finds neither
        assert store.search(WORD) == [] and store.search("lovely") == ["x:o2"]
        assert sorted(store.known_keys(["x:m1", "x:m2", "x:o1", "x:o2"])) == ["x:o1", "x:o2"]
    finally:
        store.close()
    with day.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["rank"], r["author"]) for r in rows] == [("1", "ann"), ("2", "bob")]
    assert WORD not in day.read_text() and HANDLE.lower() not in day.read_text().lower()

    # A rerun, with the source serving their posts again: nothing stored, nothing new sent.
    write_jsonl(config.path.parent / "mentions.jsonl", their_posts(make_record), mode="a")
    summary = run_once(config, now=NOW + timedelta(minutes=10), env=ENV)
    assert summary.errors == [] and summary.alerts == 0 and summary.new_mentions == 0
    assert len(slack.top_level) + len(slack.replies) == posts
    # Their incident's message was updated in place, without them.
    assert slack.updates, "the incident's message is redacted in place"
    shown = json.dumps(slack.updates[-1], ensure_ascii=False).lower()
    assert HANDLE.lower() not in shown and WORD not in shown
    assert holding(config.database, HANDLE, WORD) == []
    summary = run_once(config, now=NOW + timedelta(minutes=20), env=ENV)
    assert len(slack.top_level) + len(slack.replies) == posts and summary.alerts == 0


def test_forget_on_one_source_keeps_the_same_handle_elsewhere(store: Store, tmp_path: Path) -> None:
    from reputation.privacy import forget

    for source in ("x", "reddit"):
        mention = Mention(source=source, native_id="1", brand="Acme Air", text=f"{source} post",
                          created_at=T0, author="Sam")  # fmt: skip
        store.save_batch("file", [mention], NOW)
    done = forget(store, "sam", "reddit", tmp_path / "none", NOW)
    assert done.result.keys == ["reddit:1"] and done.result.days == ["2026-11-22"]
    assert store.recent_ids("file", "*", T0) == ["1"]  # the x post
    # The tombstone is per source: the reddit post stays out, a new x post gets in.
    again = [
        Mention(source=s, native_id=n, brand="Acme Air", text="again", created_at=T0, author="SAM")
        for s, n in (("reddit", "1"), ("reddit", "2"), ("x", "2"))
    ]
    stats = store.save_batch("file", again, NOW)
    assert (stats.new, stats.forgotten) == (1, 2)


def test_runs_prune_old_data_in_bounded_batches(store: Store) -> None:
    old = NOW - timedelta(days=400)
    for n in range(7):
        created = old + timedelta(days=n * 30)  # 400, 370, 340... days old
        mention = Mention(source="x", native_id=str(n), brand="Acme Air", text=f"post {n}",
                          created_at=created, observed_at=created, raw={"n": n})  # fmt: skip
        store.save_batch("file", [mention], NOW)
    settings = RetentionSettings(raw_days=30, snapshots_days=14, mentions_days=365)
    first = prune(store, settings, NOW, batch=2, max_batches=1)  # bounded: 2 of each
    # The two over 365 days old go whole (with their snapshots); of the other five, all
    # over 30 days old, two lose their snapshots and two their raw payloads.
    assert first == {"mentions": 2, "snapshots": 2, "raw": 2}
    rest = prune(store, settings, NOW, batch=2, max_batches=10)
    assert rest == {"raw": 3, "snapshots": 3}
    assert sorted(store.recent_ids("file", "*", old)) == ["2", "3", "4", "5", "6"]
    assert prune(store, settings, NOW) == {}
    assert prune(store, RetentionSettings(0, 0, 0), NOW) == {}


def test_retention_is_configured_and_checked(workspace: Callable) -> None:
    config = load_config(workspace([], retention={"raw_days": 7}))
    assert config.retention == RetentionSettings(raw_days=7, snapshots_days=14, mentions_days=365)
    assert load_config(workspace([])).retention is None  # no key: nothing is pruned
    with pytest.raises(ConfigError) as caught:
        load_config(workspace([], retention={"mentions_days": 3, "raw_day": 1}))
    assert any("retention.mentions_days" in e for e in caught.value.errors)
    assert any("retention.raw_day: unknown key" in e for e in caught.value.errors)


def test_a_run_prunes_when_retention_is_configured(
    workspace: Callable, make_record: Callable
) -> None:
    old = (NOW - timedelta(days=400)).strftime("%Y-%m-%dT%H:%M:%SZ")
    records = [make_record("Acme Air then", id="a", created_at=old),
               make_record("Acme Air now", id="b")]  # fmt: skip
    summary = run_once(load_config(workspace(records, retention={})), now=NOW)
    # The old post goes whole; the new one stays.
    assert summary.pruned == {"mentions": 1}
    assert summary.as_dict()["pruned"] == summary.pruned


def test_the_handle_is_redacted_as_a_whole_word() -> None:
    from reputation.privacy import redactor

    redact = redactor("@Ann")
    assert redact("praise mention of Acme Air by @ann on x") == (
        "praise mention of Acme Air by [removed] on x"
    )
    assert redact("ANN wrote; an announcement by @annie") == (
        "[removed] wrote; an announcement by @annie"
    )
