"""The x connector with the real tweepy Client against a fake X API v2 on 127.0.0.1."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from reputation.brands import Brand
from reputation.cli import main
from reputation.config import Config, ConfigError, load_config
from reputation.connectors import FetchContext
from reputation.connectors.x import (
    BUDGET_NOTE,
    NEWER_NOTE,
    XConnector,
    build_query,
    snowflake_time,
    to_item,
)
from reputation.pipeline import run_once
from reputation.store import Store
from tests.conftest import ACME, NOW
from tests.harness import checked_connector
from tests.harness.x import BASE, LOOKUP, SEARCH, TOKEN, FakeX, snowflake

QUERY = '("acme air" OR @acmeair OR (from:acmeair is:reply)) -"acme air fryer" -is:retweet'


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_BEARER_TOKEN", TOKEN)


@pytest.fixture
def fake(httpserver: Any) -> FakeX:
    return FakeX().install(httpserver)


def configure(workspace: Callable, base_url: str, **options: Any) -> Config:
    entry = {"type": "x", "name": "x", "base_url": base_url, "max_results": 10,
             "timeout": "2s", **options}  # fmt: skip
    return load_config(workspace(connectors=[entry]))


def connector(base_url: str, **options: Any) -> XConnector:
    """A connector whose options went through the same checks as a config file's."""
    entry = {"base_url": base_url, "max_results": 10, "timeout": "2s", **options}
    return checked_connector(XConnector, entry, [ACME], name="x")


def state(config: Config) -> dict[str, Any]:
    """What the store holds for connector `x`: mentions by native id, replies, cursors,
    snapshots and source state."""
    store = Store.open(config.database)
    try:
        mentions = store._rows("SELECT * FROM mentions WHERE connector = 'x'")
        return {
            "mentions": {m["native_id"]: m for m in mentions},
            "count": len(mentions),
            "replies": store._rows("SELECT key, mention_key, author FROM replies"),
            "cursors": {k: json.loads(v) for k, v in store.cursors("x").items()},
            "source": store.source_state("x"),
            "month_reads": store.reads_this_month("x", NOW),
        }
    finally:
        store.close()


def page_ids(fake: FakeX, paths: str = SEARCH) -> list[list[str]]:
    return [ids for r, ids in zip(fake.requests, fake.served, strict=False) if r["path"] == paths]


def where(httpserver: Any) -> str:
    return urlsplit(httpserver.url_for("/")).netloc


def test_config_checks(workspace: Callable) -> None:
    brands = [{"name": "Acme Air", "terms": ["acme air"]}, {"name": "Zeta", "terms": ["zeta"]}]
    entries = [
        {"type": "x", "name": "a", "query": "acme"},
        {"type": "x", "name": "b", "brand": "Nope"},
        {"type": "x", "name": "c", "max_reads_per_run": 5, "max_results": 5},
        {"type": "x", "name": "d", "bearer_token_env": "AAAA-secret-pasted-here"},
        {"type": "x", "name": "e", "query": "zeta", "brand": "zeta"},
    ]
    with pytest.raises(ConfigError) as caught:
        load_config(workspace(brands=brands, connectors=entries))
    assert caught.value.errors == [
        "connectors[2].max_results: 5 is below the minimum 10",
        "connectors[3].bearer_token_env: must name an environment variable (letters, digits,"
        " _), not hold the secret itself; put the secret in the environment",
        "connectors[0].brand: is required with `query` when more than one brand is configured",
        "connectors[1].brand: 'Nope' is not a configured brand",
        "connectors[2].max_reads_per_run: must be at least 10: X returns 10 to 100 posts per"
        " search request",
    ]


def test_the_query_is_built_from_terms_own_accounts_and_exclusions() -> None:
    assert build_query(ACME) == QUERY
    assert build_query(ACME, exclude=False) == (
        '("acme air" OR @acmeair OR (from:acmeair is:reply)) -is:retweet'
    )
    odd = Brand("Zeta", ("Zeta-Rail", 'say "zeta"', "#ZetaRail", "zeta", "ZETA"), ())
    assert build_query(odd) == '("Zeta-Rail" OR "say zeta" OR #ZetaRail OR zeta) -is:retweet'


