"""The mastodon connector with the real Mastodon.py client against a fake Mastodon instance."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import mastodon
import pytest
from requests.structures import CaseInsensitiveDict
from werkzeug import Response

import reputation.connectors.mastodon as module
from reputation.brands import Brand
from reputation.cli import main
from reputation.config import ConfigError, load_config
from reputation.connectors import FetchContext, SourceError, encode_state
from reputation.connectors.mastodon import (
    MastodonConnector,
    hashtags_for,
    plain_text,
    retry_at,
    search_queries,
    snowflake,
)
from reputation.models import Mention
from reputation.pipeline import run_once
from reputation.store import Store
from reputation.timeutil import parse_time
from tests.conftest import ACME, NOW
from tests.harness import checked_connector
from tests.harness.mastodon import (
    BASE,
    GRUMPY,
    INSTANCE_PATH,
    TAG_PATH,
    TOKEN,
    TRAVELER,
    FakeMastodon,
    account,
    default_statuses,
    hashtag,
    mention,
    reblog_of,
    status,
)

TIMELINE = "/api/v1/timelines/tag/acmeair"
DAY = timedelta(days=1)


@pytest.fixture
def fake(httpserver: Any) -> FakeMastodon:
    return FakeMastodon().install(httpserver)


def connector(base_url: str, brand: Brand = ACME, **options: Any) -> MastodonConnector:
    """A connector whose options went through the same checks as a config file's."""
    entry = {"base_url": base_url, "limit": 5, "timeout": "2s", **options}
    return checked_connector(MastodonConnector, entry, [brand], name="masto")


def configure(workspace: Callable, base_url: str, **options: Any) -> Any:
    entry = {"type": "mastodon", "name": "masto", "base_url": base_url, "limit": 5,
             "timeout": "1s", **options}  # fmt: skip
    return load_config(workspace(connectors=[entry]))


def saved(config: Any) -> tuple[dict[str, str], int]:
    store = Store.open(config.database)
    try:
        return store.cursors("masto"), store._rows("SELECT COUNT(*) AS n FROM mentions")[0]["n"]
    finally:
        store.close()


def sid(fake: FakeMastodon, sequence: int) -> str:
    return fake.get(sequence)["id"]


def test_the_module_uses_mastodon_py() -> None:
    # connectors/mastodon.py must not shadow the library it is named after.
    assert module.Mastodon is mastodon.Mastodon
    assert "site-packages" in (mastodon.__file__ or "")


def test_config_checks_search_token_hashtags_and_brands(workspace: Callable) -> None:
    with pytest.raises(ConfigError) as caught:
        configure(workspace, "https://mastodon.social", search=True, hashtags=["acme air", "#ok"])
    assert caught.value.errors == [
        "connectors[0].hashtags: 'acme air' is not a hashtag (letters, digits, _)",
        "connectors[0].search: needs access_token_env: Mastodon searches post text only for a "
        "logged-in account",
    ]
    with pytest.raises(ConfigError) as caught:
        load_config(workspace(
            brands=[{"name": "Acme Air", "terms": ["@acmeair"]}],
            connectors=[{"type": "mastodon"}],
        ))  # fmt: skip
    assert caught.value.errors == [
        "connectors[0].hashtags: brand 'Acme Air' has no term usable as a hashtag; list "
        "hashtags or turn on search"
    ]
    config = configure(workspace, "https://mastodon.social", limit=40)
    options = config.connectors[0].options
    assert (options["search"], options["max_pages"], options["lookback"]) == (False, 10, DAY)


def test_hashtags_and_queries_come_from_brand_terms() -> None:
    brand = Brand("Acme", ("#AcmeAir", "acme air", "Acme-Air", "@acmeair", "Acme  Airlines"))
    assert hashtags_for(brand) == ["acmeair", "acmeairlines"]
    assert search_queries(brand) == ["#AcmeAir", '"acme air"', "Acme-Air", "@acmeair",
                                     '"Acme Airlines"']  # fmt: skip


def test_plain_text_unwraps_mastodon_markup() -> None:
    content = (
        f"<p>{mention('acmeair')} lost my bag {hashtag('AcmeAir')}</p><p>see "
        '<a href="https://example.com/a/long/path" rel="nofollow noopener" target="_blank">'
        '<span class="invisible">https://</span><span class="ellipsis">example.com/a/lo'
        '</span><span class="invisible">ng/path</span></a> &lt;3 &amp; more<br>bye</p>'
    )
    # A decoded "<" or ">" is the author's text, dropped so normalize cannot take it for markup.
    assert plain_text(content) == (
        "@acmeair lost my bag #AcmeAir see https://example.com/a/long/path 3 & more bye"
    )


