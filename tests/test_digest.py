"""The nightly digest: one UTC day, ranked by severity, formula-safe, with alert status."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from reputation.cli import main
from reputation.config import load_config
from reputation.digest import COLUMNS, yesterday
from reputation.pipeline import run_once
from tests.conftest import NOW


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def digest_rows(workspace: Callable, make_record: Callable, tmp_path: Path) -> list[dict[str, str]]:
    records = [
        make_record("Acme Air was fine", minutes=0),
        make_record("Acme Air is terrible, awful, the worst", minutes=10, author_followers=80_000),
        make_record('=HYPERLINK("https://evil.example","Acme Air refund")', minutes=20),
        make_record("+1 Acme Air", minutes=30, author="@acmefan"),
        make_record("-5 stars for Acme Air", minutes=40),
        make_record("\tAcme Air tab", minutes=50),
        make_record("Acme Air next day", minutes=24 * 60),  # 2026-11-23: not in this digest
        make_record("Acme Air day before", minutes=-9 * 60),  # 2026-11-21 23:00
    ]
    path = workspace(records)
    run_once(load_config(path), now=NOW)
    assert main(["digest", "--date", "2026-11-22", "--config", str(path)]) == 0
    return read(tmp_path / "digests" / "2026-11-22.csv")


def test_only_that_utc_day_ranked_by_severity(digest_rows: list[dict[str, str]]) -> None:
    assert len(digest_rows) == 6
    assert list(digest_rows[0]) == list(COLUMNS)
    assert [r["rank"] for r in digest_rows] == ["1", "2", "3", "4", "5", "6"]
    severities = [float(r["severity"]) for r in digest_rows]
    assert severities == sorted(severities, reverse=True)
    top = digest_rows[0]
    assert top["text"] == "Acme Air is terrible, awful, the worst"
    assert (top["alert_status"], top["alert_rules"]) == ("sent", "viral-complaint")
    assert "author has 80k followers" in top["reasons"]
    assert all(r["created_at"].startswith("2026-11-22") for r in digest_rows)


def test_no_cell_can_run_as_a_formula(digest_rows: list[dict[str, str]]) -> None:
    texts = {r["text"] for r in digest_rows}
    assert '\'=HYPERLINK("https://evil.example","Acme Air refund")' in texts
    assert {"'+1 Acme Air", "'-5 stars for Acme Air", "'\tAcme Air tab"} <= texts
    assert "'@acmefan" in {r["author"] for r in digest_rows}
    for row in digest_rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "@", "\t", "\r")), value
            assert not value.startswith("-") or _number(value), value


def _number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def test_an_empty_day_still_writes_a_header(workspace: Callable, tmp_path: Path) -> None:
    path = workspace([])
    assert main(["digest", "--date", "2020-01-01", "--config", str(path)]) == 0
    out = tmp_path / "digests" / "2020-01-01.csv"
    assert out.read_text().strip() == ",".join(COLUMNS)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 11, 23, 0, 5, tzinfo=UTC), date(2026, 11, 22)),
        (datetime(2026, 3, 1, 23, 59, tzinfo=UTC), date(2026, 2, 28)),
    ],
)
def test_default_day_is_yesterday_in_utc(now: datetime, expected: date) -> None:
    assert yesterday(now) == expected
