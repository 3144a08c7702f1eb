"""Shared fixtures: a fresh store, a fixed `now`, record factories (file-connector records and
scored mentions), configs and a Slack fake."""

from __future__ import annotations

import json
import os
import secrets
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from reputation.brands import Brand
from reputation.models import Mention, Score
from reputation.store import Store
from tests.fakes import FakeSlack

REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)  # when `scored` and `record` count minutes from
# The brand the `workspace` config defines, for tests that build connectors directly.
ACME = Brand("Acme Air", ("acme air", "@acmeair"), ("acme air fryer",), ("@acmeair",))


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    # Local fakes must never go through a proxy, and no test may see a real token.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.delenv("REPUTATION_CONFIG", raising=False)


@pytest.fixture
def now() -> datetime:
    return NOW


# A PostgreSQL server the tests may use (a DSN); unset, the PostgreSQL half of every
# two-backend test is skipped. `.ci/run` sets it when a server answers on 127.0.0.1:5432.
POSTGRES = os.environ.get("REPUTATION_TEST_POSTGRES")
BACKENDS = ("sqlite", "postgresql")


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A fresh, empty schema on the test server, as a DSN that works in it; dropped after."""
    if not POSTGRES:
        pytest.skip("REPUTATION_TEST_POSTGRES is not set: no PostgreSQL server to test on")
    import psycopg

    schema = f"test_{secrets.token_hex(6)}"
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")  # a name made above, never input
        try:
            joiner = "&" if "?" in POSTGRES else "?"
            yield f"{POSTGRES}{joiner}options=-csearch_path%3D{schema}"
        finally:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path | str]:
    """A new database on each backend: a SQLite file in tmp_path, or a PostgreSQL schema."""
    if request.param == "sqlite":
        yield tmp_path / "test.db"
        return
    with postgres_schema() as dsn:
        yield dsn


@pytest.fixture
def config_database(tmp_path: Path, database: Path | str) -> Path | str:
    """The database the `workspace`, `demo` and `opened` configs name, on each backend: a
    SQLite file (tmp_path/reputation.db; the demo's r.db) or a fresh PostgreSQL schema."""
    return database if not isinstance(database, Path) else tmp_path / "reputation.db"


def sqlite_only(database: Path | str, what: str) -> None:
    """Skip the PostgreSQL half of a test about what only a SQLite file has."""
    if not isinstance(database, Path):
        pytest.skip(f"SQLite only: {what}")


@pytest.fixture
def store(database: Path | str) -> Iterator[Store]:
    opened = Store.open(database)
    yield opened
    opened.close()


_ids = iter(range(1, 10**9))


def record(text: str, minutes: float = 0, **fields: Any) -> dict[str, Any]:
    """A file-connector record created `minutes` after 2026-11-22 08:00 UTC."""
    created = T0 + timedelta(minutes=minutes)
    base = {
        "id": str(next(_ids)),
        "source": "x",
        "text": text,
        "author": "someone",
        "author_followers": 100,
        "url": "https://x.com/someone/status/1",
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "likes": 0,
        "shares": 0,
        "replies": 0,
        "lang": "en",
    }
    base.update(fields)
    return base


def scored(
    store: Store, native_id: str, minutes: float, sentiment: float = -0.5, *,
    complaint: float = 0.5, severity: float = 0.5, category: str = "other",
    brand: str = "Acme Air", source: str = "x", text: str | None = None, author: str = "ann",
    followers: int | None = None, likes: int = 0, parent: str | None = None,
    thread: str | None = None, reasons: tuple[str, ...] = ("because",), version: int = 1,
) -> str:  # fmt: skip
    """Store one mention created (and observed) `minutes` after T0 with the given score,
    bypassing the scorer, as due for rule evaluation; return its key. `version` is the
    mention version the score covers (raise it to rescore the same mention)."""
    created = T0 + timedelta(minutes=minutes)
    mention = Mention(
        source=source,
        native_id=native_id,
        brand=brand,
        text=text or f"text {native_id}",
        created_at=created,
        author=author,
        author_followers=followers,
        likes=likes,
        parent_id=parent,
        thread_id=thread,
        observed_at=created,
    )
    store.save_batch("file", [mention], NOW)
    score = Score(mention.key, sentiment, complaint, severity, 0.1, 0.0, category, reasons)
    store.save_scores([(score, version)], NOW)
    return mention.key


@pytest.fixture
def make_record() -> Callable[..., dict[str, Any]]:
    return record


def write_jsonl(path: Path, records: list[dict[str, Any]], mode: str = "w") -> None:
    """Write (or append) records as JSON Lines."""
    with path.open(mode, encoding="utf-8") as handle:
        for item in records:
            handle.write(json.dumps(item) + "\n")


@pytest.fixture
def workspace(tmp_path: Path, config_database: Path | str) -> Callable[..., Path]:
    """Write a config.yaml in tmp_path around a mentions file; return the config's path."""

    def make(
        records: list[dict[str, Any]] | None = None,
        sinks: list[dict[str, Any]] | None = None,
        rules_dir: Path | None = None,
        **top: Any,
    ) -> Path:
        mentions = tmp_path / "mentions.jsonl"
        if records is not None:
            write_jsonl(mentions, records)
        config = {
            "database": str(config_database),
            "brands": [
                {
                    "name": "Acme Air",
                    "terms": ["acme air", "@acmeair"],
                    "exclude": ["acme air fryer"],
                    "own_accounts": ["@acmeair"],
                }
            ],
            "connectors": [{"type": "file", "path": str(mentions)}],
            "rules": str(rules_dir or REPO / "rules"),
            "sinks": sinks if sinks is not None else [{"type": "console"}],
            "digest": {"dir": str(tmp_path / "digests")},
        }
        config.update(top)
        path = tmp_path / "config.yaml"
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        return path

    return make


@pytest.fixture
def demo(tmp_path: Path, config_database: Path | str) -> Path:
    """The shipped config on the demo data, with its database (`config_database`, a SQLite
    file: tmp_path/r.db) and digests in tmp_path."""
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    if isinstance(config_database, Path):
        config_database = tmp_path / "r.db"
    config.update(
        database=str(config_database),
        rules=str(REPO / "rules"),
        digest={"dir": str(tmp_path / "digests")},
    )
    config["connectors"][0]["path"] = str(REPO / "data/demo/mentions.jsonl")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture
def blackhole() -> Iterator[str]:
    """A port on 127.0.0.1 that accepts connections and never answers: reads time out."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


@pytest.fixture
def opened(config_database: Path | str) -> Iterator[Callable[[], Store]]:
    """Opens the workspace's database (tmp_path/reputation.db); closes all at the end."""
    stores: list[Store] = []

    def open_store() -> Store:
        stores.append(Store.open(config_database))
        return stores[-1]

    yield open_store
    for store in stores:
        store.close()


@pytest.fixture(scope="session")
def fault_figures(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Figures the fault suites record, by scenario; at the end of the session they are
    printed (seen with `pytest -s`) and written to fault-figures.json in pytest's base temp."""
    figures: dict[str, Any] = {}
    yield figures
    if figures:
        path = tmp_path_factory.getbasetemp() / "fault-figures.json"
        path.write_text(json.dumps(figures, indent=2), encoding="utf-8")
        print(f"\n\nfault figures (also in {path}):")
        for scenario, row in figures.items():
            print(f"  {scenario}:\n    " + ", ".join(f"{k} {v}" for k, v in row.items()))


@pytest.fixture
def slack(httpserver: Any) -> Iterator[FakeSlack]:
    fake = FakeSlack(httpserver)
    yield fake
    fake.close()
