"""The Slack fake refuses what Slack refuses, so a test passing against it means something."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.fakes import TOKEN, FakeSlack


def client(slack: FakeSlack, token: str = TOKEN) -> WebClient:
    return WebClient(token=token, base_url=slack.base_url, retry_handlers=[])


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(text: str = "Open", url: str = "https://x.com/a/status/1") -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": text}, "url": url}


TOO_BIG = [
    ("51 blocks", [section("a")] * 51, "invalid_blocks"),
    ("header of 151", [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
     "invalid_blocks"),
    ("mrkdwn header", [{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}],
     "invalid_blocks"),
    ("section of 3,001", [section("s" * 3001)], "invalid_blocks"),
    ("empty section text", [section("")], "invalid_blocks"),
    ("11 fields", [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
     "invalid_blocks"),
    ("field of 2,001", [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}],
     "invalid_blocks"),
    ("context of 11", [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}],
     "invalid_blocks"),
    ("context text of 3,001",
     [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c" * 3001}]}],
     "invalid_blocks"),
    ("button text of 76", [{**section("a"), "accessory": button(text="b" * 76)}],
     "invalid_blocks"),
    ("button url of 3,001",
     [{**section("a"), "accessory": button(url="https://x.com/" + "u" * 2990)}],
     "invalid_blocks"),
    ("12,001 characters in all", [section("s" * 3000)] * 4 + [section("s")],
     "msg_blocks_too_long"),
]  # fmt: skip


@pytest.mark.parametrize(("label", "blocks", "error"), TOO_BIG, ids=[t[0] for t in TOO_BIG])
def test_blocks_over_a_documented_limit_are_refused(
    slack: FakeSlack, label: str, blocks: list, error: str
) -> None:
    with pytest.raises(SlackApiError) as caught:
        client(slack).chat_postMessage(channel="#rep", text="t", blocks=blocks)
    assert caught.value.response["error"] == error
    assert slack.messages == []


def test_blocks_at_the_limits_are_accepted(slack: FakeSlack) -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "h" * 150}},
        {**section("s" * 2900), "accessory": button("b" * 75, "https://x.com/" + "u" * 2986)},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 200}] * 10},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "c" * 100}] * 10},
    ] + [section("x")] * 46
    client(slack).chat_postMessage(channel="#rep", text="t" * 40_000, blocks=blocks)
    assert len(slack.messages) == 1


@pytest.mark.parametrize(
    ("call", "error"),
    [
        ({"channel": "#nowhere"}, "channel_not_found"),
        ({"channel": "#rep", "thread_ts": "1.000001"}, "thread_not_found"),
        (
            {"channel": "#rep", "metadata": {"event_type": "a b", "event_payload": {}}},
            "invalid_metadata_format",
        ),
        (
            {"channel": "#rep", "metadata": {"event_type": "a", "event_payload": {"x": [[1]]}}},
            "invalid_metadata_schema",
        ),
    ],
)
def test_posts_slack_would_refuse_are_refused(slack: FakeSlack, call: dict, error: str) -> None:
    with pytest.raises(SlackApiError) as caught:
        client(slack).chat_postMessage(text="t", **call)
    assert caught.value.response["error"] == error


def test_channels_threads_updates_and_scopes_are_checked(slack: FakeSlack) -> None:
    web = client(slack)
    slack.add_channel("#private", member=False)
    with pytest.raises(SlackApiError, match="not_in_channel"):
        web.chat_postMessage(channel="#private", text="t")
    with pytest.raises(SlackApiError, match="invalid_auth"):
        client(slack, "xoxb-wrong").chat_postMessage(channel="#rep", text="t")
    posted = web.chat_postMessage(channel="#rep", text="t")
    assert posted["channel"] == "C0REP"
    reply = web.chat_postMessage(channel="C0REP", text="r", thread_ts=posted["ts"])
    with pytest.raises(SlackApiError, match="thread_not_found"):  # no thread in another one
        web.chat_postMessage(channel="#rep-warn", text="r", thread_ts=posted["ts"])
    with pytest.raises(SlackApiError, match="channel_not_found"):  # update needs the id
        web.chat_update(channel="#rep", ts=posted["ts"], text="u")
    with pytest.raises(SlackApiError, match="message_not_found"):
        web.chat_update(channel="C0REP", ts="1.000009", text="u")
    web.chat_update(channel="C0REP", ts=posted["ts"], text="u")
    history = web.conversations_history(channel="C0REP")
    assert [m["ts"] for m in history["messages"]] == [posted["ts"]]  # replies stay in threads
    thread = web.conversations_replies(channel="C0REP", ts=posted["ts"])
    assert [m["ts"] for m in thread["messages"]] == [posted["ts"], reply["ts"]]
    slack.scopes.discard("channels:history")
    with pytest.raises(SlackApiError, match="missing_scope") as caught:
        web.conversations_history(channel="C0REP")
    assert caught.value.response["needed"] == "channels:history"


def test_history_pages_and_shows_metadata_only_when_asked(slack: FakeSlack) -> None:
    web = client(slack)
    for i in range(5):
        web.chat_postMessage(
            channel="#rep", text=f"m{i}", metadata={"event_type": "e", "event_payload": {"i": i}}
        )
    seen, cursor = [], None
    while True:
        page = web.conversations_history(
            channel="C0REP", limit=2, cursor=cursor, include_all_metadata=True
        )
        seen += [m["metadata"]["event_payload"]["i"] for m in page["messages"]]
        cursor = page["response_metadata"]["next_cursor"]
        if not page["has_more"]:
            break
    assert seen == [4, 3, 2, 1, 0]  # newest first
    plain = web.conversations_history(channel="C0REP", limit=1)
    assert "metadata" not in plain["messages"][0]


def test_pings_are_noticed(slack: FakeSlack) -> None:
    client(slack).chat_postMessage(
        channel="#rep", text="a <!here> b", blocks=[section("&lt;!channel&gt; <!channel>")]
    )
    assert slack.pings == ["<!here>", "<!channel>"]


def test_faults_process_the_call_and_then_fail_it(slack: FakeSlack) -> None:
    web = client(slack)
    slack.fail("error_after")
    with pytest.raises(SlackApiError):
        web.chat_postMessage(channel="#rep", text="t")
    slack.fail("drop")
    with pytest.raises(Exception, match=r"Remote end closed|Connection"):
        web.chat_postMessage(channel="#rep", text="t")
    assert len(slack.messages) == 2  # both were posted; the client could not know
    assert [c["outcome"] for c in slack.calls] == ["ok, then error_after", "ok, then drop"]


def test_the_file_upload_takes_what_slack_takes(slack: FakeSlack) -> None:
    import requests

    web = client(slack)
    given = web.files_getUploadURLExternal(filename="a.png", length=4)
    file_id, url = given["file_id"], given["upload_url"]
    assert requests.post(url, data=b"12345", timeout=5).status_code == 400  # not its length
    with pytest.raises(SlackApiError) as refused:  # nothing arrived yet
        web.files_completeUploadExternal(files=[{"id": file_id, "title": "A"}],
                                         channel_id="C0REP")  # fmt: skip
    assert refused.value.response["error"] == "file_not_found"
    assert requests.post(url, data=b"1234", timeout=5).text == "OK - 4"
    with pytest.raises(SlackApiError) as refused:
        web.files_completeUploadExternal(files=[{"id": file_id}], channel_id="C0REP",
                                         thread_ts="1.000001")  # fmt: skip
    assert refused.value.response["error"] == "invalid_thread_ts"
    done = web.files_completeUploadExternal(files=[{"id": file_id, "title": "A"}],
                                            channel_id="C0REP")  # fmt: skip
    assert done["files"] == [{"id": file_id, "title": "A"}]
    assert slack.files[0]["data"] == b"1234" and slack.files[0]["channel_id"] == "C0REP"
    with pytest.raises(SlackApiError) as refused:  # shared once: the id is used up
        web.files_completeUploadExternal(files=[{"id": file_id}], channel_id="C0REP")
    assert refused.value.response["error"] == "file_not_found"


def test_an_upload_needs_files_write(httpserver: Any) -> None:
    fake = FakeSlack(httpserver, scopes=("chat:write",))
    with pytest.raises(SlackApiError) as refused:
        client(fake).files_getUploadURLExternal(filename="a.png", length=4)
    assert refused.value.response["error"] == "missing_scope"
