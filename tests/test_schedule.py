"""`reputation serve`: APScheduler 3 jobs with coalescing, one instance and a grace period."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from reputation.config import load_config
from reputation.crontab import cron_words, crontab_trigger
from reputation.schedule import _guarded, build_scheduler, describe, interval_words


def test_jobs_are_configured_for_a_long_running_process(workspace: Callable) -> None:
    path = workspace([], schedule={"every": "15m"}, digest={"cron": "5 0 * * *", "dir": "d"})
    scheduler = build_scheduler(path, print, print, BackgroundScheduler())
    run, digest = scheduler.get_job("run"), scheduler.get_job("digest")
    assert run.trigger.interval.total_seconds() == 900
    assert str(digest.trigger) == "cron[month='*', day='*', day_of_week='*', hour='0', minute='5']"
    assert digest.misfire_grace_time == 6 * 3600 and run.misfire_grace_time == 900
    assert scheduler._job_defaults["coalesce"] is True
    assert scheduler._job_defaults["max_instances"] == 1


def test_the_first_run_starts_at_once(workspace: Callable) -> None:
    path = workspace([])
    started = threading.Event()
    seen: list[Path] = []

    def run(config_path: Path) -> None:
        seen.append(config_path)
        started.set()

    scheduler = build_scheduler(path, run, print, BackgroundScheduler())
    scheduler.start()
    try:
        assert started.wait(10)
    finally:
        scheduler.shutdown(wait=False)
    assert seen == [path]


def test_a_failing_job_does_not_stop_the_scheduler(caplog) -> None:
    def explode(path: Path) -> None:
        raise RuntimeError("source exploded")

    assert _guarded(explode)(Path("c.yaml")) is None
    assert "job explode failed" in caplog.text


# Sunday 2026-11-22 12:00 UTC: the next fire time of each weekday field, read as cron reads it.
SUNDAY_NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("weekday", "next_day"),
    [
        ("1", 23),  # Monday (APScheduler 3 alone would read 1 as Tuesday, the 24th)
        ("0", 29),  # Sunday: today's 08:00 has passed
        ("7", 29),  # Sunday too, as in cron
        ("2-4", 24),
        ("6,0", 28),
        ("*/3", 25),  # Sunday, Wednesday, Saturday
        ("fri", 27),
        ("*", 23),
    ],
)
def test_the_digest_weekday_counts_from_sunday_as_cron_does(weekday: str, next_day: int) -> None:
    trigger = crontab_trigger(f"0 8 * * {weekday}")
    assert trigger.get_next_fire_time(None, SUNDAY_NOON) == datetime(
        2026, 11, next_day, 8, 0, tzinfo=UTC
    )


@pytest.mark.parametrize("bad", ["0 8 * * 8", "0 8 * * 5-1", "0 8 * *", "61 8 * * *"])
def test_a_crontab_line_cron_would_refuse_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        crontab_trigger(bad)


@pytest.mark.parametrize(
    ("cron", "words"),
    [
        ("5 0 * * *", "every day at 00:05 UTC"),
        ("30 * * * *", "every hour at minute 30 (UTC)"),
        ("0 8 * * 1", "every Monday at 08:00 UTC"),
        ("0 8 * * 7", "every Sunday at 08:00 UTC"),
        ("0 8 1 * *", 'on the cron schedule "0 8 1 * *" (UTC)'),
    ],
)
def test_the_digest_schedule_in_words(cron: str, words: str) -> None:
    assert cron_words(cron) == words


@pytest.mark.parametrize(
    ("every", "words"),
    [
        (timedelta(minutes=10), "10 minutes"),
        (timedelta(hours=1, minutes=30), "1 hour 30 minutes"),
        (timedelta(seconds=45), "45 seconds"),
        (timedelta(days=1), "1 day"),
    ],
)
def test_the_run_interval_in_words(every: timedelta, words: str) -> None:
    assert interval_words(every) == words


def test_serve_describes_its_schedule_with_utc(workspace: Callable) -> None:
    config = load_config(workspace([], schedule={"every": "10m"}))
    assert describe(config, SUNDAY_NOON) == (
        "every 10 minutes",
        "every day at 00:05 UTC (next 2026-11-23 00:05 UTC)",
    )
