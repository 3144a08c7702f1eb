"""The viral forecast on real retweet cascades: fit its coefficients, measure it held out.

    python bench/viral.py [--csv ../shared/eval/retweet-cascades/cascades.csv]
    python bench/viral.py --derive     # refit reputation/viral.py's GROWTH table

The cascades (SEISMIC's, as redistributed with TiDeH under the MIT licence) are read by path
and never copied. Each is observed as the scorer would see it: snapshots at 10, 30 and 60
minutes holding the retweet count and the summed followers of the retweeters so far
(`reshare_reach`), and the author's followers, passed through `reputation.viral.observe` and
`predict_24h`. Prints JSON: Spearman's rank correlation between the forecast and the true
24-hour retweet count, leave-one-out (the 1-hour coefficients refitted without the cascade
they predict), beside the shipped table in sample and simple baselines; the same held out
with snapshots at irregular times; and, under `tried_not_taken`, variants measured the same
way and not shipped (a SEISMIC-style memory kernel over follower exposure, and the author's
followers and the reach weighted apart). `--derive` fits every age's coefficients on all
cascades by least squares (momentum and audience weights held >= 0) and prints the table as
Python on stderr, JSON on stdout.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import lsq_linear

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from labeled import eval_path  # noqa: E402

from reputation import viral  # noqa: E402
from reputation.timeutil import iso  # noqa: E402

DEFAULT_CSV = eval_path("retweet-cascades/cascades.csv")
AGES_HOURS = (1 / 12, 1 / 6, 0.25, 0.5, 1, 2, 4, 8, 12, 18)
SNAPSHOT_MINUTES = (10, 30, 60)  # what the scorer sees of the first hour
IRREGULAR = ((7, 22, 60), (15, 45, 60), (20, 60), (40, 60))  # other first hours, same end
# SEISMIC's memory kernel (Zhao et al., KDD 2015): a follower's chance to see a post is flat
# for its first 5 minutes, then falls as a power of the time, exponent 1 + 0.242.
KERNEL_S0, KERNEL_THETA = 300.0, 0.242
T0 = datetime(2011, 10, 1, tzinfo=UTC)
Row = tuple[float, float, float, float, float]


class Cascade:
    """One cascade: retweet times (seconds after the post), retweeters' and author's followers."""

    def __init__(self, seconds: np.ndarray, followers: np.ndarray):
        self.author = int(followers[0])
        self.times = seconds[1:]
        self.reach = np.cumsum(followers[1:])

    def count(self, seconds: float) -> int:
        """Retweets by `seconds` after the post."""
        return int(np.searchsorted(self.times, seconds, side="right"))

    def reach_at(self, seconds: float) -> int:
        """Summed followers of the retweeters by `seconds`."""
        n = self.count(seconds)
        return int(self.reach[n - 1]) if n else 0

    def observation(self, minutes: tuple[float, ...]) -> viral.Observation:
        """What the scorer reads after snapshots at `minutes` (the last is now), through the
        same code as a stored mention: a row, snapshot mappings, viral.observe."""
        now = minutes[-1] * 60
        row = {
            "created_at": iso(T0),
            "last_seen_at": iso(T0 + timedelta(seconds=now)),
            "likes": 0,
            "shares": self.count(now),
            "replies": 0,
            "author_followers": self.author,
        }
        snapshots = [
            {
                "observed_at": iso(T0 + timedelta(minutes=m)),
                "likes": 0,
                "shares": self.count(m * 60),
                "replies": 0,
                "reshare_reach": self.reach_at(m * 60),
            }
            for m in minutes
        ]
        return viral.observe(row, snapshots)


def load(path: Path) -> dict[str, Cascade]:
    """Every cascade of the CSV (cascade, seconds, followers; the first row is the post)."""
    frame = pd.read_csv(path)
    return {
        name: Cascade(group["seconds"].to_numpy(float), group["followers"].to_numpy(float))
        for name, group in frame.groupby("cascade", sort=False)
    }


def fit_age(cascades: list[Cascade], age_hours: float) -> Row:
    """(age, g0, g1, g2, typical recent share) by least squares on exact counts at the age
    and half of it, g1 and g2 held >= 0."""
    now = age_hours * 3600
    observations = [
        viral.Observation(c.count(now), c.count(now / 2), c.author, c.reach_at(now), age_hours)
        for c in cascades
    ]
    final = np.array([c.count(86400) for c in cascades], dtype=float)
    shares = [(o.engagement - o.earlier) / o.engagement for o in observations if o.engagement]
    x = np.array([[1.0, *viral.log_ratios(o, 0.0)] for o in observations])
    n = np.array([o.engagement for o in observations], dtype=float)
    y = np.log1p(final) - np.log1p(n)
    fit = lsq_linear(x, y, bounds=([-np.inf, 0, 0], [np.inf, np.inf, np.inf])).x
    share = round(float(np.median(shares)), 4)
    return (round(float(age_hours), 4), *(round(float(v), 4) for v in fit), share)


def derive(cascades: list[Cascade]) -> list[Row]:
    """The GROWTH table: every age fitted on all cascades, then no growth at 24 hours."""
    return [*(fit_age(cascades, age) for age in AGES_HOURS), (24.0, 0.0, 0.0, 0.0, 0.0)]


def spearman(predicted: list[float], truth: list[int]) -> float:
    """Spearman's rank correlation, rounded."""
    return round(float(pd.Series(predicted).corr(pd.Series(truth), method="spearman")), 4)


