"""The viral forecast on real retweet cascades: fit its coefficients, measure it held out.

    python bench/viral.py [--csv ../shared/eval/retweet-cascades/cascades.csv]
    python bench/viral.py --derive     # refit reputation/viral.py's GROWTH table

The cascades (SEISMIC's, as redistributed with TiDeH under the MIT licence) are read by path
and never copied. Each is observed as the scorer would see it: snapshots at 10, 30 and 60
minutes holding the retweet count and the summed followers of the retweeters so far
(`reshare_reach`), and the author's followers, passed through `reputation.viral.observe` and
`predict_24h`. Prints JSON: Spearman's rank correlation between the forecast and the true
24-hour retweet count, nested leave-one-out (for each cascade, the coefficients of the
observation's age are refitted on the 99 others, their ridge penalty chosen by leave-one-out
among those 99 alone), beside the shipped table in sample and simple baselines; the same
held out with snapshots at irregular times; under `selection_nested_leave_one_out`, the
nested figure of the whole choice at one hour (the form, the author's followers and the reach
pooled as one audience as before or weighted apart, and the penalty, chosen inside each outer
fold) with each candidate's plain leave-one-out figure; and, under `tried_not_taken`, variants
measured and not shipped (a SEISMIC-style memory kernel over follower exposure). `--derive`
fits every age's coefficients on all cascades (penalty by leave-one-out, weights >= 0) and
prints the table as Python on stderr, JSON on stdout.
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
from scipy.optimize import lsq_linear, nnls

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from labeled import eval_path  # noqa: E402

from reputation import viral  # noqa: E402
from reputation.timeutil import iso  # noqa: E402

DEFAULT_CSV = eval_path("retweet-cascades/cascades.csv")
AGES_HOURS = (1 / 6, 0.25, 0.5, 1, 2, 4, 8, 12, 18)  # below 10 minutes: the 10-minute row
SNAPSHOT_MINUTES = (10, 30, 60)  # what the scorer sees of the first hour
IRREGULAR = ((7, 22, 60), (15, 45, 60), (20, 60), (40, 60))  # other first hours, same end
# SEISMIC's memory kernel (Zhao et al., KDD 2015): a follower's chance to see a post is flat
# for its first 5 minutes, then falls as a power of the time, exponent 1 + 0.242.
KERNEL_S0, KERNEL_THETA = 300.0, 0.242
T0 = datetime(2011, 10, 1, tzinfo=UTC)
Row = tuple[float, float, float, float, float, float]
# Ridge penalties tried on the weights (not the intercept), chosen by inner leave-one-out.
LAMBDAS = (0.0, 1.0, 3.0, 10.0, 30.0)
FORMS = ("pooled", "apart")  # audience F + R as one ratio (the previous model), or apart


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


class AgeData:
    """What the fit reads of every cascade at one age: exact counts now and at half the age,
    the author's followers and the reach, as `viral.log_ratios` turns them into inputs."""

    def __init__(self, cascades: list[Cascade], age_hours: float):
        now = age_hours * 3600
        seen = [
            viral.Observation(c.count(now), c.count(now / 2), c.author, c.reach_at(now), age_hours)
            for c in cascades
        ]
        self.age = age_hours
        self.n = np.array([o.engagement for o in seen], dtype=float)
        self.shares = [(o.engagement - o.earlier) / o.engagement for o in seen if o.engagement]
        apart = np.array([viral.log_ratios(o, 0.0) for o in seen])
        pooled = np.log1p([viral.audience_of(o) for o in seen]) - np.log1p(self.n)
        self.x = {"apart": apart, "pooled": np.column_stack([apart[:, 0], pooled])}
        self.truth = np.array([c.count(86400) for c in cascades], dtype=float)
        self.y = np.log1p(self.truth) - np.log1p(self.n)


def ridge_nn(x: np.ndarray, y: np.ndarray, lam: float) -> tuple[float, np.ndarray]:
    """Intercept and weights minimising |y - a - x w|^2 + lam |w|^2 with w >= 0 (the
    intercept free: the centred problem, then the intercept from the means)."""
    mx, my = x.mean(axis=0), float(y.mean())
    xc, yc = x - mx, y - my
    if lam:
        xc = np.vstack([xc, math.sqrt(lam) * np.eye(x.shape[1])])
        yc = np.concatenate([yc, np.zeros(x.shape[1])])
    w = nnls(xc, yc)[0]
    return my - float(mx @ w), w


