"""`reputation serve`: the same run and digest on APScheduler 3, in one long-lived process."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from reputation.config import Config, ConfigError, load_config
from reputation.crontab import cron_words, crontab_trigger
from reputation.db import database_errors
from reputation.errors import StoreError
from reputation.timeutil import utcnow

log = logging.getLogger("reputation")


def build_scheduler(
    config_path: Path,
    run_job: Callable[[Path], Any],
    digest_job: Callable[[Path], Any],
    scheduler: BaseScheduler | None = None,
) -> BaseScheduler:
    """A scheduler with the run every `schedule.every` (first one now) and the digest on cron."""
    config = load_config(config_path)
    scheduler = scheduler or BlockingScheduler(timezone="UTC")
    # The default grace time (1 s) silently skips a job that starts late: allow a late start.
    scheduler.configure(job_defaults={"coalesce": True, "max_instances": 1}, timezone="UTC")
    every = int(config.every.total_seconds())
    scheduler.add_job(
        run_job,
        IntervalTrigger(seconds=every, timezone="UTC"),
        args=[config_path],
        id="run",
        name="fetch, score, alert",
        next_run_time=utcnow(),
        misfire_grace_time=max(every, 60),
    )
    scheduler.add_job(
        digest_job,
        crontab_trigger(config.digest_cron),
        args=[config_path],
        id="digest",
        name="nightly digest",
        misfire_grace_time=6 * 3600,
    )
    return scheduler


def serve(
    config_path: Path, run_job: Callable[[Path], Any], digest_job: Callable[[Path], Any]
) -> None:
    """Run the scheduler until SIGINT or SIGTERM; a job that fails is logged and retried later.
    On a stop the job in progress finishes (its lock is then released) before this returns."""
    jobs = _Jobs()
    scheduler = build_scheduler(config_path, _guarded(run_job, jobs), _guarded(digest_job, jobs))

    def stop(signum: int, frame: Any) -> None:
        log.info("received %s; stopping after the current job", signal.Signals(signum).name)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    run, digest = describe(load_config(config_path), utcnow())
    log.info("serving %s: a run %s, the first now; the digest %s", config_path, run, digest)
    with suppress(KeyboardInterrupt, SystemExit):  # Ctrl-C or SIGTERM: a clean stop
        scheduler.start()
    if scheduler.running:  # Ctrl-C left the main loop without stopping the scheduler
        scheduler.shutdown(wait=False)
    jobs.wait_idle()
    log.info("stopped")


class _Jobs:
    """How many jobs are running, so a stop can wait for them: `shutdown(wait=False)` in a
    signal handler returns at once, and the process would log "stopped" mid-run."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = threading.Condition()

    def __enter__(self) -> None:
        with self._idle:
            self._count += 1

    def __exit__(self, *exc: object) -> None:
        with self._idle:
            self._count -= 1
            self._idle.notify_all()

    def wait_idle(self) -> None:
        """Return once no job is running."""
        with self._idle:
            self._idle.wait_for(lambda: self._count == 0)


def _guarded(job: Callable[[Path], Any], jobs: _Jobs | None = None) -> Callable[[Path], Any]:
    what = "the digest" if "digest" in job.__name__ else "this run"

    def wrapper(config_path: Path) -> Any:
        with jobs or _Jobs():
            return _logged(job, what, config_path)

    wrapper.__name__ = job.__name__
    return wrapper


def _logged(job: Callable[[Path], Any], what: str, config_path: Path) -> Any:
    """Run `job`; what it raises is logged (a bad config, an unusable database in one line)."""
    try:
        return job(config_path)
    except ConfigError as exc:
        for line in exc.errors:
            log.error("config: %s", line)
        log.error(
            "%s skipped: %s has errors; the next run after they are fixed uses it",
            what,
            config_path,
        )
    except Exception as exc:  # the scheduler must outlive a failing job (logged)
        if isinstance(exc, (StoreError, *database_errors())):  # one line: the cause says it
            log.error("%s failed: %s; it runs again at its next time", what, exc)
        else:
            log.exception("job %s failed; it runs again at its next time", job.__name__)
    return None


def describe(config: Config, now: datetime) -> tuple[str, str]:
    """The run's interval and the digest's schedule in words, the digest's next time in UTC."""
    upcoming = crontab_trigger(config.digest_cron).get_next_fire_time(None, now)
    when = f" (next {upcoming.astimezone(UTC):%Y-%m-%d %H:%M} UTC)" if upcoming else ""
    return "every " + interval_words(config.every), cron_words(config.digest_cron) + when


def interval_words(interval: timedelta) -> str:
    """`timedelta(minutes=90)` as "1 hour 30 minutes"."""
    seconds = int(interval.total_seconds())
    parts = []
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {unit}{'s' if count != 1 else ''}")
    return " ".join(parts) or "0 seconds"
