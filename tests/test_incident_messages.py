"""What an incident's messages say as it grows, escalates and resolves: in Slack and on the
console, once each, with the headline of the post that made it, never a stranger's ping."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from reputation.config import load_config
from reputation.pipeline import RunSummary, run_once
from reputation.sinks import ConsoleSink, SlackSink
from tests.conftest import NOW, write_jsonl
from tests.fakes import TOKEN, FakeSlack

ENV = {"SLACK_BOT_TOKEN": TOKEN}


@pytest.fixture
def runner(workspace: Callable, slack: FakeSlack, tmp_path: Path):
    """Slack and console sinks (the console printed to `out`), a critical route; `run`
    appends records and runs at NOW + minutes."""
    out = io.StringIO()
    sinks = [{"type": "console"},
             {"type": "slack", "channel": "#rep", "base_url": slack.base_url}]  # fmt: skip
    config = load_config(workspace([], sinks=sinks, routes={"critical": "#rep-critical"}))
    factories = {
        "slack": lambda n, o, e: SlackSink(n, o, e, sleep=lambda s: None),
        "console": lambda n, o, e: ConsoleSink(n, o, e, Console(file=out, width=250)),
    }

    def run(records: list[dict] | None = None, minutes: float = 0) -> RunSummary:
        write_jsonl(tmp_path / "mentions.jsonl", records or [], mode="a")
        out.seek(0)
        out.truncate()
        summary = run_once(config, now=NOW + timedelta(minutes=minutes), env=ENV,
                           sink_factories=factories)  # fmt: skip
        assert summary.errors == [], summary.errors
        return summary

    run.out = out  # type: ignore[attr-defined]
    return run


def viral(make_record: Callable, minutes: float, author: str, followers: int, **extra) -> dict:
    return make_record(
        "Acme Air lost my bag and nobody answers, terrible", minutes=minutes, author=author,
        author_followers=followers, **extra,
    )  # fmt: skip


def texts(message: dict[str, Any]) -> str:
    return json.dumps([message["text"], message["blocks"]], ensure_ascii=False)


def field(message: dict[str, Any], name: str) -> str:
    return next(
        f["text"] for b in message["blocks"] for f in b.get("fields", [])
        if f["text"].startswith(f"*{name}:*")
    )  # fmt: skip


def test_a_resolved_incident_is_updated_once_and_no_longer_says_open(
    runner: Any, make_record: Callable, slack: FakeSlack
) -> None:
    runner([viral(make_record, 0, "ann", 50_000)])
    [main] = slack.top_level
    assert "· open ·" in texts(main)
    runner(minutes=6 * 60 + 1)  # quiet for incidents.close_after (6h): resolved
    [update] = slack.updates
    assert update["ts"] == main["ts"]
    assert "· open ·" not in texts(update) and "· resolved 2026-11-22 18:01 UTC ·" in texts(update)
    assert update["blocks"][0]["text"]["text"].startswith("RESOLVED (warning): ")
    assert slack.replies == []  # a change of status is no news for the thread
    assert "resolved" in runner.out.getvalue()
    runner(minutes=7 * 60)
    assert len(slack.updates) == 1 and len(slack.messages) == 1  # once


def test_a_smaller_reply_joining_does_not_take_the_headline(
    runner: Any, make_record: Callable, slack: FakeSlack
) -> None:
    big = viral(make_record, 0, "big_account", 90_000, likes=400, shares=100)
    runner([big])
    reply = make_record(
        "@AcmeAir same here, lost my bag too, terrible", minutes=10, author="small_reply",
        author_followers=12_000, likes=2, parent_id=big["id"],
    )  # fmt: skip
    runner([reply], minutes=10)
    [update] = slack.updates
    headline = update["blocks"][1]["text"]["text"]
    assert "@big_account" in headline and "small_reply" not in headline
    context = next(b for b in update["blocks"] if b["type"] == "context")
    assert "500 engagements" in context["elements"][0]["text"]  # the big post's, not 2
    quoted = [b["text"]["text"] for b in update["blocks"] if "followers) on x" in
              b.get("text", {}).get("text", "")]  # fmt: skip
    assert quoted[0].startswith("*@big_account*")
    [reply_post] = slack.replies  # the reply names the new alert: that is what is new
    assert "small_reply" in reply_post["text"]


def test_the_active_span_runs_from_the_first_mention_to_the_last(
    runner: Any, make_record: Callable, slack: FakeSlack
) -> None:
    burst = [
        make_record(f"Acme Air lost my bag, terrible service ({i})", minutes=10 + 2 * i,
                    author=f"user{i}")
        for i in range(5)
    ]  # fmt: skip
    runner(burst)
    [post] = slack.top_level
    assert "complaint-burst" in post["text"]
    assert field(post, "Active") == "*Active:* 2026-11-22 08:10 \N{EN DASH} 08:18 UTC"


def test_the_console_lists_an_incident_once_per_run_most_severe_first(
    runner: Any, make_record: Callable
) -> None:
    runner([viral(make_record, 0, "ann", 50_000)])
    # Same run: incident #1 grows and escalates, and a new warning incident #2 opens.
    runner([viral(make_record, 10, "celebrity", 3_000_000),
            make_record("Acme Air charged me twice, refund now, awful", minutes=400,
                        author="bob", author_followers=40_000)], minutes=10)  # fmt: skip
    out = runner.out.getvalue()
    assert "2 incident update(s)" in out
    assert out.count("#1 Acme Air") == 1 and out.count("#2 Acme Air") == 1
    assert out.index("#1 Acme Air") < out.index("#2 Acme Air")  # critical before warning
    assert "+1 mention(s); escalated" in out


def test_a_critical_alert_on_an_escalated_incident_is_not_escalated_again(
    runner: Any, make_record: Callable, slack: FakeSlack
) -> None:
    runner([viral(make_record, 0, "ann", 50_000)])
    runner([viral(make_record, 10, "celebrity", 3_000_000)], minutes=10)
    assert [m["channel"] for m in slack.top_level] == ["#rep", "#rep-critical"]
    runner([viral(make_record, 20, "another_celebrity", 5_000_000)], minutes=20)
    runner(minutes=30)
    assert [m["channel"] for m in slack.top_level] == ["#rep", "#rep-critical"]
    assert "escalated" not in runner.out.getvalue()


def test_a_stranger_named_to_ping_pings_no_one_in_replies_or_escalations(
    runner: Any, make_record: Callable, slack: FakeSlack
) -> None:
    runner([viral(make_record, 0, "ann<!channel>", 50_000)])
    runner([viral(make_record, 10, "ann<!channel>", 3_000_000)], minutes=10)
    [reply] = slack.replies
    escalation = next(m for m in slack.top_level if m["channel"] == "#rep-critical")
    for message in (reply, escalation):
        assert "@ann&lt;!channel&gt;" in json.dumps(message["blocks"])
    assert slack.pings == []  # nothing in any message would notify the channel


def test_the_thread_reply_counts_the_new_mentions(
    runner: Any, make_record: Callable, slack: FakeSlack
) -> None:
    runner([viral(make_record, 0, "ann", 50_000)])
    runner([viral(make_record, 10 + i, f"author{i}", 40_000) for i in range(4)], minutes=10)
    [reply] = slack.replies  # four new, though it quotes only three
    assert reply["text"].startswith("+4 new mention(s): ")
    # (five alerts: the four, and the burst they make with the first)
    assert reply["blocks"][0]["text"]["text"].startswith("*+4 new mention(s)*, 5 new alert(s)\n")
    assert len(reply["blocks"]) == 1 + 3
    runner([viral(make_record, 20, "di", 20_000)], minutes=20)
    assert slack.replies[1]["text"].startswith("+1 new mention(s): ")


def test_a_resolved_incident_whose_message_was_deleted_is_posted_again_once(
    runner: Any, make_record: Callable, slack: FakeSlack
) -> None:
    runner([viral(make_record, 0, "ann", 50_000)])
    [main] = slack.top_level
    channel = slack.channel(main["channel_id"])
    channel.messages.remove(channel.find(main["ts"]))  # someone deleted it
    runner(minutes=6 * 60 + 1)  # resolved: the update finds no message, so it posts anew
    again = [m for m in slack.top_level if m["ts"] != main["ts"]]
    assert len(again) == 1 and "· resolved 2026-11-22 18:01 UTC ·" in texts(again[0])
    runner(minutes=7 * 60)
    assert len([m for m in slack.top_level if m["ts"] != main["ts"]]) == 1  # once