def test_two_pages_store_every_post_once_with_followers_and_counts(
    fake: FakeX, httpserver: Any, workspace: Callable
) -> None:
    config = configure(workspace, httpserver.url_for("/"))
    summary = run_once(config, now=NOW)
    assert (summary.errors, summary.warnings) == ([], [])
    assert (summary.new_mentions, summary.reads) == (13, {"x": 15})
    first, second = fake.searches()
    assert first == {
        "path": SEARCH, "query": QUERY, "max_results": "10", "start_time": "2026-11-21T12:00:00Z",
        "expansions": "author_id",
        "tweet.fields": "created_at,public_metrics,author_id,lang,conversation_id,"
                        "referenced_tweets,in_reply_to_user_id,note_tweet",
        "user.fields": "public_metrics,username,verified",
    }  # fmt: skip
    pages = page_ids(fake)
    assert second == {**first, "until_id": min(pages[0], key=int)}
    assert len(pages[0]) == 10 and len(pages[1]) == 5
    assert {h["Authorization"] for h in fake.headers} == {f"Bearer {TOKEN}"}
    held = state(config)
    assert set(held["mentions"]) == fake.ids("mention") and held["count"] == 13
    bag_id = min(fake.ids("mention"), key=int)
    bag = held["mentions"][bag_id]
    assert {k: bag[k] for k in ("author", "author_followers", "likes", "shares", "replies", "url",
                                "lang", "parent_id", "thread_id", "created_at", "brand")} == {
        "author": "traveler42", "author_followers": 1200, "likes": 12, "shares": 3 + 1,
        "replies": 4, "url": f"https://x.com/traveler42/status/{bag_id}", "lang": "en",
        "parent_id": None, "thread_id": bag_id, "created_at": "2026-11-22T08:00:00.000000Z",
        "brand": "Acme Air",
    }  # fmt: skip
    raw = json.loads(bag["raw"])
    assert raw["user"]["public_metrics"]["followers_count"] == 1200 and raw["id"] == bag_id
    quote = next(m for m in held["mentions"].values() if m["text"].startswith("Acme Air to"))
    assert (quote["parent_id"], quote["shares"]) == (fake.ids("own").pop(), 2)
    jane = [m for m in held["mentions"].values() if m["author"] == "flyer_jane"]
    assert {m["author_followers"] for m in jane} == {85} and len(jane) == 6
    [reply_id] = fake.ids("reply")
    assert held["replies"] == [
        {"key": f"x:{reply_id}", "mention_key": f"x:{bag_id}", "author": "acmeair"}
    ]
    newest = max(pages[0], key=int)
    assert held["cursors"] == {"Acme Air": {"since_id": newest, "backfill": None}}
    assert held["month_reads"] == 15


def test_each_page_is_a_batch_whose_cursor_resumes_the_range(fake: FakeX, httpserver: Any) -> None:
    first, second = connector(httpserver.url_for("/")).fetch(FetchContext(now=NOW))
    pages = page_ids(fake)
    newest, oldest = max(pages[0], key=int), min(pages[0], key=int)
    assert (first.scope, first.reads, first.state) == ("Acme Air", 10, {
        "since_id": None,
        "backfill": {"since_id": None, "start_time": "2026-11-21T12:00:00Z",
                     "until_id": oldest, "newest_id": newest},
    })  # fmt: skip
    assert (second.reads, second.state) == (
        5, {"since_id": newest, "backfill": None},
    )  # fmt: skip
    assert sorted(m.native_id for b in (first, second) for m in b.mentions) == sorted(
        fake.ids("mention")
    )
    assert [r.native_id for b in (first, second) for r in b.replies] == list(fake.ids("reply"))


def test_the_next_run_sends_the_saved_since_id(
    fake: FakeX, httpserver: Any, workspace: Callable
) -> None:
    config = configure(workspace, httpserver.url_for("/"))
    run_once(config, now=NOW)
    since = state(config)["cursors"]["Acme Air"]["since_id"]
    new = fake.add(BASE + timedelta(hours=3), "105", "Acme Air refund finally arrived", "mention")
    fake.requests.clear(), fake.served.clear()
    summary = run_once(config, now=NOW + timedelta(minutes=10))
    assert (summary.errors, summary.new_mentions) == ([], 1)
    [search] = fake.searches()
    assert search["since_id"] == since and "start_time" not in search
    assert "until_id" not in search
    held = state(config)
    assert set(held["mentions"]) == fake.ids("mention") and new["id"] in held["mentions"]
    assert held["cursors"]["Acme Air"] == {"since_id": new["id"], "backfill": None}


