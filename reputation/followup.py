"""Showing the answering workflow in the sinks: each incident's message rewritten in place
when its state changes, one thread line per event (a click, a command, a public reply, a
snooze ending), and one post on the critical route per SLA breach.

A run (after its deliveries) and the Slack handler (after a click) both call `show`, so a
change is shown once whoever notices it first: posts are keyed in `sink_posts`, and within
one process (`reputation serve`) an incident is shown by one thread at a time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from reputation.ledger import Ledger
from reputation.models import IncidentMessage, Transition
from reputation.postlog import LedgerPostLog
from reputation.sinks.base import IncidentView, SinkError, WorkflowView
from reputation.timeutil import parse_time

log = logging.getLogger("reputation")
_LOCKS: dict[int, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


class ShowsWorkflow(Protocol):
    """A sink that can show workflow changes (the optional `show_workflow` method)."""

    name: str

    def show_workflow(
        self, view: IncidentView, message: IncidentMessage, events: Sequence[Transition],
        refresh: bool,
    ) -> None: ...  # fmt: skip


def workflow_view(ledger: Ledger, incident_id: int) -> WorkflowView:
    """The incident's workflow as a sink shows it: state, last change, first brand reply."""
    state = ledger.workflow(incident_id)
    last = ledger.last_change(incident_id)
    reply = None
    if state["first_response_at"] is not None:
        reply_event = next(
            (e for e in reversed(ledger.events(incident_id)) if e["action"] == "reply"), None
        )
        if reply_event is not None:
            reply = ledger.brand_reply(str(reply_event["detail"].get("reply")))
    return WorkflowView(state=state, last=last, reply=reply)


def incident_view(
    ledger: Ledger, incident_id: int, sink: str, now: datetime, critical_route: str | None,
    warnings: list[str],
) -> IncidentView:  # fmt: skip
    """What a sink is shown of an incident for a workflow change: no alerts, its top
    mentions, its headline and its workflow."""
    incident = ledger.incident(incident_id)
    return IncidentView(
        incident=incident,
        alerts=[],
        top=ledger.incident_evidence(incident_id, 0, 3),
        critical_route=critical_route,
        log=LedgerPostLog(ledger, sink, incident_id, now, warnings),
        headline=ledger.incident_headline(incident_id),
        span=ledger.incident_span(incident_id),
        workflow=workflow_view(ledger, incident_id),
    )


def incident_lock(incident_id: int) -> threading.Lock:
    """The lock one process holds while it shows an incident (a run and a click at once)."""
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(incident_id, threading.Lock())


def show(
    ledger: Ledger, sink: ShowsWorkflow, incident_id: int, now: datetime,
    critical_route: str | None, warnings: list[str],
) -> bool:  # fmt: skip
    """Show what changed in an incident's workflow since `sink` last showed it; False if
    the sink has no message of it (nothing to update, no thread to write in)."""
    with incident_lock(incident_id):
        main = ledger.incident_message(incident_id, sink.name, "main")
        if main is None:
            return False
        view = incident_view(ledger, incident_id, sink.name, now, critical_route, warnings)
        assert view.workflow is not None
        version = view.workflow.state["version"]
        events = [_with_reply(ledger, e) for e in ledger.events(incident_id, main["shown_event"])]
        refresh = main["shown_workflow"] < version
        if not events and not refresh:
            return True
        sink.show_workflow(view, main, events, refresh)
        ledger.mark_workflow_shown(
            incident_id, sink.name, version, events[-1]["id"] if events else None
        )
        return True


def _with_reply(ledger: Ledger, event: Transition) -> Transition:
    """A reply event carries the reply's text and link for its thread line."""
    if event["action"] != "reply":
        return event
    reply = ledger.brand_reply(str(event["detail"].get("reply")))
    if reply is not None:
        event["detail"] = {**event["detail"], "text": reply["text"], "url": reply["url"]}
    return event


def show_changes(
    ledger: Ledger, sinks: Sequence[object], now: datetime, critical_route: str | None,
    warnings: list[str],
) -> list[str]:  # fmt: skip
    """Show every sink's pending workflow changes; return the errors (a failing sink stops
    only itself, and what it did not show waits for the next run)."""
    errors: list[str] = []
    for sink in sinks:
        if not callable(getattr(sink, "show_workflow", None)):
            continue
        shower: ShowsWorkflow = sink  # type: ignore[assignment]
        retry_at = ledger.sink_retry_at(shower.name)
        if retry_at and parse_time(retry_at) > now:
            continue  # rate limited: deliver said so already
        _show_all(ledger, shower, now, critical_route, warnings, errors)
        try:
            getattr(sink, "flush", lambda: None)()
        except Exception as exc:  # noqa: BLE001 - reported like any sink crash
            errors.append(f"sink {shower.name}: crashed in flush: {type(exc).__name__}: {exc}")
    return errors


def _show_all(
    ledger: Ledger, shower: ShowsWorkflow, now: datetime, critical_route: str | None,
    warnings: list[str], errors: list[str],
) -> None:  # fmt: skip
    for incident_id in ledger.incidents_with_workflow_news(shower.name):
        try:
            show(ledger, shower, incident_id, now, critical_route, warnings)
        except SinkError as exc:
            errors.append(f"sink {shower.name}: incident #{incident_id} workflow: {exc}")
            if exc.scope == "sink":
                break
        except Exception as exc:  # a sink's bug: reported, the other sinks go on
            log.debug("sink %s crashed showing the workflow", shower.name, exc_info=True)
            errors.append(f"sink {shower.name}: incident #{incident_id} workflow: crashed:"
                              f" {type(exc).__name__}: {exc}")  # fmt: skip
            break