def held_out(cascades: list[Cascade], minutes: tuple[float, ...]) -> list[float]:
    """Leave-one-out forecasts: the coefficients at the observation's age refitted without
    the cascade that is forecast."""
    age = minutes[-1] / 60
    out = []
    for i, cascade in enumerate(cascades):
        row = fit_age(cascades[:i] + cascades[i + 1 :], age)
        table = sorted([r for r in viral.GROWTH if r[0] != round(age, 4)] + [row])
        out.append(viral.predict_24h(cascade.observation(minutes), table))
    return out


def kernel_share(seconds: float) -> float:
    """The share of a follower's attention to a post that `seconds` have used (the kernel's
    cumulative distribution)."""
    s0, theta = KERNEL_S0, KERNEL_THETA
    seconds = max(seconds, 0.0)
    if seconds <= s0:
        return seconds / (s0 + s0 / theta)
    return (s0 + s0 / theta * (1 - (seconds / s0) ** -theta)) / (s0 + s0 / theta)


def exposure(cascade: Cascade, minutes: tuple[float, ...]) -> tuple[float, float]:
    """Follower exposure used so far and still to come, SEISMIC-style but from snapshots
    only: the author's followers from the post, each snapshot's new reach from the middle of
    its interval, weighted by the kernel."""
    now = minutes[-1] * 60
    used, total = cascade.author * kernel_share(now), float(cascade.author)
    last_t, last_reach = 0.0, 0
    for m in minutes:
        reach = cascade.reach_at(m * 60)
        used += (reach - last_reach) * kernel_share(now - (last_t + m * 60) / 2)
        total += reach - last_reach
        last_t, last_reach = m * 60, reach
    return used, total - used


