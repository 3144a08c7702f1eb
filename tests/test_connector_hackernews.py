"""The hackernews connector with requests against a fake Algolia HN Search API."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from werkzeug import Response

from reputation.cli import main
from reputation.config import ConfigError, load_config
from reputation.connectors import FetchContext, encode_state
from reputation.connectors.hackernews import HackerNewsConnector
from reputation.models import Mention
from reputation.pipeline import run_once
from reputation.store import Store
from tests.conftest import ACME, NOW
from tests.harness import checked_connector
from tests.harness.hackernews import BASE, PATH, FakeAlgolia, comment, default_hits, story

DAY = 86400


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


@pytest.fixture
def algolia(httpserver: Any) -> FakeAlgolia:
    return FakeAlgolia().install(httpserver)


def connector(base_url: str, **options: Any) -> HackerNewsConnector:
    """A connector whose options went through the same checks as a config file's."""
    entry = {"hits_per_page": 3, "base_url": base_url, "timeout": "2s", **options}
    return checked_connector(HackerNewsConnector, entry, [ACME], name="hn")


def configure(workspace: Callable, base_url: str, **options: Any):
    entry = {"type": "hackernews", "name": "hn", "base_url": base_url, "hits_per_page": 3,
             "timeout": "1s", **options}  # fmt: skip
    return load_config(workspace(connectors=[entry]))


def saved(config: Any) -> tuple[dict[str, str], int]:
    store = Store.open(config.database)
    try:
        return store.cursors("hn"), store._rows("SELECT COUNT(*) AS n FROM mentions")[0]["n"]
    finally:
        store.close()


def test_page_size_bounds(workspace: Callable) -> None:
    with pytest.raises(ConfigError) as caught:
        configure(workspace, "https://hn.algolia.com", hits_per_page=1001, max_pages=0)
    assert caught.value.errors == [
        "connectors[0].hits_per_page: 1001 is above the maximum 1000",
        "connectors[0].max_pages: 0 is below the minimum 1",
    ]


def test_two_pages_per_term_become_mentions_and_a_reply(
    algolia: FakeAlgolia, httpserver: Any
) -> None:
    [batch] = list(connector(httpserver.url_for("/")).fetch(FetchContext(now=NOW)))
    assert [(r["query"], r["page"]) for r in algolia.requests] == [
        ("acme air", "0"), ("acme air", "1"), ("@acmeair", "0"),
    ]  # fmt: skip
    for request in algolia.requests:
        assert request["tags"] == "(story,comment)" and request["hitsPerPage"] == "3"
        assert request["numericFilters"] == f"created_at_i>{epoch(NOW) - DAY}"
    found: dict[str, Mention] = {m.native_id: m for m in batch.mentions}
    # 9003 is the excluded "acme air fryer"; 9005 the brand's own story; 9006 only matches
    # "@acmeair"; 9004 came back for both terms and is kept once, as the brand's reply.
    assert sorted(found) == ["9001", "9002", "9006"]
    story = found["9001"]
    assert story.text == (
        "Ask HN: Acme Air lost my bag, what now?\n\n"
        "<p>Three days and still no word from Acme Air.</p>"
    )
    assert (story.source, story.author, story.likes, story.replies, story.shares) == (
        "hackernews", "traveler42", 12, 4, 0,
    )  # fmt: skip
    assert (story.parent_id, story.thread_id, story.author_followers) == (None, "9001", None)
    assert story.url == "https://news.ycombinator.com/item?id=9001"
    assert story.created_at == BASE and story.created_at.tzinfo == UTC
    assert story.raw == algolia.hit(9001)
    reply_to = found["9002"]
    assert reply_to.text == "Acme Air&#x27;s desk found mine in a day.<p>Call them."
    assert (reply_to.parent_id, reply_to.likes, reply_to.replies) == ("9001", 0, 0)
    assert reply_to.thread_id == "9001"  # the story the comment is under
    [reply] = batch.replies
    assert (reply.native_id, reply.parent_id, reply.author) == ("9004", "9001", "acmeair")
    assert (batch.scope, batch.state) == (
        "Acme Air", {"newest": epoch(BASE + timedelta(minutes=60))},
    )  # fmt: skip
    assert batch.problems == [] and batch.notes == []