def test_two_pages_become_mentions_and_the_brands_reply(
    fake: FakeMastodon, httpserver: Any
) -> None:
    batches = list(connector(httpserver.url_for("/")).fetch(FetchContext(now=NOW)))
    timeline = fake.calls(TIMELINE)
    since = str(snowflake(NOW - DAY))
    # Newest first, 5 a page: the second page asks below the oldest id of the first; the
    # third answer is empty (Mastodon sends a "next" link with every non-empty page).
    assert [r["args"] for r in timeline] == [
        {"since_id": since, "limit": "5"},
        {"since_id": since, "limit": "5", "max_id": sid(fake, 4)},
        {"since_id": since, "limit": "5", "max_id": sid(fake, 1)},
    ]
    assert all(r["authorization"] is None for r in fake.requests)
    [batch] = batches
    found: dict[str, Mention] = {m.native_id: m for m in batch.mentions}
    # 3 is the excluded "acme air fryer", 5 the brand's own post, 7 only has the hashtag
    # (no brand term), 9 is not tagged; 4 is the brand's reply to 1.
    assert sorted(found) == sorted(sid(fake, n) for n in (1, 2, 6, 8))
    first = found[sid(fake, 1)]
    assert first.text == fake.get(1)["content"]
    assert (first.source, first.author, first.author_followers, first.lang) == (
        "mastodon", "traveler", 120, "en",
    )  # fmt: skip
    assert (first.likes, first.shares, first.replies, first.parent_id) == (4, 2, 1, None)
    # The status's page on the instance read, whatever `url` the status gave.
    assert first.url == f"{httpserver.url_for('/').rstrip('/')}/@traveler/{sid(fake, 1)}"
    assert first.created_at == BASE and first.created_at.tzinfo == UTC
    raw = json.loads(json.dumps(first.raw))  # JSON-safe
    assert (raw["id"], raw["account"]["acct"]) == (sid(fake, 1), "traveler")
    assert parse_time(raw["created_at"]) == BASE
    impostor = found[sid(fake, 6)]  # "acmeair" of another server is not the brand
    assert (impostor.author, impostor.parent_id) == ("acmeair@evil.example", sid(fake, 1))
    assert found[sid(fake, 2)].author == "flyer@other.example"
    [reply] = batch.replies
    assert (reply.native_id, reply.parent_id, reply.author) == (
        sid(fake, 4), sid(fake, 1), "acmeair",
    )  # fmt: skip
    assert (batch.scope, batch.state) == (
        "Acme Air", {"tags": {"acmeair": sid(fake, 8)}},
    )  # fmt: skip
    assert batch.problems == [] and batch.notes == []


def test_a_post_with_only_the_hashtag_needs_the_hashtag_as_a_term(
    fake: FakeMastodon, httpserver: Any
) -> None:
    brand = Brand("Acme Air", ("acme air", "#acmeair"), ("acme air fryer",), ("@acmeair",))
    [batch] = list(connector(httpserver.url_for("/"), brand).fetch(FetchContext(now=NOW)))
    found = {m.native_id for m in batch.mentions}
    assert sid(fake, 7) in found
    # The fryer post also carries #acmeair, which is now a term outside the exclusion.
    assert sid(fake, 3) in found


@pytest.mark.parametrize(
    ("own", "reply_from", "mention_from"),
    [
        ("acmeair@localhost", 4, 6),  # the local account, named with the instance's host
        ("@acmeair@evil.example", 6, 4),  # a remote account, by its full handle
    ],
)
def test_own_accounts_by_handle_forms(
    own: str, reply_from: int, mention_from: int, fake: FakeMastodon, httpserver: Any
) -> None:
    brand = Brand("Acme Air", ("acme air", "@acmeair"), ("acme air fryer",), (own,))
    [batch] = list(connector(httpserver.url_for("/"), brand).fetch(FetchContext(now=NOW)))
    assert [r.native_id for r in batch.replies] == [sid(fake, reply_from)]
    assert sid(fake, mention_from) in {m.native_id for m in batch.mentions}


