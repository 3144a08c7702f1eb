"""Untrusted text stays inert: Slack escaping, CSV formula defusing, terminal control codes."""

from __future__ import annotations

import pytest

from reputation.text import (
    compact_count,
    csv_safe,
    normalize,
    shorten,
    slack_escape,
    slack_inert,
    slack_text,
    strip_invisible,
    terminal_safe,
)


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
        ("\r=cmd", "\n'=cmd"),  # a bare CR is a line end: the line after it is guarded
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


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("fine\r=cmd|' /C calc'!A0", "fine\n'=cmd|' /C calc'!A0"),
        ("a\r\n+1\n@SUM(A1)\n  -2\nok", "a\n'+1\n'@SUM(A1)\n'  -2\nok"),
        ("ok\n\t=cmd", "ok\n'\t=cmd"),
        ("no formula\nhere = there", "no formula\nhere = there"),
        ("\u202e=cmd", "'=cmd"),  # an invisible control cannot hide a formula's start
        ("evil\u202egnp.exe", "evilgnp.exe"),
    ],
)
def test_csv_safe_guards_every_line_of_a_cell(cell: str, safe: str) -> None:
    assert csv_safe(cell) == safe


BIDI_AND_ZERO_WIDTH = (
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
    "\u200b\u200c\u200d\u2060\ufeff"
)


@pytest.mark.parametrize("char", list(BIDI_AND_ZERO_WIDTH))
def test_bidi_controls_and_zero_width_characters_are_stripped(char: str) -> None:
    assert strip_invisible(f"Acme{char} Air{char}") == "Acme Air"
    assert char not in slack_text(f"Acme{char} Air") and char not in str(csv_safe(f"x{char}y"))


@pytest.mark.parametrize(
    "kept",
    [
        "\U0001f469\u200d\U0001f4bb",  # woman technologist: an emoji sequence
        "\U0001f3f3\ufe0f\u200d\U0001f308",  # rainbow flag
        "\U0001f469\U0001f3fd\u200d\U0001f4bb",  # with a skin tone
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian: ZWNJ is spelling
    ],
)
def test_joiners_that_writing_needs_are_kept(kept: str) -> None:
    assert strip_invisible(kept) == kept


@pytest.mark.parametrize(
    ("raw", "plain"),
    [
        ("__underlined__ text", "underlined text"),
        ("~~struck~~ text", "struck text"),
        ("`code` text", "code text"),
        ("**bold** text", "bold text"),
    ],
)
def test_each_markdown_marker_is_stripped_even_alone(raw: str, plain: str) -> None:
    assert normalize(raw) == plain


@pytest.mark.parametrize(
    ("raw", "plain"),
    [
        ("worst,everything late...again", "worst, everything late... again"),
        ("why?!why", "why?! why"),
        ("late...again", "late... again"),  # dots alone
        ("", ""),
        ("see https://a.example/x,y?q=1 ok", "see https://a.example/x,y?q=1 ok"),
    ],
)
def test_words_glued_by_punctuation_are_parted_but_links_are_not(raw: str, plain: str) -> None:
    assert normalize(raw) == plain


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("\u200d\U0001f4bb", "\U0001f4bb"),  # a ZWJ that starts the text joins nothing
        ("\U0001f469\u200d", "\U0001f469"),  # nor one that ends it
        ("\U0001f469\u200da", "\U0001f469a"),  # an emoji, then a letter: not a sequence
        ("a\U0001f469\u200d\U0001f4bb", "a\U0001f469\u200d\U0001f4bb"),  # kept mid-text
        ("\u200c\u0915", "\u0915"),  # a ZWNJ that starts the text
        ("\u0915\u200c", "\u0915"),  # or ends it
        ("\u0915\u094d\u200c\u0937", "\u0915\u094d\u200c\u0937"),  # after a virama (Mn)
        ("\u024f\u200c\u024f", "\u024f\u024f"),  # the last Latin letter keeps none
    ],
)
def test_joiners_are_judged_by_their_neighbours(raw: str, clean: str) -> None:
    assert strip_invisible(raw) == clean


@pytest.mark.parametrize(
    ("raw", "inert"),
    [
        ("*bold* _it_ ~struck~", "\u2217bold\u2217 \u02cdit\u02cd \u223cstruck\u223c"),
        (
            "`code` and ```block```",
            "\u02cbcode\u02cb and \u02cb\u02cb\u02cbblock\u02cb\u02cb\u02cb",
        ),
        ("*_~nested~_*", "\u2217\u02cd\u223cnested\u223c\u02cd\u2217"),
        ("> quoted\n  > again\nnot > this", "\u203a quoted\n  \u203a again\nnot > this"),
        # Inside a word Slack formats nothing, and handles keep their underscores.
        ("@jenna_marie_w said 3*4 is 12", "@jenna_marie_w said 3*4 is 12"),
        ("snake_case_name", "snake_case_name"),
    ],
)
def test_slack_markup_typed_by_a_stranger_does_not_format(raw: str, inert: str) -> None:
    assert slack_inert(raw) == inert


def test_slack_text_neutralises_then_escapes() -> None:
    assert slack_text("<!channel> *now* \u202e") == "&lt;!channel&gt; \u2217now\u2217 "


@pytest.mark.parametrize(
    ("text", "limit", "short"),
    [
        ("abc", 3, "abc"),  # exactly at the limit: kept whole
        ("abcdef", 4, "abc…"),  # the ellipsis counts in the limit
        ("ab cdef", 4, "ab…"),  # no space left before the ellipsis
        ("  abcdef", 5, "  ab…"),  # leading spaces are the text's own
        ("abc", 1, "…"),
    ],
)
def test_shorten_cuts_to_the_limit_ellipsis_included(text: str, limit: int, short: str) -> None:
    assert shorten(text, limit) == short
    assert len(shorten(text, limit)) <= limit


def test_terminal_safe_puts_one_replacement_character_for_each_control() -> None:
    assert terminal_safe("a\x1b[31mb\x07") == "a\ufffd[31mb\ufffd"


@pytest.mark.parametrize(
    ("n", "said"),
    [(0, "0"), (9_999, "9,999"), (10_000, "10k"), (48_000, "48k"), (999_000, "999k"),
     (1_000_000, "1M"), (1_050_000, "1.1M"), (1_200_000, "1.2M"), (25_000_000, "25M")],
)  # fmt: skip
def test_compact_count_says_counts_as_people_do(n: int, said: str) -> None:
    assert compact_count(n) == said


@pytest.mark.parametrize(("n", "said"), [(999_499, "999k"), (999_500, "1M"), (999_999, "1M")])
def test_compact_count_says_1m_where_the_thousands_round_up_to_1000(n: int, said: str) -> None:
    assert compact_count(n) == said  # not "1000k"
