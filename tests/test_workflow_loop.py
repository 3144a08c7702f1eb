"""The loop closed end to end, through real runs: a brand reply fetched by the file and X
connectors marks its incident responded with the right time to first response; an
unacknowledged critical incident escalates once at its SLA on the critical route, a snoozed
one not before its snooze ends; the command line moves and lists incidents; clicks become
labels that `reputation train` and `reputation eval` take; the digest gives the numbers."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from reputation.cli import main
from reputation.config import Config, load_config
from reputation.pipeline import run_once
from reputation.store import Store
from reputation.workflow import Actor, act
from tests.conftest import NOW, T0, write_jsonl
from tests.fakes import TOKEN, FakeSlack

ENV = {"SLACK_BOT_TOKEN": TOKEN}
CRITICAL_RULE = """name: loud-complaint
type: any
description: a complaint by a large account
where: {author_followers: {gte: 10000}}
severity: critical
"""


def loud(make_record: Callable, minutes: float, **extra: Any) -> dict[str, Any]:
    text = "Acme Air lost my bag and nobody answers, terrible <!channel>"
    return make_record(text, minutes=minutes, author="loud", author_followers=50_000, **extra)


@pytest.fixture
def critical(workspace: Callable, slack: FakeSlack, tmp_path: Path) -> Callable[..., Config]:
    """A config with one critical rule, a Slack sink and a critical route."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "loud.yaml").write_text(CRITICAL_RULE)

    def make(records: list[dict[str, Any]], **top: Any) -> Config:
        sinks = [{"type": "slack", "channel": "#rep", "base_url": slack.base_url,
                  "min_interval": "1s"}]  # fmt: skip
        top.setdefault("sla", {"enabled": True})  # no buttons here: the CLI acknowledges
        return load_config(workspace(records, sinks=sinks, rules_dir=rules,
                                     routes={"critical": "#rep-critical"}, **top))  # fmt: skip

    return make


def breaches(slack: FakeSlack) -> list[dict[str, Any]]:
    """Top-level posts on the critical route that announce an SLA breach."""
    return [m for m in slack.channel("rep-critical").messages
            if "SLA breached" in m["text"] and not m.get("thread_ts")]  # fmt: skip


def run(config: Config, minutes: float) -> None:
    summary = run_once(config, now=NOW + timedelta(minutes=minutes), env=ENV)
    assert summary.errors == [], summary.errors


def ledger_of(config: Config) -> Store:
    return Store.open(config.database)


def test_a_brand_reply_in_the_file_closes_the_loop_in_slack(
    critical: Callable, make_record: Callable, slack: FakeSlack, tmp_path: Path
) -> None:
    mention = loud(make_record, 0, id="m1")
    config = critical([mention])
    run(config, 0)
    [main_post] = slack.top_level
    assert "Next:" in json.dumps(main_post["blocks"])
    reply = make_record("@loud so sorry <!here>, DM us your file number", minutes=12,
                        id="r1", author="@acmeair", parent_id="m1")  # fmt: skip
    write_jsonl(tmp_path / "mentions.jsonl", [reply], mode="a")
    run(config, 5)
    store = ledger_of(config)
    try:
        row = store.ledger.workflow(1)
        assert row["state"] == "responded"
        assert row["first_response_at"] == "2026-11-22T08:12:00.000000Z"
        [event] = store.ledger.events(1)
        assert (event["action"], event["actor_name"], event["source"]) == \
            ("reply", "@acmeair", "automatic")  # fmt: skip
    finally:
        store.close()
    # The message says it was answered instead of "Next", once; the reply is in the thread.
    shown = json.dumps(slack.updates[-1]["blocks"], ensure_ascii=False)
    assert "Answered in public* by @acmeair" in shown and "12 min after the first post" in shown
    assert "Next:" not in shown
    [line] = [r for r in slack.replies if "answered in public" in r["text"]]
    assert "&lt;!here&gt;" in line["text"] and line["thread_ts"] == main_post["ts"]
    assert slack.pings == []
    updates = len(slack.updates)
    run(config, 10)  # nothing new: nothing updated or posted again
    assert len(slack.updates) == updates
    assert len([r for r in slack.replies if "answered in public" in r["text"]]) == 1


