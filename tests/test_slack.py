"""The Slack sink with the real slack-sdk against a fake Slack Web API on 127.0.0.1."""

from __future__ import annotations

import json
import re
import urllib.error
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from slack_sdk.errors import SlackApiError

from reputation.cli import main
from reputation.config import load_config
from reputation.ledger import Ledger
from reputation.pipeline import run_once
from reputation.sinks import IncidentView, SlackSink
from reputation.sinks.base import MemoryPostLog, SinkError, WorkflowView
from reputation.sinks.slack import (
    escalation_message,
    event_line,
    incident_message,
    state_line,
    thread_reply,
    workflow_actions,
)
from reputation.store import Store
from tests.conftest import NOW, write_jsonl
from tests.fakes import TOKEN, FakeSlack, check_message

HOSTILE = (
    "<!channel> <@U024BE7LH> Acme Air is awful, terrible, stole my money! "
    "refund at <https://evil.example/phish|acmeair.com/refunds> & more"
)


def complaints(make_record: Callable, n: int = 3) -> list[dict]:
    """`n` viral complaints (big authors) five hours apart: each its own alert and incident."""
    return [
        make_record(
            f"Acme Air is terrible, awful service #{i}",
            minutes=i * 300,
            author=f"big{i}",
            author_followers=50_000,
        )
        for i in range(n)
    ]


def slack_sinks(slack: FakeSlack, **extra: object) -> list[dict]:
    return [
        {"type": "console"},
        {"type": "slack", "channel": "#rep", "base_url": slack.base_url, **extra},
    ]


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)


def ledger(config_path: Path) -> dict[str, int]:
    store = Store.open(load_config(config_path).database)
    try:
        return store.ledger.alert_counts()
    finally:
        store.close()


def test_each_alert_arrives_once_with_fallback_text_and_escaped_user_text(
    workspace: Callable, make_record: Callable, slack: FakeSlack, token: None
) -> None:
    records = [
        *complaints(make_record, 2),
        make_record(HOSTILE, minutes=900, author="angry_<!here>", author_followers=20_000),
    ]
    config = load_config(workspace(records, sinks=slack_sinks(slack)))
    summary = run_once(config, now=NOW)
    assert (summary.alerts, summary.sent, summary.pending, summary.errors) == (3, 3, 0, [])
    assert len(slack.messages) == 3
    for payload in slack.messages:
        assert payload["channel"] == "#rep"
        assert re.match(r"\[(CRITICAL|WARNING)\] viral-complaint: \w", payload["text"])
        assert payload["unfurl_links"] is False and payload["unfurl_media"] is False
        assert payload["metadata"]["event_type"] == "reputation_incident"
        assert payload["blocks"][0]["type"] == "header"
    hostile = json.dumps(slack.messages[2])
    assert "&lt;!channel&gt; &lt;@U024BE7LH&gt;" in hostile
    assert "&lt;https://evil.example/phish|acmeair.com/refunds&gt; &amp; more" in hostile
    # The "_" before "<" could close italics, so it arrives as a look-alike (decision 83).
    assert "@angry\\u02cd&lt;!here&gt;" in hostile
    everything = json.dumps(
        [m["blocks"] for m in slack.messages] + [m["text"] for m in slack.messages]
    )
    assert "<" not in everything and ">" not in everything.replace("\\n>", "")
    assert run_once(config, now=NOW).sent == 0
    assert len(slack.messages) == 3


def test_slack_down_then_up_delivers_each_alert_exactly_once(
    workspace: Callable, make_record: Callable, slack: FakeSlack, token: None
) -> None:
    config = load_config(workspace(complaints(make_record), sinks=slack_sinks(slack)))
    slack.down = True
    first = run_once(config, now=NOW)
    assert (first.alerts, first.sent, first.pending, len(slack.messages)) == (3, 0, 3, 0)
    assert any("Slack answered HTTP 500" in e for e in first.errors)
    assert slack.attempts == 1  # a post is never repeated blind, and the sink pauses
    slack.down = False
    second = run_once(config, now=NOW)
    assert (second.sent, second.pending, second.errors) == (3, 0, [])
    # The one post whose outcome was unknown was looked for in #rep before it was made.
    assert [c["payload"]["channel"] for c in slack.calls_of("conversations.history")] == ["C0REP"]
    assert run_once(config, now=NOW).sent == 0
    texts = [m["text"] for m in slack.messages]
    assert len(texts) == 3 == len(set(texts))


