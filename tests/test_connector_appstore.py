"""The App Store connector with requests against a fake customer-reviews feed on 127.0.0.1."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from werkzeug import Request, Response

from reputation.brands import Brand
from reputation.cli import main
from reputation.config import ConfigError, load_config
from reputation.connectors import FetchContext
from reputation.connectors.appstore import AppStoreConnector
from reputation.pipeline import RunSummary, run_once
from tests.conftest import ACME, NOW
from tests.harness import checked_connector, fetch_batches
from tests.harness.appstore import APP_ID, FakeAppStore, review

BRAND = ACME
ALL = re.compile(".*")


@pytest.fixture
def fake(httpserver: Any) -> FakeAppStore:
    return FakeAppStore().serve(httpserver)


def connector(base_url: str, brands: list[Brand] | None = None, **raw: Any) -> AppStoreConnector:
    """A connector whose options went through the same checks as a config file's."""
    entry = {"app_id": APP_ID, "countries": ["us", "gb"], "base_url": base_url, **raw}
    return checked_connector(AppStoreConnector, entry, brands)


def config_entry(httpserver: Any, **extra: Any) -> dict[str, Any]:
    return {"type": "appstore", "app_id": int(APP_ID), "countries": ["us", "gb"],
            "base_url": httpserver.url_for("/"), "timeout": "2s", **extra}  # fmt: skip


def run(path: Path, minutes: float = 0) -> RunSummary:
    return run_once(load_config(path), now=NOW + timedelta(minutes=minutes))


def test_pages_of_each_country_become_mentions(fake: FakeAppStore, httpserver: Any) -> None:
    batches = fetch_batches(connector(httpserver.url_for("/")))
    mentions = {m.native_id: m for b in batches for m in b.mentions}
    # 9003 is the brand's own account reviewing its app; the app's metadata entry is skipped.
    assert sorted(mentions) == ["8001", "9001", "9002", "9004", "9005"]
    assert fake.pages_served == [("us", 1), ("us", 2), ("us", 3), ("gb", 1), ("gb", 2)]
    first = mentions["9001"]
    assert (first.key, first.brand, first.author) == ("appstore:9001", "Acme Air", "traveller")
    assert first.text == "Lost my bag\n\nAcme Air lost my bag and the app shows nothing"
    assert first.created_at == NOW - timedelta(hours=1)
    assert first.created_at.utcoffset() == timedelta(0)
    assert (first.likes, first.shares, first.replies, first.author_followers) == (2, 0, 0, None)
    assert first.url == f"https://itunes.apple.com/us/review?id={APP_ID}&type=Purple%20Software"
    assert {k: first.raw[k] for k in ("rating", "version", "country", "vote_count")} == {
        "rating": 1, "version": "4.2.0", "country": "us", "vote_count": 3,
    }  # fmt: skip
    assert mentions["8001"].raw["country"] == "gb"
    assert all(not b.problems and b.scope == "Acme Air" for b in batches)


def test_the_cursor_moves_only_once_a_country_is_fully_read(
    fake: FakeAppStore, httpserver: Any
) -> None:
    batches = fetch_batches(connector(httpserver.url_for("/")))
    with_cursor = [i for i, b in enumerate(batches) if b.state is not None]
    us_pages = [b for b in batches[: with_cursor[0]]]
    assert us_pages and all(b.state is None for b in us_pages)
    us_done, gb_done = (batches[i].state for i in with_cursor)
    newest_us = {"updated": "2026-11-22T11:00:00.000000Z", "id": "9001"}
    assert us_done == {"app_id": APP_ID, "countries": {"us": newest_us}}
    assert gb_done["countries"] == {
        "us": newest_us, "gb": {"updated": "2026-11-22T08:00:00.000000Z", "id": "8001"},
    }  # fmt: skip
    assert "127.0.0.1" not in json.dumps(batches[with_cursor[-1]].state)


def test_a_page_with_one_review_is_a_dict_not_a_list(fake: FakeAppStore, httpserver: Any) -> None:
    fake.reviews = {"us": [review("7001", "Solo", "Only one review", hours_ago=2)]}
    fake.app_entry_first = False
    url = httpserver.url_for(f"/us/rss/customerreviews/page=1/id={APP_ID}/sortby=mostrecent/json")
    assert isinstance(requests.get(url, timeout=5).json()["feed"]["entry"], dict)
    mentions = [m for b in fetch_batches(connector(httpserver.url_for("/"))) for m in b.mentions]
    assert [(m.native_id, m.text) for m in mentions] == [("7001", "Solo\n\nOnly one review")]


