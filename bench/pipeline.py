"""The whole pipeline at scale: generated mentions through `reputation run`, against VADER.

    python bench/pipeline.py --mentions 100000 [--storm 0] [--workers 1,2] [--json]

Writes N realistic mentions to a JSON Lines file in a temporary folder: a day's shape (quiet
nights, busy evenings), a dozen brands, replies, bursts of complaints, and re-observations of
posts whose engagement grows. `--storm N` adds N complaints about one brand within 30
minutes (N may be the whole input: `--mentions 0 --storm 20000`). Then, in one run of this
script:

- for each worker count in `--workers` (`scoring.workers`), a fresh process backfills the
  file into a fresh SQLite database with `run_once` (the console sink writing to
  /dev/null): mentions per second, seconds per stage (fetch, score, rules, workflow,
  deliver, follow-up), CPU seconds over wall seconds (`cpu_ratio`: cores in use), and the
  peak resident memory of its process tree (sampled every 50 ms: pool workers included) and
  of its main process (getrusage);
- on the last database: `reputation run --json` with nothing new (`idle_cli_s`,
  interpreter start included) and `run_once` in a fresh process (`idle_run_s`);
- a bare VADER loop (`SentimentIntensityAnalyzer().polarity_scores`) over the same texts in
  this process: texts per second.

`ratio` is pipeline throughput over the bare VADER loop's. The machine is shared: compare
ratios measured in one run, not seconds across runs. `--database postgresql://...` runs on
PostgreSQL instead, in a new schema of that database (dropped at the end; give one worker
count), and reports the schema's size as `database_mb`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

ROOT = Path(__file__).resolve().parent.parent
DAY = datetime(2026, 11, 23, tzinfo=UTC)
SEED = 20261203
BRANDS = [
    "Acme Air", "Nimbus Bank", "Orbit Mobile", "Kettle Coffee", "Lumen Energy", "Parcelo",
    "Brightcart", "Vela Hotels", "Quill Insurance", "Tandem Bikes", "Harbor Telecom", "Pixelry",
]  # fmt: skip
PRODUCTS = ["app", "website", "order", "booking", "account", "card", "delivery", "plan"]
CITIES = ["Denver", "Boston", "Leeds", "Austin", "Lyon", "Osaka", "Porto", "Accra", "Perth"]
CHATTER = [
    "Just tried the new {brand} {product}, looks like they changed the layout again",
    "Anyone know if {brand} is open on Sunday in {city}?",
    "{brand} announces a partnership with a startup from {city} #{tag}",
    "Reading about {brand}'s results this quarter, revenue up {n}%",
    "Switching my {product} to {brand} next month, we'll see how it goes",
    "Is the {brand} {product} worth it? Thinking about it for {n} days now",
    "Saw a {brand} ad at the {city} game last night lol",
    "@{handle} did you get the {brand} email about the {product} update?",
    "{brand} {product} update rolling out today, release notes mention {n} fixes",
    "Meeting at the {brand} office in {city} at {n}:30",
]
PRAISE = [
    "Thanks @{handle_brand} for sorting my {product} in {n} minutes, great service!",
    "Honestly {brand} has the best {product} I've used, love it",
    "Shoutout to the {brand} team in {city}, super helpful today",
    "{brand} refunded me without any hassle, impressed",
]
GRIPES = [
    "@{handle_brand} my {product} has been broken for {n} days and nobody answers",
    "{brand} charged me twice for my {product}, still waiting on a refund",
    "Worst experience with {brand} in {city}, {n} hours on hold. Never again",
    "Why does the {brand} {product} keep crashing?? Fix it",
    "{brand} cancelled my {product} without telling me. Unacceptable",
]
STORM = [
    "@{handle_brand} the {product} is down again, can't log in, {n} minutes now",
    "{brand} outage in {city}?? nothing works, error {n}",
    "Is {brand} down? {product} won't load for anyone here #{tag}",
    "{brand} {product} is broken and the support line hangs up after {n} min. Awful",
    "Thanks {brand} for losing my {product} data during the outage. Brilliant",
]
TAGS = ["outage", "fail", "news", "tech", "launch", "deal", "travel", "money"]


class Generator:
    """Realistic-looking mentions of the brands over one day, as JSON Lines records."""

    def __init__(self, seed: int = SEED):
        self.rng = random.Random(seed)
        self.next_id = 1_870_000_000_000_000_000
        self.authors = [f"user{i:06d}" for i in range(50_000)]

    def text(self, templates: list[str], brand: str) -> str:
        """One filled-in template (numbers and handles vary, so copies stay rare)."""
        rng = self.rng
        handle = brand.lower().replace(" ", "")
        return rng.choice(templates).format(
            brand=brand,
            product=rng.choice(PRODUCTS),
            city=rng.choice(CITIES),
            n=rng.randint(2, 240),
            tag=rng.choice(TAGS),
            handle=rng.choice(self.authors),
            handle_brand=handle,
        )

    def mention(self, text: str, brand: str, created: datetime, parent: str | None) -> dict:
        """A record of the file connector's format."""
        rng = self.rng
        self.next_id += rng.randint(1, 5000)
        author = self.authors[min(int(rng.paretovariate(1.2)) - 1, len(self.authors) - 1)]
        if rng.random() < 0.5:
            author = rng.choice(self.authors)
        native = str(self.next_id)
        return {
            "id": native,
            "source": rng.choices(["x", "reddit", "mastodon", "news"], [70, 15, 10, 5])[0],
            "brand": brand,
            "text": text,
            "author": author,
            "author_followers": min(int(rng.lognormvariate(5.5, 1.8)), 20_000_000),
            "url": f"https://x.com/{author}/status/{native}",
            "created_at": _ts(created),
            "likes": int(rng.paretovariate(1.5)) - 1,
            "shares": int(rng.paretovariate(2.0)) - 1,
            "replies": int(rng.paretovariate(2.0)) - 1,
            "lang": "en",
            "parent_id": parent,
            "thread_id": parent,
        }

    def day(self, n: int) -> list[tuple[datetime, dict]]:
        """About n first observations over the day plus re-observations, with bursts."""
        rng = self.rng
        events: list[tuple[datetime, dict]] = []
        recent: list[str] = []
        bursts = max(1, n // 20_000)
        burst_share = 0.05
        for _ in range(int(n * (1 - burst_share))):
            created = DAY + timedelta(seconds=_diurnal_second(rng))
            brand = rng.choice(BRANDS)
            kind = rng.choices([CHATTER, PRAISE, GRIPES], [70, 15, 15])[0]
            parent = rng.choice(recent) if recent and rng.random() < 0.1 else None
            record = self.mention(self.text(kind, brand), brand, created, parent)
            recent = [*recent[-99:], record["id"]]
            events.append((created, record))
        for _ in range(bursts):
            start = DAY + timedelta(seconds=rng.uniform(0, 86_400 - 1_800))
            brand = rng.choice(BRANDS)
            for _ in range(int(n * burst_share / bursts)):
                created = start + timedelta(seconds=rng.uniform(0, 1_800))
                events.append(
                    (created, self.mention(self.text(STORM, brand), brand, created, None))
                )
        self._reobserve(events, share=0.1)
        return events

    def storm(self, n: int, brand: str = "Acme Air") -> list[tuple[datetime, dict]]:
        """n complaints about one brand within 30 minutes, from noon."""
        start = DAY + timedelta(hours=12)
        events = []
        for i in range(n):
            created = start + timedelta(seconds=1_800 * i / max(n, 1))
            events.append((created, self.mention(self.text(STORM, brand), brand, created, None)))
        return events

    def _reobserve(self, events: list[tuple[datetime, dict]], share: float) -> None:
        """Later observations of some posts with grown counts (same id, new observed_at)."""
        rng = self.rng
        for created, record in rng.sample(events, int(len(events) * share)):
            seen = created + timedelta(minutes=rng.uniform(10, 600))
            grow = rng.uniform(1.2, 30)
            again = dict(
                record,
                likes=int(record["likes"] * grow) + 1,
                shares=int(record["shares"] * grow),
                replies=int(record["replies"] * grow),
                observed_at=_ts(seen),
            )
            events.append((seen, again))


def _diurnal_second(rng: random.Random) -> float:
    """A second of the day, quiet at 4:00 UTC and busiest at 16:00 (rejection sampling)."""
    while True:
        second = rng.uniform(0, 86_400)
        weight = 0.55 + 0.45 * math.sin((second / 86_400 - 0.42) * 2 * math.pi)
        if rng.random() < weight:
            return second


def _ts(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_input(folder: Path, mentions: int, storm: int) -> list[str]:
    """Write mentions.jsonl in arrival order; return every first observation's text."""
    gen = Generator()
    events = gen.day(mentions) if mentions else []
    events += gen.storm(storm)
    events.sort(key=lambda e: e[0])
    with (folder / "mentions.jsonl").open("w", encoding="utf-8") as out:
        for _, record in events:
            out.write(json.dumps(record) + "\n")
    return [r["text"] for _, r in events if "observed_at" not in r]


def write_config(folder: Path, workers: int | None, database: str | None) -> Path:
    """A config over the generated file: the shipped rules, the console sink."""
    brands = [{"name": b, "terms": [b.lower(), "@" + b.lower().replace(" ", "")]} for b in BRANDS]
    config: dict = {
        "database": database or str(folder / "bench.db"),
        "brands": brands,
        "connectors": [{"type": "file", "path": str(folder / "mentions.jsonl")}],
        "rules": str(ROOT / "rules"),
        "sinks": [{"type": "console"}],
    }
    if workers is not None:
        config["scoring"] = {"workers": workers}
    path = folder / f"config-{workers}.yaml"
    path.write_text(json.dumps(config), encoding="utf-8")  # JSON is YAML
    return path


class TreeMemory(threading.Thread):
    """Samples the summed resident memory of a process and its descendants, and the CPU
    seconds each has used (pool workers are not this script's children: getrusage misses
    them)."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, 0, threading.Event()
        self.cpu: dict[int, float] = {}

    def run(self) -> None:
        while not self.done.is_set():
            tree = _tree(self.pid)
            self.peak = max(self.peak, sum(_rss(p) for p in tree))
            for pid in tree:
                self.cpu[pid] = max(self.cpu.get(pid, 0.0), _cpu_of(pid))
            time.sleep(0.05)


def _cpu_of(pid: int) -> float:
    """CPU seconds (user + system) a process has used, 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tree(pid: int) -> list[int]:
    pids, i = [pid], 0
    while i < len(pids):
        try:
            children = Path(f"/proc/{pids[i]}/task/{pids[i]}/children").read_text().split()
        except OSError:
            children = []
        pids.extend(int(c) for c in children)
        i += 1
    return pids


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def in_child(config: Path, *extra: str) -> dict:
    """Run `run_once` in a fresh process (this script, --child); its JSON, wall time and the
    peak memory of its process tree."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", str(config), *extra]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, cwd=ROOT)
    sampler = TreeMemory(process.pid)
    sampler.start()
    out, _ = process.communicate()
    sampler.done.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"the pipeline exited {process.returncode}")
    result = json.loads(out)
    result["wall_s"] = time.perf_counter() - started
    result["tree_peak_rss"] = sampler.peak
    # The tree's CPU during run_once: less what the child spent starting (imports, config).
    result["tree_cpu_s"] = sum(sampler.cpu.values()) - result["cpu_before_s"]
    return result


def idle_cli_seconds(config: Path) -> float:
    """Wall time of `reputation run --json` with nothing new, interpreter start included."""
    command = [sys.executable, "-m", "reputation", "run", "--json", "--config", str(config)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, cwd=ROOT, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0 or json.loads(done.stdout)["new_mentions"]:
        raise SystemExit(f"the idle run failed or found something new: {done.stdout[:200]!r}")
    return seconds


def child(config: Path) -> None:
    """--child: one `run_once` over the config, timed per stage; prints JSON."""

    from rich.console import Console

    from reputation import pipeline
    from reputation.config import load_config
    from reputation.sinks import ConsoleSink

    stages: dict[str, float] = {}
    stages_cpu: dict[str, float] = {}  # this process only: pool workers are in cpu_s
    peaks: dict[str, float] = {}  # MB

    def timed(name: str, function):
        def run(*args, **kwargs):
            started, cpu = time.perf_counter(), time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                stages[name] = stages.get(name, 0.0) + time.perf_counter() - started
                stages_cpu[name] = stages_cpu.get(name, 0.0) + time.process_time() - cpu
                # The main process's peak so far: which stage reached it.
                peaks[name] = _hwm(os.getpid()) / 2**20

        return run

    for name, attribute in [("fetch", "fetch_into"), ("score", "score_new"),
                            ("rules", "evaluate_rules"), ("workflow", "advance"),
                            ("deliver", "deliver"), ("follow_up", "show_changes")]:  # fmt: skip
        setattr(pipeline, attribute, timed(name, getattr(pipeline, attribute)))
    loaded = load_config(config)
    cpu = _cpu()
    with open(os.devnull, "w") as devnull:
        console = Console(file=devnull)
        factories = {"console": lambda name, options, env: ConsoleSink(name, options, env, console)}
        started = time.perf_counter()
        summary = pipeline.run_once(loaded, env={}, sink_factories=factories)
        seconds = time.perf_counter() - started
    # VmHWM, not getrusage: ru_maxrss starts from the parent's resident size at the fork
    # (this script holds every generated mention), a new address space's VmHWM does not.
    own = _hwm(os.getpid())
    print(json.dumps({"seconds": seconds, "stages": stages, "stages_cpu": stages_cpu,
                      "cpu_s": _cpu() - cpu, "cpu_before_s": cpu, "peaks": peaks,
                      "main_peak_rss": own, "summary": summary.as_dict()}))  # fmt: skip


def _hwm(pid: int) -> int:
    """The peak resident memory of a process's address space (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _cpu() -> float:
    """CPU seconds of this process and its finished children (pool workers)."""
    import resource

    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def vader_seconds(texts: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds a bare VADER loop takes over the texts."""
    analyzer = SentimentIntensityAnalyzer()
    started, cpu = time.perf_counter(), time.process_time()
    for text in texts:
        analyzer.polarity_scores(text)
    return time.perf_counter() - started, time.process_time() - cpu


def backfill(
    folder: Path, workers: int, database: str | None, n: int, vader: float, vader_cpu: float
) -> dict:
    """One backfill into a fresh database with `workers` scoring processes."""
    config = write_config(folder, workers, database or str(folder / f"bench-{workers}.db"))
    run = in_child(config)
    summary = run["summary"]
    return {
        "workers": workers,
        "pipeline_s": round(run["seconds"], 2),
        "pipeline_per_s": round(n / run["seconds"]),
        "ratio": round(vader / run["seconds"], 3),
        "cpu_ratio": round(run["tree_cpu_s"] / run["seconds"], 2),
        "cpu_s": round(run["tree_cpu_s"], 2),
        "ratio_cpu": round(vader_cpu / run["tree_cpu_s"], 3),
        "stages_s": {k: round(v, 2) for k, v in run["stages"].items()},
        "stages_cpu_s": {k: round(v, 2) for k, v in run["stages_cpu"].items()},
        "peak_rss_mb": round(run["tree_peak_rss"] / 2**20, 1),
        "main_peak_rss_mb": round(run["main_peak_rss"] / 2**20, 1),
        "main_peak_after_stage_mb": {k: round(v, 1) for k, v in run["peaks"].items()},
        "fetched": summary["fetched"],
        "alerts": summary["alerts"],
        "errors": summary["errors"][:5],
        "config": config,
    }


@contextmanager
def fresh(database: str | None) -> Iterator[str | None]:
    """The database to run on: a PostgreSQL URL gets a new schema (dropped after); a path or
    None is used as given."""
    if not database or "://" not in database:
        yield database
        return
    import psycopg

    schema = f"bench_{secrets.token_hex(4)}"
    with psycopg.connect(database, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")  # a name made here
        try:
            joiner = "&" if "?" in database else "?"
            yield f"{database}{joiner}options=-csearch_path%3D{schema}"
        finally:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def database_bytes(database: str) -> int | None:
    """The size of the database: the SQLite file, or the PostgreSQL schema's relations."""
    if "://" not in database:
        path = Path(database)
        return path.stat().st_size if path.exists() else None
    import psycopg

    with psycopg.connect(database) as conn:
        row = conn.execute(
            "SELECT SUM(pg_total_relation_size(c.oid)) FROM pg_class c"
            " WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'"
        ).fetchone()
    return int(row[0]) if row and row[0] is not None else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mentions", type=int, default=10_000, help="a day's mentions")
    parser.add_argument("--storm", type=int, default=0, help="complaints in 30 min, one brand")
    parser.add_argument("--workers", default="1,2", help="scoring.workers to run, e.g. 1,2")
    parser.add_argument(
        "--database",
        help="database (default: a temporary file per run; with one, give one worker count)",
    )
    parser.add_argument("--json", action="store_true", help="accepted; the output is always JSON")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    with tempfile.TemporaryDirectory(prefix="reputation-bench-") as tmp, fresh(args.database) as db:
        folder = Path(tmp)
        texts = write_input(folder, args.mentions, args.storm)
        vader, vader_cpu = vader_seconds(texts)
        n = len(texts)
        del texts
        runs = [backfill(folder, int(w), db, n, vader, vader_cpu)
                for w in args.workers.split(",")]  # fmt: skip
        last = runs[-1].pop("config")
        for run in runs:
            run.pop("config", None)
        idle = in_child(last)
        idle_cli = idle_cli_seconds(last)
        size = database_bytes(load_database(last))
    result = {
        "mentions": n,
        "observations": runs[0]["fetched"],
        "storm": args.storm,
        "vader_per_s": round(n / vader),
        "vader_cpu_s": round(vader_cpu, 2),
        "runs": runs,
        "idle_run_s": round(idle["seconds"], 3),
        "idle_cli_s": round(idle_cli, 3),
        "database": "postgresql" if db and "://" in db else "sqlite",
        "database_mb": round(size / 2**20, 1) if size else None,
        "load_avg": os.getloadavg(),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result))


def load_database(config: Path) -> str:
    return json.loads(config.read_text())["database"]


if __name__ == "__main__":
    main()
