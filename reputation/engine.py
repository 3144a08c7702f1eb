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

if TYPE_CHECKING:  # only a type here: config imports this module, and must not load the store
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
    while rows := store.unevaluated(chunk):
        with store.transaction():
            for row in rows:
                for rule in rules:
                    if rule.matches(row):
                        for firing in RULE_TYPES[rule.type].fire(rule, row, store):
                            created += _record(store, rule, firing, sinks, now, policy, active)
            store.mark_evaluated([r["key"] for r in rows])
        crash_point("rules")  # a test hook (decision 140)
    for rule in rules:
        found = RULE_TYPES[rule.type].scan(rule, store, now)
        with store.transaction():
            for firing in found.firings:
                created += _record(store, rule, firing, sinks, now, policy, active)
            for brand, value in found.cleared:
                store.ledger.resolve_alerts(_group_key(rule, brand, value), now)
    with store.transaction():
        close_quiet(store.ledger, now, policy.incidents)
    return created


def _record(
    store: Store, rule: Rule, firing: Firing, sinks: Sequence[str], now: datetime,
    policy: Policy, active: list[Silence],
) -> int:  # fmt: skip
    severity = max((r["severity"] for r in firing.evidence), default=0.0)
    level = rule.level(severity)
    group_key = _group_key(rule, firing.brand, firing.group_value)
    rank = SEVERITY_LEVELS.index(level)
    ledger = store.ledger
    nearby = ledger.group_alerts(
        group_key, firing.event_at - rule.realert, firing.event_at + rule.realert
    )
    if any(SEVERITY_LEVELS.index(a["severity"]) >= rank for a in nearby):
        return 0  # already alerted at this level or above within `realert`
    route = policy.routes.route(rule.route, level)
    alert = _alert(rule, firing, level, group_key, bool(nearby), route)
    if ledger.has_alert(alert.fingerprint):
        return 0
    category = category_of(firing.evidence)
    window = policy.incidents.window
    muted = mute_reason(ledger, alert, category, now, policy.routes, window, active)
    incident = None if muted else attach(ledger, alert, firing.evidence, now, policy.incidents)
    return int(ledger.record_alert(alert, sinks, now, incident, muted))


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
