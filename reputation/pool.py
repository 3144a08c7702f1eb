"""Scoring in worker processes: each builds its own Scorer once and scores whole chunks, so
a large batch uses every core while the main process reads and writes the store."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from reputation.brands import Brand
from reputation.models import Score
from reputation.scoring import Scorer, ScoringSettings

_scorer: Scorer | None = None  # this worker's, built once by `_start`


def worker_count(value: int | str) -> int:
    """`scoring.workers` as a number of processes: "auto" is the cores this process may use."""
    if value == "auto":
        return (
            len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity")
            else (os.cpu_count() or 1)
        )
    return int(value)


def scoring_pool(settings: ScoringSettings, brands: Sequence[Brand], workers: int) -> Any:
    """A process pool whose workers score with these settings and brands. Started by
    forkserver where there is one (safe in a process with threads), else spawn; the model,
    if any, is loaded in each worker."""
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_start,
        initargs=(settings, tuple(brands)),
    )  # fmt: skip


def _start(settings: ScoringSettings, brands: tuple[Brand, ...]) -> None:
    global _scorer  # one scorer per worker process, built once
    _scorer = Scorer(settings, brands=brands)


def score_chunk(
    rows: Sequence[Mapping[str, Any]],
    snapshots: Mapping[str, Sequence[Mapping[str, Any]]],
    threads: Mapping[str, float],
) -> list[Score]:
    """`Scorer.score_many` in a worker."""
    if _scorer is None:
        raise RuntimeError("score_chunk runs in a scoring_pool worker")
    return _scorer.score_many(rows, snapshots, threads)
