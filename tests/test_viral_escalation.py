"""End to end: a complaint that goes from 10 to 21,000 engagements in six minutes.

Seen live before issue 9: its severity stayed near its complaint probability however fast it
spread, so it raised no escalation. Replayed here through three runs of the real pipeline
(file connector, store, scorer, shipped rules, the Slack sink against the fake), it must turn
its incident critical and announce that once on the critical route.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from reputation.config import load_config
from reputation.pipeline import run_once
from reputation.sinks.slack import SlackSink
from reputation.store import Store
from tests.conftest import write_jsonl
from tests.fakes import TOKEN, FakeSlack

POSTED = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def test_a_complaint_going_viral_in_six_minutes_escalates_once(
    workspace: Callable, make_record: Callable, slack: FakeSlack, tmp_path: Path
) -> None:
    path = workspace(
        [],
        sinks=[{"type": "slack", "channel": "#rep", "base_url": slack.base_url}],
        routes={"critical": "#rep-critical"},
    )
    config = load_config(path)
    sinks = {"slack": lambda n, o, e: SlackSink(n, o, e, sleep=lambda s: None)}
    # A plain fault report: its harm alone (0.5) can never make it critical; its spread must.
    post = make_record(
        "@AcmeAir flight AA12 delayed 3 hours and nobody at the gate can tell us anything",
        author="traveller",
        author_followers=12_000,
    )

    def run(minute: int, likes: int, shares: int) -> dict:
        observed = POSTED.replace(minute=minute)
        stamp = observed.strftime("%Y-%m-%dT%H:%M:%SZ")
        record = {**post, "likes": likes, "shares": shares, "observed_at": stamp}
        write_jsonl(tmp_path / "mentions.jsonl", [record], mode="a")
        before = (len(slack.top_level), len(slack.updates), len(slack.replies))
        summary = run_once(
            config, now=observed, env={"SLACK_BOT_TOKEN": TOKEN}, sink_factories=sinks
        )
        assert not summary.errors, summary.errors
        return {
            "alerts": summary.alerts,
            "top": slack.top_level[before[0] :],
            "updates": slack.updates[before[1] :],
        }

    first = run(1, 8, 2)  # 10 engagements a minute in, from a 12k account: a warning
    second = run(3, 1_600, 800)
    third = run(6, 14_000, 7_000)  # 21,000 engagements six minutes in
    fourth = run(7, 14_000, 7_000)  # nothing new

    assert [p["channel"] for p in first["top"]] == ["#rep"]
    assert "WARNING" in first["top"][0]["blocks"][0]["text"]["text"]
    store = Store.open(config.database)
    try:
        [incident] = store._rows("SELECT id, severity FROM incidents")
        [score] = store._rows("SELECT severity, viral_risk, reasons FROM scores")
    finally:
        store.close()
    assert incident["severity"] == "critical"
    assert score["viral_risk"] == 1.0 and score["severity"] >= 0.85
    assert "harm: fault report" in score["reasons"]
    assert "spread: ~" in score["reasons"] and "engagements in 24h likely" in score["reasons"]
    escalations = [p for p in slack.top_level if p["channel"] == "#rep-critical"]
    assert len(escalations) == 1
    assert "ESCALATED" in escalations[0]["blocks"][0]["text"]["text"]
    # The thread was updated as the complaint grew, and the last run had nothing to say.
    assert second["updates"] or third["updates"]
    assert (fourth["alerts"], fourth["top"], fourth["updates"]) == (0, [], [])
