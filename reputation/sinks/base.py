"""The sink contract: the Sink protocol, what a sink is shown (IncidentView) and returns
(Delivered), and the errors it raises."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from reputation.models import (
    SEVERITY_LEVELS,
    AlertRow,
    IncidentMessage,
    IncidentSummary,
    ScoredMention,
)
from reputation.validate import Field


class SinkUnavailable(Exception):
    """The sink cannot run at all (a missing secret, say); it is skipped with a warning."""


class SinkError(Exception):
    """A send failed. `permanent` failures never succeed on retry; `scope` says what to pause:
    `alert` (only this one), `channel` (this route for the rest of the run) or `sink` (all)."""

    def __init__(self, message: str, *, permanent: bool = False, scope: str = "sink"):
        super().__init__(message)
        self.permanent = permanent
        self.scope = scope


@dataclass(frozen=True)
class Delivered:
    """What a sink confirmed: the message id it assigned and the channel it went to."""

    message_id: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class IncidentView:
    """What a sink shows of an incident: the incident (with `mentions` and `reach`), the
    alerts being delivered now, its top mentions, the mentions new since the sink last showed
    it (and how many), and the critical route for escalations."""

    incident: IncidentSummary
    alerts: Sequence[AlertRow]
    top: Sequence[ScoredMention]
    new: Sequence[ScoredMention] = ()
    new_count: int = 0
    critical_route: str | None = None

    @property
    def lead(self) -> AlertRow:
        """The most severe alert being delivered (the first on ties)."""
        return max(self.alerts, key=lambda a: SEVERITY_LEVELS.index(a["severity"]))


class Sink(Protocol):
    """Shows incidents; raises SinkError on failure."""

    type: ClassVar[str]
    OPTIONS: ClassVar[Mapping[str, Field]]
    name: str

    def __init__(self, name: str, options: Mapping[str, Any], env: Mapping[str, str]) -> None: ...

    def post(self, view: IncidentView) -> Delivered:
        """Show a new incident."""
        ...

    def update(self, view: IncidentView, message: IncidentMessage) -> Delivered:
        """Update an incident shown before (`message`: what `post` returned, as stored)."""
        ...

    def escalate(self, view: IncidentView, message: IncidentMessage | None) -> Delivered:
        """Announce, once, that an incident became critical."""
        ...

    def flush(self) -> None:
        """Finish output after a run's deliveries."""
        ...
