"""The product in one screen: fetch → store → score → rules → notify, as one batch run."""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from reputation.brands import Brand
from reputation.config import Config, PluginConfig
from reputation.connectors import (
    CONNECTORS,
    Batch,
    FetchContext,
    RateLimited,
    decode_state,
    encode_state,
)
from reputation.crashpoint import crash_point
from reputation.engine import evaluate_rules
from reputation.followup import show_changes
from reputation.health import watch_sources
from reputation.models import MentionRow, Score, Snapshot
from reputation.notify import build_sinks, deliver
from reputation.retention import prune
from reputation.scoring import Scorer
from reputation.sinks import Sink
from reputation.store import Store, month_reads
from reputation.timeutil import parse_time, utcnow
from reputation.workflow import advance

log = logging.getLogger("reputation")
# How long to leave a source alone after a 429 that did not say when to come back.
RATE_LIMIT_BACKOFF = timedelta(minutes=15)


@dataclass
class RunSummary:
    """What one run did: `sent` counts alerts that reached every sink during this run;
    `pending` and `failed` are what the ledger holds after it."""

    fetched: int = 0
    new_mentions: int = 0
    scored: int = 0
    alerts: int = 0
    sent: int = 0
    pending: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    reads: dict[str, int] = field(default_factory=dict)
    pruned: dict[str, int] = field(default_factory=dict)  # rows retention removed, by kind

    def as_dict(self) -> dict[str, Any]:
        """The summary as the JSON object `reputation run --json` prints."""
        return asdict(self)


def fetch_into(
    store: Store,
    connectors: Sequence[PluginConfig],
    brands: Sequence[Brand],
    now: datetime,
    summary: RunSummary,
    env: Mapping[str, str] | None = None,
) -> None:
    """Read every connector into the store; a failing connector is reported, the rest go on.
    Connectors take their secrets from `env` (default: this process's environment)."""
    env = os.environ if env is None else env
    for config in connectors:
        with store.lease(f"connector:{config.name}") as mine:
            if not mine:  # several workers on one PostgreSQL database: one reads it
                summary.warnings.append(
                    f"connector {config.name}: another worker is reading it; skipped"
                )
                continue
            summary.reads[config.name] = _fetch_one(store, config, brands, now, summary, env)


def _fetch_one(
    store: Store,
    config: PluginConfig,
    brands: Sequence[Brand],
    now: datetime,
    summary: RunSummary,
    env: Mapping[str, str],
) -> int:
    """Fetch one connector; return the billable reads it spent."""
    name = config.name
    state = store.source_state(name)
    if state.get("retry_at") and parse_time(state["retry_at"]) > now:
        summary.warnings.append(
            f"connector {name}: rate limited until {_short(parse_time(state['retry_at']))};"
            " skipped this run"
        )
        return 0
    allowed = _reads_allowed(config, state, now)
    if allowed == 0:
        summary.warnings.append(f"connector {name}: monthly read budget spent; skipped")
        return 0
    ctx = FetchContext(
        now=now,
        cursors=store.cursors(name),
        reads_allowed=allowed,
        recent=lambda scope, since: store.recent_ids(name, scope, since),
    )
    # The saved state of each scope, encoded afresh, to tell a batch that changes nothing.
    saved = {scope: _reencoded(text) for scope, text in ctx.cursors.items()}
    reads = 0
    try:
        connector = CONNECTORS[config.type](name, config.options, brands, env)
        for batch in connector.fetch(ctx):
            _save(store, name, batch, now, saved, summary)
            reads += batch.reads
        store.source_succeeded(name, now)
    except RateLimited as exc:
        until = exc.retry_at or now + RATE_LIMIT_BACKOFF
        store.source_failed(name, str(exc), now, retry_at=until)
        summary.errors.append(f"connector {name}: {exc}; next try after {_short(until)}")
    except Exception as exc:  # one source must never take the run down (logged, recorded)
        log.debug("connector %s failed", name, exc_info=True)
        store.source_failed(name, str(exc), now)
        summary.errors.append(f"connector {name}: {exc}")
    finally:
        summary.warnings.extend(f"connector {name}: {w}" for w in ctx.warnings)
    return reads


def _save(
    store: Store,
    name: str,
    batch: Batch,
    now: datetime,
    saved: dict[str, str | None],
    summary: RunSummary,
    state_name: str | None = None,
) -> None:
    """Store one batch with its encoded state (saved under `state_name`, default the
    connector's), unless it changes nothing; report its problems: items that fail the shared
    checks, or that the store refuses, are skipped where they came from, and the rest of the
    batch and its state go on."""
    fetched = len(batch.mentions)
    batch.screen(now)
    state = None if batch.state is None else encode_state(batch.state)
    moved = state is not None and state != saved.get(batch.scope)
    if batch.mentions or batch.replies or batch.reads or moved:
        stats = store.save_batch(
            name,
            batch.mentions,
            now,
            scope=batch.scope,
            cursor=state if moved else None,
            replies=batch.replies,
            reads=batch.reads,
            cursor_as=state_name,
        )
        crash_point("ingest")  # a test hook (decision 140)
        summary.new_mentions += stats.new
        if moved:
            saved[batch.scope] = state
        batch.problems.extend(
            f"{batch.where(key)}: refused by the store ({why})" for key, why in stats.refused
        )
    summary.fetched += fetched
    summary.errors.extend(f"connector {name}: {p}" for p in batch.problems)
    summary.warnings.extend(f"connector {name}: {n}" for n in batch.notes)


