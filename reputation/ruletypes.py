"""Rule types: how each kind of rule decides it fires (RULE_TYPES; elastalert's names)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from reputation.store import Store
from reputation.timeutil import parse_time
from reputation.validate import Field

if TYPE_CHECKING:
    from reputation.ruleset import Rule

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Firing:
    """A rule matched: its brand and group, when, and the mentions that prove it. A type may
    give its own summary and reasons (a flatline has no mention to describe)."""

    brand: str
    group_value: str
    anchor: str
    event_at: datetime
    evidence: tuple[Row, ...]
    summary: str | None = None
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scan:
    """What a periodic rule found this run: firings, and the (brand, group value) pairs whose
    condition cleared (their open alerts are marked resolved)."""

    firings: list[Firing]
    cleared: list[tuple[str, str]]


# A rule type has OPTIONS and either `fire(rule, row, store) -> Firing | None`, called for each
# newly scored mention its `where` matches (event time), or `scan(rule, store, now) -> Scan`,
# called once per run (wall-clock time: a source going quiet has no mention to react to).


class AnyRule:
    """Fires on each mention that matches `where`."""

    OPTIONS: ClassVar[dict[str, Field]] = {}

    @staticmethod
    def fire(rule: Rule, row: Row, store: Store) -> Firing | None:
        """A firing for `row` alone, grouped by `query_key` (default: the mention itself)."""
        group = row[rule.query_key] if rule.query_key else row["key"]
        return Firing(row["brand"], str(group), row["key"], parse_time(row["created_at"]), (row,))


class FrequencyRule:
    """Fires when `num_events` matching mentions fall within `timeframe`, per `query_key`."""

    OPTIONS: ClassVar[dict[str, Field]] = {
        "num_events": Field("int", required=True, min=1),
        "timeframe": Field("duration", required=True),
    }

    @staticmethod
    def fire(rule: Rule, row: Row, store: Store) -> Firing | None:
        """A firing if the window ending at `row` holds enough matching mentions."""
        key = rule.query_key or "brand"
        end = parse_time(row["created_at"])
        start = end - rule.options["timeframe"]
        found = [
            r for r in store.window(row["brand"], start, end, key, row[key]) if rule.matches(r)
        ]
        if len(found) < rule.options["num_events"]:
            return None
        return Firing(row["brand"], str(row[key]), row["key"], end, tuple(found))


RULE_TYPES: dict[str, Any] = {"any": AnyRule, "frequency": FrequencyRule}
