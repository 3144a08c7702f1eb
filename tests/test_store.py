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
    assert store._rows("SELECT COUNT(*) AS n FROM mentions") == [{"n": 2}]
    assert store._rows("SELECT COUNT(*) AS n FROM snapshots") == [{"n": 2}]


def test_new_text_with_the_same_counts_is_a_new_version(store: Store) -> None:
    store.save_batch("file", [mention(likes=1)], T0)
    edited = mention(likes=1, seen_minutes=5, text="Acme Air lost my bag")
    assert store.save_batch("file", [edited], T0).updated == 1
    assert store.save_batch("file", [edited], T0).updated == 0  # seen again: no new version
    assert store._rows("SELECT text, version FROM mentions") == [
        {"text": "Acme Air lost my bag", "version": 2}
    ]
    assert store._rows("SELECT COUNT(*) AS n FROM snapshots") == [{"n": 1}]


def test_new_counts_make_a_snapshot_and_a_new_version(store: Store) -> None:
    store.save_batch("file", [mention(likes=1)], T0)
    stats = store.save_batch("file", [mention(likes=9, seen_minutes=30)], T0)
    assert stats.updated == 1
    assert store._rows("SELECT likes, version FROM mentions") == [{"likes": 9, "version": 2}]


def test_a_late_observation_is_history_not_the_current_count(store: Store) -> None:
    store.save_batch("file", [mention(likes=50, seen_minutes=60)], T0)
    store.save_batch("file", [mention(likes=10, seen_minutes=20)], T0)
    assert store._rows("SELECT likes FROM mentions") == [{"likes": 50}]
    snapshots = store._rows("SELECT likes FROM snapshots ORDER BY observed_at")
    assert [r["likes"] for r in snapshots] == [10, 50]


def test_a_new_reach_is_a_new_observation_and_impressions_alone_are_not(store: Store) -> None:
    store.save_batch("file", [mention(likes=3, reshare_reach=100, impressions=1_000)], T0)
    grown = mention(likes=3, seen_minutes=10, reshare_reach=80_000, impressions=5_000)
    assert store.save_batch("file", [grown], T0).updated == 1  # same counts, new reach
    seen_more = mention(likes=3, seen_minutes=20, reshare_reach=80_000, impressions=9_000)
    unknown = mention(likes=3, seen_minutes=30, impressions=12_000)  # reach not reported
    assert store.save_batch("file", [seen_more, unknown], T0).updated == 0
    rows = store._rows("SELECT reshare_reach, impressions FROM snapshots ORDER BY observed_at")
    assert [tuple(r.values()) for r in rows] == [(100, 1_000), (80_000, 5_000)]
    assert store._rows("SELECT version FROM mentions") == [{"version": 2}]
    snapshots = store.snapshots(["x:1"])["x:1"]
    assert [(s["reshare_reach"], s["impressions"]) for s in snapshots] == [
        (100, 1_000), (80_000, 5_000),
    ]  # fmt: skip


def test_a_reach_reported_later_for_the_same_moment_completes_its_snapshot(
    store: Store,
) -> None:
    store.save_batch("file", [mention(likes=3, seen_minutes=10)], T0)
    looked_up = mention(likes=3, seen_minutes=10, reshare_reach=4_200, impressions=800)
    assert store.save_batch("file", [looked_up], T0).updated == 1  # rescored with its reach
    assert store.save_batch("file", [looked_up], T0).updated == 0
    rows = store._rows("SELECT likes, reshare_reach, impressions FROM snapshots")
    assert rows == [{"likes": 3, "reshare_reach": 4_200, "impressions": 800}]


def test_a_late_observation_keeps_its_own_reach(store: Store) -> None:
    store.save_batch("file", [mention(likes=9, seen_minutes=60, reshare_reach=9_000)], T0)
    store.save_batch("file", [mention(likes=2, seen_minutes=20, reshare_reach=700)], T0)
    again = mention(likes=9, seen_minutes=70, reshare_reach=9_000)  # nothing new since 60 min
    assert store.save_batch("file", [again], T0).updated == 0
    rows = store._rows("SELECT likes, reshare_reach FROM snapshots ORDER BY observed_at")
    assert [tuple(r.values()) for r in rows] == [(2, 700), (9, 9_000)]


