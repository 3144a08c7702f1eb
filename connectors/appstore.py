"""The `appstore` connector: customer reviews of one app from Apple's public RSS JSON feed."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from reputation.brands import Brand
from reputation.connectors.base import (
    HTTP_OPTIONS,
    BadItem,
    Batch,
    FetchContext,
    SourceError,
    brand_named,
    check_brand,
    check_time,
    classify,
)
from reputation.connectors.http import get_json, new_session, require, where
from reputation.models import Mention
from reputation.timeutil import iso, parse_time
from reputation.validate import Checker, Field

SOURCE = "appstore"
_COUNTRY = re.compile(r"^[a-z]{2}$")


class AppStoreConnector:
    """Reads the newest customer reviews of one app, per storefront country, newest first."""

    type: ClassVar[str] = "appstore"
    OPTIONS: ClassVar[Mapping[str, Field]] = {
        "app_id": Field("any", required=True),
        "countries": Field("str_list", default=["us"]),
        "brand": Field("str"),
        "pages": Field("int", default=10, min=1, max=10),
        "base_url": Field("url", default="https://itunes.apple.com"),
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
        self.countries = [c.lower() for c in options["countries"]]
        self.pages = options["pages"]
        self.base_url = options["base_url"].rstrip("/")
        self.timeout = options["timeout"]
        self.lookback = options["lookback"]

    @classmethod
    def check_options(
        cls, values: Mapping[str, Any], path: str, check: Checker, brands: Sequence[Brand]
    ) -> None:
        """The brand must be known (and named when there are several); ids and countries valid."""
        check_brand(values, path, check, brands)
        app_id = values.get("app_id")
        if app_id is not None and (isinstance(app_id, bool) or not str(app_id).strip().isdigit()):
            check.error(f"{path}.app_id", "must be the app's numeric App Store id, like 123456789")
        for country in values.get("countries") or []:
            if not _COUNTRY.match(country.lower()):
                check.error(f"{path}.countries", f"{country!r} is not a two-letter country code")

    def fetch(self, ctx: FetchContext) -> Iterator[Batch]:
        """Per country: pages newest first, down to (cursor - lookback) or `pages`; the
        brand's cursor moves once a country is fully read."""
        brand = brand_named(self.options, self.brands)
        state = self._resume(ctx.state(brand.name, _check_state))
        session = new_session()
        for country in self.countries:
            yield from self._country(session, ctx, brand, country, state)

    def _resume(self, saved: dict[str, Any]) -> dict[str, Any]:
        """The saved state for this app, or a fresh one (none yet, or another app's)."""
        if saved.get("app_id") != self.app_id:
            return {"app_id": self.app_id, "countries": {}}
        return saved

    def _country(
        self, session: Any, ctx: FetchContext, brand: Brand, country: str, state: dict[str, Any]
    ) -> Iterator[Batch]:
        mark = state["countries"].get(country)
        stop_at = parse_time(mark["updated"]) - self.lookback if mark else None
        newest = (parse_time(mark["updated"]), mark["id"]) if mark else None
        for page in range(1, self.pages + 1):
            url = (
                f"{self.base_url}/{country}/rss/customerreviews/page={page}"
                f"/id={self.app_id}/sortby=mostrecent/json"
            )
            entries = _entries(get_json(session, url, timeout=self.timeout, now=ctx.now), url)
            if not entries:
                break  # past the last page
            batch = ctx.batch(brand.name)
            oldest: datetime | None = None
            for index, entry in enumerate(entries):
                if not isinstance(entry, dict) or "im:rating" not in entry:
                    continue  # the app's own metadata entry heads some feeds
                with batch.item(f"{country} page {page} entry {index}") as it:
                    mention, updated, native_id = self._review(entry, brand, country, ctx.now)
                if it.failed:
                    continue
                if newest is None or (updated, native_id) > newest:
                    newest = (updated, native_id)
                oldest = updated if oldest is None else min(oldest, updated)
                if stop_at is not None and updated < stop_at:
                    continue  # older than the lookback window: stored before, settled
                # None: the brand's own account reviewing itself
                batch.add(mention, f"{country} review {native_id}")
            if (stop_at is not None and oldest is not None and oldest < stop_at) or (
                page == self.pages
            ):
                yield self._with_state(batch, state, country, newest)
                return
            yield batch  # no state yet: older pages of this country are still unread
        last = self._with_state(ctx.batch(brand.name), state, country, newest)
        if last.state is not None:
            yield last

    @staticmethod
    def _with_state(
        batch: Batch, state: dict[str, Any], country: str, newest: tuple[datetime, str] | None
    ) -> Batch:
        if newest is not None:
            state["countries"][country] = {"updated": iso(newest[0]), "id": newest[1]}
            batch.state = copy.deepcopy(state)
        return batch

    def _review(
        self, entry: dict[str, Any], brand: Brand, country: str, now: datetime
    ) -> tuple[Mention | None, datetime, str]:
        native_id = _label(entry, "id")
        if not native_id:
            raise BadItem("no id")
        rating_text = _label(entry, "im:rating") or ""
        if not rating_text.isdigit() or not 1 <= int(rating_text) <= 5:
            raise BadItem(f"review {native_id}: rating {rating_text[:20]!r} is not 1 to 5")
        try:
            updated = parse_time(_label(entry, "updated") or "")
        except ValueError:
            raise BadItem(f"review {native_id}: no valid 'updated' time") from None
        check_time(updated, now, f"review {native_id}: updated")  # before it moves the state
        title = _label(entry, "title") or ""
        content = _label(entry, "content") or ""
        if not (title or content):
            raise BadItem(f"review {native_id}: no title or content")
        vote_sum, vote_count = _votes(entry)
        item = classify(
            brand,
            match=False,
            source=SOURCE,
            native_id=native_id,
            text=f"{title}\n\n{content}" if title and content else title or content,
            created_at=updated,
            author=_label(entry, "author", "name"),
            url=_link(entry) or f"https://apps.apple.com/{country}/app/id{self.app_id}",
            author_followers=None,
            # Apple's voteSum counts "helpful" votes; voteCount counts every vote.
            likes=vote_sum,
            shares=0,
            replies=0,
            lang=None,
            observed_at=now,
            raw={
                "rating": int(rating_text),
                "version": _label(entry, "im:version"),
                "country": country,
                "vote_sum": vote_sum,
                "vote_count": vote_count,
                "entry": entry,
            },
        )
        return (item if isinstance(item, Mention) else None), updated, native_id


