"""Rules, table-driven: `any` and `frequency`, where-conditions, realert and escalation."""

from __future__ import annotations

from pathlib import Path

import pytest

from reputation.engine import evaluate_rules, load_rules
from reputation.store import Store
from reputation.validate import Checker
from tests.conftest import NOW, scored


def rules_from(tmp_path: Path, text: str):
    (tmp_path / "rule.yaml").write_text(text)
    check = Checker(tmp_path)
    rules = load_rules(tmp_path, check)
    assert check.errors == []
    return rules


ANY = "name: neg\ntype: any\nwhere: {sentiment: {lte: -0.5}}\n"
FREQ = (
    "name: burst\ntype: frequency\nwhere: {sentiment: {lte: -0.05}}\n"
    "num_events: 3\ntimeframe: 30m\nquery_key: brand\nrealert: 1h\n"
)

CASES = [
    # (rule, mentions as (minute, sentiment[, brand]), alerts expected)
    ("any fires per matching mention", ANY, [(0, -0.9), (1, -0.2), (2, -0.6)], 2),
    ("any ignores everything else", ANY, [(0, 0.3), (1, -0.49)], 0),
    ("frequency fires at N in window", FREQ, [(0, -0.5), (10, -0.5), (20, -0.5)], 1),
    ("frequency needs N", FREQ, [(0, -0.5), (10, -0.5), (20, 0.5)], 0),
    ("frequency window is the timeframe", FREQ, [(0, -0.5), (20, -0.5), (40, -0.5), (80, -0.5)], 0),
    ("frequency realerts once per hour", FREQ, [(m, -0.5) for m in range(0, 150, 5)], 3),
    (
        "frequency counts per query_key",
        FREQ,
        [(0, -0.5, "A"), (1, -0.5, "B"), (2, -0.5, "A"), (3, -0.5, "B"), (4, -0.5, "A")],
        1,
    ),
]


@pytest.mark.parametrize(
    ("label", "rule", "mentions", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_rule_table(
    tmp_path: Path, store: Store, label: str, rule: str, mentions: list[tuple], expected: int
) -> None:
    rules = rules_from(tmp_path, rule)
    for i, (minute, sentiment, *brand) in enumerate(mentions):
        scored(store, str(i), minute, sentiment, brand=brand[0] if brand else "Acme Air")
    assert evaluate_rules(store, rules, ["console"], NOW) == expected
    assert store._rows("SELECT COUNT(*) AS n FROM alerts") == [{"n": expected}]
    assert evaluate_rules(store, rules, ["console"], NOW) == 0  # nothing is evaluated twice


WHERE = [
    ("{sentiment: -0.5}", True),
    ("{sentiment: {ne: -0.5}}", False),
    ("{sentiment: {gt: -0.6, lt: -0.4}}", True),
    ("{sentiment: {gte: -0.4}}", False),
    ("{source: [x, reddit]}", True),
    ("{source: {not_in: [x]}}", False),
    ("{text: {contains: TEXT}}", True),
    ("{author_followers: {gte: 10000}}", False),
    ("{any: [{author_followers: {gte: 10000}}, {engagement: {gte: 100}}]}", True),
    ("{all: [{source: x}, {engagement: {gte: 101}}]}", False),
    ("{not: {brand: Acme Air}}", False),
    ("{text: {lt: 3}}", False),
]


@pytest.mark.parametrize(("where", "fires"), WHERE)
def test_where_conditions(tmp_path: Path, store: Store, where: str, fires: bool) -> None:
    rules = rules_from(tmp_path, f"name: w\ntype: any\nwhere: {where}\n")
    scored(store, "1", 0, -0.5, followers=100, likes=100)
    assert evaluate_rules(store, rules, ["console"], NOW) == int(fires)


def test_growth_escalates_once_to_critical(tmp_path: Path, store: Store) -> None:
    rules = rules_from(tmp_path, ANY + "severity: {warning: 0, critical: 0.75}\nrealert: 24h\n")
    scored(store, "1", 0, -0.8, severity=0.5)
    assert evaluate_rules(store, rules, ["console"], NOW) == 1
    scored(store, "1", 0, -0.8, severity=0.6, version=2)  # grew, still a warning
    assert evaluate_rules(store, rules, ["console"], NOW) == 0
    scored(store, "1", 0, -0.8, severity=0.9, version=3)  # crossed into critical
    assert evaluate_rules(store, rules, ["console"], NOW) == 1
    scored(store, "1", 0, -0.8, severity=0.95, version=4)
    assert evaluate_rules(store, rules, ["console"], NOW) == 0
    alerts = {a["severity"]: a["summary"] for a in store._rows("SELECT * FROM alerts")}
    assert sorted(alerts) == ["critical", "warning"]
    assert alerts["critical"].startswith("Escalated to critical: ")
    assert not alerts["warning"].startswith("Escalated")


def test_alerts_are_pending_per_sink_with_their_evidence(tmp_path: Path, store: Store) -> None:
    rules = rules_from(tmp_path, FREQ)
    for i in range(3):
        scored(store, str(i), i, -0.5)
    evaluate_rules(store, rules, ["console", "slack"], NOW)
    [alert] = store._rows("SELECT fingerprint, status, rule FROM alerts")
    assert (alert["status"], alert["rule"]) == ("pending", "burst")
    sinks = store._rows("SELECT sink, status FROM deliveries ORDER BY sink")
    assert sinks == [
        {"sink": "console", "status": "pending"},
        {"sink": "slack", "status": "pending"},
    ]
    assert len(store.ledger.evidence(alert["fingerprint"])) == 3


def test_unknown_rule_type_and_option_are_errors(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("name: a\ntype: spike-ish\n")
    (tmp_path / "b.yaml").write_text("name: b\ntype: any\nnum_events: 3\n")
    (tmp_path / "c.yaml").write_text("name: a\ntype: any\n")
    (tmp_path / "d.yaml").write_text("name: a\ntype: any\n")
    check = Checker(tmp_path)
    rules = load_rules(tmp_path, check)
    assert check.errors == [
        f"{tmp_path / 'a.yaml'}: type: 'spike-ish' is not a rule type (any, frequency, spike,"
        " flatline, new_term)",
        f"{tmp_path / 'b.yaml'}.num_events: unknown key (expected one of: description, enabled,"
        " name, query_key, realert, route, severity, type, where)",
        # A name is taken by the first file that gives it, even one with other errors, so
        # every duplicate is reported with them rather than once they are fixed.
        f"{tmp_path / 'c.yaml'}: name: 'a' is already used by {tmp_path / 'a.yaml'}",
        f"{tmp_path / 'd.yaml'}: name: 'a' is already used by {tmp_path / 'a.yaml'}",
    ]
    assert rules == []
