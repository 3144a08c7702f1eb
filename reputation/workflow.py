"""The answering workflow: an incident goes new → acknowledged → assigned → responded →
closed, or is snoozed (its SLA clock paused) or dismissed (not relevant). Every change is a
conditional update on the incident's workflow version, so of two people clicking at once
exactly one wins and the other is told who did; every change is kept with who, when and
from where (button, command, automatic).

Each run also moves incidents on by itself (`advance`): a snooze that ended, a responded
incident gone quiet (closed), a public reply by the brand (responded, with the time of the
first response), and SLA breaches (escalated once each).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from reputation.models import Transition, WorkflowRow
from reputation.timeutil import iso, parse_time

if TYPE_CHECKING:  # only a type here: the config reads SlaSettings without loading the store
    from reputation.ledger import Ledger

WAITING = ("new", "acknowledged", "assigned", "snoozed")  # the team still owes an answer
# action -> (the states it may start from, the state it leads to; None: where it was)
ACTIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "acknowledge": (frozenset({"new", "snoozed"}), "acknowledged"),
    "assign": (frozenset(WAITING), "assigned"),
    "respond": (frozenset(WAITING), "responded"),
    "snooze": (frozenset(WAITING), "snoozed"),
    "dismiss": (frozenset(WAITING), "dismissed"),
    "close": (frozenset({"acknowledged", "assigned", "responded", "snoozed"}), "closed"),
    "reopen": (frozenset({"dismissed", "closed"}), "acknowledged"),
    "wake": (frozenset({"snoozed"}), None),
}
SNOOZES = ("1h", "4h", "tomorrow")
BREACHES = ("acknowledge", "respond")
SYSTEM = "reputation"  # the actor of automatic changes


@dataclass(frozen=True)
class SlaSettings:
    """The `sla` config: how long an incident of each severity may wait for an
    acknowledgement and for a public response (from when it was opened, less the time it
    was snoozed), and where "until tomorrow" ends (`workday_starts` in `timezone`)."""

    acknowledge: Mapping[str, timedelta] = field(
        default_factory=lambda: {"critical": timedelta(minutes=15), "warning": timedelta(hours=1)}
    )
    respond: Mapping[str, timedelta] = field(
        default_factory=lambda: {"critical": timedelta(hours=1), "warning": timedelta(hours=4)}
    )
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    workday_starts: time = time(9, 0)
    enabled: bool = True  # the config's default: on where Slack's buttons are answered

    def limit(self, breach: str, severity: str) -> timedelta | None:
        """The SLA of `breach` (acknowledge, respond) for `severity`; None: no SLA."""
        return (self.acknowledge if breach == "acknowledge" else self.respond).get(severity)


@dataclass(frozen=True)
class Actor:
    """Who acts and from where: a Slack user (`button`), someone at the command line
    (`command`) or the monitor itself (`automatic`)."""

    id: str
    name: str
    source: str


@dataclass(frozen=True)
class Outcome:
    """What an action did: `event` is its transition if it won; otherwise `why` says why
    not, and `by` is the change that got there first (who, when), if one did."""

    won: bool
    current: WorkflowRow
    event: Transition | None = None
    by: Transition | None = None
    why: str = ""


def act(
    ledger: Ledger, incident_id: int, action: str, actor: Actor, now: datetime, *,
    version: int | None = None, assignee: tuple[str, str] | None = None,
    until: datetime | None = None, detail: Mapping[str, Any] | None = None,
) -> Outcome:  # fmt: skip
    """Apply `action` to an incident as `actor`, only if it is still at `version` (the one
    the person was shown; None: whatever it is now). `assignee` (id, name) goes with assign,
    `until` with snooze. A lost race or a state the action does not start from changes and
    records nothing."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    current = ledger.workflow(incident_id)
    starts, target = ACTIONS[action]
    if version is not None and current["version"] != version:
        return _lost(ledger, current, "it changed since you saw it")
    if current["state"] not in starts:
        return _lost(ledger, current, f"it is {describe_state(current['state'])}")
    to_state = target or current["snoozed_from"] or "new"
    changes = _changes(current, action, actor, now, assignee, until)
    info = dict(detail or {})
    if assignee is not None:
        info["assignee"], info["assignee_name"] = assignee
    if until is not None:
        info["until"] = iso(until)
    event = {"action": action, "actor": actor.id, "actor_name": actor.name,
             "source": actor.source, "detail": info}  # fmt: skip
    made = ledger.change_state(current, to_state, changes, event, now)
    if made is None:
        return _lost(ledger, ledger.workflow(incident_id), "someone else got there first")
    return Outcome(True, ledger.workflow(incident_id), event=made)


def _changes(
    current: WorkflowRow, action: str, actor: Actor, now: datetime,
    assignee: tuple[str, str] | None, until: datetime | None,
) -> dict[str, Any]:  # fmt: skip
    """The columns an action sets besides the state."""
    changes: dict[str, Any] = {}
    if current["state"] == "snoozed" and action != "snooze":
        changes.update(_unsnooze(current, now))
    if action in ("acknowledge", "assign", "respond") and current["acknowledged_at"] is None:
        changes.update(acknowledged_at=iso(now), acknowledged_by=actor.name)
    if action == "assign":
        if assignee is None:
            raise ValueError("assign needs an assignee")
        changes.update(assignee=assignee[0], assignee_name=assignee[1])
    elif action == "respond":
        changes["responded_at"] = iso(now)
        if current["first_response_at"] is None:
            changes["first_response_at"] = iso(now)
    elif action == "snooze":
        if until is None or until <= now:
            raise ValueError("snooze needs a time in the future")
        paused = current["paused_seconds"]
        if current["state"] == "snoozed" and current["snoozed_at"]:  # snoozed again
            paused += (now - parse_time(current["snoozed_at"])).total_seconds()
        changes.update(
            snoozed_until=iso(until), snoozed_at=iso(now), paused_seconds=paused,
            snoozed_from=current["snoozed_from"] if current["state"] == "snoozed"
            else current["state"],
        )  # fmt: skip
    return changes


