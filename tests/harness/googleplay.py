"""Harness and fake of Google Play's reviews RPC (batchexecute `oCPfdb`) for `googleplay`.

Where the wire format comes from (Google does not document this endpoint):

- Request: `POST /_/PlayStoreUi/data/batchexecute?hl={lang}&gl={country}` with the form field
  `f.req=[[["oCPfdb","[null,[2,{sort},[{count}(,null,\\"{token}\\")],null,[null,{score},...,
  {device}]],[\\"{app_id}\\",7]]",null,"generic"]]]`: google-play-scraper 1.2.7,
  constants/request.py (`Formats.Reviews`). The fake decodes that form and answers from it.
- Answer: the XSSI prefix `)]}'` and a blank line, then one JSON array (no chunk lengths:
  the library sends no `rt=c`) whose first frame is `["wrb.fr","oCPfdb","<payload JSON>",null,
  null,null,"generic"]`, followed by `["di",..]` and `["af.httprm",..]` frames. The payload is
  `[[review, ...], [null, "<token>"], null]`. Reviews at `payload[0]`: both scrapers
  (JoMingyu features/reviews.py, facundoolano lib/reviews.js) and a published capture of the live
  site agree. The token: the Python library reads `payload[-2][-1]`, the Node one and the capture
  `payload[1][1]`; those agree only if the payload has a third element, so the fake sends one
  (null: its content is not known). On the last page the token slot is null.
- A review item, by the library's `ElementSpecs.Review` map (constants/element.py): `[0]` id,
  `[1][0]` user name, `[1][1][3][2]` avatar URL, `[2]` stars, `[4]` text, `[5]` `[epoch seconds,
  nanos]`, `[6]` thumbs-up, `[7]` developer reply `[null, text, [epoch seconds, nanos]]` or
  null, `[10]` app version.
- Errors: an error frame has a null payload and a status at index 5; Play's rate limiting
  arrives as a 200 naming `com.google.play.gateway.proto.PlayGatewayError` (the library's
  utils/request.py checks for it; JoMingyu/google-play-scraper issue #209).

tests/test_connector_googleplay.py runs the library's own `reviews()` against this fake (in a
throwaway interpreter) to check it parses the same reviews and tokens.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs

from werkzeug import Request, Response

from tests.conftest import NOW

APP_ID = "com.acmeair.app"
RPC_PATH = "/_/PlayStoreUi/data/batchexecute"
XSSI = ")]}'\n\n"


def rid(n: int) -> str:
    """A review id shaped like Play's current ones (a UUID)."""
    return f"5c1e0b7a-2d4f-4e8a-9b6c-{n:012d}"


def review(
    n: int, content: str | None, *, hours_ago: float, author: str = "traveller", score: int = 2,
    thumbs: int = 0, version: str | None = "4.2.0", reply: str | None = None,
    reply_hours_ago: float | None = None,
) -> list[Any]:  # fmt: skip
    """One review item, positional like Play's."""
    at = NOW - timedelta(hours=hours_ago)
    answer = None
    if reply is not None:
        answered = NOW - timedelta(hours=hours_ago if reply_hours_ago is None else reply_hours_ago)
        answer = [None, reply, stamp(answered)]
    avatar = [None, 2, None, [None, None, f"https://play-lh.googleusercontent.com/a-/A{n}"]]
    return [rid(n), [author, avatar], score, None, content, stamp(at), thumbs, answer,
            None, None, version, None, None]  # fmt: skip


def stamp(moment: datetime) -> list[int]:
    """Play's `[epoch seconds, nanos]` time."""
    return [int(moment.timestamp()), 123_000_000]


def default_reviews() -> list[list[Any]]:
    """Reviews newest first: two pages of three; one by the brand's own account; one old."""
    return [
        review(1, "Acme Air lost my bag and the app shows nothing", hours_ago=1, score=1,
               thumbs=2, reply="Sorry! Please DM us your file reference.", reply_hours_ago=0.5),
        review(2, "Booking was easy and the crew lovely", hours_ago=2, score=5, author="flyer22"),
        review(3, "Acme Air: new routes to Lisbon", hours_ago=3, score=5, author="AcmeAir"),
        review(4, "Crashes when I open my boarding pass", hours_ago=5, score=1, thumbs=1,
               version=None),
        review(5, "Fine for check-in", hours_ago=30, score=3),
    ]  # fmt: skip


def envelope(payload: str | None, status: list[Any] | None = None) -> str:
    """A batchexecute answer around one `oCPfdb` frame."""
    frame = ["wrb.fr", "oCPfdb", payload, None, None, status, "generic"]
    return XSSI + json.dumps([frame, ["di", 93], ["af.httprm", 92, "-5516455143232553520", 23]])


def answer(body: str, status: int = 200) -> Response:
    return Response(body, status=status, content_type="application/json; charset=utf-8")


class FakeGooglePlay:
    """The reviews RPC of APP_ID, paged `page_size` at a time; `reviews` may be edited.

    `calls` records each request as decoded from its form: lang, country, app_id, sort, count
    and token (None on a first page)."""

    def __init__(self, page_size: int = 3, token_prefix: str = "CpEBCo4BKmgK-_"):
        self.page_size = page_size
        self.token_prefix = token_prefix
        self.reviews = default_reviews()
        self.calls: list[dict[str, Any]] = []
        self.prefix = ""

    def serve(self, server: Any, prefix: str = "") -> FakeGooglePlay:
        self.prefix = prefix
        server.expect_request(prefix + RPC_PATH, method="POST").respond_with_handler(self.handle)
        return self

    def handle(self, request: Request) -> Response:
        call = decode(request)
        self.calls.append(call)
        if call["app_id"] != APP_ID:
            return answer(envelope(None, [5]))  # Play's NOT_FOUND-style error frame
        offset = 0
        if call["token"] is not None:
            if not call["token"].startswith(self.token_prefix):
                return answer(envelope(None, [3]))  # INVALID_ARGUMENT-style error frame
            offset = int(call["token"][len(self.token_prefix) :])
        end = offset + min(call["count"], self.page_size)
        items = self.reviews[offset:end]
        token = f"{self.token_prefix}{end}" if end < len(self.reviews) else None
        return answer(envelope(json.dumps([items, [None, token], None])))


def decode(request: Request) -> dict[str, Any]:
    """What a reviews request asks for, read from its `f.req` form field."""
    form = parse_qs(request.get_data(as_text=True))
    rpc = json.loads(form["f.req"][0])[0][0]
    assert rpc[0] == "oCPfdb", rpc
    args = json.loads(rpc[1])
    paging = args[1][2]
    return {
        "lang": request.args.get("hl"),
        "country": request.args.get("gl"),
        "app_id": args[2][0],
        "sort": args[1][1],
        "count": paging[0],
        "token": paging[2] if len(paging) > 2 else None,
        "content_type": request.headers.get("Content-Type"),
    }


class GooglePlayHarness:
    type = "googleplay"
    env: ClassVar[dict[str, str]] = {}
    http = True

    def options(self, base_url: str, tmp_path: Path) -> dict[str, Any]:
        return {"type": "googleplay", "app_id": APP_ID, "base_url": base_url}

    def serve(self, server: Any) -> None:
        FakeGooglePlay().serve(server)


HARNESS = GooglePlayHarness()
