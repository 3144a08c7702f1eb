"""Viral risk from engagement snapshots: velocity, acceleration and a 24-hour prediction.

The prediction follows Szabo and Huberman (2010): early and later popularity are linearly
related on a log scale, ln(N24 + 1) = alpha(t) + beta(t) * ln(N_t + 1), where N_t is the
engagement at age t. The table below holds alpha and beta by age; between ages they are
interpolated on log(age). They were fitted by least squares on 20,000 cascades simulated
by `reputation.hawkes` (SEISMIC's power-law memory kernel), by `bench/viral.py`, which prints
this table again. They describe simulated cascades, not any real platform: recalibrate from
your own snapshots when you have some (docs/scoring.md says how).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reputation.timeutil import parse_time

# age (hours), alpha, beta: from `python bench/viral.py --derive` (seed 7, 20,000 cascades).
SZABO_HUBERMAN: tuple[tuple[float, float, float], ...] = (
    (0.0833, 0.3586, 1.4947),
    (0.25, 0.1873, 1.2593),
    (0.5, 0.127, 1.1828),
    (1, 0.0937, 1.1241),
    (2, 0.0608, 1.0837),
    (4, 0.0427, 1.0492),
    (8, 0.0237, 1.0262),
    (12, 0.0122, 1.0168),
    (18, 0.0065, 1.006),
    (24.0, 0.0, 1.0),
)
_AGES = [row[0] for row in SZABO_HUBERMAN]
# Engagement that counts as fully viral (risk 1.0) within 24 hours.
VIRAL_AT = 10_000


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
        if self.predicted_24h >= max(100, 2 * self.engagement) and self.age_hours < 24:
            out.append(f"on course for ~{_round(self.predicted_24h):,} engagements in 24h")
        return out


def predict_24h(engagement: int, age_hours: float) -> float:
    """Expected engagement at 24 hours from `engagement` observed at `age_hours`."""
    if age_hours >= 24:
        return float(engagement)
    alpha, beta = _coefficients(age_hours)
    predicted = math.exp(alpha + beta * math.log1p(engagement)) - 1
    return max(float(engagement), predicted)


def _coefficients(age_hours: float) -> tuple[float, float]:
    table = SZABO_HUBERMAN
    if age_hours <= table[0][0]:
        return table[0][1], table[0][2]
    j = bisect.bisect_left(_AGES, age_hours)
    (a0, al0, be0), (a1, al1, be1) = table[j - 1], table[j]
    w = (math.log(age_hours) - math.log(a0)) / (math.log(a1) - math.log(a0))
    return al0 + w * (al1 - al0), be0 + w * (be1 - be0)


def assess(row: Mapping[str, Any], snapshots: Sequence[Mapping[str, Any]]) -> Viral:
    """Growth of the mention `row` (store columns) from its snapshots, oldest first."""
    created = parse_time(row["created_at"])
    last_seen = parse_time(row["last_seen_at"])
    engagement = int(row["likes"]) + int(row["shares"]) + int(row["replies"])
    age = max((last_seen - created).total_seconds() / 3600, 0.0)
    points = [
        (parse_time(s["observed_at"]), s["likes"] + s["shares"] + s["replies"]) for s in snapshots
    ]
    if not points or points[-1][0] < last_seen:
        points.append((last_seen, engagement))
    recent = _rate(points[-2:], created) if len(points) >= 2 else engagement / max(age, 0.25)
    earlier = _rate(points[-3:-1], created) if len(points) >= 3 else None
    acceleration = 0.0
    if earlier is not None:
        dt = _hours(points[-3][0], points[-1][0]) / 2
        acceleration = (recent - earlier) / max(dt, 0.25)
    gained = max(engagement - points[0][1], 0) if len(points) >= 2 else 0
    predicted = predict_24h(engagement, age)
    risk = min(1.0, math.log1p(predicted) / math.log1p(VIRAL_AT))
    return Viral(
        engagement=engagement,
        age_hours=age,
        velocity=engagement / max(age, 0.25),
        recent_velocity=recent,
        acceleration=acceleration,
        predicted_24h=predicted,
        risk=risk,
        gained=gained,
        span_hours=_hours(points[0][0], points[-1][0]),
    )


def _rate(pair: Sequence[tuple[datetime, int]], created: datetime) -> float:
    (t0, n0), (t1, n1) = pair
    return max(n1 - n0, 0) / max(_hours(t0, t1), 0.25)


def _hours(start: datetime, end: datetime) -> float:
    return max((end - start).total_seconds() / 3600, 0.0)


def _span(hours: float) -> str:
    return f"{hours * 60:.0f} min" if hours < 2 else f"{hours:.0f}h"


def _round(value: float) -> int:
    """Round a prediction to two significant figures: it is an estimate."""
    if value < 100:
        return round(value)
    digits = int(math.log10(value)) - 1
    return int(round(value, -digits))
