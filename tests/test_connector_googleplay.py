"""The Google Play connector against a fake reviews RPC on 127.0.0.1, with the real library's
protocol pieces; its TLS isolation checked in fresh interpreters."""

from __future__ import annotations

import http.server
import json
import re
import shutil
import ssl
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from werkzeug import Request, Response

from reputation.brands import Brand
from reputation.cli import main
from reputation.config import ConfigError, load_config
from reputation.connectors import encode_state
from reputation.connectors.googleplay import Formats, GooglePlayConnector
from reputation.models import Reply
from reputation.pipeline import RunSummary, run_once
from tests.conftest import ACME, NOW, REPO
from tests.harness import checked_connector, fetch_batches
from tests.harness.googleplay import (
    APP_ID,
    RPC_PATH,
    FakeGooglePlay,
    answer,
    envelope,
    review,
    rid,
)

BRAND = ACME
ALL = re.compile(".*")


@pytest.fixture
def fake(httpserver: Any) -> FakeGooglePlay:
    return FakeGooglePlay().serve(httpserver)


def connector(base_url: str, brands: list[Brand] | None = None, **raw: Any) -> GooglePlayConnector:
    """A connector whose options went through the same checks as a config file's."""
    entry = {"app_id": APP_ID, "base_url": base_url, **raw}
    return checked_connector(GooglePlayConnector, entry, brands)


def config_entry(httpserver: Any, **extra: Any) -> dict[str, Any]:
    return {"type": "googleplay", "app_id": APP_ID, "base_url": httpserver.url_for("/"),
            "timeout": "2s", **extra}  # fmt: skip


def run(path: Path, minutes: float = 0) -> RunSummary:
    return run_once(load_config(path), now=NOW + timedelta(minutes=minutes))


def test_two_pages_become_mentions_and_the_developer_reply_a_reply(
    fake: FakeGooglePlay, httpserver: Any
) -> None:
    batches = fetch_batches(connector(httpserver.url_for("/")))
    # Review 3 is written by the brand's own account ("AcmeAir"): dropped.
    assert [m.native_id for b in batches for m in b.mentions] == [rid(1), rid(2), rid(4), rid(5)]
    first_page, second_page = fake.calls
    assert first_page == {
        "lang": "en",
        "country": "us",
        "app_id": APP_ID,
        "sort": 2,
        "count": 200,
        "token": None,
        "content_type": "application/x-www-form-urlencoded;charset=UTF-8",
    }
    assert (second_page["count"], second_page["token"]) == (197, "CpEBCo4BKmgK-_3")
    mention = batches[0].mentions[0]
    assert (mention.key, mention.brand, mention.author) == (
        f"googleplay:{rid(1)}", "Acme Air", "traveller",
    )  # fmt: skip
    assert mention.text == "Acme Air lost my bag and the app shows nothing"
    assert mention.created_at == (NOW - timedelta(hours=1)).replace(microsecond=0)
    assert mention.created_at.utcoffset() == timedelta(0)
    assert (mention.likes, mention.shares, mention.replies) == (2, 0, 1)
    assert (mention.author_followers, mention.lang, mention.parent_id) == (None, None, None)
    assert mention.url == (f"https://play.google.com/store/apps/details?id={APP_ID}"
                           f"&reviewId={rid(1)}")  # fmt: skip
    assert {k: mention.raw[k] for k in ("score", "reviewCreatedVersion", "appVersion")} == {
        "score": 1, "reviewCreatedVersion": "4.2.0", "appVersion": "4.2.0",
    }  # fmt: skip
    assert batches[1].mentions[0].raw["appVersion"] is None
    assert batches[0].replies == [
        Reply(source="googleplay", native_id=f"{rid(1)}-reply", brand="Acme Air",
              parent_id=rid(1), text="Sorry! Please DM us your file reference.",
              created_at=(NOW - timedelta(minutes=30)).replace(microsecond=0),
              author="Acme Air", url=mention.url)
    ]  # fmt: skip
    assert [m.replies for m in batches[0].mentions[1:]] == [0]
    assert [b.scope for b in batches] == ["Acme Air", "Acme Air"]
    assert batches[0].state is None, "page 2 was unread when page 1 was stored"
    assert batches[1].state == {
        "app_id": APP_ID, "lang": "en", "country": "us",
        "at": "2026-11-22T11:00:00.000000Z", "id": rid(1),
    }  # fmt: skip
    assert not any(b.problems or b.notes for b in batches)


