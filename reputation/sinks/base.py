"""The sink contract: the Sink protocol, what a sink is shown (IncidentView) and returns
(Delivered), and the errors it raises."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from reputation.models import (
    SEVERITY_LEVELS,
    AlertRow,
    BrandReply,
    IncidentMessage,
    IncidentSummary,
    ScoredMention,
    SinkPost,
    Transition,
    WorkflowRow,
)
from reputation.validate import Field


class SinkUnavailable(Exception):
    """The sink cannot run at all (a missing secret, say); it is skipped with a warning."""


class SinkError(Exception):
    """A send failed. `permanent` failures never succeed on retry; `scope` says what to pause:
    `alert` (only this one), `channel` (this route for the rest of the run) or `sink` (all).
    `code` is the service's own error code, if it gave one; `retry_after` (seconds) asks that
    the sink not be called again before then, also on later runs."""

    def __init__(
        self, message: str, *, permanent: bool = False, scope: str = "sink",
        code: str | None = None, retry_after: float | None = None,
    ):  # fmt: skip
        super().__init__(message)
        self.permanent = permanent
        self.scope = scope
        self.code = code
        self.retry_after = retry_after


class PostLog(Protocol):
    """Where a sink keeps, between runs, each post it makes for one incident (a `slot`: main,
    reply:<version>, escalation...). A post is begun before it is sent, so one whose outcome
    is unknown (a dropped connection, a 500, a timeout, a crash) can be looked for, by its
    key, before it is made again; a sink that cannot double-post may ignore it."""

    def get(self, slot: str) -> SinkPost | None:
        """The post's record, if it was ever attempted."""
        ...

    def begin(self, slot: str, channel: str, thread_ts: str | None, at: float) -> SinkPost:
        """One more attempt, in doubt until `done` or `failed`; `at` is epoch seconds."""
        ...

    def done(self, slot: str, message_id: str, channel_id: str | None) -> None:
        """The post exists (the service confirmed it, or it was found)."""
        ...

    def failed(self, slot: str, error: str, *, sent: bool | None) -> None:
        """The last attempt failed: surely not sent (`sent=False`), or unknown (None)."""
        ...

    def absent(self, slot: str) -> None:
        """No earlier attempt is where it would be: none is in doubt any more."""
        ...

    def channel_id(self, channel: str) -> str | None:
        """The id the service gave a channel addressed by name, on an earlier post."""
        ...

    def warn(self, message: str) -> None:
        """A run warning (given once per run however often it is said)."""
        ...


@dataclass
class MemoryPostLog:
    """A PostLog kept in memory: for views built outside a run (tests, previews)."""

    posts: dict[str, SinkPost] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def get(self, slot: str) -> SinkPost | None:
        """The post's record, if it was ever attempted."""
        return self.posts.get(slot)

    def begin(self, slot: str, channel: str, thread_ts: str | None, at: float) -> SinkPost:
        """One more attempt, in doubt until `done` or `failed`."""
        post = self.posts.get(slot) or SinkPost(
            sink="", incident_id=0, slot=slot, post_key=secrets.token_hex(12), channel=channel,
            thread_ts=thread_ts, first_attempt_at=at, attempts=0, in_doubt=0, message_id=None,
            channel_id=None, last_error=None, updated_at="",
        )  # fmt: skip
        post["channel"], post["thread_ts"] = channel, thread_ts
        post["attempts"] += 1
        post["in_doubt"] += 1
        self.posts[slot] = post
        return post

    def done(self, slot: str, message_id: str, channel_id: str | None) -> None:
        """The post exists."""
        post = self.posts[slot]
        post["message_id"], post["in_doubt"], post["last_error"] = message_id, 0, None
        post["channel_id"] = channel_id or post["channel_id"]

    def failed(self, slot: str, error: str, *, sent: bool | None) -> None:
        """The last attempt failed: surely not sent, or unknown."""
        post = self.posts[slot]
        post["last_error"] = error
        if sent is False:
            post["in_doubt"] = max(0, post["in_doubt"] - 1)

    def absent(self, slot: str) -> None:
        """None of the earlier attempts is in doubt any more."""
        self.posts[slot]["in_doubt"] = 0

    def channel_id(self, channel: str) -> str | None:
        """The id an earlier post to `channel` was given, if any."""
        return next((p["channel_id"] for p in self.posts.values()
                     if p["channel"] == channel and p["channel_id"]), None)  # fmt: skip

    def warn(self, message: str) -> None:
        """Keep a warning once."""
        if message not in self.warnings:
            self.warnings.append(message)


@dataclass(frozen=True)
class Delivered:
    """What a sink confirmed: the message id it assigned and the channel it went to."""

    message_id: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class WorkflowView:
    """Where an incident stands in the answering workflow: its state row, the latest change
    of state (who moved it, when, from where) and the brand's first public reply, if any."""

    state: WorkflowRow
    last: Transition | None = None
    reply: BrandReply | None = None


@dataclass(frozen=True)
class IncidentView:
    """What a sink shows of an incident: the incident (with `mentions` and `reach`), the
    alerts being delivered now, its top mentions, the mentions new since the sink last showed
    it (and how many), the critical route for escalations, the log where the sink keeps
    its posts of this incident between runs, the incident's headline alert, the span
    of its mentions (first and last created_at), and its place in the answering workflow."""

    incident: IncidentSummary
    alerts: Sequence[AlertRow]
    top: Sequence[ScoredMention]
    new: Sequence[ScoredMention] = ()
    new_count: int = 0
    critical_route: str | None = None
    log: PostLog = field(default_factory=MemoryPostLog)
    headline: AlertRow | None = None
    span: tuple[str, str] | None = None
    workflow: WorkflowView | None = None

    @property
    def lead(self) -> AlertRow:
        """The most severe alert being delivered (the first on ties); with none (a status
        change), the headline."""
        if not self.alerts:
            if self.headline is None:
                raise ValueError("an incident view needs alerts or a headline")
            return self.headline
        return max(self.alerts, key=lambda a: SEVERITY_LEVELS.index(a["severity"]))

    @property
    def title_alert(self) -> AlertRow:
        """The alert the incident is known by: its headline (most severe, then most engaged,
        of all its alerts), else the lead of those delivered now."""
        return self.headline or self.lead


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
