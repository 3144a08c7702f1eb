"""Ingest under attack: one bad record never blocks the rest (issue 10, items 1-4).

Each poison record sits between good ones. The good ones must all be stored, the bad one
reported by file and line, and the cursor must move past it, so a second run stores and
reports nothing. Written against the CLI-level API (config, run_once) so each test also
runs on the code before the fix, where it fails.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from reputation.config import Config, load_config
from reputation.pipeline import RunSummary, run_once
from reputation.store import Store
from reputation.timeutil import iso, parse_time
from tests.conftest import NOW, record


def lines_config(workspace: Callable, tmp_path: Path, lines: list[str], name: str) -> Config:
    """A config reading `lines` (one record each) from tmp_path/`name`."""
    path = tmp_path / name
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return load_config(workspace(connectors=[{"type": "file", "path": str(path)}]))


def stored_ids(config: Config) -> list[str]:
    store = Store.open(config.database)
    try:
        return [r["native_id"] for r in store._rows("SELECT native_id FROM mentions ORDER BY 1")]
    finally:
        store.close()


def good(native_id: str, **fields: Any) -> str:
    return json.dumps(record(f"Acme Air lost my bag, case {native_id}", id=native_id, **fields))


def run_twice(config: Config) -> tuple[RunSummary, RunSummary]:
    first = run_once(config, now=NOW)
    second = run_once(config, now=NOW + timedelta(minutes=10))
    return first, second


def test_a_line_nested_100000_deep_is_skipped_and_every_later_line_is_stored(
    workspace: Callable, tmp_path: Path
) -> None:
    deep = '{"id": "2", "text": "Acme Air", "raw": ' + "[" * 100_000 + "]" * 100_000 + "}"
    config = lines_config(workspace, tmp_path, [good("1"), deep, good("3")], "m.jsonl")
    first, second = run_twice(config)
    assert stored_ids(config) == ["1", "3"]
    [problem] = [e.split("m.jsonl:2: ", 1)[1] for e in first.errors if "m.jsonl:2: " in e]
    assert "nested" in problem
    assert (second.errors, second.new_mentions) == ([], 0)


@pytest.mark.parametrize(
    "fields",
    [
        {"likes": 2**63},
        {"shares": 2**64 + 5},
        {"author_followers": 10**30},
        {"replies": 1e300},
        {"reshare_reach": 2**53},
        {"impressions": 2**63},
    ],
)
def test_a_count_beyond_what_sqlite_stores_is_reported_and_skipped(
    workspace: Callable, tmp_path: Path, fields: dict[str, Any]
) -> None:
    config = lines_config(workspace, tmp_path, [good("1"), good("2", **fields), good("3")],
                          "m.jsonl")  # fmt: skip
    first, second = run_twice(config)
    assert stored_ids(config) == ["1", "3"]
    [problem] = [e.split("m.jsonl:2: ", 1)[1] for e in first.errors if "m.jsonl:2: " in e]
    assert next(iter(fields)) in problem
    assert (second.errors, second.new_mentions) == ([], 0)


def test_a_record_the_store_refuses_is_reported_by_line_and_the_rest_goes_on(
    workspace: Callable, tmp_path: Path
) -> None:
    # A lone surrogate is valid JSON but not UTF-8: SQLite cannot take the text.
    refused = (
        '{"id": "2", "text": "Acme Air \\ud800 lost it", "created_at": "2026-11-22T08:00:00Z"}'
    )
    config = lines_config(workspace, tmp_path, [good("1"), refused, good("3")], "m.jsonl")
    first, second = run_twice(config)
    assert stored_ids(config) == ["1", "3"]
    [problem] = [e.split("m.jsonl:2: ", 1)[1] for e in first.errors if "m.jsonl:2: " in e]
    assert "refused by the store" in problem
    assert (second.errors, second.new_mentions) == ([], 0)


@pytest.mark.parametrize(
    ("created_at", "kept"),
    [
        ("9999-12-31T23:59:59Z", False),
        ("0001-01-01T00:00:00Z", False),
        ("2005-12-31T23:59:59Z", False),
        ((NOW + timedelta(days=1, minutes=1)).isoformat(), False),
        ((NOW + timedelta(hours=23)).isoformat(), True),  # clocks differ: a day of slack
        ("2006-01-01T00:00:00Z", True),
    ],
)
def test_dates_before_2006_or_over_a_day_ahead_are_reported_and_skipped(
    workspace: Callable, tmp_path: Path, created_at: str, kept: bool
) -> None:
    lines = [good("1"), good("2", created_at=created_at), good("3")]
    config = lines_config(workspace, tmp_path, lines, "m.jsonl")
    first, second = run_twice(config)
    assert stored_ids(config) == (["1", "2", "3"] if kept else ["1", "3"])
    problems = [e.split("m.jsonl:2: ", 1)[1] for e in first.errors if "m.jsonl:2: " in e]
    assert len(problems) == (0 if kept else 1)
    assert kept or "created_at" in problems[0]
    # Nothing out of range reached the rules: the second run is clean too.
    assert second.errors == []


def test_an_observed_at_out_of_range_is_refused_too(workspace: Callable, tmp_path: Path) -> None:
    lines = [good("1"), good("2", observed_at="9999-01-01T00:00:00Z")]
    config = lines_config(workspace, tmp_path, lines, "m.jsonl")
    first = run_once(config, now=NOW)
    assert stored_ids(config) == ["1"]
    assert any("m.jsonl:2: observed_at" in e for e in first.errors)


@pytest.mark.parametrize("year", [1, 42, 999, 2026, 9999])
def test_iso_always_writes_four_digit_years(year: int) -> None:
    moment = datetime(year, 3, 4, 5, 6, 7, 890, tzinfo=UTC)
    text = iso(moment)
    assert text == f"{year:04d}-03-04T05:06:07.000890Z"
    assert len(text) == 27 and parse_time(text) == moment


def test_the_same_id_with_new_text_and_the_same_counts_is_scored_again(
    workspace: Callable, tmp_path: Path
) -> None:
    path = tmp_path / "m.jsonl"
    first = record("Flying Acme Air to Lisbon today", id="1", likes=3,
                   observed_at="2026-11-22T08:10:00Z")  # fmt: skip
    path.write_text(json.dumps(first) + "\n")
    config = load_config(workspace(connectors=[{"type": "file", "path": str(path)}]))
    assert run_once(config, now=NOW).scored == 1
    edited = {**first, "text": "Acme Air lost my bag and nobody answers. I want a refund now!",
              "observed_at": "2026-11-22T09:10:00Z"}  # fmt: skip
    with path.open("a") as handle:
        handle.write(json.dumps(edited) + "\n")
    again = run_once(config, now=NOW + timedelta(minutes=10))
    assert again.scored == 1, "an edited post is a new version: scored and evaluated again"
    store = Store.open(config.database)
    try:
        [row] = store._rows(
            "SELECT m.text, m.version, s.mention_version, s.complaint FROM mentions m"
            " JOIN scores s ON s.mention_key = m.key"
        )
    finally:
        store.close()
    assert row["text"] == edited["text"]
    assert row["version"] == row["mention_version"] == 2


def test_x_posts_out_of_range_are_reported_by_id_and_the_others_stored(
    httpserver: Any, workspace: Callable
) -> None:
    from tests.harness.x import TOKEN, FakeX

    fake = FakeX().install(httpserver)
    future, huge = sorted(fake.ids("mention"))[:2]
    fake.find(future)["created_at"] = "9999-12-31T00:00:00.000Z"
    fake.grow(huge, like_count=2**63)
    likes = fake.find(huge)["public_metrics"]["like_count"]
    entry = {"type": "x", "base_url": httpserver.url_for("/"), "max_results": 10, "timeout": "2s"}
    config = load_config(workspace(connectors=[entry]))
    env = {"X_BEARER_TOKEN": TOKEN}
    first = run_once(config, now=NOW, env=env)
    assert sorted(e.split(": post ")[1] for e in first.errors) == sorted([
        f"{future}: created_at 9999-12-31T00:00:00Z is more than a day in the future",
        f"{huge}: likes {likes} is not a count from 0 to 9,007,199,254,740,991",
    ])  # fmt: skip
    kept = set(stored_ids(config))
    assert kept == fake.ids("mention") - {future, huge}
    second = run_once(config, now=NOW + timedelta(minutes=10), env=env)
    assert second.new_mentions == 0


def test_an_app_store_review_dated_9999_never_moves_the_saved_state(
    httpserver: Any, workspace: Callable
) -> None:
    from tests.harness.appstore import APP_ID, FakeAppStore, review

    fake = FakeAppStore().serve(httpserver)
    fake.reviews["us"][0]["updated"] = {"label": "9999-12-31T00:00:00-07:00"}
    entry = {"type": "appstore", "app_id": int(APP_ID), "countries": ["us"],
             "base_url": httpserver.url_for("/"), "timeout": "2s"}  # fmt: skip
    config = load_config(workspace(connectors=[entry]))
    first = run_once(config, now=NOW)
    assert [e.split(": ", 1)[1] for e in first.errors] == [
        "us page 1 entry 1: review 9001: updated 9999-12-31T07:00:00Z is more than a day in "
        "the future"
    ]
    fake.reviews["us"].insert(1, review("9010", "Gate change", "No notice", hours_ago=0.1))
    second = run_once(config, now=NOW + timedelta(minutes=10))
    assert "9010" in stored_ids(config), "a review after the bad one is still read"
    assert all("9001" in e for e in second.errors)


HEADER = "id,text,created_at,author\n"


def csv_row(native_id: str, text: str, minutes: int = 0) -> str:
    created = (datetime(2026, 11, 22, 8, tzinfo=UTC) + timedelta(minutes=minutes)).isoformat()
    return f"{native_id},{text},{created},someone\n"


def csv_config(workspace: Callable, tmp_path: Path, body: str) -> tuple[Config, Path]:
    path = tmp_path / "m.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return load_config(workspace(connectors=[{"type": "file", "path": str(path)}])), path


def test_an_inch_mark_in_an_unquoted_csv_field_is_just_a_character(
    workspace: Callable, tmp_path: Path
) -> None:
    body = (csv_row("1", 'Acme Air seat 14C has a 5" screen')
            + csv_row("2", "Acme Air lost my bag")
            + csv_row("3", 'Acme Air: 7" of legroom really?')
            + csv_row("4", "Acme Air crew was great"))  # fmt: skip
    config, _ = csv_config(workspace, tmp_path, body)
    first, second = run_twice(config)
    assert (first.errors, second.errors) == ([], [])
    assert stored_ids(config) == ["1", "2", "3", "4"]
    store = Store.open(config.database)
    texts = [r["text"] for r in store._rows("SELECT text FROM mentions ORDER BY native_id")]
    store.close()
    assert texts[0] == 'Acme Air seat 14C has a 5" screen'


@pytest.mark.parametrize(
    "text", ["Acme Air lost my bag again", '"Acme Air, again: ""where is it?"""']
)
def test_a_half_written_last_csv_line_waits_for_the_next_run(
    workspace: Callable, tmp_path: Path, text: str
) -> None:
    whole = csv_row("1", "Acme Air lost my bag")
    last = csv_row("2", text, minutes=5)
    config, path = csv_config(workspace, tmp_path, whole + last[:20])
    first = run_once(config, now=NOW)
    assert (first.errors, stored_ids(config)) == ([], ["1"])
    assert first.warnings == [f"connector file: {path}:3: the last record has no line end yet; "
                              "it is read once it has one"]  # fmt: skip
    with path.open("a", encoding="utf-8") as handle:
        handle.write(last[20:])
    second = run_once(config, now=NOW + timedelta(minutes=10))
    assert (second.errors, second.warnings, stored_ids(config)) == ([], [], ["1", "2"])


