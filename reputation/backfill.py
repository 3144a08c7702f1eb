"""`reputation backfill --since 7d [--connector NAME]`: history read within each source's
limits and read budget, resumable, with progress.

Every connector re-reads a window (`lookback`) before its cursor on each run; a backfill is
a run of the connectors with that window widened to `--since`, its batches stored with their
state as a run stores them. X is the exception: its cursor is a since_id, and it reads only
after it, so its backfill keeps a state of its own (`NAME:backfill`), which its resumable
passes (until_id) carry across an interruption or a spent budget; that state is cleared once
the pass completes. A source that cannot go back says so and is skipped. Backfilled mentions
are scored but not given to the rules: history fills the archive, not the channel
(decision 134). The pipeline's read budgets apply: a monthly cap spent stops X's backfill,
and the next backfill goes on from where it stopped.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from reputation.config import Config, PluginConfig
from reputation.connectors import CONNECTORS, FetchContext, RateLimited, decode_state
from reputation.pipeline import RATE_LIMIT_BACKOFF, RunSummary, _reads_allowed, _save, score_new
from reputation.progress import Reporter
from reputation.scoring import Scorer
from reputation.store import Store

# Sources that cannot read further back than a run does, and why.
CANNOT = {
    "file": "reads its whole file on every run already: nothing older to fetch",
    "rss": "a feed lists only its latest items: nothing older to fetch",
}
# How far back a source can search at all, and what it says when asked for more.
LIMITS = {"x": (timedelta(days=7) - timedelta(minutes=10), "X searches only the last 7 days")}
NOTES = {
    "appstore": "the feed holds about the newest 500 reviews per country",
    "googleplay": "at most max_reviews reviews per run",
    "trustpilot": "at most max_pages pages",
    "hackernews": "at most max_pages pages per query",
    "mastodon": "only what federated to the instance",
}
OWN_STATE = {"x"}  # connectors whose backfill keeps its own state (see above)


@dataclass
class Outcome:
    """What the backfill did per connector: fetched, new, reads, and how it ended."""

    fetched: int = 0
    new: int = 0
    reads: int = 0
    status: str = ""


@dataclass
class BackfillSummary:
    """The backfill's outcome by connector, and errors and warnings as a run's."""

    connectors: dict[str, Outcome] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    scored: int = 0


def backfill(
    config: Config, since: timedelta, now: datetime, report: Reporter,
    only: str | None = None, env: Mapping[str, str] | None = None,
) -> BackfillSummary:  # fmt: skip
    """Read `since` of history from every connector (or the one named `only`)."""
    env = os.environ if env is None else env
    summary = BackfillSummary()
    store = Store.open(config.database)
    history: list[str] = []
    try:
        with store.bulk():  # history: a power cut's lost batches are read again
            for plugin in config.connectors:
                if only is None or plugin.name == only:
                    summary.connectors[plugin.name] = _one(
                        store, plugin, config, since, now, report, summary, env, history
                    )
    finally:  # even when interrupted: what was stored is scored, and kept from the rules
        try:
            scorer = Scorer(config.scoring, brands=config.brands)
            with store.bulk():
                summary.scored, errors = score_new(store, scorer, now)
            summary.errors.extend(errors)
            store.mark_evaluated(history)
        finally:
            store.close()
    return summary


def _one(
    store: Store, plugin: PluginConfig, config: Config, since: timedelta, now: datetime,
    report: Reporter, summary: BackfillSummary, env: Mapping[str, str], history: list[str],
) -> Outcome:  # fmt: skip
    name, outcome = plugin.name, Outcome()
    if plugin.type in CANNOT or "lookback" not in plugin.options:
        outcome.status = f"skipped: {CANNOT.get(plugin.type, 'cannot go back')}"
        report.note(f"{name} ({plugin.type}): {outcome.status}")
        return outcome
    span = since
    limit = LIMITS.get(plugin.type)
    if limit is not None and since > limit[0]:
        span = limit[0]
        summary.warnings.append(f"connector {name}: {limit[1]}; backfilling that much")
    note = NOTES.get(plugin.type, "")
    report.start(name, detail=note)
    state_name = f"{name}:backfill" if plugin.type in OWN_STATE else name
    widened = replace(plugin, options={**plugin.options, "lookback": max(span, _lookback(plugin))})
    run = RunSummary()
    try:
        _fetch(store, widened, state_name, config, now, run, outcome, report, env, history)
    except RateLimited as exc:
        until = exc.retry_at or now + RATE_LIMIT_BACKOFF
        store.source_failed(name, str(exc), now, retry_at=until)
        outcome.status = f"stopped: rate limited until {until:%Y-%m-%d %H:%M} UTC; run again"
    except _BudgetSpent as exc:
        outcome.status = f"stopped: {exc}"
    except Exception as exc:  # noqa: BLE001 - one source must not stop the others
        store.source_failed(name, str(exc), now)
        outcome.status = f"failed: {exc}; run again to resume"
    else:
        if state_name == name:
            outcome.status = "done"
        elif _pending(store.cursors(state_name)):
            outcome.status = "stopped: the read budget of a run is spent; run again to go on"
        else:
            store.clear_cursors(state_name)  # complete: the next backfill starts afresh
            outcome.status = "done"
    outcome.new = run.new_mentions
    summary.errors.extend(run.errors)
    summary.warnings.extend(run.warnings)
    if outcome.status.startswith("failed"):
        summary.errors.append(f"connector {name}: backfill {outcome.status}")
    report.finish(name, f"{outcome.status}: {outcome.fetched} fetched, {outcome.new} new, "
                        f"{outcome.reads} read(s)")  # fmt: skip
    return outcome


def _fetch(
    store: Store, plugin: PluginConfig, state_name: str, config: Config, now: datetime,
    run: RunSummary, outcome: Outcome, report: Reporter, env: Mapping[str, str],
    history: list[str],
) -> None:  # fmt: skip
    """Fetch one connector with its widened window, storing each batch with its state."""
    name = plugin.name
    allowed = _reads_allowed(plugin, store.source_state(name), now)
    if allowed == 0:
        raise _BudgetSpent
    ctx = FetchContext(
        now=now,
        cursors=store.cursors(state_name),
        reads_allowed=allowed,
        recent=lambda scope, start: store.recent_ids(name, scope, start),
    )
    saved: dict[str, str | None] = {}
    connector = CONNECTORS[plugin.type](name, plugin.options, config.brands, env)
    try:
        for batch in connector.fetch(ctx):
            fresh = [m.key for m in batch.mentions]
            known = store.known_keys(fresh)
            _save(store, name, batch, now, saved, run, state_name=state_name)
            history.extend(k for k in fresh if k not in known)  # kept from the rules
            outcome.fetched += len(batch.mentions)
            outcome.reads += batch.reads
            report.update(name, outcome.fetched, f"{run.new_mentions} new, {outcome.reads} reads")
        store.source_succeeded(name, now)
    finally:
        run.warnings.extend(f"connector {name}: {w}" for w in ctx.warnings)


class _BudgetSpent(Exception):
    def __str__(self) -> str:
        return "the monthly read budget is spent; run again next month"


def _pending(cursors: Mapping[str, str]) -> bool:
    """Whether a saved X state still has a pass to finish (its `backfill` is set)."""
    for text in cursors.values():
        state = decode_state(text)
        if state and state.get("backfill"):
            return True
    return False


def _lookback(plugin: PluginConfig) -> Any:
    return plugin.options.get("lookback") or timedelta(0)
