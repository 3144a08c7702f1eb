"""Text handling for untrusted mention text: normalizing for scoring, defusing for output."""

from __future__ import annotations

import html
import re

# Real tags only (a name that starts with a letter), so Slack syntax a stranger typed, like
# `<!channel>` or `<https://evil|bank.com>`, stays visible as text (and is escaped on output).
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]{0,2000})?/?>")
# Tags that flow inside a line vanish without a space ("#<span>acme</span>" is "#acme");
# every other tag (p, br, div, li...) separates words.
_INLINE_TAG = re.compile(
    r"</?(?:a|span|b|i|em|strong|u|s|small|mark|code|abbr|sub|sup)(?:\s[^<>]{0,2000})?>",
    re.IGNORECASE,
)
_MD_LINK = re.compile(r"!?\[([^\]]{0,500})\]\([^)\s]{0,2000}\)")
_MD_MARKS = re.compile(r"(\*\*|__|~~|`)")
_MARKUP = re.compile(r"[<&\[*_`~]")
# Words glued by punctuation without a space ("worst,everything", "late...again"); links are
# matched first and kept whole.
_GLUED = re.compile(r"[,!?…][^\W\d_]")  # a quick test (with ".."); _GLUE decides
_GLUE = re.compile(r"(https?://\S+|www\.\S+)|(?<=[^\W\d_])([,!?]+|\.{2,}|…)(?=[^\W\d_])")
# C0/C1 control characters except tab and newline; ESC among them starts terminal escapes.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def normalize(text: str) -> str:
    """Plain text for scoring: HTML tags and markdown stripped, entities decoded (once: a
    literal "&amp;lt;" stays "&lt;"), words glued by punctuation parted, spaces folded."""
    if not text:
        return ""
    if _MARKUP.search(text):  # most posts have nothing to strip
        text = _strip_markup(text)
    if _GLUED.search(text) or ".." in text:
        text = _GLUE.sub(_part, text)
    return " ".join(text.split())


def _strip_markup(text: str) -> str:
    """Tags, entities and markdown out; each pass only where its marker is present (a
    handle's "_" needs none of them)."""
    if "<" in text:
        text = _INLINE_TAG.sub("", text)
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    if "[" in text:
        text = _MD_LINK.sub(r"\1", text)
    if "**" in text or "__" in text or "~~" in text or "`" in text:
        text = _MD_MARKS.sub("", text)
    return text


def _part(match: re.Match[str]) -> str:
    """A link as it was; glued punctuation with a space after it."""
    return match.group(1) or match.group(2) + " "


def slack_escape(text: str) -> str:
    """Escape `&`, `<`, `>` (in that order) so Slack shows text literally: no pings, no links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def terminal_safe(text: str) -> str:
    """Replace control characters (terminal escape sequences among them) with U+FFFD."""
    return _CONTROL.sub("\ufffd", text)


def csv_safe(value: object) -> object:
    """Prefix a string cell that a spreadsheet would run as a formula with `'`."""
    if isinstance(value, str) and value:
        first = value.lstrip(" ")[:1] or value[:1]
        if value.startswith(_FORMULA_START) or first in _FORMULA_START:
            return "'" + value
    return value


def compact_count(n: int) -> str:
    """A follower or reach count as people say it: 1.2M, 48k, 9,500."""
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M".replace(".0M", "M")
    return f"{n / 1_000:.0f}k" if n >= 10_000 else f"{n:,}"


def shorten(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters, ending with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + "…"