def loo_fit(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Leave-one-out predictions of y by least squares on x (first column the intercept,
    the others held >= 0, as the shipped model's)."""
    lower = [-np.inf] + [0.0] * (x.shape[1] - 1)
    out = []
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        fit = lsq_linear(x[keep], y[keep], bounds=(lower, [np.inf] * x.shape[1])).x
        out.append(float(x[i] @ fit))
    return np.array(out)


def tried_not_taken(cascades: list[Cascade], truth: list[int]) -> dict[str, float]:
    """Variants measured like the model, at one hour, and not shipped (docs/scoring.md)."""
    now = SNAPSHOT_MINUTES[-1] * 60
    n = np.array([c.count(now) for c in cascades], dtype=float)
    recent = np.log1p(n - [c.count(now / 2) for c in cascades]) - np.log1p(n)
    y = np.log1p(truth) - np.log1p(n)
    used, left = np.array([exposure(c, SNAPSHOT_MINUTES) for c in cascades]).T
    one = np.ones(len(n))
    kernel = np.column_stack([one, recent, np.log1p(left) - np.log1p(n)])
    ratio = lambda v: np.log1p(np.asarray(v, dtype=float)) - np.log1p(n)  # noqa: E731
    apart = np.column_stack([one, recent, ratio([c.author for c in cascades]),
                             ratio([c.reach_at(now) for c in cascades])])  # fmt: skip
    return {
        "kernel_exposure_for_audience_leave_one_out": spearman(
            list(np.log1p(n) + loo_fit(kernel, y)), truth
        ),
        "seismic_count_plus_rate_times_exposure_left": spearman(
            list(n + n / np.maximum(used, 1) * left), truth
        ),
        "author_and_reach_apart_leave_one_out": spearman(
            list(np.log1p(n) + loo_fit(apart, y)), truth
        ),
    }


def evaluate(cascades: list[Cascade]) -> dict[str, object]:
    """Held-out and in-sample rank correlations at one hour, with baselines and ablations."""
    truth = [c.count(86400) for c in cascades]
    seen = [c.observation(SNAPSHOT_MINUTES) for c in cascades]
    log_n = [math.log1p(o.engagement) for o in seen]
    log_reach = [math.log1p(o.reach or 0) for o in seen]
    no_reach = [o._replace(reach=0, followers=0) for o in seen]
    flat = [(r[0], r[1], r[2], 0.0, r[4]) for r in viral.GROWTH]  # audience weight 0
    return {
        "cascades": len(cascades),
        "observed": "snapshots at 10, 30 and 60 minutes: retweets, reshare reach, author",
        "vs": "retweets at 24 hours",
        "model_leave_one_out": spearman(held_out(cascades, SNAPSHOT_MINUTES), truth),
        "model_in_sample": spearman([viral.predict_24h(o) for o in seen], truth),
        "baselines": {
            "count_at_1h": spearman(log_n, truth),
            "log_count_plus_0.3_log_reach": spearman(
                [a + 0.3 * b for a, b in zip(log_n, log_reach, strict=True)], truth
            ),
            "author_followers": spearman([o.followers for o in seen], truth),
            "reshare_reach": spearman(log_reach, truth),
            "model_without_audience_in_sample": spearman(
                [viral.predict_24h(o, flat) for o in no_reach], truth
            ),
        },
        "other_ages_leave_one_out": {
            f"{m[-1]:g}min": {
                "model": spearman(held_out(cascades, m), truth),
                "count_alone": spearman([c.count(m[-1] * 60) for c in cascades], truth),
            }
            for m in ((5, 15, 30), (20, 60, 120))
        },
        "irregular_snapshots_leave_one_out": {
            ",".join(map(str, m)): spearman(held_out(cascades, m), truth) for m in IRREGULAR
        },
        "tried_not_taken": tried_not_taken(cascades, truth),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--csv", default=str(DEFAULT_CSV))
    parser.add_argument("--derive", action="store_true")
    args = parser.parse_args()
    if not Path(args.csv).is_file():
        parser.error(f"{args.csv}: no such file (give the cascades CSV with --csv PATH)")
    cascades = list(load(Path(args.csv)).values())
    if args.derive:
        table = derive(cascades)
        first_hour = [c.observation(SNAPSHOT_MINUTES) for c in cascades]
        reach = float(np.median([o.reach / o.engagement for o in first_hour]))
        print("GROWTH = (", file=sys.stderr)
        for row in table:
            print(f"    {row},", file=sys.stderr)
        print(")", file=sys.stderr)
        print(f"REACH_PER_ENGAGEMENT = {reach:.0f}", file=sys.stderr)
        print(json.dumps({"cascades": len(cascades), "table": table, "reach": round(reach)}))
        return
    print(json.dumps({"csv": Path(args.csv).name, **evaluate(cascades)}))


if __name__ == "__main__":
    main()
