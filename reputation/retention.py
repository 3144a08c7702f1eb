"""Retention: old data pruned during runs, in bounded batches (`retention:` in the config).

Whole mentions go first (`mentions_days`, with their scores and links), so nothing is
trimmed that is about to be deleted; then engagement snapshots (`snapshots_days`: a
mention's row keeps its latest counts), then raw payloads (`raw_days`). Alerts stay in the
ledger, so pruning never makes anything alert twice. 0 keeps that kind of data for ever.
Each batch is one short transaction; a run stops after `max_batches` batches of each kind
and the next run goes on, so a first prune of a large old database never holds a run up
for long.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the config reads the settings without loading the store
    from reputation.store import Store

BATCH = 1000  # rows per transaction
MAX_BATCHES = 20  # per kind and run: at most 20,000 rows of each


@dataclass(frozen=True)
class RetentionSettings:
    """Days to keep each kind of data; 0 keeps it for ever."""

    raw_days: int = 30
    snapshots_days: int = 14
    mentions_days: int = 365


def prune(
    store: Store, settings: RetentionSettings, now: datetime, batch: int = BATCH,
    max_batches: int = MAX_BATCHES,
) -> dict[str, int]:  # fmt: skip
    """Prune what is older than the settings allow, `batch` rows per transaction and at most
    `max_batches` batches per kind; return the rows pruned by kind (only kinds with any)."""
    steps = (
        ("mentions", settings.mentions_days, store.prune_mentions),
        ("snapshots", settings.snapshots_days, store.prune_snapshots),
        ("raw", settings.raw_days, store.prune_raw),
    )
    pruned: dict[str, int] = {}
    for kind, days, step in steps:
        if days <= 0:
            continue
        before = now - timedelta(days=days)
        total = 0
        for _ in range(max_batches):
            done = step(before, batch)
            total += done
            if done < batch:
                break
        if total:
            pruned[kind] = total
    return pruned
