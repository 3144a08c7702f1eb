"""End to end through the CLI: the demo, reruns, --json, the lock, failing sources, growth."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from reputation.cli import main
from reputation.lock import RunLock
from tests.conftest import NOW, sqlite_only, write_jsonl


def run_json(path: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    capsys.readouterr()
    assert main(["run", "--json", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1  # exactly one JSON object, nothing else on stdout
    return json.loads(out)


def test_demo_alerts_once_and_the_second_run_sends_nothing(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = run_json(demo, capsys)
    assert set(first) >= {
        "fetched",
        "new_mentions",
        "scored",
        "alerts",
        "sent",
        "pending",
        "failed",
        "errors",
    }
    assert first["errors"] == [] and first["new_mentions"] > 200
    assert first["alerts"] >= 4 and first["sent"] == first["alerts"]
    second = run_json(demo, capsys)
    assert (second["fetched"], second["alerts"], second["sent"], second["pending"]) == (0, 0, 0, 0)


def test_demo_catches_what_it_was_written_to_show(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_json(demo, capsys)
    capsys.readouterr()
    main(["alerts", "--config", str(demo), "--limit", "100"])
    listing = capsys.readouterr().out
    assert "complaint-burst" in listing  # the check-in outage
    assert "@jenna_marie_w" in listing  # the escalating complaint
    assert "@markbrandt" in listing  # the influential author
    assert "@throwaway_refund22" in listing  # the legal threat
    assert "fryer" not in listing.lower()


def test_human_summary_and_console_table(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--config", str(demo)]) == 0
    captured = capsys.readouterr()
    assert "new alert(s)" in captured.out and "viral-complaint" in captured.out
    assert "sink 'slack' skipped: environment variable SLACK_BOT_TOKEN is not set" in captured.err


def test_console_output_goes_to_stderr_with_json(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_json(demo, capsys)  # asserts stdout holds only the JSON line


def test_a_second_overlapping_run_says_so_and_exits_non_zero(
    demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], database: Path | str
) -> None:
    sqlite_only(database, "a SQLite file's own lock and damage")
    with RunLock(tmp_path / "r.db"):
        assert main(["run", "--config", str(demo)]) == 75
    assert "another run holds" in capsys.readouterr().err
    assert main(["run", "--config", str(demo)]) == 0


def test_an_unreadable_database_stops_the_run(
    demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], database: Path | str
) -> None:
    sqlite_only(database, "a SQLite file's own lock and damage")
    (tmp_path / "r.db").write_bytes(b"garbage" * 1000)
    assert main(["run", "--config", str(demo)]) == 1
    assert "cannot open database" in capsys.readouterr().err


def test_bad_config_exits_2_naming_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("brands: []\nconnectors: []\n")
    assert main(["run", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "brands: expected a non-empty list" in err and "connectors: expected a list" in err


def test_a_failing_source_is_reported_and_the_run_goes_on(
    workspace: Callable, make_record: Callable, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = workspace(
        [make_record("Acme Air is terrible and awful", author_followers=90_000)],
        connectors=[
            {"type": "file", "name": "gone", "path": str(tmp_path / "none")},
            {"type": "file", "path": str(tmp_path / "mentions.jsonl")},
        ],
    )
    out = run_json(path, capsys)
    assert out["errors"] == [
        f"connector gone: cannot open {tmp_path / 'none'}: No such file or directory"
    ]
    assert (out["new_mentions"], out["alerts"]) == (1, 1)


def test_bad_input_lines_are_reported_and_the_rest_ingested(
    workspace: Callable, make_record: Callable, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = workspace([make_record("Acme Air fine")])
    with (tmp_path / "mentions.jsonl").open("a") as handle:
        handle.write("{broken\n")
    write_jsonl(tmp_path / "mentions.jsonl", [make_record("Acme Air ok too")], mode="a")
    out = run_json(path, capsys)
    assert out["new_mentions"] == 2
    assert out["errors"] == [
        f"connector file: {tmp_path / 'mentions.jsonl'}:2: is not valid JSON "
        "(Expecting property name enclosed in double quotes)"
    ]


def test_growth_between_runs_alerts_then_escalates_once(
    workspace: Callable, make_record: Callable, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    post = make_record(
        "Acme Air lost my bag, worst and most awful service",
        author_followers=800,
        likes=10,
        observed_at="2026-11-22T08:20:00Z",
    )
    path = workspace([post])
    mentions = tmp_path / "mentions.jsonl"
    assert run_json(path, capsys)["alerts"] == 0  # 10 engagements, small author: not yet
    write_jsonl(mentions, [{**post, "likes": 150, "observed_at": "2026-11-22T09:00:00Z"}], "a")
    assert run_json(path, capsys)["alerts"] == 1  # 150 engagements: a warning
    write_jsonl(mentions, [{**post, "likes": 160, "observed_at": "2026-11-22T09:10:00Z"}], "a")
    assert run_json(path, capsys)["alerts"] == 0  # still a warning: nothing new to say
    write_jsonl(
        mentions,
        [{**post, "likes": 9000, "shares": 2500, "observed_at": "2026-11-22T11:00:00Z"}],
        "a",
    )
    assert run_json(path, capsys)["alerts"] == 1  # escalated to critical
    assert run_json(path, capsys)["alerts"] == 0
    capsys.readouterr()
    main(["alerts", "--config", str(path)])
    listing = capsys.readouterr().out
    assert listing.count("viral-complaint") == 2 and "Escalated to critical" in listing


def test_a_follow_up_in_a_complaint_thread_inherits_it_across_runs(
    workspace: Callable, make_record: Callable, tmp_path: Path
) -> None:
    from reputation.config import load_config
    from reputation.pipeline import run_once
    from reputation.store import Store

    complaint = make_record("@AcmeAir you lost my bag and nobody answers", id="100")
    path = workspace([complaint])
    config = load_config(path)
    run_once(config, now=NOW)
    # The next run reads a reply that only makes sense in its thread, and its parent's score
    # comes from the store.
    follow_up = make_record("@AcmeAir any update?", minutes=60, id="101", parent_id="100")
    deep = make_record("still nothing", minutes=90, id="102", thread_id="100", brand="Acme Air")
    write_jsonl(tmp_path / "mentions.jsonl", [follow_up, deep], mode="a")
    run_once(config, now=NOW)
    store = Store.open(config.database)
    try:
        scores = {r["mention_key"]: r for r in store._rows("SELECT * FROM scores")}
    finally:
        store.close()
    parent = scores["x:100"]["complaint"]
    assert parent >= 0.7
    assert scores["x:101"]["complaint"] == parent == scores["x:102"]["complaint"]
    assert "follow-up in a complaint thread" in scores["x:101"]["reasons"]