def test_a_429_on_the_first_call_is_an_error_the_run_exits_0_and_the_next_catches_up(
    httpserver: Any, workspace: Callable, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)
    fake = FakeX(base=now - timedelta(hours=3)).install(httpserver)
    reset = (now + timedelta(minutes=15)).replace(microsecond=0)
    fake.rate_limit(after=0, reset=reset)
    path = workspace(connectors=[{"type": "x", "name": "x", "timeout": "2s", "max_results": 10,
                                  "base_url": httpserver.url_for("/")}])  # fmt: skip
    assert main(["run", "--json", "--config", str(path)]) == 0
    out = capsys.readouterr()
    summary = json.loads(out.out)
    assert summary["errors"] == [
        f"connector x: {where(httpserver)}{SEARCH}: rate limited (HTTP 429); next try after "
        f"{reset:%Y-%m-%d %H:%M} UTC"
    ]
    assert summary["new_mentions"] == 0 and TOKEN not in out.out + out.err
    config = load_config(path)
    held = state(config)
    assert (held["count"], held["cursors"]) == (0, {})
    assert TOKEN not in (held["source"]["last_error"] or "")
    calls = len(fake.requests)
    early = run_once(config, now=reset - timedelta(minutes=1))
    assert len(fake.requests) == calls and "rate limited until" in early.warnings[0]
    fake.add(now - timedelta(minutes=1), "105", "Acme Air, where is my refund", "mention")
    later = run_once(config, now=reset + timedelta(minutes=1))
    assert later.errors == [] and later.new_mentions == 14
    assert set(state(config)["mentions"]) == fake.ids("mention")


def test_a_429_on_the_second_page_of_a_backfill_loses_nothing(
    fake: FakeX, httpserver: Any, workspace: Callable
) -> None:
    for i in range(20):  # 35 posts match: four pages of 10
        fake.add(BASE + timedelta(minutes=90 + i), "106", f"Acme Air gate {i} again", "mention")
    config = configure(workspace, httpserver.url_for("/"))
    fake.rate_limit(after=1, reset=NOW + timedelta(minutes=15))
    first = run_once(config, now=NOW)
    assert first.errors == [
        f"connector x: {where(httpserver)}{SEARCH}: rate limited (HTTP 429); next try after "
        "2026-11-22 12:15 UTC"
    ]
    cursor = state(config)["cursors"]["Acme Air"]
    page1 = page_ids(fake)[0]
    assert cursor == {"since_id": None, "backfill": {
        "since_id": None, "start_time": "2026-11-21T12:00:00Z",
        "until_id": min(page1, key=int), "newest_id": max(page1, key=int)}}  # fmt: skip
    assert state(config)["count"] == 10
    # New posts arrive while the range is still being read.
    fake.add(NOW + timedelta(minutes=5), "101", "Acme Air: still no bag", "mention")
    fake.add(NOW + timedelta(minutes=6), "103", "acme air fryer sale", "excluded")
    fake.requests.clear(), fake.served.clear()
    fake.rate_limit(after=1, reset=NOW + timedelta(minutes=35))
    second = run_once(config, now=NOW + timedelta(minutes=20))
    assert len(second.errors) == 1 and "rate limited (HTTP 429)" in second.errors[0]
    resumed = fake.searches()[0]
    assert resumed["until_id"] == min(page1, key=int)
    assert resumed["start_time"] == "2026-11-21T12:00:00Z" and "since_id" not in resumed
    assert state(config)["count"] == 20
    assert state(config)["cursors"]["Acme Air"]["backfill"]["until_id"] == min(
        page_ids(fake)[0], key=int
    )
    fake.requests.clear(), fake.served.clear()
    third = run_once(config, now=NOW + timedelta(minutes=40))
    assert third.errors == []
    searches = fake.searches()
    assert [("until_id" in s, s.get("since_id")) for s in searches] == [
        (True, None), (True, None), (False, max(page1, key=int)),
    ]  # fmt: skip
    held = state(config)
    assert set(held["mentions"]) == fake.ids("mention") and held["count"] == 34
    assert held["cursors"]["Acme Air"]["backfill"] is None


def test_no_post_is_searched_twice_across_interrupted_runs(
    fake: FakeX, httpserver: Any, workspace: Callable
) -> None:
    config = configure(workspace, httpserver.url_for("/"), max_reads_per_run=10,
                       refresh_limit=0)  # fmt: skip
    for minutes in range(0, 60, 10):
        run_once(config, now=NOW + timedelta(minutes=minutes))
    served = [i for ids in page_ids(fake) for i in ids]
    assert len(served) == len(set(served)) == 15
    assert set(state(config)["mentions"]) == fake.ids("mention")


@pytest.mark.parametrize("in_query", [True, False])
def test_posts_matching_only_an_exclusion_are_not_stored(
    in_query: bool, fake: FakeX, httpserver: Any, workspace: Callable
) -> None:
    config = configure(workspace, httpserver.url_for("/"), exclude_in_query=in_query)
    assert run_once(config, now=NOW).errors == []
    [fryer] = fake.ids("excluded")
    served = {i for ids in page_ids(fake) for i in ids}
    assert (fryer in served) is not in_query
    assert ('-"acme air fryer"' in fake.searches()[0]["query"]) is in_query
    held = state(config)
    assert fryer not in held["mentions"] and set(held["mentions"]) == fake.ids("mention")


