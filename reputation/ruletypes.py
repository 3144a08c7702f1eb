"""Rule types: how each kind of rule decides it fires (RULE_TYPES; elastalert's names).

A rule type follows the RuleType protocol below; RuleTypeBase supplies what a type may leave
out. Adding one is a class here and a line in RULE_TYPES.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from reputation.models import Row, field_value
from reputation.timeutil import iso, parse_time
from reputation.validate import Checker, Field
from reputation.windows import Matching, Windows, sliding_max

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
    evidence: Sequence[Row]
    summary: str
    reasons: tuple[str, ...]
    # The highest severity among `evidence`, when the type knows it without a pass over it.
    severity: float | None = None


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
    - `fire_batch(rule, rows, windows)`: `fire` for a batch of such mentions at once, one
      list per row; `windows` reads each group's window once per batch (RuleTypeBase runs
      `fire` per row).
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

    def fire_batch(
        self, rule: Rule, rows: Sequence[Row], windows: Windows
    ) -> list[list[Firing]]: ...

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

    @classmethod
    def fire_batch(cls, rule: Rule, rows: Sequence[Row], windows: Windows) -> list[list[Firing]]:
        """`fire` on each row, in order."""
        return [cls.fire(rule, row, windows.store) for row in rows]

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
        return FrequencyRule.fire_batch(rule, [row], Windows(store))[0]

    @staticmethod
    def fire_batch(rule: Rule, rows: Sequence[Row], windows: Windows) -> list[list[Firing]]:
        """`fire` per row; each group's window read once for the batch."""
        key, span = rule.query_key or "brand", rule.options["timeframe"]
        out: list[list[Firing]] = [[] for _ in rows]
        matched = {row["key"] for row in rows}  # the engine passes only rows that match
        for (brand, value), members in _groups(rows, key).items():
            ends = [parse_time(rows[i]["created_at"]) for i in members]
            first, last = min(ends) - span, max(ends)
            got = windows.matching(rule, "window", brand, key, value, first, last, matched)
            bounds = [got.bounds(end - span, end) for end in ends]
            tops = sliding_max(got.severities, bounds)
            for i, end, where, top in zip(members, ends, bounds, tops, strict=True):
                if where[1] - where[0] >= rule.options["num_events"]:
                    found = got.span(where)
                    out[i] = [_frequency_firing(rule, rows[i], value, end, found, top)]
        return out


def _frequency_firing(
    rule: Rule, row: Row, value: Any, end: datetime, found: Sequence[Row], top: float
) -> Firing:
    span = rule.options["timeframe"]
    if len(found) == 1:
        summary = mention_summary(row["brand"], found[0])
    else:
        summary = f"{len(found)} matching mentions of {row['brand']} within {_window(span)}"
    reason = f"{rule_reason(rule)} ({len(found)} in {_window(span)})"
    return Firing(row["brand"], str(value), row["key"], end, found, summary, (reason,), top)


def _groups(rows: Sequence[Row], key: str) -> dict[tuple[str, Any], list[int]]:
    """Indexes of `rows` by (brand, value of `key`), in order."""
    groups: dict[tuple[str, Any], list[int]] = {}
    for i, row in enumerate(rows):
        groups.setdefault((row["brand"], field_value(row, key)), []).append(i)
    return groups


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
        return SpikeRule.fire_batch(rule, [row], Windows(store))[0]

    @staticmethod
    def fire_batch(rule: Rule, rows: Sequence[Row], windows: Windows) -> list[list[Firing]]:
        """`fire` per row; each group's windows read once for the batch."""
        key, span = rule.query_key or "brand", rule.options["timeframe"]
        out: list[list[Firing]] = [[] for _ in rows]
        for (brand, value), members in _groups(rows, key).items():
            ends = [parse_time(rows[i]["created_at"]) for i in members]
            if rule.options["baseline"] == "previous":
                got = windows.matching(rule, "previous", brand, key, value,
                                       min(ends) - 2 * span, max(ends))  # fmt: skip
                refs = [float(_count(got, end - 2 * span, end - span, open_end=True))
                        for end in ends]  # fmt: skip
            else:
                got = windows.matching(rule, "current", brand, key, value,
                                       min(ends) - span, max(ends))  # fmt: skip
                refs = _same_hour(rule, windows, brand, key, value, ends)
            bounds = [got.bounds(end - span, end) for end in ends]
            tops = sliding_max(got.severities, bounds)
            for i, where, ref, top in zip(members, bounds, refs, tops, strict=True):
                out[i] = _spike(rule, rows[i], value, got.span(where), ref, top)
        return out


def _count(got: Matching, start: datetime, end: datetime, *, open_end: bool = False) -> int:
    i, j = got.bounds(start, end, end_open=open_end)
    return j - i


def _same_hour(
    rule: Rule, windows: Windows, brand: str, key: str, value: Any, ends: list[datetime]
) -> list[float]:
    """Each row's reference: the mean count of the same window on the past `baseline_days`."""
    span, days = rule.options["timeframe"], rule.options["baseline_days"]
    totals = [0] * len(ends)
    for d in range(1, days + 1):
        back = d * DAY
        got = windows.matching(rule, f"day{d}", brand, key, value,
                               min(ends) - back - span, max(ends) - back)  # fmt: skip
        for n, end in enumerate(ends):
            totals[n] += _count(got, end - back - span, end - back)
    return [total / days for total in totals]


