"""The nightly CSV digest: one UTC day's mentions ranked by severity, safe to open in Excel."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from reputation.models import DayReportRow
from reputation.store import Store
from reputation.text import csv_safe

COLUMNS = tuple(
    """rank created_at brand source author author_followers text url likes shares replies
    sentiment complaint severity viral_risk predicted_engagement_24h category reasons
    alert_status alert_rules key""".split()
)


def yesterday(now: datetime) -> date:
    """The UTC date before `now`."""
    return (now.astimezone(UTC) - timedelta(days=1)).date()


def write_digest(store: Store, day: date, out_dir: Path, chunk: int = 2000) -> tuple[Path, int]:
    """Write `out_dir/YYYY-MM-DD.csv` for mentions created on `day` (UTC); return path and rows."""
    start = datetime.combine(day, time(), tzinfo=UTC)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{day.isoformat()}.csv"
    partial = path.with_suffix(".csv.partial")
    rows = 0
    with partial.open("w", encoding="utf-8", newline="") as handle:
        # The csv module quotes every cell holding a delimiter, a quote, CR or LF (its
        # default line end is CRLF, so both count); pandas' to_csv left a bare CR unquoted,
        # and the row split there.
        writer = csv.writer(handle, quoting=csv.QUOTE_MINIMAL)
        writer.writerow(COLUMNS)
        for found in store.ledger.day_report(start, start + timedelta(days=1), chunk):
            writer.writerows(_cells(rows + rank, row) for rank, row in enumerate(found, 1))
            rows += len(found)
    os.replace(partial, path)  # readers never see a half-written digest
    return path, rows


def _cells(rank: int, row: DayReportRow) -> Iterable[object]:
    """One digest line: numbers as they are, every text cell through `csv_safe`."""
    values: dict[str, object] = {
        **row,
        "rank": rank,
        "reasons": "; ".join(row["reasons"] or ()),
        "alert_status": row["alert_status"] or "",
    }
    for column in COLUMNS:
        value = values.get(column)
        yield "" if value is None else csv_safe(value)