def _counts(store: Store) -> tuple[list[dict], list[dict]]:
    mentions = store._rows("SELECT likes, shares, replies, version FROM mentions")
    snapshots = store._rows(
        "SELECT observed_at, likes, shares, replies FROM snapshots ORDER BY observed_at"
    )
    return mentions, snapshots


@pytest.mark.parametrize("order", ["low first", "high first"])
def test_two_readings_of_the_same_moment_keep_the_higher_counts_in_any_order(
    store: Store, order: str
) -> None:
    low = mention(likes=5, seen_minutes=10, shares=7, replies=1)
    high = mention(likes=9, seen_minutes=10, shares=2, replies=1)
    readings = [low, high] if order == "low first" else [high, low]
    store.save_batch("file", [mention(likes=1)], T0)
    stats = [store.save_batch("file", [m], T0).updated for m in readings]
    assert _counts(store) == (
        [{"likes": 9, "shares": 7, "replies": 1, "version": 3}],
        [
            {"observed_at": iso(T0), "likes": 1, "shares": 0, "replies": 0},
            {"observed_at": iso(T0 + timedelta(minutes=10)), "likes": 9, "shares": 7,
             "replies": 1},
        ],
    )  # fmt: skip
    assert stats == [1, 1]  # each reading raised a count: scored again
    for reading in readings:  # read again: nothing rises, nothing to score
        assert store.save_batch("file", [reading], T0).updated == 0
    assert _counts(store)[0][0]["version"] == 3


def test_a_lower_reading_of_the_latest_moment_changes_nothing(store: Store) -> None:
    store.save_batch("file", [mention(likes=9, seen_minutes=10)], T0)
    assert store.save_batch("file", [mention(likes=4, seen_minutes=10)], T0).updated == 0
    assert _counts(store) == (
        [{"likes": 9, "shares": 0, "replies": 0, "version": 1}],
        [{"observed_at": iso(T0 + timedelta(minutes=10)), "likes": 9, "shares": 0,
          "replies": 0}],
    )  # fmt: skip


def test_a_late_reading_of_a_kept_moment_raises_that_snapshot_only(store: Store) -> None:
    store.save_batch("file", [mention(likes=3, seen_minutes=10)], T0)
    store.save_batch("file", [mention(likes=50, seen_minutes=60)], T0)
    assert store.save_batch("file", [mention(likes=2, seen_minutes=10)], T0).updated == 0
    assert store.save_batch("file", [mention(likes=8, seen_minutes=10)], T0).updated == 1
    mentions, snapshots = _counts(store)
    assert mentions == [{"likes": 50, "shares": 0, "replies": 0, "version": 3}]
    assert [s["likes"] for s in snapshots] == [8, 50]


def test_missing_fields_do_not_erase_known_ones(store: Store) -> None:
    store.save_batch("file", [mention(author="ann", author_followers=500)], T0)
    store.save_batch("file", [mention(likes=2, seen_minutes=5)], T0)
    assert store._rows("SELECT author, author_followers FROM mentions") == [
        {"author": "ann", "author_followers": 500}
    ]


def test_cursor_advances_with_its_data(store: Store) -> None:
    store.save_batch("file", [mention("1")], T0, scope="*", cursor="10")
    assert store.cursors("file") == {"*": "10"}
    assert store.cursors("other") == {}


def test_a_record_sqlite_refuses_is_skipped_and_the_rest_and_the_cursor_are_saved(
    store: Store,
) -> None:
    store.save_batch("file", [mention("1")], T0, scope="*", cursor="10")
    broken = Mention(source="x", native_id="2", brand="Acme Air", text=None, created_at=T0)  # type: ignore[arg-type]
    huge = mention("5", likes=2**63)
    stats = store.save_batch(
        "file", [mention("3"), broken, huge, mention("4")], T0, scope="*", cursor="20"
    )
    # Each backend names its own refusal: a NULL text, a count beyond 64 bits.
    refusals = {
        "sqlite": [("x:2", "IntegrityError"), ("x:5", "OverflowError")],
        "postgresql": [("x:2", "NotNullViolation"), ("x:5", "NumericValueOutOfRange")],
    }[store._db.dialect]
    assert [(key, why.split(":")[0]) for key, why in stats.refused] == refusals
    assert (stats.new, store.cursors("file")) == (2, {"*": "20"})
    keys = [r["key"] for r in store._rows("SELECT key FROM mentions ORDER BY key")]
    assert keys == ["x:1", "x:3", "x:4"]
    assert store._rows("SELECT COUNT(*) AS n FROM snapshots WHERE mention_key = 'x:5'") == [
        {"n": 0}
    ]


