"""`reputation backfill` (issue 14 item 4): history within each source's limits and read
budget, resumable, kept from the rules, with progress as plain lines when not on a terminal
and a rich bar on one; `reputation train` reports its progress too."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from reputation.backfill import backfill
from reputation.cli import main
from reputation.config import Config, load_config
from reputation.pipeline import run_once
from reputation.progress import Reporter
from reputation.store import Store
from tests.harness.x import BASE, TOKEN, FakeX

NOW = BASE + timedelta(hours=2)
RULE = "name: everything\ntype: any\nwhere: {brand: Acme Air}\nseverity: warning\n"


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_BEARER_TOKEN", TOKEN)


@pytest.fixture
def fake(httpserver: Any) -> FakeX:
    fake = FakeX().install(httpserver)
    for day in (2, 3, 5, 9):  # history; the 9-day-old post is beyond X's 7-day search
        for n in range(4):
            fake.add(BASE - timedelta(days=day, minutes=n), "102",
                     f"Acme Air history day {day} post {n}", "mention")  # fmt: skip
    return fake


def configure(workspace: Callable, tmp_path: Path, fake_url: str, **options: Any) -> Config:
    rules = tmp_path / "rules"
    rules.mkdir(exist_ok=True)
    (rules / "all.yaml").write_text(RULE)
    entry = {"type": "x", "name": "x", "base_url": fake_url, "max_results": 10, "timeout": "2s",
             "refresh_limit": 0, **options}  # fmt: skip
    rss = {"type": "rss", "name": "news", "feeds": [f"{fake_url}feed.xml"]}
    return load_config(workspace(connectors=[entry, rss], rules_dir=rules))


def stored(config: Config) -> set[str]:
    store = Store.open(config.database)
    try:
        return set(store.recent_ids("x", "*", NOW - timedelta(days=30), limit=10_000))
    finally:
        store.close()


def test_backfill_reads_history_within_the_window_resumes_and_alerts_nothing(
    workspace: Callable, tmp_path: Path, httpserver: Any, fake: FakeX
) -> None:
    config = configure(workspace, tmp_path, httpserver.url_for("/"), max_reads_per_run=10)
    first = run_once(config, now=NOW)  # a normal run: the last day, 10 reads
    recent = stored(config)
    assert recent and all(p["text"].find("history") < 0 for p in fake.posts if p["id"] in recent)
    assert first.alerts > 0  # the rule alerts on everything a run reads

    out = io.StringIO()
    with Reporter(out, live=False) as report:
        one = backfill(config, timedelta(days=7), NOW, report)
    # The read budget of a run stopped it: it says so, and keeps its place.
    assert one.connectors["x"].reads == 10 and one.connectors["x"].status.startswith("stopped")
    assert one.connectors["news"].status.startswith("skipped: a feed lists only")
    assert "X searches only the last 7 days" in " ".join(one.warnings)
    lines = out.getvalue().splitlines()
    assert any("x: stopped" in line for line in lines)
    assert any("news (rss): skipped" in line for line in lines)
    served_before = [i for page in fake.served for i in page]

    for _ in range(6):  # each backfill goes on where the last stopped
        with Reporter(io.StringIO(), live=False) as report:
            again = backfill(config, timedelta(days=7), NOW, report)
        if again.connectors["x"].status == "done":
            break
    assert again.connectors["x"].status == "done"
    history = {p["id"] for p in fake.posts if "history day" in p["text"]}
    old = {p["id"] for p in fake.posts if "history day 9" in p["text"]}
    assert history - old <= stored(config) and not old & stored(config)
    served = [i for page in fake.served[len(served_before) :] for i in page]
    assert not set(served) & (history & set(served_before)), "a resumed pass re-read history"

    # History fills the archive, not the channel: the next run alerts on nothing of it.
    later = run_once(config, now=NOW + timedelta(minutes=5))
    assert later.alerts == 0 and not [e for e in later.errors if "connector x" in e], later


def test_backfill_command_names_a_connector_and_prints_plain_lines(
    workspace: Callable, tmp_path: Path, httpserver: Any, fake: FakeX,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    config = configure(workspace, tmp_path, httpserver.url_for("/"))
    monkeypatch.setattr("reputation.cli_archive.utcnow", lambda: NOW, raising=False)
    code = main(["backfill", "--since", "3d", "--connector", "x", "--config", str(config.path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "x: done" in out and "news" not in out
    assert main(["backfill", "--since", "3d", "--connector", "nope",
                 "--config", str(config.path)]) == 2  # fmt: skip
    assert "no connector named 'nope'" in capsys.readouterr().err


def test_a_terminal_gets_a_rich_bar(tmp_path: Path) -> None:
    out = io.StringIO()
    with Reporter(out, live=True) as report:
        report.start("x")
        report.update("x", 10, "10 new")
        report.finish("x", "done: 10 fetched")
    assert "done: 10 fetched" in out.getvalue() and "x" in out.getvalue()


def test_train_reports_its_progress(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    labels = tmp_path / "labels.csv"
    with labels.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        for i in range(40):
            text = "lost my bag again, awful" if i % 2 else "lovely crew, thanks"
            writer.writerow([f"{text} {i}", "yes" if i % 2 else "no"])
    out = tmp_path / "model.joblib"
    assert main(["train", str(labels), "--text-column", "text", "--label-column", "label",
                 "--positive", "yes", "--out", str(out), "--cv", "2"]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    for step in ("reading", "fold 1/2", "fold 2/2", "fitting"):
        assert step in printed, printed
    assert json.loads(out.with_suffix(".joblib.json").read_text())["rows"] == 40


def test_an_interrupted_backfill_resumes_without_reading_history_twice(
    workspace: Callable, tmp_path: Path, httpserver: Any, fake: FakeX
) -> None:
    config = configure(workspace, tmp_path, httpserver.url_for("/"))
    fake.fail(503, after=1)  # the second page fails: X is down mid-pass
    with Reporter(io.StringIO(), live=False) as report:
        first = backfill(config, timedelta(days=7), NOW, report, only="x")
    assert first.connectors["x"].status.startswith("failed")
    assert first.connectors["x"].fetched == 10  # the first page, stored with its state
    assert any("backfill failed" in e for e in first.errors)
    with Reporter(io.StringIO(), live=False) as report:
        second = backfill(config, timedelta(days=7), NOW, report, only="x")
    assert second.connectors["x"].status == "done"
    history = {p["id"] for p in fake.posts if "history day" in p["text"]}
    old = {p["id"] for p in fake.posts if "history day 9" in p["text"]}
    assert history - old <= stored(config)
    read = [i for page in fake.served for i in page]  # both backfills' pages
    assert len(read) == len(set(read)), "the resumed pass read a post again"