def _unsnooze(current: WorkflowRow, now: datetime) -> dict[str, Any]:
    """Leaving a snooze: the time it lasted (up to its end) pauses the SLA clock."""
    started = parse_time(current["snoozed_at"]) if current["snoozed_at"] else now
    ended = min(now, parse_time(current["snoozed_until"])) if current["snoozed_until"] else now
    paused = current["paused_seconds"] + max(0.0, (ended - started).total_seconds())
    return {"snoozed_until": None, "snoozed_at": None, "snoozed_from": None,
            "paused_seconds": paused}  # fmt: skip


def _lost(ledger: Ledger, current: WorkflowRow, why: str) -> Outcome:
    return Outcome(False, current, by=ledger.last_change(current["incident_id"]), why=why)


def snooze_until(choice: str, now: datetime, settings: SlaSettings) -> datetime:
    """When a snooze of `choice` (1h, 4h, tomorrow) ends: tomorrow is the next day's
    `workday_starts` in the configured time zone."""
    if choice == "1h":
        return now + timedelta(hours=1)
    if choice == "4h":
        return now + timedelta(hours=4)
    if choice == "tomorrow":
        local = now.astimezone(settings.timezone).date() + timedelta(days=1)
        return datetime.combine(local, settings.workday_starts, settings.timezone).astimezone(UTC)
    raise ValueError(f"unknown snooze {choice!r} (one of: {', '.join(SNOOZES)})")


# -- what every run does by itself ------------------------------------------------------


@dataclass
class Advanced:
    """What `advance` did in one run."""

    woken: int = 0
    closed: int = 0
    replied: int = 0
    escalated: int = 0


def advance(ledger: Ledger, now: datetime, settings: SlaSettings) -> Advanced:
    """Move incidents on by themselves: end snoozes that are over, close responded incidents
    that went quiet, mark responded those the brand answered in public, and escalate, once
    per breach, those past their SLA."""
    done = Advanced()
    automatic = Actor(SYSTEM, SYSTEM, "automatic")
    for row in ledger.workflow_in(["snoozed"]):
        until = row["snoozed_until"]
        if until and parse_time(until) <= now:
            outcome = act(ledger, row["incident_id"], "wake", automatic, now,
                          version=row["version"])  # fmt: skip
            done.woken += outcome.won
    for row in ledger.responded_and_resolved():
        why = {"why": "answered, and quiet since"}
        outcome = act(ledger, row["incident_id"], "close", automatic, now,
                      version=row["version"], detail=why)  # fmt: skip
        done.closed += outcome.won
    done.replied = _apply_replies(ledger, now)
    if settings.enabled:
        done.escalated = _escalate(ledger, now, settings)
    return done


def _apply_replies(ledger: Ledger, now: datetime) -> int:
    """A public reply by the brand in an incident's conversation: the incident is responded
    (if the team still owed an answer) and its first response is the reply's time."""
    applied = 0
    for incident_id, reply in ledger.first_brand_replies():
        current = ledger.workflow(incident_id)
        to_state = "responded" if current["state"] in WAITING else current["state"]
        changes: dict[str, Any] = {"first_response_at": reply["created_at"]}
        if current["state"] == "snoozed":
            changes.update(_unsnooze(current, now))
        if to_state != current["state"]:
            changes["responded_at"] = reply["created_at"]
        author = reply["author"] or "the brand"
        event = {"action": "reply", "actor": author, "actor_name": author,
                 "source": "automatic", "detail": {"reply": reply["key"]}}  # fmt: skip
        # Lost to a click at the same moment: the next run finds the reply again.
        applied += ledger.change_state(current, to_state, changes, event, now) is not None
    return applied


def _escalate(ledger: Ledger, now: datetime, settings: SlaSettings) -> int:
    """Record each SLA breach once, with an `escalate` event that the sinks announce."""
    count = 0
    for row in ledger.sla_candidates():
        already = set((row["escalated"] or "").split(","))
        breaches = ("acknowledge", "respond") if row["state"] == "new" else ("respond",)
        for breach in breaches:
            limit = settings.limit(breach, row["severity"])
            if limit is None or breach in already:
                continue
            due = parse_time(row["sla_from"]) + limit + timedelta(seconds=row["paused_seconds"])
            if now < due:
                continue
            with ledger.transaction():
                if ledger.record_breach(row["incident_id"], breach, due, now):
                    detail = {"breach": breach, "limit": human_duration(limit)}
                    event = {"action": "escalate", "actor": SYSTEM, "actor_name": SYSTEM,
                             "source": "automatic", "detail": detail}  # fmt: skip
                    ledger.note_event(row["incident_id"], event, now)
                    count += 1
    return count


# -- words ------------------------------------------------------------------------------

_STATE_WORDS = {
    "new": "new (nobody has acknowledged it)",
    "acknowledged": "acknowledged",
    "assigned": "assigned",
    "responded": "answered",
    "closed": "closed",
    "snoozed": "snoozed",
    "dismissed": "marked not relevant",
}


def describe_state(state: str) -> str:
    """A state as a person says it."""
    return _STATE_WORDS.get(state, state)


def human_duration(delta: timedelta) -> str:
    """A duration as a person says it: 15 min, 1 h, 2 h 30 min."""
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h" + (f" {rest} min" if rest else "")
