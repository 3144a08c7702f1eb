"""`reputation migrate-db --to postgresql://...`: a SQLite database copied whole into an
empty PostgreSQL one, which then carries on where SQLite stopped; and the way back, the
copy a backtest makes of a PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from reputation.backtest import backtest
from reputation.cli import main
from reputation.config import load_config
from reputation.store import Store
from reputation.timeutil import utcnow
from tests.conftest import NOW, postgres_schema


@pytest.fixture
def config_database(tmp_path: Path) -> Path:
    """The demo runs on SQLite here: it is the source of the copy."""
    return tmp_path / "reputation.db"


@pytest.fixture
def target() -> Iterator[str]:
    with postgres_schema() as dsn:
        yield dsn


def _snapshot(store: Store) -> dict[str, list[str]]:
    """Every row of every table, as sorted text."""
    out = {}
    for table in store.table_names():
        rows = store._rows(f"SELECT * FROM {table}")  # noqa: S608 - names from the schema
        out[table] = sorted(repr(sorted(r.items())) for r in rows)
    return out


def test_migrate_db_copies_everything_and_postgresql_carries_on(
    demo: Path, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--config", str(demo)]) == 0
    capsys.readouterr()
    assert main(["migrate-db", "--config", str(demo), "--to", target]) == 0
    assert "copied" in capsys.readouterr().out
    config = load_config(demo)
    source, copy = Store.open(config.database), Store.open(target)
    try:
        before = _snapshot(source)
        assert _snapshot(copy) == before
        assert len(before["mentions"]) > 200 and before["alerts"] and before["incidents"]
        runs = len(before["runs"])
    finally:
        source.close()
        copy.close()
    # The config now names PostgreSQL: nothing is alerted again, and new rows get new ids.
    data = yaml.safe_load(demo.read_text())
    demo.write_text(yaml.safe_dump({**data, "database": target}))
    assert main(["run", "--json", "--config", str(demo)]) == 0
    out = capsys.readouterr().out
    assert '"alerts": 0' in out and '"sent": 0' in out and '"fetched": 0' in out
    after = Store.open(target)
    try:
        ids = [r["id"] for r in after._rows("SELECT id FROM runs ORDER BY id")]
        assert len(ids) == runs + 1 and ids[-1] == max(ids[:-1]) + 1
        newest = max(r["id"] for r in after._rows("SELECT id FROM incidents"))
        opened = after.ledger.open_incident("Acme Air", "other", "info", "t", None, NOW, NOW)
        assert opened == newest + 1
    finally:
        after.close()


def test_migrate_db_refuses_a_database_that_holds_data(
    demo: Path, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--config", str(demo)]) == 0
    assert main(["migrate-db", "--config", str(demo), "--to", target]) == 0
    capsys.readouterr()
    assert main(["migrate-db", "--config", str(demo), "--to", target]) == 1
    err = capsys.readouterr().err
    assert "already holds data (mentions" in err and "empty database only" in err
    assert main(["migrate-db", "--config", str(demo), "--to", "/tmp/x.db"]) == 2


def test_a_backtest_of_a_postgresql_database_reports_what_sqlite_does_and_changes_nothing(
    demo: Path, target: str
) -> None:
    assert main(["run", "--config", str(demo)]) == 0
    assert main(["migrate-db", "--config", str(demo), "--to", target]) == 0
    config = load_config(demo)
    now = utcnow()
    on_sqlite = backtest(config.database, config.rules, timedelta(days=3650), now, config.policy)
    assert sum(rule["alerts"] for rule in on_sqlite.values()) >= 4
    store = Store.open(target)
    try:
        before = _snapshot(store)
    finally:
        store.close()
    on_postgres = backtest(target, config.rules, timedelta(days=3650), now, config.policy)
    assert on_postgres == on_sqlite
    store = Store.open(target)
    try:
        assert _snapshot(store) == before  # the copy was replayed, not the database
    finally:
        store.close()


def test_search_finds_the_same_mentions_after_a_copy_either_way(
    demo: Path, target: str, tmp_path: Path
) -> None:
    # SQLite's FTS5 index is not a table to copy: PostgreSQL's index follows the copied
    # rows by itself, and a copy back into SQLite (a backtest's) rebuilds FTS5.
    assert main(["run", "--config", str(demo)]) == 0
    assert main(["migrate-db", "--config", str(demo), "--to", target]) == 0
    source, copy = Store.open(load_config(demo).database), Store.open(target)
    try:
        assert not any(t.startswith("mentions_fts") for t in copy.table_names())
        found = {word: sorted(source.search(word, limit=1000)) for word in ("refund", "delayed")}
        assert all(found.values()), found  # the demo has these words
        assert {w: sorted(copy.search(w, limit=1000)) for w in found} == found
        copy.copy_to(tmp_path / "back.db")
    finally:
        source.close()
        copy.close()
    back = Store.open(tmp_path / "back.db")
    try:
        assert {w: sorted(back.search(w, limit=1000)) for w in found} == found
    finally:
        back.close()
