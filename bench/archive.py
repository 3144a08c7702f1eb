"""The archive's costs on real tweets: ingest with and without the full-text index,
full-text search latency, `forget` of the most prolific author, and retention's pruning.

    python bench/archive.py [--csv ../shared/eval/airline-tweets/Tweets.csv] [--rounds 3]

Each tweet becomes a mention (its `name` the author, `tweet_created` the time). Ingest is
timed through `Store.save_batch` in batches of 500, best of `--rounds`, on a database with
the m011 index and on one without it. Prints JSON.
"""

from __future__ import annotations

import argparse
import csv
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from labeled import DEFAULT_CSV  # noqa: E402

from reputation.models import Mention  # noqa: E402
from reputation.privacy import redactor  # noqa: E402
from reputation.retention import RetentionSettings, prune  # noqa: E402
from reputation.store import Store  # noqa: E402

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def mentions(path: Path) -> list[Mention]:
    out = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            created = datetime.strptime(row["tweet_created"], "%Y-%m-%d %H:%M:%S %z")
            out.append(Mention(source="x", native_id=row["tweet_id"], brand=row["airline"],
                               text=row["text"], created_at=created.astimezone(UTC),
                               author=row["name"], raw={"row": row}))  # fmt: skip
    return out


def ingest(folder: Path, items: list[Mention], indexed: bool) -> tuple[Path, float]:
    """Seconds to store `items` into a fresh database, 500 a batch; not `indexed`: the
    full-text table is a plain table (the store's one statement per batch copies the text
    there, no tokenizing) and the triggers are gone."""
    path = folder / f"{'fts' if indexed else 'plain'}-{time.monotonic_ns()}.db"
    Store.open(path).close()
    if not indexed:
        with sqlite3.connect(path) as db:
            for name in ("mentions_ad", "mentions_au"):
                db.execute(f"DROP TRIGGER {name}")
            db.execute("DROP TABLE mentions_fts")
            db.execute("CREATE TABLE mentions_fts (text TEXT)")
    store = Store.open(path)
    start = time.perf_counter()
    for i in range(0, len(items), 500):
        store.save_batch("bench", items[i : i + 500], NOW)
    took = time.perf_counter() - start
    store.close()
    return path, took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--csv", default=str(DEFAULT_CSV))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    items = mentions(Path(args.csv))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        plain_runs, runs = [], []
        for _ in range(args.rounds):  # alternated: the machine is shared and noisy
            plain_runs.append(ingest(folder, items, False)[1])
            runs.append(ingest(folder, items, True))
        plain = min(plain_runs)
        path, fts = min(runs, key=lambda r: r[1])
        store = Store.open(path)
        words = ["delayed", "refund", "bag", "cancelled", "thanks", "hold", "crew", "seat"]
        latencies, hits = [], {}
        for _ in range(5):
            for word in words:
                start = time.perf_counter()
                hits[word] = len(store.search(word, limit=100_000))
                latencies.append(time.perf_counter() - start)
        counts: dict[str, int] = {}
        for item in items:
            counts[item.author or ""] = counts.get(item.author or "", 0) + 1
        author, posts = max(counts.items(), key=lambda kv: kv[1])
        start = time.perf_counter()
        result = store.forget_author(author, None, redactor(author), NOW)
        forget_s = time.perf_counter() - start
        start = time.perf_counter()
        pruned = prune(store, RetentionSettings(30, 14, 365), NOW, max_batches=10**6)
        prune_s = time.perf_counter() - start
        store.close()
    print(json.dumps({
        "data": str(args.csv), "mentions": len(items),
        "ingest_per_s_without_fts": round(len(items) / plain),
        "ingest_per_s_with_fts": round(len(items) / fts),
        "fts_ingest_overhead": round(fts / plain - 1, 3),
        "search_ms_median": round(statistics.median(latencies) * 1000, 2),
        "search_hits": hits,
        "forget": {"posts": posts, "removed": result.counts["mentions"],
                   "seconds": round(forget_s, 3)},
        "prune": {"rows": pruned, "seconds": round(prune_s, 3),
                  "mentions_per_s": round(pruned.get("mentions", 0) / prune_s)},
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
