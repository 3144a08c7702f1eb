"""The alert ledger: alerts, their deliveries per sink, incidents and the messages that show
them, and silences. It shares the Store's connection, so one transaction spans both."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar, cast

from reputation.models import (
    SEVERITY_LEVELS,
    Alert,
    AlertRow,
    BrandReply,
    DayReportRow,
    IncidentListing,
    IncidentMessage,
    IncidentRow,
    IncidentSummary,
    LabelRow,
    PendingDelivery,
    RuleAlert,
    ScoredMention,
    Silence,
    SinkPost,
    Transition,
    WorkflowFact,
    WorkflowRow,
)
from reputation.store import SCORED_SELECT, Tables
from reputation.timeutil import iso

A = TypeVar("A", AlertRow, PendingDelivery, RuleAlert)
# Every ledger table, in an order that deletes dependants first.
LEDGER_TABLES = (
    "alert_mentions",
    "deliveries",
    "alerts",
    "incident_mentions",
    "sink_posts",
    "incident_messages",
    "incidents",
    "silences",
    "sink_state",
    "incident_transitions",
    "incident_escalations",
    "incident_workflow",
    "slack_requests",
)
# Workflow columns a state change may set (the only names that reach its SQL).
WORKFLOW_SETTABLE = frozenset(
    """assignee assignee_name acknowledged_at acknowledged_by first_response_at responded_at
    snoozed_until snoozed_from snoozed_at paused_seconds""".split()
)


class Ledger(Tables):
    """What was alerted, grouped, muted and delivered: the notification log."""

    def _alerts(self, kind: type[A], sql: str, params: Sequence[Any] = ()) -> list[A]:
        """Alert rows of TypedDict `kind`, their JSON `reasons` (and `labels`, if selected)
        decoded once, here."""
        rows = self._rows(sql, params)
        for row in rows:
            row["reasons"] = json.loads(row["reasons"])
            if "labels" in row:
                row["labels"] = json.loads(row["labels"])
        return cast("list[A]", rows)

    # -- alerts ---------------------------------------------------------------------------

    def has_alert(self, fingerprint: str) -> bool:
        """Whether the ledger already holds this alert."""
        return bool(self._rows("SELECT 1 FROM alerts WHERE fingerprint = ?", [fingerprint]))

    def group_alerts(self, group_key: str, start: datetime, end: datetime) -> list[AlertRow]:
        """Alerts of one group whose event time falls in [start, end]."""
        return self._alerts(
            AlertRow,
            "SELECT * FROM alerts WHERE group_key = ? AND event_at >= ? AND event_at <= ?",
            [group_key, iso(start), iso(end)],
        )

    def alerts_of_groups(
        self, group_keys: Sequence[str], start: datetime, end: datetime
    ) -> list[dict[str, str]]:
        """(group_key, event_at, severity) of the alerts of these groups with event time in
        [start, end]: one indexed read per 500 groups."""
        found: list[dict[str, str]] = []
        for first in range(0, len(group_keys), 500):
            chunk = list(group_keys[first : first + 500])
            marks = ", ".join("?" * len(chunk))
            found += self._rows(
                "SELECT group_key, event_at, severity FROM alerts"  # noqa: S608
                f" WHERE group_key IN ({marks}) AND event_at >= ? AND event_at <= ?",
                [*chunk, iso(start), iso(end)],
            )
        return found

    def record_alert(
        self,
        alert: Alert,
        sinks: Sequence[str],
        now: datetime,
        incident_id: int | None = None,
        muted: str | None = None,
    ) -> bool:
        """Write an alert: muted (with the reason, no deliveries, no incident), or in its
        incident and pending with a delivery per sink (sent at once when there is no sink).
        False if it was already recorded."""
        if (incident_id is None) == (muted is None):
            raise ValueError("an alert is either muted or in an incident, never both or neither")
        stamp = iso(now)
        status = "muted" if muted else "pending" if sinks else "sent"
        cursor = self._db.execute(
            "INSERT OR IGNORE INTO alerts (fingerprint, rule, group_key, severity, status, brand,"
            " summary, reasons, route, labels, event_at, created_at, updated_at, incident_id,"
            " muted_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                alert.fingerprint,
                alert.rule,
                alert.group_key,
                alert.severity,
                status,
                alert.brand,
                alert.summary,
                json.dumps(list(alert.reasons)),
                alert.route,
                json.dumps(alert.labels),
                iso(alert.event_at),
                stamp,
                stamp,
                incident_id,
                muted,
            ],
        )
        if cursor.rowcount == 0:
            return False
        for key in alert.evidence:
            self._db.execute(
                "INSERT OR IGNORE INTO alert_mentions (fingerprint, mention_key) VALUES (?, ?)",
                [alert.fingerprint, key],
            )
        for sink in () if muted else sinks:
            self._db.execute(
                "INSERT INTO deliveries (fingerprint, sink, status, updated_at)"
                " VALUES (?, ?, 'pending', ?)",
                [alert.fingerprint, sink, stamp],
            )
        return True

    def resolve_alerts(self, group_key: str, now: datetime) -> int:
        """Mark the group's unresolved alerts resolved (a flatline's mentions came back)."""
        return self._db.execute(
            "UPDATE alerts SET resolved_at = ?, updated_at = ? WHERE group_key = ?"
            " AND resolved_at IS NULL",
            [iso(now), iso(now), group_key],
        ).rowcount

    # -- incidents ------------------------------------------------------------------------

    def open_incident(
        self,
        brand: str,
        category: str,
        severity: str,
        title: str,
        route: str | None,
        event_at: datetime,
        now: datetime,
    ) -> int:
        """Open an incident (version 1) and return its id."""
        return self._insert(
            "INSERT INTO incidents (brand, category, severity, status, title, route, opened_at,"
            " last_event_at, updated_at) VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?)",
            [brand, category, severity, title, route, iso(event_at), iso(event_at), iso(now)],
        )

    def grow_incident(
        self, incident: IncidentRow, severity: str, event_at: datetime, now: datetime
    ) -> int:
        """Record a new alert in `incident`: raise its severity if higher, widen its time
        span, reopen it; return its new version."""
        level = max(incident["severity"], severity, key=SEVERITY_LEVELS.index)
        version = incident["version"] + 1
        self._db.execute(
            "UPDATE incidents SET severity = ?, version = ?, status = 'open', resolved_at = NULL,"
            " opened_at = MIN(opened_at, ?), last_event_at = MAX(last_event_at, ?),"
            " updated_at = ? WHERE id = ?",
            [level, version, iso(event_at), iso(event_at), iso(now), incident["id"]],
        )
        return version

    def add_incident_mentions(self, incident_id: int, hashes: dict[str, str], version: int) -> None:
        """Add mentions (key -> text hash) to an incident, as of `version`."""
        for key, digest in hashes.items():
            self._db.execute(
                "INSERT OR IGNORE INTO incident_mentions (incident_id, mention_key, text_hash,"
                " added_version) VALUES (?, ?, ?, ?)",
                [incident_id, key, digest, version],
            )

    def _incident_where(
        self,
        join: str,
        condition: str,
        values: Sequence[Any],
        brand: str,
        start: datetime,
        end: datetime,
    ) -> IncidentRow | None:
        if not values:
            return None
        marks = ", ".join("?" * len(values))
        rows = self._typed(
            IncidentRow,
            "SELECT DISTINCT i.* FROM incidents i JOIN incident_mentions im"  # noqa: S608
            f" ON im.incident_id = i.id {join} WHERE i.brand = ? AND i.category != 'pipeline'"
            f" AND i.last_event_at >= ? AND i.opened_at <= ? AND {condition} IN ({marks})"
            " ORDER BY i.last_event_at DESC LIMIT 1",
            [brand, iso(start), iso(end), *values],
        )
        return rows[0] if rows else None

    def incident_with_mentions(
        self, brand: str, keys: Sequence[str], start: datetime, end: datetime
    ) -> IncidentRow | None:
        """An incident active in [start, end] holding any of these mention keys."""
        return self._incident_where("", "im.mention_key", keys, brand, start, end)

    def incident_linked_to(
        self,
        brand: str,
        link: Literal["parent_id", "thread_id"],
        keys: Sequence[str],
        start: datetime,
        end: datetime,
    ) -> IncidentRow | None:
        """An incident active in [start, end] holding a mention whose `link` is one of these
        `"{source}:{id}"` keys: a reply to or quote of them (parent_id), or a post of the same
        conversation (thread_id)."""
        column = {"parent_id": "m.parent_id", "thread_id": "m.thread_id"}[link]  # never input
        return self._incident_where(
            "JOIN mentions m ON m.key = im.mention_key",
            f"m.source || ':' || {column}",
            keys,
            brand,
            start,
            end,
        )

    def incident_with_hashes(
        self, brand: str, hashes: Sequence[str], start: datetime, end: datetime
    ) -> IncidentRow | None:
        """An incident active in [start, end] holding a copy of one of these texts."""
        return self._incident_where("", "im.text_hash", hashes, brand, start, end)

    def incident_of_category(
        self, brand: str, category: str, start: datetime, end: datetime, *, critical: bool = False
    ) -> IncidentRow | None:
        """The latest incident of `brand` and `category` active in [start, end]; with
        `critical`, the latest critical one (inhibition)."""
        rows = self._typed(
            IncidentRow,
            "SELECT * FROM incidents WHERE brand = ? AND category = ? AND last_event_at >= ?"
            " AND opened_at <= ? AND (severity = 'critical' OR NOT ?)"
            " ORDER BY last_event_at DESC LIMIT 1",
            [brand, category, iso(start), iso(end), critical],
        )
        return rows[0] if rows else None

    def resolve_incidents(self, quiet_since: str, now: datetime) -> int:
        """Resolve open incidents not changed since `quiet_since` (wall-clock)."""
        return self._db.execute(
            "UPDATE incidents SET status = 'resolved', resolved_at = ? WHERE status = 'open'"
            " AND updated_at < ?",
            [iso(now), quiet_since],
        ).rowcount

    def incident(self, incident_id: int) -> IncidentSummary:
        """An incident with its mention count and total reach (followers, each author once)."""
        [row] = self._typed(
            IncidentSummary,
            "SELECT i.*, (SELECT COUNT(*) FROM incident_mentions WHERE incident_id = i.id)"
            " AS mentions, (SELECT COALESCE(SUM(followers), 0) FROM (SELECT MAX(COALESCE("
            "m.author_followers, 0)) AS followers FROM incident_mentions im JOIN mentions m"
            " ON m.key = im.mention_key WHERE im.incident_id = i.id"
            " GROUP BY COALESCE(m.author, m.key))) AS reach FROM incidents i WHERE i.id = ?",
            [incident_id],
        )
        return row

    def incident_evidence(
        self, incident_id: int, since_version: int = 0, limit: int = 5
    ) -> list[ScoredMention]:
        """An incident's mentions added after `since_version`, most severe first: by the
        level of the alerts that cite them, then engagement, then score (so a smaller reply
        joining never comes before the post that made the incident)."""
        return self._scored(
            SCORED_SELECT + " JOIN incident_mentions im ON im.mention_key = m.key"  # noqa: S608
            " WHERE im.incident_id = ? AND im.added_version > ?"
            " ORDER BY (SELECT MAX(CASE a.severity WHEN 'critical' THEN 2 WHEN 'warning'"
            " THEN 1 ELSE 0 END) FROM alert_mentions am JOIN alerts a"
            " ON a.fingerprint = am.fingerprint WHERE am.mention_key = m.key"
            " AND a.incident_id = im.incident_id AND a.status != 'muted') DESC,"
            " m.likes + m.shares + m.replies DESC, s.severity DESC, m.created_at, m.key"
            " LIMIT ?",
            [incident_id, since_version, limit],
        )

    def count_incident_mentions(self, incident_id: int, since_version: int = 0) -> int:
        """How many mentions an incident gained after `since_version`."""
        return self._rows(
            "SELECT COUNT(*) AS n FROM incident_mentions WHERE incident_id = ?"
            " AND added_version > ?",
            [incident_id, since_version],
        )[0]["n"]

    # -- messages and deliveries ----------------------------------------------------------

    def incident_message(
        self, incident_id: int, sink: str, kind: str = "main"
    ) -> IncidentMessage | None:
        """The message a sink posted for an incident (main thread or escalation), if any."""
        rows = self._typed(
            IncidentMessage,
            "SELECT * FROM incident_messages WHERE incident_id = ? AND sink = ? AND kind = ?",
            [incident_id, sink, kind],
        )
        return rows[0] if rows else None

    def save_incident_message(
        self,
        incident_id: int,
        sink: str,
        kind: str,
        channel: str | None,
        message_id: str | None,
        version: int,
        now: datetime,
        status: str = "open",
    ) -> None:
        """Record what a sink has shown of an incident: up to `version`, as `status`."""
        self._db.execute(
            "INSERT INTO incident_messages (incident_id, sink, kind, channel, message_id,"
            " delivered_version, updated_at, shown_status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (incident_id, sink, kind) DO UPDATE SET"
            " channel = COALESCE(excluded.channel, channel),"
            " message_id = COALESCE(excluded.message_id, message_id),"
            " delivered_version = excluded.delivered_version, updated_at = excluded.updated_at,"
            " shown_status = excluded.shown_status",
            [incident_id, sink, kind, channel, message_id, version, iso(now), status],
        )

    def incidents_to_refresh(self, sink: str) -> list[int]:
        """Incidents whose status changed (resolved, say) since `sink` last showed them, with
        nothing waiting to be delivered that would show it anyway; oldest first."""
        return [
            row["incident_id"]
            for row in self._rows(
                "SELECT m.incident_id FROM incident_messages m JOIN incidents i"
                " ON i.id = m.incident_id WHERE m.sink = ? AND m.kind = 'main'"
                " AND m.shown_status != i.status AND NOT EXISTS (SELECT 1 FROM deliveries d"
                " JOIN alerts a ON a.fingerprint = d.fingerprint WHERE a.incident_id = i.id"
                " AND d.sink = m.sink AND d.status = 'pending') ORDER BY m.incident_id",
                [sink],
            )
        ]

    def incident_span(self, incident_id: int) -> tuple[str, str] | None:
        """When an incident's first and last mentions were created (UTC ISO text)."""
        [row] = self._rows(
            "SELECT MIN(m.created_at) AS first, MAX(m.created_at) AS last FROM incident_mentions"
            " im JOIN mentions m ON m.key = im.mention_key WHERE im.incident_id = ?",
            [incident_id],
        )
        return (row["first"], row["last"]) if row["first"] else None

    # -- a sink's posts, keyed before they are sent ----------------------------------------

    def sink_post(self, sink: str, incident_id: int, slot: str) -> SinkPost | None:
        """What a sink attempted for one post of an incident, if anything."""
        rows = self._typed(
            SinkPost,
            "SELECT * FROM sink_posts WHERE sink = ? AND incident_id = ? AND slot = ?",
            [sink, incident_id, slot],
        )
        return rows[0] if rows else None

    def begin_sink_post(
        self, sink: str, incident_id: int, slot: str, channel: str, thread_ts: str | None,
        at: float, now: datetime,
    ) -> SinkPost:  # fmt: skip
        """Record, before it is sent, one more attempt of a post whose outcome stays in doubt
        until `sink_post_done` or `sink_post_not_sent`; the post's key is made on its first
        attempt (`at`: epoch seconds) and kept for every later one."""
        self._db.execute(
            "INSERT INTO sink_posts (sink, incident_id, slot, post_key, channel, thread_ts,"
            " first_attempt_at, attempts, in_doubt, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 1, 1, ?) ON CONFLICT (sink, incident_id, slot)"
            " DO UPDATE SET attempts = attempts + 1, in_doubt = in_doubt + 1,"
            " channel = excluded.channel, thread_ts = excluded.thread_ts,"
            " updated_at = excluded.updated_at",
            [sink, incident_id, slot, secrets.token_hex(12), channel, thread_ts, at, iso(now)],
        )
        found = self.sink_post(sink, incident_id, slot)
        assert found is not None
        return found

    def sink_post_done(
        self, sink: str, incident_id: int, slot: str, message_id: str, channel_id: str | None,
        now: datetime,
    ) -> None:  # fmt: skip
        """The post exists (confirmed, or found in the channel): nothing is in doubt."""
        self._db.execute(
            "UPDATE sink_posts SET message_id = ?, channel_id = COALESCE(?, channel_id),"
            " in_doubt = 0, last_error = NULL, updated_at = ?"
            " WHERE sink = ? AND incident_id = ? AND slot = ?",
            [message_id, channel_id, iso(now), sink, incident_id, slot],
        )

    def sink_post_failed(
        self, sink: str, incident_id: int, slot: str, error: str, now: datetime, *,
        sent: bool | None,
    ) -> None:  # fmt: skip
        """An attempt failed: surely not sent (`sent=False`: one doubt fewer), or with its
        outcome unknown (`sent=None`: the doubt stays); `error` says which."""
        self._db.execute(
            "UPDATE sink_posts SET in_doubt = MAX(0, in_doubt - ?), last_error = ?,"
            " updated_at = ? WHERE sink = ? AND incident_id = ? AND slot = ?",
            [0 if sent is None else 1, error, iso(now), sink, incident_id, slot],
        )

    def sink_post_absent(self, sink: str, incident_id: int, slot: str, now: datetime) -> None:
        """The channel was read and no earlier attempt of this post is in it: none is in
        doubt any more."""
        self._db.execute(
            "UPDATE sink_posts SET in_doubt = 0, updated_at = ?"
            " WHERE sink = ? AND incident_id = ? AND slot = ?",
            [iso(now), sink, incident_id, slot],
        )

    def sink_channel_id(self, sink: str, channel: str) -> str | None:
        """The id the service gave `channel` (as configured, a `#name`) on an earlier post."""
        rows = self._rows(
            "SELECT channel_id FROM sink_posts WHERE sink = ? AND channel = ?"
            " AND channel_id IS NOT NULL ORDER BY updated_at DESC LIMIT 1",
            [sink, channel],
        )
        return rows[0]["channel_id"] if rows else None

    # -- per-sink state -------------------------------------------------------------------

    def sink_retry_at(self, sink: str) -> str | None:
        """When a rate-limited sink may be called again (UTC ISO text), if it was limited."""
        rows = self._rows("SELECT retry_at FROM sink_state WHERE sink = ?", [sink])
        return rows[0]["retry_at"] if rows else None

    def sink_rate_limited(self, sink: str, retry_at: datetime, error: str, now: datetime) -> None:
        """Keep a rate limit's end, so no later run calls the sink before it."""
        self._db.execute(
            "INSERT INTO sink_state (sink, retry_at, last_error, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (sink) DO UPDATE SET retry_at = excluded.retry_at,"
            " last_error = excluded.last_error, updated_at = excluded.updated_at",
            [sink, iso(retry_at), error, iso(now)],
        )

    def claim_deliveries(
        self, sink: str, claimant: str, now: datetime, hold: timedelta, incidents: int = 50,
        run_id: int | None = None,
    ) -> list[PendingDelivery]:  # fmt: skip
        """Claim for `claimant` (of run `run_id`, if any) until `now + hold` the pending
        deliveries to `sink` of up to `incidents` incidents, each incident whole, oldest alert
        first; return them with their alert's fields in (created_at, event_at, fingerprint)
        order. A delivery is free when unclaimed, when its claim ended (`claimed_until` <=
        `now`) or when its claimant's run is no longer running (crashed); an incident with a
        delivery claimed and not free (by anyone, `claimant` too) is left out. One short
        transaction, committed before anything is sent; PostgreSQL takes the rows with
        `FOR UPDATE SKIP LOCKED` (decision 160)."""
        stamp = iso(now)
        with self._db.atomic():
            chosen: list[int] = []
            for row in self._rows(
                "SELECT a.incident_id FROM deliveries d JOIN alerts a"  # noqa: S608
                " ON a.fingerprint = d.fingerprint WHERE d.sink = ? AND d.status = 'pending'"
                f" AND {_FREE.format(d='d')} AND NOT EXISTS (SELECT 1 FROM deliveries o"
                " JOIN alerts b ON b.fingerprint = o.fingerprint"
                " WHERE b.incident_id = a.incident_id AND o.sink = d.sink"
                f" AND o.status = 'pending' AND NOT {_FREE.format(d='o')})"
                " ORDER BY a.created_at, a.event_at, a.fingerprint",
                [sink, stamp, stamp],
            ):
                if row["incident_id"] not in chosen:
                    chosen.append(row["incident_id"])
                    if len(chosen) == incidents:
                        break
            if not chosen:
                return []
            marks = ", ".join("?" * len(chosen))
            lock = " FOR UPDATE OF d SKIP LOCKED" if self._db.dialect == "postgresql" else ""
            taken = [
                r["fingerprint"]
                for r in self._rows(
                    "SELECT d.fingerprint FROM deliveries d JOIN alerts a"  # noqa: S608
                    " ON a.fingerprint = d.fingerprint WHERE d.sink = ?"
                    f" AND d.status = 'pending' AND a.incident_id IN ({marks})"
                    f" AND {_FREE.format(d='d')}{lock}",
                    [sink, *chosen, stamp],
                )
            ]
            for first in range(0, len(taken), 500):
                chunk = taken[first : first + 500]
                self._db.execute(
                    "UPDATE deliveries SET claimed_by = ?, claimed_run = ?,"  # noqa: S608
                    f" claimed_until = ? WHERE sink = ? AND fingerprint IN"
                    f" ({', '.join('?' * len(chunk))})",
                    [claimant, run_id, iso(now + hold), sink, *chunk],
                )
        return self._alerts(
            PendingDelivery,
            "SELECT a.*, d.sink, d.attempts FROM deliveries d"  # noqa: S608
            " JOIN alerts a ON a.fingerprint = d.fingerprint"
            " WHERE d.sink = ? AND d.status = 'pending' AND d.claimed_by = ?"
            f" AND a.incident_id IN ({marks})"
            " ORDER BY a.created_at, a.event_at, a.fingerprint",
            [sink, claimant, *chosen],
        )

    def release_claims(self, sink: str, claimant: str) -> int:
        """Give up every claim `claimant` holds on deliveries to `sink`; return how many."""
        return self._db.execute(
            "UPDATE deliveries SET claimed_by = NULL, claimed_run = NULL, claimed_until = NULL"
            " WHERE sink = ? AND claimed_by = ?",
            [sink, claimant],
        ).rowcount

    def evidence(self, fingerprint: str, limit: int = 5) -> list[ScoredMention]:
        """An alert's evidence mentions with their scores, most severe first."""
        return self._scored(
            SCORED_SELECT + " JOIN alert_mentions am ON am.mention_key = m.key"
            " WHERE am.fingerprint = ? ORDER BY s.severity DESC, m.created_at LIMIT ?",
            [fingerprint, limit],
        )

    def mark_delivered(
        self,
        fingerprint: str,
        sink: str,
        message_id: str | None,
        channel: str | None,
        now: datetime,
    ) -> None:
        """Record a confirmed delivery and settle the alert's status."""
        stamp = iso(now)
        with self._db.atomic():
            self._db.execute(
                "UPDATE deliveries SET status = 'sent', attempts = attempts + 1, message_id = ?,"
                " channel = ?, sent_at = ?, updated_at = ?, last_error = NULL"
                " WHERE fingerprint = ? AND sink = ?",
                [message_id, channel, stamp, stamp, fingerprint, sink],
            )
            if message_id is not None:
                self._db.execute(
                    "UPDATE alerts SET message_id = COALESCE(message_id, ?) WHERE fingerprint = ?",
                    [message_id, fingerprint],
                )
            self._settle(fingerprint, stamp)

    def mark_undelivered(
        self, fingerprint: str, sink: str, error: str, permanent: bool, now: datetime
    ) -> None:
        """Record a failed attempt: it stays pending unless the failure is permanent."""
        stamp = iso(now)
        with self._db.atomic():
            self._db.execute(
                "UPDATE deliveries SET status = ?, attempts = attempts + 1, last_error = ?,"
                " updated_at = ? WHERE fingerprint = ? AND sink = ?",
                ["failed" if permanent else "pending", error, stamp, fingerprint, sink],
            )
            self._db.execute(
                "UPDATE alerts SET last_error = ? WHERE fingerprint = ?", [error, fingerprint]
            )
            self._settle(fingerprint, stamp)

    def mute_unsent(self, fingerprint: str, reason: str, now: datetime) -> None:
        """Mute an alert at send time: its pending deliveries are dropped and it keeps the
        reason; it is `muted` unless a sink already had it (then its status stays theirs)."""
        stamp = iso(now)
        with self._db.atomic():
            self._db.execute(
                "DELETE FROM deliveries WHERE fingerprint = ? AND status = 'pending'",
                [fingerprint],
            )
            self._db.execute(
                "UPDATE alerts SET muted_reason = ?, updated_at = ? WHERE fingerprint = ?",
                [reason, stamp, fingerprint],
            )
            if self._rows("SELECT 1 FROM deliveries WHERE fingerprint = ?", [fingerprint]):
                self._settle(fingerprint, stamp)
            else:
                self._db.execute(
                    "UPDATE alerts SET status = 'muted' WHERE fingerprint = ?", [fingerprint]
                )

    def _settle(self, fingerprint: str, stamp: str) -> None:
        rows = self._rows("SELECT status FROM deliveries WHERE fingerprint = ?", [fingerprint])
        states = {r["status"] for r in rows}
        status = "pending" if "pending" in states else "failed" if "failed" in states else "sent"
        self._db.execute(
            "UPDATE alerts SET status = ?, updated_at = ?,"
            " sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END"
            " WHERE fingerprint = ? AND status != 'muted'",
            [status, stamp, status, stamp, fingerprint],
        )

    def retry_failed(self, now: datetime) -> int:
        """Put every permanently failed delivery back in the queue; return how many."""
        stamp = iso(now)
        with self._db.atomic():
            # The operator looked: a post given up as possibly sent twice may go once more.
            self._db.execute(
                "UPDATE sink_posts SET in_doubt = 1, updated_at = ? WHERE message_id IS NULL"
                " AND in_doubt > 1 AND EXISTS (SELECT 1 FROM deliveries d JOIN alerts a"
                " ON a.fingerprint = d.fingerprint WHERE d.status = 'failed'"
                " AND d.sink = sink_posts.sink AND a.incident_id = sink_posts.incident_id)",
                [stamp],
            )
            count = self._db.execute(
                "UPDATE deliveries SET status = 'pending', updated_at = ? WHERE status = 'failed'",
                [stamp],
            ).rowcount
            self._db.execute(
                "UPDATE alerts SET status = 'pending', updated_at = ? WHERE status = 'failed'",
                [stamp],
            )
        return count

    def alert_counts(self) -> dict[str, int]:
        """How many alerts the ledger holds in each status."""
        counts = {"pending": 0, "sent": 0, "failed": 0, "muted": 0}
        for row in self._rows("SELECT status, COUNT(*) AS n FROM alerts GROUP BY status"):
            counts[row["status"]] = row["n"]
        return counts

    def incidents_owing_escalation(self, sink: str, before: datetime) -> list[int]:
        """Open critical incidents that `sink` showed below critical on an earlier run (it
        confirmed, before `before`, one of their alerts below critical) and has not yet
        announced as escalated; oldest first."""
        return [
            row["id"]
            for row in self._rows(
                "SELECT i.id FROM incidents i WHERE i.status = 'open' AND i.severity = 'critical'"
                " AND NOT EXISTS (SELECT 1 FROM incident_messages e WHERE e.incident_id = i.id"
                " AND e.sink = ? AND e.kind = 'escalation')"
                " AND EXISTS (SELECT 1 FROM alerts a JOIN deliveries d"
                " ON d.fingerprint = a.fingerprint WHERE a.incident_id = i.id AND d.sink = ?"
                " AND d.status = 'sent' AND a.severity != 'critical' AND d.sent_at < ?)"
                " ORDER BY i.id",
                [sink, sink, iso(before)],
            )
        ]

    def incident_headline(self, incident_id: int) -> AlertRow | None:
        """The alert an incident is known by: its most severe, then the one whose evidence
        is most engaged, then the earliest (a smaller reply joining never takes over)."""
        rows = self._alerts(
            AlertRow,
            "SELECT a.* FROM alerts a WHERE a.incident_id = ? AND a.status != 'muted'"
            " ORDER BY CASE a.severity WHEN 'critical' THEN 2 WHEN 'warning' THEN 1 ELSE 0 END"
            " DESC, (SELECT MAX(m.likes + m.shares + m.replies) FROM alert_mentions am"
            " JOIN mentions m ON m.key = am.mention_key WHERE am.fingerprint = a.fingerprint)"
            " DESC, a.event_at, a.fingerprint LIMIT 1",
            [incident_id],
        )
        return rows[0] if rows else None

    # -- listing and reports --------------------------------------------------------------

    def alerts(self, status: str | None = None, limit: int = 50) -> list[AlertRow]:
        """The newest alerts (of one `status`, if given), newest first."""
        where, params = ("WHERE status = ?", [status]) if status else ("", [])
        return self._alerts(
            AlertRow,
            f"SELECT * FROM alerts {where} ORDER BY created_at DESC LIMIT ?",  # noqa: S608
            [*params, limit],
        )

    def alerts_of_rule(self, rule: str) -> list[RuleAlert]:
        """Every alert of `rule`, in event time order (a backtest's report)."""
        return self._alerts(
            RuleAlert,
            "SELECT event_at, severity, summary, reasons, incident_id FROM alerts WHERE rule = ?"
            " ORDER BY event_at",
            [rule],
        )

    def day_report(
        self, start: datetime, end: datetime, chunk: int = 2000
    ) -> Iterator[list[DayReportRow]]:
        """Mentions created in [start, end), most severe first, with their scores, their
        alerts' best status (sent, pending, failed, muted) and rules; `chunk` rows at a time."""
        cursor = self._db.execute(_DAY_REPORT, [iso(start), iso(end)])
        names = [d[0] for d in cursor.description]
        while batch := cursor.fetchmany(chunk):
            rows = [cast("DayReportRow", dict(zip(names, row, strict=True))) for row in batch]
            for row in rows:  # unscored mentions have no reasons
                reasons = cast("str | None", row["reasons"])
                row["reasons"] = json.loads(reasons) if reasons is not None else None
            yield rows

    def clear(self) -> None:
        """Delete every alert, incident and silence (a backtest's throwaway copy)."""
        for table in LEDGER_TABLES:
            self._db.execute(f"DELETE FROM {table}")  # noqa: S608 - names from a constant

    # -- forgetting a person (reputation/privacy.py) ---------------------------------------

    def forget_evidence(
        self, keys: Sequence[str], handle: str, redact: Callable[[str], str], now: datetime
    ) -> dict[str, Any]:
        """Before the mentions `keys` of `handle` are deleted: redact every alert that cites
        them or names the handle (its fingerprint stays, so nothing is alerted or sent
        again; reasons drawn from their posts are dropped), mute the pending alerts they were
        the only evidence of, unlink them from alerts and incidents, and have each sink
        update those incidents' messages in place on the next run. Returns the counts of
        alerts redacted and muted, and the ids of the incidents redacted."""
        cited = self._cited_alerts(keys)
        pattern = "%" + handle.strip().lstrip("@").replace("\\", "\\\\").replace(
            "%", "\\%").replace("_", "\\_") + "%"  # fmt: skip
        named = {
            r["fingerprint"]
            for r in self._rows(
                "SELECT fingerprint FROM alerts WHERE summary LIKE ? ESCAPE '\\'"
                " OR group_key LIKE ? ESCAPE '\\' OR labels LIKE ? ESCAPE '\\'"
                " OR reasons LIKE ? ESCAPE '\\'",
                [pattern] * 4,
            )
        }
        stamp = iso(now)
        muted = 0
        for fingerprint in sorted(set(cited) | named):
            [row] = self._rows(
                "SELECT summary, group_key, labels, reasons, status FROM alerts"
                " WHERE fingerprint = ?",
                [fingerprint],
            )
            reasons = json.loads(row["reasons"])
            if fingerprint in cited:  # the reasons after the rule's own describe their post
                reasons = [*reasons[:1], "details removed at the author's request"]
            labels = {k: redact(v) if isinstance(v, str) else v
                      for k, v in json.loads(row["labels"]).items()}  # fmt: skip
            self._db.execute(
                "UPDATE alerts SET summary = ?, group_key = ?, labels = ?, reasons = ?,"
                " updated_at = ? WHERE fingerprint = ?",
                [redact(row["summary"]), redact(row["group_key"]), json.dumps(labels),
                 json.dumps([redact(r) for r in reasons]), stamp, fingerprint],
            )  # fmt: skip
            if row["status"] == "pending" and cited.get(fingerprint) == "only":
                self.mute_unsent(fingerprint, "its author asked to be forgotten", now)
                muted += 1
        incidents = self._incidents_citing(keys, sorted(set(cited) | named))
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            marks = ", ".join("?" * len(chunk))
            for table in ("alert_mentions", "incident_mentions"):
                self._db.execute(
                    f"DELETE FROM {table} WHERE mention_key IN ({marks})",  # noqa: S608
                    chunk,
                )
        for incident_id in incidents:  # shown_status != status: updated in place, once
            self._db.execute(
                "UPDATE incident_messages SET shown_status = 'redacted' WHERE incident_id = ?"
                " AND kind = 'main'",
                [incident_id],
            )
        return {
            "alerts_redacted": len(set(cited) | named),
            "alerts_muted": muted,
            "incidents_redacted": incidents,
        }

    def _cited_alerts(self, keys: Sequence[str]) -> dict[str, str]:
        """Alerts citing any of `keys`: fingerprint -> "only" (no other evidence) or "some"."""
        cited: dict[str, str] = {}
        wanted = set(keys)
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            marks = ", ".join("?" * len(chunk))
            sql = (
                "SELECT am.fingerprint, (SELECT group_concat(o.mention_key, ?)"  # noqa: S608
                " FROM alert_mentions o WHERE o.fingerprint = am.fingerprint) AS evidence"
                f" FROM alert_mentions am WHERE am.mention_key IN ({marks})"
            )
            for row in self._rows(sql, ["\n", *chunk]):
                evidence = set(row["evidence"].split("\n"))
                cited[row["fingerprint"]] = "only" if evidence <= wanted else "some"
        return cited

    def _incidents_citing(self, keys: Sequence[str], fingerprints: Sequence[str]) -> list[int]:
        """Incidents holding any of the mentions `keys` or any of these alerts."""
        found: set[int] = set()
        for values, sql in (
            (keys, "SELECT incident_id FROM incident_mentions WHERE mention_key IN ({})"),
            (fingerprints, "SELECT incident_id FROM alerts WHERE fingerprint IN ({})"
                           " AND incident_id IS NOT NULL"),
        ):  # fmt: skip
            for start in range(0, len(values), 500):
                chunk = list(values[start : start + 500])
                query = sql.format(", ".join("?" * len(chunk)))
                found.update(r["incident_id"] for r in self._rows(query, chunk))
        return sorted(found)

    # -- silences -------------------------------------------------------------------------

    def add_silence(
        self, matchers: Mapping[str, str], duration: timedelta, comment: str | None,
        now: datetime,
    ) -> int:  # fmt: skip
        """Mute alerts matching every matcher from now for `duration`; return the silence id."""
        return self._insert(
            "INSERT INTO silences (matchers, starts_at, ends_at, comment, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            [json.dumps(dict(matchers), sort_keys=True), iso(now), iso(now + duration), comment,
             iso(now)],
        )  # fmt: skip

    def silences(self, now: datetime, everything: bool = False) -> list[Silence]:
        """Active silences (all of them with `everything`), newest first, matchers decoded."""
        sql = "SELECT * FROM silences"
        params: list[Any] = []
        if not everything:
            sql += " WHERE expired_at IS NULL AND starts_at <= ? AND ends_at > ?"
            params = [iso(now), iso(now)]
        rows = self._typed(Silence, sql + " ORDER BY id DESC", params)
        for row in rows:
            row["matchers"] = json.loads(cast("str", row["matchers"]))
        return rows

    def expire_silence(self, silence_id: int, now: datetime) -> bool:
        """End a silence now; False if there is no such active silence."""
        cursor = self._db.execute(
            "UPDATE silences SET expired_at = ? WHERE id = ? AND expired_at IS NULL"
            " AND ends_at > ?",
            [iso(now), silence_id, iso(now)],
        )
        return cursor.rowcount == 1

    # -- the answering workflow (reputation/workflow.py decides; this keeps) --------------

    def workflow(self, incident_id: int) -> WorkflowRow:
        """An incident's workflow state (every incident has one: a trigger makes it)."""
        [row] = self._typed(
            WorkflowRow, "SELECT * FROM incident_workflow WHERE incident_id = ?", [incident_id]
        )
        return row

    def has_incident(self, incident_id: int) -> bool:
        """Whether an incident with this id exists."""
        return bool(self._rows("SELECT 1 FROM incidents WHERE id = ?", [incident_id]))

    def change_state(
        self, current: WorkflowRow, to_state: str, changes: Mapping[str, Any],
        event: Mapping[str, Any], now: datetime,
    ) -> Transition | None:  # fmt: skip
        """Move an incident from `current` (its row as read) to `to_state` only if it is
        still at that version: a conditional update, so of two concurrent changes one wins.
        Set `changes`, record `event` (action, actor, actor_name, source, detail) as its
        transition; None if the incident had moved on."""
        unknown = set(changes) - WORKFLOW_SETTABLE
        if unknown:
            raise ValueError(f"not a workflow column: {sorted(unknown)}")
        sets = "".join(f", {column} = ?" for column in changes)  # names checked above
        with self._db.atomic():  # the update first: it takes the write lock, then reads
            cursor = self._db.execute(
                f"UPDATE incident_workflow SET state = ?, version = version + 1,"  # noqa: S608
                f" updated_at = ?{sets} WHERE incident_id = ? AND version = ? AND state = ?",
                [to_state, iso(now), *changes.values(), current["incident_id"],
                 current["version"], current["state"]],
            )  # fmt: skip
            if cursor.rowcount != 1:
                return None
            return self._transition(
                current["incident_id"], current["version"] + 1, event, current["state"],
                to_state, now,
            )  # fmt: skip

    def note_event(self, incident_id: int, event: Mapping[str, Any], now: datetime) -> Transition:
        """Record an event that changes no state (a public reply, an escalation) at the
        incident's current version."""
        with self._db.atomic():
            row = self.workflow(incident_id)
            return self._transition(
                incident_id, row["version"], event, row["state"], row["state"], now
            )

    def _transition(
        self, incident_id: int, version: int, event: Mapping[str, Any], from_state: str,
        to_state: str, now: datetime,
    ) -> Transition:  # fmt: skip
        transition_id = self._insert(
            "INSERT INTO incident_transitions (incident_id, version, action, from_state,"
            " to_state, actor, actor_name, source, detail, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [incident_id, version, event["action"], from_state, to_state, event["actor"],
             event["actor_name"], event["source"], json.dumps(event.get("detail") or {}),
             iso(now)],
        )  # fmt: skip
        return self._events("SELECT * FROM incident_transitions WHERE id = ?", [transition_id])[0]

    def _events(self, sql: str, params: Sequence[Any]) -> list[Transition]:
        rows = self._typed(Transition, sql, params)
        for row in rows:
            row["detail"] = json.loads(cast("str", row["detail"]))
        return rows

    def last_change(self, incident_id: int) -> Transition | None:
        """The latest transition that changed the incident's state (who moved it last)."""
        found = self._events(
            "SELECT * FROM incident_transitions WHERE incident_id = ? AND from_state != to_state"
            " ORDER BY id DESC LIMIT 1",
            [incident_id],
        )
        return found[0] if found else None

    def events(self, incident_id: int, after: int = 0) -> list[Transition]:
        """An incident's history after transition id `after`, oldest first."""
        return self._events(
            "SELECT * FROM incident_transitions WHERE incident_id = ? AND id > ? ORDER BY id",
            [incident_id, after],
        )

    def mark_workflow_shown(
        self, incident_id: int, sink: str, version: int | None, event_id: int | None
    ) -> None:
        """Record that `sink`'s main message of the incident shows workflow `version` and
        its thread every event up to `event_id` (either None: unchanged)."""
        self._db.execute(
            "UPDATE incident_messages SET shown_workflow = COALESCE(?, shown_workflow),"
            " shown_event = MAX(shown_event, COALESCE(?, 0)) WHERE incident_id = ? AND sink = ?"
            " AND kind = 'main'",
            [version, event_id, incident_id, sink],
        )

    def incidents_with_workflow_news(self, sink: str) -> list[int]:
        """Incidents whose main message on `sink` shows an older workflow state, or whose
        thread lacks some of their events; oldest first."""
        return [
            row["incident_id"]
            for row in self._rows(
                "SELECT m.incident_id FROM incident_messages m JOIN incident_workflow w"
                " ON w.incident_id = m.incident_id WHERE m.sink = ? AND m.kind = 'main'"
                " AND (m.shown_workflow < w.version OR EXISTS"
                " (SELECT 1 FROM incident_transitions t WHERE t.incident_id = m.incident_id"
                " AND t.id > m.shown_event)) ORDER BY m.incident_id",
                [sink],
            )
        ]

    def workflow_in(self, states: Sequence[str]) -> list[WorkflowRow]:
        """Workflow rows in any of `states`, by incident id."""
        marks = ", ".join("?" * len(states))
        return self._typed(
            WorkflowRow,
            f"SELECT * FROM incident_workflow WHERE state IN ({marks})"  # noqa: S608
            " ORDER BY incident_id",
            list(states),
        )

    def responded_and_resolved(self) -> list[WorkflowRow]:
        """Responded incidents whose incident has gone quiet (resolved): due to close."""
        return self._typed(
            WorkflowRow,
            "SELECT w.* FROM incident_workflow w JOIN incidents i ON i.id = w.incident_id"
            " WHERE w.state = 'responded' AND i.status = 'resolved' ORDER BY w.incident_id",
        )

    def first_brand_replies(self) -> list[tuple[int, BrandReply]]:
        """For each incident not dismissed, the brand's earliest public reply in its
        conversation (to one of its mentions, or to a post of their threads) that is
        earlier than the first response it knows; (incident id, reply)."""
        rows = self._rows(_FIRST_REPLIES)
        return [(row.pop("incident_id"), cast("BrandReply", row)) for row in rows]

    def brand_reply(self, key: str) -> BrandReply | None:
        """One stored brand reply by key."""
        rows = self._typed(
            BrandReply,
            "SELECT key, mention_key, author, text, url, created_at FROM replies WHERE key = ?",
            [key],
        )
        return rows[0] if rows else None

    def sla_candidates(self) -> list[dict[str, Any]]:
        """Incidents with an SLA clock and no public response that are waiting on the team
        (new, acknowledged, assigned), with their severity and the breaches already
        escalated (a comma-separated text)."""
        return self._rows(
            "SELECT w.*, i.severity, (SELECT group_concat(breach) FROM incident_escalations e"
            " WHERE e.incident_id = w.incident_id) AS escalated FROM incident_workflow w"
            " JOIN incidents i ON i.id = w.incident_id WHERE w.sla_from IS NOT NULL"
            " AND w.first_response_at IS NULL AND w.state IN ('new', 'acknowledged', 'assigned')"
            " ORDER BY w.incident_id"
        )

    def record_breach(self, incident_id: int, breach: str, due_at: datetime, now: datetime) -> bool:
        """Record that an incident breached its `breach` SLA; False if it already had."""
        return (
            self._db.execute(
                "INSERT OR IGNORE INTO incident_escalations (incident_id, breach, due_at,"
                " escalated_at) VALUES (?, ?, ?, ?)",
                [incident_id, breach, iso(due_at), iso(now)],
            ).rowcount
            == 1
        )

    def first_sight_of_request(self, signature: str, now: datetime, window: timedelta) -> bool:
        """Remember a signed request's signature; False if it was seen before (a replay).
        Signatures older than `window` are forgotten: the timestamp check refuses those."""
        with self._db.atomic():
            self._db.execute(
                "DELETE FROM slack_requests WHERE seen_at < ?", [iso(now - 2 * window)]
            )
            return (
                self._db.execute(
                    "INSERT OR IGNORE INTO slack_requests (signature, seen_at) VALUES (?, ?)",
                    [signature, iso(now)],
                ).rowcount
                == 1
            )

    def incident_listing(
        self, state: str | None = None, since: datetime | None = None, limit: int = 100
    ) -> list[IncidentListing]:
        """Incidents (in `state`, opened since `since`) newest first, with their workflow
        state, assignee and headline."""
        sql = _LISTING + " WHERE 1 = 1"
        params: list[Any] = []
        if state is not None:
            sql += " AND w.state = ?"
            params.append(state)
        if since is not None:
            sql += " AND i.opened_at >= ?"
            params.append(iso(since))
        return self._typed(IncidentListing, sql + " ORDER BY i.opened_at DESC, i.id DESC LIMIT ?",
                           [*params, limit])  # fmt: skip

    def workflow_facts(self, start: datetime, end: datetime) -> list[WorkflowFact]:
        """Incidents opened in [start, end) with their workflow times and SLA breaches."""
        return self._typed(
            WorkflowFact,
            "SELECT i.id, i.brand, i.category, i.severity, w.state, i.opened_at, w.sla_from,"
            " w.acknowledged_at, w.first_response_at, (SELECT COUNT(*) FROM"
            " incident_escalations e WHERE e.incident_id = i.id) AS breaches"
            " FROM incidents i JOIN incident_workflow w ON w.incident_id = i.id"
            " WHERE i.opened_at >= ? AND i.opened_at < ? ORDER BY i.brand, i.category, i.id",
            [iso(start), iso(end)],
        )

    def labels(self) -> list[LabelRow]:
        """Every mention of an incident a person marked responded (`relevant`) or not
        relevant (`not_relevant`): their latest such judgement of it, oldest first."""
        rows = self._typed(LabelRow, _LABELS)
        latest: dict[str, LabelRow] = {}
        for row in rows:  # ordered by time: a later judgement replaces an earlier one
            latest[row["key"]] = row
        return sorted(latest.values(), key=lambda r: (r["at"], r["key"]))

    # -- operations (issue 14): posts of no incident, source health, status -----------------

    def notice_post(self, sink: str, slot: str) -> SinkPost | None:
        """What a sink attempted for a post that belongs to no incident (a health change, the
        day in Slack), if anything; shaped as a SinkPost of incident 0."""
        rows = self._typed(
            SinkPost,
            "SELECT *, 0 AS incident_id FROM notice_posts WHERE sink = ? AND slot = ?",
            [sink, slot],
        )
        return rows[0] if rows else None

    def begin_notice_post(
        self, sink: str, slot: str, channel: str, thread_ts: str | None, at: float,
        now: datetime,
    ) -> SinkPost:  # fmt: skip
        """Record, before it is sent, one more attempt of a notice (as `begin_sink_post`)."""
        self._db.execute(
            "INSERT INTO notice_posts (sink, slot, post_key, channel, thread_ts,"
            " first_attempt_at, attempts, in_doubt, updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, 1, ?)"
            " ON CONFLICT (sink, slot) DO UPDATE SET attempts = attempts + 1,"
            " in_doubt = in_doubt + 1, channel = excluded.channel,"
            " thread_ts = excluded.thread_ts, updated_at = excluded.updated_at",
            [sink, slot, secrets.token_hex(12), channel, thread_ts, at, iso(now)],
        )
        found = self.notice_post(sink, slot)
        assert found is not None
        return found

    def notice_post_done(
        self, sink: str, slot: str, message_id: str, channel_id: str | None, now: datetime
    ) -> None:
        """The notice exists (confirmed, or found in the channel)."""
        self._db.execute(
            "UPDATE notice_posts SET message_id = ?, channel_id = COALESCE(?, channel_id),"
            " in_doubt = 0, last_error = NULL, updated_at = ? WHERE sink = ? AND slot = ?",
            [message_id, channel_id, iso(now), sink, slot],
        )

    def notice_post_failed(
        self, sink: str, slot: str, error: str, now: datetime, *, sent: bool | None
    ) -> None:
        """An attempt failed: surely not sent (`sent=False`), or with its outcome unknown."""
        self._db.execute(
            "UPDATE notice_posts SET in_doubt = MAX(0, in_doubt - ?), last_error = ?,"
            " updated_at = ? WHERE sink = ? AND slot = ?",
            [0 if sent is None else 1, error, iso(now), sink, slot],
        )

    def notice_post_absent(self, sink: str, slot: str, now: datetime) -> None:
        """The channel was read and no earlier attempt is in it."""
        self._db.execute(
            "UPDATE notice_posts SET in_doubt = 0, updated_at = ? WHERE sink = ? AND slot = ?",
            [iso(now), sink, slot],
        )

    def notice_channel_id(self, sink: str, channel: str) -> str | None:
        """The id the service gave `channel` on an earlier notice or incident post."""
        rows = self._rows(
            "SELECT channel_id FROM notice_posts WHERE sink = ? AND channel = ?"
            " AND channel_id IS NOT NULL ORDER BY updated_at DESC LIMIT 1",
            [sink, channel],
        )
        return rows[0]["channel_id"] if rows else self.sink_channel_id(sink, channel)

    def source_health(self) -> dict[str, dict[str, Any]]:
        """Each source's health as last judged and announced, by connector name."""
        return {r["connector"]: r for r in self._rows("SELECT * FROM source_health")}

    def judge_source(
        self, connector: str, state: str, failing_since: str | None, now: datetime
    ) -> dict[str, Any]:
        """Record a source's health (`up` or `down`) as a run judged it, and since when it
        has been failing (None: it is not); a change of state counts one more `change`.
        Returns the row as it now stands."""
        self._db.execute(
            "INSERT INTO source_health (connector, state, changed_at, change, failing_since,"
            " updated_at) VALUES (?, ?, ?, CASE WHEN ? = 'up' THEN 0 ELSE 1 END, ?, ?)"
            " ON CONFLICT (connector) DO UPDATE SET"
            " change = change + CASE WHEN state != excluded.state THEN 1 ELSE 0 END,"
            " changed_at = CASE WHEN state != excluded.state THEN excluded.changed_at"
            " ELSE changed_at END, state = excluded.state,"
            " failing_since = excluded.failing_since, updated_at = excluded.updated_at",
            [connector, state, iso(now), state, failing_since, iso(now)],
        )
        return self.source_health()[connector]

    def health_announced(self, connector: str, state: str) -> None:
        """The change to `state` has been announced (or needs no announcement)."""
        self._db.execute(
            "UPDATE source_health SET announced = ? WHERE connector = ?", [state, connector]
        )

    def sink_backlog(self) -> dict[str, dict[str, Any]]:
        """Per sink: deliveries pending, failed, and the oldest undelivered alert's time."""
        rows = self._rows(
            "SELECT d.sink, SUM(CASE WHEN d.status = 'pending' THEN 1 ELSE 0 END) AS pending,"
            " SUM(CASE WHEN d.status = 'failed' THEN 1 ELSE 0 END) AS failed,"
            " MIN(CASE WHEN d.status IN ('pending', 'failed') THEN a.created_at END) AS oldest"
            " FROM deliveries d JOIN alerts a ON a.fingerprint = d.fingerprint GROUP BY d.sink"
        )
        return {r["sink"]: r for r in rows}

    def open_incidents_by_state(self) -> dict[str, int]:
        """Open incidents counted by workflow state."""
        rows = self._rows(
            "SELECT w.state, COUNT(*) AS n FROM incidents i JOIN incident_workflow w"
            " ON w.incident_id = i.id WHERE i.status = 'open' GROUP BY w.state"
        )
        return {r["state"]: r["n"] for r in rows}

    def incidents_of_day(self, start: datetime, end: datetime) -> dict[str, int]:
        """Incidents opened and resolved in [start, end), and those open at `end` (still)."""
        [row] = self._rows(
            "SELECT SUM(CASE WHEN opened_at >= ? AND opened_at < ? THEN 1 ELSE 0 END) AS opened,"
            " SUM(CASE WHEN resolved_at >= ? AND resolved_at < ? THEN 1 ELSE 0 END) AS resolved,"
            " SUM(CASE WHEN opened_at < ? AND (resolved_at IS NULL OR resolved_at >= ?)"
            " THEN 1 ELSE 0 END) AS still_open"
            " FROM incidents",
            [iso(start), iso(end), iso(start), iso(end), iso(end), iso(end)],
        )
        return {k: int(v or 0) for k, v in row.items()}


