"""Sinks: where alerts go. The Sink protocol, the console sink and the SINKS registry."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from rich.console import Console
from rich.table import Table
from rich.text import Text

from reputation.text import shorten, terminal_safe
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


class Sink(Protocol):
    """Delivers alerts; raises SinkError on failure."""

    type: ClassVar[str]
    OPTIONS: ClassVar[Mapping[str, Field]]
    name: str

    def __init__(self, name: str, options: Mapping[str, Any], env: Mapping[str, str]) -> None: ...

    def send(self, alert: Mapping[str, Any], evidence: Sequence[Mapping[str, Any]]) -> Delivered:
        """Deliver one alert with its evidence mentions."""
        ...

    def flush(self) -> None:
        """Finish output after a batch of sends."""
        ...


_STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}


class ConsoleSink:
    """Prints alerts as a table on the terminal; mention text is shown inert."""

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
        self.rows: list[tuple[Mapping[str, Any], Sequence[Mapping[str, Any]]]] = []

    def send(self, alert: Mapping[str, Any], evidence: Sequence[Mapping[str, Any]]) -> Delivered:
        """Queue the alert for the table printed by `flush`."""
        self.rows.append((alert, evidence))
        return Delivered()

    def flush(self) -> None:
        """Print queued alerts as one table."""
        if not self.rows:
            return
        table = Table(title=f"{len(self.rows)} new alert(s)", show_lines=True, expand=True)
        table.add_column("severity", no_wrap=True)
        table.add_column("rule", no_wrap=True)
        table.add_column("what happened", ratio=3)
        table.add_column("why", ratio=2)
        for alert, evidence in self.rows:
            table.add_row(
                Text(alert["severity"], style=_STYLE.get(alert["severity"], "")),
                Text(alert["rule"]),
                _what(alert, evidence),
                Text(terminal_safe("; ".join(json.loads(alert["reasons"])))),
            )
        self.console.print(table)
        self.rows.clear()


def _what(alert: Mapping[str, Any], evidence: Sequence[Mapping[str, Any]]) -> Text:
    # Text objects, never markup strings: `[link=...]` in a mention stays literal.
    out = Text(terminal_safe(alert["summary"]), style="bold")
    for mention in evidence[:3]:
        out.append("\n“" + terminal_safe(shorten(mention["text"], 240)) + "”")
        if mention.get("url"):
            out.append("\n" + terminal_safe(mention["url"]), style="dim")
    return out


def _registry() -> dict[str, type[Sink]]:
    from reputation.slack import SlackSink

    return {cls.type: cls for cls in (ConsoleSink, SlackSink)}


SINKS: dict[str, type[Sink]] = _registry()