def test_lang_and_country_go_to_play(fake: FakeGooglePlay, httpserver: Any) -> None:
    fetch_batches(connector(httpserver.url_for("/"), lang="pt_BR", country="br"))
    assert {(c["lang"], c["country"]) for c in fake.calls} == {("pt_BR", "br")}


def test_exclusions_do_not_apply_to_reviews_of_the_app(
    fake: FakeGooglePlay, httpserver: Any
) -> None:
    # One app is one brand: a review of it that names "acme air fryer" is still about it.
    fake.reviews = [review(9, "Thought this was the Acme Air fryer app", hours_ago=1)]
    mentions = [m for b in fetch_batches(connector(httpserver.url_for("/"))) for m in b.mentions]
    assert [m.native_id for m in mentions] == [rid(9)]


def test_a_token_with_form_special_characters_survives_the_round_trip(
    httpserver: Any,
) -> None:
    fake = FakeGooglePlay(token_prefix="Ab+/cD==&x").serve(httpserver)
    batches = fetch_batches(connector(httpserver.url_for("/")))
    assert fake.calls[1]["token"] == "Ab+/cD==&x3"
    assert len([m for b in batches for m in b.mentions]) == 4


def test_base_url_with_a_path_and_no_change_to_the_library(httpserver: Any) -> None:
    fake = FakeGooglePlay().serve(httpserver, prefix="/play-proxy")
    before = Formats.Reviews.URL_FORMAT
    batches = fetch_batches(connector(httpserver.url_for("/play-proxy/")))
    assert len(fake.calls) == 2 and len([m for b in batches for m in b.mentions]) == 4
    assert before == Formats.Reviews.URL_FORMAT
    assert Formats.Reviews.build("en", "us") == (
        "https://play.google.com/_/PlayStoreUi/data/batchexecute?hl=en&gl=us"
    )


def test_max_reviews_caps_the_read(fake: FakeGooglePlay, httpserver: Any) -> None:
    batches = fetch_batches(connector(httpserver.url_for("/"), max_reviews=2))
    assert [(c["count"], c["token"]) for c in fake.calls] == [(2, None)]
    assert [m.native_id for b in batches for m in b.mentions] == [rid(1), rid(2)]
    assert batches[-1].state["id"] == rid(1)
    assert batches[-1].notes == []  # a first run is a backfill: the cap is expected


def test_max_reviews_reached_before_the_last_run_is_a_warning(
    fake: FakeGooglePlay, httpserver: Any
) -> None:
    conn = connector(httpserver.url_for("/"), max_reviews=2)
    cursor = encode_state(fetch_batches(conn)[-1].state)
    fake.reviews[:0] = [review(n, f"new {n}", hours_ago=(n - 19) / 10) for n in (20, 21, 22)]
    batches = fetch_batches(conn, cursor)
    assert [m.native_id for b in batches for m in b.mentions] == [rid(20), rid(21)]
    assert batches[-1].notes == ["max_reviews (2) was reached before the reviews read last run; "
                                 "reviews in between were not read"]  # fmt: skip
    assert batches[-1].state["id"] == rid(20)


def test_second_run_adds_no_keys_and_stops_past_cursor_minus_lookback(
    fake: FakeGooglePlay, httpserver: Any, workspace: Callable, opened: Callable
) -> None:
    path = workspace(connectors=[config_entry(httpserver)])
    first = run(path)
    assert (first.errors, first.warnings, first.new_mentions) == ([], [], 4)
    cursor = opened().cursors("googleplay")["Acme Air"]
    fake.calls.clear()
    second = run(path, minutes=10)
    assert (second.errors, second.new_mentions) == ([], 0)
    # Play takes no "since": every run starts at the newest review, without a token.
    assert [c["token"] for c in fake.calls] == [None, "CpEBCo4BKmgK-_3"]
    assert second.fetched == 3  # reviews 1, 2, 4 re-read; 5 is older than the window
    assert opened().cursors("googleplay")["Acme Air"] == cursor
    fake.reviews.insert(0, review(10, "Gate change with no notice", hours_ago=0.1))
    fake.calls.clear()
    third = run(path, minutes=20)
    assert (third.errors, third.new_mentions) == ([], 1)
    assert json.loads(opened().cursors("googleplay")["Acme Air"])["id"] == rid(10)


