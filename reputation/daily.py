"""The day in Slack: the nightly digest's day as one message (counts by sentiment, category
and source against the day before, the five most severe mentions with links, incidents,
coverage per source), an hourly chart in its thread, and a summary CSV beside the digest.
Posted at most once per day and sink (docs/decisions.md 124-127)."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from reputation.links import post_url
from reputation.models import DayReportRow
from reputation.postlog import NoticePostLog
from reputation.report import Numbers, day_numbers, span
from reputation.sinks import Sink, SinkError
from reputation.store import Store
from reputation.text import csv_safe, normalize, shorten, slack_escape, slack_text

DIMENSIONS = ("sentiment", "category", "source")
SENTIMENTS = ("negative", "neutral", "positive", "unscored")
TOP = 5
SUMMARY_COLUMNS = ("section", "name", "count", "day_before", "change")
# Block Kit: a section's text is at most 3,000 characters; a header's 150.
SECTION_LIMIT, HEADER_LIMIT = 3000, 150
QUOTE_LIMIT, NAME_LIMIT = 200, 60
ALT_TEXT = "Mentions per hour and their negative share, against the seven days before"


@dataclass
class DayFacts:
    """What the day's message, chart and summary CSV say about one UTC day."""

    day: date
    counts: dict[str, dict[str, int]]
    before: dict[str, dict[str, int]]
    top: list[DayReportRow]
    incidents: dict[str, int]
    coverage: list[dict[str, Any]]
    hours: list[int] = field(default_factory=lambda: [0] * 24)
    negative: list[int] = field(default_factory=lambda: [0] * 24)
    week_hours: list[int] = field(default_factory=lambda: [0] * 24)  # sum of the 7 days before
    week_negative: list[int] = field(default_factory=lambda: [0] * 24)
    answering: list[Numbers] = field(default_factory=list)  # per brand and category

    @property
    def total(self) -> int:
        """Mentions created that day."""
        return sum(self.counts["source"].values())

    @property
    def total_before(self) -> int:
        """Mentions created the day before."""
        return sum(self.before["source"].values())


def day_facts(store: Store, day: date) -> DayFacts:
    """Gather one UTC day's numbers from the store."""
    start = datetime.combine(day, time(), tzinfo=UTC)
    end = start + timedelta(days=1)
    top = next(iter(store.ledger.day_report(start, end, TOP)), [])
    facts = DayFacts(
        day=day,
        counts=_counts(store.day_counts(start, end)),
        before=_counts(store.day_counts(start - timedelta(days=1), start)),
        top=top[:TOP],
        incidents=store.ledger.incidents_of_day(start, end),
        coverage=store.coverage(start, end),
        answering=day_numbers(store, day),
    )
    for row in store.hourly(start - timedelta(days=7), end):
        hour = int(row["hour"][11:13])
        if row["hour"] >= start.strftime("%Y-%m-%dT%H"):
            facts.hours[hour] += row["n"]
            facts.negative[hour] += row["negative"]
        else:
            facts.week_hours[hour] += row["n"]
            facts.week_negative[hour] += row["negative"]
    return facts