def test_own_posts_are_dropped_and_own_replies_kept_as_replies(
    fake: FakeX, httpserver: Any
) -> None:
    batches = list(connector(httpserver.url_for("/")).fetch(FetchContext(now=NOW)))
    served = {i for ids in page_ids(fake) for i in ids}
    [own], [reply] = fake.ids("own"), fake.ids("reply")
    assert {own, reply} <= served
    mentions = {m.native_id for b in batches for m in b.mentions}
    assert own not in mentions and reply not in mentions
    [found] = [r for b in batches for r in b.replies]
    assert (found.native_id, found.author, found.brand) == (reply, "acmeair", "Acme Air")
    assert found.url == f"https://x.com/acmeair/status/{reply}"


def test_the_run_budget_stops_mid_range_and_the_next_run_resumes(
    fake: FakeX, httpserver: Any, workspace: Callable
) -> None:
    config = configure(workspace, httpserver.url_for("/"), max_results=100,
                       max_reads_per_run=12)  # fmt: skip
    first = run_once(config, now=NOW)
    assert (first.errors, first.warnings, first.reads) == ([], [f"connector x: {BUDGET_NOTE}"],
                                                           {"x": 12})  # fmt: skip
    assert [s["max_results"] for s in fake.searches()] == ["12"]
    assert state(config)["count"] == 11  # 12 posts: the own post dropped
    fake.add(NOW + timedelta(minutes=3), "102", "Acme Air lounge is packed", "mention")
    fake.requests.clear(), fake.served.clear()
    second = run_once(config, now=NOW + timedelta(minutes=10))
    # The backfill reads the 3 oldest posts; 9 reads are left: no new search, a refresh.
    assert second.warnings == [f"connector x: {NEWER_NOTE}"] and second.errors == []
    assert [s["max_results"] for s in fake.searches()] == ["12"]
    assert "until_id" in fake.searches()[0]
    lookups = [r for r in fake.requests if r["path"] == LOOKUP]
    assert [len(r["ids"].split(",")) for r in lookups] == [9]
    assert second.reads == {"x": 12}
    fake.requests.clear(), fake.served.clear()
    third = run_once(config, now=NOW + timedelta(minutes=20))
    assert (third.errors, third.warnings) == ([], [])
    assert fake.searches()[0]["max_results"] == "12" and "since_id" in fake.searches()[0]
    held = state(config)
    assert set(held["mentions"]) == fake.ids("mention")
    assert held["month_reads"] == 12 + 12 + third.reads["x"]


def test_two_brands_share_the_budget(httpserver: Any, workspace: Callable) -> None:
    fake = FakeX().install(httpserver)
    for i in range(12):
        fake.add(BASE + timedelta(minutes=100 + i), "105", f"Zeta Rail train {i} late", "zeta")
    brands = [{"name": "Acme Air", "terms": ["acme air"]}, {"name": "Zeta", "terms": ["zeta rail"]}]
    entry = {"type": "x", "name": "x", "base_url": httpserver.url_for("/"), "max_results": 10,
             "max_reads_per_run": 20, "refresh_limit": 0}  # fmt: skip
    config = load_config(workspace(brands=brands, connectors=[entry]))
    first = run_once(config, now=NOW)
    assert [(s["query"], s["max_results"]) for s in fake.searches()] == [
        ('("acme air") -is:retweet', "10"), ('("zeta rail") -is:retweet', "10"),
    ]  # fmt: skip
    assert first.warnings == [f"connector x: {BUDGET_NOTE}"] * 2
    for minutes in (10, 20):
        run_once(config, now=NOW + timedelta(minutes=minutes))
    held = state(config)
    assert {m["brand"] for m in held["mentions"].values()} == {"Acme Air", "Zeta"}
    assert {i for i, m in held["mentions"].items() if m["brand"] == "Zeta"} == fake.ids("zeta")
    assert set(held["cursors"]) == {"Acme Air", "Zeta"}