def test_a_quote_opened_mid_file_and_never_closed_is_reported_and_the_rest_read(
    workspace: Callable, tmp_path: Path
) -> None:
    rows = [csv_row("1", '"Acme Air lost my bag, and then', 0)]
    rows += [csv_row(str(n), f"Acme Air case {n}", n) for n in range(2, 130)]
    config, path = csv_config(workspace, tmp_path, "".join(rows))
    first = run_once(config, now=NOW)
    assert first.errors == [f"connector file: {path}:2: opens a quoted field that is never closed"]
    assert sorted(stored_ids(config), key=int) == [str(n) for n in range(2, 130)]


def test_a_stray_quote_that_swallows_lines_is_reported_and_the_lines_it_took_are_read(
    workspace: Callable, tmp_path: Path
) -> None:
    body = (csv_row("1", '"Acme Air, oops')
            + csv_row("2", "Acme Air lost my bag")
            + csv_row("3", 'Acme Air said "sorry" and closed it"'))  # fmt: skip
    config, path = csv_config(workspace, tmp_path, body)
    first, second = run_twice(config)
    assert first.errors == [
        f"connector file: {path}:2: opens a quoted field that runs over the records after it"
    ]
    assert stored_ids(config) == ["2", "3"]
    assert second.errors == []


def test_a_line_longer_than_a_mebibyte_is_reported_and_the_rest_read(
    workspace: Callable, tmp_path: Path
) -> None:
    huge = json.dumps(record("Acme Air " + "x" * (1 << 20), id="2"))
    config = lines_config(workspace, tmp_path, [good("1"), huge, good("3")], "m.jsonl")
    first, second = run_twice(config)
    assert stored_ids(config) == ["1", "3"]
    assert [e.split(": ", 1)[1].split(":2: ")[-1] for e in first.errors] == ["is longer than 1 MiB"]
    assert second.errors == []
