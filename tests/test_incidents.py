"""Incidents: a storm is one thread updated as it grows; related mentions group; pacing."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from reputation.config import load_config
from reputation.engine import evaluate_rules, load_rules
from reputation.pipeline import RunSummary, run_once
from reputation.sinks import IncidentView, SlackSink
from reputation.store import Store
from reputation.validate import Checker
from tests.conftest import NOW, REPO, scored, write_jsonl
from tests.fakes import TOKEN, FakeSlack

OUTAGE = [
    "Acme Air app is down again, can't check in",
    "@AcmeAir website error at checkout, lost my booking",
    "Acme Air app keeps crashing, outage since this morning",
    "why is the Acme Air app down?? nobody can log in, terrible",
]


def storm(make_record: Callable, start: int, count: int) -> list[dict]:
    """`count` outage complaints, one every 9 seconds from minute `start`; every 25th by an
    account with 30k followers (each of those is a viral-complaint alert)."""
    return [
        make_record(
            f"{OUTAGE[i % 4]} ({i})",
            minutes=start + i * 0.15,
            author=f"user{i}",
            author_followers=30_000 if i % 25 == 0 else 200,
        )
        for i in range(count)
    ]


def unrelated(make_record: Callable) -> list[dict]:
    return [
        make_record(f"Flying Acme Air to Lisbon, lovely crew ({i})", minutes=i * 3)
        for i in range(10)
    ]


@pytest.fixture
def storm_setup(workspace: Callable, slack: FakeSlack, tmp_path: Path):
    """A config with the shipped rules, a Slack sink at the fake, a critical route, and no
    real sleeping; returns a run function that reports what each run sent to Slack."""
    path = workspace(
        [],
        sinks=[{"type": "slack", "channel": "#rep", "base_url": slack.base_url}],
        routes={"critical": "#rep-critical"},
    )
    config = load_config(path)
    factories = {"slack": lambda n, o, e: SlackSink(n, o, e, sleep=lambda s: None)}

    def run(records: list[dict], minutes: float) -> dict[str, Any]:
        write_jsonl(tmp_path / "mentions.jsonl", records, mode="a")
        before = (len(slack.top_level), len(slack.replies), len(slack.updates))
        summary = run_once(
            config,
            now=NOW + timedelta(minutes=minutes),
            env={"SLACK_BOT_TOKEN": TOKEN},
            sink_factories=factories,
        )
        return {
            "summary": summary,
            "top": slack.top_level[before[0] :],
            "replies": slack.replies[before[1] :],
            "updates": slack.updates[before[2] :],
        }

    return config, run


def test_a_storm_of_200_complaints_is_one_incident_updated_in_place(
    storm_setup: tuple, make_record: Callable, slack: FakeSlack
) -> None:
    config, run = storm_setup
    first = run(storm(make_record, 0, 80) + unrelated(make_record), 60)
    second = run(storm(make_record, 12, 80), 70)
    lawyer = make_record(
        "My lawyer will sue Acme Air: you lost my daughter's wheelchair and nobody answers",
        minutes=20,
        author="famous_mum",
        author_followers=950_000,
    )
    celebrity = make_record(
        "Acme Air app down for an hour now, total outage, and they lied about it. useless",
        minutes=29,
        author="celeb",
        author_followers=2_000_000,
    )
    third = run([*storm(make_record, 24, 40), lawyer, celebrity], 80)
    fourth = run([], 90)
    assert all(not r["summary"].errors for r in (first, second, third, fourth))

    store = Store.open(config.database)
    incidents = store._rows("SELECT id, category, severity FROM incidents ORDER BY id")
    outage = [i for i in incidents if i["category"] == "outage_bug"]
    assert len(outage) == 1, incidents
    storm_id = outage[0]["id"]
    assert outage[0]["severity"] == "critical"
    assert store.ledger.incident(storm_id)["mentions"] >= 10
    assert (
        store._rows("SELECT COUNT(*) AS n FROM alerts WHERE incident_id = ?", [storm_id])[0]["n"]
        >= 5
    )

    def about(posts: list[dict], incident: int) -> list[dict]:
        return [p for p in posts if p["metadata"]["event_payload"]["incident"] == incident]

    top_level = about(slack.top_level, storm_id)
    assert len(top_level) <= 3  # the thread, plus one escalation
    assert [p["channel"] for p in top_level] == ["#rep", "#rep-critical"]
    main_ts = top_level[0]["ts"]
    for r in (first, second, third, fourth):  # at most one update and one reply per run
        assert len([u for u in r["updates"] if u["ts"] == main_ts]) <= 1
        assert len([p for p in r["replies"] if p["thread_ts"] == main_ts]) <= 1
    assert any(u["ts"] == main_ts for u in second["updates"] + third["updates"])
    assert (fourth["top"], fourth["replies"], fourth["updates"]) == ([], [], [])

    # The unrelated critical complaint gets its own message, once.
    own = [p for p in slack.top_level if "famous_mum" in json.dumps(p["blocks"])]
    assert len(own) == 1
    assert own[0]["metadata"]["event_payload"]["incident"] != storm_id
    store.close()


# -- grouping, table-driven over pairs of mentions ------------------------------------------

ANY_RULE = "name: any-complaint\ntype: any\nwhere: {complaint: {gte: 0.5}}\nrealert: 1m\n"


GROUPING = [
    ("same category within the window", [("1", 0, "outage_bug"), ("2", 90, "outage_bug")], 1),
    ("same category after the window", [("1", 0, "outage_bug"), ("2", 200, "outage_bug")], 2),
    ("another category", [("1", 0, "outage_bug"), ("2", 10, "billing_refund")], 2),
    (
        "a reply joins its parent",
        [("1", 0, "outage_bug"), ("2", 10, "billing_refund", "t", "1")],
        1,
    ),
    (
        "a parent joins its earlier reply",
        [("2", 0, "billing_refund", "t", "1"), ("1", 10, "outage_bug")],
        1,
    ),
    (
        "replies in one conversation join, whatever they answer",
        [("5", 0, "outage_bug", "t", "4", "1"), ("6", 10, "billing_refund", "u", "3", "1")],
        1,
    ),
    (
        "replies in two conversations stay apart",
        [("5", 0, "outage_bug", "t", "4", "1"), ("6", 10, "billing_refund", "u", "3", "2")],
        2,
    ),
    (
        "a copy joins its original",
        [
            ("1", 0, "outage_bug", "Acme Air stole my bag https://x.co/1"),
            ("2", 10, "lost_damaged", "acme air STOLE my bag! #acme"),
        ],
        1,
    ),
    (
        "the window counts from the last activity",
        [("1", 0, "outage_bug"), ("2", 100, "outage_bug"), ("3", 200, "outage_bug")],
        1,
    ),
]


@pytest.mark.parametrize(("label", "mentions", "incidents"), GROUPING, ids=[g[0] for g in GROUPING])
def test_grouping(tmp_path: Path, store: Store, label: str, mentions: list, incidents: int) -> None:
    (tmp_path / "r.yaml").write_text(ANY_RULE)
    rules = load_rules(tmp_path, Checker(tmp_path))
    for native, minutes, category, *rest in mentions:
        text, parent, thread = (*rest, None, None, None)[:3]
        scored(store, native, minutes, complaint=0.9, category=category, text=text,
               parent=parent, thread=thread, author=f"a{native}", followers=100)  # fmt: skip
    evaluate_rules(store, rules, ["console"], NOW)
    assert store._rows("SELECT COUNT(*) AS n FROM incidents")[0]["n"] == incidents


def test_a_brand_wide_burst_joins_its_majority_category(tmp_path: Path, store: Store) -> None:
    (tmp_path / "burst.yaml").write_text(
        "name: burst\ntype: frequency\nwhere: {complaint: {gte: 0.5}}\nnum_events: 3\n"
        "timeframe: 30m\nquery_key: brand\n"
    )
    (tmp_path / "one.yaml").write_text(ANY_RULE.replace("{gte: 0.5}", "{gte: 0.5}, native_id: '1'"))
    rules = load_rules(tmp_path, Checker(tmp_path))
    for native, minutes, category in (("1", 0, "outage_bug"), ("2", 1, "outage_bug"),
                                      ("3", 2, "billing_refund")):  # fmt: skip
        scored(store, native, minutes, complaint=0.9, category=category, author=f"a{native}")
    evaluate_rules(store, rules, ["console"], NOW)
    [outage] = store._rows("SELECT id FROM incidents WHERE category = 'outage_bug'")
    alerts = store._rows("SELECT rule, incident_id FROM alerts ORDER BY rule")
    assert alerts == [
        {"rule": "any-complaint", "incident_id": outage["id"]},
        {"rule": "burst", "incident_id": outage["id"]},
    ]


# -- pacing -------------------------------------------------------------------------------


def test_posts_to_one_channel_are_paced_and_none_is_dropped(slack: FakeSlack) -> None:
    slack.add_channel("#other")
    clock = {"now": 100.0}
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock["now"] += seconds

    sink = SlackSink(
        "slack",
        {
            "channel": "#rep",
            "token_env": "T",
            "base_url": slack.base_url,
            "min_interval": timedelta(seconds=1.5),
        },
        {"T": TOKEN},
        clock=lambda: clock["now"],
        sleep=sleep,
    )

    def view(incident_id: int, route: str | None = None) -> IncidentView:
        incident = {
            "id": incident_id,
            "brand": "Acme Air",
            "category": "other",
            "severity": "warning",
            "status": "open",
            "title": "t",
            "route": route,
            "opened_at": "2026-11-22T08:00:00.000000Z",
            "last_event_at": "2026-11-22T08:00:00.000000Z",
            "mentions": 1,
            "reach": 0,
        }
        alert = {"rule": "r", "severity": "warning", "summary": "s", "reasons": []}
        return IncidentView(incident, [alert], [])

    for i in range(4):
        sink.post(view(i))
    clock["now"] += 0.5
    sink.post(view(9, route="#other"))  # another channel is not held back
    assert slept == [1.5, 1.5, 1.5]
    assert len(slack.top_level) == 5


def test_shipped_rules_and_config_still_load() -> None:
    config = load_config(REPO / "config.yaml")
    assert {r.name for r in config.rules} >= {"viral-complaint", "complaint-burst"}
    assert isinstance(RunSummary().as_dict(), dict)