def test_a_429_is_retried_after_retry_after(
    workspace: Callable, make_record: Callable, slack: FakeSlack, token: None
) -> None:
    config = load_config(workspace(complaints(make_record, 1), sinks=slack_sinks(slack)))
    slack.answer(429, headers={"Retry-After": "0"})
    summary = run_once(config, now=NOW)
    assert (summary.sent, summary.pending, slack.attempts, len(slack.messages)) == (1, 0, 2, 1)


def test_a_long_retry_after_leaves_the_alert_for_a_later_run(
    workspace: Callable, make_record: Callable, slack: FakeSlack, token: None
) -> None:
    config = load_config(workspace(complaints(make_record, 1), sinks=slack_sinks(slack)))
    slack.answer(429, headers={"Retry-After": "3600"})
    first = run_once(config, now=NOW)
    assert (first.pending, slack.attempts, len(slack.messages)) == (1, 1, 0)
    assert any("HTTP 429" in e for e in first.errors)
    # Kept in the store: the next runs leave Slack alone until the hour has passed.
    later = run_once(config, now=NOW + timedelta(minutes=59))
    assert (later.sent, later.pending, len(slack.calls)) == (0, 1, 1)
    assert later.warnings == [
        "sink slack: rate limited until 2026-11-22 13:00:00 UTC; skipped this run"
    ]
    assert run_once(config, now=NOW + timedelta(hours=1, seconds=1)).sent == 1
    assert len(slack.messages) == 1


def test_a_refused_channel_waits_while_other_channels_go_on(
    workspace: Callable, make_record: Callable, slack: FakeSlack, token: None, tmp_path: Path
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "a.yaml").write_text("name: a\ntype: any\nwhere: {author: big0}\nroute: '#gone'\n")
    (rules / "b.yaml").write_text("name: b\ntype: any\nwhere: {author: big1}\n")
    config = load_config(
        workspace(complaints(make_record, 2), sinks=slack_sinks(slack), rules_dir=rules)
    )
    summary = run_once(config, now=NOW)  # no channel #gone in the workspace
    assert [m["channel"] for m in slack.messages] == ["#rep"]
    assert summary.pending == 1
    assert any("channel_not_found for #gone; invite the bot" in e for e in summary.errors)
    slack.add_channel("#gone", member=False)  # created, but the bot is not in it
    summary = run_once(config, now=NOW)
    assert summary.pending == 1
    assert any("not_in_channel for #gone; invite the bot" in e for e in summary.errors)
    slack.add_channel("#gone")  # the bot was invited meanwhile
    assert run_once(config, now=NOW).sent == 1
    assert [m["channel"] for m in slack.messages] == ["#rep", "#gone"]


