"""Viral risk: Szabo-Huberman prediction tested on simulated Hawkes cascades, and growth."""

from __future__ import annotations

import pytest

from reputation import hawkes
from reputation.viral import assess, predict_24h


def test_one_hour_observations_rank_simulated_cascades() -> None:
    # An independent seed from the one the coefficients were fitted on (bench/viral.py).
    cascades = hawkes.simulate_many(2000, seed=2026)
    result = hawkes.evaluate(cascades, predict_24h, at_hours=1.0)
    print(f"\nviral prediction from 1h, 2,000 cascades: {result}")
    assert result["spearman"] >= 0.85
    assert result["top5_recall"] >= 0.75


def test_the_simulator_makes_heavy_tailed_cascades() -> None:
    sizes = sorted(c.count_at(86400) for c in hawkes.simulate_many(2000, seed=3))
    assert sizes[len(sizes) // 2] <= 1  # most posts go nowhere
    assert sizes[-1] >= 50 * max(1, sizes[int(len(sizes) * 0.9)])  # a few take off


@pytest.mark.parametrize(("n", "age"), [(0, 1.0), (10, 0.5), (200, 1.0), (5000, 6.0)])
def test_prediction_grows_with_engagement_and_never_shrinks(n: int, age: float) -> None:
    assert predict_24h(n, age) >= n
    assert predict_24h(n + 10, age) > predict_24h(n, age)
    assert predict_24h(n, age) >= predict_24h(n, age * 2)  # the same count later means less
    assert predict_24h(n, 30.0) == n


def _row(total: int, seen: str) -> dict:
    return {
        "created_at": "2026-11-22T08:00:00Z",
        "last_seen_at": seen,
        "likes": total,
        "shares": 0,
        "replies": 0,
    }


def _snap(total: int, at: str) -> dict:
    return {"likes": total, "shares": 0, "replies": 0, "observed_at": at}


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
    reasons = viral.reasons()
    assert reasons[0] == "engagement up 10 → 400 in 20 min"
    assert reasons[1] == "accelerating: 1,440/h now"
    assert reasons[2].startswith("on course for ~") and reasons[2].endswith(" engagements in 24h")


def test_a_single_quiet_observation_says_nothing() -> None:
    viral = assess(_row(3, "2026-11-22T09:00:00Z"), [_snap(3, "2026-11-22T09:00:00Z")])
    assert viral.reasons() == []
    assert viral.risk < 0.2
