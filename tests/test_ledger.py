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