def test_a_brand_reply_fetched_by_the_x_connector_marks_its_incident_responded(
    workspace: Callable, httpserver: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.harness.x import BASE, FakeX
    from tests.harness.x import TOKEN as X_TOKEN

    monkeypatch.setenv("X_BEARER_TOKEN", X_TOKEN)
    fake = FakeX().install(httpserver)
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "bag.yaml").write_text(
        "name: bag\ntype: any\nwhere: {text: {contains: lost my bag again}}\nseverity: warning\n"
    )
    entry = {"type": "x", "name": "x", "base_url": httpserver.url_for("/"), "max_results": 10,
             "timeout": "2s"}  # fmt: skip
    config = load_config(workspace(connectors=[entry], rules_dir=rules))
    assert run_once(config, now=NOW).errors == []
    [reply_id] = fake.ids("reply")
    store = ledger_of(config)
    try:
        [listed] = store.ledger.incident_listing()
        row = store.ledger.workflow(listed["id"])
        assert row["state"] == "responded"
        assert row["first_response_at"] == (BASE + timedelta(minutes=15)).strftime(
            "%Y-%m-%dT%H:%M:%S.000000Z")  # fmt: skip
        assert store.ledger.events(listed["id"])[0]["detail"] == {"reply": f"x:{reply_id}"}
        from reputation.report import day_numbers

        [numbers] = day_numbers(store, BASE.date())
        assert (numbers.ttr_median_min, numbers.response_rate) == (15.0, 1.0)
    finally:
        store.close()


def test_an_unacknowledged_critical_incident_escalates_once_on_the_critical_route(
    critical: Callable, make_record: Callable, slack: FakeSlack
) -> None:
    config = critical([loud(make_record, 0)])
    run(config, 0)
    run(config, 14)
    assert breaches(slack) == []
    run(config, 15)
    [escalation] = breaches(slack)
    assert "not acknowledged within 15 min" in escalation["text"]
    assert any("escalated" in r["text"] for r in slack.replies)
    run(config, 20)
    run(config, 40)
    assert len(breaches(slack)) == 1  # once for the breach, never again
    run(config, 60)  # an hour without a public response: the second breach, once
    assert len(breaches(slack)) == 2
    assert "not answered in public within 1 h" in breaches(slack)[1]["text"]


def test_a_snoozed_incident_does_not_escalate_until_the_snooze_ends(
    critical: Callable, make_record: Callable, slack: FakeSlack
) -> None:
    config = critical([loud(make_record, 0)])
    run(config, 0)
    store = ledger_of(config)
    try:
        outcome = act(store.ledger, 1, "snooze", Actor("U0ANN", "ann", "button"),
                      NOW + timedelta(minutes=5), until=NOW + timedelta(minutes=65))  # fmt: skip
        assert outcome.won
    finally:
        store.close()
    for minutes in (15, 30, 64):
        run(config, minutes)
    assert breaches(slack) == []
    run(config, 66)  # the snooze is over: 5 of the 15 minutes were used before it
    assert breaches(slack) == []
    run(config, 75)
    assert len(breaches(slack)) == 1
    lines = [r["text"] for r in slack.replies]
    assert any("Snoozed until" in t for t in lines) and any("Snooze over" in t for t in lines)


