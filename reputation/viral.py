"""Viral risk from engagement snapshots and reach: velocity, acceleration, a 24-hour forecast.

What the model reads. The mention row gives `created_at`, `last_seen_at`, the current
`likes`, `shares` and `replies`, and `author_followers` (None if unknown). Each engagement
snapshot is a mapping with `observed_at`, `likes`, `shares` and `replies`, and optionally
`reshare_reach` (the summed followers of the accounts that reshared the post so far, None if
unknown) and `impressions` (None if unknown). The optional keys are read with `.get`, so
snapshots without them work; the row may carry the two as well (its values win, being the
latest).

The forecast. At age t a post has N engagements, N_half of them by age t/2 (read between
the snapshots around then), an author with F followers and reshare reach R. The model predicts
how much the post will still grow:

    ln((1 + N24) / (1 + N)) = g0(t) + g1(t) ln((1 + N - N_half) / (1 + N))
                                     + g2(t) ln((1 + F) / (1 + N)) + g3(t) ln((1 + R) / (1 + N))

that is, by the share of its engagement that came in the last half of its life (momentum),
and by the author's followers and the reach per engagement (audience not yet used). Doubling
engagement, followers and reach doubles the forecast. g0..g3 are tabulated by age (10 minutes
to 18 hours, interpolated on log age; below 10 minutes the 10-minute row; from 24 hours on
the forecast is the count itself) and were fitted by ridge least squares, g1..g3 held >= 0 so
that the forecast never falls as counts, followers or reach rise, the ridge penalty chosen
per age by leave-one-out, on the 100 real retweet cascades of SEISMIC (Zhao et al., KDD 2015)
as redistributed with TiDeH (MIT licence); only these coefficients ship, never the data. The
fit gives the author's followers no weight (g2 = 0 at all ages but 8 hours): among these
cascades, once a post has reshares its reach says what the author's followers would. The
author's followers still count through the floor below. `python bench/viral.py` measures the
model on those cascades with nested leave-one-out cross-validation (docs/scoring.md has the
figures); `--derive` refits the table.

Where the cascades cannot teach. They are all large (over 2,000 retweets), so they say how
fast a growing post grows, not whether a quiet one will start. Two rules cover what they
cannot, and are assumptions, not fits:
- a post with no engagement yet is forecast PRIOR_RATE engagements per follower of its
  audience F + R (1 per 10,000), so a big account's fresh post ranks above a small account's
  post with a few shares; the forecast is never below this floor nor below the current count;
- when the source does not report reshare reach, it is taken as REACH_PER_ENGAGEMENT (the
  cascades' median summed followers per retweet in the first hour) times the engagement.
N_half is read between the observations around half the age (the post's creation counting
as none), assuming engagement grows as age ** GROWTH_POWER in between, as the cascades' first
hours do; so snapshots need not fall at any particular time. With no observation but the
current one, N_half is taken at the cascades' typical share for that age. The model was
fitted on retweets and is applied to all engagement (likes, shares, replies): it assumes they
grow alike. Impressions are shown but not used: no cascade data held them to fit on.
"""

from __future__ import annotations

import bisect
import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from reputation.text import compact_count
from reputation.timeutil import parse_time