def test_a_refresh_records_a_new_snapshot_with_grown_counts(
    fake: FakeX, httpserver: Any, workspace: Callable
) -> None:
    config = configure(workspace, httpserver.url_for("/"))
    run_once(config, now=NOW)
    bag_id = min(fake.ids("mention"), key=int)
    fake.grow(bag_id, like_count=40, retweet_count=5, reply_count=2)
    new = fake.add(NOW + timedelta(minutes=1), "101", "Acme Air found it!", "mention")
    fake.requests.clear(), fake.served.clear()
    later = run_once(config, now=NOW + timedelta(minutes=30))
    assert (later.errors, later.new_mentions) == ([], 1)
    [lookup] = [r for r in fake.requests if r["path"] == LOOKUP]
    assert set(lookup["ids"].split(",")) == fake.ids("mention") - {new["id"]}
    assert lookup["tweet.fields"] == fake.searches()[0]["tweet.fields"]
    assert later.reads == {"x": 1 + 13}
    store = Store.open(config.database)
    try:
        snapshots = store._rows(
            "SELECT likes, shares, replies FROM snapshots WHERE mention_key = ?"
            " ORDER BY observed_at", [f"x:{bag_id}"],
        )  # fmt: skip
        [row] = store._rows("SELECT likes, shares, replies FROM mentions WHERE native_id = ?",
                           [bag_id])  # fmt: skip
        unchanged = store._rows(
            "SELECT COUNT(*) AS n FROM snapshots WHERE mention_key != ?", [f"x:{bag_id}"]
        )[0]["n"]
    finally:
        store.close()
    assert snapshots == [{"likes": 12, "shares": 4, "replies": 4},
                         {"likes": 52, "shares": 9, "replies": 6}]  # fmt: skip
    assert row == {"likes": 52, "shares": 9, "replies": 6}
    assert unchanged == 13  # one snapshot each: their counts did not move


def snapshots_of(config: Config, native_id: str) -> list[dict[str, Any]]:
    store = Store.open(config.database)
    try:
        return store._rows(
            "SELECT observed_at, shares, reshare_reach, impressions FROM snapshots"
            " WHERE mention_key = ? ORDER BY observed_at", [f"x:{native_id}"],
        )  # fmt: skip
    finally:
        store.close()


def retweeted(fake: FakeX) -> list[str]:
    """The posts whose retweeters were asked for, in order."""
    return [r["path"].split("/")[3] for r in fake.requests if r["path"].endswith("/retweeted_by")]


def test_the_reach_of_retweeted_posts_is_looked_up_once_per_growth(
    fake: FakeX, httpserver: Any, workspace: Callable
) -> None:
    config = configure(workspace, httpserver.url_for("/"), reach_lookups=5)
    bag_id = min(fake.ids("mention"), key=int)
    quote_id = next(p["id"] for p in fake.posts if p["text"].startswith("Acme Air to"))
    fake.retweeters[bag_id] = ["102", "106", "105"]  # 85 + 310 + 5 followers
    fake.retweeters[quote_id] = ["104"]
    summary = run_once(config, now=NOW)
    assert (summary.errors, summary.warnings) == ([], [])
    assert retweeted(fake) == [bag_id, quote_id]  # most retweeted first, none without retweets
    [ask, _] = [r for r in fake.requests if r["path"].endswith("/retweeted_by")]
    assert (ask["max_results"], ask["user.fields"]) == ("100", "public_metrics")
    assert summary.reads == {"x": 15 + 3 + 1}  # every retweeter returned is a billed read
    [bag] = snapshots_of(config, bag_id)  # the same observation, completed with its reach
    assert (bag["shares"], bag["reshare_reach"], bag["impressions"]) == (4, 400, 40 * 13)
    assert snapshots_of(config, quote_id)[0]["reshare_reach"] == 250_000
    assert state(config)["cursors"]["Acme Air"]["reach"] == {bag_id: 3, quote_id: 2}

    fake.requests.clear()
    run_once(config, now=NOW + timedelta(minutes=10))
    assert retweeted(fake) == []  # retweeted no further: not asked again
    fake.grow(bag_id, retweet_count=1)
    fake.retweeters[bag_id].append("101")
    run_once(config, now=NOW + timedelta(minutes=20))
    assert retweeted(fake) == [bag_id]
    assert [s["reshare_reach"] for s in snapshots_of(config, bag_id)] == [400, 1_600]
    assert state(config)["cursors"]["Acme Air"]["reach"][bag_id] == 4


def test_reach_lookups_are_off_by_default(
    fake: FakeX, httpserver: Any, workspace: Callable
) -> None:
    fake.retweeters[min(fake.ids("mention"), key=int)] = ["102", "106", "105"]
    summary = run_once(configure(workspace, httpserver.url_for("/")), now=NOW)
    assert (retweeted(fake), summary.reads) == ([], {"x": 15})


