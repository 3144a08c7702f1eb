"""Records that flow through the pipeline (Mention, Reply, Alert: frozen dataclasses; Score:
a NamedTuple, as immutable and made once per mention, faster) and the rows read back from the
store and the ledger (TypedDicts; JSON columns decoded)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, TypedDict, cast

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
    # Summed followers of the accounts that reshared the post so far, and how often it was
    # shown, as far as the source reports them (None: not reported in this observation).
    reshare_reach: int | None = None
    impressions: int | None = None
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


class Score(NamedTuple):
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


# -- rows read back: times are the store's UTC ISO text (timeutil.parse_time reads them) ------


class MentionRow(TypedDict):
    """A stored mention as the scorer reads it (its raw payload stays in the store)."""

    key: str
    source: str
    native_id: str
    brand: str
    text: str
    author: str | None
    author_followers: int | None
    url: str | None
    created_at: str
    likes: int
    shares: int
    replies: int
    lang: str | None
    parent_id: str | None
    thread_id: str | None
    first_seen_at: str
    last_seen_at: str
    connector: str | None
    version: int


class Snapshot(TypedDict):
    """One observation of a mention's engagement counts, with the reshare reach and the
    impressions the source reported then (None: not reported)."""

    mention_key: str
    observed_at: str
    likes: int
    shares: int
    replies: int
    reshare_reach: int | None
    impressions: int | None


class ScoredMention(TypedDict):
    """A mention with its score: what rules match, incidents group and sinks show. Every key
    is a rule field (`where`, `query_key`)."""

    key: str
    source: str
    native_id: str
    brand: str
    text: str
    author: str | None
    author_followers: int | None
    url: str | None
    created_at: str
    likes: int
    shares: int
    replies: int
    lang: str | None
    parent_id: str | None
    thread_id: str | None
    first_seen_at: str
    last_seen_at: str
    sentiment: float
    complaint: float
    severity: float
    viral_risk: float
    predicted_engagement_24h: float
    category: str
    reasons: list[str]
    engagement: int


# What rules read. One name, so rule code says what it handles without repeating the columns.
Row = ScoredMention
# The names a rule may filter or group on (`where`, `query_key`): every key of a scored
# mention. Rule files are checked against these without loading the store, whose own
# ROW_FIELDS (the columns it may put in SQL) tests/test_ledger.py keeps equal to them.
ROW_FIELDS = frozenset(ScoredMention.__required_keys__)


def field_value(row: ScoredMention, name: str) -> Any:
    """The value of rule field `name` (a key of ScoredMention; None if absent)."""
    return cast("Mapping[str, Any]", row).get(name)


class AlertRow(TypedDict):
    """An alert in the ledger (`reasons` and `labels` decoded)."""

    fingerprint: str
    rule: str
    group_key: str
    severity: str
    status: str  # pending | sent | failed | muted
    brand: str
    summary: str
    reasons: list[str]
    route: str | None
    labels: dict[str, str]
    event_at: str
    created_at: str
    updated_at: str
    sent_at: str | None
    message_id: str | None
    last_error: str | None
    incident_id: int | None  # None only for a muted alert
    muted_reason: str | None
    resolved_at: str | None


class PendingDelivery(AlertRow):
    """An alert still owed to one sink, with that delivery's attempts so far."""

    sink: str
    attempts: int


class IncidentRow(TypedDict):
    """An incident: related alerts of one brand shown as one thread."""

    id: int
    brand: str
    category: str
    severity: str
    status: str  # open | resolved
    title: str
    route: str | None
    opened_at: str
    last_event_at: str
    updated_at: str
    resolved_at: str | None
    version: int


class IncidentSummary(IncidentRow):
    """An incident with its mention count and reach (followers, each author counted once)."""

    mentions: int
    reach: int


class IncidentMessage(TypedDict):
    """What a sink has shown of an incident: its message, up to `delivered_version`."""

    incident_id: int
    sink: str
    kind: str  # main | escalation
    channel: str | None
    message_id: str | None
    delivered_version: int
    updated_at: str
    shown_status: str  # the incident's status (open | resolved) the message shows
    shown_workflow: int  # the workflow version the message shows
    shown_event: int  # the last workflow event its thread shows