def test_a_short_lookback_reads_one_page(fake: FakeGooglePlay, httpserver: Any) -> None:
    conn = connector(httpserver.url_for("/"), lookback="90m")
    cursor = encode_state(fetch_batches(conn)[-1].state)
    fake.calls.clear()
    batches = fetch_batches(conn, cursor)
    # The window is 09:30-11:00; page 1 reaches 09:00, so page 2 is not asked for.
    assert [c["token"] for c in fake.calls] == [None]
    assert [m.native_id for b in batches for m in b.mentions] == [rid(1), rid(2)]
    assert encode_state(batches[-1].state) == cursor


def test_lookback_rereads_record_a_snapshot_when_thumbs_up_grow(
    fake: FakeGooglePlay, httpserver: Any, workspace: Callable, opened: Callable
) -> None:
    path = workspace(connectors=[config_entry(httpserver)])
    run(path)
    fake.reviews[3] = review(4, "Crashes when I open my boarding pass", hours_ago=5, score=1,
                             thumbs=9, version=None)  # fmt: skip
    later = run(path, minutes=60)
    assert (later.errors, later.new_mentions) == ([], 0)
    store = opened()
    rows = store._rows(
        "SELECT likes FROM snapshots WHERE mention_key = ? ORDER BY observed_at",
        [f"googleplay:{rid(4)}"],
    )
    assert [r["likes"] for r in rows] == [1, 9]
    assert store._rows("SELECT likes FROM mentions WHERE key = ?",
                      [f"googleplay:{rid(4)}"]) == [{"likes": 9}]  # fmt: skip


def test_the_developer_reply_lands_in_the_replies_table(
    fake: FakeGooglePlay, httpserver: Any, workspace: Callable, opened: Callable
) -> None:
    path = workspace(connectors=[config_entry(httpserver)])
    run(path)
    run(path, minutes=10)  # the re-read must not duplicate it
    rows = opened()._rows("SELECT key, mention_key, brand, author, text, created_at FROM replies")
    assert rows == [{
        "key": f"googleplay:{rid(1)}-reply", "mention_key": f"googleplay:{rid(1)}",
        "brand": "Acme Air", "author": "Acme Air",
        "text": "Sorry! Please DM us your file reference.",
        "created_at": "2026-11-22T11:30:00.000000Z",
    }]  # fmt: skip


def test_one_bad_item_is_skipped_with_its_location(fake: FakeGooglePlay, httpserver: Any) -> None:
    fake.reviews[1][0] = None
    fake.reviews[2] = "not a review"
    fake.reviews[3][5] = ["yesterday", 0]
    batches = fetch_batches(connector(httpserver.url_for("/")))
    assert [m.native_id for b in batches for m in b.mentions] == [rid(1), rid(5)]
    assert [p for b in batches for p in b.problems] == [
        "page 1 item 1: no reviewId",
        "page 1 item 2: is not a list",
        f"page 2 item 0: review {rid(4)}: no valid time",
    ]


def test_a_page_where_no_item_reads_is_an_error(
    fake: FakeGooglePlay, httpserver: Any, workspace: Callable, opened: Callable
) -> None:
    # The library maps an unknown layout to all-None fields; that must not pass as "nothing".
    fake.reviews = [[{"id": n}] for n in range(3)]
    summary = run(workspace(connectors=[config_entry(httpserver)]))
    [error] = summary.errors
    assert error.endswith("no review on page 1 could be read (page 1 item 0: no reviewId); "
                          "has Play changed its format?")  # fmt: skip
    assert opened().cursors("googleplay") == {}


@pytest.mark.parametrize("payload", [None, "null", "[]", "[[],null,null]"])
def test_an_app_without_reviews_is_a_warning_not_an_error(
    payload: str | None, httpserver: Any, workspace: Callable, opened: Callable
) -> None:
    httpserver.expect_request(RPC_PATH).respond_with_handler(
        lambda request: answer(envelope(payload))
    )
    summary = run(workspace(connectors=[config_entry(httpserver)]))
    assert (summary.errors, summary.fetched) == ([], 0)
    assert summary.warnings == [f"connector googleplay: Play returned no reviews for {APP_ID} "
                                "(en-us); if the app has reviews, check app_id"]  # fmt: skip
    assert opened().cursors("googleplay") == {}


