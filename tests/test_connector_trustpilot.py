"""The Trustpilot connector with requests against a fake Business Units API on 127.0.0.1."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from werkzeug import Response

from reputation.brands import Brand
from reputation.cli import main
from reputation.config import ConfigError, load_config
from reputation.connectors import SourceError
from reputation.connectors.trustpilot import TrustpilotConnector
from reputation.models import Reply
from reputation.pipeline import RunSummary, run_once
from tests.conftest import ACME, NOW
from tests.harness import checked_connector, fetch_batches
from tests.harness.trustpilot import API_KEY, DOMAIN, UNIT_ID, FakeTrustpilot, review

BRAND = ACME
ALL = re.compile(".*")
R1, R2, R3, R4, R5 = (f"a0000000000000000000000{i}" for i in range(1, 6))


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUSTPILOT_API_KEY", API_KEY)


@pytest.fixture
def fake(httpserver: Any) -> FakeTrustpilot:
    return FakeTrustpilot().serve(httpserver)


def connector(base_url: str, brands: list[Brand] | None = None, **raw: Any) -> TrustpilotConnector:
    """A connector whose options went through the same checks as a config file's."""
    entry = {"base_url": base_url, "per_page": 2, **raw}
    if "business_unit_id" not in raw:
        entry.setdefault("domain", DOMAIN)
    return checked_connector(TrustpilotConnector, entry, brands)


def config_entry(httpserver: Any, **extra: Any) -> dict[str, Any]:
    return {"type": "trustpilot", "domain": DOMAIN, "per_page": 2,
            "base_url": httpserver.url_for("/"), "timeout": "2s", **extra}  # fmt: skip


def run(path: Path, minutes: float = 0) -> RunSummary:
    return run_once(load_config(path), now=NOW + timedelta(minutes=minutes))


def older_reviews(fake: FakeTrustpilot) -> None:
    """Two more reviews, days old, so the feed runs to a fourth page of two."""
    fake.reviews += [
        review("b00000000000000000000006", "Old", "Meh", hours_ago=40),
        review("b00000000000000000000007", "Older", "Fine", hours_ago=50),
    ]


def test_pages_become_mentions_and_the_business_reply_a_reply(
    fake: FakeTrustpilot, httpserver: Any
) -> None:
    batches = fetch_batches(connector(httpserver.url_for("/")))
    mentions = {m.native_id: m for b in batches for m in b.mentions}
    assert sorted(mentions) == [R1, R2, R4, R5]  # R3 is the brand's own account
    first = mentions[R1]
    assert (first.key, first.brand, first.author) == (f"trustpilot:{R1}", "Acme Air", "Jane D.")
    assert first.text == "Lost my bag\n\nAcme Air lost my bag in Lisbon"
    assert first.created_at == NOW - timedelta(hours=1)
    assert first.created_at.utcoffset() == timedelta(0)
    assert (first.likes, first.shares, first.replies, first.author_followers) == (2, 0, 0, None)
    assert (first.lang, mentions[R5].lang) == ("en", "da")
    assert first.url == f"https://www.trustpilot.com/reviews/{R1}"
    assert (first.raw["stars"], first.raw["language"]) == (1, "en")
    assert [r for b in batches for r in b.replies] == [
        Reply(source="trustpilot", native_id=f"{R1}-reply", brand="Acme Air", parent_id=R1,
              text="So sorry! Please DM us your file reference.",
              created_at=NOW - timedelta(minutes=30), author="Acme Air Care", url=first.url)
    ]  # fmt: skip
    paths = [(r["path"], r["args"]) for r in fake.requests]
    reviews_path = f"/v1/business-units/{UNIT_ID}/reviews"
    assert paths == [("/v1/business-units/find", {"name": DOMAIN})] + [
        (reviews_path, {"orderBy": "createdat.desc", "perPage": "2", "page": str(n)})
        for n in (1, 2, 3)
    ]


def test_the_key_goes_in_the_apikey_header_only(fake: FakeTrustpilot, httpserver: Any) -> None:
    fetch_batches(connector(httpserver.url_for("/")))
    assert fake.requests and all(r["apikey"] == API_KEY for r in fake.requests)
    for request, _ in httpserver.log:
        assert API_KEY not in request.url


def test_a_business_unit_id_needs_no_lookup(fake: FakeTrustpilot, httpserver: Any) -> None:
    batches = fetch_batches(connector(httpserver.url_for("/"), business_unit_id=UNIT_ID))
    assert len([m for b in batches for m in b.mentions]) == 4
    assert all(r["path"].endswith("/reviews") for r in fake.requests)
    # Without the lookup the reply's author still comes from companyReply.
    assert [r.author for b in batches for r in b.replies] == ["Acme Air Care"]


