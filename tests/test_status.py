"""`reputation status`: health at a glance, its exit status, and a health change told to
Slack once each way (issue 14 item 1), with the file connector and the Slack fake."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reputation.cli import main
from reputation.config import load_config
from reputation.pipeline import run_once
from tests.fakes import TOKEN, FakeSlack


def status(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = main(["status", "--json", "--config", str(path)])
    return code, json.loads(capsys.readouterr().out)


def health_posts(slack: FakeSlack) -> list[dict[str, Any]]:
    return [m for m in slack.messages
            if "health" in (m.get("metadata") or {}).get("event_payload", {})]  # fmt: skip


@pytest.fixture
def watched(
    workspace: Callable, make_record: Callable, slack: FakeSlack, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:  # fmt: skip
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    sink = {"type": "slack", "channel": "#rep", "base_url": slack.base_url, "min_interval": "1s"}
    return workspace(
        [make_record("Acme Air was fine today")],
        sinks=[sink],
        health={"stale_after": "1s"},
    )


def test_a_source_down_longer_than_stale_after_turns_status_1_and_back_to_0(
    watched: Path, slack: FakeSlack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = load_config(watched)
    stale = config.health.stale_after.total_seconds()
    mentions = tmp_path / "mentions.jsonl"
    run_once(config)
    code, report = status(watched, capsys)
    assert code == 0 and report["status"] == "ok" and report["problems"] == []
    assert report["connectors"][0]["health"] == "ok"

    mentions.rename(tmp_path / "away.jsonl")  # the source now fails
    run_once(config)
    code, report = status(watched, capsys)
    assert code == 0, report["problems"]  # failing, but not for longer than stale_after
    assert report["connectors"][0]["health"] == "failing"
    assert health_posts(slack) == []

    time.sleep(stale + 0.2)
    run_once(config)
    code, report = status(watched, capsys)
    assert code == 1
    assert report["status"] == "attention"
    assert report["connectors"][0]["health"] == "down"
    assert any(p.startswith("connector file: failing") for p in report["problems"])
    run_once(config)  # still down: nothing more to say
    [down] = health_posts(slack)
    assert "Source down: file" in down["text"] and "Last error" in down["text"]

    (tmp_path / "away.jsonl").rename(mentions)
    run_once(config)
    code, report = status(watched, capsys)
    assert code == 0 and report["connectors"][0]["health"] == "ok"
    run_once(config)
    posts = health_posts(slack)
    assert len(posts) == 2 and posts[0] == down
    assert "Source back: file" in posts[1]["text"]
    assert {p["channel_id"] for p in posts} == {"C0REP"}


def test_a_health_change_slack_did_not_take_is_told_on_the_next_run_once(
    watched: Path, slack: FakeSlack, tmp_path: Path
) -> None:
    config = load_config(watched)
    run_once(config)
    (tmp_path / "mentions.jsonl").unlink()
    run_once(config)
    time.sleep(config.health.stale_after.total_seconds() + 0.2)
    slack.down = True  # answers 500: the post's outcome is unknown
    summary = run_once(config)
    assert any("health of file not announced" in e for e in summary.errors)
    slack.down = False
    summary = run_once(config)  # looks in the channel first: not there, so posts it
    run_once(config)
    assert len(health_posts(slack)) == 1
    assert len(slack.calls_of("conversations.history")) >= 1
    assert not any("not announced" in e for e in summary.errors)


def test_status_lists_sinks_incidents_and_runs(
    workspace: Callable, make_record: Callable, capsys: pytest.CaptureFixture[str]
) -> None:
    record = make_record("Acme Air is terrible, awful, the worst", author_followers=80_000)
    path = workspace([record])
    assert main(["run", "--config", str(path)]) == 0
    code, report = status(path, capsys)
    assert code == 0
    assert set(report) == {"status", "checked_at", "problems", "stale_after_seconds",
                           "connectors", "sinks", "incidents", "runs"}  # fmt: skip
    [run] = report["runs"]["recent"]
    assert run["outcome"] == "ok" and run["duration_seconds"] >= 0 and run["fetched"] == 1
    assert report["incidents"]["open"] == 1 and report["incidents"]["by_state"] == {"new": 1}
    assert report["sinks"] == [
        {
            "name": "console",
            "type": "console",
            "pending": 0,
            "failed": 0,
            "oldest_undelivered_at": None,
            "rate_limited_until": None,
        }
    ]
    [source] = report["connectors"]
    assert source["newest_post_at"].startswith("2026-11-22T08:00")
    assert source["cursor_lag_seconds"] > 0 and source["reads"]["last_run"] == 0
    assert main(["status", "--config", str(path)]) == 0
    assert "status: ok" in capsys.readouterr().out


def test_no_recent_run_needs_a_person(
    workspace: Callable, capsys: pytest.CaptureFixture[str], opened: Callable
) -> None:
    path = workspace([])
    code, report = status(path, capsys)
    assert code == 1 and report["problems"] == ["no run has finished yet"]
    assert main(["run", "--config", str(path)]) == 0
    assert status(path, capsys)[0] == 0
    counts = dict.fromkeys(("fetched", "new_mentions", "scored", "alerts", "sent", "pending",
                            "failed"), 0)  # fmt: skip
    opened().finish_run(1, {**counts, "errors": []}, "ok", datetime(2026, 1, 1, tzinfo=UTC))
    code, report = status(path, capsys)
    assert code == 1 and report["problems"][0].startswith("no run finished since 2026-01-01")


def test_a_sink_with_failed_alerts_needs_a_person(
    workspace: Callable, make_record: Callable, slack: FakeSlack,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    sink = {"type": "slack", "channel": "#rep", "base_url": slack.base_url}
    record = make_record("Acme Air is terrible, awful, the worst", author_followers=80_000)
    path = workspace([record], sinks=[sink])
    slack.answer(200, error="invalid_blocks")  # refused for good: the alert fails
    assert main(["run", "--config", str(path)]) == 0
    code, report = status(path, capsys)
    assert code == 1
    [problem] = report["problems"]
    assert problem.startswith("sink slack: 1 failed alert(s)")
    [row] = report["sinks"]
    assert (row["failed"], row["pending"]) == (1, 0) and row["oldest_undelivered_at"]


def test_bad_config_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("brands: []\nconnectors: []\nhealth: {stale_after: soon}\n")
    assert main(["status", "--config", str(path)]) == 2