def _reencoded(text: str) -> str | None:
    """A saved state as this version would encode it (None if unreadable), so a state saved
    by an older version that decodes to the same dict counts as unchanged."""
    state = decode_state(text)
    return None if state is None else encode_state(state)


def _reads_allowed(config: PluginConfig, state: dict[str, Any], now: datetime) -> int | None:
    """The run's read budget: `max_reads_per_run`, cut to what the monthly cap leaves."""
    per_run = config.options.get("max_reads_per_run")
    monthly = config.options.get("max_reads_per_month")
    if monthly is None:
        return per_run
    left = max(0, monthly - month_reads(state, now))
    return left if per_run is None else min(per_run, left)


def _short(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


# A batch due for scoring at least this large goes to the process pool (`scoring.workers`);
# a smaller one is scored here, sooner than workers could start (decision 102).
POOL_FROM = 4_000


@dataclass
class _Chunk:
    """Mentions to score with what scoring them reads: snapshots and, per mention, the keys
    of its parent and thread root."""

    rows: list[MentionRow]
    snapshots: dict[str, list[Snapshot]]
    links: list[list[str]]

    def link_keys(self) -> set[str]:
        return {key for keys in self.links for key in keys}


def _chunks(store: Store, size: int) -> Iterator[_Chunk]:
    """The mentions due for scoring, `size` at a time, in (created_at, key) order."""
    after: tuple[str, str] | None = None
    while rows := store.mentions_to_score(size, after):
        after = (rows[-1]["created_at"], rows[-1]["key"])
        links = [[f"{r['source']}:{r[link]}" for link in ("parent_id", "thread_id") if r[link]]
                 for r in rows]  # fmt: skip
        yield _Chunk(rows, store.snapshots([r["key"] for r in rows]), links)


def score_new(
    store: Store, scorer: Scorer, now: datetime, chunk: int = 500, workers: int = 1,
    brands: Sequence[Brand] = (), pool_from: int = POOL_FROM,
) -> tuple[int, list[str]]:  # fmt: skip
    """Score mentions that are new or changed, in chunks; return the count and any errors.
    With `workers` > 1 a batch of `pool_from` or more is scored in that many processes, each
    with a scorer of the same settings and `brands`; the scores are the same."""
    if workers > 1 and store.count_to_score(pool_from) >= pool_from:
        return _score_in_pool(store, scorer, now, chunk, workers, brands)
    count, errors = 0, list[str]()
    for part in _chunks(store, chunk):
        threads = store.complaints(part.link_keys())
        try:
            scores = scorer.score_many(part.rows, part.snapshots, threads)
        except Exception:  # noqa: BLE001 - find the bad mention, score the others
            scores = _one_by_one(scorer, part, threads, errors)
        _save_scores(store, part, scores, now)
        count += len(scores)
    return count, errors


def _one_by_one(
    scorer: Scorer, part: _Chunk, threads: Mapping[str, float], errors: list[str]
) -> list[Score]:
    scores = []
    for row in part.rows:
        try:
            scores.append(scorer.score(row, part.snapshots[row["key"]], threads))
        except Exception as exc:  # noqa: BLE001
            errors.append(f"scoring {row['key']}: {exc}")
    return scores


def _save_scores(store: Store, part: _Chunk, scores: list[Score], now: datetime) -> None:
    versions = {r["key"]: r["version"] for r in part.rows}
    store.save_scores([(s, versions[s.mention_key]) for s in scores], now)
    crash_point("scoring")  # a test hook (decision 140)


@dataclass
class _Job:
    """A chunk out in the pool, and which of its mentions link to a chunk that was still out
    when it was sent."""

    part: _Chunk
    stale: list[int]
    future: Future[list[Score]]


def _score_in_pool(
    store: Store, scorer: Scorer, now: datetime, chunk: int, workers: int,
    brands: Sequence[Brand],
) -> tuple[int, list[str]]:  # fmt: skip
    """score_new over a process pool: chunks are read and sent ahead (two per worker) and
    saved in order. A mention whose parent or thread root was in a chunk still out when it
    was sent is scored again here once that chunk is saved, as a chunk at a time would."""
    from reputation.pool import score_chunk, scoring_pool  # only a large batch needs it

    count, errors = 0, list[str]()
    out: deque[_Job] = deque()
    with scoring_pool(scorer.settings, brands, workers) as pool:
        for part in _chunks(store, chunk):
            busy = {r["key"] for job in out for r in job.part.rows}
            stale = [i for i, keys in enumerate(part.links) if busy.intersection(keys)]
            threads = store.complaints(part.link_keys())
            future = pool.submit(score_chunk, part.rows, part.snapshots, threads)
            out.append(_Job(part, stale, future))
            while len(out) >= 2 * workers:
                count += _collect(store, scorer, now, out.popleft(), errors)
        while out:
            count += _collect(store, scorer, now, out.popleft(), errors)
    return count, errors


def _collect(store: Store, scorer: Scorer, now: datetime, job: _Job, errors: list[str]) -> int:
    """Save a chunk back from the pool (scored here if the pool failed on it), after scoring
    its stale mentions again with their parents' final scores."""
    part = job.part
    try:
        scores = job.future.result()
    except Exception:  # noqa: BLE001 - as score_new: find the bad mention, score the others
        scores = _one_by_one(scorer, part, store.complaints(part.link_keys()), errors)
        _save_scores(store, part, scores, now)
        return len(scores)
    for i in job.stale:
        row, keys = part.rows[i], set(part.links[i])
        kin = [r for r in part.rows if r["key"] in keys]  # linked mentions in its own chunk
        threads = store.complaints(keys)
        scores[i] = scorer.score_many([*kin, row], part.snapshots, threads)[-1]
    _save_scores(store, part, scores, now)
    return len(scores)


def _workers(value: int | str) -> int:
    if value == 1:
        return 1
    from reputation.pool import worker_count  # multiprocessing only when asked for

    return worker_count(value)


def _stages(
    store: Store, config: Config, sinks: Sequence[Sink], scorer: Scorer | None, now: datetime,
    summary: RunSummary, run_id: int | None = None,
) -> None:  # fmt: skip
    """Score, rules, workflow, delivery (its deliveries claimed for run `run_id`): each
    under its lease, so of several workers on one PostgreSQL database one does each stage at
    a time (the others skip it: the next run catches up); on SQLite the run lock already
    makes every lease this run's."""
    with store.lease("stage:score") as mine, store.bulk():
        if mine:
            # Workers build their own scorer from the config: not for a scorer passed in.
            workers = _workers(config.scoring.workers) if scorer is None else 1
            scorer = scorer or Scorer(config.scoring, brands=config.brands)
            summary.scored, errors = score_new(store, scorer, now, workers=workers,
                                               brands=config.brands)  # fmt: skip
            summary.errors.extend(errors)
    with store.lease("stage:rules") as mine:
        if mine:  # incidents are grouped here, from the ledger: one worker at a time
            with store.bulk():  # alerts only recorded: delivery's commits flush them
                summary.alerts = evaluate_rules(
                    store, config.rules, [s.name for s in sinks], now, config.policy
                )
            advance(store.ledger, now, config.sla)  # snoozes over, brand replies, SLA breaches
    with store.lease("stage:deliver") as mine:
        if mine:  # one worker posts and updates incident messages at a time
            critical = config.policy.routes.by_severity.get("critical")
            delivered = deliver(store, sinks, now, critical, run_id)
            summary.errors.extend(delivered.errors)
            summary.warnings.extend(delivered.warnings)
            summary.errors.extend(
                show_changes(store.ledger, sinks, now, critical, summary.warnings)
            )
            summary.errors.extend(
                watch_sources(store, config, sinks, summary.reads, now, summary.warnings)
            )
    if config.retention is not None:
        with store.lease("stage:retention") as mine:
            if mine:  # after delivery: nothing is trimmed that is about to go
                summary.pruned = prune(store, config.retention, now)


def run_once(
    config: Config,
    *,
    now: datetime | None = None,
    env: Mapping[str, str] | None = None,
    sink_factories: Mapping[str, Callable] | None = None,
    scorer: Scorer | None = None,
) -> RunSummary:
    """One batch run over the configured sources, rules and sinks."""
    now = now or utcnow()
    summary = RunSummary()
    env = os.environ if env is None else env
    sinks, summary.warnings = build_sinks(config.sinks, env, sink_factories)
    store = Store.open(config.database)
    run_id = store.start_run(now)
    sent_before = store.ledger.alert_counts()["sent"]
    status = "crashed"
    try:
        with store.bulk():  # fetching and storing: redone by the next run if a power cut
            fetch_into(store, config.connectors, config.brands, now, summary, env)
        _stages(store, config, sinks, scorer, now, summary, run_id)
        status = "ok" if not summary.errors else "errors"
    finally:
        counts = store.ledger.alert_counts()
        summary.sent = counts["sent"] - sent_before  # alerts every sink now has
        summary.pending, summary.failed = counts["pending"], counts["failed"]
        store.finish_run(run_id, summary.as_dict(), status, utcnow())
        store.close()
    return summary
