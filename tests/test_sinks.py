"""Adding a sink is one class and one registry entry: a sink written to the documented
contract (docs/adding-a-sink.md) is configured, validated and delivered to with no other
change."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import pytest

import reputation.sinks
from reputation.config import ConfigError, load_config
from reputation.models import IncidentMessage
from reputation.pipeline import run_once
from reputation.sinks.base import Delivered, IncidentView, SinkUnavailable
from reputation.store import Store
from reputation.validate import Field, defaults
from tests.conftest import NOW


class MemorySink:
    """Keeps what it is shown, as a remote service would."""

    type: ClassVar[str] = "memory"
    OPTIONS: ClassVar[Mapping[str, Field]] = {
        "label": Field("str", required=True),
        "token_env": Field("env", default="MEMORY_TOKEN"),
        "timeout": Field("duration", default="5s"),
    }
    shown: ClassVar[list[tuple[str, str, int]]] = []

    def __init__(self, name: str, options: Mapping[str, Any], env: Mapping[str, str]) -> None:
        options = {**defaults(self.OPTIONS), **options}
        if not env.get(options["token_env"]):
            raise SinkUnavailable(f"environment variable {options['token_env']} is not set")
        self.name, self.label = name, options["label"]

    def post(self, view: IncidentView) -> Delivered:
        self.shown.append(("post", view.incident["title"], len(view.alerts)))
        return Delivered(message_id=f"m{view.incident['id']}", channel=self.label)

    def update(self, view: IncidentView, message: IncidentMessage) -> Delivered:
        self.shown.append(("update", view.incident["title"], len(view.alerts)))
        return Delivered(message_id=message["message_id"], channel=message["channel"])

    def escalate(self, view: IncidentView, message: IncidentMessage | None) -> Delivered:
        self.shown.append(("escalate", view.incident["title"], len(view.alerts)))
        return Delivered()

    def flush(self) -> None:
        """Nothing is buffered."""


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> type[MemorySink]:
    monkeypatch.setitem(reputation.sinks.SINKS, "memory", MemorySink)
    MemorySink.shown = []
    return MemorySink


def test_a_registered_sink_is_configured_and_delivered_to(
    registered: type[MemorySink], workspace: Callable, make_record: Callable,
) -> None:  # fmt: skip
    records = [make_record(f"Acme Air lost my bag, disgusting service #{i}", i,
                           author_followers=50_000) for i in range(2)]  # fmt: skip
    config = load_config(workspace(records, sinks=[{"type": "memory", "label": "ops"}]))
    summary = run_once(config, now=NOW, env={"MEMORY_TOKEN": "t"})
    assert summary.alerts >= 1 and summary.sent == summary.alerts
    assert summary.errors == [] and summary.warnings == []
    assert registered.shown and {kind for kind, _, _ in registered.shown} <= {"post", "update"}
    store = Store.open(config.database)
    try:
        assert store.ledger.alert_counts()["sent"] == summary.alerts
        [alert] = store.ledger.alerts(limit=1)
        message = store.ledger.incident_message(alert["incident_id"], "memory")
        assert message is not None and message["channel"] == "ops"
    finally:
        store.close()
    assert run_once(config, now=NOW, env={"MEMORY_TOKEN": "t"}).sent == 0  # nothing twice


def test_its_options_are_checked_and_a_missing_secret_skips_it(
    registered: type[MemorySink], workspace: Callable, make_record: Callable,
) -> None:  # fmt: skip
    with pytest.raises(ConfigError) as caught:
        load_config(workspace([], sinks=[{"type": "memory", "lable": "ops"}]))
    assert caught.value.errors == [
        "sinks[0].lable: unknown key (expected one of: label, name, timeout, token_env, type)",
        "sinks[0].label: is required",
    ]
    config = load_config(workspace([make_record("Acme Air is awful", 0)],
                                   sinks=[{"type": "memory", "label": "ops"}]))  # fmt: skip
    summary = run_once(config, now=NOW, env={})
    assert summary.warnings == [
        "sink 'memory' skipped: environment variable MEMORY_TOKEN is not set; its alerts are not"
        " queued"
    ]
    assert registered.shown == []
