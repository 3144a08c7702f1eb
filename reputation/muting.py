"""Muting, in alertmanager's order: silences, quiet hours per route, inhibition.

A muted alert is still recorded (status `muted`, with the reason) and appears in the digest;
it is just not sent. Silences and quiet hours are wall-clock; inhibition is event time (a
critical incident of the brand and category active when the alert happened).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from reputation.incidents import PIPELINE
from reputation.models import Alert
from reputation.store import Store
from reputation.timeutil import iso

SILENCE_KEYS = ("brand", "rule", "severity", "category", "route")


@dataclass(frozen=True)
class QuietHours:
    """A daily span, in a time zone, when a route gets only critical alerts."""

    start: time
    end: time
    zone: ZoneInfo

    def covers(self, moment: datetime) -> bool:
        """Whether `moment` falls in the span (which may run past midnight)."""
        local = moment.astimezone(self.zone).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


@dataclass(frozen=True)
class Routes:
    """The `routes` config: a Slack channel per severity, and quiet hours per channel."""

    by_severity: Mapping[str, str] = field(default_factory=dict)
    quiet: Mapping[str, QuietHours] = field(default_factory=dict)

    def route(self, rule_route: str | None, severity: str) -> str | None:
        """A rule's own route, else the severity's default (None: the sink's channel)."""
        return rule_route or self.by_severity.get(severity)


def parse_matchers(pairs: list[str]) -> dict[str, str]:
    """`brand="Acme Air" rule=complaint-burst` (shell-split) into a matcher mapping."""
    matchers = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or key not in SILENCE_KEYS or not value:
            raise ValueError(
                f"{pair!r}: expected key=value with key one of {', '.join(SILENCE_KEYS)}"
            )
        matchers[key] = value.strip('"')
    if not matchers:
        raise ValueError("a silence needs at least one key=value matcher")
    return matchers


def add_silence(
    store: Store, matchers: Mapping[str, str], duration: timedelta, comment: str | None,
    now: datetime,
) -> int:  # fmt: skip
    """Mute alerts matching every matcher from now for `duration`; return the silence id."""
    cursor = store.db.execute(
        "INSERT INTO silences (matchers, starts_at, ends_at, comment, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        [json.dumps(dict(matchers), sort_keys=True), iso(now), iso(now + duration), comment,
         iso(now)],
    )  # fmt: skip
    return int(cursor.lastrowid)


def silences(store: Store, now: datetime, everything: bool = False) -> list[dict[str, Any]]:
    """Active silences (all of them with `everything`), newest first, matchers decoded."""
    sql = "SELECT * FROM silences"
    params: list[Any] = []
    if not everything:
        sql += " WHERE expired_at IS NULL AND starts_at <= ? AND ends_at > ?"
        params = [iso(now), iso(now)]
    rows = store.rows(sql + " ORDER BY id DESC", params)
    for row in rows:
        row["matchers"] = json.loads(row["matchers"])
    return rows


def expire_silence(store: Store, silence_id: int, now: datetime) -> bool:
    """End a silence now; False if there is no such active silence."""
    cursor = store.db.execute(
        "UPDATE silences SET expired_at = ? WHERE id = ? AND expired_at IS NULL AND ends_at > ?",
        [iso(now), silence_id, iso(now)],
    )
    return cursor.rowcount == 1


def mute_reason(
    store: Store,
    alert: Alert,
    category: str,
    now: datetime,
    routes: Routes,
    window: timedelta,
    active: list[dict[str, Any]],
) -> str | None:
    """Why `alert` must not be sent, or None to send it (`active`: the silences in force)."""
    labels = {"brand": alert.brand, "rule": alert.rule, "severity": alert.severity,
              "category": category, "route": alert.route or ""}  # fmt: skip
    for silence in active:
        if all(labels.get(k) == v for k, v in silence["matchers"].items()):
            comment = f": {silence['comment']}" if silence["comment"] else ""
            return f"silenced by #{silence['id']}{comment}"
    if alert.severity == "critical":
        return None  # critical passes through quiet hours and inhibition
    quiet = routes.quiet.get(alert.route or "")
    if quiet is not None and quiet.covers(now):
        return f"quiet hours on {alert.route}"
    if category != PIPELINE:
        start, end = alert.event_at - window, alert.event_at + window
        critical = store.critical_incident(alert.brand, category, start, end)
        if critical is not None:
            return f"inhibited by critical incident #{critical['id']}"
    return None
