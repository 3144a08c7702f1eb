"""The answering workflow: states with history, conditional transitions (two clicks, one
winner), snoozes that pause the SLA clock, brand replies that close the loop, and SLA
escalations once per breach."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest

from reputation.models import Reply
from reputation.store import Store
from reputation.workflow import Actor, SlaSettings, act, advance, snooze_until
from tests.conftest import NOW, scored

ANN = Actor("U0ANN", "Ann", "button")
BOB = Actor("U0BOB", "Bob", "button")


def incident(store: Store, severity: str = "critical", minutes: float = 0) -> int:
    """An open incident created (wall clock) at NOW + minutes, with one mention."""
    key = scored(store, f"m{severity}{minutes}", 0, thread="t1")
    ledger = store.ledger
    with ledger.transaction():
        incident_id = ledger.open_incident(
            "Acme Air", "lost_damaged", severity, "Acme Air: lost damaged", None,
            NOW, NOW + timedelta(minutes=minutes),
        )  # fmt: skip
        ledger.add_incident_mentions(incident_id, {key: "h"}, 1)
    return incident_id


def test_a_new_incident_is_new_with_an_sla_clock(store: Store) -> None:
    row = store.ledger.workflow(incident(store))
    assert (row["state"], row["version"]) == ("new", 1)
    assert row["sla_from"] is not None


def test_each_transition_is_kept_with_who_when_and_from_where(store: Store) -> None:
    ledger = store.ledger
    i = incident(store)
    assert act(ledger, i, "acknowledge", ANN, NOW, version=1).won
    assign = act(ledger, i, "assign", ANN, NOW + timedelta(minutes=1), version=2,
                 assignee=("U0BOB", "Bob"))  # fmt: skip
    assert assign.won
    assert act(ledger, i, "respond", BOB, NOW + timedelta(minutes=5), version=3).won
    row = ledger.workflow(i)
    assert row["state"] == "responded"
    assert row["assignee_name"] == "Bob"
    assert row["acknowledged_by"] == "Ann"
    history = [(e["action"], e["from_state"], e["to_state"], e["actor_name"], e["source"])
               for e in ledger.events(i)]  # fmt: skip
    assert history == [
        ("acknowledge", "new", "acknowledged", "Ann", "button"),
        ("assign", "acknowledged", "assigned", "Ann", "button"),
        ("respond", "assigned", "responded", "Bob", "button"),
    ]


def test_a_click_on_an_older_version_changes_nothing_and_says_who_did(store: Store) -> None:
    ledger = store.ledger
    i = incident(store)
    assert act(ledger, i, "acknowledge", ANN, NOW, version=1).won
    late = act(ledger, i, "dismiss", BOB, NOW, version=1)
    assert not late.won
    assert late.by is not None and late.by["actor_name"] == "Ann"
    assert ledger.workflow(i)["state"] == "acknowledged"
    assert len(ledger.events(i)) == 1


def test_an_action_from_the_wrong_state_changes_nothing(store: Store) -> None:
    ledger = store.ledger
    i = incident(store)
    assert act(ledger, i, "dismiss", ANN, NOW).won
    again = act(ledger, i, "acknowledge", BOB, NOW)
    assert not again.won and "not relevant" in again.why
    assert [e["action"] for e in ledger.events(i)] == ["dismiss"]


def test_two_clicks_racing_on_one_incident_exactly_one_wins(database: Path | str) -> None:
    path = database  # two connections on each backend
    setup = Store.open(path)
    i = incident(setup)
    setup.close()
    for round_ in range(5):  # several rounds: the race must be won once every time
        version = round_ * 2 + 1
        barrier = threading.Barrier(2)
        results: list[bool] = []

        threads = [
            threading.Thread(target=_race, args=(path, i, version, barrier, results, ANN)),
            threading.Thread(target=_race, args=(path, i, version, barrier, results, BOB)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert sorted(results) == [False, True], results
        check = Store.open(path)
        assert check.ledger.workflow(i)["version"] == version + 1
        assert len(check.ledger.events(i)) == version
        # The next round starts from a fresh click of the winner's successor state.
        assert act(check.ledger, i, "snooze", ANN, NOW, version=version + 1,
                   until=NOW + timedelta(hours=1)).won  # fmt: skip
        check.close()


def _race(path: Path | str, i: int, version: int, barrier: threading.Barrier, results: list[bool],
          actor: Actor) -> None:  # fmt: skip
    own = Store.open(path)
    try:
        barrier.wait()
        outcome = act(own.ledger, i, "assign", actor, NOW, version=version,
                      assignee=(actor.id, actor.name))  # fmt: skip
        results.append(outcome.won)
    finally:
        own.close()


def test_snooze_pauses_the_sla_clock_and_ends_by_itself(store: Store) -> None:
    ledger = store.ledger
    sla = SlaSettings()
    i = incident(store, "critical")
    assert act(ledger, i, "snooze", ANN, NOW + timedelta(minutes=5),
               until=NOW + timedelta(minutes=65)).won  # fmt: skip
    # Snoozed: no escalation however late, while it lasts.
    assert advance(ledger, NOW + timedelta(minutes=64), sla).escalated == 0
    woke = advance(ledger, NOW + timedelta(minutes=65), sla)
    assert woke.woken == 1 and ledger.workflow(i)["state"] == "new"
    # 5 minutes were used before the snooze: 10 remain of the 15.
    assert advance(ledger, NOW + timedelta(minutes=74), sla).escalated == 0
    assert advance(ledger, NOW + timedelta(minutes=75), sla).escalated == 1


def test_an_unacknowledged_critical_incident_escalates_once(store: Store) -> None:
    ledger = store.ledger
    sla = SlaSettings()
    i = incident(store, "critical")
    assert advance(ledger, NOW + timedelta(minutes=14), sla).escalated == 0
    assert advance(ledger, NOW + timedelta(minutes=15), sla).escalated == 1
    assert advance(ledger, NOW + timedelta(minutes=30), sla).escalated == 0
    escalations = [e["detail"] for e in ledger.events(i) if e["action"] == "escalate"]
    assert escalations == [{"breach": "acknowledge", "limit": "15 min"}]
    # An hour in, nobody answered: the respond breach, once.
    assert advance(ledger, NOW + timedelta(hours=1), sla).escalated == 1
    assert advance(ledger, NOW + timedelta(hours=2), sla).escalated == 0


def test_a_warning_waits_an_hour_and_a_dismissed_one_never_escalates(store: Store) -> None:
    ledger = store.ledger
    sla = SlaSettings()
    warning = incident(store, "warning")
    dismissed = incident(store, "critical", minutes=0.5)
    assert act(ledger, dismissed, "dismiss", ANN, NOW).won
    assert advance(ledger, NOW + timedelta(minutes=59), sla).escalated == 0
    assert advance(ledger, NOW + timedelta(minutes=60), sla).escalated == 1
    assert advance(ledger, NOW + timedelta(days=3), sla).escalated == 1  # warning's respond
    assert [e["action"] for e in ledger.events(dismissed)] == ["dismiss"]
    assert {e["detail"]["breach"] for e in ledger.events(warning) if e["action"] == "escalate"} \
        == {"acknowledge", "respond"}  # fmt: skip


def test_an_acknowledged_incident_escalates_for_its_public_response(store: Store) -> None:
    ledger = store.ledger
    sla = SlaSettings()
    i = incident(store, "critical")
    assert act(ledger, i, "acknowledge", ANN, NOW + timedelta(minutes=2)).won
    assert advance(ledger, NOW + timedelta(minutes=59), sla).escalated == 0
    assert advance(ledger, NOW + timedelta(minutes=60), sla).escalated == 1
    assert [e["detail"]["breach"] for e in ledger.events(i) if e["action"] == "escalate"] \
        == ["respond"]  # fmt: skip


def test_a_brand_reply_marks_the_incident_responded_with_its_time(store: Store) -> None:
    ledger = store.ledger
    i = incident(store, "critical")
    [key] = [k for k in _keys(store, i)]
    native = key.split(":", 1)[1]
    reply = Reply("x", "r1", "Acme Air", native, "So sorry, DM us", NOW + timedelta(minutes=9),
                  author="@acmeair")  # fmt: skip
    store.save_batch("file", [], NOW, replies=[reply])
    done = advance(ledger, NOW + timedelta(minutes=20), SlaSettings())
    assert done.replied == 1 and done.escalated == 0
    row = ledger.workflow(i)
    assert row["state"] == "responded"
    assert row["first_response_at"] is not None
    assert row["first_response_at"].startswith("2026-11-22T12:09")
    [event] = ledger.events(i)
    assert (event["action"], event["actor_name"], event["source"]) == \
        ("reply", "@acmeair", "automatic")  # fmt: skip
    assert advance(ledger, NOW + timedelta(minutes=30), SlaSettings()).replied == 0


def test_tomorrow_is_the_next_workday_morning_in_the_configured_zone() -> None:
    from zoneinfo import ZoneInfo

    sla = SlaSettings(timezone=ZoneInfo("Europe/London"))
    assert snooze_until("tomorrow", NOW, sla).isoformat() == "2026-11-23T09:00:00+00:00"
    assert snooze_until("4h", NOW, sla) == NOW + timedelta(hours=4)
    with pytest.raises(ValueError):
        snooze_until("forever", NOW, sla)


def _keys(store: Store, incident_id: int) -> list[str]:
    return [m["key"] for m in store.ledger.incident_evidence(incident_id, 0, 10)]


def test_incidents_from_before_the_workflow_never_escalate_on_upgrade(tmp_path: Path) -> None:
    from sqlite_utils import Database

    from reputation.schema import migrations

    path = tmp_path / "old.db"
    old = Database(path)
    migrations.apply(old, stop_before="m007_incident_workflow")
    for status in ("open", "resolved"):
        old.execute(
            "INSERT INTO incidents (brand, category, severity, status, title, opened_at,"
            " last_event_at, updated_at) VALUES ('Acme Air', 'other', 'critical', ?, 't',"
            " '2026-11-20T08:00:00.000000Z', '2026-11-20T08:00:00.000000Z',"
            " '2026-11-20T08:00:00.000000Z')",
            [status],
        )
    old.conn.commit()
    old.close()
    store = Store.open(path)
    try:
        states = [store.ledger.workflow(i)["state"] for i in (1, 2)]
        assert states == ["new", "closed"]
        assert store.ledger.workflow(1)["sla_from"] is None
        assert advance(store.ledger, NOW + timedelta(days=5), SlaSettings()).escalated == 0
    finally:
        store.close()


def test_a_responded_incident_that_went_quiet_is_closed_by_itself(store: Store) -> None:
    ledger = store.ledger
    i = incident(store, "warning")
    assert act(ledger, i, "respond", ANN, NOW).won
    assert advance(ledger, NOW, SlaSettings()).closed == 0  # still open
    ledger.resolve_incidents("9999", NOW + timedelta(hours=7))
    assert advance(ledger, NOW + timedelta(hours=7), SlaSettings()).closed == 1
    last = ledger.events(i)[-1]
    assert (last["action"], last["to_state"], last["source"]) == ("close", "closed", "automatic")