# A delivery's claim that holds nobody back (`{d}`: the table's alias; one parameter, now):
# none, ended, or its claimant's run is over (start_run marks a dead worker's run crashed).
_FREE = (
    "({d}.claimed_by IS NULL OR {d}.claimed_until <= ? OR ({d}.claimed_run IS NOT NULL"
    " AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = {d}.claimed_run"
    " AND r.status = 'running')))"
)
_STATUS_ORDER = (
    "CASE a.status WHEN 'sent' THEN 0 WHEN 'pending' THEN 1 WHEN 'failed' THEN 2 ELSE 3 END"
)
_DAY_REPORT = f"""
SELECT m.created_at, m.brand, m.source, m.author, m.author_followers, m.text, m.url,
       m.likes, m.shares, m.replies, s.sentiment, s.complaint, s.severity, s.viral_risk,
       s.predicted_engagement_24h, s.category, s.reasons,
       (SELECT a.status FROM alert_mentions am JOIN alerts a ON a.fingerprint = am.fingerprint
         WHERE am.mention_key = m.key ORDER BY {_STATUS_ORDER} LIMIT 1) AS alert_status,
       (SELECT group_concat(rule, ', ') FROM (SELECT DISTINCT a.rule AS rule
          FROM alert_mentions am JOIN alerts a ON a.fingerprint = am.fingerprint
         WHERE am.mention_key = m.key ORDER BY a.rule)) AS alert_rules,
       m.key
  FROM mentions m LEFT JOIN scores s ON s.mention_key = m.key
 WHERE m.created_at >= ? AND m.created_at < ?
 ORDER BY s.severity IS NULL, s.severity DESC, m.created_at, m.key
"""  # noqa: S608 - a constant; every value is a bound parameter