def _fault(status: int, body: str, headers: dict[str, str] | None = None) -> Callable:
    return lambda request: Response(body, status=status, headers=headers or {},
                                    content_type="application/json")  # fmt: skip


GATEWAY = envelope(None, [8, None, [["type.googleapis.com/com.google.play.gateway.proto."
                                      "PlayGatewayError", [None, None, 429]]]])  # fmt: skip


@pytest.mark.parametrize(
    ("handler", "message"),
    [
        (_fault(429, "", {"Retry-After": "120"}),
         "batchexecute: rate limited (HTTP 429); next try after 2026-11-22 13:02 UTC"),
        (_fault(200, GATEWAY),
         "rate limited (PlayGatewayError in the answer); next try after 2026-11-22 13:15 UTC"),
        (_fault(500, "Internal Server Error"), "/_/PlayStoreUi/data/batchexecute: HTTP 500"),
        (_fault(503, "<html>unusual traffic</html>"), "batchexecute: HTTP 503"),
        (_fault(200, '{"data": [{"id": '), "malformed payload (no batchexecute envelope)"),
        (_fault(200, "<!doctype html><title>Before you continue</title>"),
         "malformed payload (no batchexecute envelope)"),
        (_fault(200, ")]}'\n\n[[\"wrb.fr\",\"oCPfdb\",\"[[]"), "malformed JSON in the response"),
        (_fault(200, ")]}'\n\n[[\"er\",null,null,null,null,400]]"), "no reviews frame"),
        (_fault(200, envelope(None, [3])), "Play answered with error [3]"),
        (_fault(200, envelope("[[[\"a\"")), "the reviews frame is not a JSON list"),
        (_fault(200, envelope('{"reviews": []}')), "the reviews frame is not a JSON list"),
    ],
)  # fmt: skip
def test_a_fault_is_reported_and_the_cursor_stays(
    handler: Callable, message: str, fake: FakeGooglePlay, httpserver: Any,
    workspace: Callable, opened: Callable,
) -> None:  # fmt: skip
    path = workspace(connectors=[config_entry(httpserver)])
    run(path)
    cursors = opened().cursors("googleplay")
    count = opened()._rows("SELECT COUNT(*) AS n FROM mentions")[0]["n"]
    httpserver.clear()
    httpserver.expect_request(ALL).respond_with_handler(handler)
    summary = run(path, minutes=60)
    [error] = summary.errors
    assert error.startswith("connector googleplay: ") and message in error, error
    assert opened().cursors("googleplay") == cursors
    assert opened()._rows("SELECT COUNT(*) AS n FROM mentions")[0]["n"] == count


def test_a_port_that_never_answers_times_out(
    fake: FakeGooglePlay, httpserver: Any, workspace: Callable, opened: Callable, blackhole: str
) -> None:
    path = workspace(connectors=[config_entry(httpserver)])
    run(path)
    cursors = opened().cursors("googleplay")
    entry = {**config_entry(httpserver), "base_url": blackhole + "/", "timeout": "1s"}
    summary = run(workspace(connectors=[entry]), minutes=60)
    # The library's own urlopen has no timeout: reaching this line at all shows ours works.
    [error] = summary.errors
    assert error.endswith("/_/PlayStoreUi/data/batchexecute: no answer within 1s")
    assert opened().cursors("googleplay") == cursors


def test_a_failure_on_page_2_keeps_page_1_but_not_the_cursor(
    fake: FakeGooglePlay, httpserver: Any, workspace: Callable, opened: Callable
) -> None:
    def flaky(request: Request) -> Response:
        if b"CpEBCo4BKmgK" in request.get_data():
            return Response("upstream connect error", status=502)
        return fake.handle(request)

    httpserver.clear()
    httpserver.expect_request(ALL).respond_with_handler(flaky)
    path = workspace(connectors=[config_entry(httpserver)])
    summary = run(path)
    assert [e.split(": ", 1)[1] for e in summary.errors] == [
        f"{httpserver.host}:{httpserver.port}/_/PlayStoreUi/data/batchexecute: HTTP 502"
    ]
    assert summary.new_mentions == 2  # page 1 was committed before page 2 failed
    assert opened().cursors("googleplay") == {}
    httpserver.clear()
    fake.serve(httpserver)
    again = run(path, minutes=10)
    assert (again.errors, again.new_mentions) == ([], 2)
    assert json.loads(opened().cursors("googleplay")["Acme Air"])["id"] == rid(1)