def test_the_command_line_moves_lists_and_reports_incidents(
    critical: Callable, make_record: Callable, capsys: pytest.CaptureFixture[str]
) -> None:
    config = critical([loud(make_record, 0)])
    run(config, 0)
    path = str(config.path)
    assert main(["incidents", "acknowledge", "1", "--as", "carol", "--config", path]) == 0
    assert main(["incidents", "acknowledge", "1", "--as", "dave", "--config", path]) == 1
    assert "by carol" in capsys.readouterr().err
    assert main(["incidents", "assign", "1", "--to", "erin", "--as", "carol",
                 "--config", path]) == 0  # fmt: skip
    assert main(["incidents", "acknowledge", "99", "--config", path]) == 1
    capsys.readouterr()
    assert main(["incidents", "--json", "--state", "assigned", "--config", path]) == 0
    [listed] = json.loads(capsys.readouterr().out)["incidents"]
    assert {k: listed[k] for k in ("id", "state", "assignee", "severity")} == {
        "id": 1,
        "state": "assigned",
        "assignee": "erin",
        "severity": "critical",
    }
    assert listed["opened_at"].startswith("2026-11-22T08:00") and listed["acknowledged_at"]
    assert listed["first_response_at"] is None and "Acme Air" in listed["headline"]
    assert main(["incidents", "--state", "dismissed", "--config", path]) == 0
    assert "no incidents" in capsys.readouterr().out
    store = ledger_of(config)
    try:
        sources = {e["source"] for e in store.ledger.events(1)}
    finally:
        store.close()
    assert sources == {"command"}


def test_clicks_become_labels_that_train_and_eval_take(
    critical: Callable, make_record: Callable, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    records = []
    for i in range(6):  # six separate incidents, far apart in time
        text = (f"=HYPERLINK(\"x\") Acme Air lost my bag {i}, terrible" if i % 2 else
                f"Acme Air flight {i} was on time, lovely crew")  # fmt: skip
        records.append(make_record(text, minutes=i * 300, author=f"user{i}",
                                   author_followers=20_000))  # fmt: skip
    config = critical(records, incidents={"window": "10m"})
    run(config, 0)
    store = ledger_of(config)
    try:
        incidents = store.ledger.incident_listing()
        assert len(incidents) == 6
        for row in incidents:
            [mention] = store.ledger.incident_evidence(row["id"], 0, 1)
            action = "respond" if "lost my bag" in mention["text"] else "dismiss"
            assert act(store.ledger, row["id"], action, Actor("U0ANN", "ann", "button"), NOW).won
    finally:
        store.close()
    out = tmp_path / "labels.csv"
    assert main(["labels", "export", str(out), "--config", str(config.path)]) == 0
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 6
    assert {r["label"] for r in rows} == {"relevant", "not_relevant"}
    assert all(not r["text"].startswith("=") for r in rows)  # no formula reaches a sheet
    assert {r["labeled_by"] for r in rows} == {"ann"}
    model = tmp_path / "team.joblib"
    args = ["--text-column", "text", "--label-column", "label", "--positive", "relevant"]
    assert main(["train", str(out), *args, "--out", str(model)]) == 0
    assert main(["eval", str(out), *args, "--model", str(model), "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["n"] == 6


def test_the_digest_gives_the_numbers_per_brand_and_category(
    critical: Callable, make_record: Callable, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    config = critical([loud(make_record, 0), loud(make_record, 400, id="late")],
                      incidents={"window": "10m"})  # fmt: skip
    run(config, 0)
    store = ledger_of(config)
    try:
        ann = Actor("U0ANN", "ann", "button")
        assert act(store.ledger, 1, "acknowledge", ann, NOW + timedelta(minutes=4)).won
        assert act(store.ledger, 1, "respond", ann, NOW + timedelta(minutes=30)).won
    finally:
        store.close()
    run(config, 70)  # incident 2: acknowledge and respond breaches
    assert main(["digest", "--date", T0.date().isoformat(), "--config", str(config.path)]) == 0
    printed = capsys.readouterr().out
    numbers = tmp_path / "digests" / "2026-11-22.incidents.csv"
    with numbers.open(newline="", encoding="utf-8") as handle:
        [row] = list(csv.DictReader(handle))
    assert (row["brand"], row["category"], row["incidents"]) == ("Acme Air", row["category"], "2")
    assert row["responded"] == "1" and row["response_rate"] == "0.5"
    assert row["tta_median_min"] == "4.0" and row["sla_breaches"] == "2"
    # Time to first response: from the first post (08:00) to the marked response (12:30).
    assert row["ttr_median_min"] == "270.0"
    assert "response rate 50%" in printed and "2 SLA breach(es)" in printed