class Silence(TypedDict):
    """A silence: alerts whose labels match every matcher are muted while it lasts."""

    id: int
    matchers: dict[str, str]
    starts_at: str
    ends_at: str
    comment: str | None
    created_at: str
    expired_at: str | None


class RuleAlert(TypedDict):
    """An alert as a backtest reports it."""

    event_at: str
    severity: str
    summary: str
    reasons: list[str]
    incident_id: int | None


class DayReportRow(TypedDict):
    """A digest line: a mention of the day, its score (None if unscored) and its alerts."""

    created_at: str
    brand: str
    source: str
    author: str | None
    author_followers: int | None
    text: str
    url: str | None
    likes: int
    shares: int
    replies: int
    sentiment: float | None
    complaint: float | None
    severity: float | None
    viral_risk: float | None
    predicted_engagement_24h: float | None
    category: str | None
    reasons: list[str] | None
    alert_status: str | None
    alert_rules: str | None
    key: str


class SinkPost(TypedDict):
    """One post a sink makes for an incident (`slot`: main, reply:<version>, escalation...),
    keyed before it is sent: `post_key` travels in the message's metadata, `in_doubt` counts
    attempts whose outcome is unknown, `message_id` is set once the post is known to exist.
    `first_attempt_at` is epoch seconds, the clock of the service's timestamps."""

    sink: str
    incident_id: int
    slot: str
    post_key: str
    channel: str
    thread_ts: str | None
    first_attempt_at: float
    attempts: int
    in_doubt: int
    message_id: str | None
    channel_id: str | None
    last_error: str | None
    updated_at: str


# -- the answering workflow (reputation/workflow.py) -------------------------------------------

WORKFLOW_STATES = (
    "new", "acknowledged", "assigned", "responded", "closed", "snoozed", "dismissed",
)  # fmt: skip


class WorkflowRow(TypedDict):
    """An incident's place in the answering workflow. `version` grows with every change of
    state (a click carries the version it was shown, and loses if it moved); `sla_from` is
    when its SLA clock started (None: from before the workflow, no SLA), `paused_seconds`
    how long it was snoozed."""

    incident_id: int
    state: str
    version: int
    assignee: str | None
    assignee_name: str | None
    acknowledged_at: str | None
    acknowledged_by: str | None
    first_response_at: str | None
    responded_at: str | None
    snoozed_until: str | None
    snoozed_from: str | None
    snoozed_at: str | None
    paused_seconds: float
    sla_from: str | None
    updated_at: str


class Transition(TypedDict):
    """One event in an incident's history: a change of state, or a note that changes none
    (a public reply found, an SLA escalation). `source` is button, command or automatic."""

    id: int
    incident_id: int
    version: int
    action: str
    from_state: str
    to_state: str
    actor: str
    actor_name: str
    source: str
    detail: dict[str, Any]
    at: str


class BrandReply(TypedDict):
    """A public reply by one of the brand's own accounts in an incident's conversation."""

    key: str
    mention_key: str
    author: str | None
    text: str
    url: str | None
    created_at: str


class IncidentListing(TypedDict):
    """An incident as `reputation incidents` lists it."""

    id: int
    brand: str
    category: str
    state: str
    assignee: str | None
    severity: str
    headline: str
    opened_at: str
    acknowledged_at: str | None
    first_response_at: str | None


class WorkflowFact(TypedDict):
    """What the workflow numbers are computed from: one incident's brand, category, times
    and SLA breaches."""

    id: int
    brand: str
    category: str
    severity: str
    state: str
    opened_at: str
    sla_from: str | None
    acknowledged_at: str | None
    first_response_at: str | None
    breaches: int


class LabelRow(TypedDict):
    """A mention labeled by a person's click: relevant (marked responded) or not."""

    key: str
    text: str
    label: str
    incident_id: int
    actor_name: str
    at: str
