"""`reputation serve`: the same run and digest on APScheduler 3, in one long-lived process."""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from reputation.config import ConfigError, load_config
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
        CronTrigger.from_crontab(config.digest_cron, timezone="UTC"),
        args=[config_path],
        id="digest",
        name="nightly digest",
        misfire_grace_time=6 * 3600,
    )
    return scheduler


def serve(
    config_path: Path, run_job: Callable[[Path], Any], digest_job: Callable[[Path], Any]
) -> None:
    """Run the scheduler until SIGINT or SIGTERM; a job that fails is logged and retried later."""
    scheduler = build_scheduler(config_path, _guarded(run_job), _guarded(digest_job))

    def stop(signum: int, frame: Any) -> None:
        log.warning("received signal %s; stopping after the current job", signum)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    log.warning("serving %s: run every %s, digest on %r", config_path, *_describe(scheduler))
    with suppress(KeyboardInterrupt, SystemExit):  # Ctrl-C or SIGTERM: a clean stop
        scheduler.start()


def _guarded(job: Callable[[Path], Any]) -> Callable[[Path], Any]:
    def wrapper(config_path: Path) -> Any:
        try:
            return job(config_path)
        except ConfigError as exc:
            for line in exc.errors:
                log.error("config: %s", line)
        except Exception:  # the scheduler must outlive a failing job (logged with its traceback)
            log.exception("job %s failed; it runs again at its next time", job.__name__)
        return None

    wrapper.__name__ = job.__name__
    return wrapper


def _describe(scheduler: BaseScheduler) -> tuple[str, str]:
    run = scheduler.get_job("run")
    digest = scheduler.get_job("digest")
    return str(run.trigger.interval), str(digest.trigger)
