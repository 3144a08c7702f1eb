"""The `googleplay` connector: Play Store reviews of one app, newest first, with developer replies.

Built on google-play-scraper 1.2.7, but not on its `reviews()` function. Reading the installed
source showed four problems with calling it as is:

- Importing the package runs `ssl._create_default_https_context = ssl._create_unverified_context`
  (google_play_scraper/utils/request.py), which turns off certificate checks for every urllib
  client in the process (slack-sdk included).
- Its transport is `urllib.request.urlopen(request)` with no timeout and no way to pass one;
  it retries every failure three times and sleeps 5, 10, 15 s on a `PlayGatewayError`.
- `reviews()` catches every exception from a page and returns what it has with token None, so
  a 429, a 500, a timeout or a garbled body all look like "no (more) reviews".
- Every URL is `PLAY_STORE_BASE_URL` ("https://play.google.com") formatted into class attributes
  at import time: pointing it elsewhere means rewriting module state that every caller shares.

So this module speaks the request/response protocol itself and reuses the library for the parts
that encode Google's private format: the endpoint and form body (`Formats.Reviews.build` and
`build_body`), the `)]}'` envelope pattern (`Regex.REVIEWS`), the positional field map of a
review (`ElementSpecs.Review`) and the sort code (`Sort.NEWEST`). The HTTP call goes through
`requests` with the configured timeout, its own verified TLS context and the project's 429 /
5xx handling; `base_url` replaces the library's host prefix in the URL of this call only, so no
library state changes. When Google moves a review field, a library upgrade fixes this module.

The library is imported once, when this module loads (during the connector registry's import at
start-up, before any client exists), by `_import_library`, which puts the process's default
HTTPS context back in a `finally` right after the import. The unverified context exists only
while that import statement runs; this connector never uses urllib.
tests/test_connector_googleplay.py checks this in a fresh interpreter, against a local TLS
server whose certificate nobody trusts.
"""

from __future__ import annotations

import json
import re
import ssl
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote, urlencode

import requests

from reputation.brands import Brand
from reputation.connectors.base import (
    HTTP_OPTIONS,
    BadItem,
    Batch,
    FetchContext,
    RateLimited,
    SourceError,
    brand_named,
    check_brand,
    check_time,
    classify,
)
from reputation.connectors.http import new_session, request, where
from reputation.models import Mention, Reply
from reputation.timeutil import iso, parse_time
from reputation.validate import Checker, Field

SOURCE = "googleplay"
PUBLIC_URL = "https://play.google.com"
# Community-reported ceiling of reviews per batchexecute call; Play may return fewer.
PAGE_SIZE = 200
_APP_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$")
_LANG = re.compile(r"^[a-z]{2,3}([_-][A-Za-z0-9]{2,4})?$")
_COUNTRY = re.compile(r"^[a-z]{2}$")
_LOCK = threading.Lock()


def _import_library() -> tuple[Any, Any, Any, Any, Any]:
    """Import the library's protocol pieces, keeping the process's default HTTPS context."""
    with _LOCK:
        ours = "google_play_scraper" not in sys.modules
        saved = ssl._create_default_https_context
        try:
            from google_play_scraper import Sort
            from google_play_scraper.constants.element import ElementSpecs
            from google_play_scraper.constants.regex import Regex
            from google_play_scraper.constants.request import PLAY_STORE_BASE_URL, Formats
        finally:
            # Only undo our own import: if someone imported it earlier, the choice was theirs.
            if ours:
                ssl._create_default_https_context = saved
    return Sort, ElementSpecs, Regex, Formats, PLAY_STORE_BASE_URL


Sort, ElementSpecs, Regex, Formats, LIBRARY_BASE_URL = _import_library()


@dataclass(frozen=True)
class _Review:
    """One review as read from a page: the library's fields plus UTC times."""

    native_id: str
    at: datetime
    fields: dict[str, Any]
    replied_at: datetime | None
    item: list[Any]


