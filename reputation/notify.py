"""Delivery from the alert ledger, an incident at a time: each sink posts an incident once,
then updates that message in place with one thread reply per run, and posts once more to
the critical route if the incident escalates. Every alert is marked sent only after its sink
confirmed it."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar, TypeVar

from reputation.crashpoint import crash_point
from reputation.followup import incident_lock, workflow_view
from reputation.incidents import category_of
from reputation.ledger import Ledger
from reputation.models import AlertRow, IncidentSummary, PendingDelivery, Silence
from reputation.muting import silence_reason, silenced_by
from reputation.postlog import LedgerPostLog
from reputation.sinks import SINKS, IncidentView, Sink, SinkError, SinkUnavailable
from reputation.store import Store
from reputation.timeutil import parse_time

if TYPE_CHECKING:
    from reputation.config import PluginConfig
    from reputation.models import IncidentMessage
    from reputation.sinks import Delivered
    from reputation.validate import Field

log = logging.getLogger("reputation")
T = TypeVar("T")
# How long a worker's claim on pending deliveries holds when it is not released: a worker
# that died without a run (its run marked crashed frees them at once) is waited for this long.
CLAIM_HOLD = timedelta(minutes=15)
CLAIM_INCIDENTS = 50  # incidents claimed per short transaction


@dataclass
class NotifyResult:
    """How many alert deliveries went out this run, what failed, and what to warn about."""

    sent: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


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
        except Exception as exc:
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
    store: Store, sinks: Sequence[Sink], now: datetime, critical_route: str | None = None,
    run_id: int | None = None,
) -> NotifyResult:  # fmt: skip
    """Send what each sink still owes, incident by incident, each batch claimed first (for
    run `run_id`, if any) so no other worker sends it too; a failing sink never stops the
    others."""
    result = NotifyResult()
    claim = _Claim(secrets.token_hex(8), run_id)
    # Read once: every sink faces the same silences. Checked again here, at send time, as
    # alertmanager does: a silence added while Slack was down mutes what was waiting.
    active = store.ledger.silences(now)
    for sink in sinks:
        if isinstance(sink, BrokenSink):
            result.errors.append(f"sink {sink.name}: could not start: {sink.error}; alerts wait")
            continue
        retry_at = store.ledger.sink_retry_at(sink.name)
        if retry_at and parse_time(retry_at) > now:
            result.warnings.append(
                f"sink {sink.name}: rate limited until {parse_time(retry_at):%Y-%m-%d %H:%M:%S}"
                " UTC; skipped this run"
            )
            continue
        try:
            _deliver_to(store.ledger, sink, now, critical_route, active, result, claim)
        except Exception as exc:
            log.debug("sink %s crashed", sink.name, exc_info=True)
            result.errors.append(f"sink {sink.name}: crashed: {_describe(exc)}")
        finally:
            try:
                sink.flush()
            except Exception as exc:
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
    except Exception as exc:
        log.debug("sink call %s crashed", getattr(method, "__qualname__", method), exc_info=True)
        raise SinkError(f"crashed: {_describe(exc)}", permanent=True, scope="alert") from exc


def _describe(exc: BaseException) -> str:
    """An unexpected exception in one line: its type and message."""
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _deliver_to(
    ledger: Ledger, sink: Sink, now: datetime, critical_route: str | None,
    active: list[Silence], result: NotifyResult, claim: _Claim,
) -> None:  # fmt: skip
    """One pass over the sink's queue, grouped by incident, oldest first, muting what a
    silence now matches; then the escalations it owes and the status updates."""
    try:
        delivered = _deliver_pending(ledger, sink, now, critical_route, active, result, claim)
    finally:  # what was claimed and not sent is free for the next pass at once
        ledger.release_claims(sink.name, claim.token)
    if not delivered:
        return  # the service is down or refuses us: leave the rest pending
    for incident_id in ledger.incidents_owing_escalation(sink.name, now):
        posts = LedgerPostLog(ledger, sink.name, incident_id, now, result.warnings)
        try:
            _escalate(ledger, sink, incident_id, now, critical_route, posts)
        except SinkError as exc:
            _failed(ledger, sink, incident_id, exc, now, result, "escalation")
            if exc.scope == "sink":
                return
    for incident_id in ledger.incidents_to_refresh(sink.name):
        posts = LedgerPostLog(ledger, sink.name, incident_id, now, result.warnings)
        try:
            _refresh(ledger, sink, incident_id, now, critical_route, posts)
        except SinkError as exc:
            _failed(ledger, sink, incident_id, exc, now, result, "status update")
            if exc.scope == "sink":
                return


def _deliver_pending(
    ledger: Ledger, sink: Sink, now: datetime, critical_route: str | None,
    active: list[Silence], result: NotifyResult, claim: _Claim,
) -> bool:  # fmt: skip
    """Send the sink's pending alerts, incident by incident, a claimed batch at a time;
    False if the whole sink failed."""
    blocked: set[str] = set()  # routes whose channel refused us this run
    while batch := _claim_by_incident(ledger, sink.name, now, claim):
        if not _deliver_batch(ledger, sink, batch, now, critical_route, active, result, blocked):
            return False
    return True


def _deliver_batch(
    ledger: Ledger, sink: Sink, batch: list[tuple[int, list[PendingDelivery]]], now: datetime,
    critical_route: str | None, active: list[Silence], result: NotifyResult, blocked: set[str],
) -> bool:  # fmt: skip
    """Send one claimed batch, incident by incident; False if the whole sink failed."""
    for incident_id, waiting in batch:
        alerts = _unsilenced(ledger, waiting, active, now)
        if not alerts:
            continue
        incident = ledger.incident(incident_id)
        if (incident["route"] or "") in blocked:
            continue
        posts = LedgerPostLog(ledger, sink.name, incident_id, now, result.warnings)
        try:
            _deliver_incident(ledger, sink, incident, alerts, now, critical_route, posts)
        except SinkError as exc:
            _failed(ledger, sink, incident_id, exc, now, result)
            for alert in alerts:
                ledger.mark_undelivered(
                    alert["fingerprint"], sink.name, str(exc), exc.permanent, now
                )
            if exc.scope == "sink":
                return False
            if exc.scope == "channel":
                blocked.add(incident["route"] or "")
            continue
        result.sent += len(alerts)
    return True


def _unsilenced(
    ledger: Ledger, alerts: list[PendingDelivery], active: list[Silence], now: datetime
) -> list[PendingDelivery]:
    """The alerts no active silence matches; the others are muted, for every sink, with the
    silence's reason (labels as when the alert was recorded)."""
    if not active:
        return alerts
    kept = []
    for alert in alerts:
        labels = {
            "brand": alert["brand"], "rule": alert["rule"], "severity": alert["severity"],
            "category": category_of(ledger.evidence(alert["fingerprint"], 10_000)),
            "route": alert["route"] or "",
        }  # fmt: skip
        silence = silenced_by(active, labels)
        if silence is None:
            kept.append(alert)
        else:
            ledger.mute_unsent(alert["fingerprint"], silence_reason(silence), now)
    return kept


