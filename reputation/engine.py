"""The rule engine: evaluates scored mentions against the rules and records alerts."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from reputation.crashpoint import crash_point
from reputation.incidents import IncidentSettings, attach, category_of, close_quiet
from reputation.models import SEVERITY_LEVELS, Alert, Silence
from reputation.muting import Routes, mute_reason
from reputation.ruleset import Rule, load_rules
from reputation.ruletypes import RULE_TYPES, Firing
from reputation.timeutil import iso
from reputation.windows import Windows

if TYPE_CHECKING:  # only a type here: config imports this module, and must not load the store
    from reputation.ledger import Ledger
    from reputation.models import ScoredMention
    from reputation.store import Store

__all__ = ["RULE_TYPES", "Policy", "Rule", "evaluate_rules", "load_rules"]


@dataclass(frozen=True)
class Policy:
    """How alerts become incidents and where they go: incident grouping and routes."""

    incidents: IncidentSettings = field(default_factory=IncidentSettings)
    routes: Routes = field(default_factory=Routes)


def evaluate_rules(
    store: Store, rules: Sequence[Rule], sinks: Sequence[str], now: datetime,
    policy: Policy | None = None, chunk: int = 500,
) -> int:  # fmt: skip
    """Run every rule over newly scored mentions, then the periodic rules; record alerts
    (pending, or muted) in incidents. Return how many were created."""
    policy = policy or Policy()
    active = store.ledger.silences(now)  # read once: a run's alerts all face the same silences
    created = 0
    windows = Windows(store)
    while rows := store.unevaluated(chunk):
        windows.next_batch()
        found = _fire(rules, rows, windows)
        with store.transaction():
            realert = Realert(store.ledger, found)
            for rule, firing in found:
                created += _record(store, rule, firing, sinks, now, policy, active, realert)
            store.mark_evaluated([r["key"] for r in rows])
        crash_point("rules")  # a test hook (decision 140)
    for rule in rules:
        scan = RULE_TYPES[rule.type].scan(rule, store, now)
        with store.transaction():
            realert = Realert(store.ledger, [(rule, firing) for firing in scan.firings])
            for firing in scan.firings:
                created += _record(store, rule, firing, sinks, now, policy, active, realert)
            for brand, value in scan.cleared:
                store.ledger.resolve_alerts(_group_key(rule, brand, value), now)
    with store.transaction():
        close_quiet(store.ledger, now, policy.incidents)
    return created


def _fire(
    rules: Sequence[Rule], rows: Sequence[ScoredMention], windows: Windows
) -> list[tuple[Rule, Firing]]:
    """Every firing of a batch, in the order of a mention at a time (each row, each rule in
    turn): rule types read nothing the ledger holds, so each fires on the batch at once."""
    per_row: list[list[tuple[Rule, Firing]]] = [[] for _ in rows]
    for rule in rules:
        members = [i for i, row in enumerate(rows) if rule.matches(row)]
        if members:
            fired = RULE_TYPES[rule.type].fire_batch(rule, [rows[i] for i in members], windows)
            for i, firings in zip(members, fired, strict=True):
                per_row[i].extend((rule, firing) for firing in firings)
    return [pair for pairs in per_row for pair in pairs]


class Realert:
    """The alerts of a batch's groups near its firings, read in one query, and the batch's
    own alerts added as they are recorded: `realert` checks without a query per firing."""

    def __init__(self, ledger: Ledger, found: Sequence[tuple[Rule, Firing]]):
        keys = {_group_key(r, f.brand, f.group_value) for r, f in found}
        starts = [f.event_at - r.realert for r, f in found]
        ends = [f.event_at + r.realert for r, f in found]
        self._alerts: dict[str, list[tuple[str, str]]] = {k: [] for k in keys}
        if keys:
            for row in ledger.alerts_of_groups(sorted(keys), min(starts), max(ends)):
                self._alerts[row["group_key"]].append((row["event_at"], row["severity"]))

    def nearby(self, group_key: str, start: datetime, end: datetime) -> list[str]:
        """Severities of the group's alerts with event time in [start, end]."""
        lo, hi = iso(start), iso(end)
        return [level for at, level in self._alerts[group_key] if lo <= at <= hi]

    def add(self, group_key: str, event_at: datetime, level: str) -> None:
        """An alert just recorded."""
        self._alerts[group_key].append((iso(event_at), level))


def _record(
    store: Store, rule: Rule, firing: Firing, sinks: Sequence[str], now: datetime,
    policy: Policy, active: list[Silence], realert: Realert,
) -> int:  # fmt: skip
    severity = firing.severity
    if severity is None:
        severity = max((r["severity"] for r in firing.evidence), default=0.0)
    level = rule.level(severity)
    group_key = _group_key(rule, firing.brand, firing.group_value)
    rank = SEVERITY_LEVELS.index(level)
    ledger = store.ledger
    nearby = realert.nearby(
        group_key, firing.event_at - rule.realert, firing.event_at + rule.realert
    )
    if any(SEVERITY_LEVELS.index(a) >= rank for a in nearby):
        return 0  # already alerted at this level or above within `realert`
    route = policy.routes.route(rule.route, level)
    alert = _alert(rule, firing, level, group_key, bool(nearby), route)
    if ledger.has_alert(alert.fingerprint):
        return 0
    category = category_of(firing.evidence)
    window = policy.incidents.window
    muted = mute_reason(ledger, alert, category, now, policy.routes, window, active)
    incident = None if muted else attach(ledger, alert, firing.evidence, now, policy.incidents)
    recorded = ledger.record_alert(alert, sinks, now, incident, muted)
    if recorded:
        realert.add(group_key, firing.event_at, level)
    return int(recorded)


def _group_key(rule: Rule, brand: str, value: str) -> str:
    return f"{rule.name}|{brand}|{value}"


def _alert(
    rule: Rule, firing: Firing, level: str, group_key: str, escalated: bool, route: str | None
) -> Alert:
    fingerprint = hashlib.sha256(
        "\x1f".join((rule.name, firing.brand, firing.group_value, level, firing.anchor)).encode()
    ).hexdigest()[:32]
    top = max(firing.evidence, key=lambda r: r["severity"], default=None)
    summary = f"Escalated to {level}: {firing.summary}" if escalated else firing.summary
    return Alert(
        fingerprint=fingerprint,
        rule=rule.name,
        severity=level,
        brand=firing.brand,
        summary=summary,
        group_key=group_key,
        event_at=firing.event_at,
        route=route,
        reasons=(*firing.reasons, *(top["reasons"] if top else ())),
        evidence=tuple(r["key"] for r in firing.evidence),
        labels={"brand": firing.brand, "group": firing.group_value, "rule_type": rule.type},
    )