class GooglePlayConnector:
    """Reads the newest Play Store reviews of one app (one brand), and the developer's replies."""

    type: ClassVar[str] = "googleplay"
    OPTIONS: ClassVar[Mapping[str, Field]] = {
        "app_id": Field("str", required=True),
        "lang": Field("str", default="en"),
        "country": Field("str", default="us"),
        "brand": Field("str"),
        "max_reviews": Field("int", default=200, min=1),
        "base_url": Field("url", default=PUBLIC_URL),
        **HTTP_OPTIONS,
    }

    def __init__(
        self, name: str, options: Mapping[str, Any], brands: Sequence[Brand],
        env: Mapping[str, str],
    ):  # fmt: skip
        self.name = name
        self.options = options
        self.brands = list(brands)
        self.app_id = str(options["app_id"]).strip()
        self.lang = str(options["lang"])
        self.country = str(options["country"])
        self.max_reviews = options["max_reviews"]
        self.base_url = options["base_url"].rstrip("/")
        self.timeout = options["timeout"]
        self.lookback = options["lookback"]

    @classmethod
    def check_options(
        cls, values: Mapping[str, Any], path: str, check: Checker, brands: Sequence[Brand]
    ) -> None:
        """The brand must be known (and named when there are several); app_id, lang and
        country must look like a package name and codes (they go into the URL and body raw)."""
        check_brand(values, path, check, brands)
        app_id, lang, country = values.get("app_id"), values.get("lang"), values.get("country")
        if app_id is not None and not _APP_ID.match(str(app_id).strip()):
            check.error(f"{path}.app_id", "must be the app's package name, like com.acmeair.app")
        if lang is not None and not _LANG.match(str(lang)):
            check.error(f"{path}.lang",
                        f"{str(lang)[:20]!r} is not a language code like en or pt_BR")  # fmt: skip
        if country is not None and not _COUNTRY.match(str(country)):
            check.error(f"{path}.country",
                        f"{str(country)[:20]!r} is not a two-letter country code")  # fmt: skip

    def fetch(self, ctx: FetchContext) -> Iterator[Batch]:
        """Pages newest first until past (cursor - lookback), the last page or `max_reviews`;
        the brand's cursor moves with the last page read."""
        # They go into the URL and the body raw: check again, whoever built this connector.
        check = Checker()
        self.check_options(self.options, self.name, check, self.brands)
        if check.errors:
            raise SourceError("; ".join(check.errors))
        brand = brand_named(self.options, self.brands)
        mark = self._resume(ctx.state(brand.name, _check_state))
        cutoff = mark[0] - self.lookback if mark else None
        newest = mark
        url = self._url()
        place = where(url)
        session = new_session()
        token: str | None = None
        seen = page = 0
        while True:
            page += 1
            count = min(self.max_reviews - seen, PAGE_SIZE)
            # build_body pastes the token into an already form-encoded body: encode it first,
            # or a `+`, `/`, `=` or `&` in it reaches Play changed.
            body = Formats.Reviews.build_body(
                self.app_id, Sort.NEWEST.value, count, "null", "null",
                quote(token, safe="") if token else None,
            )  # fmt: skip
            items, next_token = _page(_post(session, url, body, self.timeout, ctx.now), place)
            batch = ctx.batch(brand.name)
            oldest: datetime | None = None
            for index, item in enumerate(items):
                with batch.item(f"page {page} item {index}") as it:
                    review = _read(item)
                    check_time(review.at, ctx.now, f"review {review.native_id}: time")
                if it.failed:
                    continue
                if newest is None or (review.at, review.native_id) > newest:
                    newest = (review.at, review.native_id)
                oldest = review.at if oldest is None else min(oldest, review.at)
                if cutoff is None or review.at >= cutoff:
                    self._add(batch, review, brand, ctx.now)
            if items and oldest is None:
                raise SourceError(
                    f"{place}: no review on page {page} could be read ({batch.problems[0]}); "
                    "has Play changed its format?"
                )
            seen += len(items)
            past_window = cutoff is not None and oldest is not None and oldest < cutoff
            capped = seen >= self.max_reviews and not past_window
            # A token Play repeats would loop forever: treat it as the end.
            if past_window or capped or not items or next_token in (None, token):
                batch.notes.extend(self._notes(mark, seen, oldest, capped and bool(next_token)))
                if newest is not None:
                    batch.state = self._state(newest)
                yield batch
                return
            yield batch  # no state yet: older pages are still unread
            token = next_token

    def _url(self) -> str:
        url = Formats.Reviews.build(lang=self.lang, country=self.country)
        if not url.startswith(LIBRARY_BASE_URL):
            raise SourceError(f"google-play-scraper's reviews URL is not under {LIBRARY_BASE_URL}")
        return self.base_url + url[len(LIBRARY_BASE_URL) :]

    def _resume(self, saved: dict[str, Any]) -> tuple[datetime, str] | None:
        """The newest review saved for this app, language and country; None starts afresh
        (none saved yet, or another app's, language's or country's)."""
        if (saved.get("app_id"), saved.get("lang"), saved.get("country")) != (
            self.app_id, self.lang, self.country,
        ):  # fmt: skip
            return None
        return parse_time(saved["at"]), saved["id"]

    def _state(self, newest: tuple[datetime, str]) -> dict[str, Any]:
        return {"app_id": self.app_id, "lang": self.lang, "country": self.country,
                "at": iso(newest[0]), "id": newest[1]}  # fmt: skip

    def _notes(
        self, mark: tuple[datetime, str] | None, seen: int, oldest: datetime | None, cut: bool
    ) -> list[str]:
        """Warnings for a read that found no review at all, or was cut by `max_reviews` before
        it reached the newest review of the last run (the reviews in between are skipped)."""
        if mark is None and seen == 0:
            return [f"Play returned no reviews for {self.app_id} ({self.lang}-{self.country}); "
                    "if the app has reviews, check app_id"]  # fmt: skip
        if mark is not None and cut and oldest is not None and oldest > mark[0]:
            return [f"max_reviews ({self.max_reviews}) was reached before the reviews read last "
                    "run; reviews in between were not read"]  # fmt: skip
        return []

    def _add(self, batch: Batch, review: _Review, brand: Brand, now: datetime) -> None:
        """Put one review (and the developer's reply to it) on the batch."""
        fields = review.fields
        url = f"{PUBLIC_URL}/store/apps/details?" + urlencode(
            {"id": self.app_id, "reviewId": review.native_id}
        )
        reply_text = fields.get("replyContent")
        reply = reply_text if isinstance(reply_text, str) else ""
        answered = bool(reply.strip())
        likes = fields.get("thumbsUpCount")
        mention = classify(
            brand,
            match=False,
            source=SOURCE,
            native_id=review.native_id,
            text=fields.get("content") or "",
            created_at=review.at,
            author=_text(fields.get("userName")) or None,
            url=url,
            author_followers=None,
            likes=likes if isinstance(likes, int) and not isinstance(likes, bool) else 0,
            shares=0,
            replies=1 if answered else 0,
            lang=None,
            observed_at=now,
            raw={
                "score": fields.get("score"),
                "reviewCreatedVersion": fields.get("reviewCreatedVersion"),
                "appVersion": fields.get("appVersion"),
                "thumbsUpCount": likes,
                "replyContent": reply_text,
                "repliedAt": iso(review.replied_at) if review.replied_at else None,
                "lang": self.lang,
                "country": self.country,
                "item": review.item,
            },
        )
        if not isinstance(mention, Mention):
            return  # the brand's own account reviewing its app
        batch.add(mention, f"review {review.native_id}")
        if not answered:
            return
        if review.replied_at is None:
            batch.problems.append(f"review {review.native_id}: reply has no time; reply skipped")
            return
        batch.add(
            Reply(
                source=SOURCE,
                native_id=f"{review.native_id}-reply",
                brand=brand.name,
                parent_id=review.native_id,
                text=reply,
                created_at=review.replied_at,
                author=brand.name,
                url=url,
            ),
            f"review {review.native_id} reply",
        )


