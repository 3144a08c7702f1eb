"""At most one Slack message per post, through every failure Slack and the network have: a
post is repeated only where it surely did not arrive; where its outcome is unknown it is
looked for in the channel, by the key its metadata carries, before it is made again."""

from __future__ import annotations

import email.utils
import socket
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from reputation.cli import main
from reputation.config import load_config
from reputation.pipeline import RunSummary, run_once
from reputation.postlog import LedgerPostLog
from reputation.sinks import SlackSink
from reputation.store import Store
from tests.conftest import NOW, write_jsonl
from tests.fakes import TOKEN, FakeSlack

ENV = {"SLACK_BOT_TOKEN": TOKEN}


def complaint(make_record: Callable, minutes: float, followers: int = 50_000, **extra) -> dict:
    return make_record(
        "Acme Air lost my bag and nobody answers, terrible",
        minutes=minutes,
        author=f"author{minutes}",
        author_followers=followers,
        **extra,
    )


@pytest.fixture
def setup(workspace: Callable, slack: FakeSlack, tmp_path: Path):
    """A Slack sink at the fake (no real sleeping; sink options by keyword) and a run
    function: append records, run at NOW + minutes."""

    def make(**options: Any) -> Callable[..., RunSummary]:
        sink = {"type": "slack", "channel": "#rep", "base_url": slack.base_url, **options}
        routes = {"critical": "#rep-critical"}
        config = load_config(workspace([], sinks=[sink], routes=routes))
        slept: list[float] = []
        factories = {
            "slack": lambda n, o, e: SlackSink(n, o, e, sleep=slept.append, wall=slack.now)
        }

        def run(records: list[dict] | None = None, minutes: float = 0) -> RunSummary:
            write_jsonl(tmp_path / "mentions.jsonl", records or [], mode="a")
            return run_once(config, now=NOW + timedelta(minutes=minutes), env=ENV,
                            sink_factories=factories)  # fmt: skip

        run.slept = slept  # type: ignore[attr-defined]
        return run

    return make


def posts(opened: Callable[[], Store]) -> list[dict[str, Any]]:
    return opened()._rows(
        "SELECT slot, channel, in_doubt, attempts, message_id, last_error FROM sink_posts"
        " ORDER BY incident_id, slot"
    )


@pytest.mark.parametrize(
    ("fault", "why"),
    [("drop", "no answer from Slack (connection closed)"),
     ("error_after", "Slack answered HTTP 500"),
     ("slow", "no answer from Slack (timed out)")],
)  # fmt: skip
def test_a_post_slack_took_but_did_not_confirm_is_found_not_repeated(
    setup: Callable, make_record: Callable, slack: FakeSlack, opened: Callable, fault: str,
    why: str,
) -> None:  # fmt: skip
    run = setup(timeout="2s")
    slack.fail(fault, delay=2.5)  # slow: answers after the client's 2 s timeout
    first = run([complaint(make_record, 0)])
    assert (first.sent, first.pending) == (0, 1)
    assert len(slack.messages) == 1  # Slack did post it; the client could not know
    assert any(why in e and "Slack may have posted it" in e for e in first.errors), first.errors
    [doubt] = posts(opened)
    assert (doubt["slot"], doubt["in_doubt"], doubt["message_id"]) == ("main", 1, None)

    second = run(minutes=10)
    assert (second.sent, second.pending, second.errors, second.warnings) == (1, 0, [], [])
    assert slack.attempts == 1  # found in #rep by its key, adopted, not posted again
    [message] = slack.posts_about(1)
    [found] = posts(opened)
    assert (found["in_doubt"], found["message_id"]) == (0, message["ts"])
    [alert] = opened().ledger.alerts()
    assert (alert["status"], alert["message_id"]) == ("sent", message["ts"])

    run([complaint(make_record, 20)], minutes=20)  # the incident grows: updated in place
    assert [u["ts"] for u in slack.updates] == [message["ts"]]
    assert len(slack.top_level) == 1


def test_a_thread_reply_in_doubt_is_found_in_its_thread(
    setup: Callable, make_record: Callable, slack: FakeSlack
) -> None:
    run = setup()
    run([complaint(make_record, 0)])
    slack.fail("drop")  # the reply (chat.update is another method)
    second = run([complaint(make_record, 10)], minutes=10)
    assert second.pending == 1 and len(slack.updates) == 1 and len(slack.replies) == 1
    third = run(minutes=20)
    assert (third.sent, third.pending, third.errors) == (1, 0, [])
    assert len(slack.calls_of("conversations.replies")) == 1
    assert len(slack.replies) == 1 and slack.attempts == 2


