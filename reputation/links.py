"""The link a post may carry out of an alert: the platform's own URL for that post, checked
against the platform's shape per source, or none (docs/decisions.md 56).

A record's `url` is stranger data (a Mastodon server sets its statuses' `url`, a file record
anything): an "Open post" button must not take an operator to whatever site it names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Each source's own URLs for a post; `{id}` is the post's native id, escaped. A trailing
# query or fragment is allowed only where the platform's own links have one.
_NO_SPACE = r"[^\s\"'<>|\\^`{}]"
_PATTERNS: dict[str, str] = {
    # x.com or twitter.com, /<handle>/status/<id> (the connector writes i/web when it has
    # no handle); the id must be this post's.
    "x": r"https://(?:www\.|mobile\.)?(?:x|twitter)\.com/(?:[A-Za-z0-9_]{1,15}|i/web)"
    r"/status/{id}(?:[/?#]" + _NO_SPACE + r"*)?",
    # A permalink on reddit.com: /r/<sub>/comments/<post id>/..., a comment's after its
    # submission's (ids are not checked: a comment's permalink leads with its post's id).
    "reddit": r"https://(?:www\.|old\.|new\.|np\.)?reddit\.com/r/[A-Za-z0-9_]{2,21}"
    r"/comments/[a-z0-9]{1,13}(?:/" + _NO_SPACE + r"*)?",
    # The status on the instance that was read: /@<account>/<id> (the connector builds it
    # from its base_url; any instance can host the page, so the path and id are checked).
    "mastodon": r"https?://[A-Za-z0-9.-]+(?::\d{1,5})?/@[\w.-]+(?:@[\w.-]+)?/{id}",
    "hackernews": r"https://news\.ycombinator\.com/item\?id={id}",
    # Reviews have no page of their own: the app's store page.
    "appstore": r"https://(?:apps|itunes)\.apple\.com/" + _NO_SPACE + r"*?/id\d{1,12}"
    r"(?:[/?#]" + _NO_SPACE + r"*)?",
    "googleplay": r"https://play\.google\.com/store/apps/details\?" + _NO_SPACE + r"*",
    "trustpilot": r"https://(?:www\.)?trustpilot\.com/reviews/{id}",
    # A feed item (rss, and `news` from the file connector) is a page on its own site: its
    # link is the post's URL, whatever the host.
    "rss": r"https?://[A-Za-z0-9.-]+(?::\d{1,5})?(?:[/?#]" + _NO_SPACE + r"*)?",
}
_PATTERNS["news"] = _PATTERNS["rss"]


def post_url(mention: Mapping[str, Any]) -> str | None:
    """The mention's `url` if it is its source's own URL for this post, else None (no
    button: a source with no known shape, a URL of another site or another post)."""
    url, source = mention.get("url"), mention.get("source")
    pattern = _PATTERNS.get(source) if isinstance(source, str) else None
    if not isinstance(url, str) or pattern is None:
        return None
    native_id = mention.get("native_id") or str(mention.get("key", "")).partition(":")[2]
    if "{id}" in pattern:
        if not native_id:
            return None
        pattern = pattern.replace("{id}", re.escape(str(native_id)))
    return url if re.fullmatch(pattern, url) else None