def test_a_failed_batch_leaves_neither_data_nor_cursor(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    store.save_batch("file", [mention("1")], T0, scope="*", cursor="10")

    def locked(*args: object) -> None:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(store, "_count_reads", locked)  # not one record's fault: all or nothing
    with pytest.raises(sqlite3.OperationalError):
        store.save_batch("file", [mention("3")], T0, scope="*", cursor="20", reads=5)
    assert store.cursors("file") == {"*": "10"}
    assert [r["key"] for r in store._rows("SELECT key FROM mentions")] == ["x:1"]


def test_reopening_applies_no_migration_twice_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    Store.open(path).close()
    again = Store.open(path)
    names = [r["name"] for r in again._rows("SELECT name FROM _sqlite_migrations")]
    assert names == [
        "m001_initial",
        "m002_replies_and_source_state",
        "m003_incidents_and_muting",
        "m004_mention_threads",
        "m005_every_alert_in_an_incident",
        "m006_sink_posts_and_state",
        "m007_incident_workflow",
        "m008_work_queues",
        "m009_snapshot_reach_and_impressions",
        "m010_health_and_notices",
        "m011_search_and_forgetting",
        "m012_delivery_claims",
    ]
    assert "thread_id" in again._db["mentions"].columns_dict
    assert again._db.journal_mode == "wal"
    tables = set(again._db.table_names())
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
    assert "replies" in store._db.table_names()
    assert store.cursors("file") == {"*": "5"}
    assert store._rows("SELECT key, thread_id FROM mentions") == [{"key": "x:1", "thread_id": None}]
    store.save_batch("file", [mention("1", likes=5, seen_minutes=60)], T0)  # and takes updates
    assert store._rows("SELECT likes, version FROM mentions") == [{"likes": 5, "version": 2}]
    store.close()


def test_one_transaction_spans_the_store_and_its_ledger(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.save_batch("file", [mention()], T0)
        store.ledger.add_silence({"brand": "Acme Air"}, timedelta(hours=1), None, T0)
        raise RuntimeError("crash before the end of the transaction")
    assert store._rows("SELECT COUNT(*) AS n FROM mentions") == [{"n": 0}]
    assert store.ledger.silences(T0, everything=True) == []
    with store.transaction():
        store.save_batch("file", [mention()], T0)
        store.ledger.add_silence({"brand": "Acme Air"}, timedelta(hours=1), None, T0)
    assert store._rows("SELECT COUNT(*) AS n FROM mentions") == [{"n": 1}]
    assert len(store.ledger.silences(T0)) == 1


def _pre_incident_alert(db, fingerprint: str, status: str, keys: list[str]) -> None:
    """An alert as the code before incidents (m003) recorded it: no incident_id."""
    db["alerts"].insert(
        {"fingerprint": fingerprint, "rule": "viral-complaint", "group_key": f"g|{fingerprint}",
         "severity": "warning", "status": status, "brand": "Acme Air", "summary": fingerprint,
         "reasons": "[]", "route": "#rep", "labels": "{}", "event_at": iso(T0),
         "created_at": iso(T0), "updated_at": iso(T0)}
    )  # fmt: skip
    for key in keys:
        db["alert_mentions"].insert({"fingerprint": fingerprint, "mention_key": key})
    if status != "muted":
        db["deliveries"].insert(
            {"fingerprint": fingerprint, "sink": "console", "updated_at": iso(T0),
             "status": "sent" if status == "sent" else "pending"}
        )  # fmt: skip


def test_alerts_from_before_incidents_each_get_an_incident_and_are_then_delivered(
    tmp_path: Path,
) -> None:
    import io

    from rich.console import Console
    from sqlite_utils import Database

    from reputation.incidents import text_hash
    from reputation.notify import deliver
    from reputation.schema import migrations
    from reputation.sinks import ConsoleSink

    path = tmp_path / "old.db"
    old = Database(path)
    migrations.apply(old, stop_before="m005_every_alert_in_an_incident")
    scored = [("1", "legal", 0.9), ("2", "billing_refund", 0.5), ("3", "billing_refund", 0.4),
              ("4", "other", 0.3)]  # fmt: skip
    for native, category, severity in scored:
        old["mentions"].insert(
            {"key": f"x:{native}", "source": "x", "native_id": native, "brand": "Acme Air",
             "text": f"Acme Air post {native}!", "created_at": iso(T0), "first_seen_at": iso(T0),
             "last_seen_at": iso(T0)}
        )  # fmt: skip
        old["scores"].insert(
            {"mention_key": f"x:{native}", "mention_version": 1, "scored_at": iso(T0),
             "sentiment": -0.5, "complaint": 0.9, "severity": severity, "viral_risk": 0.1,
             "predicted_engagement_24h": 0.0, "category": category, "reasons": "[]",
             "evaluated": 1}
        )  # fmt: skip
    _pre_incident_alert(old, "pending", "pending", ["x:1", "x:2", "x:3"])
    _pre_incident_alert(old, "sent", "sent", ["x:4"])
    _pre_incident_alert(old, "muted", "muted", ["x:4"])
    old.close()

    store = Store.open(path)
    alerts = {a["fingerprint"]: a for a in store._rows("SELECT * FROM alerts")}
    assert alerts["muted"]["incident_id"] is None  # muted alerts are never in an incident
    assert alerts["pending"]["incident_id"] != alerts["sent"]["incident_id"]
    pending = store.ledger.incident(alerts["pending"]["incident_id"])
    assert (pending["category"], pending["title"], pending["mentions"]) == (
        "billing_refund", "Acme Air: billing_refund", 3)  # fmt: skip
    assert (pending["severity"], pending["route"], pending["status"]) == ("warning", "#rep", "open")
    hashes = store._rows(
        "SELECT mention_key, text_hash FROM incident_mentions WHERE incident_id = ?"
        " ORDER BY mention_key",
        [pending["id"]],
    )
    assert hashes == [
        {"mention_key": f"x:{n}", "text_hash": text_hash(f"Acme Air post {n}!")} for n in "123"
    ]
    assert store.ledger.incident(alerts["sent"]["incident_id"])["category"] == "other"

    out = io.StringIO()
    console = ConsoleSink("console", {}, {}, Console(file=out, width=200))
    result = deliver(store, [console], T0 + timedelta(hours=1))
    assert (result.sent, result.errors) == (1, [])
    assert f"#{pending['id']} Acme Air: billing_refund" in out.getvalue()
    assert store.ledger.alert_counts() == {"pending": 0, "sent": 2, "failed": 0, "muted": 1}
    store.close()


def test_an_alert_is_either_muted_or_in_an_incident(store: Store) -> None:
    from reputation.models import Alert

    alert = Alert("f" * 32, "r", "warning", "Acme Air", "s", "g", T0)
    with pytest.raises(ValueError, match="either muted or in an incident"):
        store.ledger.record_alert(alert, ["console"], T0)
    with pytest.raises(ValueError, match="either muted or in an incident"):
        store.ledger.record_alert(alert, ["console"], T0, incident_id=1, muted="silenced")
    assert store.ledger.alert_counts() == {"pending": 0, "sent": 0, "failed": 0, "muted": 0}


def test_complaints_of_given_keys_are_read_back(store: Store) -> None:
    from reputation.models import Score

    store.save_batch("file", [mention("1"), mention("2")], T0)
    store.save_scores([(Score("x:1", -0.5, 0.91, 0.4, 0.1, 3.0, "other"), 1)], T0)
    assert store.complaints(["x:1", "x:2", "x:9", "x:1"]) == {"x:1": 0.91}
    assert store.complaints([]) == {}


def test_field_values_of_a_score_field_join_the_scores(store: Store) -> None:
    from tests.conftest import scored

    scored(store, "1", 0, category="refund")
    scored(store, "2", 10, category="baggage")
    scored(store, "3", 200, category="rude")  # created after `until`
    until = T0 + timedelta(minutes=60)
    assert store.field_values("category", T0, until) == ["baggage", "refund"]
    assert store.field_values("brand", T0, until) == ["Acme Air"]


def test_newest_first_pages_through_every_mention_once(store: Store) -> None:
    from tests.conftest import scored

    # Three at the same minute, so a page boundary falls between equal created_at.
    keys = [scored(store, str(i), minutes=i // 3) for i in range(10)]
    found = [m["key"] for m in store.newest_first(T0 + timedelta(hours=1), page=2)]
    assert sorted(found) == sorted(keys) and len(found) == len(set(found)) == 10
    assert found == [m["key"] for m in store.newest_first(T0 + timedelta(hours=1), page=100)]