def test_a_configured_query_replaces_the_terms(algolia: FakeAlgolia, httpserver: Any) -> None:
    conn = connector(httpserver.url_for("/"), query="acme", hits_per_page=100)
    [batch] = list(conn.fetch(FetchContext(now=NOW)))
    assert [r["query"] for r in algolia.requests] == ["acme"]
    assert sorted(m.native_id for m in batch.mentions) == ["9001", "9002"]


def test_second_run_asks_from_the_cursor_and_adds_nothing(
    algolia: FakeAlgolia, httpserver: Any, workspace: Callable
) -> None:
    config = configure(workspace, httpserver.url_for("/"))
    first = run_once(config, now=NOW)
    assert (first.errors, first.new_mentions) == ([], 3)
    cursors, _ = saved(config)
    newest = epoch(BASE + timedelta(minutes=60))
    assert json.loads(cursors["Acme Air"]) == {"newest": newest}
    algolia.requests.clear()
    second = run_once(config, now=NOW + timedelta(minutes=10))
    assert (second.errors, second.new_mentions) == ([], 0)
    assert {r["numericFilters"] for r in algolia.requests} == {f"created_at_i>{newest - DAY}"}


def test_lookback_rereads_record_a_snapshot_with_grown_counts(
    algolia: FakeAlgolia, httpserver: Any, workspace: Callable
) -> None:
    config = configure(workspace, httpserver.url_for("/"))
    run_once(config, now=NOW)
    algolia.hit(9001).update(points=57, num_comments=9)
    algolia.hits.append(comment(9008, 90, "late", "Acme Air lost mine too", 9001, 9001))
    later = run_once(config, now=NOW + timedelta(hours=1))
    assert (later.errors, later.new_mentions) == ([], 1)
    store = Store.open(config.database)
    try:
        snapshots = store._rows(
            "SELECT likes, replies FROM snapshots WHERE mention_key = ? ORDER BY observed_at",
            ["hackernews:9001"],
        )
        [row] = store._rows("SELECT likes, replies FROM mentions WHERE key = 'hackernews:9001'")
        replies = store._rows("SELECT key, mention_key FROM replies")
        cursors = store.cursors("hn")
    finally:
        store.close()
    assert snapshots == [{"likes": 12, "replies": 4}, {"likes": 57, "replies": 9}]
    assert row == {"likes": 57, "replies": 9}
    assert replies == [{"key": "hackernews:9004", "mention_key": "hackernews:9001"}]
    assert json.loads(cursors["Acme Air"]) == {"newest": epoch(BASE + timedelta(minutes=90))}


def _rate_limited(request: Any) -> Response:
    return Response('{"message": "Too many requests", "status": 429}', status=429,
                    headers={"Retry-After": "900"}, content_type="application/json")  # fmt: skip