# age (hours), g0, g1 (momentum), g2 (author followers per engagement), g3 (reshare reach per
# engagement), typical share of the engagement that came in the last half of the age: from
# `python bench/viral.py --derive` (fitted on the 100 SEISMIC cascades, module docstring).
Row = tuple[float, float, float, float, float, float]
GROWTH: tuple[Row, ...] = (
    (0.1667, 2.3526, 0.8686, 0.0, 0.0608, 0.3151),
    (0.25, 1.5824, 0.9156, 0.0, 0.1812, 0.2793),
    (0.5, 0.9511, 0.6221, 0.0, 0.1914, 0.221),
    (1.0, 0.6699, 0.4803, 0.0, 0.1676, 0.208),
    (2.0, 0.1791, 0.1798, 0.0, 0.1319, 0.1826),
    (4.0, -0.453, 0.0188, 0.0, 0.1507, 0.1678),
    (8.0, -0.0194, 0.0461, 0.006, 0.0575, 0.1524),
    (12.0, 0.1797, 0.0488, 0.0, 0.0179, 0.1218),
    (18.0, 0.1694, 0.039, 0.0, 0.0, 0.1096),
    (24.0, 0.0, 0.0, 0.0, 0.0, 0.0),
)
_AGES = [row[0] for row in GROWTH]
_LOG_AGES = [math.log(age) for age in _AGES]
HORIZON_HOURS = 24.0
# Median summed followers of the first hour's retweeters per retweet, in the same cascades.
REACH_PER_ENGAGEMENT = 524
# Forecast engagements per follower of the audience for a post with none yet (an assumption).
PRIOR_RATE = 1e-4
# Between two observations engagement is taken to grow as age ** GROWTH_POWER: the cascades
# gain about a fifth of their count in the second half of their first hour (GROWTH's typical
# share, 0.21 at one hour), and 1 - 0.21 = 0.5 ** 0.34.
GROWTH_POWER = 1 / 3
# Engagement that counts as fully viral (risk 1.0) within 24 hours.
VIRAL_AT = 10_000
_LOG_VIRAL_AT = math.log1p(VIRAL_AT)
# Viral risk from which a complaint is critical whatever its harm: ~2,500 engagements in 24h.
CRITICAL_RISK = 0.85


class Observation(NamedTuple):
    """What is known of a post at `age_hours`: engagement now and at half the age (read
    between the observations around it; None with no observation but the current one),
    author followers, reshare reach (None if unknown)."""

    engagement: int
    earlier: float | None
    followers: int
    reach: int | None
    age_hours: float


@dataclass(slots=True)
class Viral:
    """Growth of one mention: engagement now, rates, and what 24 hours will likely bring."""

    engagement: int
    age_hours: float
    velocity: float  # engagements per hour since posting
    recent_velocity: float  # per hour between the last two observations
    acceleration: float  # change of velocity per hour across the last three observations
    predicted_24h: float
    risk: float
    gained: int  # engagement gained since the first observation
    span_hours: float  # hours between the first and last observation
    reach: int | None = None  # reshare reach, as the source reported it
    impressions: int | None = None

    def reasons(self) -> list[str]:
        """Readable growth reasons for Slack, only when they say something."""
        out = []
        if self.gained > 0:
            out.append(
                f"engagement up {self.engagement - self.gained:,} → {self.engagement:,} "
                f"in {_span(self.span_hours)}"
            )
        if self.acceleration > 0 and self.recent_velocity >= 10:
            out.append(f"accelerating: {self.recent_velocity:,.0f}/h now")
        if self.reach and self.reach >= 10_000:
            out.append(f"reshared to {compact_count(self.reach)} followers")
        if self.impressions and self.impressions >= 10_000:
            out.append(f"seen {compact_count(self.impressions)} times")
        return out

    def outlook(self) -> str | None:
        """The 24-hour forecast in words, when it says more than the count does."""
        if self.age_hours < HORIZON_HOURS and self.predicted_24h >= max(100, 2 * self.engagement):
            return f"~{_about(self.predicted_24h)} engagements in 24h likely"
        return None


def predict_24h(observation: Observation, table: Sequence[Row] = GROWTH) -> float:
    """Expected engagement at 24 hours; never below the current count or the reach floor."""
    n, earlier, followers, reach, age = observation
    if age >= HORIZON_HOURS:
        return float(n)
    followers = max(followers, 0)
    if reach is None:
        reach = n * REACH_PER_ENGAGEMENT
    floor = max(float(n), PRIOR_RATE * (followers + reach))
    if n <= 0:
        return floor
    g0, g1, g2, g3, share = _coefficients(age, table)
    momentum, author, reshared = _log_inputs(n, earlier, followers, reach, share)
    # ln((1 + N24) / (1 + N)) = g0 + g1 ln((1 + recent) / (1 + N)) + g2 ln((1 + F) / (1 + N))
    #                              + g3 ln((1 + R) / (1 + N))
    growth = math.exp(g0 + g1 * momentum + g2 * author + g3 * reshared)
    return max(floor, (1 + n) * growth - 1)


