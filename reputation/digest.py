"""The nightly CSV digest: one UTC day's mentions ranked by severity, safe to open in Excel."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pandas as pd

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
        pd.DataFrame(columns=list(COLUMNS)).to_csv(handle, index=False)
        for found in store.ledger.day_report(start, start + timedelta(days=1), chunk):
            frame = pd.DataFrame.from_records(found, coerce_float=True)
            frame.insert(0, "rank", range(rows + 1, rows + len(frame) + 1))
            frame["reasons"] = frame["reasons"].map(_reasons)
            frame["alert_status"] = frame["alert_status"].fillna("")
            for column in frame.columns:
                if not pd.api.types.is_numeric_dtype(frame[column]):  # object or pandas 3 str
                    frame[column] = frame[column].map(csv_safe)
            frame.to_csv(handle, index=False, header=False, columns=list(COLUMNS))
            rows += len(frame)
    os.replace(partial, path)  # readers never see a half-written digest
    return path, rows


def _reasons(value: list[str] | None) -> str:
    return "; ".join(value) if isinstance(value, list) else ""
