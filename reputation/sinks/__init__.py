"""Sinks: where incidents go. The public names, and the SINKS registry of sink classes.

Adding a sink is one module in this package and one line below (docs/adding-a-sink.md).
"""

from __future__ import annotations

from reputation.sinks.base import Delivered, IncidentView, Sink, SinkError, SinkUnavailable
from reputation.sinks.console import ConsoleSink
from reputation.sinks.slack import SlackSink

__all__ = [
    "SINKS", "ConsoleSink", "Delivered", "IncidentView", "Sink", "SinkError", "SinkUnavailable",
    "SlackSink",
]  # fmt: skip

SINKS: dict[str, type[Sink]] = {cls.type: cls for cls in (ConsoleSink, SlackSink)}