def loo_log(x: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """Leave-one-out forecasts of y (ln growth) by `ridge_nn`."""
    out = np.empty(len(y))
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        a, w = ridge_nn(x[keep], y[keep], lam)
        out[i] = a + x[i] @ w
    return out


def loo_spearman(data: AgeData, rows: np.ndarray, form: str, lam: float) -> float:
    """Leave-one-out Spearman within `rows` of one configuration (form, penalty)."""
    x, y = data.x[form][rows], data.y[rows]
    return spearman(list(np.log1p(data.n[rows]) + loo_log(x, y, lam)), list(data.truth[rows]))


def choose(data: AgeData, rows: np.ndarray, forms: tuple[str, ...]) -> tuple[str, float]:
    """The configuration with the best leave-one-out Spearman within `rows` (the first of
    FORMS x LAMBDAS on a tie)."""
    configs = [(f, lam) for f in forms for lam in LAMBDAS]
    scores = [loo_spearman(data, rows, f, lam) for f, lam in configs]
    return configs[int(np.argmax(scores))]


def nested(data: AgeData, forms: tuple[str, ...] = FORMS) -> tuple[list[float], list[str]]:
    """Nested leave-one-out: for each cascade, the form and penalty are chosen by inner
    leave-one-out on the other 99, refitted on them, and forecast the one left out."""
    out, chosen = [], []
    for i in range(len(data.y)):
        rows = np.arange(len(data.y)) != i
        form, lam = choose(data, rows, forms)
        a, w = ridge_nn(data.x[form][rows], data.y[rows], lam)
        out.append(float(np.log1p(data.n[i]) + a + data.x[form][i] @ w))
        chosen.append(f"{form}_{lam:g}")
    return out, chosen


def fit_age(data: AgeData, rows: np.ndarray | None = None) -> Row:
    """(age, g0, g1, g2, g3, typical recent share): the author-and-reach-apart form, its
    penalty chosen by leave-one-out within `rows` (all cascades when None), fitted on them."""
    rows = np.ones(len(data.y), dtype=bool) if rows is None else rows
    _, lam = choose(data, rows, ("apart",))
    a, w = ridge_nn(data.x["apart"][rows], data.y[rows], lam)
    share = round(float(np.median(data.shares)), 4)
    return (round(float(data.age), 4), round(a, 4), *(round(float(v), 4) for v in w), share)


def derive(cascades: list[Cascade]) -> list[Row]:
    """The GROWTH table: every age fitted on all cascades, then no growth at 24 hours."""
    rows = [fit_age(AgeData(cascades, age)) for age in AGES_HOURS]
    return [*rows, (24.0, 0.0, 0.0, 0.0, 0.0, 0.0)]


def spearman(predicted: list[float], truth: list[int] | list[float]) -> float:
    """Spearman's rank correlation, rounded."""
    return round(float(pd.Series(predicted).corr(pd.Series(truth), method="spearman")), 4)


def held_out(cascades: list[Cascade], minutes: tuple[float, ...]) -> list[float]:
    """Nested leave-one-out forecasts through `viral.predict_24h`: the coefficients at the
    observation's age refitted without the cascade forecast, their penalty chosen by inner
    leave-one-out on the others."""
    age = minutes[-1] / 60
    data = AgeData(cascades, age)
    out = []
    for i, cascade in enumerate(cascades):
        row = fit_age(data, np.arange(len(cascades)) != i)
        table = sorted([r for r in viral.GROWTH if r[0] != round(age, 4)] + [row])
        out.append(viral.predict_24h(cascade.observation(minutes), table))
    return out


def candidates(cascades: list[Cascade]) -> dict[str, object]:
    """At one hour: the nested figure with the form (pooled audience or author and reach
    apart) and the penalty chosen inside, how often each was chosen, and each candidate's
    plain leave-one-out Spearman (for information: not what chose)."""
    data = AgeData(cascades, SNAPSHOT_MINUTES[-1] / 60)
    forecast, chosen = nested(data)
    everything = np.ones(len(cascades), dtype=bool)
    return {
        "nested_leave_one_out": spearman(forecast, list(data.truth)),
        "chosen_in_outer_folds": dict(sorted(pd.Series(chosen).value_counts().items())),
        "chosen_on_all": "_".join(map(str, choose(data, everything, FORMS))),
        "each_leave_one_out": {
            f"{f}_{lam:g}": loo_spearman(data, everything, f, lam) for f in FORMS for lam in LAMBDAS
        },
    }


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
    return {
        "kernel_exposure_for_audience_leave_one_out": spearman(
            list(np.log1p(n) + loo_fit(kernel, y)), truth
        ),
        "seismic_count_plus_rate_times_exposure_left": spearman(
            list(n + n / np.maximum(used, 1) * left), truth
        ),
    }


def evaluate(cascades: list[Cascade]) -> dict[str, object]:
    """Held-out and in-sample rank correlations at one hour, with baselines and ablations."""
    truth = [c.count(86400) for c in cascades]
    seen = [c.observation(SNAPSHOT_MINUTES) for c in cascades]
    log_n = [math.log1p(o.engagement) for o in seen]
    log_reach = [math.log1p(o.reach or 0) for o in seen]
    no_reach = [o._replace(reach=0, followers=0) for o in seen]
    flat = [(r[0], r[1], r[2], 0.0, 0.0, r[5]) for r in viral.GROWTH]  # no audience weight
    return {
        "cascades": len(cascades),
        "observed": "snapshots at 10, 30 and 60 minutes: retweets, reshare reach, author",
        "vs": "retweets at 24 hours",
        "model_nested_leave_one_out": spearman(held_out(cascades, SNAPSHOT_MINUTES), truth),
        "selection_nested_leave_one_out": candidates(cascades),
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