def reach_of(observation: Observation) -> int:
    """Reshare reach, imputed from engagement when the source does not report it."""
    reach = observation.reach
    return observation.engagement * REACH_PER_ENGAGEMENT if reach is None else reach


def audience_of(observation: Observation) -> int:
    """Author followers plus reshare reach (imputed from engagement when unknown)."""
    return max(observation.followers, 0) + reach_of(observation)


def log_ratios(observation: Observation, share: float) -> tuple[float, float, float]:
    """The model's three inputs: ln((1 + recent) / (1 + N)), ln((1 + F) / (1 + N)) and
    ln((1 + R) / (1 + N)), where recent is the engagement since half the age (`share` of N
    when not observed) and R the reach (imputed when unknown)."""
    n, earlier, followers = observation.engagement, observation.earlier, observation.followers
    return _log_inputs(n, earlier, max(followers, 0), reach_of(observation), share)


def _log_inputs(
    n: int, earlier: float | None, followers: int, reach: int, share: float
) -> tuple[float, float, float]:
    """log_ratios on its parts (followers >= 0, reach imputed): what the fit and the
    forecast both read."""
    recent = n * share if earlier is None else max(n - earlier, 0)
    log_n = math.log(1 + n)
    return (
        math.log(1 + recent) - log_n,
        math.log(1 + followers) - log_n,
        math.log(1 + reach) - log_n,
    )


def risk_of(predicted: float) -> float:
    """Viral risk 0..1: the forecast on a log scale, 1.0 at VIRAL_AT engagements."""
    return min(1.0, math.log1p(predicted) / _LOG_VIRAL_AT)


# Observation times repeat (the mentions read in one run share them): parse each once.
_seen = functools.lru_cache(maxsize=256)(parse_time)


def _coefficients(age_hours: float, table: Sequence[Row]) -> tuple[float, ...]:
    """g0..g3 and the typical recent share at `age_hours`, interpolated on log age."""
    if age_hours <= table[0][0]:
        return table[0][1:]
    if table is GROWTH:  # each segment's start and slope on log age, worked out once
        j = min(bisect.bisect_left(_AGES, age_hours), len(GROWTH) - 1)
        w = math.log(age_hours) - _LOG_AGES[j - 1]
        (a, b, c, d, e), (sa, sb, sc, sd, se) = _SEGMENTS[j]
        return (a + w * sa, b + w * sb, c + w * sc, d + w * sd, e + w * se)
    ages = [row[0] for row in table]
    j = min(bisect.bisect_left(ages, age_hours), len(table) - 1)
    (a0, *lo), (a1, *hi) = table[j - 1], table[j]
    w = math.log(age_hours / a0) / math.log(a1 / a0)
    return tuple(a + w * (b - a) for a, b in zip(lo, hi, strict=True))


# GROWTH's segments: for each row j >= 1, row j-1's coefficients and their change per unit
# of log age up to row j.
_SEGMENTS = [((0.0,) * 5, (0.0,) * 5)] + [
    (
        GROWTH[j - 1][1:],
        tuple(
            (b - a) / (_LOG_AGES[j] - _LOG_AGES[j - 1])
            for a, b in zip(GROWTH[j - 1][1:], GROWTH[j][1:], strict=True)
        ),
    )
    for j in range(1, len(GROWTH))
]


def observe(row: Mapping[str, Any], snapshots: Sequence[Mapping[str, Any]]) -> Observation:
    """What the forecast reads of the mention `row` (store columns) and its snapshots."""
    return _read(row, snapshots)[0]


