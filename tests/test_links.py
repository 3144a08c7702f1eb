"""An alert's "Open post" link is the platform's own URL for that post, or there is none; and
what a stranger wrote reaches Slack without formatting, bidi tricks or invisible text."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from reputation.links import post_url
from reputation.sinks.base import IncidentView
from reputation.sinks.slack import escalation_message, incident_message, thread_reply


def _post(source: str, native_id: str, url: str | None) -> dict[str, Any]:
    return {"source": source, "native_id": native_id, "key": f"{source}:{native_id}", "url": url}


@pytest.mark.parametrize(
    ("source", "native_id", "url"),
    [
        ("x", "1862000000001147779", "https://x.com/leetravels27/status/1862000000001147779"),
        ("x", "20", "https://twitter.com/jack/status/20"),
        ("x", "20", "https://x.com/i/web/status/20"),
        ("reddit", "k2x9a", "https://www.reddit.com/r/travel/comments/3ee7f/lost_bag/k2x9a/"),
        ("reddit", "3ee7f", "https://old.reddit.com/r/travel/comments/3ee7f/"),
        ("mastodon", "1131", "https://mastodon.social/@traveler@other.example/1131"),
        ("hackernews", "8863", "https://news.ycombinator.com/item?id=8863"),
        ("appstore", "r1", "https://apps.apple.com/us/app/acme-air/id1234567890?see-all=reviews"),
        ("googleplay", "gp:1", "https://play.google.com/store/apps/details?id=com.acme&hl=en"),
        ("trustpilot", "64f0aa", "https://www.trustpilot.com/reviews/64f0aa"),
        ("rss", "link:ab", "https://news.example/2026/11/acme-air-outage"),
        ("news", "n1", "https://news.example/travel/n1"),
    ],
)
def test_a_platforms_own_url_for_the_post_is_its_link(
    source: str, native_id: str, url: str
) -> None:
    assert post_url(_post(source, native_id, url)) == url


@pytest.mark.parametrize(
    ("source", "native_id", "url"),
    [
        ("x", "20", "https://evil.example/jack/status/20"),  # another site
        ("x", "20", "https://x.com/jack/status/21"),  # another post
        ("x", "20", "https://x.com.evil.example/jack/status/20"),
        ("x", "20", "https://x.com/jack/status/20@evil.example"),
        ("x", "20", "http://x.com/jack/status/20"),  # not https
        ("x", "20", "javascript:alert(1)//https://x.com/jack/status/20"),
        ("x", "20", None),
        ("reddit", "k2", "https://reddit.com.evil.example/r/travel/comments/3ee7f/"),
        ("reddit", "k2", "https://www.reddit.com/login?dest=https://evil.example"),
        ("mastodon", "1131", "https://evil.example/phish"),  # a server's own `url` claim
        ("mastodon", "1131", "https://mastodon.social/@traveler/9999"),
        ("hackernews", "8863", "https://news.ycombinator.com/item?id=8864"),
        ("appstore", "r1", "https://apps.apple.com.evil.example/us/app/id1"),
        ("googleplay", "gp:1", "https://play.google.evil.example/store/apps/details?id=x"),
        ("trustpilot", "64f0aa", "https://www.trustpilot.com/reviews/other"),
        ("rss", "link:ab", "ftp://news.example/a"),
        ("rss", "link:ab", "https://news.example/a b"),
        ("file", "1", "https://example.com/post/1"),  # a source with no known shape
        ("blog", "1", "https://example.com/post/1"),
    ],
)
def test_any_other_url_gives_no_link(source: str, native_id: str, url: str | None) -> None:
    assert post_url(_post(source, native_id, url)) is None


# -- what Slack receives ------------------------------------------------------------------


def _mention(**over: Any) -> dict[str, Any]:
    return {
        "key": "x:20",
        "native_id": "20",
        "source": "x",
        "author": "ann",
        "author_followers": 12_000,
        "created_at": "2026-11-22T08:00:00.000000Z",
        "text": "Acme Air",
        "url": None,
        "category": "other",
        "engagement": 5,
        "viral_risk": 0.1,
        "severity": 0.4,
        **over,
    }


def _view(summary: str, mention: dict[str, Any]) -> IncidentView:
    alert = {
        "fingerprint": "f" * 32,
        "rule": "viral-complaint",
        "severity": "critical",
        "brand": "Acme Air",
        "summary": summary,
        "reasons": [summary],
        "route": None,
    }
    incident = {
        "id": 7,
        "brand": "Acme Air",
        "category": "other",
        "severity": "critical",
        "status": "open",
        "title": "Acme Air: other",
        "route": None,
        "opened_at": "2026-11-22T08:00:00.000000Z",
        "last_event_at": "2026-11-22T08:30:00.000000Z",
        "mentions": 1,
        "reach": 12_000,
        "version": 1,
    }
    return IncidentView(
        incident=incident,  # type: ignore[arg-type]
        alerts=[alert],  # type: ignore[list-item]
        top=[mention],  # type: ignore[list-item]
        new=[mention],  # type: ignore[list-item]
        new_count=1,
    )


def _mention_block(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    [block] = [b for b in blocks if "on x" in b.get("text", {}).get("text", "")]
    return block


@pytest.mark.parametrize(
    ("url", "button"),
    [
        ("https://x.com/ann/status/20", "https://x.com/ann/status/20"),
        ("https://evil.example/ann/status/20", None),
        ("https://x.com/ann/status/21", None),
    ],
)
def test_the_open_post_button_is_the_posts_own_url_or_absent(url: str, button: str | None) -> None:
    _, blocks = incident_message(_view("s", _mention(url=url)))
    accessory = _mention_block(blocks).get("accessory")
    assert (accessory or {}).get("url") == button


STRANGER = "*FREE* _refund_ ~now~ `run` \u202eexe.pdf\u200b\n> not a quote from Acme"


def test_a_strangers_markup_and_invisible_text_do_not_reach_slack() -> None:
    view = _view(
        f"@ann_b: {STRANGER}",
        _mention(author="*ann*\u202e", text=STRANGER, url="https://x.com/ann/status/20"),
    )
    outputs = [incident_message(view), thread_reply(view), escalation_message(view, None)]
    for text, blocks in outputs:
        shown = json.loads(json.dumps([text, blocks]))  # what goes over the wire
        flat = json.dumps(shown, ensure_ascii=False)
        for marked in ("*FREE*", "_refund_", "~now~", "`run`", "*ann*"):
            assert marked not in flat, marked
        for string in _strings(shown):  # no line of ours starts a quote of theirs
            assert not re.search(r"(?m)^>?\s*(&gt;|>)", string.replace("\n>", "\n")), string
        assert "\u202e" not in flat and "\u200b" not in flat
        assert "\u2217FREE\u2217" in flat  # the words stay, as look-alikes
        assert "@ann_b" in flat  # a handle keeps its underscore


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []
