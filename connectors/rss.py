"""The `rss` connector: news and Google Alerts RSS/Atom feeds, fetched with requests and parsed
with feedparser."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import feedparser
import requests

from reputation.brands import Brand, match_brand
from reputation.connectors.base import (
    HTTP_OPTIONS,
    BadItem,
    Batch,
    FetchContext,
    SourceError,
    brand_named,
    check_brand,
    classify,
)
from reputation.connectors.http import get, new_session, where
from reputation.models import Mention, Reply
from reputation.text import normalize
from reputation.validate import Checker, Field

SOURCE = "rss"
# Ids remembered per feed: feeds carry 10-100 items, so this covers every item still listed.
SEEN_LIMIT = 500
ACCEPT = (
    "application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"
)
_GOOGLE_HOST = re.compile(r"^(www\.)?google\.[a-z]{2,3}(\.[a-z]{2})?$")


@dataclass(frozen=True)
class Item:
    """One feed entry, mapped: what a Mention needs plus whether the feed dated it."""

    native_id: str
    text: str
    created_at: datetime
    dated: bool
    author: str | None
    url: str | None
    lang: str | None
    raw: dict[str, Any]


class RssConnector:
    """Reads RSS/Atom feeds; remembers per brand and feed the newest date and the ids seen."""

    type: ClassVar[str] = "rss"
    OPTIONS: ClassVar[Mapping[str, Field]] = {
        "feeds": Field("str_list", required=True),
        "brand": Field("str"),
        **HTTP_OPTIONS,
    }

    def __init__(
        self, name: str, options: Mapping[str, Any], brands: Sequence[Brand],
        env: Mapping[str, str],
    ):  # fmt: skip
        self.name = name
        self.feeds = list(options["feeds"])
        self.options = options
        self.brands = list(brands)
        self.timeout: timedelta = options["timeout"]
        self.lookback: timedelta = options["lookback"]

    @classmethod
    def check_options(
        cls, values: Mapping[str, Any], path: str, check: Checker, brands: Sequence[Brand]
    ) -> None:
        """Every feed is an http(s) URL; `brand`, if set, names a configured brand."""
        for i, url in enumerate(values.get("feeds") or []):
            if not re.match(r"^https?://[^\s/]+", url):
                check.error(f"{path}.feeds[{i}]", f"{url!r} is not an http(s) URL")
        check_brand(values, path, check, brands, required=False)

    def fetch(self, ctx: FetchContext) -> Iterator[Batch]:
        """Per feed, yield one batch per brand with its new items and its advanced state."""
        fixed = brand_named(self.options, self.brands) if self.options["brand"] else None
        brands = [fixed] if fixed else self.brands
        states = {b.name: ctx.state(b.name, _check_state).get("feeds", {}) for b in brands}
        keys = [feed_key(url) for url in self.feeds]
        session = new_session()
        for url, key in zip(self.feeds, keys, strict=True):
            entries, feed, place = self._read(session, url, ctx.now)
            batches = {b.name: ctx.batch(b.name) for b in brands}
            # Report a bad entry once, not on every run while the feed still lists it.
            first = batches[brands[0].name]
            known = (states[brands[0].name].get(key) or {}).get("seen", [])
            items, ids = [], []
            for index, entry in enumerate(entries, start=1):
                ids.append(_key(entry))
                with first.item(f"{place}: entry {index}", report=ids[-1] not in known):
                    items.append(_item(entry, feed, ctx.now))
            for item in items:
                brand = fixed or self._brand_for(item)
                if brand is None or not _is_new(item, states[brand.name].get(key), self.lookback):
                    continue
                origin = f"{place}: {item.native_id}"
                batches[brand.name].add(self._classify(brand, item, fixed is None), origin)
            for brand in brands:
                state = states[brand.name]
                state[key] = _advance(state.get(key), items, ids, ctx.now)
                for gone in set(state) - set(keys):  # feeds no longer configured
                    del state[gone]
                batches[brand.name].state = {"feeds": copy.deepcopy(state)}
                yield batches[brand.name]

    def _read(
        self, session: requests.Session, url: str, now: datetime
    ) -> tuple[list[Any], Mapping[str, Any], str]:
        """Fetch and parse one feed: its entries, its own fields, and its place in messages; a
        body that is not a feed at all is a SourceError."""
        place = where(url)
        response = get(session, url, timeout=self.timeout, now=now, headers={"Accept": ACCEPT})
        # A BytesIO, not the bytes: feedparser opens a bytes/str argument as a local file path
        # if one exists, and the body is untrusted.
        parsed = feedparser.parse(
            io.BytesIO(response.content),
            response_headers={
                "content-type": response.headers.get("Content-Type", ""),
                "content-location": url,
            },
        )
        feed = parsed.get("feed") or {}
        if not parsed.entries and not feed.get("title") and (parsed.bozo or not parsed.version):
            raise SourceError(f"{place}: malformed feed (not RSS or Atom)")
        return parsed.entries, feed, place

    def _brand_for(self, item: Item) -> Brand | None:
        own = next((b for b in self.brands if b.is_own_account(item.author)), None)
        return own or match_brand(normalize(item.text), self.brands)

    def _classify(self, brand: Brand, item: Item, match: bool) -> Mention | Reply | None:
        if not match and _only_excluded(brand, item.text):
            return None
        return classify(
            brand,
            match=match,
            source=SOURCE,
            native_id=item.native_id,
            text=item.text,
            created_at=item.created_at,
            author=item.author,
            url=item.url,
            lang=item.lang,
            raw=item.raw,
        )


def unwrap_link(link: str) -> tuple[str, bool]:
    """The real URL behind a Google redirect link (`google.com/url?...&url=<real>`), and
    whether it was one; other links come back unchanged."""
    parts = urlsplit(link)
    if parts.path == "/url" and _GOOGLE_HOST.match((parts.hostname or "").lower()):
        query = parse_qs(parts.query)
        for key in ("url", "q"):
            real = (query.get(key) or [""])[0]
            if real.startswith(("http://", "https://")):
                return real, True
    return link, False


def feed_key(url: str) -> str:
    """A feed's key in the cursor. The URL is the only identity a feed has; hashed, it keeps
    the cursor short and private links (a Google Alerts feed URL reads the alert) out of it."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