def test_config_checks_brand_package_and_codes(httpserver: Any, workspace: Callable) -> None:
    brands = [
        {"name": "Acme Air", "terms": ["acme air"]},
        {"name": "Acme Rail", "terms": ["acme rail"]},
    ]
    with pytest.raises(ConfigError) as caught:
        load_config(workspace(brands=brands, connectors=[config_entry(httpserver)]))
    assert caught.value.errors == [
        "connectors[0].brand: is required when more than one brand is configured"
    ]
    entry = config_entry(httpserver, brand="Acme Bus", app_id="acme air", lang="english",
                         country="USA")  # fmt: skip
    with pytest.raises(ConfigError) as caught:
        load_config(workspace(brands=brands, connectors=[entry]))
    assert caught.value.errors == [
        "connectors[0].brand: 'Acme Bus' is not a configured brand",
        "connectors[0].app_id: must be the app's package name, like com.acmeair.app",
        "connectors[0].lang: 'english' is not a language code like en or pt_BR",
        "connectors[0].country: 'USA' is not a two-letter country code",
    ]


def test_the_brand_option_picks_the_brand_and_its_cursor(
    fake: FakeGooglePlay, httpserver: Any
) -> None:
    rail = Brand("Acme Rail", ("acme rail",))
    batches = fetch_batches(
        connector(httpserver.url_for("/"), brands=[BRAND, rail], brand="acme rail")
    )
    assert {b.scope for b in batches} == {"Acme Rail"}
    assert {m.brand for b in batches for m in b.mentions} == {"Acme Rail"}


def test_a_cursor_of_another_app_or_country_is_ignored(
    fake: FakeGooglePlay, httpserver: Any
) -> None:
    conn = connector(httpserver.url_for("/"))
    for other in ({"app_id": "com.other.app"}, {"country": "gb"}):
        stale = json.dumps({"app_id": APP_ID, "lang": "en", "country": "us",
                            "at": NOW.isoformat(), "id": rid(1), **other})  # fmt: skip
        assert len([m for b in fetch_batches(conn, stale) for m in b.mentions]) == 4