def test_an_unknown_domain_is_a_source_error_naming_it(
    fake: FakeTrustpilot, httpserver: Any
) -> None:
    with pytest.raises(SourceError, match=r"business unit of 'nobody\.example'.*HTTP 404"):
        fetch_batches(connector(httpserver.url_for("/"), domain="nobody.example"))


def test_the_cursor_moves_with_the_last_page_read(fake: FakeTrustpilot, httpserver: Any) -> None:
    batches = fetch_batches(connector(httpserver.url_for("/")))
    assert [b.state is not None for b in batches] == [False, False, True]
    assert batches[-1].state == {
        "business_unit_id": UNIT_ID, "created_at": "2026-11-22T11:00:00.000000Z", "id": R1,
    }  # fmt: skip


def test_second_run_adds_no_keys_and_stops_past_cursor_minus_lookback(
    fake: FakeTrustpilot, httpserver: Any, workspace: Callable, opened: Callable
) -> None:
    older_reviews(fake)
    path = workspace(connectors=[config_entry(httpserver)])
    first = run(path)
    assert (first.errors, first.new_mentions) == ([], 6)
    assert [r["args"].get("page") for r in fake.requests] == [None, "1", "2", "3", "4"]
    fake.requests.clear()
    second = run(path, minutes=10)
    assert (second.errors, second.new_mentions) == ([], 0)
    # Page 3 reaches 40 h back, past (newest 11:00 - 1 day): page 4 is not asked for.
    assert [r["args"].get("page") for r in fake.requests] == [None, "1", "2", "3"]
    fake.reviews.insert(0, review("c00000000000000000000009", "Late", "Delayed", hours_ago=0.1))
    third = run(path, minutes=20)
    assert (third.errors, third.new_mentions) == ([], 1)
    cursor = json.loads(opened().cursors("trustpilot")["Acme Air"])
    assert cursor["id"] == "c00000000000000000000009"


def test_lookback_rereads_record_a_snapshot_and_keep_one_reply(
    fake: FakeTrustpilot, httpserver: Any, workspace: Callable, opened: Callable
) -> None:
    path = workspace(connectors=[config_entry(httpserver)])
    run(path)
    fake.reviews[0]["numberOfLikes"] = 9
    later = run(path, minutes=60)
    assert (later.errors, later.new_mentions) == ([], 0)
    store = opened()
    rows = store._rows(
        "SELECT likes FROM snapshots WHERE mention_key = ? ORDER BY observed_at",
        [f"trustpilot:{R1}"],
    )
    assert [r["likes"] for r in rows] == [2, 9]
    assert store._rows("SELECT key, mention_key, author FROM replies") == [
        {"key": f"trustpilot:{R1}-reply", "mention_key": f"trustpilot:{R1}",
         "author": "Acme Air Care"}
    ]  # fmt: skip


def test_no_reviews_yields_no_mentions(
    fake: FakeTrustpilot, httpserver: Any, workspace: Callable, opened: Callable
) -> None:
    fake.reviews = []
    assert [m for b in fetch_batches(connector(httpserver.url_for("/"))) for m in b.mentions] == []
    summary = run(workspace(connectors=[config_entry(httpserver)]))
    assert (summary.errors, summary.fetched) == ([], 0)
    assert opened().cursors("trustpilot") == {}


def test_one_bad_review_is_skipped_with_its_location(fake: FakeTrustpilot, httpserver: Any) -> None:
    fake.reviews[1]["createdAt"] = "yesterday"
    fake.reviews[3]["id"] = None
    fake.reviews[0]["companyReply"]["createdAt"] = None
    batches = fetch_batches(connector(httpserver.url_for("/")))
    assert sorted(m.native_id for b in batches for m in b.mentions) == [R1, R5]
    assert [r for b in batches for r in b.replies] == []
    assert [p for b in batches for p in b.problems] == [
        f"review {R1}: companyReply.createdAt is missing; reply skipped",
        f"reviews page 1 item 1: review {R2}: createdAt 'yesterday' is not an ISO 8601 time",
        "reviews page 2 item 1: no id",
    ]


