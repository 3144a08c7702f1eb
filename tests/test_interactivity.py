"""Clicks on incident messages, through slack-bolt, over both ways in: signed HTTP requests
to /slack/events and Socket Mode envelopes from the fake's websocket server. Each button
changes the state once, updates the message once and records who and when; forged, stale
and replayed requests change nothing; of two racing clicks exactly one wins."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from reputation.config import Config, load_config
from reputation.interactivity import Interactivity, parse_click
from reputation.pipeline import run_once
from reputation.store import Store
from tests.conftest import NOW
from tests.fakes import APP_TOKEN, TOKEN, FakeSlack

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
ENV = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_APP_TOKEN": APP_TOKEN, "SLACK_SIGNING_SECRET": SECRET}
HTTP_ONLY = {**ENV, "SLACK_APP_TOKEN": ""}
CLICKED_AT = NOW + timedelta(minutes=5)


def wait_for(check: Callable[[], Any], timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    """The Slack fake on a threaded server: a call held (`hold`) must not stop the others."""
    from pytest_httpserver import HTTPServer

    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    fake = FakeSlack(server)
    yield fake
    fake.close()
    for gate in list(fake.gates.values()):
        gate.set()
    server.clear()
    server.stop()


@pytest.fixture
def posted(workspace: Callable, slack: FakeSlack, make_record: Callable) -> Config:
    """A config whose Slack sink has both secrets, and one incident posted with buttons."""
    sinks = [
        {
            "type": "slack",
            "channel": "#rep",
            "base_url": slack.base_url,
            "app_token_env": "SLACK_APP_TOKEN",
            "signing_secret_env": "SLACK_SIGNING_SECRET",
        }
    ]
    record = make_record("Acme Air lost my bag and nobody answers, terrible", minutes=0,
                         author="loud", author_followers=50_000)  # fmt: skip
    config = load_config(workspace([record], sinks=sinks, routes={"critical": "#rep-critical"}))
    summary = run_once(config, now=NOW, env=ENV)
    assert summary.errors == [] and len(slack.top_level) == 1
    return config


@pytest.fixture
def handler(posted: Config) -> Iterator[Interactivity]:
    handler = Interactivity(posted, HTTP_ONLY, port=0, now=lambda: CLICKED_AT)
    handler.start()
    yield handler
    handler.stop()


def main_message(slack: FakeSlack) -> dict[str, Any]:
    return slack.top_level[0]


def signed(body: str, secret: str = SECRET, at: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if at is None else at)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256)
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest.hexdigest()}",
    }


def post(handler: Interactivity, body: str, headers: dict[str, str]) -> requests.Response:
    url = f"http://127.0.0.1:{handler.port}/slack/events"
    return requests.post(url, data=body.encode(), headers=headers, timeout=2.5)


def form(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


def workflow(config: Config) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    store = Store.open(config.database)
    try:
        return dict(store.ledger.workflow(1)), [dict(e) for e in store.ledger.events(1)]
    finally:
        store.close()


# One row per element: what is clicked, with what, and the state and line it leads to.
BUTTONS = [
    ("wf_acknowledge", {}, "acknowledged", "Acknowledged by ann"),
    ("wf_assign_me", {}, "assigned", "Assigned to ann by ann"),
    ("wf_assign", {"selected_user": "U0BOB"}, "assigned", "Assigned to Bob Jones by ann"),
    ("wf_respond", {}, "responded", "Marked responded by ann"),
    ("wf_snooze", {"option": "4h"}, "snoozed", "Snoozed until Nov 22 16:05 UTC by ann"),
    ("wf_dismiss", {}, "dismissed", "Marked not relevant by ann"),
]


def click_over(way: str, slack: FakeSlack, handler: Interactivity, payload: dict[str, Any]
               ) -> None:  # fmt: skip
    """Deliver a click the way Slack would: a signed POST, or an envelope to acknowledge."""
    if way == "http":
        body = form(payload)
        answer = post(handler, body, signed(body))
        assert answer.status_code == 200, answer.text
    else:
        socket = slack.socket_mode()
        envelope = socket.send(payload)
        assert socket.wait_ack(envelope)["envelope_id"] == envelope


@pytest.mark.parametrize("way", ["http", "socket"])
@pytest.mark.parametrize(("action_id", "extra", "state", "line"), BUTTONS,
                         ids=[b[0] for b in BUTTONS])  # fmt: skip
def test_each_button_changes_the_state_once_and_says_who_and_when(
    way: str, action_id: str, extra: dict[str, Any], state: str, line: str,
    posted: Config, slack: FakeSlack,
) -> None:  # fmt: skip
    if way == "socket":
        slack.socket_mode()
    handler = Interactivity(posted, ENV if way == "socket" else HTTP_ONLY, port=0,
                            now=lambda: CLICKED_AT)  # fmt: skip
    if way == "socket":  # Socket Mode alone: no HTTP endpoint
        handler.signing_secret = ""
    handler.start()
    try:
        message = main_message(slack)
        updates, replies = len(slack.updates), len(slack.replies)
        click_over(way, slack, handler, slack.click(message, action_id, "U0ANN", **extra))
        wait_for(lambda: len(slack.replies) > replies)
    finally:
        handler.stop()
    row, events = workflow(posted)
    assert row["state"] == state and row["version"] == 2
    [event] = events
    assert (event["actor"], event["actor_name"], event["source"]) == ("U0ANN", "ann", "button")
    assert event["at"].startswith("2026-11-22T12:05")
    assert event["detail"]["via"] == ("http" if way == "http" else "socket_mode")
    # The message was updated once, in place, and shows the new state and its buttons.
    assert len(slack.updates) == updates + 1
    shown = json.dumps(slack.updates[-1]["blocks"])
    # Buttons now carry version 2 (a dismissed incident has none left).
    assert ("incident:1:2" in shown) == (state != "dismissed")
    assert "incident:1:1" not in shown
    thread = slack.replies[-1]
    assert thread["thread_ts"] == message["ts"]
    assert line in thread["text"] and "12:05 UTC" in thread["text"]
    assert slack.pings == []


def test_a_later_run_does_not_update_the_message_again(
    posted: Config, slack: FakeSlack, handler: Interactivity
) -> None:
    message = main_message(slack)
    body = form(slack.click(message, "wf_acknowledge"))
    assert post(handler, body, signed(body)).status_code == 200
    wait_for(lambda: slack.replies)
    updates, posts = len(slack.updates), len(slack.messages)
    summary = run_once(posted, now=NOW + timedelta(minutes=10), env=ENV)
    assert summary.errors == []
    assert (len(slack.updates), len(slack.messages)) == (updates, posts)


def test_forged_stale_and_replayed_requests_change_nothing(
    posted: Config, slack: FakeSlack, handler: Interactivity
) -> None:
    body = form(slack.click(main_message(slack), "wf_dismiss"))
    calls = len(slack.calls)
    assert post(handler, body, signed(body, secret="not-the-secret")).status_code == 401
    stale = int(time.time()) - 5 * 60 - 30
    assert post(handler, body, signed(body, at=stale)).status_code == 401
    tampered = body.replace("wf_dismiss", "wf_respond")
    assert post(handler, tampered, signed(body)).status_code == 401
    assert post(handler, body, {"Content-Type": "application/x-www-form-urlencoded"}
                ).status_code == 401  # fmt: skip
    time.sleep(0.3)
    assert workflow(posted)[1] == [] and len(slack.calls) == calls
    # The genuine request is taken once; the same request again is a replay.
    headers = signed(body)
    assert post(handler, body, headers).status_code == 200
    wait_for(lambda: workflow(posted)[1])
    assert post(handler, body, headers).status_code == 401
    time.sleep(0.3)
    row, events = workflow(posted)
    assert row["state"] == "dismissed" and len(events) == 1
    store = Store.open(posted.database)
    try:
        assert len(store._rows("SELECT * FROM slack_requests")) == 1  # only the genuine one
    finally:
        store.close()


def test_two_clicks_racing_exactly_one_wins_and_the_loser_is_told_who(
    posted: Config, slack: FakeSlack, handler: Interactivity
) -> None:
    message = main_message(slack)
    bodies = [form(slack.click(message, "wf_acknowledge", "U0ANN")),
              form(slack.click(message, "wf_dismiss", "U0BOB"))]  # fmt: skip
    slack.hold("chat.update")  # both clicks reach the ledger before either shows
    barrier = threading.Barrier(2)
    answers: list[int] = []

    def send(body: str) -> None:
        barrier.wait()
        answers.append(post(handler, body, signed(body)).status_code)

    threads = [threading.Thread(target=send, args=(b,)) for b in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert answers == [200, 200]  # both answered at once, while Slack is still held
    wait_for(lambda: slack.ephemerals)
    slack.release("chat.update")
    wait_for(lambda: slack.replies)
    row, events = workflow(posted)
    assert len(events) == 1 and row["version"] == 2
    winner = events[0]["actor_name"]
    [told] = slack.ephemerals
    loser = {"ann": "U0BOB", "Bob Jones": "U0ANN"}[winner]
    assert told["user"] == loser and f"by {winner}" in told["text"]


def test_the_answer_comes_before_the_work(
    posted: Config, slack: FakeSlack, handler: Interactivity
) -> None:
    slack.hold("users.info")  # the handler's first Slack call waits...
    body = form(slack.click(main_message(slack), "wf_acknowledge"))
    assert post(handler, body, signed(body)).status_code == 200  # ...and Slack has its answer
    assert workflow(posted)[1] == []
    slack.release("users.info")
    wait_for(lambda: workflow(posted)[1])


def test_socket_mode_acknowledges_before_the_work(posted: Config, slack: FakeSlack) -> None:
    socket = slack.socket_mode()
    handler = Interactivity(posted, ENV, port=0, now=lambda: CLICKED_AT)
    handler.signing_secret = ""
    handler.start()
    try:
        slack.hold("users.info")
        envelope = socket.send(slack.click(main_message(slack), "wf_respond"))
        assert socket.wait_ack(envelope) == {"envelope_id": envelope}
        assert workflow(posted)[1] == []
        slack.release("users.info")
        wait_for(lambda: workflow(posted)[1])
    finally:
        handler.stop()
    assert socket.unknown == []


def test_the_draft_reply_goes_in_the_thread_once_with_the_handle_escaped(
    workspace: Callable, slack: FakeSlack, make_record: Callable
) -> None:
    sinks = [{"type": "slack", "channel": "#rep", "base_url": slack.base_url,
              "signing_secret_env": "SLACK_SIGNING_SECRET"}]  # fmt: skip
    record = make_record("Acme Air lost my bag and nobody answers, terrible", minutes=0,
                         author="<!channel>", author_followers=50_000)  # fmt: skip
    drafts = {"lost_damaged": "Hi {handle}, so sorry about {issue}. DM us. {brand}"}
    config = load_config(workspace([record], sinks=sinks, drafts=drafts))
    run_once(config, now=NOW, env=ENV)
    handler = Interactivity(config, HTTP_ONLY, port=0, now=lambda: CLICKED_AT)
    handler.start()
    try:
        for _ in range(2):
            body = form(slack.click(main_message(slack), "wf_draft"))
            assert post(handler, body, signed(body)).status_code == 200
        wait_for(lambda: slack.ephemerals)
    finally:
        handler.stop()
    [draft] = slack.replies
    assert "Draft reply" in draft["text"]
    assert "Hi @&lt;!channel&gt;, so sorry about your lost or damaged item" in draft["text"]
    assert slack.pings == []
    assert "already in the thread" in slack.ephemerals[0]["text"]
    assert workflow(config)[1] == []  # a draft is no transition


def test_a_legal_threat_gets_no_draft_but_route_to_legal(
    workspace: Callable, slack: FakeSlack, make_record: Callable
) -> None:
    sinks = [{"type": "slack", "channel": "#rep", "base_url": slack.base_url,
              "signing_secret_env": "SLACK_SIGNING_SECRET"}]  # fmt: skip
    record = make_record("Acme Air lost my bag, my lawyer will sue you, terrible", minutes=0,
                         author="loud", author_followers=50_000)  # fmt: skip
    config = load_config(workspace([record], sinks=sinks))
    run_once(config, now=NOW, env=ENV)
    handler = Interactivity(config, HTTP_ONLY, port=0, now=lambda: CLICKED_AT)
    handler.start()
    try:
        body = form(slack.click(main_message(slack), "wf_draft"))
        assert post(handler, body, signed(body)).status_code == 200
        wait_for(lambda: slack.replies)
    finally:
        handler.stop()
    [reply] = slack.replies
    assert "Route to legal/comms first" in reply["text"] and "legal" in reply["text"]
    assert "Draft reply" not in reply["text"]


def test_a_value_that_is_not_ours_is_no_click() -> None:
    assert parse_click({"action_id": "wf_acknowledge", "value": "7:3"}).incident_id == 7
    assert parse_click({"action_id": "wf_acknowledge", "value": "seven"}) is None
    assert parse_click({"action_id": "wf_acknowledge", "value": "7:3:4h"}) is None
    assert parse_click({"action_id": "wf_snooze", "selected_option": {"value": "7:3"}}) is None
    assert parse_click({"action_id": "wf_assign", "block_id": "incident:7:3",
                        "selected_user": "U1"}).choice == "U1"  # fmt: skip
    assert parse_click({"action_id": "elsewhere", "value": "7:3"}) is None


def test_buttons_appear_only_where_clicks_are_answered(
    workspace: Callable, slack: FakeSlack, make_record: Callable, tmp_path: Path
) -> None:
    sinks = [{"type": "slack", "channel": "#rep", "base_url": slack.base_url}]
    record = make_record("Acme Air lost my bag and nobody answers, terrible", minutes=0,
                         author="loud", author_followers=50_000)  # fmt: skip
    config = load_config(workspace([record], sinks=sinks))
    run_once(config, now=NOW, env=ENV)
    shown = json.dumps(main_message(slack)["blocks"])
    assert "wf_acknowledge" not in shown and "Nobody has acknowledged" not in shown
    assert "*New*" in shown  # the state is shown all the same


def test_the_manifests_grant_what_the_code_calls() -> None:
    import yaml

    from tests.conftest import REPO

    needed = {"chat:write", "channels:history", "channels:read", "users:read"}
    for name, socket_mode in (("manifest.yaml", True), ("manifest-request-url.yaml", False)):
        manifest = yaml.safe_load((REPO / "slack" / name).read_text())
        assert needed <= set(manifest["oauth_config"]["scopes"]["bot"])
        settings = manifest["settings"]
        assert settings["interactivity"]["is_enabled"] is True
        assert settings["socket_mode_enabled"] is socket_mode
        url = settings["interactivity"].get("request_url", "")
        assert url.endswith("/slack/events") != socket_mode
