"""Full-text search of mention text (migration m011) on both backends: FTS5 on SQLite, a GIN
index over the text's words on PostgreSQL (decision 157). A new mention is found by a word of
its text, an edited one by its new words only, a removed one not at all; `browse` refuses a
PostgreSQL database in one line."""

from __future__ import annotations

import argparse
from datetime import timedelta
from types import SimpleNamespace

import pytest

from reputation.cli_archive import cmd_browse
from reputation.models import Mention
from reputation.retention import RetentionSettings, prune
from reputation.store import Store
from tests.conftest import NOW, T0


def post(native_id: str, text: str, minutes: float = 0) -> Mention:
    created = T0 + timedelta(minutes=minutes)
    return Mention(source="x", native_id=native_id, brand="Acme Air", text=text,
                   created_at=created, observed_at=created, author="ann")  # fmt: skip


def test_search_finds_new_mentions_follows_edits_and_forgets_removed_ones(store: Store) -> None:
    store.save_batch("file", [post("1", "Lost luggage at the gate"),
                              post("2", "Lovely crew, lost nothing")], NOW)  # fmt: skip
    assert store.search("luggage") == ["x:1"]
    assert store.search("LUGGAGE") == ["x:1"]  # words, whatever their case
    assert sorted(store.search("lost")) == ["x:1", "x:2"]
    assert store.search("lost luggage") == ["x:1"]  # every word must be there
    assert store.search("zanzibar") == []
    # A second batch is indexed too; an edit replaces the old words by the new ones.
    store.save_batch("file", [post("3", "Luggage found"), post("1", "Bag came back")], NOW)
    assert store.search("luggage") == ["x:3"]
    assert store.search("bag") == ["x:1"]
    assert store.search("luggage", limit=0) == []
    # A mention that retention removes is no longer found.
    old = Mention(source="x", native_id="9", brand="Acme Air", text="ancient luggage tale",
                  created_at=NOW - timedelta(days=400))  # fmt: skip
    store.save_batch("file", [old], NOW)
    assert sorted(store.search("luggage")) == ["x:3", "x:9"]
    assert prune(store, RetentionSettings(0, 0, 365), NOW) == {"mentions": 1}
    assert store.search("luggage") == ["x:3"]


def test_search_ranks_the_closer_match_first(store: Store) -> None:
    store.save_batch("file", [post("1", "one delay, then a long queue at check-in today"),
                              post("2", "delay delay delay, another delay at the gate")],
                     NOW)  # fmt: skip
    assert store.search("delay") == ["x:2", "x:1"]  # not the order they were stored in


def test_retention_of_raw_payloads_and_snapshots_works_on_both(store: Store) -> None:
    # The bounded batches find their rows by address (rowid, or ctid on PostgreSQL).
    for n in range(3):
        created = NOW - timedelta(days=60 + n)
        mention = Mention(source="x", native_id=str(n), brand="Acme Air", text=f"post {n}",
                          created_at=created, observed_at=created, raw={"n": n})  # fmt: skip
        store.save_batch("file", [mention], NOW)
    assert store.prune_raw(NOW - timedelta(days=30), 2) == 2
    assert store.prune_snapshots(NOW - timedelta(days=30), 2) == 2
    assert store.prune_raw(NOW - timedelta(days=30), 5) == 1
    assert store.prune_snapshots(NOW - timedelta(days=30), 5) == 1
    assert store.prune_raw(NOW - timedelta(days=30), 5) == 0


def test_browse_refuses_a_postgresql_database_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = argparse.Namespace(host="127.0.0.1", port=8001, immutable=False)
    config = SimpleNamespace(database="postgresql://someone@127.0.0.1:5432/reputation")
    assert cmd_browse(args, config) == 1
    err = capsys.readouterr().err
    assert "browse works on a SQLite database only" in err and "PostgreSQL" in err
    assert len(err.strip().splitlines()) == 1