def test_an_app_without_reviews_yields_nothing(
    fake: FakeAppStore, httpserver: Any, workspace: Callable, opened: Callable
) -> None:
    fake.reviews = {"us": [], "gb": []}
    assert fetch_batches(connector(httpserver.url_for("/"))) == []
    assert fake.pages_served == [("us", 1), ("gb", 1)]
    summary = run(workspace(connectors=[config_entry(httpserver)]))
    assert (summary.errors, summary.fetched) == ([], 0)
    assert opened().cursors("appstore") == {}


def test_pages_option_caps_the_read(fake: FakeAppStore, httpserver: Any) -> None:
    batches = fetch_batches(connector(httpserver.url_for("/"), pages=1, countries=["us"]))
    assert fake.pages_served == [("us", 1)]
    assert sorted(m.native_id for b in batches for m in b.mentions) == ["9001", "9002"]
    assert batches[-1].state["countries"]["us"]["id"] == "9001"


def test_second_run_adds_no_keys_and_stops_past_cursor_minus_lookback(
    fake: FakeAppStore, httpserver: Any, workspace: Callable, opened: Callable
) -> None:
    path = workspace(connectors=[config_entry(httpserver)])
    first = run(path)
    assert (first.errors, first.new_mentions) == ([], 5)
    fake.pages_served.clear()
    second = run(path, minutes=10)
    assert (second.errors, second.new_mentions) == ([], 0)
    # Page 2 holds 9005, 30 h old: past (newest 11:00 - 1 day), so page 3 is not asked for.
    assert fake.pages_served == [("us", 1), ("us", 2), ("gb", 1), ("gb", 2)]
    assert second.fetched == 4  # 9005 is older than the lookback window: not re-yielded
    fake.reviews["us"].insert(0, review("9010", "Gate change", "No notice", hours_ago=0.1))
    third = run(path, minutes=20)
    assert (third.errors, third.new_mentions) == ([], 1)
    cursor = json.loads(opened().cursors("appstore")["Acme Air"])
    assert cursor["countries"]["us"]["id"] == "9010"


def test_lookback_rereads_record_a_snapshot_when_votes_grow(
    fake: FakeAppStore, httpserver: Any, workspace: Callable, opened: Callable
) -> None:
    path = workspace(connectors=[config_entry(httpserver)])
    run(path)
    fake.reviews["us"][0] = review("9001", "Lost my bag", "Acme Air lost my bag and the app "
                                   "shows nothing", hours_ago=1, rating=1, vote_sum=7,
                                   vote_count=9)  # fmt: skip
    later = run(path, minutes=60)
    assert (later.errors, later.new_mentions) == ([], 0)
    store = opened()
    rows = store._rows(
        "SELECT likes, observed_at FROM snapshots WHERE mention_key = ? ORDER BY observed_at",
        ["appstore:9001"],
    )
    assert [r["likes"] for r in rows] == [2, 7]
    assert store._rows("SELECT likes FROM mentions WHERE key = 'appstore:9001'") == [{"likes": 7}]


def test_one_bad_review_is_skipped_with_its_location(fake: FakeAppStore, httpserver: Any) -> None:
    fake.reviews["us"][1]["im:rating"] = {"label": "five"}
    del fake.reviews["us"][3]["id"]
    fake.reviews["us"][4]["updated"] = {"label": "last week"}
    batches = fetch_batches(connector(httpserver.url_for("/"), countries=["us"]))
    assert sorted(m.native_id for b in batches for m in b.mentions) == ["9001"]
    assert [p for b in batches for p in b.problems] == [
        "us page 1 entry 2: review 9002: rating 'five' is not 1 to 5",
        "us page 2 entry 0: no id",
        "us page 2 entry 1: review 9005: no valid 'updated' time",
    ]


def test_bad_reviews_reach_the_run_summary_and_the_rest_is_stored(
    fake: FakeAppStore, httpserver: Any, workspace: Callable, opened: Callable
) -> None:
    fake.reviews["gb"][0]["im:rating"] = {"label": "0"}
    summary = run(workspace(connectors=[config_entry(httpserver)]))
    assert summary.errors == ["connector appstore: gb page 1 entry 0: review 8001: rating '0' "
                              "is not 1 to 5"]  # fmt: skip
    assert summary.new_mentions == 4


def _fault(status: int, body: str, headers: dict[str, str] | None = None) -> Callable:
    return lambda request: Response(body, status=status, headers=headers or {},
                                    content_type="application/json")  # fmt: skip


