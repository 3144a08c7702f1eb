"""The ledger's own queries: the incident lookups the grouping and inhibition share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reputation.store import Store

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_incident_of_category_finds_the_latest_active_one_and_critical_only_if_asked(
    store: Store,
) -> None:
    ledger = store.ledger
    early = ledger.open_incident("Acme Air", "outage_bug", "critical", "t", None, T0, T0)
    late = ledger.open_incident("Acme Air", "outage_bug", "warning", "t", None, T0 + HOUR, T0)
    ledger.open_incident("Acme Air", "legal", "critical", "t", None, T0 + HOUR, T0)
    ledger.open_incident("Globex", "outage_bug", "critical", "t", None, T0 + HOUR, T0)

    def found(start: datetime, end: datetime, critical: bool = False) -> int | None:
        row = ledger.incident_of_category("Acme Air", "outage_bug", start, end, critical=critical)
        return None if row is None else row["id"]

    assert found(T0, T0 + 2 * HOUR) == late
    assert found(T0, T0 + 2 * HOUR, critical=True) == early
    assert found(T0 + timedelta(minutes=30), T0 + 2 * HOUR, critical=True) is None
    assert found(T0 - 2 * HOUR, T0 - HOUR) is None  # not yet opened


def test_json_columns_arrive_decoded_and_every_rule_field_is_a_row_key(store: Store) -> None:
    from typing import get_type_hints

    from reputation import models
    from reputation.models import Alert, Mention, Score, ScoredMention
    from reputation.store import ROW_FIELDS

    # Rule files are checked against the models' names, SQL against the store's columns.
    assert set(get_type_hints(ScoredMention)) == ROW_FIELDS == models.ROW_FIELDS
    mention = Mention("x", "1", "Acme Air", "Acme Air lost my bag", T0, observed_at=T0)
    store.save_batch("file", [mention], T0)
    store.save_scores([(Score("x:1", -0.5, 0.9, 0.7, 0.1, 0.0, "lost_damaged", ("a → b",)), 1)], T0)
    [row] = store.unevaluated()
    assert row["reasons"] == ["a → b"]
    incident = store.ledger.open_incident("Acme Air", "lost_damaged", "warning", "t", None, T0, T0)
    alert = Alert("f" * 32, "r", "warning", "Acme Air", "s", "g", T0, reasons=("why", "a → b"),
                  evidence=("x:1",), labels={"brand": "Acme Air", "group": "g"})  # fmt: skip
    assert store.ledger.record_alert(alert, ["console"], T0, incident_id=incident)
    [stored] = store.ledger.alerts()
    assert stored["reasons"] == ["why", "a → b"]
    assert stored["labels"] == {"brand": "Acme Air", "group": "g"}
    [owed] = store.ledger.claim_deliveries("console", "test", T0, HOUR)
    assert (owed["reasons"], owed["sink"], owed["incident_id"]) == (stored["reasons"], "console",
                                                                    incident)  # fmt: skip
    assert [r["reasons"] for r in store.ledger.evidence("f" * 32)] == [["a → b"]]
    assert [r["reasons"] for r in store.ledger.incident_evidence(incident)] == []
    [reported] = store.ledger.alerts_of_rule("r")
    assert reported["reasons"] == ["why", "a → b"]
    [[day]] = list(store.ledger.day_report(T0, T0 + HOUR))
    assert (day["key"], day["reasons"], day["alert_status"]) == ("x:1", ["a → b"], "pending")


def test_forgetting_more_than_one_chunk_of_mentions_reaches_every_alert_they_cite(
    store: Store,
) -> None:
    from reputation.models import Alert

    ledger = store.ledger
    incident = ledger.open_incident("Acme Air", "other", "warning", "t", None, T0, T0)
    keys = [f"x:{i}" for i in range(1100)]  # the IN lists go 500 keys at a time
    for n, cited in enumerate((keys[10], keys[1050])):
        alert = Alert(f"{n}" * 32, "r", "warning", "Acme Air", "s", f"g{n}", T0,
                      reasons=("rule", "post"), evidence=(cited,))  # fmt: skip
        assert ledger.record_alert(alert, ["console"], T0, incident_id=incident)
    done = ledger.forget_evidence(keys, "ann", lambda text: text, T0 + HOUR)
    assert (done["alerts_redacted"], done["alerts_muted"]) == (2, 2)
    assert {a["status"] for a in ledger.alerts()} == {"muted"}


def test_the_alerts_of_more_than_500_groups_are_all_found(store: Store) -> None:
    from reputation.models import Alert

    groups = [f"r|Acme Air|author{i:04d}" for i in range(1001)]  # read 500 groups at a time
    incident = store.ledger.open_incident("Acme Air", "other", "warning", "t", None, T0, T0)
    for n, group in enumerate((groups[0], groups[500], groups[1000])):
        alert = Alert(f"{n}" * 32, "r", "warning", "Acme Air", "s", group, T0 + n * HOUR)
        assert store.ledger.record_alert(alert, ["console"], T0, incident_id=incident)
    found = store.ledger.alerts_of_groups(groups, T0, T0 + 3 * HOUR)
    assert sorted(r["group_key"] for r in found) == [groups[0], groups[500], groups[1000]]
