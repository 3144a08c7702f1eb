"""The rss connector with requests + feedparser against fake Google Alerts and news feeds."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from werkzeug import Response

from reputation.brands import Brand
from reputation.cli import main
from reputation.config import ConfigError, load_config
from reputation.connectors import FetchContext, SourceError, encode_state
from reputation.connectors.rss import RssConnector, feed_key, unwrap_link
from reputation.models import Mention
from reputation.pipeline import run_once
from reputation.store import Store
from reputation.text import normalize
from tests.conftest import ACME, NOW
from tests.harness import checked_connector
from tests.harness.rss import ALERTS_PATH, BASE, NEWS_PATH, Entry, FakeFeeds, feed_urls, rss

GLOBEX = Brand("Globex", ("globex",))
ALERT_1, ALERT_2, ALERT_3 = (f"tag:google.com,2013:googlealerts/feed:{n}" for n in (11, 22, 33))


@pytest.fixture
def feeds(httpserver: Any) -> FakeFeeds:
    return FakeFeeds().install(httpserver)


@pytest.fixture
def urls(httpserver: Any) -> list[str]:
    return feed_urls(httpserver.url_for("/"))


def item(slug: str, title: str, minutes: float | None, summary: str = "") -> Entry:
    """A news item whose guid and link are https://news.example/<slug>."""
    url = f"https://news.example/{slug}"
    return Entry(url, title, summary, url, minutes)


def connector(feeds: list[str], brands: list[Brand] | None = None, **options: Any) -> RssConnector:
    """A connector whose options went through the same checks as a config file's."""
    entry = {"feeds": feeds, "timeout": "2s", **options}
    return checked_connector(RssConnector, entry, brands or [ACME], name="rss")


def fetch(conn: RssConnector, cursors: dict[str, str] | None = None, now: datetime = NOW):
    """All batches of one fetch, plus the cursors they leave (last one per scope wins)."""
    batches = list(conn.fetch(FetchContext(now=now, cursors=cursors or {})))
    saved = dict(cursors or {})
    saved.update({b.scope: encode_state(b.state) for b in batches if b.state is not None})
    return batches, saved


def by_id(batches: list[Any]) -> dict[str, Mention]:
    return {m.native_id: m for b in batches for m in b.mentions}


def configure(workspace: Callable, feeds: list[str], **options: Any):
    entry = {"type": "rss", "name": "news", "feeds": feeds, "timeout": "1s", **options}
    return load_config(workspace(connectors=[entry]))


def test_config_checks_feeds_and_brand(workspace: Callable) -> None:
    with pytest.raises(ConfigError) as caught:
        configure(workspace, ["https://news.example/a.rss", "news.example/b.rss"], brand="Initech")
    assert caught.value.errors == [
        "connectors[0].feeds[1]: 'news.example/b.rss' is not an http(s) URL",
        "connectors[0].brand: 'Initech' is not a configured brand",
    ]


def test_two_feeds_become_mentions_with_mapped_fields(feeds: FakeFeeds, urls: list[str]) -> None:
    batches, cursors = fetch(connector(urls))
    assert [b.scope for b in batches] == ["Acme Air", "Acme Air"]  # one batch per feed
    found = by_id(batches)
    fares_id = next(i for i in found if i.startswith("link:"))
    # not the fryer review (exclusion), the brand's own lounge post, nor the snow story
    assert set(found) == {ALERT_1, ALERT_3, "https://news.example/strike", fares_id}
    alert = found[ALERT_1]
    assert alert.text == (
        "<b>Acme Air</b> strands 200 passengers at O'Hare\n\n"
        "Passengers of <b>Acme Air</b> flight 12 waited six hours &amp; got no refund"
    )
    assert alert.url == "https://news.example/2026/11/acme-air-strands?ref=alerts&id=12"
    assert (alert.source, alert.brand, alert.author) == ("rss", "Acme Air", "news.example")
    assert alert.created_at == BASE + timedelta(minutes=10)
    assert (alert.likes, alert.shares, alert.replies, alert.author_followers) == (0, 0, 0, None)
    assert alert.raw is not None and alert.raw["feed_title"] == "Google Alert - Acme Air"
    strike = found["https://news.example/strike"]
    assert (strike.author, strike.lang, strike.url) == ("Jane Doe", "en", strike.native_id)
    assert strike.created_at == BASE + timedelta(minutes=40)  # pubDate was +02:00
    assert strike.created_at.utcoffset() == timedelta(0)
    assert found[fares_id].author == "Travel News"  # no author: the publisher (feed title)
    assert found[fares_id].url == "https://news.example/fares"
    state = json.loads(cursors["Acme Air"])["feeds"]
    assert set(state) == {feed_key(u) for u in urls}
    assert all(u not in cursors["Acme Air"] for u in urls), "feed URLs stay out of the cursor"