def _counts(rows: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {d: {} for d in DIMENSIONS}
    for row in rows:
        out[row["dimension"]][str(row["value"])] = int(row["n"])
    return out


# -- the summary CSV ------------------------------------------------------------------------


def summary_rows(facts: DayFacts) -> list[tuple[object, ...]]:
    """The summary CSV's rows: counts per sentiment, category and source with the day
    before and the change; incidents; coverage per source."""
    rows: list[tuple[object, ...]] = [("total", "mentions", facts.total, facts.total_before,
                                       facts.total - facts.total_before)]  # fmt: skip
    for dimension in DIMENSIONS:
        now, before = facts.counts[dimension], facts.before[dimension]
        for name in _ordered(dimension, now, before):
            n, b = now.get(name, 0), before.get(name, 0)
            rows.append((dimension, name, n, b, n - b))
    rows += [("incidents", k, facts.incidents[k], "", "") for k in
             ("opened", "resolved", "still_open")]  # fmt: skip
    for row in facts.coverage:
        for key in ("ok", "failed", "rate_limited", "budget", "fetched", "reads"):
            label = {"ok": "runs ok", "failed": "runs failed", "rate_limited":
                     "skipped: rate limit", "budget": "skipped: read budget",
                     "fetched": "new mentions", "reads": "billable reads"}[key]  # fmt: skip
            rows.append(("coverage", f"{row['connector']}: {label}", row[key] or 0, "", ""))
    return rows


def write_summary(facts: DayFacts, out_dir: Path) -> Path:
    """Write `out_dir/YYYY-MM-DD.summary.csv` (every cell through csv_safe); its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{facts.day.isoformat()}.summary.csv"
    partial = path.with_suffix(".csv.partial")
    with partial.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_MINIMAL)
        writer.writerow(SUMMARY_COLUMNS)
        writer.writerows([csv_safe(cell) for cell in row] for row in summary_rows(facts))
    os.replace(partial, path)
    return path


def _ordered(dimension: str, now: Mapping[str, int], before: Mapping[str, int]) -> list[str]:
    if dimension == "sentiment":
        return [s for s in SENTIMENTS if s in now or s in before]
    return sorted(set(now) | set(before), key=lambda k: (-now.get(k, 0), k))


# -- the message ----------------------------------------------------------------------------


def day_message(facts: DayFacts) -> tuple[str, list[dict[str, Any]]]:
    """Fallback text and blocks of the day's message; every stranger's word inert."""
    day = facts.day.isoformat()
    prev = (facts.day - timedelta(days=1)).isoformat()
    head = f"*{facts.total:,} mention(s)* {_change(facts.total, facts.total_before)} vs {prev}"
    lines = [head]
    for dimension in DIMENSIONS:
        now, before = facts.counts[dimension], facts.before[dimension]
        parts = [f"{_name(k)} {now.get(k, 0)} {_change(now.get(k, 0), before.get(k, 0))}"
                 for k in _ordered(dimension, now, before)[:12]]  # fmt: skip
        lines.append(f"*By {dimension}:* " + (" · ".join(parts) or "none"))
    incidents = facts.incidents
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"The day in mentions: {day}"}},
        _section("\n".join(lines)),
        _section(_top_lines(facts.top)),
        _section(
            f"*Incidents:* {incidents['opened']} opened · {incidents['resolved']} resolved · "
            f"{incidents['still_open']} still open"
        ),
        _section(_answering_lines(facts.answering)),
        _section(_coverage_lines(facts.coverage)),
        _context(f"Hourly chart in the thread · CSV: {day}.csv, {day}.summary.csv"),
    ]
    text = f"The day in mentions, {day}: {facts.total:,} mention(s)"
    return text, blocks


def _top_lines(top: Sequence[DayReportRow]) -> str:
    if not top:
        return "*Most severe:* none"
    lines = ["*Most severe:*"]
    for rank, row in enumerate(top, 1):
        author = _name("@" + row["author"].lstrip("@")) if row["author"] else "unknown author"
        quote = slack_text(shorten(normalize(row["text"]), QUOTE_LIMIT))
        url = post_url(row)
        link = f" <{slack_escape(url)}|open>" if url else ""
        severity = f"{row['severity']:.2f}" if row["severity"] is not None else "–"
        category = _name((row["category"] or "unscored").replace("_", " "))
        lines.append(f"{rank}. *{severity}* {author} on {_name(row['source'])} · {category}"
                     f"{link}\n> {quote}")  # fmt: skip
    return "\n".join(lines)


def _answering_lines(rows: Sequence[Numbers]) -> str:
    if not rows:
        return "*Answering:* no incident opened"
    lines = ["*Answering* (incidents opened that day, per brand and category):"]
    for row in rows[:20]:
        rate = "–" if row.response_rate is None else f"{row.response_rate:.0%}"
        lines.append(
            f"{_name(row.brand)} / {_name(row.category.replace('_', ' '))}: {row.incidents}, "
            f"responded {rate}, to acknowledge {span(row.tta_median_min, row.tta_p90_min)}, "
            f"to first public response {span(row.ttr_median_min, row.ttr_p90_min)}, "
            f"{row.sla_breaches} SLA breach(es)"
        )
    return "\n".join(lines)


def _coverage_lines(coverage: Sequence[Mapping[str, Any]]) -> str:
    if not coverage:
        return "*Coverage:* no run that day"
    lines = ["*Coverage:*"]
    for row in coverage:
        skipped = (row["rate_limited"] or 0) + (row["budget"] or 0)
        lines.append(
            f"{_name(row['connector'])}: {row['fetched']} new, {row['ok'] or 0} run(s) ok, "
            f"{row['failed'] or 0} failed, {skipped} skipped ({row['rate_limited'] or 0} rate "
            f"limit, {row['budget'] or 0} read budget)"
        )
    return "\n".join(lines)


def _change(now: int, before: int) -> str:
    return f"({now - before:+d})" if now != before else "(=)"


def _name(raw: str) -> str:
    """A name from the data (a source, category or author): inert, escaped and short."""
    return slack_text(shorten(normalize(str(raw)), NAME_LIMIT))


def _section(text: str) -> dict[str, Any]:
    text = text if len(text) <= SECTION_LIMIT else text[: SECTION_LIMIT - 1] + "…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text, "verbatim": True}]}


# -- the chart ------------------------------------------------------------------------------


def chart_png(facts: DayFacts) -> bytes | None:
    """A PNG of the day's hourly volume and negative share against the mean of the seven
    days before; None when matplotlib (the `chart` extra) is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display: draw to memory
        from matplotlib.figure import Figure
    except ImportError:
        return None
    hours = list(range(24))
    week_mean = [n / 7 for n in facts.week_hours]
    share = [_share(n, t) for n, t in zip(facts.negative, facts.hours, strict=True)]
    week_share = [_share(n, t) for n, t in zip(facts.week_negative, facts.week_hours, strict=True)]
    figure = Figure(figsize=(9, 5), dpi=100)
    volume, negative = figure.subplots(2, 1, sharex=True)
    volume.bar(hours, facts.hours, color="#4a7bd0", label=facts.day.isoformat())
    volume.plot(hours, week_mean, color="#333333", marker=".", label="mean of the 7 days before")
    volume.set_ylabel("mentions per hour")
    volume.legend(loc="upper left", fontsize="small")
    volume.set_title(f"Mentions by hour (UTC), {facts.day.isoformat()}")
    negative.plot(hours, share, color="#d04a4a", marker="o", label=facts.day.isoformat())
    negative.plot(hours, week_share, color="#333333", linestyle="--", label="7 days before")
    negative.set_ylim(0, 1)
    negative.set_ylabel("negative share")
    negative.set_xlabel("hour (UTC)")
    negative.set_xticks(range(0, 24, 2))
    negative.legend(loc="upper left", fontsize="small")
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def _share(negative: int, total: int) -> float:
    return negative / total if total else float("nan")


# -- posting --------------------------------------------------------------------------------


def post_day(
    store: Store, sinks: Sequence[Sink], facts: DayFacts, channel: str | None, now: datetime,
    warnings: list[str],
) -> list[str]:  # fmt: skip
    """Post the day's message, then its chart in the thread, to every sink that can (Slack),
    each at most once per day (a rerun finds them recorded). Returns errors."""
    text, blocks = day_message(facts)
    chart: bytes | None = None
    errors: list[str] = []
    for sink in sinks:
        announce, upload = getattr(sink, "announce", None), getattr(sink, "upload", None)
        target = channel or getattr(sink, "channel", None)
        if announce is None or upload is None or not target:
            continue
        postlog = NoticePostLog(store.ledger, sink.name, now, warnings)
        slot = f"day {facts.day.isoformat()}"
        try:
            posted = announce(postlog, {"day": facts.day.isoformat()}, slot, target, text, blocks)
            if chart is None:
                chart = chart_png(facts)
                if chart is None:
                    warnings.append("no chart: install the chart extra (reputation[chart])")
                    chart = b""
            if chart:
                name, title = f"mentions-{facts.day}.png", f"Mentions by hour, {facts.day}"
                upload(postlog, f"{slot} chart", posted.channel, name, chart, title,
                       thread_ts=posted.message_id, alt_text=ALT_TEXT)  # fmt: skip
        except SinkError as exc:
            errors.append(f"sink {sink.name}: the day's message: {exc}")
    return errors
