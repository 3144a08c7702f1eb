"""The store: idempotent upserts, cursors saved only with their data, migrations, WAL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reputation.models import Mention
from reputation.store import Store, StoreError
from reputation.timeutil import iso

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def mention(native_id: str = "1", likes: int = 0, seen_minutes: int = 0, **fields) -> Mention:
    return Mention(
        source="x",
        native_id=native_id,
        brand="Acme Air",
        text=fields.pop("text", "Acme Air"),
        created_at=T0,
        likes=likes,
        observed_at=T0 + timedelta(minutes=seen_minutes),
        **fields,
    )


def test_upsert_is_idempotent(store: Store) -> None:
    batch = [mention("1", likes=3), mention("2")]
    first = store.save_batch("file", batch, T0)
    again = store.save_batch("file", batch, T0)
    assert (first.new, again.new, again.updated) == (2, 0, 0)
    assert store.rows("SELECT COUNT(*) AS n FROM mentions") == [{"n": 2}]
    assert store.rows("SELECT COUNT(*) AS n FROM snapshots") == [{"n": 2}]


def test_new_counts_make_a_snapshot_and_a_new_version(store: Store) -> None:
    store.save_batch("file", [mention(likes=1)], T0)
    stats = store.save_batch("file", [mention(likes=9, seen_minutes=30)], T0)
    assert stats.updated == 1
    assert store.rows("SELECT likes, version FROM mentions") == [{"likes": 9, "version": 2}]


def test_a_late_observation_is_history_not_the_current_count(store: Store) -> None:
    store.save_batch("file", [mention(likes=50, seen_minutes=60)], T0)
    store.save_batch("file", [mention(likes=10, seen_minutes=20)], T0)
    assert store.rows("SELECT likes FROM mentions") == [{"likes": 50}]
    assert [r["likes"] for r in store.rows("SELECT likes FROM snapshots ORDER BY observed_at")] == [
        10,
        50,
    ]


def test_missing_fields_do_not_erase_known_ones(store: Store) -> None:
    store.save_batch("file", [mention(author="ann", author_followers=500)], T0)
    store.save_batch("file", [mention(likes=2, seen_minutes=5)], T0)
    assert store.rows("SELECT author, author_followers FROM mentions") == [
        {"author": "ann", "author_followers": 500}
    ]


def test_cursor_advances_with_its_data(store: Store) -> None:
    store.save_batch("file", [mention("1")], T0, scope="*", cursor="10")
    assert store.cursors("file") == {"*": "10"}
    assert store.cursors("other") == {}


def test_a_failed_batch_leaves_neither_data_nor_cursor(store: Store) -> None:
    store.save_batch("file", [mention("1")], T0, scope="*", cursor="10")
    broken = Mention(source="x", native_id="2", brand="Acme Air", text=None, created_at=T0)  # type: ignore[arg-type]
    with pytest.raises(Exception, match="NOT NULL"):
        store.save_batch("file", [mention("3"), broken], T0, scope="*", cursor="20")
    assert store.cursors("file") == {"*": "10"}
    assert [r["key"] for r in store.rows("SELECT key FROM mentions")] == ["x:1"]


def test_reopening_applies_no_migration_twice_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    Store.open(path).close()
    again = Store.open(path)
    names = [r["name"] for r in again.rows("SELECT name FROM _sqlite_migrations")]
    assert names == [
        "m001_initial",
        "m002_replies_and_source_state",
        "m003_incidents_and_muting",
        "m004_mention_threads",
    ]
    assert "thread_id" in again.db["mentions"].columns_dict
    assert again.db.journal_mode == "wal"
    tables = set(again.db.table_names())
    assert {"mentions", "snapshots", "scores", "cursors", "alerts", "deliveries", "runs"} <= tables
    again.close()


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open database"):
        Store.open(path)


def test_an_older_database_is_migrated_in_place_keeping_its_data(tmp_path: Path) -> None:
    from sqlite_utils import Database

    from reputation.schema import migrations

    path = tmp_path / "old.db"
    old = Database(path)
    migrations.apply(old, stop_before="m002_replies_and_source_state")
    # Rows as the first version wrote them (today's Store writes columns it did not have).
    old["mentions"].insert(
        {"key": "x:1", "source": "x", "native_id": "1", "brand": "Acme Air", "text": "t",
         "created_at": iso(T0), "first_seen_at": iso(T0), "last_seen_at": iso(T0)}
    )  # fmt: skip
    old["cursors"].insert({"connector": "file", "scope": "*", "value": "5", "updated_at": iso(T0)})
    old.close()
    store = Store.open(path)
    assert "replies" in store.db.table_names()
    assert store.cursors("file") == {"*": "5"}
    assert store.rows("SELECT key, thread_id FROM mentions") == [{"key": "x:1", "thread_id": None}]
    store.save_batch("file", [mention("1", likes=5, seen_minutes=60)], T0)  # and takes updates
    assert store.rows("SELECT likes, version FROM mentions") == [{"likes": 5, "version": 2}]
    store.close()


def test_complaints_of_given_keys_are_read_back(store: Store) -> None:
    from reputation.models import Score

    store.save_batch("file", [mention("1"), mention("2")], T0)
    store.save_scores([(Score("x:1", -0.5, 0.91, 0.4, 0.1, 3.0, "other"), 1)], T0)
    assert store.complaints(["x:1", "x:2", "x:9", "x:1"]) == {"x:1": 0.91}
    assert store.complaints([]) == {}