def _check_state(state: dict[str, Any]) -> None:
    """Refuse a saved state other than `{"app_id", "lang", "country", "at": time, "id"}`."""
    parse_time(state["at"])
    if not all(isinstance(state[k], str) for k in ("app_id", "lang", "country", "id")):
        raise TypeError("id")


def _post(
    session: requests.Session, url: str, body: bytes, timeout: timedelta, now: datetime
) -> str:
    """POST a batchexecute form; 429 is RateLimited, any other failure a SourceError."""
    headers = {"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"}
    response = request(session, "POST", url, timeout=timeout, now=now, data=body, headers=headers)
    try:
        return response.content.decode("utf-8")
    except UnicodeDecodeError:
        raise SourceError(f"{where(url)}: malformed payload (not UTF-8)") from None


def _page(text: str, where: str) -> tuple[list[Any], str | None]:
    """The review items and next-page token of one batchexecute answer.

    Where the library would return "no reviews", this raises: no `)]}'` envelope (an HTML
    consent or captcha page), JSON that does not parse, a frame that is not the reviews RPC's,
    an error code in the frame, or Play's rate-limit sentinel in a 200 body."""
    if "PlayGatewayError" in text:
        # The library reads this sentinel as "rate exceeded" and sleeps; we back off instead.
        raise RateLimited(f"{where}: rate limited (PlayGatewayError in the answer)")
    found = Regex.REVIEWS.findall(text)
    if not found:
        raise SourceError(f"{where}: malformed payload (no batchexecute envelope)")
    try:
        envelope = json.loads(found[0])
    except (ValueError, RecursionError):  # RecursionError: nested too deep to parse
        raise SourceError(f"{where}: malformed JSON in the response") from None
    frame = envelope[0] if isinstance(envelope, list) and envelope else None
    if not isinstance(frame, list) or len(frame) < 3 or frame[:2] != ["wrb.fr", "oCPfdb"]:
        raise SourceError(f"{where}: malformed payload (no reviews frame)")
    payload = frame[2]
    if payload is None and len(frame) > 5 and frame[5]:
        raise SourceError(f"{where}: Play answered with error {json.dumps(frame[5])[:80]}")
    if payload is None:
        return [], None  # the app has no (more) reviews
    bad = SourceError(f"{where}: malformed payload (the reviews frame is not a JSON list)")
    if not isinstance(payload, str):
        raise bad
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError):
        raise bad from None
    if data is None:
        return [], None
    if not isinstance(data, list) or (data and not isinstance(data[0], list | None)):
        raise bad
    return (data[0] if data else None) or [], _token(data)


