"""`reputation serve`: APScheduler 3 jobs with coalescing, one instance and a grace period."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler

from reputation.schedule import _guarded, build_scheduler


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
