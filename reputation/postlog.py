"""Where a sink keeps its posts of an incident between runs: the ledger's `sink_posts`, seen
through the PostLog protocol a sink is given (reputation/sinks/base.py)."""

from __future__ import annotations

from datetime import datetime

from reputation.ledger import Ledger
from reputation.models import SinkPost


class LedgerPostLog:
    """A sink's posts of one incident, kept in the ledger (the PostLog a sink is given), so
    a post whose outcome was unknown is looked for before it is made again, on any later
    run; warnings go to the run's, once each."""

    def __init__(
        self, ledger: Ledger, sink: str, incident_id: int, now: datetime, warnings: list[str]
    ) -> None:
        self.ledger, self.sink, self.incident_id = ledger, sink, incident_id
        self.now, self.warnings = now, warnings

    def get(self, slot: str) -> SinkPost | None:
        """The post's record, if it was ever attempted."""
        return self.ledger.sink_post(self.sink, self.incident_id, slot)

    def begin(self, slot: str, channel: str, thread_ts: str | None, at: float) -> SinkPost:
        """One more attempt, committed before it is sent."""
        return self.ledger.begin_sink_post(
            self.sink, self.incident_id, slot, channel, thread_ts, at, self.now
        )

    def done(self, slot: str, message_id: str, channel_id: str | None) -> None:
        """The post exists."""
        self.ledger.sink_post_done(
            self.sink, self.incident_id, slot, message_id, channel_id, self.now
        )

    def failed(self, slot: str, error: str, *, sent: bool | None) -> None:
        """The last attempt failed: surely not sent (False), or unknown (None)."""
        self.ledger.sink_post_failed(self.sink, self.incident_id, slot, error, self.now,
                                     sent=sent)  # fmt: skip

    def absent(self, slot: str) -> None:
        """No earlier attempt is in the channel."""
        self.ledger.sink_post_absent(self.sink, self.incident_id, slot, self.now)

    def channel_id(self, channel: str) -> str | None:
        """The id an earlier post to `channel` was given."""
        return self.ledger.sink_channel_id(self.sink, channel)

    def warn(self, message: str) -> None:
        """A run warning, once per run."""
        if message not in self.warnings:
            self.warnings.append(message)


class NoticePostLog:
    """A sink's posts that belong to no incident (a health change, the day in Slack), kept
    in the ledger's `notice_posts`: the same promise, a post at most once, looked for before
    it is made again where its outcome was unknown."""

    def __init__(self, ledger: Ledger, sink: str, now: datetime, warnings: list[str]) -> None:
        self.ledger, self.sink, self.now, self.warnings = ledger, sink, now, warnings

    def get(self, slot: str) -> SinkPost | None:
        """The post's record, if it was ever attempted."""
        return self.ledger.notice_post(self.sink, slot)

    def begin(self, slot: str, channel: str, thread_ts: str | None, at: float) -> SinkPost:
        """One more attempt, committed before it is sent."""
        return self.ledger.begin_notice_post(self.sink, slot, channel, thread_ts, at, self.now)

    def done(self, slot: str, message_id: str, channel_id: str | None) -> None:
        """The post exists."""
        self.ledger.notice_post_done(self.sink, slot, message_id, channel_id, self.now)

    def failed(self, slot: str, error: str, *, sent: bool | None) -> None:
        """The last attempt failed: surely not sent (False), or unknown (None)."""
        self.ledger.notice_post_failed(self.sink, slot, error, self.now, sent=sent)

    def absent(self, slot: str) -> None:
        """No earlier attempt is in the channel."""
        self.ledger.notice_post_absent(self.sink, slot, self.now)

    def channel_id(self, channel: str) -> str | None:
        """The id an earlier post to `channel` was given."""
        return self.ledger.notice_channel_id(self.sink, channel)

    def warn(self, message: str) -> None:
        """A warning, once."""
        if message not in self.warnings:
            self.warnings.append(message)