def _key(entry: Mapping[str, Any]) -> str:
    """An entry's identity across runs: its id, else a digest of its link, else of its content
    (only to remember that it was reported)."""
    native_id = str(entry.get("id") or "").strip()
    if native_id:
        return native_id
    link, _ = unwrap_link(str(entry.get("link") or "").strip())
    if link:
        return "link:" + _digest(link)
    content = json.dumps([entry.get(k) for k in ("title", "summary", "published")], default=str)
    return "entry:" + _digest(content)


def _item(entry: Mapping[str, Any], feed: Mapping[str, Any], now: datetime) -> Item:
    link, redirected = unwrap_link((entry.get("link") or "").strip())
    native_id = _key(entry)
    if native_id.startswith("entry:"):
        raise BadItem("has no id and no link")
    title, summary = entry.get("title") or "", entry.get("summary") or ""
    if normalize(summary) == normalize(title):
        summary = ""  # feeds that repeat the title as the description
    text = "\n\n".join(part for part in (title.strip(), summary.strip()) if part)
    if not text:
        raise BadItem(f"{native_id}: has no title and no summary")
    created_at = _time(entry.get("published_parsed") or entry.get("updated_parsed"))
    host = (urlsplit(link).hostname or "").removeprefix("www.") if redirected else ""
    author = (entry.get("author") or "").strip() or host or (feed.get("title") or "").strip()
    language = (feed.get("language") or "").strip().lower()
    raw = {k: v for k, v in entry.items() if not k.endswith("_parsed")}
    return Item(
        native_id=native_id,
        text=text,
        created_at=created_at or now,
        dated=created_at is not None,
        author=author or None,
        url=link or None,
        lang=language.split("-")[0] or None,
        raw={**raw, "feed_title": feed.get("title")},
    )


def _time(parsed: Any) -> datetime | None:
    """feedparser's *_parsed values are struct_time in UTC."""
    if not parsed:
        return None
    try:
        year, month, day, hour, minute, second = parsed[:6]
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def _only_excluded(brand: Brand, text: str) -> bool:
    """True if the text names the brand only inside an excluded phrase ("acme air fryer")."""
    plain = normalize(text)
    return Brand(brand.name, brand.exclude).mentioned_in(plain) and not brand.mentioned_in(plain)


def _is_new(item: Item, state: Mapping[str, Any] | None, lookback: timedelta) -> bool:
    """Not seen before, and (if dated) not older than the feed's newest date minus lookback."""
    if not state:
        return True
    if item.native_id in state.get("seen", ()):
        return False
    newest = state.get("newest")
    return not (item.dated and newest and item.created_at <= _parse(newest) - lookback)


def _advance(
    state: Mapping[str, Any] | None, items: Sequence[Item], current: list[str], now: datetime
) -> dict[str, Any]:
    """The feed's state after reading `items`: newest date (never in the future) and the ids
    seen, the feed's `current` ones first."""
    old = dict(state or {})
    dates = [i.created_at for i in items if i.dated and i.created_at <= now]
    if old.get("newest"):
        dates.append(_parse(old["newest"]))
    seen = list(dict.fromkeys(current + [s for s in old.get("seen", []) if s not in current]))
    advanced: dict[str, Any] = {"seen": seen[:SEEN_LIMIT]}
    if dates:
        advanced["newest"] = max(dates).strftime("%Y-%m-%dT%H:%M:%SZ")
    return advanced


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _check_state(state: dict[str, Any]) -> None:
    """Refuse a saved state other than `{"feeds": {key: {"seen": [ids], "newest": time}}}`."""
    feeds = state["feeds"]
    if not isinstance(feeds, dict) or not all(isinstance(v, dict) for v in feeds.values()):
        raise TypeError("feeds")
    for feed in feeds.values():
        if not _valid(feed):
            raise ValueError("feeds")


def _valid(state: dict[str, Any]) -> bool:
    try:
        if state.get("newest") is not None:
            _parse(state["newest"])
    except (TypeError, ValueError):
        return False
    return isinstance(state.get("seen", []), list)


def _parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
