"""Connectors: the Connector protocol, the Batch they yield, and the CONNECTORS registry."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

from reputation.brands import Brand
from reputation.models import Mention
from reputation.validate import Field

ALL_BRANDS = "*"


class SourceError(Exception):
    """A source failed in a way that stops this connector for this run."""


@dataclass
class Batch:
    """Mentions plus the cursor that covers them; the pipeline stores both in one transaction.

    `cursor` None leaves the saved cursor of `scope` unchanged. `problems` are input errors
    already located (file and line) that were skipped; `reads` counts billable reads.
    """

    mentions: list[Mention]
    cursor: str | None = None
    scope: str = ALL_BRANDS
    problems: list[str] = field(default_factory=list)
    reads: int = 0


class Connector(Protocol):
    """A source of mentions. It persists nothing: the pipeline owns cursors."""

    type: ClassVar[str]
    OPTIONS: ClassVar[Mapping[str, Field]]
    name: str

    def __init__(self, name: str, options: Mapping[str, Any], brands: Sequence[Brand]) -> None: ...

    def fetch(self, cursors: Mapping[str, str], now: datetime) -> Iterator[Batch]:
        """Yield batches of new mentions read after `cursors` (scope -> saved cursor)."""
        ...


def _registry() -> dict[str, type[Connector]]:
    from connectors.file import FileConnector

    return {cls.type: cls for cls in (FileConnector,)}


CONNECTORS: dict[str, type[Connector]] = _registry()
