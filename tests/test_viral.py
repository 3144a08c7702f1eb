"""Viral risk: the reach-aware 24-hour forecast, its shape at zero counts, and growth reasons.

How well it ranks real cascades is measured by bench/viral.py on the shared evaluation data;
these tests pin the properties that must hold for posts of every size.
"""

from __future__ import annotations

import itertools
import math

import pytest

from reputation.viral import (
    CRITICAL_RISK,
    GROWTH,
    PRIOR_RATE,
    Observation,
    assess,
    audience_of,
    log_ratios,
    observe,
    predict_24h,
    risk_of,
)


def obs(n: int, age: float = 1.0, earlier: int | None = None, followers: int = 200, reach=None):
    return Observation(n, earlier, followers, reach, age)


def test_a_big_account_with_no_reshares_yet_ranks_above_a_small_one_with_a_few() -> None:
    big = predict_24h(obs(0, followers=1_000_000, reach=0))
    for few, reach in itertools.product((1, 2, 3, 5), (0, 300, 900)):
        small = predict_24h(obs(few, earlier=0, followers=300, reach=reach))
        assert big > small, (few, reach, big, small)


def test_a_post_with_nothing_yet_is_forecast_from_its_audience_alone() -> None:
    assert predict_24h(obs(0, followers=0, reach=0)) == 0
    assert predict_24h(obs(0, followers=200, reach=0)) < 1  # most such posts stay at zero
    assert predict_24h(obs(0, followers=10_000)) < predict_24h(obs(0, followers=1_000_000))


