"""Pending deliveries are claimed before they are sent (issue 15, decision 160): two workers
claiming at once get disjoint incidents, a claim holds until it ends or its run is over, and
a delivery pass sends only what it claimed. On both backends; SKIP LOCKED on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reputation.models import Alert, IncidentMessage
from reputation.notify import CLAIM_HOLD, deliver
from reputation.sinks.base import Delivered, IncidentView
from reputation.store import Store

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def _owed(store: Store, incidents: int, alerts: int = 2) -> dict[int, set[str]]:
    """`incidents` incidents of `alerts` alerts each, pending for sink `s`: their
    fingerprints by incident id."""
    owed: dict[int, set[str]] = {}
    for i in range(incidents):
        incident = store.ledger.open_incident("Acme Air", "legal", "warning", "t", None, T0, T0)
        for j in range(alerts):
            fingerprint = f"{i:04d}{j:04d}".ljust(32, "0")
            alert = Alert(fingerprint, "r", "warning", "Acme Air", "s", f"g{i}",
                          T0 + i * MINUTE)  # fmt: skip
            assert store.ledger.record_alert(alert, ["s"], T0, incident_id=incident)
            owed.setdefault(incident, set()).add(fingerprint)
    return owed


def _fingerprints(claimed: list) -> set[str]:
    return {row["fingerprint"] for row in claimed}


def test_two_workers_claiming_at_once_get_disjoint_whole_incidents(
    database: Path | str,
) -> None:
    setup = Store.open(database)
    owed = _owed(setup, 12)
    setup.close()
    start = threading.Barrier(2)
    got: dict[str, list[list]] = {"a": [], "b": []}
    failures: list[BaseException] = []

    def worker(name: str) -> None:
        store = Store.open(database)
        try:
            while True:
                start.wait(timeout=30)  # both claim at the same moment, every round
                claimed = store.ledger.claim_deliveries("s", name, T0, CLAIM_HOLD, incidents=2)
                got[name].append(claimed)
                if not claimed:
                    start.abort()  # the other may be waiting for a round that will not come
                    return
        except threading.BrokenBarrierError:
            return
        except BaseException as exc:  # noqa: BLE001 - reported below, in the test's thread
            failures.append(exc)
            start.abort()
        finally:
            store.close()

    threads = [threading.Thread(target=worker, args=(name,)) for name in got]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    a = set().union(*(_fingerprints(batch) for batch in got["a"]))
    b = set().union(*(_fingerprints(batch) for batch in got["b"]))
    assert not a & b
    assert a | b == set().union(*owed.values())
    for batch in got["a"] + got["b"]:  # each claim holds whole incidents, two at most
        incidents = {row["incident_id"] for row in batch}
        assert len(incidents) <= 2
        assert _fingerprints(batch) == set().union(*(owed[i] for i in incidents))


def test_a_claim_holds_until_it_ends_then_another_worker_takes_it(store: Store) -> None:
    owed = _owed(store, 3)
    first = store.ledger.claim_deliveries("s", "a", T0, CLAIM_HOLD, incidents=1)
    [incident] = {row["incident_id"] for row in first}
    assert _fingerprints(first) == owed[incident]
    # A new alert of the claimed incident: its message is the first worker's to update.
    newer = Alert("f" * 32, "r", "critical", "Acme Air", "s", "g0", T0 + 9 * MINUTE)
    assert store.ledger.record_alert(newer, ["s"], T0, incident_id=incident)
    # Not ended: another worker takes the other incidents, never this one.
    later = T0 + CLAIM_HOLD - MINUTE
    second = store.ledger.claim_deliveries("s", "b", later, CLAIM_HOLD)
    assert _fingerprints(second) == set().union(*owed.values()) - owed[incident]
    assert store.ledger.claim_deliveries("s", "c", later, CLAIM_HOLD) == []
    # Ended (its worker died without a run to say so): taken over, and only it.
    third = store.ledger.claim_deliveries("s", "c", T0 + CLAIM_HOLD, CLAIM_HOLD)
    assert _fingerprints(third) == owed[incident] | {"f" * 32}
    # A released claim is free at once.
    assert store.ledger.release_claims("s", "c") == 3
    fourth = store.ledger.claim_deliveries("s", "d", later, CLAIM_HOLD)
    assert _fingerprints(fourth) == owed[incident] | {"f" * 32}


def test_a_claim_of_a_run_that_crashed_is_free_before_it_ends(database: Path | str) -> None:
    dead = Store.open(database)
    owed = _owed(dead, 1)
    run_id = dead.start_run(T0)
    claimed = dead.ledger.claim_deliveries("s", "a", T0, CLAIM_HOLD, run_id=run_id)
    assert _fingerprints(claimed) == set().union(*owed.values())
    dead.close()  # its worker is gone (on PostgreSQL its run lock with it)
    store = Store.open(database)
    try:
        assert store.ledger.claim_deliveries("s", "b", T0 + MINUTE, CLAIM_HOLD) == []
        store.start_run(T0 + MINUTE)  # finds the dead run and marks it crashed
        taken = store.ledger.claim_deliveries("s", "b", T0 + MINUTE, CLAIM_HOLD)
        assert _fingerprints(taken) == set().union(*owed.values())
    finally:
        store.close()


def test_a_live_run_keeps_its_claim(database: Path | str) -> None:
    live = Store.open(database)
    _owed(live, 1)
    run_id = live.start_run(T0)
    live.ledger.claim_deliveries("s", "a", T0, CLAIM_HOLD, run_id=run_id)
    other = Store.open(database)
    try:
        if isinstance(database, Path):  # SQLite: one run at a time; a new one is the next
            assert other.ledger.claim_deliveries("s", "b", T0 + MINUTE, CLAIM_HOLD) == []
        else:  # PostgreSQL: the other worker's run sees this one alive and leaves it be
            other.start_run(T0 + MINUTE)
            assert other.ledger.claim_deliveries("s", "b", T0 + MINUTE, CLAIM_HOLD) == []
    finally:
        other.close()
        live.close()


def test_a_row_another_transaction_has_locked_is_skipped_not_waited_for(
    database: Path | str,
) -> None:
    if isinstance(database, Path):
        pytest.skip("row locks and SKIP LOCKED are PostgreSQL's (SQLite has one writer)")
    import psycopg

    store = Store.open(database)
    owed = _owed(store, 2, alerts=1)
    [locked_incident, free_incident] = sorted(owed)
    [locked] = owed[locked_incident]
    with psycopg.connect(str(database)) as other:  # a transaction holding the row's lock
        other.execute(
            "SELECT 1 FROM deliveries WHERE fingerprint = %s FOR UPDATE", [locked]
        ).fetchall()
        store._db.execute_native("SET lock_timeout = '5s'")  # waiting would fail the test
        claimed = store.ledger.claim_deliveries("s", "a", T0, CLAIM_HOLD)
        other.rollback()
    store.close()
    assert _fingerprints(claimed) == owed[free_incident]


class _Recorder:
    """A sink that keeps the incidents it is shown."""

    def __init__(self) -> None:
        self.name = "s"
        self.shown: list[int] = []

    def post(self, view: IncidentView) -> Delivered:
        self.shown.append(view.incident["id"])
        return Delivered(message_id=f"m{view.incident['id']}", channel="c")

    def update(self, view: IncidentView, message: IncidentMessage) -> Delivered:
        return self.post(view)

    def escalate(self, view: IncidentView, message: IncidentMessage | None) -> Delivered:
        return self.post(view)

    def flush(self) -> None:
        """Nothing buffered."""


def test_a_delivery_pass_sends_what_it_claimed_and_releases_what_it_did_not_send(
    store: Store,
) -> None:
    owed = _owed(store, 3)
    [held, *free] = sorted(owed)
    # Another worker, alive, has claimed the first incident's deliveries.
    store.ledger.claim_deliveries("s", "other", T0, CLAIM_HOLD, incidents=1)
    sink = _Recorder()
    result = deliver(store, [sink], T0)  # type: ignore[list-item]
    assert (sorted(sink.shown), result.sent, result.errors) == (free, 4, [])
    rows = store._rows("SELECT fingerprint, status, claimed_by FROM deliveries")
    assert {r["fingerprint"] for r in rows if r["status"] == "pending"} == owed[held]
    assert {r["claimed_by"] for r in rows if r["status"] == "sent"} == {None}  # released
    # When the other worker's claim ends, the next pass sends it.
    deliver(store, [sink], T0 + CLAIM_HOLD)  # type: ignore[list-item]
    assert sorted(sink.shown) == sorted(owed)
