"""Untrusted text stays inert: Slack escaping, CSV formula defusing, terminal control codes."""

from __future__ import annotations

import pytest

from reputation.text import csv_safe, normalize, slack_escape, terminal_safe


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("<!channel>", "&lt;!channel&gt;"),
        ("<!here> <@U123> <#C1>", "&lt;!here&gt; &lt;@U123&gt; &lt;#C1&gt;"),
        ("<https://evil.example|bank.com>", "&lt;https://evil.example|bank.com&gt;"),
        ("&lt;already&gt;", "&amp;lt;already&amp;gt;"),  # & first, so nothing is unescaped
        ("plain *bold* @here", "plain *bold* @here"),
    ],
)
def test_slack_escape(raw: str, escaped: str) -> None:
    assert slack_escape(raw) == escaped


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1 star", "'-1 star"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=cmd", "'\t=cmd"),
        ("\r=cmd", "'\r=cmd"),
        ("  =cmd", "'  =cmd"),
        ("fine", "fine"),
        ("", ""),
        (None, None),
        (-3, -3),
    ],
)
def test_csv_safe(cell: object, safe: object) -> None:
    assert csv_safe(cell) == safe


def test_terminal_escapes_are_neutralised() -> None:
    hostile = "hi \x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\ \x07"
    cleaned = terminal_safe(hostile)
    assert "\x1b" not in cleaned and "\x07" not in cleaned
    assert "click" in cleaned


def test_normalize_strips_markup_and_decodes_entities() -> None:
    assert normalize("<p>Acme &amp; <b>co</b></p> [site](https://a.example) **bold**") == (
        "Acme & co site bold"
    )


def test_inline_tags_do_not_split_words_but_block_tags_do() -> None:
    html = (
        '<p>Hi <a href="https://m.example/@acmeair">@<span>acmeair</span></a> '
        "#<span>fail</span></p><p>next</p>a<br>b"
    )
    assert normalize(html) == "Hi @acmeair #fail next a b"


def test_slack_syntax_typed_by_a_stranger_is_not_taken_for_html() -> None:
    text = "<!channel> <@U024BE7LH> refund at <https://evil.example/x|bank.com> <p>ok</p>"
    assert (
        normalize(text) == "<!channel> <@U024BE7LH> refund at <https://evil.example/x|bank.com> ok"
    )
