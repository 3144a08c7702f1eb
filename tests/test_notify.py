"""Delivery from the ledger: one sink's failure, of any kind, never stops the run or another
sink; the ledger says what each sink got."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import pytest

import reputation.sinks
from reputation.config import load_config
from reputation.models import IncidentMessage
from reputation.pipeline import run_once
from reputation.sinks.base import Delivered, IncidentView
from reputation.store import Store
from reputation.validate import Field
from tests.conftest import NOW


class RecordingSink:
    """Keeps what it is shown; `fail_on` makes one of its methods raise `error`."""

    type: ClassVar[str] = "recording"
    OPTIONS: ClassVar[Mapping[str, Field]] = {"fail_on": Field("str", default="")}
    shown: ClassVar[list[tuple[str, str, int]]] = []
    error: ClassVar[BaseException] = RuntimeError("boom")

    def __init__(self, name: str, options: Mapping[str, Any], env: Mapping[str, str]) -> None:
        self.name = name
        self.fail_on = options.get("fail_on", "")
        if self.fail_on == "init":
            raise self.error

    def _show(self, kind: str, view: IncidentView) -> Delivered:
        if self.fail_on == kind:
            raise self.error
        self.shown.append((self.name, kind, view.incident["id"]))
        return Delivered(message_id=f"{self.name}-{view.incident['id']}", channel="c")

    def post(self, view: IncidentView) -> Delivered:
        return self._show("post", view)

    def update(self, view: IncidentView, message: IncidentMessage) -> Delivered:
        return self._show("update", view)

    def escalate(self, view: IncidentView, message: IncidentMessage | None) -> Delivered:
        return self._show("escalate", view)

    def flush(self) -> None:
        if self.fail_on == "flush":
            raise self.error


@pytest.fixture
def recording(monkeypatch: pytest.MonkeyPatch) -> type[RecordingSink]:
    monkeypatch.setitem(reputation.sinks.SINKS, "recording", RecordingSink)
    RecordingSink.shown = []
    return RecordingSink


def two_complaints(make_record: Callable) -> list[dict]:
    """Two viral complaints five hours apart: two alerts, two incidents."""
    return [
        make_record(f"Acme Air is terrible, awful service #{i}", minutes=i * 300,
                    author=f"big{i}", author_followers=50_000)
        for i in range(2)
    ]  # fmt: skip


def deliveries(path: Any) -> dict[str, list[tuple[str, str | None]]]:
    store = Store.open(load_config(path).database)
    try:
        rows = store._rows("SELECT sink, status, last_error FROM deliveries ORDER BY fingerprint")
    finally:
        store.close()
    found: dict[str, list[tuple[str, str | None]]] = {}
    for row in rows:
        found.setdefault(row["sink"], []).append((row["status"], row["last_error"]))
    return found


SINKS = [
    {"type": "recording", "name": "bad"},
    {"type": "recording", "name": "good"},
]


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyError("author"), RecursionError()])
def test_a_sink_that_crashes_fails_its_incidents_and_starves_no_one(
    recording: type[RecordingSink],
    workspace: Callable,
    make_record: Callable,
    monkeypatch: pytest.MonkeyPatch,
    error: BaseException,
) -> None:
    monkeypatch.setattr(RecordingSink, "error", error)
    sinks = [{**SINKS[0], "fail_on": "post"}, SINKS[1]]
    path = workspace(two_complaints(make_record), sinks=sinks)
    summary = run_once(load_config(path), now=NOW)  # does not raise
    name = type(error).__name__
    assert [e.split(": ", 2)[:2] for e in summary.errors] == [
        ["sink bad", "incident #1"],
        ["sink bad", "incident #2"],
    ]
    assert all(f"crashed: {name}" in e for e in summary.errors)
    assert [(s, k) for s, k, _ in recording.shown] == [("good", "post"), ("good", "post")]
    found = deliveries(path)
    assert [status for status, _ in found["good"]] == ["sent", "sent"]
    assert [status for status, _ in found["bad"]] == ["failed", "failed"]
    assert all(f"crashed: {name}" in (error or "") for _, error in found["bad"])
    assert (summary.sent, summary.failed, summary.pending) == (0, 2, 0)


def test_a_sink_that_crashes_in_flush_or_at_start_is_reported_and_waits(
    recording: type[RecordingSink], workspace: Callable, make_record: Callable
) -> None:
    sinks = [{**SINKS[0], "fail_on": "init"}, {**SINKS[1], "fail_on": "flush"}]
    path = workspace(two_complaints(make_record), sinks=sinks)
    summary = run_once(load_config(path), now=NOW)
    assert summary.errors == [
        "sink bad: could not start: RuntimeError: boom; alerts wait",
        "sink good: crashed in flush: RuntimeError: boom",
    ]
    found = deliveries(path)
    assert [status for status, _ in found["good"]] == ["sent", "sent"]
    assert [status for status, _ in found["bad"]] == ["pending", "pending"]  # queued for it
    RecordingSink.shown = []
    sinks = [SINKS[0], SINKS[1]]  # fixed: the queued alerts reach it, nothing twice
    summary = run_once(load_config(workspace(None, sinks=sinks)), now=NOW)
    assert (summary.errors, summary.sent, summary.pending) == ([], 2, 0)
    assert [(s, k) for s, k, _ in RecordingSink.shown] == [("bad", "post"), ("bad", "post")]


OUTCOMES = [
    ("sent", "sent", "sent"),
    ("sent", "pending", "pending"),
    ("sent", "failed", "failed"),
    ("pending", "failed", "pending"),
    ("failed", "failed", "failed"),
]


@pytest.mark.parametrize(("first", "second", "status"), OUTCOMES)
def test_an_alert_is_sent_only_when_every_sink_has_it(
    store: Store, first: str, second: str, status: str
) -> None:
    from reputation.models import Alert

    ledger = store.ledger
    incident = ledger.open_incident("Acme Air", "other", "warning", "t", None, NOW, NOW)
    alert = Alert("f" * 32, "r", "warning", "Acme Air", "s", "g", NOW)
    assert ledger.record_alert(alert, ["a", "b"], NOW, incident_id=incident)
    for sink, outcome in (("a", first), ("b", second)):
        if outcome == "sent":
            ledger.mark_delivered(alert.fingerprint, sink, "ts", "C1", NOW)
        else:
            ledger.mark_undelivered(alert.fingerprint, sink, "no", outcome == "failed", NOW)
    [row] = ledger.alerts()
    assert row["status"] == status
    assert (row["sent_at"] is not None) is (status == "sent")


def test_alerts_retry_puts_failed_alerts_and_their_deliveries_back_in_the_queue(
    recording: type[RecordingSink], workspace: Callable, make_record: Callable,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    from reputation.cli import main

    path = workspace(two_complaints(make_record), sinks=[{**SINKS[0], "fail_on": "post"}])
    assert run_once(load_config(path), now=NOW).failed == 2
    assert main(["alerts", "retry", "--config", str(path)]) == 0
    assert "requeued 2 failed delivery(ies)" in capsys.readouterr().out
    store = Store.open(load_config(path).database)
    try:
        assert store.ledger.alert_counts() == {"pending": 2, "sent": 0, "failed": 0, "muted": 0}
    finally:
        store.close()
    assert main(["alerts", "--status", "pending", "--config", str(path)]) == 0
    assert capsys.readouterr().out.count("  pending  ") == 2


def test_a_crash_outside_the_sink_is_reported_and_its_traceback_logged_for_v(
    store: Store, recording: type[RecordingSink], monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    from reputation.notify import deliver

    def broken(*args: object) -> list[int]:
        raise RuntimeError("ledger trouble")

    monkeypatch.setattr(store.ledger, "incidents_owing_escalation", broken)
    with caplog.at_level(logging.DEBUG, logger="reputation"):
        result = deliver(store, [recording("r", {}, {})], NOW)
    assert result.errors == ["sink r: crashed: RuntimeError: ledger trouble"]
    [crash] = [r for r in caplog.records if r.getMessage() == "sink r crashed"]
    assert crash.exc_info is not None and crash.exc_info[0] is RuntimeError