def test_a_post_in_doubt_is_found_past_the_first_page_of_history(
    setup: Callable, make_record: Callable, slack: FakeSlack
) -> None:
    run = setup()
    slack.fail("drop")
    run([complaint(make_record, 0)])
    rep = slack.channel("#rep")
    later = int(slack.now()) + 1
    rep.messages += [{"type": "message", "ts": f"{later + i}.000000", "text": f"chatter {i}",
                      "thread_ts": None, "metadata": None} for i in range(250)]  # fmt: skip
    second = run(minutes=10)  # history is read newest first, 200 a page: ours is on page 2
    assert (second.sent, second.errors, second.warnings) == (1, [], [])
    assert slack.attempts == 1 and len(slack.calls_of("conversations.history")) == 2


def test_a_refused_post_leaves_nothing_in_doubt(
    setup: Callable, make_record: Callable, slack: FakeSlack, opened: Callable
) -> None:
    slack.scopes = {"chat:write"}  # were it in doubt, it could not be looked for
    run = setup()
    for records, minutes in (([complaint(make_record, 0)], 0), (None, 10)):
        slack.answer(200, error="not_in_channel")  # twice: neither counts as "posted twice"
        assert run(records, minutes=minutes).pending == 1
        [refused] = posts(opened)
        assert (refused["in_doubt"], refused["message_id"]) == (0, None)
    third = run(minutes=20)  # the bot was invited
    assert (third.sent, third.errors, third.warnings) == (1, [], [])
    assert len(slack.messages) == 1 and slack.calls_of("conversations.history") == []


def test_an_escalation_in_doubt_is_found_and_not_posted_twice(
    setup: Callable, make_record: Callable, slack: FakeSlack
) -> None:
    run = setup()
    run([complaint(make_record, 0)])
    slack.fail("error_after", skip=1)  # the reply goes through, the escalation is in doubt
    second = run([complaint(make_record, 10, followers=3_000_000)], minutes=10)
    assert (second.sent, second.pending) == (1, 0)  # the alerts reached the thread
    assert any("incident #1 escalation: Slack answered HTTP 500" in e for e in second.errors)
    third = run(minutes=20)
    assert third.errors == []
    escalations = [m for m in slack.top_level if m["channel"] == "#rep-critical"]
    assert len(escalations) == 1 and len(slack.calls_of("conversations.history")) == 1
    run(minutes=30)
    assert len([m for m in slack.top_level if m["channel"] == "#rep-critical"]) == 1


