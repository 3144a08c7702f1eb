"""`reputation browse` (issue 14 item 3): Datasette over the database, read-only, through
Datasette's own test client: every canned query runs, a mention is found by a word of its
text through full-text search (kept current as the text changes), every table and column
is described, nothing can be written; and once in headless Chromium where it is installed."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

pytest.importorskip("datasette", reason="the `browse` extra (datasette) is not installed")

from reputation.browse import FTS_SHADOWS, datasette, metadata, queries
from reputation.config import Config, load_config
from reputation.models import Mention
from reputation.pipeline import run_once
from reputation.store import Store
from reputation.timeutil import utcnow
from tests.conftest import sqlite_only

WORD = "quokkabaggage"


@pytest.fixture
def config(workspace: Callable, make_record: Callable, config_database: Path | str) -> Config:
    sqlite_only(config_database, "Datasette reads SQLite files (test_search.py: both)")
    now = utcnow().replace(microsecond=0)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    records = [
        make_record(f"Acme Air lost my bag, {WORD} nowhere, refund now or I sue", id="c1",
                    author="@Grumpy", author_followers=20_000, created_at=stamp),
        make_record("Acme Air delayed again, on hold for 2 hours, awful", id="c2",
                    author="grumpy", source="reddit", created_at=stamp),
        make_record("Acme Air crew were lovely", id="p1", author="happy", created_at=stamp),
    ]  # fmt: skip
    config = load_config(workspace(records))
    assert run_once(config, now=now).errors == []
    return config


def get(config: Config, *paths: str) -> list[Any]:
    """GET each path through Datasette's test client; the JSON of each, status checked."""

    async def fetch() -> list[Any]:
        ds = datasette(config)
        await ds.invoke_startup()
        out = []
        for path in paths:
            response = await ds.client.get(path)
            out.append((response.status_code, response.json()))
        return out

    return asyncio.run(fetch())


def test_every_canned_query_runs_and_answers(config: Config) -> None:
    params = {"brand": "Acme Air", "author": "GRUMPY", "q": WORD}
    names = list(queries(0.5))
    assert names == ["search", "todays_complaints", "open_incidents", "brand_week",
                     "author_history", "response_times"]  # fmt: skip
    query = "&".join(f"{k}={quote(v)}" for k, v in params.items())
    paths = [f"/reputation/{name}.json?_shape=objects&{query}" for name in names]
    answers = dict(zip(names, get(config, *paths), strict=True))
    for name, (status, body) in answers.items():
        assert status == 200, (name, body)
    rows = {name: body["rows"] for name, (_, body) in answers.items()}
    complaints = rows["todays_complaints"]
    assert {r["key"] for r in complaints} == {"x:c1", "reddit:c2"}
    assert [r["severity"] for r in complaints] == sorted(
        (r["severity"] for r in complaints), reverse=True
    )
    # One handle across sources, whatever its case and @.
    assert sorted(r["source"] for r in rows["author_history"]) == ["reddit", "x"]
    assert sum(r["mentions"] for r in rows["brand_week"]) == 3
    assert [r["key"] for r in rows["search"]] == ["x:c1"]
    # The large account's complaint opened an incident (the shipped viral-complaint rule).
    assert [r["brand"] for r in rows["open_incidents"]] == ["Acme Air"]
    [times] = rows["response_times"]
    assert times["id"] == rows["open_incidents"][0]["id"] and times["acknowledged_at"] is None


def test_a_mention_is_found_by_a_word_of_its_text_and_the_index_follows_edits(
    config: Config,
) -> None:
    [(status, body)] = get(config, f"/reputation/mentions.json?_search={WORD}&_shape=objects")
    assert status == 200 and [r["key"] for r in body["rows"]] == ["x:c1"]
    store = Store.open(config.database)
    try:
        edited = Mention(source="x", native_id="c1", brand="Acme Air", text="Acme Air sorted it",
                         created_at=utcnow() - timedelta(minutes=1))  # fmt: skip
        store.save_batch("file", [edited], utcnow())
        assert store.search(WORD) == [] and store.search("sorted") == ["x:c1"]
    finally:
        store.close()
    [(_, body)] = get(config, f"/reputation/mentions.json?_search={WORD}&_shape=objects")
    assert body["rows"] == []


def test_every_table_and_column_is_described(config: Config) -> None:
    store = Store.open(config.database)
    try:
        schema = {t["table"]: t["columns"] for t in store.describe_tables()}
    finally:
        store.close()
    described = metadata(config, "reputation")["databases"]["reputation"]["tables"]
    missing = []
    for table, columns in schema.items():
        if table.startswith("mentions_fts_") and table.removeprefix("mentions_fts_") in FTS_SHADOWS:
            assert described[table]["hidden"] is True
            continue
        if table not in described:
            missing.append(table)
            continue
        assert described[table]["description"]
        missing += [f"{table}.{c}" for c in columns if not described[table]["columns"].get(c)]
    assert missing == [], "describe these in the README's Tables section"
    assert described["mentions"]["columns"]["key"] == '"{source}:{native_id}"'
    assert "reshare reach changed" in described["snapshots"]["description"]


def test_the_archive_cannot_be_written_through_datasette(config: Config) -> None:
    sql = quote("DELETE FROM mentions")
    [(status, body), (_, count)] = get(
        config,
        f"/reputation.json?sql={sql}",
        "/reputation.json?sql=select+count(*)+as+n+from+mentions&_shape=objects",
    )
    assert status == 400 and body["ok"] is False
    assert count["rows"] == [{"n": 3}]


@pytest.fixture
def served(config: Config) -> Iterator[str]:
    import uvicorn

    ds = datasette(config)
    asyncio.run(ds.invoke_startup())
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(ds.app(), host="127.0.0.1", port=port,
                                           log_level="warning"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "Datasette did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_headless_chromium_shows_a_canned_query(served: str, tmp_path: Any) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("headless Chromium is not installed (apt-get install chromium)")
    url = f"{served}/reputation/search?q={WORD}"
    result = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", url],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Search mention text" in result.stdout  # the canned query's title
    assert f"lost my bag, {WORD} nowhere" in result.stdout


def test_browse_migrates_an_older_database_first(config: Config) -> None:
    import sqlite3

    with sqlite3.connect(config.database) as db:  # as a database from before m011
        db.execute("DROP TABLE mentions_fts")
        db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm011_search_and_forgetting'")
        for name in ("mentions_ad", "mentions_au", "forgotten"):
            kind = "TABLE" if name == "forgotten" else "TRIGGER"
            db.execute(f"DROP {kind} {name}")
        db.execute("DROP INDEX snapshots_observed")
        db.execute("DROP INDEX mentions_raw_created")
    [(status, body)] = get(config, f"/reputation/mentions.json?_search={WORD}&_shape=objects")
    assert status == 200 and [r["key"] for r in body["rows"]] == ["x:c1"]