@pytest.mark.parametrize(
    ("link", "real"),
    [
        ("https://www.google.com/url?rct=j&sa=t&url=https://a.example/p%3Fx%3D1%26y%3D%25AB"
         "&ct=ga&cd=CA&usg=AOv", "https://a.example/p?x=1&y=%AB"),
        ("https://www.google.co.uk/url?q=http://b.example/&sa=U", "http://b.example/"),
        ("https://google.com/url?url=javascript:alert(1)", "https://google.com/url?url=javascript:alert(1)"),
        ("https://evil.example/url?url=https://c.example/", "https://evil.example/url?url=https://c.example/"),
        ("https://www.google.com/search?url=https://d.example/", "https://www.google.com/search?url=https://d.example/"),
        ("https://news.example/x", "https://news.example/x"),
    ],
)  # fmt: skip
def test_only_google_redirect_links_are_unwrapped(link: str, real: str) -> None:
    unwrapped, redirected = unwrap_link(link)
    assert unwrapped == real
    assert redirected == (unwrapped != link)


def test_bold_tags_stay_in_text_while_matching_sees_plain_words(
    feeds: FakeFeeds, urls: list[str]
) -> None:
    found = by_id(fetch(connector(urls[:1]))[0])
    lisbon = found[ALERT_3]  # "<b>Acme</b> <b>Air</b>": the term is split by tags
    assert lisbon.text.startswith("<b>Acme</b> <b>Air</b> adds a Lisbon route")
    assert normalize(lisbon.text).startswith("Acme Air adds a Lisbon route")
    assert ALERT_2 not in found  # "My <b>Acme Air</b> fryer" is the excluded phrase


def test_with_brand_every_item_is_the_brands_but_exclusions_still_apply(
    feeds: FakeFeeds, urls: list[str]
) -> None:
    feeds.alerts.append(Entry("tag:google.com,2013:googlealerts/feed:44",
                              "Airline stocks rally", "Carriers rose 3% on Friday",
                              "https://markets.example/rally", 35))  # fmt: skip
    batches, cursors = fetch(connector(urls[:1], [GLOBEX, ACME], brand="Acme Air"))
    found = by_id(batches)
    assert set(found) == {ALERT_1, ALERT_3, "tag:google.com,2013:googlealerts/feed:44"}
    assert {m.brand for m in found.values()} == {"Acme Air"}
    assert set(cursors) == {"Acme Air"}


def test_without_brand_each_brand_gets_its_items_and_its_own_cursor(
    feeds: FakeFeeds, urls: list[str]
) -> None:
    feeds.news.append(item("globex", "Globex buys a regional airline", 75))
    batches, cursors = fetch(connector(urls, [ACME, GLOBEX]))
    found = by_id(batches)
    assert found["https://news.example/globex"].brand == "Globex"
    assert found["https://news.example/strike"].brand == "Acme Air"
    assert set(cursors) == {"Acme Air", "Globex"}
    assert {b.scope for b in batches if b.mentions} == {"Acme Air", "Globex"}


def test_a_second_run_yields_nothing_and_a_new_item_comes_next(
    feeds: FakeFeeds, urls: list[str]
) -> None:
    conn = connector(urls)
    first, cursors = fetch(conn)
    assert len(by_id(first)) == 4
    second, again = fetch(conn, cursors, now=NOW + timedelta(minutes=10))
    assert by_id(second) == {} and again == cursors
    feeds.news.insert(0, item("refunds", "Acme Air refunds delayed", 80, "Weeks of waiting."))
    third, _ = fetch(conn, cursors, now=NOW + timedelta(minutes=20))
    assert list(by_id(third)) == ["https://news.example/refunds"]


def test_an_undated_feed_is_deduplicated_by_the_ids_it_has_seen(
    feeds: FakeFeeds, urls: list[str]
) -> None:
    for entry in feeds.news:
        entry.minutes = None
    conn = connector(urls[1:])
    first, cursors = fetch(conn)
    found = by_id(first)
    assert len(found) == 2 and all(m.created_at == NOW for m in found.values())
    [state] = json.loads(cursors["Acme Air"])["feeds"].values()
    assert "newest" not in state and len(state["seen"]) == 4
    second, _ = fetch(conn, cursors, now=NOW + timedelta(hours=1))
    assert by_id(second) == {}


def test_late_items_inside_the_lookback_are_read_older_ones_are_not(
    feeds: FakeFeeds, urls: list[str]
) -> None:
    conn = connector(urls[1:], lookback="6h")
    _, cursors = fetch(conn)
    feeds.news += [
        item("late", "Acme Air adds Oslo", 70 - 5 * 60),  # 5 h before the newest, listed now
        item("old", "Acme Air in 2025", 70 - 7 * 60),
    ]
    batches, _ = fetch(conn, cursors, now=NOW + timedelta(minutes=30))
    assert list(by_id(batches)) == ["https://news.example/late"]


