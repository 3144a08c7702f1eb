"""The console sink: incidents as one table on the terminal, mention text shown inert."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, ClassVar

from rich.console import Console
from rich.table import Table
from rich.text import Text

from reputation.models import SEVERITY_LEVELS, IncidentMessage, Transition
from reputation.sinks.base import Delivered, IncidentView
from reputation.text import normalize, shorten, terminal_safe
from reputation.validate import Field

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
        # One row per incident per run: its changes, and the view it was last shown with.
        self.rows: dict[int, tuple[list[str], IncidentView]] = {}

    def post(self, view: IncidentView) -> Delivered:
        """Queue a new incident for the table printed by `flush`."""
        return self._queue("new", view)

    def update(self, view: IncidentView, message: IncidentMessage) -> Delivered:
        """Queue an incident's update (or its change of status)."""
        if not view.alerts:
            return self._queue(view.incident["status"], view)
        return self._queue(f"+{view.new_count} mention(s)", view)

    def escalate(self, view: IncidentView, message: IncidentMessage | None) -> Delivered:
        """Queue the escalation notice."""
        return self._queue("escalated", view)

    def show_workflow(
        self, view: IncidentView, message: IncidentMessage, events: Sequence[Transition],
        refresh: bool,
    ) -> None:  # fmt: skip
        """Queue each workflow event (a click, a reply, an SLA breach) as a change of the
        incident's row."""
        for event in events:
            self._queue(_event_words(event), view)

    def _queue(self, change: str, view: IncidentView) -> Delivered:
        """Note a change of an incident; an incident shown twice in a run keeps one row, with
        every change and its alerts, and the latest view."""
        changes, earlier = self.rows.get(view.incident["id"], ([], None))
        if earlier is not None:
            seen = {a["fingerprint"] for a in earlier.alerts}
            alerts = [*earlier.alerts, *(a for a in view.alerts if a["fingerprint"] not in seen)]
            view = replace(view, alerts=alerts, new=earlier.new or view.new)
        self.rows[view.incident["id"]] = ([*changes, change], view)
        return Delivered()

    def flush(self) -> None:
        """Print queued incidents as one table, most severe first."""
        if not self.rows:
            return
        rows = sorted(
            self.rows.values(),
            key=lambda row: (-SEVERITY_LEVELS.index(row[1].incident["severity"]),
                             row[1].incident["id"]),
        )  # fmt: skip
        table = Table(title=f"{len(rows)} incident update(s)", show_lines=True, expand=True)
        table.add_column("severity", no_wrap=True)
        table.add_column("incident", ratio=1)
        table.add_column("what happened", ratio=3)
        table.add_column("why", ratio=2)
        for changes, view in rows:
            change = "; ".join(changes)
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
                Text(terminal_safe("; ".join(view.title_alert["reasons"]))),
            )
        self.console.print(table)
        self.rows.clear()


def _what(view: IncidentView) -> Text:
    # Text objects, never markup strings: `[link=...]` in a mention stays literal.
    lines = (f"{a['rule']}: {a['summary']}" for a in view.alerts[:3])
    out = Text("\n".join(terminal_safe(line) for line in lines), style="bold")
    for mention in (view.new or view.top)[:3]:
        out.append("\n“" + terminal_safe(shorten(normalize(mention["text"]), 240)) + "”")
        url = mention.get("url")
        if url:
            out.append("\n" + terminal_safe(url), style="dim")
    return out


def _event_words(event: Transition) -> str:
    detail = event["detail"]
    if event["action"] == "escalate":
        done = {"acknowledge": "acknowledged", "respond": "answered"}.get(str(detail.get("breach")))
        return f"SLA breached: not {done} within {detail.get('limit')}"
    target = f" {detail['assignee_name']}" if detail.get("assignee_name") else ""
    return f"{event['action']}{target} by {event['actor_name']} ({event['source']})"
