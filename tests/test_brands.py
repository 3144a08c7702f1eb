"""Matching a text to a brand: whole words, spaces and case flexible, exclusions first, the
longest phrase winning, handles and hashtags only as written; the brand's own accounts."""

from __future__ import annotations

import pytest

from reputation.brands import Brand, match_brand, normalize_handle

ACME = Brand("Acme Air", ("acme air", "@acmeair", "#acmefail"), ("acme air fryer",), ("@AcmeAir",))


@pytest.mark.parametrize(
    ("text", "mentioned"),
    [
        ("Flew Acme Air today", True),
        ("flew ACME   AIR today", True),  # case and spacing are free
        ("flew acme\nair today", True),
        ("acme air", True),  # the whole text
        ("acme air.", True),  # punctuation ends a word
        ("thanks @acmeair", True),
        ("so #acmefail", True),
        ("acmeair is not a term", False),  # words are whole: no spaces, no match
        ("the acme airline", False),  # nor part of a longer word
        ("xacme air", False),
        ("mail@acmeair.example", False),  # a handle inside an address is not a handle
        ("#acme air", False),  # a hashtag is its own term
        ("@acme air", False),
        ("my acme air fryer broke", False),  # excluded
        ("my ACME AIR  FRYER broke", False),
        ("acme air fryer, and acme air lost my bag", True),  # the exclusion leaves the rest
        ("acme air fryerx", True),  # the exclusion is whole words too
        ("acme air fryer@acmeair", True),  # what follows an exclusion stays a word of its own
        ("", False),
    ],
)
def test_a_brand_is_mentioned_by_its_terms_as_whole_words(text: str, mentioned: bool) -> None:
    assert ACME.mentioned_in(text) is mentioned


def test_the_longest_phrase_wins_inside_one_pattern() -> None:
    # "acme air fryer" and "acme air" both match at the same place: the exclusion must take
    # the whole "acme air fryer", or "fryer" would be left and the term found in it again.
    brand = Brand("Acme Air", ("acme air", "air fryer"), ("acme air fryer", "acme"))
    assert not brand.mentioned_in("an acme air fryer")
    assert brand.mentioned_in("an air fryer")


def test_the_longest_phrase_wins_whatever_the_case_it_is_written_in() -> None:
    # Sorted by length, not as strings: "ACME AIR FRYER" sorts before "acme air".
    brand = Brand("Fryers", ("fryer",), ("acme air", "ACME AIR FRYER"))
    assert not brand.mentioned_in("my acme air fryer")
    assert brand.mentioned_in("my fryer")


def test_phrases_of_only_spaces_match_nothing() -> None:
    blank = Brand("Blank", ("  ", ""), ("   ",))
    assert not blank.mentioned_in("anything at all")
    assert not blank.mentioned_in("  ")
    spaced = Brand("Spaced", ("  acme  air ",), ("  ",))
    assert spaced.mentioned_in("acme air rocks")


def test_a_special_character_in_a_term_is_literal() -> None:
    brand = Brand("A.B", ("a.b co",))
    assert brand.mentioned_in("call a.b co now")
    assert not brand.mentioned_in("call axb co now")


@pytest.mark.parametrize(
    ("handle", "normal"),
    [("@AcmeAir", "acmeair"), ("  @acmeair ", "acmeair"), ("AcmeAir", "acmeair"), (None, ""),
     ("", ""), ("@@x", "x"), ("@XavierAir", "xavierair")],
)  # fmt: skip
def test_normalize_handle(handle: str | None, normal: str) -> None:
    assert normalize_handle(handle) == normal


@pytest.mark.parametrize(
    ("author", "own"),
    [("acmeair", True), ("@ACMEAIR", True), (" @AcmeAir ", True), ("acmeair2", False),
     ("", False), (None, False), ("@", False)],
)  # fmt: skip
def test_the_brands_own_accounts_whatever_the_case_or_at_sign(
    author: str | None, own: bool
) -> None:
    assert ACME.is_own_account(author) is own


def test_no_own_accounts_means_no_author_is_one() -> None:
    assert not Brand("B", ("b",)).is_own_account("b")
    assert not Brand("B", ("b",), own_accounts=("",)).is_own_account("")


def test_the_first_brand_mentioned_is_the_match() -> None:
    other = Brand("Other", ("other co", "acme air"))
    assert match_brand("acme air and other co", [ACME, other]) is ACME
    assert match_brand("acme air and other co", [other, ACME]) is other
    assert match_brand("other co only", [ACME, other]) is other
    assert match_brand("nobody", [ACME, other]) is None
    assert match_brand("acme air", []) is None