def _read(
    row: Mapping[str, Any], snapshots: Sequence[Mapping[str, Any]]
) -> tuple[Observation, list[tuple[datetime, int]]]:
    """The observation, and the (observed_at, engagement) points of the snapshots ending
    with the row's current counts."""
    created, last_seen = parse_time(row["created_at"]), _seen(row["last_seen_at"])
    engagement = _total(row)
    points = [(_seen(s["observed_at"]), _total(s)) for s in snapshots]
    if not points or points[-1][0] < last_seen:
        points.append((last_seen, engagement))
    age = max((last_seen - created).total_seconds() / 3600, 0.0)
    earlier = _count_at(points, created, age / 2) if len(points) > 1 else None
    reach = row.get("reshare_reach")
    if reach is None and snapshots:
        reach = _latest(snapshots, "reshare_reach")
    followers = int(row.get("author_followers") or 0)
    return Observation(engagement, earlier, followers, _count(reach), age), points


def assess(row: Mapping[str, Any], snapshots: Sequence[Mapping[str, Any]]) -> Viral:
    """Growth of the mention `row` (store columns) from its snapshots, oldest first."""
    observation, points = _read(row, snapshots)
    engagement, age = observation.engagement, observation.age_hours
    velocity = engagement / max(age, 0.25)
    recent, acceleration, gained, span = velocity, 0.0, 0, 0.0
    if len(points) >= 2:
        recent = _rate(points[-2:])
        gained = max(engagement - points[0][1], 0)
        span = _hours(points[0][0], points[-1][0])
    if len(points) >= 3:
        before = _rate(points[-3:-1])
        dt = _hours(points[-3][0], points[-1][0]) / 2
        acceleration = (recent - before) / max(dt, 0.25)
    predicted = predict_24h(observation)
    impressions = row.get("impressions")
    if impressions is None and snapshots:
        impressions = _latest(snapshots, "impressions")
    return Viral(
        engagement, age, velocity, recent, acceleration, predicted, risk_of(predicted),
        gained, span, observation.reach, _count(impressions),
    )  # fmt: skip


def _total(snapshot: Mapping[str, Any]) -> int:
    return int(snapshot["likes"]) + int(snapshot["shares"]) + int(snapshot["replies"])


def _latest(snapshots: Sequence[Mapping[str, Any]], key: str) -> Any:
    """The newest snapshot's value of an optional count; None if none has it."""
    for snapshot in reversed(snapshots):
        if snapshot.get(key) is not None:
            return snapshot[key]
    return None


def _count(value: Any) -> int | None:
    return None if value is None else int(value)


def _count_at(points: Sequence[tuple[datetime, int]], created: datetime, hours: float) -> float:
    """Engagement at `hours` after `created`: between the observations around that moment
    (none at creation), growing as age ** GROWTH_POWER; the last count after them all."""
    before_age, before = 0.0, 0
    for observed, total in points:
        age = _hours(created, observed)
        if age >= hours:
            if age <= before_age:
                return float(total)
            lo, hi = before_age**GROWTH_POWER, age**GROWTH_POWER
            return before + (hours**GROWTH_POWER - lo) / (hi - lo) * (total - before)
        before_age, before = age, total
    return float(before)


def _rate(pair: Sequence[tuple[datetime, int]]) -> float:
    (t0, n0), (t1, n1) = pair
    return max(n1 - n0, 0) / max(_hours(t0, t1), 0.25)


def _hours(start: datetime, end: datetime) -> float:
    return max((end - start).total_seconds() / 3600, 0.0)


def _span(hours: float) -> str:
    return f"{hours * 60:.0f} min" if hours < 2 else f"{hours:.0f}h"


def _about(value: float) -> str:
    """A forecast as people say it, to two significant figures: ~12k, ~2,500, ~140."""
    if value >= 10_000:
        return compact_count(int(round(value, -3)))
    if value < 100:
        return f"{round(value)}"
    digits = int(math.log10(value)) - 1
    return f"{int(round(value, -digits)):,}"