def test_reblogs_are_skipped_for_their_original(fake: FakeMastodon, httpserver: Any) -> None:
    fake.include_reblogs = True  # Mastodon leaves them out of tag timelines; others may not
    boost = reblog_of(10, 100, GRUMPY, fake.get(1))
    fake.statuses.append(boost)
    [batch] = list(connector(httpserver.url_for("/")).fetch(FetchContext(now=NOW)))
    ids = [m.native_id for m in batch.mentions]
    assert boost["id"] not in ids and ids.count(sid(fake, 1)) == 1
    assert batch.state["tags"]["acmeair"] == boost["id"]


def test_second_run_reads_back_to_the_lookback_boundary_and_adds_nothing(
    fake: FakeMastodon, httpserver: Any, workspace: Callable
) -> None:
    config = configure(workspace, httpserver.url_for("/"))
    first = run_once(config, now=NOW)
    assert (first.errors, first.new_mentions) == ([], 4)
    cursors, _ = saved(config)
    assert json.loads(cursors["Acme Air"]) == {"tags": {"acmeair": sid(fake, 8)}}
    fake.requests.clear()
    later = NOW + timedelta(minutes=10)
    second = run_once(config, now=later)
    assert (second.errors, second.new_mentions) == ([], 0)
    # The saved cursor is newer than now - lookback, so the window is re-read from there.
    assert {r["args"]["since_id"] for r in fake.calls(TIMELINE)} == {str(snowflake(later - DAY))}
    assert saved(config)[0] == cursors


def test_a_run_after_the_window_sends_the_saved_cursor_as_since_id(
    fake: FakeMastodon, httpserver: Any, workspace: Callable
) -> None:
    config = configure(workspace, httpserver.url_for("/"))
    run_once(config, now=NOW)
    late = NOW + timedelta(days=2)
    new = status(11, 0, TRAVELER, f"<p>Acme Air found my bag {hashtag('acmeair')}</p>",
                 base=late - timedelta(hours=1))  # fmt: skip
    fake.statuses.append(new)
    fake.requests.clear()
    summary = run_once(config, now=late)
    assert (summary.errors, summary.new_mentions) == ([], 1)
    assert {r["args"]["since_id"] for r in fake.calls(TIMELINE)} == {sid(fake, 8)}
    assert json.loads(saved(config)[0]["Acme Air"]) == {"tags": {"acmeair": new["id"]}}


def test_lookback_rereads_record_grown_counts_and_late_federated_posts(
    fake: FakeMastodon, httpserver: Any, workspace: Callable
) -> None:
    config = configure(workspace, httpserver.url_for("/"))
    run_once(config, now=NOW)
    fake.get(1).update(favourites_count=30, reblogs_count=7, replies_count=3)
    # A remote post that reached the instance late: its id follows its own publication time,
    # below the saved cursor, so only the window re-read finds it.
    late = status(12, 15, GRUMPY, f"<p>Acme Air, same here {hashtag('acmeair')}</p>")
    fake.statuses.append(late)
    assert int(late["id"]) < int(sid(fake, 8))
    summary = run_once(config, now=NOW + timedelta(hours=1))
    assert (summary.errors, summary.new_mentions) == ([], 1)
    store = Store.open(config.database)
    try:
        key = f"mastodon:{sid(fake, 1)}"
        snapshots = store._rows(
            "SELECT likes, shares, replies FROM snapshots WHERE mention_key = ?"
            " ORDER BY observed_at", [key],
        )  # fmt: skip
        [row] = store._rows("SELECT likes, shares FROM mentions WHERE key = ?", [key])
        keys = {r["key"] for r in store._rows("SELECT key FROM mentions")}
        replies = store._rows("SELECT key, mention_key FROM replies")
    finally:
        store.close()
    assert snapshots == [
        {"likes": 4, "shares": 2, "replies": 1}, {"likes": 30, "shares": 7, "replies": 3},
    ]  # fmt: skip
    assert row == {"likes": 30, "shares": 7}
    assert f"mastodon:{late['id']}" in keys
    assert replies == [{"key": f"mastodon:{sid(fake, 4)}", "mention_key": key}]