def _spike(
    rule: Rule, row: Row, value: Any, current: Sequence[Row], ref: float, top: float
) -> list[Firing]:
    """A firing if `current` clears the thresholds against `ref`."""
    opts = rule.options
    key, span = rule.query_key or "brand", opts["timeframe"]
    if opts["baseline"] == "previous":
        versus = f"the previous {_human(span)}"
        reason = f"spike: {len(current)} vs {ref:g} before"
    else:
        days = opts["baseline_days"]
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
    end = parse_time(row["created_at"])
    return [Firing(row["brand"], str(value), row["key"], end, current, summary, reasons, top)]


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
        return NewTermRule.fire_batch(rule, [row], Windows(store))[0]

    @staticmethod
    def fire_batch(rule: Rule, rows: Sequence[Row], windows: Windows) -> list[list[Firing]]:
        """`fire` per row; each (brand, term) looked up once for the batch."""
        window = rule.options["terms_window"]
        due: dict[tuple[str, str], list[int]] = {}
        for i, row in enumerate(rows):
            first = windows.first_mention_at(row["brand"])
            created = parse_time(row["created_at"])
            if first is not None and first <= created - rule.options["min_history"]:
                for term in _terms(rule, row):
                    due.setdefault((row["brand"], term), []).append(i)
        seen: set[tuple[int, str]] = set()
        for (_, term), members in due.items():
            flags = _seen_before(rule, [rows[i] for i in members], windows.store, term, window)
            seen.update((i, term) for i, flag in zip(members, flags, strict=True) if flag)
        out: list[list[Firing]] = [[] for _ in rows]
        for (_, term), members in sorted(due.items(), key=lambda item: item[0][1]):
            for i in members:
                if (i, term) not in seen:
                    out[i].append(_new_term_firing(rule, rows[i], term, windows))
        return out


def _terms(rule: Rule, row: Row) -> list[str]:
    """The terms of `row` a new_term rule watches, sorted."""
    field = rule.options["field"]
    if field == "hashtags":
        return sorted(set(HASHTAG.findall(row["text"].lower())))
    value = field_value(row, field)
    return [str(value)] if value not in (None, "") else []


def _new_term_firing(rule: Rule, row: Row, term: str, windows: Windows) -> Firing:
    field, window = rule.options["field"], rule.options["terms_window"]
    created = parse_time(row["created_at"])
    first = windows.first_mention_at(row["brand"])
    span = f"in {_human(window)}"
    if first is not None and first > created - window:
        span = f"since records began on {first:%Y-%m-%d}"
    summary = f"first '{term}' mention of {row['brand']} {span}"
    reason = f"new {field[:-1] if field == 'hashtags' else field}: '{term}', none {span}"
    return Firing(row["brand"], term, row["key"], created, (row,), summary,
                  (rule_reason(rule), reason))  # fmt: skip


def _seen_before(
    rule: Rule, rows: Sequence[Row], store: Store, term: str, window: timedelta
) -> list[bool]:
    """For each of `rows` (one brand, all holding `term`): whether a matching mention of the
    brand created in [row - window, row) had `term`. Two reads for them all: back from the
    earliest row to the latest such mention before it, and the mentions among the rows."""
    order = sorted(range(len(rows)), key=lambda n: (rows[n]["created_at"], rows[n]["key"]))
    first, last = rows[order[0]], rows[order[-1]]
    scope: dict[str, Any] = {"brand": first["brand"]}
    if rule.options["field"] == "hashtags":
        scope["text_like"] = _like_pattern(term)
    else:
        scope.update(field=rule.options["field"], value=field_value(first, rule.options["field"]))
    start = parse_time(first["created_at"])
    earlier = store.newest_first(start, since=start - window,
                                 before=(first["created_at"], first["key"]), **scope)  # fmt: skip
    prior = next((_place(r) for r in earlier if _has(rule, r, term)), None)
    among: list[tuple[str, str]] = []
    if len(rows) > 1:
        inside = store.newest_first(parse_time(last["created_at"]), since=start,
                                    before=(last["created_at"], last["key"]), **scope)  # fmt: skip
        among = sorted(_place(r) for r in inside if _has(rule, r, term))
    flags = [False] * len(rows)
    for n in order:
        here = _place(rows[n])
        before = among[: bisect_left(among, here)]
        latest = max([*([prior] if prior and prior < here else []), *before[-1:]], default=None)
        since = iso(parse_time(here[0]) - window)
        flags[n] = latest is not None and latest[0] >= since
    return flags


def _place(row: Row) -> tuple[str, str]:
    return row["created_at"], row["key"]


def _has(rule: Rule, row: Row, term: str) -> bool:
    """Whether `row` matches the rule and (for hashtags) really holds `term`."""
    if rule.options["field"] == "hashtags" and term not in HASHTAG.findall(row["text"].lower()):
        return False  # `#acme` also LIKE-matches `#acmeair`
    return rule.matches(row)


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
