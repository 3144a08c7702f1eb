"""The `hackernews` connector: stories and comments from the Algolia HN Search API (no key)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests

from reputation.brands import Brand
from reputation.connectors.base import (
    HTTP_OPTIONS,
    BadItem,
    Batch,
    FetchContext,
    SourceError,
    classify,
    optional_id,
)
from reputation.connectors.http import get_json, new_session
from reputation.timeutil import parse_time
from reputation.validate import Field

SOURCE = "hackernews"
ENDPOINT = "/api/v1/search_by_date"
ITEM_URL = "https://news.ycombinator.com/item?id={}"
_YEAR_10000 = 253_402_300_800  # epoch seconds past which datetime cannot go


class HackerNewsConnector:
    """Searches HN newest-first per brand term; re-reads a lookback window to refresh counts."""

    type: ClassVar[str] = "hackernews"
    OPTIONS: ClassVar[Mapping[str, Field]] = {
        "query": Field("str"),
        "tags": Field("str", default="(story,comment)"),
        "hits_per_page": Field("int", default=100, min=1, max=1000),
        "max_pages": Field("int", default=10, min=1),
        "base_url": Field("url", default="https://hn.algolia.com"),
        **HTTP_OPTIONS,
    }

    def __init__(
        self, name: str, options: Mapping[str, Any], brands: Sequence[Brand],
        env: Mapping[str, str],
    ):  # fmt: skip
        self.name = name
        self.query: str | None = options["query"]
        self.tags: str = options["tags"]
        self.hits_per_page: int = options["hits_per_page"]
        self.max_pages: int = options["max_pages"]
        self.url = options["base_url"].rstrip("/") + ENDPOINT
        self.timeout: timedelta = options["timeout"]
        self.lookback: timedelta = options["lookback"]
        self.brands = list(brands)

    def fetch(self, ctx: FetchContext) -> Iterator[Batch]:
        """One batch per brand: hits of its queries since (cursor - lookback), deduplicated."""
        session = new_session()
        for brand in self.brands:
            state = ctx.state(brand.name, _check_state)
            newest, reported = state.get("newest"), set(state.get("bad", []))
            # Re-read the lookback window before the newest item: its counts are still growing.
            since = _epoch((ctx.now if newest is None else _time(newest)) - self.lookback)
            batch = ctx.batch(brand.name)
            latest, bad = newest, []
            for object_id, (where, hit) in self._collect(session, brand, since, ctx.now, batch):
                # A bad hit is reported once, not on every re-read of the window.
                with batch.item(f"{where} ({object_id})", report=object_id not in reported) as it:
                    created, found = _classify(brand, object_id, hit)
                    batch.add(found, f"{self._where()} ({object_id})")
                if it.failed:
                    bad.append(object_id)
                    continue
                # Never past now: a clock-skewed item must not push the window into the future.
                latest = min(max(latest or created, created), _epoch(ctx.now))
            if latest is not None:
                batch.state = {"newest": latest} | ({"bad": bad} if bad else {})
            yield batch

    def _collect(
        self, session: requests.Session, brand: Brand, since: int, now: datetime, batch: Batch
    ) -> Iterator[tuple[str, tuple[str, dict[str, Any]]]]:
        """(objectID, (location, hit)) over every query of the brand, each objectID once."""
        hits: dict[str, tuple[str, dict[str, Any]]] = {}
        for query in self._queries(brand):
            for number, hit in self._search(session, query, since, now, batch):
                where = f"{self._where()}: query {query!r}, hit {number}"
                object_id = hit.get("objectID") if isinstance(hit, dict) else None
                if not isinstance(object_id, str | int) or not str(object_id).strip():
                    batch.problems.append(f"{where}: no objectID")
                    continue
                hits.setdefault(str(object_id).strip(), (where, hit))
        yield from hits.items()

    def _queries(self, brand: Brand) -> list[str]:
        """The configured query, else one per brand term (case-insensitively distinct)."""
        if self.query:
            return [self.query]
        return list({t.strip().casefold(): t.strip() for t in brand.terms if t.strip()}.values())

    def _search(
        self, session: requests.Session, query: str, since: int, now: datetime, batch: Batch
    ) -> Iterator[tuple[int, Any]]:
        """Yield (position, hit) over the pages of one query, newest first."""
        number = 0
        for page in range(self.max_pages):
            params = {
                "query": query,
                "tags": self.tags,
                "numericFilters": f"created_at_i>{since}",
                "hitsPerPage": self.hits_per_page,
                "page": page,
            }
            payload = get_json(session, self.url, timeout=self.timeout, now=now, params=params)
            hits = payload.get("hits") if isinstance(payload, dict) else None
            if not isinstance(hits, list):
                raise SourceError(f"{self._where()}: malformed payload (no 'hits' list)")
            for hit in hits:
                number += 1
                yield number, hit
            pages = payload.get("nbPages")
            if not isinstance(pages, int) or isinstance(pages, bool):
                pages = page + 2 if len(hits) >= self.hits_per_page else page + 1
            if page + 1 >= pages or not hits:
                return
        batch.notes.append(
            f"query {query!r}: more than {self.max_pages} pages of hits since "
            f"{_time(since):%Y-%m-%d %H:%M} UTC; the oldest were not read"
            " (raise max_pages or hits_per_page)"
        )

    def _where(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.netloc}{parts.path}"


def _classify(brand: Brand, object_id: str, hit: Mapping[str, Any]) -> tuple[int, Any]:
    """The hit's created_at_i and what it is for `brand`: a Mention, a Reply, or None."""
    created = _created(hit)
    given = hit.get("_tags")
    tags = given if isinstance(given, list) else []
    comment = "comment" in tags or ("story" not in tags and hit.get("comment_text"))
    if comment:
        text = _str(hit, "comment_text")
        parent_id = optional_id(hit.get("parent_id"))
        thread_id = optional_id(hit.get("story_id"))
    else:
        title, body = _str(hit, "title"), _str(hit, "story_text")
        text = "\n\n".join(part for part in (title, body) if part)
        parent_id, thread_id = None, object_id
    if not text:
        raise BadItem("has no text")
    found = classify(
        brand,
        source=SOURCE,
        native_id=object_id,
        text=text,
        created_at=_time(created),
        author=_str(hit, "author") or None,
        parent_id=parent_id,
        thread_id=thread_id,
        url=ITEM_URL.format(object_id),
        author_followers=None,
        likes=_count(hit, "points"),
        replies=_count(hit, "num_comments"),
        shares=0,
        raw=dict(hit),
    )
    return created, found


def _created(hit: Mapping[str, Any]) -> int:
    value = hit.get("created_at_i")
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < _YEAR_10000:
        return value
    text = hit.get("created_at")
    try:
        return _epoch(parse_time(text if isinstance(text, str) else ""))  # "": not a time
    except (TypeError, ValueError, OverflowError):
        raise BadItem("has no created_at_i or created_at time") from None


def _str(hit: Mapping[str, Any], key: str) -> str:
    value = hit.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadItem(f"{key} is not a string")
    return value.strip()


def _count(hit: Mapping[str, Any], key: str) -> int:
    """A count; null (comments carry no points) is 0."""
    value = hit.get(key)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadItem(f"{key} {str(value)[:20]!r} is not a count")
    return value


def _check_state(state: dict[str, Any]) -> None:
    """Refuse a saved state other than `{"newest": epoch, "bad": [ids of bad hits reported]}`."""
    newest, bad = state["newest"], state.get("bad", [])
    if isinstance(newest, bool) or not isinstance(newest, int) or not isinstance(bad, list):
        raise ValueError("newest")


def _time(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())
