"""Health at a glance: each source judged after every run (up, or down once it has failed for
longer than `health.stale_after` since its last success), a change announced in Slack once,
and the facts `reputation status` prints (docs/decisions.md 120-123)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from reputation.logs import redact
from reputation.postlog import NoticePostLog
from reputation.sinks import SinkError
from reputation.store import Store, month_reads
from reputation.text import slack_text
from reputation.timeutil import iso, parse_time

if TYPE_CHECKING:
    from reputation.config import Config, PluginConfig
    from reputation.sinks import Sink

log = logging.getLogger("reputation")
RECENT_RUNS = 10


def _time(value: str | None) -> datetime | None:
    return parse_time(value) if value else None


def _failing(state: Mapping[str, Any]) -> bool:
    """Whether a source's last fetch failed (an error after its last success, or none)."""
    success, error = _time(state.get("last_success_at")), _time(state.get("last_error_at"))
    return error is not None and (success is None or error > success)


def condition(
    state: Mapping[str, Any], failing_since: str | None, now: datetime, stale_after: timedelta
) -> str:
    """A source's condition from its `source_state` row: `not_run` (never fetched), `ok`
    (its last fetch succeeded), `failing` (its last fetch failed, within `stale_after` of its
    last success, or of its first failure if it never succeeded) or `down` (beyond it)."""
    success, error = _time(state.get("last_success_at")), _time(state.get("last_error_at"))
    if not _failing(state):
        return "ok" if success is not None else "not_run"
    since = success or _time(failing_since) or error
    assert since is not None
    return "down" if now - since > stale_after else "failing"


def _outcome(state: Mapping[str, Any], now: datetime) -> str:
    """What this run (at `now`) did with a source: ok, failed, or skipped for a rate limit's
    wait (rate_limited) or a spent read budget (budget)."""
    stamp = iso(now)
    if state.get("last_success_at") == stamp:
        return "ok"
    if state.get("last_error_at") == stamp:
        return "failed"
    retry_at = _time(state.get("retry_at"))
    return "rate_limited" if retry_at is not None and retry_at > now else "budget"


def watch_sources(
    store: Store,
    config: Config,
    sinks: Sequence[Sink],
    reads: Mapping[str, int],
    now: datetime,
    warnings: list[str],
) -> list[str]:
    """After a run's fetch: record each source's outcome, judge its health, and announce a
    change of health to every Slack sink once. Returns errors (a failed announcement is
    tried again on the next run, never twice)."""
    health = store.ledger.source_health()
    pending = []
    for plugin in config.connectors:
        state = store.source_state(plugin.name)
        store.record_source_run(plugin.name, _outcome(state, now), reads.get(plugin.name, 0), now)
        before = health.get(plugin.name, {})
        failing = _failing(state)
        since = (before.get("failing_since") or state.get("last_error_at")) if failing else None
        judged = condition(state, since, now, config.health.stale_after)
        row = store.ledger.judge_source(
            plugin.name, "down" if judged == "down" else "up", since, now
        )
        if row["state"] != row["announced"]:
            pending.append((plugin, state, row))
    errors: list[str] = []
    for plugin, state, row in pending:
        errors.extend(_announce(store, sinks, config, plugin, state, row, now, warnings))
    return errors


def _announce(
    store: Store, sinks: Sequence[Sink], config: Config, plugin: PluginConfig,
    state: Mapping[str, Any], row: Mapping[str, Any], now: datetime, warnings: list[str],
) -> list[str]:  # fmt: skip
    """Post one health change to every sink that announces (Slack), once each; mark it
    announced when all have it."""
    text = health_text(plugin, state, row)
    errors = []
    for sink in sinks:
        announce = getattr(sink, "announce", None)
        channel = config.health.channel or getattr(sink, "channel", None)
        if announce is None or not channel:
            continue
        postlog = NoticePostLog(store.ledger, sink.name, now, warnings)
        slot = f"health {plugin.name} {row['change']}"
        block = {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}
        subject = {"health": plugin.name}
        try:
            announce(postlog, subject, slot, channel, text, [block])
        except SinkError as exc:
            errors.append(f"sink {sink.name}: health of {plugin.name} not announced: {exc}")
    if not errors:
        store.ledger.health_announced(plugin.name, row["state"])
        log.info("source %s is %s: announced", plugin.name, row["state"])
    return errors


def health_text(plugin: PluginConfig, state: Mapping[str, Any], row: Mapping[str, Any]) -> str:
    """The Slack line of a health change: who, since when, the last error (redacted, inert)."""
    name = slack_text(plugin.name)
    success = state.get("last_success_at")
    last = f"last success {_clock(success)}" if success else "no success yet"
    if row["state"] == "down":
        error = slack_text(redact(str(state.get("last_error") or "unknown error"))[:500])
        since = _clock(row.get("failing_since") or state.get("last_error_at"))
        return (
            f":red_circle: *Source down: {name}* ({plugin.type}): failing since {since}, "
            f"{last}.\nLast error: {error}"
        )
    return f":large_green_circle: *Source back: {name}* ({plugin.type}): {last}."


