"""Brands and how a text is matched to one: terms, exclusions and the brand's own accounts."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field


def _phrase_pattern(phrases: Sequence[str]) -> re.Pattern[str] | None:
    """One case-insensitive pattern matching any phrase as whole words, spaces flexible."""
    parts = []
    for phrase in phrases:
        words = [re.escape(w) for w in phrase.strip().split()]
        if words:
            parts.append(r"\s+".join(words))
    if not parts:
        return None
    # Longest first so "acme air fryer" wins over "acme air" inside one alternation.
    parts.sort(key=len, reverse=True)
    return re.compile(r"(?<![\w@#])(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)


def normalize_handle(handle: str | None) -> str:
    """Lower-case a handle and drop a leading `@` so `@AcmeAir` equals `acmeair`."""
    return (handle or "").strip().lstrip("@").lower()


@dataclass(frozen=True)
class Brand:
    """A monitored brand: what names it, what only looks like it, and its own accounts."""

    name: str
    terms: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    own_accounts: tuple[str, ...] = ()
    _terms_re: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)
    _exclude_re: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)
    _own: frozenset[str] = field(default=frozenset(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_terms_re", _phrase_pattern(self.terms))
        object.__setattr__(self, "_exclude_re", _phrase_pattern(self.exclude))
        object.__setattr__(self, "_own", frozenset(normalize_handle(a) for a in self.own_accounts))

    def mentioned_in(self, text: str) -> bool:
        """True if a term occurs in `text` outside every excluded phrase."""
        if self._terms_re is None or not text:
            return False
        if self._exclude_re is not None:
            text = self._exclude_re.sub(" ", text)
        return self._terms_re.search(text) is not None

    def is_own_account(self, author: str | None) -> bool:
        """True if `author` is one of the brand's own accounts."""
        if not self._own:
            return False
        handle = normalize_handle(author)
        return bool(handle) and handle in self._own


def match_brand(text: str, brands: Sequence[Brand]) -> Brand | None:
    """The first configured brand mentioned in `text`, or None."""
    for brand in brands:
        if brand.mentioned_in(text):
            return brand
    return None