def test_the_reach_of_reblogged_statuses_is_looked_up_once_per_growth(
    fake: FakeMastodon, httpserver: Any, workspace: Callable
) -> None:
    lost = sid(fake, 1)  # reblogged twice
    fake.rebloggers[lost] = [account("fan", followers=700), account("big", "x.example", 90_000)]
    config = configure(workspace, httpserver.url_for("/"), reach_lookups=10)
    summary = run_once(config, now=NOW)
    assert (summary.errors, summary.warnings) == ([], [])
    asked = [r["path"] for r in fake.requests if r["path"].endswith("/reblogged_by")]
    assert asked == [f"/api/v1/statuses/{lost}/reblogged_by"]  # the only reblogged status
    store = Store.open(config.database)
    rows = store._rows("SELECT shares, reshare_reach FROM snapshots WHERE mention_key = ?",
                       [f"mastodon:{lost}"])  # fmt: skip
    store.close()
    assert rows == [{"shares": 2, "reshare_reach": 90_700}]  # the same observation, completed
    assert json.loads(saved(config)[0]["Acme Air"])["reach"] == {lost: 2}

    fake.requests.clear()
    run_once(config, now=NOW + timedelta(minutes=10))
    assert [r for r in fake.requests if r["path"].endswith("/reblogged_by")] == []
    fake.get(1)["reblogs_count"] = 3
    run_once(config, now=NOW + timedelta(minutes=20))
    assert [r for r in fake.requests if r["path"].endswith("/reblogged_by")] != []


def test_reach_lookups_are_capped_per_run_and_a_status_gone_meanwhile_is_skipped(
    fake: FakeMastodon, httpserver: Any
) -> None:
    fake.get(2)["reblogs_count"], fake.get(8)["reblogs_count"] = 5, 9  # and 1 has 2
    gone, kept = sid(fake, 8), sid(fake, 2)
    fake.rebloggers[kept] = [account("fan", followers=700)]
    conn = connector(httpserver.url_for("/"), reach_lookups=2)
    batches = []
    for batch in conn.fetch(FetchContext(now=NOW)):
        batches.append(batch)
        fake.statuses = [s for s in fake.statuses if s["id"] != gone]  # deleted after the read
    asked = [r["path"].split("/")[4] for r in fake.requests if r["path"].endswith("/reblogged_by")]
    assert asked == [gone, kept]  # most reblogged first, two at most
    *_, first, second = batches
    assert (first.mentions, first.problems) == ([], [])
    [reached] = second.mentions
    assert (reached.native_id, reached.reshare_reach, reached.shares) == (kept, 700, 5)
    assert second.state is not None and second.state["reach"] == {gone: 9, kept: 5}