def _clock(stamp: str | None) -> str:
    return parse_time(stamp).strftime("%Y-%m-%d %H:%M UTC") if stamp else "unknown"


# -- reputation status ----------------------------------------------------------------------


def status_report(config: Config, store: Store, now: datetime) -> dict[str, Any]:
    """Everything `reputation status --json` prints (README: Health at a glance)."""
    stale = config.health.stale_after
    health = store.ledger.source_health()
    connectors = [_connector(store, p, health.get(p.name, {}), now, stale)
                  for p in config.connectors]  # fmt: skip
    backlog = store.ledger.sink_backlog()
    sinks = [_sink(store, s.name, s.type, backlog.get(s.name, {})) for s in config.sinks]
    by_state = store.ledger.open_incidents_by_state()
    runs = [_run(r) for r in store.recent_runs(RECENT_RUNS)]
    finished = store.last_finished_run()
    report: dict[str, Any] = {
        "status": "ok",
        "checked_at": iso(now),
        "problems": [],
        "stale_after_seconds": int(stale.total_seconds()),
        "connectors": connectors,
        "sinks": sinks,
        "incidents": {"open": sum(by_state.values()), "by_state": by_state},
        "runs": {
            "schedule_seconds": int(config.every.total_seconds()),
            "last_finished_at": finished["finished_at"] if finished else None,
            "recent": runs,
        },
    }
    report["problems"] = _problems(report, finished, config.every, now)
    report["status"] = "attention" if report["problems"] else "ok"
    return report


def _connector(
    store: Store, plugin: PluginConfig, health: Mapping[str, Any], now: datetime,
    stale: timedelta,
) -> dict[str, Any]:  # fmt: skip
    state = store.source_state(plugin.name)
    activity = store.connector_activity(plugin.name, now)
    last_run = store.last_source_run(plugin.name) or {}
    newest = activity["newest"]
    return {
        "name": plugin.name,
        "type": plugin.type,
        "health": condition(state, health.get("failing_since"), now, stale),
        "last_success_at": state.get("last_success_at"),
        "last_error_at": state.get("last_error_at"),
        "last_error": redact(state["last_error"]) if state.get("last_error") else None,
        "rate_limited_until": state.get("retry_at"),
        "last_outcome": last_run.get("outcome"),
        "newest_post_at": newest,
        "cursor_lag_seconds": int((now - parse_time(newest)).total_seconds()) if newest else None,
        "mentions_24h": activity["d0"],
        "mentions_24h_week_before": activity["d7"],
        "mentions_last_hour": activity["h0"],
        "mentions_same_hour_week_before": activity["h7"],
        "reads": {
            "last_run": last_run.get("reads", 0),
            "per_run_budget": plugin.options.get("max_reads_per_run"),
            "this_month": month_reads(state, now),
            "monthly_budget": plugin.options.get("max_reads_per_month"),
        },
    }


def _sink(store: Store, name: str, kind: str, backlog: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "type": kind,
        "pending": int(backlog.get("pending") or 0),
        "failed": int(backlog.get("failed") or 0),
        "oldest_undelivered_at": backlog.get("oldest"),
        "rate_limited_until": store.ledger.sink_retry_at(name),
    }


def _run(row: Mapping[str, Any]) -> dict[str, Any]:
    started, finished = _time(row["started_at"]), _time(row["finished_at"])
    duration = (finished - started).total_seconds() if started and finished else None
    return {
        "id": row["id"],
        "started_at": row["started_at"],
        "finished_at": row["finished_at"],
        "duration_seconds": None if duration is None else round(duration, 3),
        "outcome": row["status"],
        "fetched": row["fetched"],
        "new_mentions": row["new_mentions"],
        "alerts": row["alerts"],
        "sent": row["sent"],
        "errors": len(_errors(row["errors"])),
    }


def _errors(text: str | None) -> list[Any]:
    try:
        found = json.loads(text or "[]")
    except ValueError:
        return [text]
    return found if isinstance(found, list) else [found]


def _problems(
    report: Mapping[str, Any], finished: Mapping[str, Any] | None, every: timedelta,
    now: datetime,
) -> list[str]:  # fmt: skip
    """What needs a person: a source down, a sink with failed alerts, no finished run for
    twice the schedule."""
    problems = []
    for c in report["connectors"]:
        if c["health"] == "down":
            since = c["last_success_at"] or "never"
            problems.append(
                f"connector {c['name']}: failing for more than "
                f"{report['stale_after_seconds']}s (last success: {since})"
            )
    problems.extend(
        f"sink {s['name']}: {s['failed']} failed alert(s); fix the cause, then "
        "`reputation alerts retry`"
        for s in report["sinks"]
        if s["failed"]
    )
    if finished is None:
        problems.append("no run has finished yet")
    elif now - parse_time(finished["finished_at"]) > 2 * every:
        problems.append(
            f"no run finished since {finished['finished_at']} (the schedule is every "
            f"{int(every.total_seconds())}s)"
        )
    return problems