def _token(data: list[Any]) -> str | None:
    """The next-page token: `data[1][-1]`. The library reads `data[-2][-1]`, the Node scraper
    `data[1][1]`; they agree on the three-element answers Play sends with a token."""
    marker = data[1] if len(data) > 1 else None
    token = marker[-1] if isinstance(marker, list) and marker else None
    return token if isinstance(token, str) and token else None


def _read(item: Any) -> _Review:
    """One review item through the library's field map, with its times read as UTC."""
    if not isinstance(item, list):
        raise BadItem("is not a list")
    fields = {key: spec.extract_content(item) for key, spec in ElementSpecs.Review.items()}
    native_id = fields.get("reviewId")
    if not isinstance(native_id, str) or not native_id.strip():
        raise BadItem("no reviewId")
    native_id = native_id.strip()
    # The library turns these epochs into naive local times (datetime.fromtimestamp(v)).
    at = _epoch(item, "at")
    if at is None:
        raise BadItem(f"review {native_id}: no valid time")
    content = fields.get("content")
    if content is not None and not isinstance(content, str):
        raise BadItem(f"review {native_id}: content is not text")
    return _Review(native_id, at, fields, _epoch(item, "repliedAt"), item)


def _epoch(item: list[Any], key: str) -> datetime | None:
    try:
        value: Any = item
        for index in ElementSpecs.Review[key].data_map:
            value = value[index]
    except (IndexError, KeyError, TypeError):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""
