"""Rule types: how each kind of rule decides it fires (RULE_TYPES; elastalert's names).

A rule type follows the RuleType protocol below; RuleTypeBase supplies what a type may leave
out. Adding one is a class here and a line in RULE_TYPES.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from reputation.models import Row, field_value
from reputation.timeutil import iso, parse_time
from reputation.validate import Checker, Field

if TYPE_CHECKING:  # the store only as a type: config imports this module, not the store
    from reputation.brands import Brand
    from reputation.ruleset import Rule
    from reputation.store import Store


@dataclass(frozen=True)
class Firing:
    """A rule matched: its brand and group, when, the mentions that prove it (none for a
    flatline), the alert's summary, and the rule's reasons, the first of them saying which
    rule fired and why (the top mention's scoring reasons follow in the alert)."""

    brand: str
    group_value: str
    anchor: str
    event_at: datetime
    evidence: tuple[Row, ...]
    summary: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Scan:
    """What a periodic rule found this run: firings, and the (brand, group value) pairs whose
    condition cleared (their open alerts are marked resolved)."""

    firings: list[Firing]
    cleared: list[tuple[str, str]]


class RuleType(Protocol):
    """What a rule type supplies (as static methods of a class in RULE_TYPES).

    - `OPTIONS`: its own keys in a rule file, checked with the common ones.
    - `fire(rule, row, store)`: called for each newly scored mention that the rule's `where`
      matches, in event time; returns a Firing per group that fires (often none or one;
      new_term: one per new hashtag).
    - `scan(rule, store, now)`: called once per run, in wall-clock time, for what no mention
      can trigger (a source going quiet).
    - `check_options(values, path, check, brands)`: checks that span several options, called
      once each option is valid on its own; records errors in `check`.

    Each Firing carries the type's own summary and reasons, so the engine needs no knowledge
    of any type.
    """

    # Read-only here (a class attribute in a type) so that a class object matches.
    @property
    def OPTIONS(self) -> Mapping[str, Field]: ...

    def fire(self, rule: Rule, row: Row, store: Store) -> list[Firing]: ...

    def scan(self, rule: Rule, store: Store, now: datetime) -> Scan: ...

    def check_options(
        self, values: Mapping[str, Any], path: str, check: Checker, brands: Sequence[Brand]
    ) -> None: ...


class RuleTypeBase:
    """What a rule type may leave out: no options, no firing per mention, no periodic scan,
    no checks across options."""

    OPTIONS: ClassVar[Mapping[str, Field]] = {}

    @staticmethod
    def fire(rule: Rule, row: Row, store: Store) -> list[Firing]:
        """Nothing: this type does not react to single mentions."""
        return []

    @staticmethod
    def scan(rule: Rule, store: Store, now: datetime) -> Scan:
        """Nothing: this type has no periodic check."""
        return Scan([], [])

    @staticmethod
    def check_options(
        values: Mapping[str, Any], path: str, check: Checker, brands: Sequence[Brand]
    ) -> None:
        """Nothing to check beyond each option on its own."""


def rule_reason(rule: Rule) -> str:
    """The reason every alert of `rule` gives first: its description, or its name."""
    return rule.description or f"matched rule {rule.name}"


def mention_summary(brand: str, row: Row) -> str:
    """An alert about one mention: `legal mention of Acme Air by @ann on x`."""
    author = f"@{row['author'].lstrip('@')}" if row["author"] else "someone"
    category = row["category"].replace("_", " ")
    return f"{category} mention of {brand} by {author} on {row['source']}"


class AnyRule(RuleTypeBase):
    """Fires on each mention that matches `where`."""

    @staticmethod
    def fire(rule: Rule, row: Row, store: Store) -> list[Firing]:
        """A firing for `row` alone, grouped by `query_key` (default: the mention itself)."""
        group = field_value(row, rule.query_key) if rule.query_key else row["key"]
        created = parse_time(row["created_at"])
        summary = mention_summary(row["brand"], row)
        return [
            Firing(row["brand"], str(group), row["key"], created, (row,), summary,
                   (rule_reason(rule),))
        ]  # fmt: skip


class FrequencyRule(RuleTypeBase):
    """Fires when `num_events` matching mentions fall within `timeframe`, per `query_key`."""

    OPTIONS: ClassVar[Mapping[str, Field]] = {
        "num_events": Field("int", required=True, min=1),
        "timeframe": Field("duration", required=True),
    }

    @staticmethod
    def fire(rule: Rule, row: Row, store: Store) -> list[Firing]:
        """A firing if the window ending at `row` holds enough matching mentions."""
        key, span = rule.query_key or "brand", rule.options["timeframe"]
        end = parse_time(row["created_at"])
        value = field_value(row, key)
        found = [r for r in store.window(row["brand"], end - span, end, key, value)
                 if rule.matches(r)]  # fmt: skip
        if len(found) < rule.options["num_events"]:
            return []
        if len(found) == 1:
            summary = mention_summary(row["brand"], found[0])
        else:
            summary = f"{len(found)} matching mentions of {row['brand']} within {_window(span)}"
        reason = f"{rule_reason(rule)} ({len(found)} in {_window(span)})"
        return [Firing(row["brand"], str(value), row["key"], end, tuple(found), summary, (reason,))]


DAY = timedelta(days=1)
SEEN_WITHIN = timedelta(days=7)  # a flatline watches values seen this recently
HASHTAG = re.compile(r"#\w+")
NEW_TERM_FIELDS = ("category", "hashtags", "source", "lang", "author")


class SpikeRule(RuleTypeBase):
    """Fires when the matching mentions in `timeframe` reach `spike_height` times a reference:
    the timeframe before (`previous`), or the mean of the same window on each of the past
    `baseline_days` days (`same_hour`)."""

    OPTIONS: ClassVar[Mapping[str, Field]] = {
        "timeframe": Field("duration", required=True),
        "spike_height": Field("float", required=True, min=1.01),
        "threshold_cur": Field("int", default=1, min=1),
        "threshold_ref": Field("int", default=0, min=0),
        "baseline": Field("choice", default="previous", choices=("previous", "same_hour")),
        "baseline_days": Field("int", default=7, min=1, max=30),
    }

    @staticmethod
    def check_options(
        values: Mapping[str, Any], path: str, check: Checker, brands: Sequence[Brand]
    ) -> None:
        """`same_hour` compares day by day, so its timeframe may not exceed a day."""
        if values["baseline"] == "same_hour" and values["timeframe"] > DAY:
            check.error(f"{path}.timeframe", "must be at most 1d with baseline: same_hour")

    @staticmethod
    def fire(rule: Rule, row: Row, store: Store) -> list[Firing]:
        """A firing if the window ending at `row` holds at least `threshold_cur` matching
        mentions and `spike_height` times the reference, itself at least `threshold_ref`."""
        opts = rule.options
        key, span = rule.query_key or "brand", opts["timeframe"]
        end, value = parse_time(row["created_at"]), field_value(row, key)

        def matching(start: datetime, stop: datetime) -> list[Row]:
            found = store.window(row["brand"], start, stop, key, value)
            return [r for r in found if rule.matches(r)]

        current = matching(end - span, end)
        if opts["baseline"] == "previous":
            cutoff = iso(end - span)  # [end - 2 span, end - span): nothing counted twice
            ref = float(sum(r["created_at"] < cutoff for r in matching(end - 2 * span, end - span)))
            versus = f"the previous {_human(span)}"
            reason = f"spike: {len(current)} vs {ref:g} before"
        else:
            days = opts["baseline_days"]
            past = (matching(end - d * DAY - span, end - d * DAY) for d in range(1, days + 1))
            ref = sum(len(rows) for rows in past) / days
            versus = f"the same {_human(span)} on the past {days} days (mean {ref:.1f})"
            reason = f"spike: {len(current)} vs {ref:.1f} a day at this time ({days}-day mean)"
        if (
            len(current) < opts["threshold_cur"]
            or ref < opts["threshold_ref"]
            or len(current) < ref * opts["spike_height"]
        ):
            return []
        height = f"{len(current) / ref:.1f}x {versus}" if ref else f"up from 0 in {versus}"
        scope = "" if key == "brand" else f" ({key} {value})"
        summary = f"{len(current)} mentions of {row['brand']}{scope} in {_human(span)}, {height}"
        reasons = (rule_reason(rule), reason)
        return [Firing(row["brand"], str(value), row["key"], end, tuple(current), summary, reasons)]


class FlatlineRule(RuleTypeBase):
    """Fires when a value of `query_key` (default: source) seen in the last 7 days has had fewer
    than `threshold` matching mentions in the `timeframe` before now; clears when they return.
    Wall-clock: it runs once per run (`scan`), not per mention."""

    OPTIONS: ClassVar[Mapping[str, Field]] = {
        "threshold": Field("int", default=1, min=1),
        "timeframe": Field("duration", required=True),
    }

    @staticmethod
    def scan(rule: Rule, store: Store, now: datetime) -> Scan:
        """Firings for the values now below threshold, and the values back at or above it.
        The brand is the value itself when `query_key` is brand, else "*" (every brand)."""
        key, span = rule.query_key or "source", rule.options["timeframe"]
        seen_since = now - max(SEEN_WITHIN, 2 * span)
        scan = Scan([], [])
        for value in store.field_values(key, seen_since, now):
            brand = str(value) if key == "brand" else "*"
            state = _flatline_state(rule, store, key, value, now, seen_since)
            if state is None:
                continue  # nothing matching `where` lately: not watched
            count, newest, anchor = state
            if count >= rule.options["threshold"]:
                scan.cleared.append((brand, str(value)))
            else:
                scan.firings.append(
                    _flatline_firing(rule, brand, key, value, count, newest, anchor, now)
                )
        return scan


def _flatline_state(
    rule: Rule, store: Store, key: str, value: Any, now: datetime, seen_since: datetime
) -> tuple[int, Row, str] | None:
    """(matching mentions in the window, the newest one, the episode's anchor), or None if no
    matching mention since `seen_since`. The anchor is the created_at of the last mention of
    the latest window that held `threshold` of them (threshold 1: the last mention before the
    gap); mentions arriving during the gap cannot move it, so one quiet spell is one alert.
    "" if no window ever held that many: then the whole history is one spell."""
    need, span = rule.options["threshold"], rule.options["timeframe"]
    start, seen = iso(now - span), iso(seen_since)
    recent: deque[Row] = deque(maxlen=need)  # the last `need` matching mentions read
    newest: Row | None = None
    count = 0
    for row in store.newest_first(now, field=key, value=value):
        if newest is None and row["created_at"] < seen:
            return None
        if not rule.matches(row):
            continue
        newest = newest or row
        count += row["created_at"] >= start
        recent.append(row)
        if len(recent) == need:
            first, last = parse_time(recent[-1]["created_at"]), parse_time(recent[0]["created_at"])
            if last - first <= span:
                return count, newest, recent[0]["created_at"]
    return (count, newest, "") if newest is not None else None


def _flatline_firing(
    rule: Rule, brand: str, key: str, value: Any, count: int, newest: Row, anchor: str,
    now: datetime,
) -> Firing:  # fmt: skip
    need, span = rule.options["threshold"], rule.options["timeframe"]
    last = parse_time(newest["created_at"])
    who = {"source": f"from {value}", "brand": f"of {value}"}.get(key, f"with {key} {value}")
    when = f"last at {last:%Y-%m-%d %H:%M} UTC"
    if count == 0:
        summary = f"no mentions {who} for {_human(now - last)} ({when})"
    else:
        some = f"{count} mention" if count == 1 else f"{count} mentions"
        summary = f"only {some} {who} in {_human(span)}, fewer than {need} ({when})"
    reason = f"flatline: {count} in {_human(span)}, threshold {need}"
    return Firing(brand, str(value), anchor, now, (), summary, (rule_reason(rule), reason))


class NewTermRule(RuleTypeBase):
    """Fires on a term (a category, hashtag, source, language or author) that no earlier
    matching mention of the brand had within `terms_window`."""

    OPTIONS: ClassVar[Mapping[str, Field]] = {
        "field": Field("choice", default="category", choices=NEW_TERM_FIELDS),
        "terms_window": Field("duration", default="30d"),
        "min_history": Field("duration", default="1d"),
    }

    @staticmethod
    def fire(rule: Rule, row: Row, store: Store) -> list[Firing]:
        """A firing per new term of `row` (group value: the term), provided the brand has
        mentions at least `min_history` older than `row`, so a fresh store is quiet."""
        field, window = rule.options["field"], rule.options["terms_window"]
        if field == "hashtags":
            terms = sorted(set(HASHTAG.findall(row["text"].lower())))
        else:
            value = field_value(row, field)
            terms = [str(value)] if value not in (None, "") else []
        created = parse_time(row["created_at"])
        first = store.first_mention_at(row["brand"]) if terms else None
        if first is None or first > created - rule.options["min_history"]:
            return []
        span = f"in {_human(window)}"
        if first > created - window:
            span = f"since records began on {first:%Y-%m-%d}"
        firings = []
        for term in terms:
            if _seen_before(rule, row, store, term, created - window):
                continue
            summary = f"first '{term}' mention of {row['brand']} {span}"
            reason = f"new {field[:-1] if field == 'hashtags' else field}: '{term}', none {span}"
            firings.append(Firing(row["brand"], term, row["key"], created, (row,), summary,
                                  (rule_reason(rule), reason)))  # fmt: skip
        return firings


def _seen_before(rule: Rule, row: Row, store: Store, term: str, since: datetime) -> bool:
    """Whether a matching mention of the brand created in [since, row) had `term`."""
    field = rule.options["field"]
    scope: dict[str, Any] = {"since": since, "brand": row["brand"]}
    if field == "hashtags":
        scope["text_like"] = _like_pattern(term)
    else:
        scope.update(field=field, value=field_value(row, field))
    earlier = store.newest_first(
        parse_time(row["created_at"]), before=(row["created_at"], row["key"]), **scope
    )
    for other in earlier:
        if field == "hashtags" and term not in HASHTAG.findall(other["text"].lower()):
            continue  # `#acme` also LIKE-matches `#acmeair`
        if rule.matches(other):
            return True
    return False


def _like_pattern(term: str) -> str:
    """A LIKE pattern (escape `\\`) matching any text that may contain `term`: LIKE folds
    ASCII case only, so other characters become `_`; the caller checks the real match."""
    chars = ("\\" + c if c in "%_\\" else c if c.isascii() else "_" for c in term)
    return "%" + "".join(chars) + "%"


def _human(delta: timedelta) -> str:
    """`30 min`, `6h`, `6h 50m`, `1d 2h`, `30 days`."""
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    if days and not rest:
        return f"{days} day" if days == 1 else f"{days} days"
    if minutes < 60:
        return f"{minutes} min"
    parts = [(days, "d"), *zip(divmod(rest, 60), ("h", "m"), strict=True)]
    return " ".join(f"{n}{unit}" for n, unit in parts if n)


def _window(delta: timedelta) -> str:
    """`30 min`, `2h`: a frequency window as its summary and reason say it."""
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60}h" if minutes % 60 == 0 and minutes >= 60 else f"{minutes} min"


RULE_TYPES: dict[str, RuleType] = {
    "any": AnyRule,
    "frequency": FrequencyRule,
    "spike": SpikeRule,
    "flatline": FlatlineRule,
    "new_term": NewTermRule,
}
