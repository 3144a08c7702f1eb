"""Which commits reach the disk: bulk stages (fetch, score, rules) skip the flush in SQLite's
WAL mode; delivery, whose record decides whether a message is posted again, never does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reputation import pipeline
from reputation.config import load_config
from reputation.store import Store


def _synchronous(store: Store) -> int:
    return int(store._db.execute("PRAGMA synchronous").fetchone()[0])


def test_bulk_relaxes_the_flush_for_its_block_and_restores_it(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "r.db")
    try:
        assert _synchronous(store) == 2  # FULL: every commit flushed
        with store.bulk():
            assert _synchronous(store) == 1  # NORMAL: flushed at checkpoints
        assert _synchronous(store) == 2
        with pytest.raises(RuntimeError), store.bulk():
            raise RuntimeError("a stage failed")
        assert _synchronous(store) == 2  # restored on the way out of a failure too
    finally:
        store.close()


def test_the_run_delivers_with_full_flush_after_bulk_stages(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(demo)
    if not isinstance(config.database, Path):
        pytest.skip("SQLite only: PostgreSQL has no synchronous pragma")
    seen: dict[str, int] = {}

    def spy(name: str, function: Any) -> Any:
        def run(store: Store, *args: Any, **kwargs: Any) -> Any:
            seen[name] = _synchronous(store)
            return function(store, *args, **kwargs)

        return run

    for name in ("fetch_into", "score_new", "evaluate_rules", "deliver"):
        monkeypatch.setattr(pipeline, name, spy(name, getattr(pipeline, name)))
    summary = pipeline.run_once(config, env={})
    assert summary.sent > 0  # the demo alerts: delivery ran and committed
    assert seen == {"fetch_into": 1, "score_new": 1, "evaluate_rules": 1, "deliver": 2}