def test_a_missing_key_names_the_variable(
    fake: FakeTrustpilot, httpserver: Any, workspace: Callable,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.delenv("TRUSTPILOT_API_KEY")
    monkeypatch.setenv("TP_KEY", "")
    path = workspace(connectors=[config_entry(httpserver, api_key_env="TP_KEY")])
    summary = run(path)
    assert summary.errors == [
        "connector trustpilot: TP_KEY is not set: put the Trustpilot API key in it"
    ]
    assert fake.requests == []


def test_a_wrong_key_fails_without_showing_it(
    fake: FakeTrustpilot, httpserver: Any, workspace: Callable,
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    monkeypatch.setenv("TRUSTPILOT_API_KEY", "tp-wrong-key-123")
    summary = run(workspace(connectors=[config_entry(httpserver)]))
    [error] = summary.errors
    assert error.endswith("/v1/business-units/find: HTTP 401")
    assert "tp-wrong-key-123" not in error + caplog.text


def _fault(status: int, body: str, headers: dict[str, str] | None = None) -> Callable:
    return lambda request: Response(body, status=status, headers=headers or {},
                                    content_type="application/json")  # fmt: skip


@pytest.mark.parametrize(
    ("handler", "message"),
    [
        (_fault(429, '{"message": "Too Many Requests"}', {"Retry-After": "120"}),
         "rate limited (HTTP 429); next try after 2026-11-22 13:02 UTC"),
        (_fault(500, "Internal Server Error"), f"/v1/business-units/{UNIT_ID}/reviews: HTTP 500"),
        (_fault(200, '{"reviews": [{"id": '), "reviews: malformed JSON in the response"),
        (_fault(200, '{"links": []}'), "reviews: malformed payload (no ['reviews'])"),
        (_fault(200, '{"reviews": {"id": "x"}}'), "['reviews'] is not a list"),
    ],
)  # fmt: skip
def test_a_fault_is_reported_and_the_cursor_stays(
    handler: Callable, message: str, fake: FakeTrustpilot, httpserver: Any,
    workspace: Callable, opened: Callable,
) -> None:  # fmt: skip
    path = workspace(connectors=[config_entry(httpserver, business_unit_id=UNIT_ID,
                                              domain=None)])  # fmt: skip
    run(path)
    cursors = opened().cursors("trustpilot")
    assert cursors
    httpserver.clear()
    httpserver.expect_request(ALL).respond_with_handler(handler)
    summary = run(path, minutes=60)
    [error] = summary.errors
    assert error.startswith("connector trustpilot: ") and message in error
    assert opened().cursors("trustpilot") == cursors


def test_a_rate_limited_lookup_stays_a_rate_limit(
    fake: FakeTrustpilot, httpserver: Any, workspace: Callable
) -> None:
    httpserver.clear()
    httpserver.expect_request(ALL).respond_with_handler(_fault(429, "{}", {"Retry-After": "60"}))
    summary = run(workspace(connectors=[config_entry(httpserver)]))
    assert summary.errors == [
        f"connector trustpilot: {httpserver.host}:{httpserver.port}/v1/business-units/find: "
        "rate limited (HTTP 429); next try after 2026-11-22 12:01 UTC"
    ]


def test_a_failure_on_a_later_page_keeps_earlier_pages_but_not_the_cursor(
    fake: FakeTrustpilot, httpserver: Any, workspace: Callable, opened: Callable
) -> None:
    def flaky(request: Any) -> Response:
        if request.args.get("page") == "2":
            return Response("upstream connect error", status=502)
        return fake._reviews(request)

    httpserver.clear()
    httpserver.expect_request(ALL).respond_with_handler(flaky)
    path = workspace(connectors=[config_entry(httpserver, business_unit_id=UNIT_ID,
                                              domain=None)])  # fmt: skip
    summary = run(path)
    assert [e.rsplit(": ", 1)[1] for e in summary.errors] == ["HTTP 502"]
    assert summary.new_mentions == 2  # page 1 was committed before page 2 failed
    assert opened().cursors("trustpilot") == {}
    httpserver.clear()
    fake.serve(httpserver)
    again = run(path, minutes=10)
    assert (again.errors, again.new_mentions) == ([], 2)
    assert json.loads(opened().cursors("trustpilot")["Acme Air"])["id"] == R1


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({}, ["connectors[0].brand: is required when more than one brand is configured"]),
        ({"brand": "Acme Air", "business_unit_id": UNIT_ID},
         ["connectors[0].domain: give business_unit_id or domain, not both"]),
        ({"brand": "Acme Air", "domain": None},
         ["connectors[0].business_unit_id: is required (or give domain, to look the business "
          "up)"]),
        ({"brand": "Acme Air", "api_key_env": API_KEY},
         ["connectors[0].api_key_env: must name an environment variable (letters, digits, _), "
          "not hold the secret itself; put the secret in the environment"]),
    ],
)  # fmt: skip
def test_config_checks(
    extra: dict[str, Any], expected: list[str], httpserver: Any, workspace: Callable
) -> None:
    brands = [
        {"name": "Acme Air", "terms": ["acme air"]},
        {"name": "Acme Rail", "terms": ["acme rail"]},
    ]
    with pytest.raises(ConfigError) as caught:
        load_config(workspace(brands=brands, connectors=[config_entry(httpserver, **extra)]))
    assert caught.value.errors == expected
    assert API_KEY not in str(caught.value)


def test_cli_run_json_exits_zero(
    fake: FakeTrustpilot, httpserver: Any, workspace: Callable,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    path = workspace(connectors=[config_entry(httpserver)])
    assert main(["run", "--json", "--config", str(path)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["errors"], summary["new_mentions"]) == ([], 4)