def _check_state(state: dict[str, Any]) -> None:
    """Refuse a saved state other than `{"app_id": id, "countries": {cc: {"updated": time,
    "id": review id}}}`."""
    countries = state["countries"]
    if not isinstance(state["app_id"], str) or not isinstance(countries, dict):
        raise TypeError("countries")
    for mark in countries.values():
        parse_time(mark["updated"])
        if not isinstance(mark["id"], str):
            raise TypeError("id")


def _entries(payload: Any, url: str) -> list[Any]:
    """The feed's entries: a list, one dict (a single review), or none past the last page."""
    feed = require(payload, "feed", what=where(url))
    if not isinstance(feed, dict):
        raise SourceError(f"{where(url)}: malformed payload (['feed'] is not an object)")
    entry = feed.get("entry")
    if entry is None:
        return []
    if isinstance(entry, dict):
        return [entry]
    if isinstance(entry, list):
        return entry
    raise SourceError(f"{where(url)}: malformed payload (['feed']['entry'] is not a list)")


def _label(entry: Mapping[str, Any], *keys: str) -> str | None:
    """`entry[k1][k2]...["label"]` as a stripped string, or None."""
    value: Any = entry
    for key in keys:
        value = value.get(key) if isinstance(value, Mapping) else None
    if isinstance(value, list):  # some feeds repeat `content` as text and html
        value = next((v for v in value if _is_text(v)), value[0] if value else None)
    label = value.get("label") if isinstance(value, Mapping) else None
    if isinstance(label, int | float) and not isinstance(label, bool):
        label = str(label)
    return label.strip() if isinstance(label, str) else None


def _is_text(value: Any) -> bool:
    return isinstance(value, Mapping) and (value.get("attributes") or {}).get("type") == "text"


def _votes(entry: Mapping[str, Any]) -> tuple[int, int]:
    """(helpful votes, all votes); a missing or odd count is 0."""
    counts = []
    for key in ("im:voteSum", "im:voteCount"):
        text = _label(entry, key) or ""
        counts.append(int(text) if text.isdigit() else 0)
    return counts[0], counts[1]


def _link(entry: Mapping[str, Any]) -> str | None:
    links = entry.get("link")
    for link in links if isinstance(links, list) else [links]:
        href = (link.get("attributes") or {}).get("href") if isinstance(link, Mapping) else None
        if isinstance(href, str) and href.startswith(("https://", "http://")):
            return href
    return None