def _failed(
    ledger: Ledger, sink: Sink, incident_id: int, exc: SinkError, now: datetime,
    result: NotifyResult, what: str = "",
) -> None:  # fmt: skip
    """Report a failed send; keep a rate limit's end so no later run calls before it."""
    where = f"incident #{incident_id}" + (f" {what}" if what else "")
    result.errors.append(f"sink {sink.name}: {where}: {exc}")
    if exc.retry_after:
        ledger.sink_rate_limited(sink.name, now + timedelta(seconds=exc.retry_after), str(exc), now)


@dataclass(frozen=True)
class _Claim:
    """Who claims deliveries in one delivery pass: a token, and its run if it has one."""

    token: str
    run_id: int | None


def _claim_by_incident(
    ledger: Ledger, sink: str, now: datetime, claim: _Claim
) -> list[tuple[int, list[PendingDelivery]]]:
    """Claim the next pending deliveries of `sink` and group them by incident, in the order
    of their oldest alert; empty when nothing more is free (this pass's own claims are not)."""
    groups: dict[int, list[PendingDelivery]] = {}
    claimed = ledger.claim_deliveries(
        sink, claim.token, now, CLAIM_HOLD, CLAIM_INCIDENTS, claim.run_id
    )
    for alert in claimed:
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
    posts: LedgerPostLog,
) -> None:
    """Show the incident (post it, or update it with a thread reply) and record, in one
    transaction, what the sink confirmed."""
    with incident_lock(incident["id"]):  # a click shown at the same time waits (serve)
        _deliver_locked(ledger, sink, incident, alerts, now, critical_route, posts)