@pytest.mark.parametrize("age", [0.05, 0.1, 0.5, 1.0, 3.0, 10.0, 20.0])
@pytest.mark.parametrize("n", [0, 1, 3, 40, 900, 20_000])
def test_the_forecast_never_falls_as_counts_or_reach_rise(age: float, n: int) -> None:
    base = obs(n, age, earlier=n // 2, followers=500, reach=n * 100)
    forecast = predict_24h(base)
    assert forecast >= n
    assert predict_24h(base._replace(engagement=n + 5)) >= forecast  # more engagement now
    assert predict_24h(base._replace(followers=50_000)) >= forecast
    assert predict_24h(base._replace(reach=n * 100 + 100_000)) >= forecast
    assert predict_24h(base._replace(earlier=0)) >= forecast  # all of it recent
    assert predict_24h(base._replace(age_hours=age * 2)) <= forecast * 1.0001  # same count, later


def test_from_24_hours_on_the_forecast_is_the_count() -> None:
    assert predict_24h(obs(123, age=24.0, earlier=100, reach=10**6)) == 123
    assert predict_24h(obs(123, age=30.0, earlier=None)) == 123


def test_the_coefficients_keep_momentum_and_audience_weights_non_negative() -> None:
    assert all(g1 >= 0 and 0 <= g2 < 1 and 0 <= g3 < 1 for _, _, g1, g2, g3, _ in GROWTH)
    ages = [row[0] for row in GROWTH]
    assert ages == sorted(ages) and ages[-1] == 24.0


def test_fast_growth_crosses_the_critical_line() -> None:
    fast = predict_24h(obs(21_000, age=0.1, earlier=10, followers=5_000))
    assert risk_of(fast) >= CRITICAL_RISK
    assert risk_of(predict_24h(obs(10, age=0.1, earlier=10, followers=5_000))) < CRITICAL_RISK


def _row(total: int, seen: str, followers: int | None = 200, **extra: int | None) -> dict:
    return {
        "created_at": "2026-11-22T08:00:00Z",
        "last_seen_at": seen,
        "likes": total,
        "shares": 0,
        "replies": 0,
        "author_followers": followers,
        **extra,
    }


def _snap(total: int, at: str, **extra: int | None) -> dict:
    return {"likes": total, "shares": 0, "replies": 0, "observed_at": at, **extra}


def test_snapshots_with_and_without_the_optional_reach_and_impressions() -> None:
    seen = "2026-11-22T09:00:00Z"
    plain = [_snap(10, "2026-11-22T08:30:00Z"), _snap(40, seen)]  # at half the age
    rich = [
        _snap(10, "2026-11-22T08:30:00Z", reshare_reach=2_000, impressions=None),
        _snap(40, seen, reshare_reach=90_000, impressions=150_000),
    ]
    without = observe(_row(40, seen), plain)
    assert (without.reach, without.earlier, without.followers) == (None, 10, 200)
    assert without.age_hours == pytest.approx(1.0)
    with_reach = assess(_row(40, seen), rich)
    assert (with_reach.reach, with_reach.impressions) == (90_000, 150_000)
    assert "reshared to 90k followers" in with_reach.reasons()
    assert "seen 150k times" in with_reach.reasons()
    assert with_reach.predicted_24h > assess(_row(40, seen), plain).predicted_24h
    # Unknown followers are no followers; the row's own reach wins over the snapshots'.
    assert observe(_row(40, seen, followers=None, reshare_reach=7), rich)[2:4] == (0, 7)


def test_half_the_age_is_read_between_the_snapshots_around_it() -> None:
    seen = "2026-11-22T10:00:00Z"  # two hours old: half is 09:00, one hour old
    snaps = [_snap(5, "2026-11-22T08:30:00Z"), _snap(50, "2026-11-22T09:10:00Z"), _snap(80, seen)]
    # growing as age ** (1/3) from 5 at 0.5 h to 50 at 70 min: (1 - 0.5**(1/3)) /
    # ((7/6)**(1/3) - 0.5**(1/3)) = 0.796 of the way
    assert observe(_row(80, seen), snaps).earlier == pytest.approx(40.84, abs=0.01)
    on_time = [_snap(30, "2026-11-22T09:00:00Z"), _snap(80, seen)]
    assert observe(_row(80, seen), on_time).earlier == 30  # a snapshot at half: its count
    # before the first snapshot, from none at creation: 08:00 -> 0, 09:30 -> 60
    late = [_snap(60, "2026-11-22T09:30:00Z"), _snap(80, seen)]
    assert observe(_row(80, seen), late).earlier == pytest.approx(60 * (1 / 1.5) ** (1 / 3))
    assert observe(_row(80, seen), snaps[2:]).earlier is None  # no other: typical share


def test_a_snapshot_moving_across_half_the_age_moves_the_forecast_little() -> None:
    """Read between snapshots, not from the last one before half the age: a snapshot taken a
    few seconds after half the age does not throw the momentum back to an older count."""
    seen = "2026-11-22T09:00:00Z"  # one hour old
    before = [_snap(5, "2026-11-22T08:10:00Z"), _snap(100, "2026-11-22T08:29:55Z")]
    after = [_snap(5, "2026-11-22T08:10:00Z"), _snap(100, "2026-11-22T08:30:05Z")]
    forecast = [assess(_row(200, seen), s).predicted_24h for s in (before, after)]
    assert forecast[0] == pytest.approx(forecast[1], rel=0.01)
    assert observe(_row(200, seen), after).earlier == pytest.approx(100, abs=1)


def test_velocity_acceleration_and_reasons() -> None:
    snaps = [
        _snap(10, "2026-11-22T08:05:00Z"),
        _snap(40, "2026-11-22T08:10:00Z"),
        _snap(400, "2026-11-22T08:25:00Z"),
    ]
    viral = assess(_row(400, "2026-11-22T08:25:00Z"), snaps)
    assert viral.velocity == pytest.approx(400 / (25 / 60))
    assert viral.recent_velocity == pytest.approx(360 / 0.25)
    assert viral.acceleration > 0
    assert viral.predicted_24h > 800
    assert viral.reasons()[:2] == ["engagement up 10 → 400 in 20 min", "accelerating: 1,440/h now"]
    outlook = viral.outlook()
    assert outlook is not None and outlook.startswith("~") and outlook.endswith(" in 24h likely")


def test_a_single_quiet_observation_says_nothing() -> None:
    viral = assess(_row(3, "2026-11-22T09:00:00Z"), [_snap(3, "2026-11-22T09:00:00Z")])
    assert viral.reasons() == [] and viral.outlook() is None
    # Generous (the cascades fitted on all grew large) but far from the critical line.
    assert viral.predicted_24h < 20 and viral.risk < 0.3


@pytest.mark.parametrize(
    "seen", [obs(50, earlier=10), obs(3, earlier=None, followers=90_000), obs(400, reach=80_000)]
)
def test_the_forecast_is_the_documented_formula(seen: Observation) -> None:
    _age, g0, g1, g2, g3, share = next(row for row in GROWTH if row[0] == 1.0)
    momentum, author, reach = log_ratios(seen, share)  # what bench/viral.py fits on
    growth = (1 + seen.engagement) * math.exp(g0 + g1 * momentum + g2 * author + g3 * reach) - 1
    floor = PRIOR_RATE * audience_of(seen)
    assert predict_24h(seen) == pytest.approx(max(growth, floor, seen.engagement))