def test_reach_lookups_are_paid_from_what_the_read_budget_leaves(
    fake: FakeX, httpserver: Any, workspace: Callable
) -> None:
    bag_id = min(fake.ids("mention"), key=int)
    quote_id = next(p["id"] for p in fake.posts if p["text"].startswith("Acme Air to"))
    filler_id = max(fake.ids("mention"), key=int)
    fake.grow(filler_id, retweet_count=1)
    fake.retweeters[bag_id] = ["102", "106", "105"]
    fake.retweeters[quote_id] = ["104", "101", "103"]
    config = configure(workspace, httpserver.url_for("/"), reach_lookups=5, max_reads_per_run=20)
    summary = run_once(config, now=NOW)
    assert summary.reads == {"x": 20}  # 15 posts, then 3 + 2 retweeters
    asks = [r for r in fake.requests if r["path"].endswith("/retweeted_by")]
    assert [(r["path"].split("/")[3], r["max_results"]) for r in asks] == [
        (bag_id, "5"), (quote_id, "2"),
    ]  # fmt: skip
    assert any("reshare reach of the rest is looked up next run" in w for w in summary.warnings)
    assert snapshots_of(config, quote_id)[0]["reshare_reach"] == 250_000 + 1_200
    assert snapshots_of(config, filler_id)[0]["reshare_reach"] is None
    assert filler_id not in state(config)["cursors"]["Acme Air"]["reach"]


def test_a_post_gone_before_its_reach_lookup_keeps_its_counts(fake: FakeX, httpserver: Any) -> None:
    bag_id = min(fake.ids("mention"), key=int)
    conn = connector(httpserver.url_for("/"), reach_lookups=1)
    batches = []
    for batch in conn.fetch(FetchContext(now=NOW)):
        batches.append(batch)
        if len(batches) == 2:  # both search pages read: the post disappears
            fake.posts.remove(fake.find(bag_id))
    reach = batches[-1]
    assert (reach.mentions, reach.problems, reach.reads) == ([], [], 0)
    assert reach.state["reach"] == {bag_id: 3}  # not asked again until retweeted again


def test_refresh_limit_and_lookback_bound_the_refresh(
    fake: FakeX, httpserver: Any, workspace: Callable
) -> None:
    config = configure(workspace, httpserver.url_for("/"), refresh_limit=3)
    run_once(config, now=NOW)
    fake.requests.clear()
    run_once(config, now=NOW + timedelta(minutes=10))
    [lookup] = [r for r in fake.requests if r["path"] == LOOKUP]
    newest = sorted(fake.ids("mention"), key=int, reverse=True)[:3]
    assert lookup["ids"].split(",") == newest
    fake.requests.clear()
    run_once(config, now=NOW + timedelta(days=2))  # every stored mention is past the lookback
    assert [r["path"] for r in fake.requests] == [SEARCH]


def test_a_deleted_post_is_simply_not_refreshed(
    fake: FakeX, httpserver: Any, workspace: Callable
) -> None:
    config = configure(workspace, httpserver.url_for("/"))
    run_once(config, now=NOW)
    gone = max(fake.ids("mention"), key=int)
    fake.posts.remove(fake.find(gone))
    later = run_once(config, now=NOW + timedelta(minutes=10))
    assert (later.errors, later.reads) == ([], {"x": 12})
    assert gone in state(config)["mentions"]


def _faults(httpserver: Any) -> dict[str, str]:
    return {
        "401": f"{SEARCH}: HTTP 401 (Unauthorized)",
        "500": f"{SEARCH}: HTTP 500",
        "503 on page 2": f"{SEARCH}: HTTP 503",
        "bad json": f"{SEARCH}: malformed JSON in the response",
        "no meta": f"{SEARCH}: malformed payload (no 'meta'): Service Unavailable",
        "data not a list": f"{SEARCH}: malformed payload ('data' is not a list)",
        "timeout": f"{SEARCH}: no answer within 1s",
    }


