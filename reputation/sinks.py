"""Sinks: where alerts go. The Sink protocol, the console sink and the SINKS registry."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from rich.console import Console
from rich.table import Table
from rich.text import Text

from reputation.models import SEVERITY_LEVELS
from reputation.text import normalize, shorten, terminal_safe
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

    incident: Mapping[str, Any]
    alerts: Sequence[Mapping[str, Any]]
    top: Sequence[Mapping[str, Any]]
    new: Sequence[Mapping[str, Any]] = ()
    new_count: int = 0
    critical_route: str | None = None

    @property
    def lead(self) -> Mapping[str, Any]:
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

    def update(self, view: IncidentView, message: Mapping[str, Any]) -> Delivered:
        """Update an incident shown before (`message`: what `post` returned, as stored)."""
        ...

    def escalate(self, view: IncidentView, message: Mapping[str, Any] | None) -> Delivered:
        """Announce, once, that an incident became critical."""
        ...

    def flush(self) -> None:
        """Finish output after a run's deliveries."""
        ...


_STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}


class ConsoleSink:
    """Prints incidents as a table on the terminal; mention text is shown inert."""

    type: ClassVar[str] = "console"
    OPTIONS: ClassVar[Mapping[str, Field]] = {}

    def __init__(
        self,
        name: str,
        options: Mapping[str, Any],
        env: Mapping[str, str],
        console: Console | None = None,
    ) -> None:
        self.name = name
        self.console = console or Console()
        self.rows: list[tuple[str, IncidentView]] = []

    def post(self, view: IncidentView) -> Delivered:
        """Queue a new incident for the table printed by `flush`."""
        self.rows.append(("new", view))
        return Delivered()

    def update(self, view: IncidentView, message: Mapping[str, Any]) -> Delivered:
        """Queue an incident's update."""
        self.rows.append((f"+{view.new_count} mention(s)", view))
        return Delivered()

    def escalate(self, view: IncidentView, message: Mapping[str, Any] | None) -> Delivered:
        """Queue the escalation notice."""
        self.rows.append(("escalated", view))
        return Delivered()

    def flush(self) -> None:
        """Print queued incidents as one table."""
        if not self.rows:
            return
        table = Table(title=f"{len(self.rows)} incident update(s)", show_lines=True, expand=True)
        table.add_column("severity", no_wrap=True)
        table.add_column("incident", ratio=1)
        table.add_column("what happened", ratio=3)
        table.add_column("why", ratio=2)
        for change, view in self.rows:
            incident = view.incident
            table.add_row(
                Text(incident["severity"], style=_STYLE.get(incident["severity"], "")),
                Text(
                    terminal_safe(
                        f"#{incident['id']} {incident['title']}\n{change}; "
                        f"{incident['mentions']} mention(s), reach {incident['reach']:,}"
                    )
                ),
                _what(view),
                Text(terminal_safe("; ".join(json.loads(view.lead["reasons"])))),
            )
        self.console.print(table)
        self.rows.clear()


def _what(view: IncidentView) -> Text:
    # Text objects, never markup strings: `[link=...]` in a mention stays literal.
    lines = (f"{a['rule']}: {a['summary']}" for a in view.alerts[:3])
    out = Text("\n".join(terminal_safe(line) for line in lines), style="bold")
    for mention in (view.new or view.top)[:3]:
        out.append("\n“" + terminal_safe(shorten(normalize(mention["text"]), 240)) + "”")
        if mention.get("url"):
            out.append("\n" + terminal_safe(mention["url"]), style="dim")
    return out


def _registry() -> dict[str, type[Sink]]:
    from reputation.slack import SlackSink

    return {cls.type: cls for cls in (ConsoleSink, SlackSink)}


SINKS: dict[str, type[Sink]] = _registry()