def test_a_bad_entry_is_skipped_with_its_location(
    feeds: FakeFeeds, urls: list[str], httpserver: Any
) -> None:
    feeds.news += [
        Entry(None, "Acme Air item with no link", "", "", 80),
        item("empty", "", 81),
    ]
    conn = connector(urls[1:])
    batches, cursors = fetch(conn)
    where = f"localhost:{httpserver.port}{NEWS_PATH}"
    assert [p for b in batches for p in b.problems] == [
        f"{where}: entry 5: has no id and no link",
        f"{where}: entry 6: https://news.example/empty: has no title and no summary",
    ]
    assert len(by_id(batches)) == 2
    again, _ = fetch(conn, cursors)  # still listed, already reported: not reported again
    assert [p for b in again for p in b.problems] == []


def test_a_body_naming_a_local_file_is_not_read_as_the_feed(
    httpserver: Any, tmp_path: Path
) -> None:
    # feedparser opens a bytes argument as a path when such a file exists.
    local = tmp_path / "local.rss"
    local.write_text(rss([Entry("x", "Acme Air secret", "", "https://x.example", 1)]))
    httpserver.expect_request("/feed").respond_with_data(str(local), content_type="text/plain")
    with pytest.raises(SourceError, match=r"/feed: malformed feed \(not RSS or Atom\)"):
        fetch(connector([httpserver.url_for("/feed")]))


def _saved(config: Any) -> tuple[dict[str, str], int]:
    store = Store.open(config.database)
    try:
        count = store._rows("SELECT COUNT(*) AS n FROM mentions")[0]["n"]
        return store.cursors("news"), count
    finally:
        store.close()


@pytest.mark.parametrize("fault", ["html", "500", "timeout"])
def test_a_fault_is_reported_and_the_cursor_stays(
    fault: str, feeds: FakeFeeds, urls: list[str], httpserver: Any, blackhole: str,
    workspace: Callable,
) -> None:  # fmt: skip
    config = configure(workspace, urls)
    assert run_once(config, now=NOW).errors == []
    cursors, count = _saved(config)
    httpserver.clear()
    if fault == "timeout":
        config = configure(workspace, feed_urls(blackhole))
    elif fault == "html":  # a consent or captcha page served with 200
        httpserver.expect_request(ALERTS_PATH).respond_with_data(
            "<html><head><title>Before you continue</title></head><body>…</body></html>",
            content_type="text/html",
        )
    else:
        httpserver.expect_request(ALERTS_PATH).respond_with_data("oops", status=500)
    summary = run_once(config, now=NOW + timedelta(hours=1))
    expected = {
        "html": f"{ALERTS_PATH}: malformed feed (not RSS or Atom)",
        "500": f"{ALERTS_PATH}: HTTP 500",
        "timeout": f"{ALERTS_PATH}: no answer within 1s",
    }[fault]
    assert len(summary.errors) == 1 and summary.errors[0].startswith("connector news: ")
    assert summary.errors[0].endswith(expected)
    assert _saved(config) == (cursors, count)


def test_a_429_on_the_second_feed_keeps_the_first_and_waits(
    httpserver: Any, urls: list[str], workspace: Callable
) -> None:
    feeds = FakeFeeds()
    httpserver.expect_request(ALERTS_PATH).respond_with_handler(feeds._alerts)
    httpserver.expect_request(NEWS_PATH).respond_with_response(
        Response("slow down", status=429, headers={"Retry-After": "600"})
    )
    config = configure(workspace, urls)
    summary = run_once(config, now=NOW)
    assert [e.split("; next try")[0] for e in summary.errors] == [
        f"connector news: localhost:{httpserver.port}{NEWS_PATH}: rate limited (HTTP 429)"
    ]
    assert "next try after 2026-11-22 12:10 UTC" in summary.errors[0]
    cursors, count = _saved(config)
    assert count == 2  # the alerts feed was stored, with a cursor covering it alone
    assert set(json.loads(cursors["Acme Air"])["feeds"]) == {feed_key(urls[0])}
    calls = len(httpserver.log)
    later = run_once(config, now=NOW + timedelta(minutes=5))
    assert any("rate limited until 2026-11-22 12:10 UTC" in w for w in later.warnings)
    assert len(httpserver.log) == calls


def test_cli_run_prints_a_json_summary_and_exits_0(
    feeds: FakeFeeds, urls: list[str], workspace: Callable, capsys: pytest.CaptureFixture[str]
) -> None:
    feeds.base = datetime.now(UTC) - timedelta(hours=3)
    entry = {"type": "rss", "name": "news", "feeds": urls, "timeout": "2s"}
    path = workspace(connectors=[entry])
    assert main(["run", "--json", "--config", str(path)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["errors"], summary["new_mentions"]) == ([], 4)
    assert sorted(feeds.hits) == sorted([ALERTS_PATH, NEWS_PATH])