def test_search_with_a_token_pages_by_offset_down_to_the_boundary(
    fake: FakeMastodon, httpserver: Any, workspace: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MASTODON_TOKEN", TOKEN)
    old = status(13, 0, TRAVELER, "<p>Acme Air lost my bag in 2024</p>", tags=(),
                 base=NOW - timedelta(days=3))  # fmt: skip
    fake.statuses.append(old)
    config = configure(workspace, httpserver.url_for("/"), access_token_env="MASTODON_TOKEN",
                       search=True, limit=3)  # fmt: skip
    summary = run_once(config, now=NOW)
    assert summary.errors == []
    assert {r["authorization"] for r in fake.requests} == {f"Bearer {TOKEN}"}
    searches = [r["args"] for r in fake.calls("/api/v2/search")]
    for args in searches:
        assert (args["type"], args["limit"]) == ("statuses", "3")
        assert "resolve" not in args  # no remote lookups
    # Newest first, 3 a page. '"acme air"' matches 9 6 5 | 4 3 2 | 1 13, and 13 is older than
    # the window: it stops there. "@acmeair" matches 8 7 6 | 5 4 3 | 2 1 | (empty).
    by_query = [(a["q"], a.get("offset")) for a in searches]
    assert by_query == [
        ('"acme air"', None),
        ('"acme air"', "3"),
        ('"acme air"', "6"),
        ("@acmeair", None),
        ("@acmeair", "3"),
        ("@acmeair", "6"),
        ("@acmeair", "8"),
    ]
    # Mastodon.py reads the server version once before it sends an offset.
    assert len(fake.calls("/api/v1/instance/")) == 1
    cursors, count = saved(config)
    assert json.loads(cursors["Acme Air"]) == {
        "search": {'"acme air"': sid(fake, 9), "@acmeair": sid(fake, 8)},
        "tags": {"acmeair": sid(fake, 8)},
    }
    # Search adds 9 (not tagged); 13 is older than the lookback window.
    assert count == 5 and summary.new_mentions == 5
    store = Store.open(config.database)
    try:
        keys = {r["key"] for r in store._rows("SELECT key FROM mentions")}
    finally:
        store.close()
    assert f"mastodon:{sid(fake, 9)}" in keys and f"mastodon:{old['id']}" not in keys


def test_search_without_a_usable_token_is_a_clear_error(
    fake: FakeMastodon, httpserver: Any, workspace: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = configure(workspace, httpserver.url_for("/"), access_token_env="MASTODON_TOKEN",
                       search=True)  # fmt: skip
    monkeypatch.delenv("MASTODON_TOKEN", raising=False)
    summary = run_once(config, now=NOW)
    assert summary.errors == [
        "connector masto: environment variable MASTODON_TOKEN is not set (access token)"
    ]
    assert fake.requests == []
    monkeypatch.setenv("MASTODON_TOKEN", "revoked-token")
    summary = run_once(config, now=NOW)
    host = urlsplit(httpserver.url_for("/")).netloc
    assert summary.errors == [
        f"connector masto: {host}/api/v2/search: HTTP 401 (The access token is invalid)"
    ]
    assert "revoked-token" not in json.dumps(summary.as_dict())
    # The hashtag feed before it was stored with its cursor; search has none yet.
    cursors, count = saved(config)
    assert json.loads(cursors["Acme Air"]) == {"tags": {"acmeair": sid(fake, 8)}}
    assert count == 4


def _answer(body: str, status: int = 200) -> Callable[[Any], Response]:
    def handler(request: Any) -> Response:
        return Response(body, status=status, content_type="application/json")

    return handler


FAULTS: dict[str, tuple[Any, str]] = {
    "429": (None, "rate limited (HTTP 429); next try after "),
    "500": (_answer("Internal Server Error", 500), "HTTP 500"),
    "503 json": (_answer('{"error": "Mastodon is down for maintenance"}', 503),
                 "HTTP 503 (Mastodon is down for maintenance)"),
    "422": (_answer('{"error": "Validation failed: limit"}', 422),
            "HTTP 422 (Validation failed: limit)"),
    "bad json": (_answer('[{"id": "1", '), "malformed JSON in the response"),
    "object": (_answer("{}"), "malformed payload (not a list of statuses)"),
    "error object": (_answer('{"error": "nope"}'), "malformed payload (not a list of statuses)"),
    "no id": (_answer('[{"content": "Acme Air"}]'),
              "malformed payload (a status without a numeric id)"),
    "not numeric": (_answer('[{"id": "9hdk3Lq", "content": "Acme Air"}]'),
                    "malformed payload (a status without a numeric id)"),
    "timeout": (None, "no answer within 1s"),
}  # fmt: skip


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_fault_is_reported_and_the_cursor_stays(
    fault: str, fake: FakeMastodon, httpserver: Any, blackhole: str, workspace: Callable
) -> None:
    config = configure(workspace, httpserver.url_for("/"))
    assert run_once(config, now=NOW).errors == []
    before = saved(config)
    fake.statuses.append(status(14, 100, TRAVELER, f"<p>Acme Air again {hashtag('acmeair')}</p>"))
    handler, expected = FAULTS[fault]
    if fault == "timeout":
        config = configure(workspace, blackhole)
    elif fault == "429":
        fake.limited = True
    else:
        httpserver.clear()
        httpserver.expect_request(TAG_PATH).respond_with_handler(handler)
    later = NOW + timedelta(hours=1)
    summary = run_once(config, now=later)
    host = urlsplit(config.connectors[0].options["base_url"]).netloc
    [error] = summary.errors
    assert error.startswith(f"connector masto: {host}{TIMELINE}: {expected}")
    assert saved(config) == before
    if fault == "429":
        store = Store.open(config.database)
        try:
            until = parse_time(store.source_state("masto")["retry_at"])
        finally:
            store.close()
        # X-RateLimit-Reset is 300 s after the server's Date: the retry is 5 minutes later.
        assert later + timedelta(seconds=298) <= until <= later + timedelta(seconds=301)


def test_a_failing_second_page_keeps_nothing_of_that_feed(
    fake: FakeMastodon, httpserver: Any, workspace: Callable
) -> None:
    config = configure(workspace, httpserver.url_for("/"))
    httpserver.clear()

    def handler(request: Any) -> Response:
        if request.args.get("max_id"):
            return Response("upstream timeout", status=504)
        return fake.tag_timeline(request)

    httpserver.expect_request(TAG_PATH).respond_with_handler(handler)
    summary = run_once(config, now=NOW)
    host = urlsplit(httpserver.url_for("/")).netloc
    assert summary.errors == [f"connector masto: {host}{TIMELINE}: HTTP 504"]
    assert saved(config) == ({}, 0)


def test_retry_time_from_mastodon_headers() -> None:
    now = datetime(2026, 11, 22, 13, 0, tzinfo=UTC)
    mastodon_style = CaseInsensitiveDict({
        "X-RateLimit-Reset": "2026-11-22T12:05:00.000000Z",  # the server's clock
        "Date": "Sun, 22 Nov 2026 11:59:00 GMT",
    })  # fmt: skip
    assert retry_at(mastodon_style, now) == now + timedelta(minutes=6)
    assert retry_at(CaseInsensitiveDict({**mastodon_style, "Retry-After": "120"}), now) == (
        now + timedelta(minutes=2)
    )
    no_date = CaseInsensitiveDict({"X-RateLimit-Reset": "2026-11-22T13:05:00Z"})
    assert retry_at(no_date, now) == now + timedelta(minutes=5)
    assert retry_at(CaseInsensitiveDict({"X-RateLimit-Reset": "soon"}), now) is None


def test_a_bad_status_is_skipped_and_reported_once(fake: FakeMastodon, httpserver: Any) -> None:
    fake.get(2)["created_at"] = "yesterday-ish"
    del fake.get(8)["account"]["acct"]
    conn = connector(httpserver.url_for("/"))
    [batch] = list(conn.fetch(FetchContext(now=NOW)))
    where = f"{urlsplit(httpserver.url_for('/')).netloc}{TIMELINE}"
    assert batch.problems == [
        f"{where}: status {sid(fake, 8)}: has no account.acct",
        f"{where}: status {sid(fake, 2)}: has no created_at time",
    ]
    assert sorted(m.native_id for m in batch.mentions) == sorted([sid(fake, 1), sid(fake, 6)])
    saved = {"Acme Air": encode_state(batch.state or {})}
    again = list(conn.fetch(FetchContext(now=NOW, cursors=saved)))
    assert [p for b in again for p in b.problems] == []


def test_more_pages_than_allowed_is_a_warning(
    fake: FakeMastodon, httpserver: Any, workspace: Callable
) -> None:
    summary = run_once(configure(workspace, httpserver.url_for("/"), max_pages=1), now=NOW)
    host = urlsplit(httpserver.url_for("/")).netloc
    assert summary.errors == []
    assert summary.warnings == [
        f"connector masto: {host}{TIMELINE}: stopped after 1 pages; statuses older than the "
        "last page read may be missing (raise max_pages)"
    ]
    assert len(fake.calls(TIMELINE)) == 1


def test_cli_run_prints_a_json_summary_and_exits_0(
    httpserver: Any, workspace: Callable, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeMastodon(default_statuses(datetime.now(UTC) - timedelta(hours=3)))
    fake.install(httpserver)
    path = workspace(connectors=[{"type": "mastodon", "name": "masto", "timeout": "2s",
                                  "base_url": httpserver.url_for("/")}])  # fmt: skip
    assert main(["run", "--json", "--config", str(path)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["errors"], summary["new_mentions"]) == ([], 4)
    # One page of eight at the default limit, then the empty answer that ends the feed.
    assert [r["args"].get("limit") for r in fake.calls(TIMELINE)] == ["40", "40"]


def test_a_missing_token_variable_fails_before_any_request(
    fake: FakeMastodon, httpserver: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MASTODON_TOKEN", raising=False)
    conn = connector(httpserver.url_for("/"), access_token_env="MASTODON_TOKEN")
    with pytest.raises(SourceError, match="MASTODON_TOKEN is not set"):
        list(conn.fetch(FetchContext(now=NOW)))
    assert fake.requests == []


def test_a_failing_version_lookup_before_search_paging_names_the_instance_endpoint(
    fake: FakeMastodon, httpserver: Any, workspace: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MASTODON_TOKEN", TOKEN)
    config = configure(workspace, httpserver.url_for("/"), access_token_env="MASTODON_TOKEN",
                       search=True, limit=3)  # fmt: skip
    httpserver.clear()  # the failing instance endpoint first: the first match answers
    httpserver.expect_request(INSTANCE_PATH).respond_with_response(
        Response("<html>Bad Gateway</html>", status=502)
    )
    fake.install(httpserver)
    summary = run_once(config, now=NOW)
    host = urlsplit(httpserver.url_for("/")).netloc
    assert summary.errors == [f"connector masto: {host}/api/v1/instance: HTTP 502"]
    # Only the first page of the first query was read; the tag feed was kept with its cursor.
    assert [a["args"].get("offset") for a in fake.calls("/api/v2/search")] == [None]
    cursors, count = saved(config)
    assert json.loads(cursors["Acme Air"]) == {"tags": {"acmeair": sid(fake, 8)}}
    assert count == 4
