"""The numbers a social-care lead reports, per brand and category: time to acknowledge and to
first public response (median, 90th percentile), response rate and SLA breaches; and the
labels people gave by their clicks, in the shape `reputation train` reads."""

from __future__ import annotations

import csv
import math
import os
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from reputation.models import WorkflowFact
from reputation.store import Store
from reputation.text import csv_safe
from reputation.timeutil import parse_time

NUMBER_COLUMNS = (
    "day", "brand", "category", "incidents", "dismissed", "responded", "response_rate",
    "tta_median_min", "tta_p90_min", "ttr_median_min", "ttr_p90_min", "sla_breaches",
)  # fmt: skip
LABEL_COLUMNS = ("text", "label", "mention_key", "incident_id", "labeled_by", "labeled_at")


@dataclass(frozen=True)
class Numbers:
    """One brand and category's numbers over a period (minutes; None where nothing was)."""

    brand: str
    category: str
    incidents: int
    dismissed: int
    responded: int
    response_rate: float | None  # responded / incidents not dismissed
    tta_median_min: float | None  # from the alert reaching the team to an acknowledgement
    tta_p90_min: float | None
    ttr_median_min: float | None  # from the first post to the brand's first public response
    ttr_p90_min: float | None
    sla_breaches: int


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile (`share` in 0..1) of `values`; None if there are none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def numbers(facts: Sequence[WorkflowFact]) -> list[Numbers]:
    """The numbers of each brand and category among `facts`, in that order."""
    groups: dict[tuple[str, str], list[WorkflowFact]] = {}
    for fact in facts:
        groups.setdefault((fact["brand"], fact["category"]), []).append(fact)
    return [_numbers(brand, category, rows) for (brand, category), rows in sorted(groups.items())]


def _numbers(brand: str, category: str, rows: list[WorkflowFact]) -> Numbers:
    tta = [_minutes(r["sla_from"], r["acknowledged_at"]) for r in rows
           if r["sla_from"] and r["acknowledged_at"]]  # fmt: skip
    ttr = [_minutes(r["opened_at"], r["first_response_at"]) for r in rows
           if r["first_response_at"]]  # fmt: skip
    dismissed = sum(r["state"] == "dismissed" for r in rows)
    responded = sum(r["first_response_at"] is not None for r in rows)
    owed = len(rows) - dismissed
    return Numbers(
        brand, category, len(rows), dismissed, responded,
        round(responded / owed, 3) if owed else None,
        _round(statistics.median(tta) if tta else None), _round(percentile(tta, 0.9)),
        _round(statistics.median(ttr) if ttr else None), _round(percentile(ttr, 0.9)),
        sum(r["breaches"] for r in rows),
    )  # fmt: skip


def _minutes(start: str, end: str) -> float:
    """Minutes from `start` to `end`, never below zero (a reply may predate the alert)."""
    return max(0.0, (parse_time(end) - parse_time(start)).total_seconds() / 60)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def day_numbers(store: Store, day: date) -> list[Numbers]:
    """The numbers of the incidents opened on `day` (UTC)."""
    start = datetime.combine(day, time(), tzinfo=UTC)
    return numbers(store.ledger.workflow_facts(start, start + timedelta(days=1)))


def write_numbers(rows: Sequence[Numbers], day: date, out_dir: Path) -> Path:
    """Write `out_dir/YYYY-MM-DD.incidents.csv` (beside the day's digest); return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{day.isoformat()}.incidents.csv"
    partial = path.with_suffix(".csv.partial")
    with partial.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(NUMBER_COLUMNS)
        for row in rows:
            values = {"day": day.isoformat(), **asdict(row)}
            writer.writerow([csv_safe("" if values[c] is None else values[c])
                             for c in NUMBER_COLUMNS])  # fmt: skip
    os.replace(partial, path)
    return path


def summary_lines(rows: Sequence[Numbers], day: date) -> list[str]:
    """The daily summary: one line per brand and category."""
    if not rows:
        return [f"{day}: no incidents"]
    lines = [f"{day}: incidents per brand and category"]
    for row in rows:
        rate = "-" if row.response_rate is None else f"{row.response_rate:.0%}"
        lines.append(
            f"  {row.brand} / {row.category}: {row.incidents} incident(s), response rate"
            f" {rate}, time to acknowledge {span(row.tta_median_min, row.tta_p90_min)},"
            f" to first public response {span(row.ttr_median_min, row.ttr_p90_min)},"
            f" {row.sla_breaches} SLA breach(es)"
        )
    return lines


def span(median: float | None, p90: float | None) -> str:
    """ "median M min (p90 P min)", or "-" where nothing was measured."""
    if median is None:
        return "-"
    return f"median {median:g} min (p90 {p90:g} min)"


def export_labels(store: Store, out: Path) -> int:
    """Write the labels people gave by their clicks to `out` (text, label, ...); how many.
    `reputation train OUT --text-column text --label-column label --positive relevant`."""
    rows = store.ledger.labels()
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with partial.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(LABEL_COLUMNS)
        for row in rows:
            # A formula-looking text gets a leading ' (digest rule); the model's tokenizer
            # reads words, so the mark changes nothing it learns.
            writer.writerow([csv_safe(row["text"]), row["label"], row["key"], row["incident_id"],
                             csv_safe(row["actor_name"]), row["at"]])  # fmt: skip
    os.replace(partial, out)
    return len(rows)
