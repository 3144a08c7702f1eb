"""Records that flow through the pipeline: Mention, Score, Alert."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

SEVERITY_LEVELS = ("info", "warning", "critical")


@dataclass(frozen=True)
class Mention:
    """One post or review about a brand, as observed at `observed_at`."""

    source: str
    native_id: str
    brand: str
    text: str
    created_at: datetime
    author: str | None = None
    author_followers: int | None = None
    url: str | None = None
    likes: int = 0
    shares: int = 0
    replies: int = 0
    lang: str | None = None
    parent_id: str | None = None
    # The conversation's first post (same source), where the source says: X conversation_id,
    # a Reddit comment's submission, a Hacker News comment's story.
    thread_id: str | None = None
    observed_at: datetime | None = None
    raw: dict[str, Any] | None = field(default=None, compare=False)

    @property
    def key(self) -> str:
        """The mention's stable key, `"{source}:{native_id}"`."""
        return f"{self.source}:{self.native_id}"

    @property
    def engagement(self) -> int:
        """Likes, shares and replies added up."""
        return self.likes + self.shares + self.replies


@dataclass(frozen=True)
class Reply:
    """The brand's own public reply to a mention (`parent_id` is the mention's native id)."""

    source: str
    native_id: str
    brand: str
    parent_id: str
    text: str
    created_at: datetime
    author: str | None = None
    url: str | None = None

    @property
    def key(self) -> str:
        """The reply's own key, `"{source}:{native_id}"`."""
        return f"{self.source}:{self.native_id}"

    @property
    def mention_key(self) -> str:
        """The key of the mention it answers."""
        return f"{self.source}:{self.parent_id}"


@dataclass(frozen=True)
class Score:
    """What the scorer concluded about one mention, with readable reasons."""

    mention_key: str
    sentiment: float
    complaint: float
    severity: float
    viral_risk: float
    predicted_engagement_24h: float
    category: str
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Alert:
    """A rule firing, identified by its fingerprint in the ledger."""

    fingerprint: str
    rule: str
    severity: str
    brand: str
    summary: str
    group_key: str
    event_at: datetime
    route: str | None = None
    reasons: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict, compare=False)
