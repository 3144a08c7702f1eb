"""Scoring in a process pool (`scoring.workers`) gives the scores one process gives."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from reputation.brands import Brand
from reputation.config import ConfigError, load_config
from reputation.models import Mention
from reputation.pipeline import score_new
from reputation.scoring import Scorer
from reputation.store import Store
from tests.conftest import NOW, T0

BRANDS = [Brand("Acme Air", ("acme air", "@acmeair"))]
TEXTS = [
    "@acmeair my bag has been lost for 3 days and nobody answers",
    "still nothing from Acme Air, any update?",
    "thanks @acmeair, sorted in 5 minutes!",
    "Acme Air charged me twice, I want a refund or I call my lawyer",
    "flying Acme Air to Denver tomorrow",
    "same here, on hold for 2 hours",
]


def thread_of_mentions(n: int) -> list[Mention]:
    """n mentions, a third of them replies to a recent one (often in the chunk before)."""
    rng = random.Random(12)
    out: list[Mention] = []
    for i in range(n):
        parent = out[rng.randrange(max(0, i - 30), i)].native_id if i and i % 3 == 0 else None
        out.append(Mention(source="x", native_id=str(i), brand="Acme Air",
                           text=f"{rng.choice(TEXTS)} ({i})", author=f"u{i % 40}",
                           created_at=T0 + timedelta(seconds=i), author_followers=10 * i,
                           parent_id=parent, thread_id=parent))  # fmt: skip
    return out


def scores_of(path: Path | str, workers: int, here: list[int]) -> dict[str, tuple]:
    """Every score column (but when) by key; `here` gets the size of each batch scored in
    this process."""
    store = Store.open(path)
    try:
        store.save_batch("file", thread_of_mentions(240), NOW)
        scorer = Scorer(brands=BRANDS)
        score_many = scorer.score_many
        scorer.score_many = lambda rows, *a: here.append(len(rows)) or score_many(rows, *a)  # type: ignore[method-assign]
        count, errors = score_new(store, scorer, NOW, chunk=20, workers=workers,
                                  brands=BRANDS, pool_from=100)  # fmt: skip
        assert (count, errors) == (240, [])
        assert store.mentions_to_score() == []
        rows = store._rows("SELECT * FROM scores ORDER BY mention_key")
    finally:
        store.close()
    return {r["mention_key"]: tuple(v for k, v in r.items() if k != "scored_at") for r in rows}


def test_a_pool_scores_as_one_process_does(tmp_path: Path, database: Path | str) -> None:
    here: list[int] = []
    alone = scores_of(tmp_path / "one.db", 1, here)
    assert sum(here) == 240
    here.clear()
    pooled = scores_of(database, 2, here)  # on each backend: as one process on SQLite
    assert len(alone) == 240 and pooled == alone
    # The workers scored the chunks; here only replies whose parent was still out (with the
    # linked mentions of their own chunk): the path that keeps a pool exact was taken.
    assert here and sum(here) < 240 / 4
    # Replies carried their parents' complaints over: the thread path was exercised.
    reasons = " ".join(str(v) for v in alone.values())
    assert "follow-up in a complaint thread" in reasons


def config_with(tmp_path: Path, workers: object) -> Path:
    (tmp_path / "m.jsonl").write_text("")
    path = tmp_path / "config.yaml"
    config = {"database": str(tmp_path / "r.db"), "scoring": {"workers": workers},
              "brands": [{"name": "Acme Air", "terms": ["acme air"]}],
              "connectors": [{"type": "file", "path": str(tmp_path / "m.jsonl")}]}  # fmt: skip
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.parametrize("value", [0, -1, 1.5, "many", True])
def test_workers_must_be_a_count_or_auto(tmp_path: Path, value: object) -> None:
    with pytest.raises(ConfigError, match=r"scoring\.workers"):
        load_config(config_with(tmp_path, value))


def test_workers_auto_is_accepted(tmp_path: Path) -> None:
    from reputation.pool import worker_count

    assert load_config(config_with(tmp_path, "auto")).scoring.workers == "auto"
    assert worker_count("auto") >= 1 and worker_count(3) == 3