def _deliver_locked(
    ledger: Ledger, sink: Sink, incident: IncidentSummary, alerts: list[PendingDelivery],
    now: datetime, critical_route: str | None, posts: LedgerPostLog,
) -> None:  # fmt: skip
    main = ledger.incident_message(incident["id"], sink.name, "main")
    shown = main["delivered_version"] if main else 0
    view = _view(ledger, incident, alerts, shown, critical_route, posts)
    delivered = _call(sink.post, view) if main is None else _call(sink.update, view, main)
    crash_point("delivery")  # a test hook (decision 140)  # pragma: no mutate
    with ledger.transaction():
        ledger.save_incident_message(
            incident["id"],
            sink.name,
            "main",
            delivered.channel,
            delivered.message_id,
            incident["version"],
            now,
            incident["status"],
        )
        for alert in alerts:
            ledger.mark_delivered(
                alert["fingerprint"], sink.name, delivered.message_id, delivered.channel, now
            )
        _shown_workflow(ledger, sink.name, view)


def _escalate(
    ledger: Ledger,
    sink: Sink,
    incident_id: int,
    now: datetime,
    critical_route: str | None,
    posts: LedgerPostLog,
) -> None:
    """Announce, once, that an incident shown below critical on an earlier run is now
    critical; a failure leaves it owed, never undoes the incident's deliveries."""
    incident = ledger.incident(incident_id)
    headline = ledger.incident_headline(incident_id)
    if headline is None:  # every alert of it was muted: nothing to announce
        return
    main = ledger.incident_message(incident_id, sink.name, "main")
    shown = main["delivered_version"] if main else 0
    view = _view(ledger, incident, [headline], shown, critical_route, posts)
    posted = _call(sink.escalate, view, main)
    ledger.save_incident_message(
        incident_id, sink.name, "escalation", posted.channel, posted.message_id,
        incident["version"], now,
    )  # fmt: skip


def _refresh(
    ledger: Ledger,
    sink: Sink,
    incident_id: int,
    now: datetime,
    critical_route: str | None,
    posts: LedgerPostLog,
) -> None:
    """Update, once, the message of an incident whose status changed since it was shown
    (resolved): no alerts, no thread reply, just the message as it now stands."""
    incident = ledger.incident(incident_id)
    main = ledger.incident_message(incident_id, sink.name, "main")
    if main is None:
        return
    if ledger.incident_headline(incident_id) is None:  # nothing left to show: just note it
        ledger.save_incident_message(
            incident_id, sink.name, "main", None, None, main["delivered_version"], now,
            incident["status"],
        )  # fmt: skip
        return
    view = _view(ledger, incident, [], main["delivered_version"], critical_route, posts)
    delivered = _call(sink.update, view, main)
    ledger.save_incident_message(
        incident_id, sink.name, "main", delivered.channel, delivered.message_id,
        main["delivered_version"], now, incident["status"],
    )  # fmt: skip
    _shown_workflow(ledger, sink.name, view)


def _shown_workflow(ledger: Ledger, sink: str, view: IncidentView) -> None:
    """The message just written shows the workflow state it was rendered with."""
    if view.workflow is not None:
        version = view.workflow.state["version"]
        ledger.mark_workflow_shown(view.incident["id"], sink, version, None)


def _view(
    ledger: Ledger,
    incident: IncidentSummary,
    alerts: Sequence[AlertRow],
    shown: int,
    critical_route: str | None,
    posts: LedgerPostLog,
) -> IncidentView:
    """What a sink is shown of an incident it last showed at version `shown`."""
    return IncidentView(
        incident=incident,
        alerts=alerts,
        top=ledger.incident_evidence(incident["id"], 0, 3),
        new=ledger.incident_evidence(incident["id"], shown, 3),
        new_count=ledger.count_incident_mentions(incident["id"], shown),
        critical_route=critical_route,
        log=posts,
        headline=ledger.incident_headline(incident["id"]),
        span=ledger.incident_span(incident["id"]),
        workflow=workflow_view(ledger, incident["id"]),
    )
