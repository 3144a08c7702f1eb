"""Rule windows read once per batch: each group's matching mentions over a time range, kept
in memory and extended as evaluation moves forward in event time, so a storm costs one read
per batch and group, never one per mention (issue 12; decision 100)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Collection, Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from typing import TYPE_CHECKING, Any, overload

from reputation.models import Row
from reputation.timeutil import iso, parse_time

if TYPE_CHECKING:  # the store and rules only as types: config imports the rule types
    from reputation.ruleset import Rule
    from reputation.store import Store


class Span(Sequence[Row]):
    """rows[lo:hi] without a copy: a window's evidence, materialised only when recorded."""

    def __init__(self, rows: list[Row], lo: int, hi: int):
        self._items, self._lo, self._hi = rows, lo, hi

    def __len__(self) -> int:
        return self._hi - self._lo

    @overload
    def __getitem__(self, index: int) -> Row: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Row]: ...

    def __getitem__(self, index: int | slice) -> Row | Sequence[Row]:
        if isinstance(index, slice):
            return self._items[self._lo : self._hi][index]
        if not -len(self) <= index < len(self):
            raise IndexError("span index out of range")
        return self._items[self._lo + index if index >= 0 else self._hi + index]

    def __iter__(self) -> Iterator[Row]:
        for i in range(self._lo, self._hi):
            yield self._items[i]


@dataclass
class Matching:
    """A group's rule-matching scored mentions created in [lo, hi], in (created_at, key)
    order, with their created_at and severity lists for counting by bisection."""

    lo: str
    hi: str
    rows: list[Row]
    times: list[str] = field(init=False)
    severities: list[float] = field(init=False)
    used: int = 0

    def __post_init__(self) -> None:
        self.times = [r["created_at"] for r in self.rows]
        self.severities = [r["severity"] for r in self.rows]

    def bounds(self, start: datetime, end: datetime, *, end_open: bool = False) -> tuple[int, int]:
        """Indexes (i, j) of the rows created in [start, end] ([start, end) if `end_open`)."""
        i = bisect_left(self.times, iso(start))
        j = (bisect_left if end_open else bisect_right)(self.times, iso(end))
        return i, j

    def span(self, bounds: tuple[int, int]) -> Span:
        """The rows within `bounds`, as evidence."""
        return Span(self.rows, *bounds)


class Windows:
    """Per evaluation (mentions and scores do not change while rules run): each group's
    matching rows for one rule, read from the store once and extended forward batch by
    batch; groups a batch did not use are dropped at the next, so memory holds the active
    windows only."""

    def __init__(self, store: Store):
        self.store = store
        self._ranges: dict[Hashable, Matching] = {}
        self._first: dict[str, datetime | None] = {}
        self._batch = 0

    def next_batch(self) -> None:
        """Start a batch: forget the windows the previous one did not use."""
        self._ranges = {k: m for k, m in self._ranges.items() if m.used == self._batch}
        self._batch += 1

    def matching(
        self, rule: Rule, tag: str, brand: str, key: str, value: Any, start: datetime,
        end: datetime, matched: Collection[str] = (),
    ) -> Matching:  # fmt: skip
        """The mentions of `brand` with `key` = value that `rule` matches, created in
        [start, end] at least; `tag` tells apart the windows one rule keeps per group;
        `matched` holds keys of rows known to match (the batch's), not tested again."""
        name = (rule.name, tag, brand, key, value)
        lo, hi = iso(start), iso(end)
        have = self._ranges.get(name)
        if have is None or lo < have.lo or lo > have.hi:
            have = Matching(lo, hi, self._read(rule, brand, key, value, start, end, matched))
        elif lo > have.lo or hi > have.hi:
            more: list[Row] = []
            if hi > have.hi:  # the rows at have.hi are already in: read past them
                since = parse_time(have.hi)
                read = self._read(rule, brand, key, value, since, end, matched)
                more = [r for r in read if r["created_at"] > have.hi]
            cut = bisect_left(have.times, lo)
            have = Matching(lo, max(hi, have.hi), have.rows[cut:] + more)
        have.used = self._batch
        self._ranges[name] = have
        return have

    def first_mention_at(self, brand: str) -> datetime | None:
        """The store's `first_mention_at`, read once per brand."""
        if brand not in self._first:
            self._first[brand] = self.store.first_mention_at(brand)
        return self._first[brand]

    def _read(
        self, rule: Rule, brand: str, key: str, value: Any, start: datetime, end: datetime,
        matched: Collection[str],
    ) -> list[Row]:  # fmt: skip
        found = self.store.window(brand, start, end, key, value)
        return [r for r in found if r["key"] in matched or rule.matches(r)]


def sliding_max(values: Sequence[float], spans: Sequence[tuple[int, int]]) -> list[float]:
    """max(values[i:j]) for each (i, j) (0.0 if empty): a monotonic deque when the spans only
    move forward, as a batch in event time does; a direct max otherwise."""
    forward = all(a <= c and b <= d for (a, b), (c, d) in pairwise(spans))
    if not forward:
        return [max(values[i:j], default=0.0) for i, j in spans]
    out: list[float] = []
    best: deque[int] = deque()  # indexes of decreasing values within the current span
    added = 0
    for i, j in spans:
        for k in range(max(added, i), j):
            while best and values[best[-1]] <= values[k]:
                best.pop()
            best.append(k)
        added = max(added, j)
        while best and best[0] < i:
            best.popleft()
        out.append(values[best[0]] if best else 0.0)
    return out
