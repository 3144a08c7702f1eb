"""The `trustpilot` connector: service reviews of one business unit from Trustpilot's API."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import quote

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
from reputation.connectors.http import get_json, new_session, require, where
from reputation.models import Mention, Reply
from reputation.timeutil import iso, parse_time
from reputation.validate import Checker, Field

SOURCE = "trustpilot"
REVIEW_URL = "https://www.trustpilot.com/reviews/{id}"


class TrustpilotConnector:
    """Reads the newest reviews of one business unit (by id, or found by its domain)."""

    type: ClassVar[str] = "trustpilot"
    OPTIONS: ClassVar[Mapping[str, Field]] = {
        "api_key_env": Field("env", default="TRUSTPILOT_API_KEY"),
        "business_unit_id": Field("str"),
        "domain": Field("str"),
        "brand": Field("str"),
        "base_url": Field("url", default="https://api.trustpilot.com"),
        "per_page": Field("int", default=100, min=1, max=100),
        "max_pages": Field("int", default=10, min=1),
        **HTTP_OPTIONS,
    }

    def __init__(
        self, name: str, options: Mapping[str, Any], brands: Sequence[Brand],
        env: Mapping[str, str],
    ):  # fmt: skip
        self.name = name
        self.options = options
        self.brands = list(brands)
        self.env = env
        self.key_env = options["api_key_env"]
        self.unit_id = options["business_unit_id"]
        self.domain = options["domain"]
        self.base_url = options["base_url"].rstrip("/")
        self.per_page = options["per_page"]
        self.max_pages = options["max_pages"]
        self.timeout = options["timeout"]
        self.lookback = options["lookback"]

    @classmethod
    def check_options(
        cls, values: Mapping[str, Any], path: str, check: Checker, brands: Sequence[Brand]
    ) -> None:
        """The brand must be known (and named when there are several); exactly one of
        business_unit_id and domain."""
        check_brand(values, path, check, brands)
        has_id, has_domain = bool(values.get("business_unit_id")), bool(values.get("domain"))
        if has_id and has_domain:
            check.error(f"{path}.domain", "give business_unit_id or domain, not both")
        elif not (has_id or has_domain):
            check.error(f"{path}.business_unit_id",
                        "is required (or give domain, to look the business up)")  # fmt: skip

    def fetch(self, ctx: FetchContext) -> Iterator[Batch]:
        """Pages of reviews newest first, down to (cursor - lookback) or `max_pages`; the
        brand's cursor moves with the last page read."""
        brand = brand_named(self.options, self.brands)
        key = self.env.get(self.key_env)
        if not key:
            raise SourceError(f"{self.key_env} is not set: put the Trustpilot API key in it")
        session = new_session()
        session.headers["apikey"] = key  # a header, never the query: URLs end up in logs
        unit_id, business = self._unit(session, ctx.now)
        saved = ctx.state(brand.name, _check_state)
        mark = saved if saved.get("business_unit_id") == unit_id else None
        stop_at = parse_time(mark["created_at"]) - self.lookback if mark else None
        newest = (parse_time(mark["created_at"]), mark["id"]) if mark else None
        url = f"{self.base_url}/v1/business-units/{quote(unit_id, safe='')}/reviews"
        for page in range(1, self.max_pages + 1):
            params = {"orderBy": "createdat.desc", "perPage": self.per_page, "page": page}
            payload = get_json(session, url, timeout=self.timeout, now=ctx.now, params=params)
            reviews = require(payload, "reviews", what=where(url))
            if not isinstance(reviews, list):
                raise SourceError(f"{where(url)}: malformed payload (['reviews'] is not a list)")
            batch = ctx.batch(brand.name)
            oldest: datetime | None = None
            for index, item in enumerate(reviews):
                with batch.item(f"reviews page {page} item {index}") as it:
                    created, native_id = self._add(batch, item, brand, business, ctx.now)
                if it.failed:
                    continue
                if newest is None or (created, native_id) > newest:
                    newest = (created, native_id)
                oldest = created if oldest is None else min(oldest, created)
            past_window = stop_at is not None and oldest is not None and oldest < stop_at
            if past_window or len(reviews) < self.per_page or page == self.max_pages:
                if newest is not None:
                    batch.state = {"business_unit_id": unit_id, "created_at": iso(newest[0]),
                                   "id": newest[1]}  # fmt: skip
                yield batch
                return
            yield batch  # no state yet: older pages are still unread

    def _unit(self, session: requests.Session, now: datetime) -> tuple[str, str | None]:
        """The business unit id, and its display name when it was looked up by domain."""
        if self.unit_id:
            return str(self.unit_id), None
        if not self.domain:
            raise SourceError("set business_unit_id or domain")
        url = f"{self.base_url}/v1/business-units/find"
        try:
            found = get_json(session, url, timeout=self.timeout, now=now,
                             params={"name": self.domain})  # fmt: skip
        except RateLimited:
            raise
        except SourceError as exc:
            raise SourceError(f"looking up the business unit of {self.domain!r}: {exc}") from None
        unit_id = require(found, "id", what=where(url))
        if not isinstance(unit_id, str) or not unit_id.strip():
            raise SourceError(f"{where(url)}: malformed payload (['id'] is not a string)")
        name = found.get("displayName")
        return unit_id.strip(), name if isinstance(name, str) and name.strip() else None

    def _add(
        self, batch: Batch, item: Any, brand: Brand, business: str | None, now: datetime
    ) -> tuple[datetime, str]:
        """Put one review (and the business's reply to it) on the batch; return its time and id."""
        if not isinstance(item, dict):
            raise BadItem("is not an object")
        native_id = item.get("id")
        if not isinstance(native_id, str) or not native_id.strip():
            raise BadItem("no id")
        native_id = native_id.strip()
        created = _time(item.get("createdAt"), f"review {native_id}: createdAt")
        check_time(created, now, f"review {native_id}: createdAt")  # before it moves the state
        title, body = _text(item.get("title")), _text(item.get("text"))
        if not (title or body):
            raise BadItem(f"review {native_id}: no title or text")
        given = item.get("consumer")
        consumer = given if isinstance(given, dict) else {}
        likes = item.get("numberOfLikes")
        url = REVIEW_URL.format(id=quote(native_id, safe=""))
        mention = classify(
            brand,
            match=False,
            source=SOURCE,
            native_id=native_id,
            text=f"{title}\n\n{body}" if title and body else title or body,
            created_at=created,
            author=_text(consumer.get("displayName")) or None,
            url=url,
            author_followers=None,
            likes=likes if isinstance(likes, int) and not isinstance(likes, bool) else 0,
            shares=0,
            replies=0,
            lang=_text(item.get("language")) or None,
            observed_at=now,
            raw={"stars": item.get("stars"), "language": item.get("language"), "review": item},
        )
        if not isinstance(mention, Mention):
            return created, native_id  # the brand's own account reviewing itself
        batch.add(mention, f"review {native_id}")
        answer = item.get("companyReply")
        if isinstance(answer, dict) and _text(answer.get("text")):
            try:
                answered = _time(answer.get("createdAt"), "companyReply.createdAt")
            except BadItem as exc:
                batch.problems.append(f"review {native_id}: {exc}; reply skipped")
                return created, native_id
            batch.add(
                Reply(
                    source=SOURCE,
                    native_id=f"{native_id}-reply",
                    brand=brand.name,
                    parent_id=native_id,
                    text=_text(answer.get("text")),
                    created_at=answered,
                    author=_text(answer.get("authorBusinessUserName")) or business or brand.name,
                    url=url,
                ),
                f"review {native_id} reply",
            )
        return created, native_id


def _check_state(state: dict[str, Any]) -> None:
    """Refuse a saved state other than `{"business_unit_id", "created_at": time, "id"}`."""
    parse_time(state["created_at"])
    if not isinstance(state["business_unit_id"], str) or not isinstance(state["id"], str):
        raise TypeError("id")


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _time(value: Any, what: str) -> datetime:
    if value is None or value == "":
        raise BadItem(f"{what} is missing")
    try:
        return parse_time(value)
    except (TypeError, ValueError):
        raise BadItem(f"{what} {str(value)[:40]!r} is not an ISO 8601 time") from None