def test_a_refused_message_is_failed_and_can_be_requeued(
    workspace: Callable,
    make_record: Callable,
    slack: FakeSlack,
    token: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = workspace(complaints(make_record, 1), sinks=slack_sinks(slack))
    slack.answer(200, error="invalid_blocks")
    summary = run_once(load_config(path), now=NOW)
    assert (summary.failed, summary.pending, len(slack.messages)) == (1, 0, 0)
    assert run_once(load_config(path), now=NOW).sent == 0  # failed is not retried by itself
    assert main(["alerts", "retry", "--config", str(path)]) == 0
    assert "requeued 1 failed delivery" in capsys.readouterr().out
    assert run_once(load_config(path), now=NOW).sent == 1
    assert ledger(path) == {"pending": 0, "sent": 1, "failed": 0, "muted": 0}


def test_bad_token_keeps_alerts_pending(
    workspace: Callable, make_record: Callable, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-wrong")
    config = load_config(workspace(complaints(make_record, 2), sinks=slack_sinks(slack)))
    summary = run_once(config, now=NOW)
    assert summary.pending == 2 and slack.attempts == 1
    assert any("invalid_auth; check the bot token" in e for e in summary.errors)
    assert all("xoxb-wrong" not in e for e in summary.errors)


def test_without_a_token_the_sink_is_skipped_with_one_warning(
    workspace: Callable, make_record: Callable, slack: FakeSlack
) -> None:
    config = load_config(workspace(complaints(make_record, 2), sinks=slack_sinks(slack)))
    summary = run_once(config, now=NOW)
    assert summary.warnings == [
        "sink 'slack' skipped: environment variable SLACK_BOT_TOKEN is not set; "
        "its alerts are not queued"
    ]
    assert (summary.alerts, summary.sent, summary.pending, slack.attempts) == (2, 2, 0, 0)


def test_a_crash_after_sending_resends_nothing(
    workspace: Callable,
    make_record: Callable,
    slack: FakeSlack,
    token: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = load_config(
        workspace(
            complaints(make_record),
            sinks=[{"type": "slack", "channel": "#rep", "base_url": slack.base_url}],
        )
    )
    real = Ledger.mark_delivered
    calls = {"n": 0}

    def crash_on_second(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("killed between send and record")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Ledger, "mark_delivered", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        run_once(config, now=NOW)
    monkeypatch.setattr(Ledger, "mark_delivered", real)
    assert run_once(config, now=NOW).sent == 2
    texts = [m["text"] for m in slack.messages]
    assert len(texts) == 3 == len(set(texts))  # the post in flight was recorded first


def _alert(**over: object) -> Any:
    return {
        "fingerprint": "f" * 32,
        "rule": "viral-complaint",
        "severity": "warning",
        "brand": "Acme Air",
        "summary": "summary",
        "reasons": ["r1", "r2"],
        "route": None,
        **over,
    }


def _mention(**over: object) -> Any:
    return {
        "key": "x:1",
        "source": "x",
        "author": "ann",
        "author_followers": 12_000,
        "created_at": "2026-11-22T08:00:00.000000Z",
        "text": "Acme Air",
        "url": None,
        "category": "other",
        "engagement": 5,
        "viral_risk": 0.1,
        "severity": 0.4,
        **over,
    }


def _incident(**over: object) -> Any:
    return {
        "id": 7,
        "brand": "Acme Air",
        "category": "outage_bug",
        "severity": "warning",
        "status": "open",
        "title": "Acme Air: outage bug",
        "route": None,
        "opened_at": "2026-11-22T08:00:00.000000Z",
        "last_event_at": "2026-11-22T08:30:00.000000Z",
        "mentions": 3,
        "reach": 48_000,
        "version": 1,
        **over,
    }


def _view(alert: Any = None, mentions: Any = None, **over: object) -> IncidentView:
    return IncidentView(
        incident=_incident(**over),
        alerts=[alert or _alert()],
        top=mentions if mentions is not None else [_mention()],
    )


def test_oversized_fields_of_strangers_are_capped_not_refused(
    workspace: Callable, make_record: Callable, slack: FakeSlack, token: None
) -> None:
    # Ingest allows 2,000 characters of author and 8,000 of url; escaped, "<" is four.
    huge = make_record(
        "Acme Air is terrible, awful service " + "<b>&amp; " * 3000,
        author="<" * 1990 + "ann",
        author_followers=50_000,
        source="s" * 500,
        url="https://x.com/" + "u" * 4000,
    )
    config = load_config(workspace([huge], sinks=slack_sinks(slack)))
    summary = run_once(config, now=NOW)
    assert (summary.sent, summary.failed, summary.pending, summary.errors) == (1, 0, 0, [])
    [post] = slack.messages  # the fake applies Slack's limits to every element
    quote = next(b for b in post["blocks"] if "&lt;&lt;" in b.get("text", {}).get("text", ""))
    assert "accessory" not in quote  # a url over 3,000 is no button, rather than a refusal


def test_every_message_fits_slacks_limits_whatever_strangers_wrote() -> None:
    mention = _mention(
        author="<" * 2000, source="&" * 500, text="<!channel> " * 10_000,
        url="https://x.com/" + "u" * 2990, category="c" * 300,
    )  # fmt: skip
    alert = _alert(summary="@" + "<" * 2000, reasons=["<" * 2000] * 5, rule="r" * 300)
    view = IncidentView(
        incident=_incident(title="T" * 400, category="c" * 300),
        alerts=[alert] * 6,
        top=[mention] * 3,
        new=[mention] * 3,
        new_count=10**6,
    )
    for text, blocks in (
        incident_message(view),
        thread_reply(view),
        escalation_message(view, cast(Any, {"channel": "C0REP"})),
    ):
        assert check_message({"text": text, "blocks": blocks}) is None
        assert "<!channel>" not in json.dumps([text, blocks])


def test_long_text_is_trimmed_to_slack_limits_after_escaping() -> None:
    text, blocks = incident_message(
        _view(
            _alert(summary="<" * 5000, rule="r" * 200),
            [_mention(text="&" * 10_000)],
            title="T" * 400,
        )
    )
    assert len(blocks[0]["text"]["text"]) <= 150
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b]
    assert all(len(s) <= 3000 for s in sections)
    quote = next(s for s in sections if s.startswith("*@ann*"))
    assert "&amp;" in quote and "&" not in quote.replace("&amp;", "")
    assert sum(len(json.dumps(b)) for b in blocks) < 12_000
    assert len(text) <= 3000


def test_the_message_says_what_happened_how_big_and_what_to_do() -> None:
    text, blocks = incident_message(
        _view(
            _alert(summary="5 complaints in 30 min", reasons=["several complaints"]),
            [_mention(category="outage_bug")],
        )
    )
    assert text == "[WARNING] viral-complaint: 5 complaints in 30 min (3 mentions)"
    body = json.dumps(blocks)
    contexts = [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]
    assert contexts[0].startswith("outage bug · 5 engagements")  # the top mention's line
    assert "*Why:* several complaints" in body
    fields = [
        f["text"] for b in blocks if b["type"] == "section" and "fields" in b for f in b["fields"]
    ]
    assert fields[:3] == ["*Mentions:* 3", "*Reach:* 48k followers", "*Category:* outage bug"]
    assert "*@ann* (12,000 followers) on x" in body
    assert "*Next:* Confirm with engineering" in body
    assert "Incident #7" in body


@pytest.mark.parametrize(
    ("url", "button"),
    [("https://x.com/a/status/1", True), ("javascript:alert(1)", False), (None, False)],
)
def test_only_web_links_become_buttons(url: str | None, button: bool) -> None:
    _, blocks = incident_message(_view(mentions=[_mention(url=url)]))
    [mention] = [
        b
        for b in blocks
        if b["type"] == "section" and "*@ann*" in b.get("text", {}).get("text", "")
    ]
    assert ("accessory" in mention) is button


def test_an_incident_is_updated_by_the_channel_id_slack_answered(
    workspace: Callable, make_record: Callable, slack: FakeSlack, token: None, tmp_path: Path
) -> None:
    first, second = (
        make_record(f"Acme Air is terrible, awful service #{i}", minutes=i * 10,
                    author=f"big{i}", author_followers=50_000)
        for i in range(2)
    )  # fmt: skip
    config = load_config(workspace([first], sinks=slack_sinks(slack)))
    assert run_once(config, now=NOW).sent == 1
    write_jsonl(tmp_path / "mentions.jsonl", [second], mode="a")
    assert run_once(config, now=NOW).sent == 1
    [main] = slack.top_level
    # chat.update refuses a "#name": the message is found again by the id Slack gave.
    assert [(u["channel"], u["ts"]) for u in slack.updates] == [("C0REP", main["ts"])]
    assert [r["thread_ts"] for r in slack.replies] == [main["ts"]]


class StubClient:
    """A WebClient stand-in for what the fake server cannot do: each method gives its
    outcomes in turn (an exception is raised), and every call is recorded."""

    def __init__(self, **outcomes: list[Any]) -> None:
        self.outcomes, self.calls = outcomes, cast(list[str], [])

    def __getattr__(self, method: str) -> Callable[..., Any]:
        if method.startswith("_"):
            raise AttributeError(method)

        def call(**kwargs: Any) -> Any:
            self.calls.append(method)
            outcome = self.outcomes[method].pop(0)
            if isinstance(outcome, BaseException):
                raise outcome
            return outcome

        return call


def stub_sink(client: StubClient) -> SlackSink:
    return SlackSink("slack", {"channel": "#rep"}, {}, client=cast(Any, client),
                     sleep=lambda s: None)  # fmt: skip


def test_a_refused_channel_is_tried_once_a_run_not_once_an_incident(
    workspace: Callable, make_record: Callable, slack: FakeSlack, token: None, tmp_path: Path
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "a.yaml").write_text(
        "name: a\ntype: any\nwhere: {not: {author: big1}}\nroute: '#gone'\n"
    )
    (rules / "b.yaml").write_text("name: b\ntype: any\nwhere: {author: big1}\n")
    config = load_config(
        workspace(complaints(make_record, 3), sinks=slack_sinks(slack), rules_dir=rules)
    )
    summary = run_once(config, now=NOW)  # big0 and big2 go to #gone, big1 to #rep
    assert [c["payload"]["channel"] for c in slack.calls_of("chat.postMessage")] == [
        "#gone",
        "#rep",
    ]  # the second incident for #gone waits without asking again
    assert (summary.sent, summary.pending) == (1, 2)
    slack.add_channel("#gone")
    assert run_once(config, now=NOW).sent == 2


def test_an_error_answer_slack_sdk_leaves_undecoded_is_a_sink_error_not_a_crash() -> None:
    # slack-sdk keeps a gzip body as bytes: there is no error code to read in it.
    answer = SimpleNamespace(status_code=502, data=b"\x1f\x8b\x08", headers={})
    client = StubClient(chat_postMessage=[SlackApiError("The request failed", answer)])
    with pytest.raises(SinkError, match="HTTP 502; Slack may have posted it"):
        stub_sink(client).post(_view())
    assert client.calls == ["chat_postMessage"]  # in doubt: not repeated blind


def test_a_channel_listing_that_says_it_is_complete_is_read_once() -> None:
    page = {"channels": [{"id": "C0OTHER", "name": "other"}], "has_more": False,
            "response_metadata": {"next_cursor": "stale"}}  # fmt: skip
    client = StubClient(conversations_list=[page] * 10,
                        chat_postMessage=[{"ts": "1.000001", "channel": "C0REP"}])  # fmt: skip
    log = MemoryPostLog()
    log.begin("main", "#rep", None, 0.0)  # an earlier attempt in doubt: look for it first
    sink = stub_sink(client)
    sink.announce(log, {"incident": 7}, "main", "#rep", "text", [])
    assert client.calls == ["conversations_list", "chat_postMessage"]
    assert log.warnings and "cannot look for posts" in log.warnings[0]


def test_a_message_stored_under_its_channel_name_is_updated_by_the_channel_id(
    slack: FakeSlack,
) -> None:
    sink = SlackSink("slack", {"channel": "#rep", "base_url": slack.base_url},
                     {"SLACK_BOT_TOKEN": TOKEN}, sleep=lambda s: None)  # fmt: skip
    view = _view()
    posted = sink.post(view)  # the log learns #rep's id, C0REP
    message = cast(
        Any, {"channel": "#rep", "message_id": posted.message_id, "delivered_version": 1}
    )  # an older version kept the #name
    assert sink.update(view, message) == posted
    assert [(u["channel"], u["ts"]) for u in slack.updates] == [("C0REP", posted.message_id)]
    assert [r["thread_ts"] for r in slack.replies] == [posted.message_id]


def test_an_upload_refused_at_the_connection_is_made_again() -> None:
    refused = urllib.error.URLError(ConnectionRefusedError(111, "Connection refused"))
    client = StubClient(files_upload_v2=[refused, {"file": {"id": "F0CHART"}}])
    sink, log = stub_sink(client), MemoryPostLog()
    with pytest.raises(SinkError, match="cannot upload to Slack"):
        sink.upload(log, "chart", "C0REP", "chart.png", b"png", "Chart")
    assert cast(Any, log.get("chart"))["in_doubt"] == 0  # surely not shared
    assert sink.upload(log, "chart", "C0REP", "chart.png", b"png", "Chart") == "F0CHART"
    assert log.warnings == []


def _event(action: str, **over: Any) -> Any:
    return {"id": 1, "incident_id": 7, "version": 2, "action": action, "from_state": "new",
            "to_state": "acknowledged", "actor": "U0ANN", "actor_name": "Ann", "source": "button",
            "detail": {}, "at": "2026-11-22T08:40:00.000000Z", **over}  # fmt: skip


def _flow(state: str, last: Any = None) -> WorkflowView:
    row = {"incident_id": 7, "state": state, "version": 3, "assignee": None,
           "assignee_name": None, "snoozed_until": None}  # fmt: skip
    return WorkflowView(state=cast(Any, row), last=last)


@pytest.mark.parametrize(
    ("event", "line"),
    [
        (_event("close"), ":lock: Closed by Ann"),
        (_event("close", source="automatic", detail={"why": "quiet for 7 days"}),
         ":lock: Closed (quiet for 7 days)"),
        (_event("escalate", source="automatic", detail={"breach": "acknowledge", "limit": "1h"}),
         ":stopwatch: Not acknowledged within 1h: escalated"),
        (_event("escalate", source="automatic", detail={"breach": "respond", "limit": "4h"}),
         ":stopwatch: Not answered in public within 4h: escalated"),
    ],
)  # fmt: skip
def test_a_thread_line_says_what_happened_to_the_incident(event: Any, line: str) -> None:
    assert event_line(event) == f"{line} · Nov 22 08:40 UTC · {event['source']}"


@pytest.mark.parametrize(
    ("state", "shown"),
    [("acknowledged", "*Acknowledged* by Ann"), ("responded", "*Answered* by Ann"),
     ("closed", "*Closed* by Ann"), ("dismissed", "*Not relevant* by Ann"),
     ("reopened_by_a_newer_version", "*reopened_by_a_newer_version* by Ann")],
)  # fmt: skip
def test_the_state_line_names_the_state_and_who_moved_it(state: str, shown: str) -> None:
    assert shown + " · Nov 22 08:40 UTC" in state_line(_flow(state, _event("x")))


def test_the_actions_offer_what_an_open_incident_allows() -> None:
    [actions] = workflow_actions(_flow("acknowledged"))
    assert check_message({"text": "t", "blocks": [actions]}) is None
    elements = {e["action_id"]: e for e in actions["elements"]}
    assert list(elements) == ["wf_assign_me", "wf_assign", "wf_respond", "wf_snooze",
                              "wf_dismiss", "wf_draft"]  # fmt: skip
    assert elements["wf_assign"]["type"] == "users_select"
    assert elements["wf_assign"]["placeholder"]["text"] == "Assign to…"
    assert elements["wf_draft"]["text"]["text"] == "Show draft reply"
    assert elements["wf_draft"]["value"] == "7:3"
    [closed] = workflow_actions(_flow("closed"))
    assert [e["action_id"] for e in closed["elements"]] == ["wf_draft"]
    assert workflow_actions(_flow("dismissed")) == []