def test_a_crash_between_slacks_answer_and_the_ledger_loses_and_repeats_nothing(
    setup: Callable, make_record: Callable, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = setup()

    def killed(self: LedgerPostLog, *args: object) -> None:
        raise KeyboardInterrupt("kill -9 after Slack accepted the post")

    monkeypatch.setattr(LedgerPostLog, "done", killed)
    with pytest.raises(KeyboardInterrupt):
        run([complaint(make_record, 0)])
    monkeypatch.undo()
    assert run(minutes=10).sent == 1
    assert len(slack.messages) == 1 == slack.attempts


def test_without_history_a_doubtful_post_is_made_at_most_once_more(
    setup: Callable, make_record: Callable, slack: FakeSlack, opened: Callable,
    capsys: pytest.CaptureFixture[str], workspace: Callable,
) -> None:  # fmt: skip
    slack.scopes = {"chat:write"}
    run = setup()
    slack.fail("drop", times=2)
    run([complaint(make_record, 0)])
    second = run(minutes=10)  # cannot look: says so once, and posts once more
    assert [w for w in second.warnings if "channels:history" in w] == [
        "sink slack: cannot look for posts whose outcome was unknown (Slack answered HTTP 200"
        " missing_scope; check the bot token and its scopes); give the bot the channels:history"
        " and channels:read scopes (groups:history and groups:read for private channels), or a"
        " message may appear twice"
    ]
    assert (second.sent, second.pending, len(slack.messages)) == (0, 1, 2)
    third = run(minutes=20)  # two posts in doubt: not a third
    assert (third.sent, third.failed, len(slack.messages)) == (0, 1, 2)
    assert any("not posting a third time" in e for e in third.errors)
    assert run(minutes=30).failed == 1 and len(slack.messages) == 2  # failed stays failed
    assert main(["alerts", "retry", "--config", str(workspace(None))]) == 0  # someone looked
    assert "requeued 1" in capsys.readouterr().out
    assert run(minutes=40).sent == 1
    assert len(slack.messages) == 3
    assert posts(opened)[0]["in_doubt"] == 0


def test_without_history_one_doubtful_post_gives_at_most_one_duplicate(
    setup: Callable, make_record: Callable, slack: FakeSlack
) -> None:
    slack.scopes = {"chat:write", "channels:history"}  # history, but no way to find the id
    run = setup()
    slack.fail("error_after")
    run([complaint(make_record, 0)])
    second = run(minutes=10)
    assert second.sent == 1 and len(slack.messages) == 2
    assert any("missing_scope" in w and "channels:read" in w for w in second.warnings)
    run([complaint(make_record, 10)], minutes=20)  # the second post is the one kept
    assert [u["ts"] for u in slack.updates] == [slack.messages[1]["ts"]]


def test_a_channel_given_by_id_needs_no_lookup(
    setup: Callable, make_record: Callable, slack: FakeSlack
) -> None:
    slack.scopes = {"chat:write", "channels:history"}
    run = setup(channel="C0REP")
    slack.fail("drop")
    run([complaint(make_record, 0)])
    assert run(minutes=10).sent == 1
    assert len(slack.messages) == 1 and slack.calls_of("conversations.list") == []


def test_a_refused_connection_is_retried_at_once(
    workspace: Callable, make_record: Callable
) -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there: the first post is refused
    server = HTTPServer(host="127.0.0.1", port=port)
    late = FakeSlack(server)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if not server.is_running():
            server.start()  # Slack is back before the retry

    sink = {"type": "slack", "channel": "#rep", "base_url": f"http://127.0.0.1:{port}/api/"}
    config = load_config(workspace([complaint(make_record, 0)], sinks=[sink]))
    try:
        summary = run_once(config, now=NOW, env=ENV, sink_factories={
            "slack": lambda n, o, e: SlackSink(n, o, e, sleep=sleep)})  # fmt: skip
    finally:
        server.stop()
    assert (summary.sent, summary.errors) == (1, [])
    assert waits == [1] and late.attempts == 1 and len(late.messages) == 1


def test_chat_update_is_idempotent_and_retried(
    setup: Callable, make_record: Callable, slack: FakeSlack
) -> None:
    run = setup()
    run([complaint(make_record, 0)])
    slack.fail("error_after", method="chat.update")
    second = run([complaint(make_record, 10)], minutes=10)
    assert (second.sent, second.errors) == (1, [])
    assert len(slack.calls_of("chat.update")) == 2 and len(slack.updates) == 2
    assert len(slack.replies) == 1


# -- 429: retried in place when short, kept in the store when long -------------------------


def retry_at(opened: Callable[[], Store]) -> datetime | None:
    from reputation.timeutil import parse_time

    value = opened().ledger.sink_retry_at("slack")
    return parse_time(value) if value else None


@pytest.mark.parametrize(
    ("retry_after", "wait"),
    [(None, 60), ("http-date", 120), ("45", 45), ("soon", 60)],
    ids=["missing", "http-date", "seconds", "unreadable"],
)
def test_a_429_longer_than_max_retry_wait_is_kept_in_the_store(
    setup: Callable, make_record: Callable, slack: FakeSlack, opened: Callable,
    retry_after: str | None, wait: int,
) -> None:  # fmt: skip
    run = setup(max_retry_wait="30s")
    if retry_after == "http-date":  # Slack's clock, as the sink's wall clock reads it
        retry_after = email.utils.formatdate(slack.now() + wait, usegmt=True)
    slack.answer(429, headers={"Retry-After": retry_after} if retry_after else {})
    first = run([complaint(make_record, 0)])
    assert (first.pending, slack.attempts) == (1, 1)
    assert retry_at(opened) == NOW + timedelta(seconds=wait)
    early = run(minutes=wait / 60 - 0.5)
    assert (early.pending, slack.attempts) == (1, 1)  # not called before then
    assert any("rate limited until" in w for w in early.warnings)
    assert run(minutes=wait / 60 + 0.5).sent == 1
    assert slack.attempts == 2 and len(slack.messages) == 1


def test_a_short_429_with_an_http_date_is_waited_out_in_place(
    setup: Callable, make_record: Callable, slack: FakeSlack, opened: Callable
) -> None:
    run = setup(max_retry_wait="30s")
    date = email.utils.formatdate(slack.now() + 20, usegmt=True)
    slack.answer(429, headers={"Retry-After": date})
    summary = run([complaint(make_record, 0)])
    assert (summary.sent, slack.attempts, len(slack.messages)) == (1, 2, 1)
    assert run.slept == [20.0] and retry_at(opened) is None