def test_cli_run_json_exits_zero(
    fake: FakeGooglePlay, httpserver: Any, workspace: Callable,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    path = workspace(connectors=[config_entry(httpserver)])
    assert main(["run", "--json", "--config", str(path)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["errors"], summary["new_mentions"]) == ([], 4)


# -- the library in a fresh interpreter -------------------------------------------------------


def python(script: str, *args: str, env: dict[str, str] | None = None) -> Any:
    """Run `script` in a new interpreter at the repo root; return the JSON it prints last."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        cwd=REPO, capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


LIBRARY_READS_THE_FAKE = """
    import json, sys
    from datetime import UTC
    from google_play_scraper import Sort, reviews
    from google_play_scraper.constants.request import Formats

    # A throwaway process: pointing the library's shared URL at the fake is fine here.
    path = "_/PlayStoreUi/data/batchexecute?hl={lang}&gl={country}"
    Formats.Reviews.URL_FORMAT = sys.argv[1] + path
    found, token = reviews(sys.argv[2], sort=Sort.NEWEST, count=int(sys.argv[3]))
    print(json.dumps({
        "token": token.token,
        "reviews": [
            {"id": r["reviewId"], "thumbs": r["thumbsUpCount"], "reply": r["replyContent"],
             "naive_at": r["at"].isoformat(), "at": r["at"].astimezone(UTC).isoformat()}
            for r in found
        ],
    }))
"""


def test_the_library_itself_reads_the_fake_like_the_connector(
    fake: FakeGooglePlay, httpserver: Any
) -> None:
    env = {"PATH": "/usr/bin:/bin", "TZ": "America/Los_Angeles", "NO_PROXY": "127.0.0.1"}
    seen = python(LIBRARY_READS_THE_FAKE, httpserver.url_for("/"), APP_ID, "4", env=env)
    assert [c["token"] for c in fake.calls] == [None, "CpEBCo4BKmgK-_3"], "it paged"
    assert seen["token"] == "CpEBCo4BKmgK-_4"
    assert [r["id"] for r in seen["reviews"]] == [rid(n) for n in (1, 2, 3, 4)]
    assert seen["reviews"][0]["thumbs"] == 2
    assert seen["reviews"][0]["reply"] == "Sorry! Please DM us your file reference."
    # The library's `at` is naive local time (here UTC-8), not UTC: the connector reads the
    # epoch itself.
    ours = {
        m.native_id: m
        for b in fetch_batches(connector(httpserver.url_for("/")))
        for m in b.mentions
    }
    first = seen["reviews"][0]
    assert datetime.fromisoformat(first["at"]) == ours[rid(1)].created_at
    # The naive time is the point here: what the library hands out, UTC-8 local time.
    naive = datetime(2026, 11, 22, 3, 0)  # noqa: DTZ001
    assert datetime.fromisoformat(first["naive_at"]) == naive


TLS_CHECK = """
    import json, ssl, sys, urllib.request

    def https_refused(url):
        try:
            urllib.request.urlopen(url, timeout=10).read()
        except ssl.SSLCertVerificationError:
            return True
        except OSError as exc:  # urllib wraps it in URLError
            if isinstance(getattr(exc, "reason", None), ssl.SSLCertVerificationError):
                return True
            raise
        return False

    before = ssl._create_default_https_context
    if sys.argv[1] == "plain-import":
        import google_play_scraper  # noqa: F401
        used = 0
    else:
        import reputation.connectors
        from reputation.connectors.base import FetchContext
        from reputation.brands import Brand
        from datetime import datetime, UTC, timedelta
        cls = reputation.connectors.CONNECTORS["googleplay"]
        options = {"app_id": "com.acmeair.app", "base_url": sys.argv[3], "lang": "en",
                   "country": "us", "max_reviews": 200, "timeout": timedelta(seconds=5),
                   "lookback": timedelta(days=1)}
        conn = cls("googleplay", options, [Brand("Acme Air", ("acme air",))], {})
        ctx = FetchContext(now=datetime.now(UTC))
        used = sum(len(b.mentions) for b in conn.fetch(ctx))
    context = ssl._create_default_https_context()
    print(json.dumps({
        "library_loaded": "google_play_scraper.utils.request" in sys.modules,
        "used": used,
        "unchanged": ssl._create_default_https_context is before,
        "is_default": ssl._create_default_https_context is ssl.create_default_context,
        "verify_mode": int(context.verify_mode),
        "check_hostname": context.check_hostname,
        "self_signed_refused": https_refused(sys.argv[2]),
    }))
"""


@pytest.fixture
def self_signed_https(tmp_path: Path) -> Iterator[str]:
    """An HTTPS server on 127.0.0.1 with a self-signed certificate nobody trusts."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command to make a self-signed certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    class Ok(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the stdlib's name
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_importing_the_library_plainly_turns_tls_checks_off(self_signed_https: str) -> None:
    """The control: without the connector's isolation the process trusts any certificate."""
    seen = python(TLS_CHECK, "plain-import", self_signed_https)
    assert seen["library_loaded"] and not seen["unchanged"]
    assert (seen["verify_mode"], seen["check_hostname"]) == (int(ssl.CERT_NONE), False)
    assert seen["self_signed_refused"] is False


def test_the_connector_leaves_tls_checks_on_after_import_and_use(
    fake: FakeGooglePlay, httpserver: Any, self_signed_https: str
) -> None:
    seen = python(TLS_CHECK, "connector", self_signed_https, httpserver.url_for("/"))
    # No own accounts in this brand: all five reviews are mentions.
    assert seen["library_loaded"] and seen["used"] == 5 and len(fake.calls) == 2
    assert seen["unchanged"] and seen["is_default"]
    assert (seen["verify_mode"], seen["check_hostname"]) == (int(ssl.CERT_REQUIRED), True)
    assert seen["self_signed_refused"] is True


def test_times_are_utc_from_the_epoch(fake: FakeGooglePlay, httpserver: Any) -> None:
    fake.reviews = [review(7, "x", hours_ago=0)]
    fake.reviews[0][5] = [1_795_000_000, 999_000_000]
    [mention] = [m for b in fetch_batches(connector(httpserver.url_for("/"))) for m in b.mentions]
    assert mention.created_at == datetime(
        2026, 11, 18, 11, 6, 40, tzinfo=UTC
    )  # date -u -d @1795000000