@pytest.mark.parametrize(
    ("handler", "message"),
    [
        (_fault(429, "", {"Retry-After": "120"}),
         "rate limited (HTTP 429); next try after 2026-11-22 13:02 UTC"),
        (_fault(503, "Service Unavailable"), "/us/rss/customerreviews/page=1/"),
        (_fault(200, '{"feed": {"entry": ['), "malformed JSON in the response"),
        (_fault(200, '{"errors": ["unknown app"]}'), "malformed payload (no ['feed'])"),
        (_fault(200, '{"feed": {"entry": "nope"}}'), "['feed']['entry'] is not a list"),
    ],
)  # fmt: skip
def test_a_fault_is_reported_and_the_cursor_stays(
    handler: Callable, message: str, fake: FakeAppStore, httpserver: Any,
    workspace: Callable, opened: Callable,
) -> None:  # fmt: skip
    path = workspace(connectors=[config_entry(httpserver)])
    run(path)
    cursors = opened().cursors("appstore")
    httpserver.clear()
    httpserver.expect_request(ALL).respond_with_handler(handler)
    summary = run(path, minutes=60)
    [error] = summary.errors
    assert error.startswith("connector appstore: ") and message in error
    assert opened().cursors("appstore") == cursors


def test_a_failure_on_a_later_page_keeps_earlier_pages_but_not_the_cursor(
    fake: FakeAppStore, httpserver: Any, workspace: Callable, opened: Callable
) -> None:
    def flaky(request: Request) -> Response:
        if "/page=2/" in request.path:
            return Response("upstream connect error", status=502)
        return fake._feed(request)

    httpserver.clear()
    httpserver.expect_request(ALL).respond_with_handler(flaky)
    path = workspace(connectors=[config_entry(httpserver)])
    summary = run(path)
    assert [e.split(": ", 1)[1] for e in summary.errors] == [
        f"{httpserver.host}:{httpserver.port}/us/rss/customerreviews/page=2/id={APP_ID}"
        "/sortby=mostrecent/json: HTTP 502"
    ]
    assert summary.new_mentions == 2  # page 1 was committed before page 2 failed
    assert opened().cursors("appstore") == {}
    httpserver.clear()
    fake.serve(httpserver)
    again = run(path, minutes=10)
    assert (again.errors, again.new_mentions) == ([], 3)
    assert set(json.loads(opened().cursors("appstore")["Acme Air"])["countries"]) == {"us", "gb"}


def test_with_two_brands_the_brand_option_is_required(httpserver: Any, workspace: Callable) -> None:
    brands = [
        {"name": "Acme Air", "terms": ["acme air"]},
        {"name": "Acme Rail", "terms": ["acme rail"]},
    ]
    with pytest.raises(ConfigError) as caught:
        load_config(workspace(brands=brands, connectors=[config_entry(httpserver)]))
    assert caught.value.errors == [
        "connectors[0].brand: is required when more than one brand is configured"
    ]
    entry = config_entry(httpserver, brand="Acme Bus", app_id="12ab")
    with pytest.raises(ConfigError) as caught:
        load_config(workspace(brands=brands, connectors=[entry]))
    assert caught.value.errors == [
        "connectors[0].brand: 'Acme Bus' is not a configured brand",
        "connectors[0].app_id: must be the app's numeric App Store id, like 123456789",
    ]


def test_the_brand_option_picks_the_brand_and_its_cursor(
    fake: FakeAppStore, httpserver: Any
) -> None:
    rail = Brand("Acme Rail", ("acme rail",))
    conn = connector(httpserver.url_for("/"), brands=[BRAND, rail], brand="acme rail")
    batches = list(conn.fetch(FetchContext(now=NOW)))
    assert {b.scope for b in batches} == {"Acme Rail"}
    assert {m.brand for b in batches for m in b.mentions} == {"Acme Rail"}


def test_a_cursor_of_another_app_is_ignored(fake: FakeAppStore, httpserver: Any) -> None:
    stale = json.dumps({"app_id": "999", "countries": {
        "us": {"updated": NOW.isoformat(), "id": "1"}}})  # fmt: skip
    batches = fetch_batches(connector(httpserver.url_for("/"), countries=["us"]), stale)
    assert len([m for b in batches for m in b.mentions]) == 4
    assert ("us", 3) in fake.pages_served


def test_cli_run_json_exits_zero(
    fake: FakeAppStore, httpserver: Any, workspace: Callable,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    path = workspace(connectors=[config_entry(httpserver)])
    assert main(["run", "--json", "--config", str(path)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["errors"], summary["new_mentions"]) == ([], 5)
