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


FORMULA = ("=", "+", "-", "@", "\t", "\r")


def test_a_line_break_inside_a_cell_neither_splits_the_row_nor_starts_a_formula(
    workspace: Callable, make_record: Callable, tmp_path: Path
) -> None:
    records = [
        make_record("Acme Air ok\r=cmd|' /C calc'!A0", minutes=0, author="ann\r+SUM(1)"),
        make_record(
            "Acme Air\r\n@evil\n-2 \u202eexe.pdf",
            minutes=5,
            url="https://x.com/a/status/1\r=HYPERLINK(1)",
        ),
        make_record('Acme Air, with a comma\rand "quotes"', minutes=10),
    ]
    path = workspace(records)
    run_once(load_config(path), now=NOW)
    assert main(["digest", "--date", "2026-11-22", "--config", str(path)]) == 0
    out = tmp_path / "digests" / "2026-11-22.csv"
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == list(COLUMNS) and len(rows) == 1 + len(records)  # no row split
    assert all(len(row) == len(COLUMNS) for row in rows)
    cells = [cell for row in rows[1:] for cell in row]
    for cell in cells:
        for line in cell.split("\n"):
            assert not line.lstrip(" ").startswith(FORMULA) or _number(line), repr(cell)
    for line in out.read_bytes().decode("utf-8").splitlines():  # CR, LF and CRLF all end one
        assert not line.lstrip(" ").startswith(FORMULA), repr(line)
    assert not any("\u202e" in cell or "\r" in cell for cell in cells)
    texts = {row[COLUMNS.index("text")] for row in rows[1:]}
    assert "Acme Air ok\n'=cmd|' /C calc'!A0" in texts
    assert "Acme Air\n'@evil\n'-2 exe.pdf" in texts


def test_the_writer_itself_quotes_a_bare_cr(
    workspace: Callable, make_record: Callable, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two guards: csv_safe turns a CR into a line end, and the writer quotes any cell with
    # CR, LF or the delimiter. With the first switched off, the second still holds the row.
    monkeypatch.setattr("reputation.digest.csv_safe", lambda value: value)
    path = workspace([make_record("Acme Air\rsecond line", minutes=0)])
    run_once(load_config(path), now=NOW)
    assert main(["digest", "--date", "2026-11-22", "--config", str(path)]) == 0
    with (tmp_path / "digests" / "2026-11-22.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == 2 and rows[1][COLUMNS.index("text")] == "Acme Air\rsecond line"
