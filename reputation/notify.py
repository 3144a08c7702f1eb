"""Delivery from the alert ledger: each pending delivery is sent once and recorded."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reputation.sinks import SINKS, Sink, SinkError, SinkUnavailable
from reputation.store import Store


@dataclass
class NotifyResult:
    """How many deliveries went out this run, and what failed."""

    sent: int = 0
    errors: list[str] = field(default_factory=list)


def build_sinks(
    configs: Sequence[Any], env: Mapping[str, str], factories: Mapping[str, Callable] | None = None
) -> tuple[list[Sink], list[str]]:
    """Instantiate configured sinks (`factories` overrides by type); a sink that cannot run is
    skipped with one warning."""
    sinks: list[Sink] = []
    warnings: list[str] = []
    for config in configs:
        factory = (factories or {}).get(config.type) or SINKS[config.type]
        try:
            sinks.append(factory(config.name, config.options, env))
        except SinkUnavailable as exc:
            warnings.append(f"sink {config.name!r} skipped: {exc}; its alerts are not queued")
    return sinks, warnings


def deliver(store: Store, sinks: Sequence[Sink], now: datetime, chunk: int = 100) -> NotifyResult:
    """Send every pending delivery of each sink; a failing sink never stops the others."""
    result = NotifyResult()
    for sink in sinks:
        try:
            _deliver_to(store, sink, now, chunk, result)
        finally:
            sink.flush()
    return result


def _deliver_to(store: Store, sink: Sink, now: datetime, chunk: int, result: NotifyResult) -> None:
    """One pass over the sink's queue, oldest first: each pending delivery is tried once."""
    blocked: set[str] = set()  # routes whose channel refused us this run
    after: tuple[str, str, str] | None = None
    while batch := store.pending_deliveries(sink.name, chunk, after):
        last = batch[-1]
        after = (last["created_at"], last["event_at"], last["fingerprint"])
        for alert in batch:
            if (alert["route"] or "") in blocked:
                continue
            try:
                delivered = sink.send(alert, store.evidence(alert["fingerprint"]))
            except SinkError as exc:
                result.errors.append(f"sink {sink.name}: alert {alert['fingerprint'][:12]}: {exc}")
                store.mark_undelivered(
                    alert["fingerprint"], sink.name, str(exc), exc.permanent, now
                )
                if exc.scope == "sink":
                    return  # the service is down or refuses us: leave the rest pending
                if exc.scope == "channel":
                    blocked.add(alert["route"] or "")
                continue
            store.mark_delivered(
                alert["fingerprint"], sink.name, delivered.message_id, delivered.channel, now
            )
            result.sent += 1