@pytest.mark.parametrize("fault", ["429", "500", "no hits", "bad json", "timeout", "page 2"])
def test_a_fault_is_reported_and_the_cursor_stays(
    fault: str, algolia: FakeAlgolia, httpserver: Any, blackhole: str, workspace: Callable
) -> None:
    config = configure(workspace, httpserver.url_for("/"))
    assert run_once(config, now=NOW).errors == []
    before = saved(config)
    algolia.hits.append(comment(9010, 100, "new", "Acme Air again", 9001, 9001))
    httpserver.clear()
    if fault == "timeout":
        config = configure(workspace, blackhole)
    elif fault == "page 2":  # the first page answers, the second fails: nothing is kept

        def handler(request: Any) -> Response:
            if request.args["page"] == "1":
                return Response("upstream timeout", status=502)
            return algolia.handle(request)

        httpserver.expect_request(PATH).respond_with_handler(handler)
    else:
        body = {
            "429": _rate_limited,
            "500": lambda r: Response("Internal Server Error", status=500),
            "no hits": lambda r: Response('{"message": "Index not available", "status": 200}',
                                          content_type="application/json"),
            "bad json": lambda r: Response('{"hits": [', content_type="application/json"),
        }[fault]  # fmt: skip
        httpserver.expect_request(PATH).respond_with_handler(body)
    summary = run_once(config, now=NOW + timedelta(hours=1))
    expected = {
        "429": "rate limited (HTTP 429); next try after 2026-11-22 13:15 UTC",
        "500": "HTTP 500",
        "no hits": "malformed payload (no 'hits' list)",
        "bad json": "malformed JSON in the response",
        "timeout": "no answer within 1s",
        "page 2": "HTTP 502",
    }[fault]
    host = urlsplit(config.connectors[0].options["base_url"]).netloc
    assert summary.errors == [f"connector hn: {host}{PATH}: {expected}"]
    assert saved(config) == before


def test_a_bad_hit_is_skipped_with_its_location(algolia: FakeAlgolia, httpserver: Any) -> None:
    listed = story(9011, 5, "x", "")
    listed["title"] = ["Acme Air", "a list"]
    weird = comment(9012, 6, "y", "Acme Air weird", 9001, 9001)
    weird["points"] = "many"
    nameless = comment(9013, 7, "z", "Acme Air nameless", 9001, 9001)
    del nameless["objectID"]
    algolia.hits += [listed, weird, nameless]
    conn = connector(httpserver.url_for("/"), hits_per_page=100)
    [batch] = list(conn.fetch(FetchContext(now=NOW)))
    # newest first: 9006 is only found by "@acmeair", so "acme air" lists 9005 ... 9001
    where = f"localhost:{httpserver.port}{PATH}: query 'acme air'"
    assert batch.problems == [
        f"{where}, hit 5: no objectID",
        f"{where}, hit 6 (9012): points 'many' is not a count",
        f"{where}, hit 7 (9011): title is not a string",
    ]
    assert sorted(m.native_id for m in batch.mentions) == ["9001", "9002", "9006"]
    # The window is re-read every run: bad hits are not reported again, except one with no
    # objectID (Algolia always sets it), which there is no way to recognise.
    saved = {"Acme Air": encode_state(batch.state or {})}
    again = list(conn.fetch(FetchContext(now=NOW, cursors=saved)))
    assert [p for b in again for p in b.problems] == [f"{where}, hit 5: no objectID"]
    assert batch.state["bad"] == ["9012", "9011"]


def test_more_pages_than_allowed_is_a_warning(
    algolia: FakeAlgolia, httpserver: Any, workspace: Callable
) -> None:
    summary = run_once(configure(workspace, httpserver.url_for("/"), max_pages=1), now=NOW)
    assert summary.errors == []
    assert summary.warnings == [
        "connector hn: query 'acme air': more than 1 pages of hits since 2026-11-21 12:00 UTC;"
        " the oldest were not read (raise max_pages or hits_per_page)"
    ]
    assert [r["page"] for r in algolia.requests] == ["0", "0"]


def test_cli_run_prints_a_json_summary_and_exits_0(
    httpserver: Any, workspace: Callable, capsys: pytest.CaptureFixture[str]
) -> None:
    algolia = FakeAlgolia(default_hits(datetime.now(UTC) - timedelta(hours=3))).install(httpserver)
    path = workspace(connectors=[{"type": "hackernews", "name": "hn", "timeout": "2s",
                                  "base_url": httpserver.url_for("/")}])  # fmt: skip
    assert main(["run", "--json", "--config", str(path)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["errors"], summary["new_mentions"]) == ([], 3)
    assert [r["query"] for r in algolia.requests] == ["acme air", "@acmeair"]
