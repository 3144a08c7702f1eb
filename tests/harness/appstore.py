"""Harness and fake of Apple's customer-reviews RSS JSON feed for the `appstore` connector.

The feed shape follows what the public endpoint returns: `{"feed": {"author", "entry",
"updated", "rights", "title", "icon", "link": [...], "id"}}`, every value wrapped as
`{"label": ...}`; `entry` is a list, a single dict when a page holds one review, and absent
past the last page; older feeds put the app's own metadata entry (no `im:rating`) first on
page 1. Reviews are served newest first, `page_size` a page (Apple serves about 50).
"""

from __future__ import annotations

import json
import re
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any, ClassVar

from werkzeug import Request, Response

from tests.conftest import NOW

APP_ID = "123456789"
PACIFIC = timezone(timedelta(hours=-8))  # Apple stamps `updated` in Cupertino time
_PATH = re.compile(r"^/(?P<cc>[a-z]{2})/rss/customerreviews/page=(?P<page>\d+)/id=(?P<app>\d+)"
                   r"/sortby=mostrecent/json$")  # fmt: skip


def review(
    rid: str, title: str, content: str, *, hours_ago: float, author: str = "traveller",
    rating: int = 2, vote_sum: int = 0, vote_count: int = 0, version: str = "4.2.0",
    country: str = "us",
) -> dict[str, Any]:  # fmt: skip
    """One customer-review entry, shaped like the feed's."""
    updated = (NOW - timedelta(hours=hours_ago)).astimezone(PACIFIC)
    return {
        "author": {
            "uri": {"label": f"https://itunes.apple.com/{country}/reviews/id9{rid}"},
            "name": {"label": author},
            "label": "",
        },
        "updated": {"label": updated.isoformat()},
        "im:rating": {"label": str(rating)},
        "im:version": {"label": version},
        "id": {"label": rid},
        "title": {"label": title},
        "content": {"label": content, "attributes": {"type": "text"}},
        "link": {
            "attributes": {
                "rel": "related",
                "href": f"https://itunes.apple.com/{country}/review?id={APP_ID}&type=Purple%20Software",
            }
        },
        "im:voteSum": {"label": str(vote_sum)},
        "im:contentType": {"attributes": {"term": "Application", "label": "Application"}},
        "im:voteCount": {"label": str(vote_count)},
    }


def app_entry(country: str) -> dict[str, Any]:
    """The app's own metadata entry that heads page 1 of some feeds (it has no rating)."""
    return {
        "im:name": {"label": "Acme Air: Book Flights"},
        "rights": {"label": "© 2026 Acme Air Ltd"},
        "im:price": {"label": "Get", "attributes": {"amount": "0.00", "currency": "USD"}},
        "im:image": [
            {
                "label": "https://is1-ssl.mzstatic.com/image/53x53bb.png",
                "attributes": {"height": "53"},
            }
        ],
        "im:artist": {"label": "Acme Air Ltd", "attributes": {"href": "https://apps.apple.com/"}},
        "title": {"label": "Acme Air: Book Flights - Acme Air Ltd"},
        "link": {
            "attributes": {
                "rel": "alternate",
                "type": "text/html",
                "href": f"https://apps.apple.com/{country}/app/id{APP_ID}",
            }
        },
        "id": {
            "label": f"https://apps.apple.com/{country}/app/id{APP_ID}",
            "attributes": {"im:id": APP_ID, "im:bundleId": "example.acmeair"},
        },
        "im:contentType": {"attributes": {"term": "Application", "label": "Application"}},
        "category": {"attributes": {"im:id": "6003", "term": "Travel", "label": "Travel"}},
        "im:releaseDate": {"label": "2019-03-01T00:00:00-07:00"},
    }


def default_reviews() -> dict[str, list[dict[str, Any]]]:
    """Reviews by country, newest first: two pages in the US (3 a page), one review in GB."""
    return {
        "us": [
            review("9001", "Lost my bag", "Acme Air lost my bag and the app shows nothing",
                   hours_ago=1, rating=1, vote_sum=2, vote_count=3),
            review("9002", "Great crew", "Booking was easy and the crew lovely",
                   hours_ago=2, rating=5, author="flyer22"),
            review("9003", "New routes!", "Acme Air: new routes to Lisbon", hours_ago=3,
                   rating=5, author="AcmeAir"),
            review("9004", "Crashes", "Crashes when I open my boarding pass", hours_ago=5,
                   rating=1, vote_sum=1, vote_count=1),
            review("9005", "Ok", "Fine for check-in", hours_ago=30, rating=3),
        ],
        "gb": [
            review("8001", "Refund?", "Still no refund after six weeks", hours_ago=4,
                   rating=1, country="gb"),
        ],
    }  # fmt: skip


class FakeAppStore:
    """The customer-reviews feed of APP_ID, paged like Apple's; `reviews` may be edited."""

    def __init__(self, page_size: int = 3, app_entry_first: bool = True):
        self.page_size = page_size
        self.app_entry_first = app_entry_first
        self.reviews = default_reviews()
        self.pages_served: list[tuple[str, int]] = []

    def serve(self, server: Any) -> FakeAppStore:
        server.expect_request(_PATH).respond_with_handler(self._feed)
        return self

    def _feed(self, request: Request) -> Response:
        found = _PATH.match(request.path)
        assert found is not None
        cc, page = found["cc"], int(found["page"])
        self.pages_served.append((cc, page))
        if page > 10:  # Apple serves ten pages at most
            return Response("", status=400)
        reviews = self.reviews.get(cc, []) if found["app"] == APP_ID else []
        start = (page - 1) * self.page_size
        entries = list(reviews[start : start + self.page_size])
        if entries and page == 1 and self.app_entry_first and cc == "us":
            entries.insert(0, app_entry(cc))
        return Response(json.dumps(feed(cc, page, entries)), content_type="application/json")


def feed(country: str, page: int, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The feed envelope: `entry` a list, one dict, or absent (past the last page)."""
    self_url = (f"https://itunes.apple.com/{country}/rss/customerreviews/page={page}"
                f"/id={APP_ID}/sortby=mostrecent/json")  # fmt: skip
    body: dict[str, Any] = {
        "author": {"name": {"label": "iTunes Store"},
                   "uri": {"label": "http://www.apple.com/itunes/"}},
        "updated": {"label": NOW.astimezone(PACIFIC).isoformat()},
        "rights": {"label": "Copyright 2008 Apple Inc."},
        "title": {"label": "iTunes Store: Customer Reviews"},
        "icon": {"label": "http://itunes.apple.com/favicon.ico"},
        "link": [
            {"attributes": {"rel": "alternate", "type": "text/html",
                            "href": f"https://apps.apple.com/{country}/app/id{APP_ID}"}},
            {"attributes": {"rel": "self", "href": self_url}},
            {"attributes": {"rel": "next", "href": self_url.replace(
                f"page={page}", f"page={page + 1}")}},
        ],
        "id": {"label": self_url},
    }  # fmt: skip
    if len(entries) == 1:
        body["entry"] = entries[0]
    elif entries:
        body["entry"] = entries
    return {"feed": body}


class AppStoreHarness:
    type = "appstore"
    env: ClassVar[dict[str, str]] = {}
    http = True

    def options(self, base_url: str, tmp_path: Path) -> dict[str, Any]:
        return {"type": "appstore", "app_id": int(APP_ID), "countries": ["us", "gb"],
                "base_url": base_url}  # fmt: skip

    def serve(self, server: Any) -> None:
        FakeAppStore().serve(server)


HARNESS = AppStoreHarness()
