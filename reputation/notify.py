"""Delivery from the alert ledger, an incident at a time: each sink posts an incident once,
then updates that message in place with one thread reply per run, and posts once more to
the critical route if the incident escalates. Every alert is marked sent only after its sink
confirmed it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, TypeVar

from reputation.ledger import Ledger
from reputation.models import IncidentSummary, PendingDelivery
from reputation.sinks import SINKS, IncidentView, Sink, SinkError, SinkUnavailable
from reputation.store import Store

if TYPE_CHECKING:
    from reputation.config import PluginConfig
    from reputation.models import IncidentMessage
    from reputation.sinks import Delivered
    from reputation.validate import Field

log = logging.getLogger("reputation")
T = TypeVar("T")


@dataclass
class NotifyResult:
    """How many alert deliveries went out this run, and what failed."""

    sent: int = 0
    errors: list[str] = field(default_factory=list)


def build_sinks(
    configs: Sequence[PluginConfig],
    env: Mapping[str, str],
    factories: Mapping[str, Callable[..., Sink]] | None = None,
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
        except Exception as exc:  # noqa: BLE001 - a sink's bug must not stop the run
            log.debug("sink %s could not start", config.name, exc_info=True)
            sinks.append(BrokenSink(config.name, _describe(exc)))
    return sinks, warnings


class BrokenSink:
    """Stands in for a sink whose construction crashed: its alerts are still queued for it
    and wait, pending, until it starts again; each run reports it in `errors`."""

    type: ClassVar[str] = "broken"
    OPTIONS: ClassVar[Mapping[str, Field]] = {}

    def __init__(self, name: str, error: str) -> None:
        self.name, self.error = name, error

    def post(self, view: IncidentView) -> Delivered:
        """Never called: deliver skips a broken sink."""
        raise SinkError(self.error)

    def update(self, view: IncidentView, message: IncidentMessage) -> Delivered:
        """Never called: deliver skips a broken sink."""
        raise SinkError(self.error)

    def escalate(self, view: IncidentView, message: IncidentMessage | None) -> Delivered:
        """Never called: deliver skips a broken sink."""
        raise SinkError(self.error)

    def flush(self) -> None:
        """Nothing to finish."""


def deliver(
    store: Store, sinks: Sequence[Sink], now: datetime, critical_route: str | None = None
) -> NotifyResult:
    """Send what each sink still owes, incident by incident; a failing sink never stops the
    others."""
    result = NotifyResult()
    for sink in sinks:
        if isinstance(sink, BrokenSink):
            result.errors.append(f"sink {sink.name}: could not start: {sink.error}; alerts wait")
            continue
        try:
            _deliver_to(store.ledger, sink, now, critical_route, result)
        except Exception as exc:  # noqa: BLE001 - one sink's bug never stops the others
            log.debug("sink %s crashed", sink.name, exc_info=True)
            result.errors.append(f"sink {sink.name}: crashed: {_describe(exc)}")
        finally:
            try:
                sink.flush()
            except Exception as exc:  # noqa: BLE001
                log.debug("sink %s crashed in flush", sink.name, exc_info=True)
                result.errors.append(f"sink {sink.name}: crashed in flush: {_describe(exc)}")
    return result


def _call(method: Callable[..., T], *args: object) -> T:
    """Call a sink; anything it raises but SinkError is a bug in it, which fails this
    incident's alerts for that sink (`alerts retry` requeues them) and nothing else."""
    try:
        return method(*args)
    except SinkError:
        raise
    except Exception as exc:  # noqa: BLE001 - one sink's bug never takes the run down
        log.debug("sink call %s crashed", getattr(method, "__qualname__", method), exc_info=True)
        raise SinkError(f"crashed: {_describe(exc)}", permanent=True, scope="alert") from exc


def _describe(exc: BaseException) -> str:
    """An unexpected exception in one line: its type and message."""
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _deliver_to(
    ledger: Ledger, sink: Sink, now: datetime, critical_route: str | None, result: NotifyResult
) -> None:
    """One pass over the sink's queue, grouped by incident, oldest first."""
    blocked: set[str] = set()  # routes whose channel refused us this run
    for incident_id, alerts in _pending_by_incident(ledger, sink.name):
        incident = ledger.incident(incident_id)
        if (incident["route"] or "") in blocked:
            continue
        try:
            _deliver_incident(ledger, sink, incident, alerts, now, critical_route)
        except SinkError as exc:
            result.errors.append(f"sink {sink.name}: incident #{incident_id}: {exc}")
            for alert in alerts:
                ledger.mark_undelivered(
                    alert["fingerprint"], sink.name, str(exc), exc.permanent, now
                )
            if exc.scope == "sink":
                return  # the service is down or refuses us: leave the rest pending
            if exc.scope == "channel":
                blocked.add(incident["route"] or "")
            continue
        result.sent += len(alerts)


def _pending_by_incident(ledger: Ledger, sink: str) -> list[tuple[int, list[PendingDelivery]]]:
    """Pending deliveries of `sink` grouped by incident, in the order of their oldest alert."""
    groups: dict[int, list[PendingDelivery]] = {}
    after: tuple[str, str, str] | None = None
    while batch := ledger.pending_deliveries(sink, 500, after):
        last = batch[-1]
        after = (last["created_at"], last["event_at"], last["fingerprint"])
        for alert in batch:
            incident_id = alert["incident_id"]
            # Only muted alerts lack an incident, and they are never owed (schema m005).
            assert incident_id is not None, f"alert {alert['fingerprint']} has no incident"
            groups.setdefault(incident_id, []).append(alert)
    return list(groups.items())


def _deliver_incident(
    ledger: Ledger,
    sink: Sink,
    incident: IncidentSummary,
    alerts: list[PendingDelivery],
    now: datetime,
    critical_route: str | None,
) -> None:
    main = ledger.incident_message(incident["id"], sink.name, "main")
    shown = main["delivered_version"] if main else 0
    view = IncidentView(
        incident=incident,
        alerts=alerts,
        top=ledger.incident_evidence(incident["id"], 0, 3),
        new=ledger.incident_evidence(incident["id"], shown, 3),
        new_count=ledger.count_incident_mentions(incident["id"], shown),
        critical_route=critical_route,
    )
    delivered = _call(sink.post, view) if main is None else _call(sink.update, view, main)
    with ledger.transaction():
        ledger.save_incident_message(
            incident["id"],
            sink.name,
            "main",
            delivered.channel,
            delivered.message_id,
            incident["version"],
            now,
        )
        for alert in alerts:
            ledger.mark_delivered(
                alert["fingerprint"], sink.name, delivered.message_id, delivered.channel, now
            )
    if _escalated(ledger, incident, sink.name, now):
        main = ledger.incident_message(incident["id"], sink.name, "main")
        posted = _call(sink.escalate, view, main)
        ledger.save_incident_message(
            incident["id"],
            sink.name,
            "escalation",
            posted.channel,
            posted.message_id,
            incident["version"],
            now,
        )


def _escalated(ledger: Ledger, incident: IncidentSummary, sink: str, now: datetime) -> bool:
    """Critical now, shown below critical on an earlier run, and not yet announced on the
    critical route."""
    if incident["severity"] != "critical":
        return False
    if ledger.incident_message(incident["id"], sink, "escalation") is not None:
        return False
    return ledger.sent_below_critical(incident["id"], sink, now)