# The brand's replies to an incident's mentions, or to any post of an incident mention's
# conversation (its thread root is a `{source}:{thread_id}` key), earliest per incident.
_FIRST_REPLIES = """
SELECT incident_id, key, mention_key, author, text, url, created_at FROM (
  SELECT im.incident_id, r.key, r.mention_key, r.author, r.text, r.url, r.created_at,
         ROW_NUMBER() OVER (PARTITION BY im.incident_id ORDER BY r.created_at, r.key) AS n
    FROM incident_mentions im
    JOIN mentions m ON m.key = im.mention_key
    JOIN replies r ON r.mention_key = m.key
      OR (m.thread_id IS NOT NULL AND (r.mention_key = m.source || ':' || m.thread_id
          OR r.mention_key IN (SELECT p.key FROM mentions p
                                WHERE p.source = m.source AND p.thread_id = m.thread_id)))
    JOIN incident_workflow w ON w.incident_id = im.incident_id
   WHERE w.state != 'dismissed'
     AND r.created_at < COALESCE(w.first_response_at, '9999')
) WHERE n = 1 ORDER BY incident_id
"""
_LISTING = """
SELECT i.id, i.brand, i.category, w.state, w.assignee_name AS assignee, i.severity,
       COALESCE((SELECT a.summary FROM alerts a WHERE a.incident_id = i.id
                  AND a.status != 'muted'
                ORDER BY CASE a.severity WHEN 'critical' THEN 2 WHEN 'warning' THEN 1 ELSE 0
                END DESC, a.event_at LIMIT 1), i.title) AS headline,
       i.opened_at, w.acknowledged_at, w.first_response_at
  FROM incidents i JOIN incident_workflow w ON w.incident_id = i.id
"""
_LABELS = """
SELECT m.key, m.text, CASE t.action WHEN 'respond' THEN 'relevant' ELSE 'not_relevant' END
       AS label, t.incident_id, t.actor_name, t.at
  FROM incident_transitions t
  JOIN incident_mentions im ON im.incident_id = t.incident_id
  JOIN mentions m ON m.key = im.mention_key
 WHERE t.id = (SELECT MAX(j.id) FROM incident_transitions j WHERE j.incident_id = t.incident_id
                AND j.source IN ('button', 'command') AND j.action IN ('respond', 'dismiss')
                AND j.from_state != j.to_state)
 ORDER BY t.at, t.id, m.key
"""
