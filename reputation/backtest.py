"""Backtests: replay rules over stored mentions to see what they would have sent.

The replay runs on a throwaway copy of the database (`VACUUM INTO`), with the ledger,
incidents and silences emptied and no sinks, so nothing is sent and the real store is never
touched. Mentions created before `since` are history the rules can look back on; those after
are replayed in event time. Periodic rules (flatline) are checked once, at `now`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from reputation.engine import Policy, evaluate_rules
from reputation.ruleset import Rule
from reputation.store import Store


def backtest(
    database: Path | str, rules: Sequence[Rule], since: timedelta, now: datetime, policy: Policy
) -> dict[str, dict[str, Any]]:
    """Per rule: alerts and incidents it would have produced since `now - since`, per UTC
    day, with up to three examples."""
    start = now - since
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "backtest.db"
        source = Store.open(database)
        try:
            source.copy_to(copy)
        finally:
            source.close()
        store = Store.open(copy)
        try:
            _reset(store, start)
            evaluate_rules(store, rules, [], now, policy)
            return {rule.name: _report(store, rule.name) for rule in rules}
        finally:
            store.close()


def _reset(store: Store, start: datetime) -> None:
    with store.transaction():
        store.ledger.clear()
        store.evaluate_again_since(start)


def _report(store: Store, rule: str) -> dict[str, Any]:
    alerts = store.ledger.alerts_of_rule(rule)
    per_day: dict[str, dict[str, Any]] = {}
    for alert in alerts:
        day = per_day.setdefault(alert["event_at"][:10], {"alerts": 0, "incidents": set()})
        day["alerts"] += 1
        if alert["incident_id"] is not None:
            day["incidents"].add(alert["incident_id"])
    return {
        "alerts": len(alerts),
        "incidents": len({a["incident_id"] for a in alerts if a["incident_id"] is not None}),
        "per_day": {
            d: {"alerts": v["alerts"], "incidents": len(v["incidents"])}
            for d, v in sorted(per_day.items())
        },
        "examples": [
            {
                "event_at": a["event_at"],
                "severity": a["severity"],
                "summary": a["summary"],
                "reasons": a["reasons"][:4],
            }
            for a in alerts[:3]
        ],
    }
