"""Text handling for untrusted mention text: normalizing for scoring, defusing for output."""

from __future__ import annotations

import html
import re
import unicodedata

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
# What a spreadsheet takes for the start of a formula (after spaces), at a cell's or a
# line's start; a tab there counts too, as does a CR, which csv_safe turns into a line end.
_FORMULA_START = ("=", "+", "-", "@")
_LINE_BREAK = re.compile(r"\r\n?")
# Invisible characters that reorder or hide text: bidi embeddings, overrides and isolates
# (U+202A-202E, U+2066-2069), the direction marks (U+200E/F, U+061C), zero-width space and
# joiners (U+200B-200D), word joiner and invisible operators (U+2060-2064), U+180E and the
# BOM (U+FEFF). ZWNJ and ZWJ are kept where writing needs them (_kept_joiner).
_INVISIBLE = re.compile(
    "[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u200b-\u200d\u2060-\u2064\u180e\ufeff]"
)
# Slack mrkdwn has no escape character: a marker that could open or close formatting (one
# not inside a word) becomes a look-alike that Slack does not read (jsx-slack's choice).
_SLACK_MARKER = re.compile(r"(?<![^\W_])[*_~]|[*_~](?![^\W_])|`")
_LOOK_ALIKE = {"*": "\u2217", "_": "\u02cd", "~": "\u223c", "`": "\u02cb"}
_SLACK_QUOTE = re.compile(r"^([^\S\n]*)>", re.MULTILINE)


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


def strip_invisible(text: str) -> str:
    """`text` without bidi controls and zero-width characters (a joiner inside an emoji
    sequence, or a non-joiner between letters of a script that writes with it, stays)."""
    if not _INVISIBLE.search(text):
        return text
    return _INVISIBLE.sub(lambda m: m.group() if _kept_joiner(m) else "", text)


def _kept_joiner(match: re.Match[str]) -> bool:
    char, text, at = match.group(), match.string, match.start()
    before = text[at - 1] if at else ""
    after = text[at + 1] if at + 1 < len(text) else ""
    if char == "\u200d":  # ZWJ: 👩‍💻, 🏳️‍🌈 (emoji, skin tone or emoji presentation, then emoji)
        return (_category(before) in ("So", "Sk") or before == "\ufe0f") and (
            _category(after) == "So"
        )
    if char == "\u200c":  # ZWNJ: Persian and Indic spelling, never between Latin letters
        return all(_category(c).startswith(("L", "M")) and c > "\u024f" for c in (before, after))
    return False


def _category(char: str) -> str:
    return unicodedata.category(char) if char else ""


def slack_inert(text: str) -> str:
    """Stranger text that Slack shows as written: invisible controls stripped, and every
    formatting marker (`*bold*`, `_it_`, `~s~`, backticks, a line's leading `>`) replaced by
    a look-alike Slack does not format. Still to be escaped (`slack_text` does both)."""
    text = strip_invisible(text)
    text = _SLACK_MARKER.sub(lambda m: _LOOK_ALIKE[m.group()], text)
    return _SLACK_QUOTE.sub("\\1\u203a", text)


def slack_text(text: str) -> str:
    """Stranger text for a Slack mrkdwn field: `slack_inert`, then `slack_escape`."""
    return slack_escape(slack_inert(text))


def slack_escape(text: str) -> str:
    """Escape `&`, `<`, `>` (in that order) so Slack shows text literally: no pings, no links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def terminal_safe(text: str) -> str:
    """Replace control characters (terminal escape sequences among them) with U+FFFD."""
    return _CONTROL.sub("\ufffd", text)


def csv_safe(value: object) -> object:
    """A cell a spreadsheet shows and never runs: in a string, invisible controls are
    stripped, CR and CRLF become LF, and every line that a spreadsheet would start a formula
    with (`=`, `+`, `-`, `@`, tab; after leading spaces) is prefixed with `'`. The line
    starts count too: a reader that splits rows on line ends must meet no formula either."""
    if not isinstance(value, str) or not value:
        return value
    text = _LINE_BREAK.sub("\n", strip_invisible(value))
    return "\n".join(
        "'" + line if line.lstrip()[:1] in _FORMULA_START or line.startswith("\t") else line
        for line in text.split("\n")
    )


def compact_count(n: int) -> str:
    """A follower or reach count as people say it: 1.2M, 48k, 9,500 (999,500 is 1M)."""
    if n < 10_000:
        return f"{n:,}"
    thousands = f"{n / 1_000:.0f}"
    if len(thousands) <= 3:  # 999,500 and up round to 1000k: said as 1M
        return f"{thousands}k"
    return f"{n / 1_000_000:.1f}M".replace(".0M", "M")


def shorten(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters, ending with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + "…"
