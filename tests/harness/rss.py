"""Harness for the `rss` connector: a Google Alerts Atom feed and a plain RSS 2.0 news feed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote
from xml.sax.saxutils import escape

from werkzeug import Request, Response

BASE = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
ALERTS_PATH = "/alerts/feeds/0123/4567"
NEWS_PATH = "/news/travel.rss"
ATOM = "application/atom+xml; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"


@dataclass
class Entry:
    """One feed item: `title` and `summary` are HTML (as feeds carry them); `minutes` after
    the feed's base time, or None for an undated item; `id` None leaves the guid out and
    an empty `link` the link (RSS only)."""

    id: str | None
    title: str
    summary: str
    link: str
    minutes: float | None
    author: str | None = None


def alert_entries() -> list[Entry]:
    """Google Alerts entries: <b> around the matched words, entities, redirect links."""
    return [
        Entry("tag:google.com,2013:googlealerts/feed:11",
              "<b>Acme Air</b> strands 200 passengers at O&#39;Hare",
              "Passengers of <b>Acme Air</b> flight 12 waited six hours &amp; got no refund",
              "https://news.example/2026/11/acme-air-strands?ref=alerts&id=12", 10),
        Entry("tag:google.com,2013:googlealerts/feed:22",
              "My <b>Acme Air</b> fryer: a review",
              "The <b>Acme Air</b> fryer crisps chips in eight minutes",
              "https://kitchen.example/fryer", 20),
        Entry("tag:google.com,2013:googlealerts/feed:33",
              "<b>Acme</b> <b>Air</b> adds a Lisbon route",
              "Flights to Lisbon start in March, <b>Acme Air</b> said",
              "https://travel.example/acme-lisbon", 30),
    ]  # fmt: skip


def news_entries() -> list[Entry]:
    """Plain news items: a guid, one without (link only), one by the brand, one off-topic."""
    return [
        Entry("https://news.example/strike", "Acme Air cabin crew vote to strike",
              "<p>Crew at Acme Air voted 9 to 1 for a strike.</p>",
              "https://news.example/strike", 40, author="Jane Doe"),
        Entry(None, "Acme Air fares fall 10%", "Cheaper seats from December.",
              "https://news.example/fares", 50),
        Entry("https://news.example/lounge", "Acme Air: new lounge opens at JFK",
              "Our new lounge is open.", "https://news.example/lounge", 60, author="@acmeair"),
        Entry("https://news.example/snow", "Snow delays flights at JFK",
              "Expect delays.", "https://news.example/snow", 70),
    ]  # fmt: skip


def google_link(real: str) -> str:
    """A Google Alerts redirect link around `real` (percent-encoded in the `url` parameter)."""
    return (
        f"https://www.google.com/url?rct=j&sa=t&url={quote(real, safe=':/')}"
        "&ct=ga&cd=CAIyGjA5ZDFiYTVk&usg=AOvVaw1abcDEF"
    )


def atom(entries: list[Entry], base: datetime = BASE) -> str:
    """A Google Alerts feed as Google serves it (Atom, HTML titles, empty author names)."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:idx="urn:atom-extension:indexing">',
        "<id>tag:google.com,2005:reader/user/0123/state/com.google/alerts/4567</id>",
        "<title>Google Alert - Acme Air</title>",
        '<link href="https://www.google.com/alerts/feeds/0123/4567" rel="self"></link>',
        f"<updated>{_iso(base + timedelta(hours=2))}</updated>",
    ]
    for e in entries:
        stamp = "" if e.minutes is None else _iso(base + timedelta(minutes=e.minutes))
        dates = f"<published>{stamp}</published><updated>{stamp}</updated>" if stamp else ""
        parts.append(
            f"<entry><id>{escape(e.id or '')}</id>"
            f'<title type="html">{escape(e.title)}</title>'
            f'<link href="{escape(google_link(e.link), {chr(34): "&quot;"})}"></link>{dates}'
            f'<content type="html">{escape(e.summary)}</content>'
            "<author><name></name></author></entry>"
        )
    parts.append("</feed>")
    return "\n".join(parts)


def rss(entries: list[Entry], base: datetime = BASE) -> str:
    """An RSS 2.0 channel with dc:creator authors and RFC 822 dates (+02:00)."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>',
        "<title>Travel News</title><link>https://news.example/</link>",
        "<description>Travel industry news</description><language>en-us</language>",
    ]
    for e in entries:
        item = [f"<title>{escape(e.title)}</title>"]
        if e.link:
            item.append(f"<link>{escape(e.link)}</link>")
        if e.id is not None:
            item.append(f'<guid isPermaLink="true">{escape(e.id)}</guid>')
        if e.minutes is not None:
            local = (base + timedelta(minutes=e.minutes)).astimezone(timezone(timedelta(hours=2)))
            item.append(f"<pubDate>{format_datetime(local)}</pubDate>")
        item.append(f"<description>{escape(e.summary)}</description>")
        if e.author:
            item.append(f"<dc:creator>{escape(e.author)}</dc:creator>")
        parts.append("<item>" + "".join(item) + "</item>")
    parts.append("</channel></rss>")
    return "\n".join(parts)


@dataclass
class FakeFeeds:
    """Both feeds, rendered from the (mutable) entry lists on every request."""

    alerts: list[Entry] = field(default_factory=alert_entries)
    news: list[Entry] = field(default_factory=news_entries)
    base: datetime = BASE
    hits: list[str] = field(default_factory=list)

    def install(self, server: Any) -> FakeFeeds:
        server.expect_request(ALERTS_PATH, method="GET").respond_with_handler(self._alerts)
        server.expect_request(NEWS_PATH, method="GET").respond_with_handler(self._news)
        return self

    def _alerts(self, request: Request) -> Response:
        self.hits.append(request.path)
        return Response(atom(self.alerts, self.base), content_type=ATOM)

    def _news(self, request: Request) -> Response:
        self.hits.append(request.path)
        return Response(rss(self.news, self.base), content_type=RSS)


def feed_urls(base_url: str) -> list[str]:
    root = base_url.rstrip("/")
    return [root + ALERTS_PATH, root + NEWS_PATH]


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class RssHarness:
    type = "rss"
    env: ClassVar[dict[str, str]] = {}
    http = True

    def options(self, base_url: str, tmp_path: Path) -> dict[str, Any]:
        return {"type": "rss", "feeds": feed_urls(base_url)}

    def serve(self, server: Any) -> None:
        FakeFeeds().install(server)


HARNESS = RssHarness()
