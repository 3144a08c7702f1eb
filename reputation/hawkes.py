"""Simulated engagement cascades from a self-exciting (Hawkes) point process.

Used to derive the viral model's coefficients (bench/viral.py) and to test it
(tests/test_viral.py): no real cascade data ships with the project. The process follows
SEISMIC (Zhao et al., KDD 2015): each engagement by a user with `d` followers raises the
rate of further engagements by `p * d * phi(t - t_i)`, with a memory kernel that is flat for
`s0` seconds and then decays as a power law, `phi(s) = c * (s / s0) ** -(1 + theta)`, with
theta = 0.242 and s0 = 300 s as fitted there on Twitter. Cascades differ in infectiousness
`p` and in the first author's reach, so some die at once and a few go viral.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

THETA = 0.242
S0 = 300.0  # seconds
# phi integrates to 1: c * s0 + c * s0 / theta = 1.
C = 1.0 / (S0 * (1.0 + 1.0 / THETA))


@dataclass(frozen=True)
class Cascade:
    """Engagement times (seconds after the post) of one simulated cascade, sorted."""

    times: tuple[float, ...]
    branching: float

    def count_at(self, seconds: float) -> int:
        """Engagements that happened by `seconds` after the post."""
        lo, hi = 0, len(self.times)
        while lo < hi:  # bisect: times are sorted
            mid = (lo + hi) // 2
            if self.times[mid] <= seconds:
                lo = mid + 1
            else:
                hi = mid
        return lo


def _kernel_delay(rng: random.Random) -> float:
    """A delay drawn from phi: uniform on [0, s0] with its mass there, else a Pareto tail."""
    if rng.random() < C * S0:
        return rng.random() * S0
    return S0 * (1.0 - rng.random()) ** (-1.0 / THETA)


def _followers(rng: random.Random) -> float:
    """Follower counts of engaging users: log-normal, median about 150."""
    return math.exp(rng.gauss(5.0, 1.6))


def simulate(rng: random.Random, horizon: float = 7 * 86400, cap: int = 200_000) -> Cascade:
    """One cascade observed until `horizon` seconds (events past `cap` are not simulated)."""
    # Infectiousness is set through the expected branching factor n* = p * E[d]; a few
    # cascades are supercritical-adjacent (n* near 1), most die out quickly.
    branching = min(0.98, rng.betavariate(1.2, 3.5) * 1.1)
    mean_followers = math.exp(5.0 + 1.6**2 / 2)
    p = branching / mean_followers
    poster = math.exp(rng.gauss(6.5, 2.0))
    times: list[float] = []
    # Generation by generation: each event spawns Poisson(p * d) children at kernel delays.
    frontier = [(0.0, poster)]
    while frontier and len(times) < cap:
        parent_time, degree = frontier.pop()
        for _ in range(_poisson(rng, p * degree)):
            child = parent_time + _kernel_delay(rng)
            if child <= horizon:
                times.append(child)
                frontier.append((child, _followers(rng)))
    times.sort()
    return Cascade(tuple(times), branching)


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 50:  # normal approximation keeps large means fast
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    threshold, k, product = math.exp(-lam), 0, rng.random()
    while product > threshold:
        k += 1
        product *= rng.random()
    return k


def simulate_many(n: int, seed: int, horizon: float = 7 * 86400) -> list[Cascade]:
    """`n` independent cascades from one seed."""
    rng = random.Random(seed)
    return [simulate(rng, horizon) for _ in range(n)]


def fit_log_linear(
    cascades: list[Cascade], at_seconds: float, horizon: float = 86400
) -> tuple[float, float]:
    """Least-squares alpha, beta of ln(N_h + 1) = alpha + beta * ln(N_t + 1) over cascades
    with at least one engagement by `at_seconds`."""
    pairs = [
        (math.log1p(c.count_at(at_seconds)), math.log1p(c.count_at(horizon)))
        for c in cascades
        if c.count_at(at_seconds) > 0
    ]
    n = len(pairs)
    mx = sum(x for x, _ in pairs) / n
    my = sum(y for _, y in pairs) / n
    sxx = sum((x - mx) ** 2 for x, _ in pairs)
    sxy = sum((x - mx) * (y - my) for x, y in pairs)
    beta = sxy / sxx
    return my - beta * mx, beta


def evaluate(
    cascades: list[Cascade],
    predict: Callable[[int, float], float],
    at_hours: float = 1.0,
    horizon: float = 86400,
) -> dict[str, float]:
    """Spearman rank correlation between predictions made at `at_hours` and the size at
    `horizon`, and the share of the top 5% by final size that the top 5% predicted holds."""
    import pandas as pd

    frame = pd.DataFrame(
        {
            "predicted": [predict(c.count_at(at_hours * 3600), at_hours) for c in cascades],
            "final": [c.count_at(horizon) for c in cascades],
        }
    )
    top = max(1, round(len(frame) * 0.05))
    # Ties at the cut are broken by order, as a team reading a ranked list would.
    actual = set(frame["final"].sort_values(ascending=False, kind="stable").index[:top])
    flagged = set(frame["predicted"].sort_values(ascending=False, kind="stable").index[:top])
    return {
        "n": len(frame),
        "spearman": round(float(frame["predicted"].corr(frame["final"], method="spearman")), 4),
        "top5_recall": round(len(actual & flagged) / top, 4),
    }
