"""Incidents: related alerts and their mentions become one thread instead of many messages.

An alert joins an open incident of its brand when its mentions reply to or quote one of the
incident's mentions (or are replied to by one), when their text is a copy of one of them
(syndicated or pasted posts), or when it has the incident's category and falls within
`window` of its last activity. An alert keyed by brand alone (a burst) takes the majority
category of its mentions. All of this is event time, so a replay groups as a live run did.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from reputation.models import Alert, IncidentRow, ScoredMention
from reputation.timeutil import iso

if TYPE_CHECKING:  # only a type here: config imports this module, and must not load the store
    from reputation.ledger import Ledger

PIPELINE = "pipeline"  # the category of alerts about the monitor itself (a source gone quiet)
_NOISE = re.compile(r"https?://\S+|[@#]\w+|[^\w\s]")


@dataclass(frozen=True)
class IncidentSettings:
    """The `incidents` config: how long a quiet incident still takes related alerts, and after
    how much wall-clock quiet it is marked resolved."""

    window: timedelta = timedelta(hours=2)
    close_after: timedelta = timedelta(hours=6)


def text_hash(text: str) -> str:
    """A fingerprint of a post's words, blind to links, handles, hashtags, case and
    punctuation, so copies and syndicated versions match."""
    words = " ".join(_NOISE.sub(" ", text.lower()).split())
    return hashlib.sha1(words.encode()).hexdigest()[:20]


def category_of(evidence: Sequence[Mapping[str, Any]]) -> str:
    """The majority category of an alert's mentions (ties: the most severe mention's)."""
    if not evidence:
        return PIPELINE
    counts = Counter(row["category"] for row in evidence)
    top = max(counts.values())
    leaders = {c for c, n in counts.items() if n == top}
    return max((r for r in evidence if r["category"] in leaders), key=lambda r: r["severity"])[
        "category"
    ]


def attach(
    ledger: Ledger,
    alert: Alert,
    evidence: Sequence[ScoredMention],
    now: datetime,
    settings: IncidentSettings,
) -> int:
    """Put `alert` in the incident it belongs to, opening one if none; return the incident id.
    Call inside the transaction that records the alert."""
    category = category_of(evidence)
    hashes = {row["key"]: text_hash(row["text"]) for row in evidence}
    incident = (
        None
        if category == PIPELINE
        else _related(ledger, alert, evidence, hashes, category, settings)
    )
    if incident is None:
        incident_id = ledger.open_incident(
            alert.brand,
            category,
            alert.severity,
            _title(alert, category),
            alert.route,
            alert.event_at,
            now,
        )
        version = 1
    else:
        incident_id = incident["id"]
        version = ledger.grow_incident(incident, alert.severity, alert.event_at, now)
    ledger.add_incident_mentions(incident_id, hashes, version)
    return incident_id


def _related(
    ledger: Ledger,
    alert: Alert,
    evidence: Sequence[ScoredMention],
    hashes: dict[str, str],
    category: str,
    settings: IncidentSettings,
) -> IncidentRow | None:
    start, end = alert.event_at - settings.window, alert.event_at + settings.window
    keys = list(hashes)
    parents = [f"{row['source']}:{row['parent_id']}" for row in evidence if row["parent_id"]]
    threads = [f"{row['source']}:{row['thread_id']}" for row in evidence if row["thread_id"]]
    return (
        ledger.incident_with_mentions(alert.brand, keys + parents + threads, start, end)
        or ledger.incident_linked_to(alert.brand, "parent_id", keys, start, end)
        or ledger.incident_linked_to(alert.brand, "thread_id", threads, start, end)
        or ledger.incident_with_hashes(alert.brand, list(hashes.values()), start, end)
        or ledger.incident_of_category(alert.brand, category, start, end)
    )


def _title(alert: Alert, category: str) -> str:
    what = "the monitor" if category == PIPELINE else category.replace("_", " ")
    return f"{alert.brand}: {what}"


def close_quiet(ledger: Ledger, now: datetime, settings: IncidentSettings) -> int:
    """Resolve open incidents without new activity for `close_after` of wall-clock time."""
    return ledger.resolve_incidents(iso(now - settings.close_after), now)
