"""The reddit connector with the real praw/prawcore against a fake Reddit OAuth API."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from prawcore.sessions import FiniteRetryStrategy
from werkzeug import Response

from reputation.brands import Brand
from reputation.cli import main
from reputation.config import Config, ConfigError, load_config
from reputation.connectors import FetchContext, RateLimited, SourceError
from reputation.connectors.reddit import RedditConnector
from reputation.models import Mention
from reputation.pipeline import run_once
from reputation.store import Store
from tests.conftest import ACME, NOW
from tests.harness import checked_connector, harness
from tests.harness.reddit import (
    CLIENT_ID,
    CLIENT_SECRET,
    FakeReddit,
    comment,
    post,
    too_many_requests,
)

SECRETS = (CLIENT_ID, CLIENT_SECRET, "fake-token-")


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDDIT_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("REDDIT_CLIENT_SECRET", CLIENT_SECRET)
    # prawcore retries 5xx and timeouts twice after 0-2 s and 2-4 s; keep the attempts,
    # skip the waiting.
    monkeypatch.setattr(FiniteRetryStrategy, "_sleep_seconds", lambda self: None)


@pytest.fixture
def fake(httpserver: Any) -> FakeReddit:
    return FakeReddit().install(httpserver)


def connector(
    base_url: str, brands: tuple[Brand, ...] = (ACME,), env: dict[str, str] | None = None,
    **raw: Any,
) -> RedditConnector:  # fmt: skip
    """A connector with options checked and converted the way config loading does."""
    entry = {"oauth_url": base_url, "reddit_url": base_url, "comments_from": ["acmeair"],
             "page_size": 2, "timeout": "2s", **raw}  # fmt: skip
    return checked_connector(RedditConnector, entry, list(brands), env=env, name="reddit")


def configure(workspace: Callable, base_url: str, **options: Any) -> Config:
    entry = {"type": "reddit", "name": "reddit", "oauth_url": base_url, "reddit_url": base_url,
             "comments_from": ["acmeair"], "page_size": 2, "timeout": "2s", **options}  # fmt: skip
    return load_config(workspace(connectors=[entry]))


def stored(config: Config) -> tuple[dict[str, dict[str, Any]], dict[str, Any], list[Any]]:
    """Mentions by key, the decoded cursor of Acme Air, and the replies."""
    store = Store.open(config.database)
    try:
        rows = store._rows("SELECT * FROM mentions ORDER BY key")
        cursor = store.cursors("reddit").get("Acme Air")
        replies = store._rows("SELECT key, mention_key, author FROM replies ORDER BY key")
    finally:
        store.close()
    return {r["key"]: r for r in rows}, json.loads(cursor) if cursor else {}, replies


def no_secrets(messages: list[str]) -> None:
    for message in messages:
        assert not any(secret in message for secret in SECRETS), message


def test_options_checked(workspace: Callable) -> None:
    with pytest.raises(ConfigError) as caught:
        configure(workspace, "https://oauth.reddit.com", subreddits=["r/travel", "no such"],
                  comments_from=["a"], user_agent="bot", page_size=101,
                  client_secret_env="s3cr3t value")  # fmt: skip
    assert caught.value.errors == [
        "connectors[0].client_secret_env: must name an environment variable (letters, digits, _),"
        " not hold the secret itself; put the secret in the environment",
        "connectors[0].page_size: 101 is above the maximum 100",
        "connectors[0].subreddits: 'no such' is not a subreddit name like 'travel'",
        "connectors[0].comments_from: 'a' is not a subreddit name like 'travel'",
        "connectors[0].user_agent: is too short; Reddit wants a descriptive one",
    ]


def test_a_fetch_pages_search_and_comments_into_mentions_and_a_reply(
    fake: FakeReddit, httpserver: Any
) -> None:
    search, comments = list(connector(httpserver.url_for("/")).fetch(FetchContext(now=NOW)))
    [token] = fake.calls("token")
    assert token == {"grant_type": "client_credentials"}  # Basic auth checked by the fake
    # Two a page, newest first, until the first post older than a day (19zzz1) shows up.
    pages = fake.calls("search")
    assert [p.get("after") for p in pages] == [None, "t3_1a0004", "t3_1a0002"]
    for page in pages:
        assert (page["q"], page["sort"], page["t"], page["limit"], page["restrict_sr"]) == (
            '"acme air" OR "@acmeair"', "new", "week", "2", "False",
        )  # fmt: skip
    # 1a0003 is the excluded "acme air fryer", 1a0004 the brand's own post (not a reply).
    assert [m.native_id for m in search.mentions] == ["1a0005", "1a0002", "1a0001"]
    bag = search.mentions[2]
    assert bag == Mention(
        source="reddit", native_id="1a0001", brand="Acme Air",
        text="Acme Air lost my bag\n\nThree days and still no word from Acme Air.",
        created_at=NOW - timedelta(hours=4), author="traveler42", author_followers=None,
        url="https://www.reddit.com/r/travel/comments/1a0001/acme_air_lost_my_bag/",
        likes=12, shares=0, replies=3, lang=None, parent_id=None, thread_id="1a0001",
    )  # fmt: skip
    assert bag.created_at.tzinfo == UTC
    assert bag.raw is not None and {k: bag.raw[k] for k in (
        "kind", "subreddit", "upvote_ratio", "score", "num_comments", "permalink", "author",
    )} == {
        "kind": "t3", "subreddit": "travel", "upvote_ratio": 0.93, "score": 12,
        "num_comments": 3, "permalink": "/r/travel/comments/1a0001/acme_air_lost_my_bag/",
        "author": "traveler42",
    }  # fmt: skip
    deleted = search.mentions[1]
    assert (deleted.author, deleted.text) == (None, "Acme Air crew was lovely")
    assert search.replies == []
    assert search.state == {
        "search": epoch(NOW - timedelta(hours=3, minutes=10)), "comments": {},
    }  # fmt: skip

    assert [p.get("after") for p in fake.calls("comments")] == [None, "t1_c00003"]
    [owed] = comments.mentions
    assert (owed.native_id, owed.text, owed.parent_id, owed.likes, owed.replies) == (
        "c00001", "Same here, Acme Air still owes me 200 euros", "1a0005", 4, 0,
    )  # fmt: skip
    assert owed.thread_id == "1a0005"  # the submission it is under
    assert owed.url == (
        "https://www.reddit.com/r/acmeair/comments/1a0005/"
        "still_waiting_on_my_acme_air_refund/c00001/"
    )
    [reply] = comments.replies
    assert (reply.native_id, reply.parent_id, reply.author, reply.mention_key) == (
        "c00002", "c00001", "acmeair", "reddit:c00001",
    )  # fmt: skip
    assert comments.state == {
        "search": epoch(NOW - timedelta(hours=3, minutes=10)),
        "comments": {"acmeair": epoch(NOW - timedelta(hours=2, minutes=40))},
    }
    assert (search.scope, comments.scope) == ("Acme Air", "Acme Air")
    assert search.notes == comments.notes == []


def test_a_run_stores_each_post_and_matching_comment_once(
    fake: FakeReddit, httpserver: Any, workspace: Callable
) -> None:
    config = configure(workspace, httpserver.url_for("/"))
    first = run_once(config, now=NOW)
    assert (first.errors, first.new_mentions) == ([], 4)
    mentions, cursor, replies = stored(config)
    assert {k: (m["likes"], m["replies"], m["parent_id"]) for k, m in mentions.items()} == {
        "reddit:1a0001": (12, 3, None),
        "reddit:1a0002": (5, 1, None),
        "reddit:1a0005": (3, 2, None),
        "reddit:c00001": (4, 0, "1a0005"),
    }
    assert replies == [{"key": "reddit:c00002", "mention_key": "reddit:c00001",
                        "author": "acmeair"}]  # fmt: skip
    second = run_once(config, now=NOW + timedelta(minutes=10))
    assert (second.errors, second.new_mentions) == ([], 0)
    again, same_cursor, _ = stored(config)
    assert sorted(again) == sorted(mentions) and same_cursor == cursor


def _timeline() -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """Three recent posts and two comments, plus older ones the cursor must never reach."""
    posts = [
        post("2b0001", NOW - timedelta(minutes=50), "ana", "Acme Air delayed again", "travel"),
        post("2b0002", NOW - timedelta(minutes=40), "ben", "Acme Air app is down", "flying"),
        post("2b0003", NOW - timedelta(minutes=30), "cy", "Acme Air gate chaos", "travel"),
        post("2a0001", NOW - timedelta(hours=5), "old", "Acme Air old story", "travel"),
        post("2a0002", NOW - timedelta(hours=6), "old", "Acme Air older story", "travel"),
        post("2a0003", NOW - timedelta(hours=7), "old", "Acme Air oldest story", "travel"),
    ]
    link = posts[0]
    notes = [
        comment("d00001", NOW - timedelta(minutes=45), "dee", "Acme Air gate moved", "t3_2b0001",
                link),
        comment("d00002", NOW - timedelta(minutes=20), "eve", "Lovely day", "t3_2b0001", link),
        comment("d0000a", NOW - timedelta(hours=5), "old", "Acme Air old comment", "t3_2b0001",
                link),
        comment("d0000b", NOW - timedelta(hours=6), "old", "Acme Air older", "t3_2b0001", link),
    ]  # fmt: skip
    return posts, {"acmeair": notes}


def test_the_next_run_reads_back_to_the_cursor_and_no_further(
    httpserver: Any, workspace: Callable
) -> None:
    posts, comments = _timeline()
    fake = FakeReddit(NOW, posts, comments).install(httpserver)
    config = configure(workspace, httpserver.url_for("/"), lookback="1h")
    first = run_once(config, now=NOW)
    assert (first.errors, first.new_mentions) == ([], 4)
    _, cursor, _ = stored(config)
    assert cursor == {"search": epoch(NOW - timedelta(minutes=30)),
                      "comments": {"acmeair": epoch(NOW - timedelta(minutes=20))}}  # fmt: skip

    # Three hours later (say the host was down), one new post and one new comment.
    later = NOW + timedelta(hours=3)
    fake.posts.append(post("2b0004", later - timedelta(minutes=10), "fay", "Acme Air refund!",
                           "travel"))  # fmt: skip
    fake.comments["acmeair"].append(
        comment(
            "d00003",
            later - timedelta(minutes=5),
            "gus",
            "Acme Air lounge closed",
            "t3_2b0001",
            posts[0],
        )
    )
    fake.requests.clear()
    second = run_once(config, now=later)
    assert (second.errors, second.new_mentions) == ([], 2)
    # It re-reads from an hour (lookback) before the saved newest, not before now; it stops at
    # the first item older than that, so the page after 2a0002 / d0000a is never asked for.
    search, polled = fake.calls("search"), fake.calls("comments")
    assert [p.get("after") for p in search] == [None, "t3_2b0003", "t3_2b0001"]
    assert {p["t"] for p in search} == {"day"}
    assert [p.get("after") for p in polled] == [None, "t1_d00002"]
    mentions, cursor, _ = stored(config)
    assert sorted(mentions) == [
        "reddit:2b0001", "reddit:2b0002", "reddit:2b0003", "reddit:2b0004",
        "reddit:d00001", "reddit:d00003",
    ]  # fmt: skip
    assert cursor == {"search": epoch(later - timedelta(minutes=10)),
                      "comments": {"acmeair": epoch(later - timedelta(minutes=5))}}  # fmt: skip


def test_lookback_records_a_snapshot_with_a_grown_score(
    fake: FakeReddit, httpserver: Any, workspace: Callable
) -> None:
    config = configure(workspace, httpserver.url_for("/"))
    run_once(config, now=NOW)
    fake.item("1a0001").update(score=57, num_comments=9, upvote_ratio=0.97)
    fake.item("c00001").update(score=11)
    # Removed by a moderator since: its first text stays, nothing overwrites it.
    fake.item("1a0002").update(selftext="[removed]", score=50, num_comments=8)
    later = run_once(config, now=NOW + timedelta(hours=1))
    assert (later.errors, later.new_mentions) == ([], 0)
    store = Store.open(config.database)
    try:
        history = {
            key: store._rows(
                "SELECT likes, replies FROM snapshots WHERE mention_key = ? ORDER BY observed_at",
                [key],
            )
            for key in ("reddit:1a0001", "reddit:c00001", "reddit:1a0002")
        }
        [row] = store._rows("SELECT likes, replies FROM mentions WHERE key = 'reddit:1a0001'")
        [removed] = store._rows("SELECT text, likes FROM mentions WHERE key = 'reddit:1a0002'")
    finally:
        store.close()
    assert history == {
        "reddit:1a0001": [{"likes": 12, "replies": 3}, {"likes": 57, "replies": 9}],
        "reddit:c00001": [{"likes": 4, "replies": 0}, {"likes": 11, "replies": 0}],
        "reddit:1a0002": [{"likes": 5, "replies": 1}],  # removed since: not read again
    }
    assert (row["likes"], row["replies"]) == (57, 9)
    assert removed == {"text": "Acme Air crew was lovely", "likes": 5}


def test_a_429_on_comments_keeps_the_search_and_the_next_run_catches_up(
    fake: FakeReddit, httpserver: Any, workspace: Callable
) -> None:
    config = configure(workspace, httpserver.url_for("/"))
    assert run_once(config, now=NOW).errors == []
    refund = post("1a0007", NOW + timedelta(minutes=30), "dana", "Acme Air cancelled my flight",
                  "acmeair", score=2, num_comments=1)  # fmt: skip
    fake.posts.append(refund)
    fake.comments["acmeair"].append(
        comment(
            "c00005",
            NOW + timedelta(minutes=35),
            "eli",
            "Acme Air, please answer her",
            "t3_1a0007",
            refund,
        )
    )
    fake.fail("comments", too_many_requests(reset=300))
    _, before, _ = stored(config)

    limited = run_once(config, now=NOW + timedelta(hours=1))
    host = f"localhost:{httpserver.port}"
    assert limited.errors == [
        f"connector reddit: {host}/r/acmeair/comments/: rate limited (HTTP 429);"
        " next try after 2026-11-22 13:05 UTC"
    ]
    assert limited.new_mentions == 1  # the search batch was stored before comments failed
    mentions, cursor, _ = stored(config)
    assert "reddit:1a0007" in mentions and "reddit:c00005" not in mentions
    assert cursor == {"search": epoch(NOW + timedelta(minutes=30)),
                      "comments": before["comments"]}  # fmt: skip

    calls = len(fake.requests)
    early = run_once(config, now=NOW + timedelta(hours=1, minutes=3))
    assert early.warnings == [
        "connector reddit: rate limited until 2026-11-22 13:05 UTC; skipped this run"
    ]
    assert len(fake.requests) == calls

    caught_up = run_once(config, now=NOW + timedelta(hours=1, minutes=6))
    assert (caught_up.errors, caught_up.new_mentions) == ([], 1)
    mentions, cursor, _ = stored(config)
    assert sorted(mentions) == [
        "reddit:1a0001", "reddit:1a0002", "reddit:1a0005", "reddit:1a0007",
        "reddit:c00001", "reddit:c00005",
    ]  # fmt: skip
    assert cursor["comments"] == {"acmeair": epoch(NOW + timedelta(minutes=35))}
    no_secrets(limited.errors)


def test_cli_run_reports_a_429_exits_0_and_the_next_run_catches_up(
    httpserver: Any, workspace: Callable, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    fake = FakeReddit(now).install(httpserver)
    fake.fail("search", too_many_requests(reset=600))
    path = workspace(connectors=[{
        "type": "reddit", "name": "reddit", "oauth_url": httpserver.url_for("/"),
        "reddit_url": httpserver.url_for("/"), "comments_from": ["acmeair"], "timeout": "2s",
    }])  # fmt: skip
    assert main(["run", "--json", "--config", str(path)]) == 0
    summary = json.loads(capsys.readouterr().out)
    [error] = summary["errors"]
    assert error.startswith(
        f"connector reddit: localhost:{httpserver.port}/r/all/search/: rate limited (HTTP 429);"
        " next try after "
    )
    assert summary["new_mentions"] == 0
    no_secrets(summary["errors"])
    assert fake.calls("comments") == []  # nothing after the 429

    after_reset = run_once(load_config(path), now=now + timedelta(minutes=11))
    assert (after_reset.errors, after_reset.new_mentions) == ([], 4)
    mentions, _, replies = stored(load_config(path))
    assert sorted(mentions) == [
        "reddit:1a0001", "reddit:1a0002", "reddit:1a0005", "reddit:c00001",
    ]  # fmt: skip
    assert [r["key"] for r in replies] == ["reddit:c00002"]


def test_a_spent_rate_limit_window_stops_instead_of_sleeping(
    fake: FakeReddit, httpserver: Any
) -> None:
    fake.window = 1  # the first listing answers x-ratelimit-remaining: 0, reset in 420 s
    conn = connector(httpserver.url_for("/"))
    with pytest.raises(RateLimited) as caught:
        list(conn.fetch(FetchContext(now=NOW)))
    assert caught.value.retry_at == NOW + timedelta(seconds=420)
    assert str(caught.value).endswith("/r/all/search: rate-limit window spent")
    assert len(fake.calls("search")) == 1 and fake.calls("comments") == []


def test_every_request_carries_the_configured_timeout(
    fake: FakeReddit, httpserver: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, Any]] = []
    send = requests.adapters.HTTPAdapter.send

    def spy(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append((request.path_url.split("?")[0], kwargs.get("timeout")))
        return send(self, request, *args, **kwargs)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", spy)
    list(connector(httpserver.url_for("/"), timeout="3s").fetch(FetchContext(now=NOW)))
    assert [path for path, _ in seen] == ["/api/v1/access_token"] + ["/r/all/search/"] * 3 + [
        "/r/acmeair/comments/"
    ] * 2
    assert {timeout for _, timeout in seen} == {3.0}  # not prawcore's 16 s default


def test_own_accounts_may_be_written_u_slash_name_and_search_can_be_narrowed(
    fake: FakeReddit, httpserver: Any
) -> None:
    brand = Brand("Acme Air", ("acme air",), ("acme air fryer",), ("u/AcmeAir",))
    zenith = Brand("Zenith Rail", ("zenith rail",))
    conn = connector(httpserver.url_for("/"), brands=(brand, zenith),
                     subreddits=["r/travel", "acmeair"], query='"acme air" OR zenith')  # fmt: skip
    batches = list(conn.fetch(FetchContext(now=NOW)))
    for page in fake.calls("search"):
        assert (page["q"], page["restrict_sr"]) == ('"acme air" OR zenith', "True")
    assert {path for kind, path, _ in fake.requests if kind == "search"} == {
        "/r/travel+acmeair/search/"
    }
    acme = [m.native_id for b in batches if b.scope == "Acme Air" for m in b.mentions]
    assert acme == ["1a0005", "1a0001", "c00001"]  # r/flying's 1a0002 is out of scope now
    assert [r.native_id for b in batches for r in b.replies] == ["c00002"]
    # Both brands' comments come from one read of r/acmeair.
    assert [p.get("after") for p in fake.calls("comments")] == [None, "t1_c00003"]
    assert [b.scope for b in batches] == ["Acme Air", "Acme Air", "Zenith Rail", "Zenith Rail"]
    assert [m for b in batches if b.scope == "Zenith Rail" for m in b.mentions] == []


def test_max_items_stops_a_read_with_a_warning(
    fake: FakeReddit, httpserver: Any, workspace: Callable
) -> None:
    summary = run_once(configure(workspace, httpserver.url_for("/"), max_items=2), now=NOW)
    assert summary.errors == []
    assert summary.warnings == [
        'connector reddit: search \'"acme air" OR "@acmeair"\': more than 2 items since'
        " 2026-11-21 12:00 UTC; the oldest were not read (raise max_items, or run more often)",
        "connector reddit: r/acmeair comments: more than 2 items since 2026-11-21 12:00 UTC;"
        " the oldest were not read (raise max_items, or run more often)",
    ]


def _no_time() -> Response:
    item = post("3c0001", NOW, "x", "Acme Air", "travel")
    del item["created_utc"]
    body = {
        "kind": "Listing",
        "data": {
            "after": None,
            "before": None,
            "dist": 1,
            "children": [{"kind": "t3", "data": item}],
        },
    }
    return Response(json.dumps(body), content_type="application/json")  # fmt: skip


def test_an_item_without_a_time_is_reported_and_skipped_and_the_rest_goes_on(
    fake: FakeReddit, httpserver: Any
) -> None:
    fake.fail("search", _no_time(), 1)
    batches = list(connector(httpserver.url_for("/")).fetch(FetchContext(now=NOW)))
    host = f"localhost:{httpserver.port}"
    assert [p for b in batches for p in b.problems] == [
        f"{host}/r/all/search: submission 3c0001 has no created_utc; skipped"
    ]
    assert any(b.mentions for b in batches), "the comments read after it are kept"


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("500", "{host}/r/all/search/: HTTP 500"),
        ("bad json", "{host}/r/all/search/: malformed JSON in the response"),
        ("not a listing", "{host}/r/all/search/: malformed payload (ValueError)"),
        ("private", "{host}/r/all/search/: HTTP 403 (a private, quarantined or banned subreddit?)"),
        ("wrong secret", "{host}/api/v1/access_token: Reddit refused the app's credentials"
                         " (HTTP 401); check the client id and secret in $REDDIT_CLIENT_ID and"
                         " $REDDIT_CLIENT_SECRET"),
        ("oauth error", "{host}/api/v1/access_token: Reddit refused the app's credentials"
                        " (invalid_grant); check the client id and secret in $REDDIT_CLIENT_ID"
                        " and $REDDIT_CLIENT_SECRET"),
        ("token not json", "{host}/api/v1/access_token: malformed payload (JSONDecodeError)"),
        ("no credentials", "set REDDIT_CLIENT_SECRET in the environment to the Reddit app's"
                           " client id and secret"),
        ("timeout", "{blackhole}/api/v1/access_token: no answer within 1s"),
    ],
)  # fmt: skip
def test_faults_become_source_errors_naming_the_endpoint_never_a_secret(
    fault: str, expected: str, fake: FakeReddit, httpserver: Any, blackhole: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    url = blackhole if fault == "timeout" else httpserver.url_for("/")
    scripted = {
        "500": ("search", Response("upstream error", status=500), 3),
        "bad json": ("search", Response('{"kind": "Listing", "data": {', status=200), 1),
        "not a listing": ("search", Response('{"data": {"children": []}}'), 1),
        "private": ("search", Response('{"reason": "private", "error": 403}', status=403), 1),
        "oauth error": ("token", Response('{"error": "invalid_grant"}', status=200), 1),
        "token not json": ("token", Response("<html>maintenance</html>", status=200), 1),
    }
    if fault in scripted:
        kind, answer, times = scripted[fault]
        fake.fail(kind, answer, times)
    env = dict(harness("reddit").env)
    if fault == "wrong secret":
        env["REDDIT_CLIENT_SECRET"] = "not-the-secret-5b7d"
    if fault == "no credentials":
        del env["REDDIT_CLIENT_SECRET"]
    conn = connector(url, env=env, timeout="1s")
    with pytest.raises(SourceError) as caught:
        list(conn.fetch(FetchContext(now=NOW)))
    message = str(caught.value)
    host = f"localhost:{httpserver.port}"
    assert message == expected.format(host=host, blackhole=blackhole.removeprefix("http://"))
    assert not isinstance(caught.value, RateLimited)
    no_secrets([message])
    assert "not-the-secret-5b7d" not in message
    if fault == "500":  # prawcore retried it twice, then gave up
        assert len(fake.calls("search")) == 3
