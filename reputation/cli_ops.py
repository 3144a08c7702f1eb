"""Command line for running it for months: `reputation status [--json]`, and the day in
Slack that `digest` and `serve` post. Each command imports the store when it runs (the
start-up promise of reputation/cli.py)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_ATTENTION = 0, 1
log = logging.getLogger("reputation")


def add_commands(
    commands: Any, common: argparse.ArgumentParser, load: Callable[[Path], Any]
) -> None:
    """Add `status` to the command line (`load` reads the config)."""
    status = commands.add_parser(
        "status", parents=[common], help="health at a glance: exit 1 when a person is needed"
    )
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.set_defaults(handler=lambda args, path: cmd_status(args, load(path)))


def cmd_status(args: argparse.Namespace, config: Any) -> int:
    """Print each source's, sink's, incident's and run's state; exit 1 when something needs a
    person (a source down, failed alerts, no recent run), 0 otherwise."""
    from reputation.health import status_report
    from reputation.store import Store
    from reputation.timeutil import utcnow

    store = Store.open(config.database)
    try:
        report = status_report(config, store, utcnow())
    finally:
        store.close()
    if args.json:
        print(json.dumps(report))
    else:
        for line in status_lines(report):
            print(line)
    return EXIT_ATTENTION if report["problems"] else EXIT_OK


def status_lines(report: Mapping[str, Any]) -> list[str]:
    """The report for a person: one line per source, sink and run, problems first."""
    from reputation.text import terminal_safe

    lines = [f"status: {report['status']} (checked {report['checked_at'][:19]}Z)"]
    lines += [f"  ! {problem}" for problem in report["problems"]]
    lines.append("sources:")
    for c in report["connectors"]:
        reads = c["reads"]
        budget = f"/{reads['monthly_budget']}" if reads["monthly_budget"] else ""
        lag = _age(c["cursor_lag_seconds"])
        lines.append(
            f"  {c['name']:<16} {c['health']:<8} last success {_stamp(c['last_success_at'])}"
            f"  newest post {lag} ago  24h {c['mentions_24h']} (week before "
            f"{c['mentions_24h_week_before']})  reads this month {reads['this_month']}{budget}"
        )
        if c["health"] not in ("ok", "not_run") and c["last_error"]:
            lines.append(f"    last error: {c['last_error']}")
    lines.append("sinks:")
    for s in report["sinks"]:
        oldest = f", oldest undelivered {_stamp(s['oldest_undelivered_at'])}"
        lines.append(f"  {s['name']:<16} {s['pending']} pending, {s['failed']} failed"
                     + (oldest if s["oldest_undelivered_at"] else ""))  # fmt: skip
    incidents = report["incidents"]
    states = ", ".join(f"{n} {state}" for state, n in sorted(incidents["by_state"].items()))
    lines.append(f"incidents: {incidents['open']} open" + (f" ({states})" if states else ""))
    lines.append("runs:")
    for run in report["runs"]["recent"]:
        took = "" if run["duration_seconds"] is None else f" in {run['duration_seconds']:.1f}s"
        lines.append(f"  #{run['id']} {_stamp(run['started_at'])} {run['outcome']}{took}, "
                     f"{run['fetched']} fetched, {run['alerts']} alert(s), {run['errors']}"
                     " error(s)")  # fmt: skip
    return [terminal_safe(line) for line in lines]


def _stamp(value: str | None) -> str:
    return f"{value[:16].replace('T', ' ')} UTC" if value else "never"


def _age(seconds: int | None) -> str:
    if seconds is None:
        return "none"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{max(seconds, 0)}s"


def the_day(config: Any, day: date | None) -> tuple[Path, list[str], list[str]]:
    """Write the day's summary CSV beside the digest and post the day to Slack (at most once
    per day and sink); returns the CSV's path, errors and warnings."""
    import os

    from reputation.daily import day_facts, post_day, write_summary
    from reputation.digest import yesterday
    from reputation.notify import build_sinks
    from reputation.store import Store
    from reputation.timeutil import utcnow

    now = utcnow()
    sinks, warnings = build_sinks(config.sinks, os.environ)
    store = Store.open(config.database)
    try:
        facts = day_facts(store, day or yesterday(now))
        path = write_summary(facts, config.digest_dir)
        errors = post_day(store, sinks, facts, config.digest_channel, now, warnings)
    finally:
        store.close()
    return path, errors, warnings


def print_the_day(config: Any, day: date | None) -> None:
    """`reputation digest`: the day's summary CSV and Slack message, said on the terminal."""
    from reputation.logs import redact

    path, errors, warnings = the_day(config, day)
    print(f"wrote {path}")
    for warning in warnings:
        print(f"reputation: warning: {redact(warning)}", file=sys.stderr)
    for error in errors:
        print(f"error: {redact(error)}")


def log_the_day(config: Any, day: date | None) -> None:
    """`serve`'s nightly digest: the same, in the log."""
    path, errors, warnings = the_day(config, day)
    log.info("digest: wrote %s", path)
    for warning in warnings:
        log.warning("digest: %s", warning)
    for error in errors:
        log.warning("digest: error: %s", error)
