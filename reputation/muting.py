"""Muting, in alertmanager's order: silences, quiet hours per route, inhibition.

A muted alert is still recorded (status `muted`, with the reason) and appears in the digest;
it is just not sent. Silences and quiet hours are wall-clock; inhibition is event time (a
critical incident of the brand and category active when the alert happened).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from reputation.categories import CATEGORIES
from reputation.incidents import PIPELINE
from reputation.models import SEVERITY_LEVELS, Alert, Silence

if TYPE_CHECKING:  # only a type here: config imports this module, and must not load the store
    from reputation.ledger import Ledger

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


def check_matchers(
    matchers: Mapping[str, str],
    brands: Iterable[str],
    rules: Iterable[str],
    routes: Iterable[str],
) -> list[str]:
    """Problems with matchers that could never match an alert: an unknown brand (compared
    ignoring case), rule, severity, category or route, each named with what is known."""
    known = {
        "brand": sorted(set(brands)),
        "rule": sorted(set(rules)),
        "severity": list(SEVERITY_LEVELS),
        "category": [*CATEGORIES, PIPELINE],
        "route": sorted(set(routes)),
    }
    problems = []
    for key, value in matchers.items():
        choices = known[key]
        if not any(_matches(key, value, choice) for choice in choices):
            listed = ", ".join(choices) if choices else "none is configured"
            problems.append(f"{key}={value!r} can never match: no such {key} (known: {listed})")
    return problems


def silenced_by(active: Iterable[Silence], labels: Mapping[str, str]) -> Silence | None:
    """The first silence whose matchers all match `labels` (brand ignoring case), if any."""
    for silence in active:
        if all(_matches(key, want, labels.get(key)) for key, want in silence["matchers"].items()):
            return silence
    return None


def silence_reason(silence: Silence) -> str:
    """How a muted alert names the silence that muted it."""
    comment = f": {silence['comment']}" if silence["comment"] else ""
    return f"silenced by #{silence['id']}{comment}"


def _matches(key: str, want: str, have: str | None) -> bool:
    if have is None:
        return False
    return want.casefold() == have.casefold() if key == "brand" else want == have


def mute_reason(
    ledger: Ledger,
    alert: Alert,
    category: str,
    now: datetime,
    routes: Routes,
    window: timedelta,
    active: list[Silence],
) -> str | None:
    """Why `alert` must not be sent, or None to send it (`active`: the silences in force)."""
    labels = {"brand": alert.brand, "rule": alert.rule, "severity": alert.severity,
              "category": category, "route": alert.route or ""}  # fmt: skip
    silence = silenced_by(active, labels)
    if silence is not None:
        return silence_reason(silence)
    if alert.severity == "critical":
        return None  # critical passes through quiet hours and inhibition
    quiet = routes.quiet.get(alert.route or "")
    if quiet is not None and quiet.covers(now):
        return f"quiet hours on {alert.route}"
    if category != PIPELINE:
        start, end = alert.event_at - window, alert.event_at + window
        critical = ledger.incident_of_category(alert.brand, category, start, end, critical=True)
        if critical is not None:
            return f"inhibited by critical incident #{critical['id']}"
    return None
