"""Behaviour no test held before: each of these let a planted bug survive the whole suite
(issue 10, "found by testing the tests"). Each test names the bug it catches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reputation.brands import Brand, match_brand, normalize_handle
from reputation.models import Mention
from reputation.store import Store

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
# Larger than any chunk of bound keys store.py can use: SQLite refuses a statement with more
# than 32,766 variables (its default limit since 3.32), so no chunk can hold this batch.
BIG = 32_767


def _mention(native_id: str, likes: int = 0, minutes: float = 0, **fields: object) -> Mention:
    return Mention(
        source="x",
        native_id=native_id,
        brand="Acme Air",
        text=str(fields.pop("text", "Acme Air")),
        created_at=T0,
        likes=likes,
        observed_at=T0 + timedelta(minutes=minutes),
        **fields,  # type: ignore[arg-type]
    )


def test_a_batch_larger_than_any_chunk_is_saved_and_saved_again(store: Store) -> None:
    # Planted: the lookup of current versions cut to chunks of 499 keys while stepping by
    # 500 (or any chunking that drops keys): re-saving known mentions then inserts them
    # again, and SQLite refuses them (IntegrityError).
    first = store.save_batch("file", [_mention(str(i)) for i in range(BIG)], T0)
    assert (first.new, first.updated, first.refused) == (BIG, 0, [])
    again = store.save_batch("file", [_mention(str(i), likes=1, minutes=5) for i in range(BIG)], T0)
    assert (again.new, again.updated, again.refused) == (0, BIG, [])
    assert store._rows("SELECT COUNT(*) AS n, MIN(version) AS v FROM mentions") == [
        {"n": BIG, "v": 2}
    ]
    snapshots = store.snapshots([f"x:{i}" for i in range(BIG)])
    assert all(len(found) == 2 for found in snapshots.values()) and len(snapshots) == BIG


def test_a_later_observation_without_a_parent_keeps_the_known_one(store: Store) -> None:
    # Planted: `parent_id = ?` instead of `COALESCE(?, parent_id)`: a re-read that lacks
    # the parent (a search result, not the thread) erased it, and the reply left its thread.
    store.save_batch("file", [_mention("1", parent_id="p0", thread_id="t0")], T0)
    store.save_batch("file", [_mention("1", likes=3, minutes=5)], T0)
    assert store._rows("SELECT parent_id, thread_id, likes FROM mentions") == [
        {"parent_id": "p0", "thread_id": "t0", "likes": 3}
    ]


def test_an_observation_with_the_same_time_is_current_not_late(store: Store) -> None:
    # Planted: `seen <= last_seen_at` instead of `<`: an observation made at the same instant
    # as the last was taken for a late one, and its counts never became current.
    store.save_batch("file", [_mention("1", likes=1, minutes=10)], T0)
    store.save_batch("file", [_mention("1", likes=5, minutes=10)], T0)
    assert store._rows("SELECT likes, last_seen_at FROM mentions") == [
        {"likes": 5, "last_seen_at": "2026-11-22T08:10:00.000000Z"}
    ]


# -- brand terms written with # or @ ---------------------------------------------------------

ACME = Brand("Acme Air", ("@acmeair", "#acmeair", "acme air", "acme.air"), ("acme air fryer",))
PLAIN = Brand("Acme Air", ("acmeair",))


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("thanks @AcmeAir for nothing", True),
        ("@acmeair", True),
        ("(@acmeair)", True),
        ("@acmeair_help is someone else", False),  # a longer handle
        ("@acmeairlines is not us", False),
        ("mail bob@acmeair.com", False),  # an address, not a mention
        ("Love #AcmeAir!", True),
        ("#acmeair", True),
        ("#acmeairfryer", False),  # a longer hashtag
        ("x#acmeair", False),
        ("acme\n  air lost my bag", True),  # spaces in a term match any run of spaces
        ("acme.air", True),
        ("acmexair", False),  # a term is text, not a pattern: "." is a dot
        ("my acme air fryer broke", False),  # excluded
    ],
)
def test_brand_terms_with_hash_or_at_match_whole_handles_and_tags(text: str, found: bool) -> None:
    # Planted: `@` or `#` dropped from the guard before a term, or the term not escaped.
    assert ACME.mentioned_in(text) is found


@pytest.mark.parametrize("text", ["#acmeair", "@acmeair", "go #AcmeAir", "hi @AcmeAir"])
def test_a_plain_term_does_not_match_inside_a_tag_or_handle(text: str) -> None:
    # The tag and the handle are terms of their own (`#acmeair`, `@acmeair`); a plain term
    # matches the word only.
    assert not PLAIN.mentioned_in(text)
    assert PLAIN.mentioned_in("flying acmeair today")


def test_own_accounts_compare_without_at_and_case() -> None:
    brand = Brand("Acme Air", ("acme air",), own_accounts=("@AcmeAir",))
    assert brand.is_own_account("acmeair") and brand.is_own_account(" @ACMEAIR ")
    assert not brand.is_own_account("acmeair_help") and not brand.is_own_account(None)
    assert normalize_handle("@@acmeair") == "acmeair"


def test_the_first_brand_mentioned_wins() -> None:
    other = Brand("Other", ("#acmeair",))
    assert match_brand("#acmeair delayed", [ACME, other]) is ACME
    assert match_brand("#acmeair delayed", [other, ACME]) is other
    assert match_brand("nothing here", [ACME, other]) is None