@pytest.mark.parametrize("fault", list(_faults(None)))
def test_a_fault_is_reported_without_the_token_and_the_cursor_stays(
    fault: str, fake: FakeX, httpserver: Any, blackhole: str, workspace: Callable,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    config = configure(workspace, httpserver.url_for("/"), timeout="1s")
    assert run_once(config, now=NOW).errors == []
    before = state(config)
    fake.add(NOW + timedelta(minutes=1), "101", "Acme Air new one", "mention")
    host = where(httpserver)
    if fault == "timeout":
        config = configure(workspace, blackhole, timeout="1s")
        host = blackhole.removeprefix("http://")
    elif fault == "401":
        fake.token = "a-different-token"
    elif fault == "500":
        fake.fail(500, body="Internal Server Error")
    elif fault == "503 on page 2":
        for i in range(12):
            fake.add(NOW + timedelta(minutes=2 + i), "106", f"Acme Air row {i}", "mention")
        fake.fail(503, after=1, body="upstream connect error")
    elif fault == "bad json":
        fake.fail(200, body='{"data": [{"id": ')
    elif fault == "no meta":
        fake.fail(200, body='{"errors": [{"title": "Service Unavailable"}]}')
    else:
        fake.fail(200, body='{"data": {"id": "1"}, "meta": {"result_count": 1}}')
    summary = run_once(config, now=NOW + timedelta(minutes=10))
    assert summary.errors == [f"connector x: {host}{_faults(httpserver)[fault]}"]
    after = state(config)
    assert TOKEN not in (after["source"]["last_error"] or "")
    if fault == "503 on page 2":  # the first page stays stored, the cursor covers it alone
        assert after["count"] == before["count"] + 10
        assert (
            after["cursors"]["Acme Air"]["backfill"]["since_id"]
            == (before["cursors"]["Acme Air"]["since_id"])
        )
    else:
        assert (after["count"], after["cursors"]) == (before["count"], before["cursors"])


def test_a_429_without_a_reset_header_backs_off_15_minutes(
    fake: FakeX, httpserver: Any, workspace: Callable
) -> None:
    config = configure(workspace, httpserver.url_for("/"))
    fake.rate_limit(with_reset=False)
    summary = run_once(config, now=NOW)
    assert summary.errors == [
        f"connector x: {where(httpserver)}{SEARCH}: rate limited (HTTP 429); next try after "
        "2026-11-22 12:15 UTC"
    ]


def test_a_missing_token_names_the_variable(
    fake: FakeX, httpserver: Any, workspace: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("X_BEARER_TOKEN")
    config = configure(workspace, httpserver.url_for("/"))
    assert run_once(config, now=NOW).errors == [
        "connector x: the environment variable X_BEARER_TOKEN is not set: put the X API bearer"
        " token there"
    ]
    assert fake.requests == []


def test_the_token_comes_from_the_environment_the_run_was_given(
    fake: FakeX, httpserver: Any, workspace: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("X_BEARER_TOKEN", "the-process-token-is-not-used")
    config = configure(workspace, httpserver.url_for("/"))
    assert run_once(config, now=NOW, env={"X_BEARER_TOKEN": TOKEN}).errors == []
    assert {h["Authorization"] for h in fake.headers} == {f"Bearer {TOKEN}"}
    calls = len(fake.requests)
    later = run_once(config, now=NOW + timedelta(minutes=10), env={})
    assert later.errors == [
        "connector x: the environment variable X_BEARER_TOKEN is not set: put the X API bearer"
        " token there"
    ]
    assert len(fake.requests) == calls


def test_the_token_is_masked_in_tweepy_debug_logs(
    fake: FakeX, httpserver: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="tweepy.client")
    list(connector(httpserver.url_for("/")).fetch(FetchContext(now=NOW)))
    assert "Making API request" in caplog.text and "Bearer ***" in caplog.text
    assert TOKEN not in caplog.text


def test_a_bad_post_is_skipped_with_its_location(fake: FakeX, httpserver: Any) -> None:
    bad = max(fake.ids("mention"), key=int)
    fake.find(bad)["created_at"] = "yesterday-ish"
    batches = list(connector(httpserver.url_for("/")).fetch(FetchContext(now=NOW)))
    problems = [p for b in batches for p in b.problems]
    assert problems == [f"{where(httpserver)}: post {bad}: has no created_at time"]
    stored = {m.native_id for b in batches for m in b.mentions}
    assert stored == fake.ids("mention") - {bad}
    assert batches[-1].state["since_id"] == bad


def test_empty_pages_with_a_next_token_are_followed(fake: FakeX, httpserver: Any) -> None:
    fake.empty_pages(2)
    batches = list(connector(httpserver.url_for("/")).fetch(FetchContext(now=NOW)))
    searches = fake.searches()
    assert ["next_token" in s for s in searches] == [False, True, True, False]
    assert {m.native_id for b in batches for m in b.mentions} == fake.ids("mention")


def test_bounds_older_than_seven_days_move_up_with_a_warning(fake: FakeX, httpserver: Any) -> None:
    old = snowflake(NOW - timedelta(days=10))
    floor = NOW - timedelta(days=7) + timedelta(minutes=5)
    assert abs(snowflake_time(old) - (NOW - timedelta(days=10))) < timedelta(seconds=1)
    cursors = {"Acme Air": json.dumps({"since_id": old, "backfill": None})}
    batches = list(connector(httpserver.url_for("/")).fetch(FetchContext(now=NOW, cursors=cursors)))
    first = fake.searches()[0]
    assert first["start_time"] == f"{floor:%Y-%m-%dT%H:%M:%SZ}" and "since_id" not in first
    assert batches[0].notes == [
        "posts from 2026-11-12 12:00 UTC to 2026-11-15 12:05 UTC are beyond X's 7-day search "
        "window and were not read"
    ]
    assert {m.native_id for b in batches for m in b.mentions} == fake.ids("mention")


def test_a_backfill_past_the_seven_days_is_dropped_for_a_new_pass(
    fake: FakeX, httpserver: Any
) -> None:
    since, until = snowflake(NOW - timedelta(days=9)), snowflake(NOW - timedelta(days=8))
    newest = snowflake(NOW - timedelta(days=5))
    back = {"since_id": since, "start_time": None, "until_id": until, "newest_id": newest}
    cursors = {"Acme Air": json.dumps({"since_id": since, "backfill": back})}
    batches = list(connector(httpserver.url_for("/")).fetch(FetchContext(now=NOW, cursors=cursors)))
    assert batches[0].state == {"since_id": newest, "backfill": None}
    assert "beyond X's 7-day search window" in batches[0].notes[0]
    assert fake.searches()[0]["since_id"] == newest


def test_an_unreadable_cursor_starts_over_with_a_warning(fake: FakeX, httpserver: Any) -> None:
    ctx = FetchContext(now=NOW, cursors={"Acme Air": '{"since_id": "12; DROP"}'})
    list(connector(httpserver.url_for("/")).fetch(ctx))
    assert ctx.warnings == ["saved state for scope Acme Air is unreadable, starting over"]
    assert fake.searches()[0]["start_time"] == "2026-11-21T12:00:00Z"


@pytest.mark.parametrize("backfill", [False, True])
def test_a_cursor_saved_by_the_previous_version_resumes_where_it_was(
    fake: FakeX, httpserver: Any, workspace: Callable, backfill: bool
) -> None:
    config = configure(workspace, httpserver.url_for("/"))
    posts = sorted(fake.posts, key=lambda p: int(p["id"]))
    since, until = posts[2]["id"], posts[-3]["id"]
    # Both shapes of cursor the code before this version wrote (json.dumps, keys sorted).
    if backfill:
        newest = posts[-1]["id"]
        old = (
            f'{{"backfill": {{"newest_id": "{newest}", "since_id": "{since}", '
            f'"start_time": null, "until_id": "{until}"}}, "since_id": "{since}"}}'
        )
    else:
        old = f'{{"backfill": null, "since_id": "{since}"}}'
    store = Store.open(config.database)
    store.save_batch("x", [], NOW, scope="Acme Air", cursor=old)
    store.close()
    summary = run_once(config, now=NOW)
    assert (summary.errors, summary.warnings) == ([], [])
    first = fake.searches()[0]
    assert first["since_id"] == since
    assert first.get("until_id") == (until if backfill else None)
    read = {i for ids in page_ids(fake) for i in ids}
    assert all(int(i) > int(since) for i in read)


def test_a_query_option_runs_for_its_brand_only(httpserver: Any, workspace: Callable) -> None:
    fake = FakeX().install(httpserver)
    brands = [{"name": "Acme Air", "terms": ["acme air", "@acmeair"]},
              {"name": "Zeta", "terms": ["zeta rail"]}]  # fmt: skip
    entry = {"type": "x", "name": "x", "base_url": httpserver.url_for("/"), "max_results": 10,
             "query": "@acmeair -is:retweet", "brand": "acme air"}  # fmt: skip
    config = load_config(workspace(brands=brands, connectors=[entry]))
    assert run_once(config, now=NOW).errors == []
    assert {s["query"] for s in fake.searches()} == {"@acmeair -is:retweet"}
    held = state(config)
    assert set(held["cursors"]) == {"Acme Air"}
    assert {m["author"] for m in held["mentions"].values()} == {"flyer_jane", "grumpy"}


def test_the_real_host_gets_its_own_proxy_decision(
    fake: FakeX, httpserver: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # requests picks these dead proxies for api.twitter.com; the fake is exempt by NO_PROXY.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    batches = list(connector(httpserver.url_for("/")).fetch(FetchContext(now=NOW)))
    assert {m.native_id for b in batches for m in b.mentions} == fake.ids("mention")


def test_a_long_post_keeps_its_full_text_and_a_post_without_its_user_still_maps() -> None:
    long_text = "Acme Air " + "lost my bag " * 30
    tweet = {"id": "1862000000000000000", "text": long_text[:280] + "…",
             "note_tweet": {"text": long_text}, "created_at": "2026-11-22T08:00:00.000Z",
             "author_id": "999", "public_metrics": {"like_count": 3}}  # fmt: skip
    mention = to_item(ACME, tweet, {}, match=True)
    assert mention is not None and mention.text == long_text
    assert (mention.author, mention.author_followers, mention.url) == (
        None, None, "https://x.com/i/web/status/1862000000000000000",
    )  # fmt: skip
    assert (mention.likes, mention.shares, mention.replies, mention.lang) == (3, 0, 0, None)
    with pytest.raises(ValueError, match="like_count '-1' is not a count"):
        to_item(ACME, {**tweet, "public_metrics": {"like_count": -1}}, {}, match=True)
