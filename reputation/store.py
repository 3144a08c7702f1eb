"""The SQLite store: idempotent upserts, cursors saved with their data, and the alert ledger."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from sqlite_utils import Database

from reputation.models import Alert, Mention, Reply, Score
from reputation.schema import migrations
from reputation.timeutil import iso, parse_time

MENTION_COLUMNS = tuple(
    """key source native_id brand text author author_followers url created_at likes shares
    replies lang parent_id thread_id first_seen_at last_seen_at""".split()
)
SCORE_COLUMNS = tuple(
    "sentiment complaint severity viral_risk predicted_engagement_24h category reasons".split()
)
# Fields a rule may filter or group on: every mention and score column plus `engagement`.
ROW_FIELDS = frozenset(MENTION_COLUMNS + SCORE_COLUMNS + ("engagement",))

# Built once from the constant column lists above; values always go in as bound parameters.
_COLUMNS_SQL = ", ".join([f"m.{c}" for c in MENTION_COLUMNS] + [f"s.{c}" for c in SCORE_COLUMNS])
_ROW_SELECT = (
    f"SELECT {_COLUMNS_SQL}, m.likes + m.shares + m.replies AS engagement"  # noqa: S608
    " FROM mentions m JOIN scores s ON s.mention_key = m.key"
)


class StoreError(Exception):
    """The database cannot be opened or is not a reputation store."""


@dataclass
class IngestStats:
    """What one batch did to the store."""

    new: int = 0
    updated: int = 0


class Store:
    """All reads and writes of the pipeline's state, one SQLite file."""

    def __init__(self, db: Database):
        self.db = db

    @classmethod
    def open(cls, path: Path | str) -> Store:
        """Open (creating if needed) the database at `path`, in WAL mode, fully migrated."""
        import sqlite3

        try:
            if str(path) != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            db = Database(path)
            db.execute("PRAGMA busy_timeout = 10000")
            if str(path) != ":memory:":
                db.enable_wal()
            migrations.apply(db)
        except (sqlite3.DatabaseError, OSError) as exc:
            raise StoreError(f"cannot open database {path}: {exc}") from exc
        return cls(db)

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """Everything inside commits together or not at all."""
        with self.db.atomic():
            yield self

    def rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        """Run a read query with bound parameters and return dict rows."""
        cursor = self.db.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    # -- ingest ---------------------------------------------------------------------------

    def cursors(self, connector: str) -> dict[str, str]:
        """Saved cursors of one connector, by scope."""
        rows = self.rows("SELECT scope, value FROM cursors WHERE connector = ?", [connector])
        return {r["scope"]: r["value"] for r in rows}

    def save_batch(
        self,
        connector: str,
        mentions: Sequence[Mention],
        now: datetime,
        scope: str | None = None,
        cursor: str | None = None,
        replies: Sequence[Reply] = (),
        reads: int = 0,
    ) -> IngestStats:
        """Upsert mentions, their snapshots and the brand's replies, count billable reads, and
        advance the cursor: all in one transaction."""
        stats = IngestStats()
        with self.db.atomic():
            existing = self._current(m.key for m in mentions)
            for mention in mentions:
                old = existing.get(mention.key)
                new = self._upsert(connector, mention, old, now)
                existing[mention.key] = new
                if old is None:
                    stats.new += 1
                elif new["version"] != old["version"]:
                    stats.updated += 1
            for reply in replies:
                self.db.execute(
                    "INSERT OR IGNORE INTO replies (key, mention_key, brand, author, text, url,"
                    " created_at, connector, first_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        reply.key,
                        reply.mention_key,
                        reply.brand,
                        reply.author,
                        reply.text,
                        reply.url,
                        iso(reply.created_at),
                        connector,
                        iso(now),
                    ],
                )
            if reads:
                self._count_reads(connector, reads, now)
            if scope is not None and cursor is not None:
                self.db.execute(
                    "INSERT INTO cursors (connector, scope, value, updated_at) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (connector, scope) DO UPDATE SET value = excluded.value,"
                    " updated_at = excluded.updated_at",
                    [connector, scope, cursor, iso(now)],
                )
        return stats

    def recent_ids(
        self, connector: str, brand: str, since: datetime, limit: int = 1000
    ) -> list[str]:
        """Native ids of this connector's mentions of `brand` created since `since`, newest
        first (`brand` "*" means every brand)."""
        sql = "SELECT native_id FROM mentions WHERE connector = ? AND created_at >= ?"
        params: list[Any] = [connector, iso(since)]
        if brand != "*":
            sql += " AND brand = ?"
            params.append(brand)
        rows = self.rows(sql + " ORDER BY created_at DESC LIMIT ?", [*params, limit])
        return [r["native_id"] for r in rows]

    # -- source state: rate limits and read budgets ---------------------------------------

    def source_state(self, connector: str) -> dict[str, Any]:
        """The connector's saved state (retry_at, last_error, month, month_reads...)."""
        rows = self.rows("SELECT * FROM source_state WHERE connector = ?", [connector])
        return rows[0] if rows else {"connector": connector, "month": None, "month_reads": 0}

    def reads_this_month(self, connector: str, now: datetime) -> int:
        """Billable reads the connector spent in the UTC month of `now`."""
        return month_reads(self.source_state(connector), now)

    def _count_reads(self, connector: str, reads: int, now: datetime) -> None:
        month = now.strftime("%Y-%m")
        self.db.execute(
            "INSERT INTO source_state (connector, month, month_reads) VALUES (?, ?, ?)"
            " ON CONFLICT (connector) DO UPDATE SET month_reads = CASE WHEN month = excluded.month"
            " THEN month_reads + excluded.month_reads ELSE excluded.month_reads END,"
            " month = excluded.month",
            [connector, month, reads],
        )

    def source_succeeded(self, connector: str, now: datetime) -> None:
        """Record a fetch that finished; any rate-limit wait is over."""
        self.db.execute(
            "INSERT INTO source_state (connector, last_success_at) VALUES (?, ?)"
            " ON CONFLICT (connector) DO UPDATE SET last_success_at = excluded.last_success_at,"
            " retry_at = NULL",
            [connector, iso(now)],
        )

    def source_failed(
        self, connector: str, error: str, now: datetime, retry_at: datetime | None = None
    ) -> None:
        """Record a failed fetch and, for a rate limit, when the source may be called again."""
        self.db.execute(
            "INSERT INTO source_state (connector, last_error, last_error_at, retry_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (connector) DO UPDATE SET"
            " last_error = excluded.last_error, last_error_at = excluded.last_error_at,"
            " retry_at = excluded.retry_at",
            [connector, error, iso(now), iso(retry_at) if retry_at else None],
        )

    def _current(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        wanted = sorted(set(keys))
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            sql = (
                "SELECT key, likes, shares, replies, last_seen_at, version"  # noqa: S608
                f" FROM mentions WHERE key IN ({marks})"
            )
            for row in self.rows(sql, chunk):
                found[row["key"]] = row
        return found

    def _upsert(
        self, connector: str, m: Mention, old: dict[str, Any] | None, now: datetime
    ) -> dict[str, Any]:
        seen = iso(m.observed_at or now)
        counts = {"likes": m.likes, "shares": m.shares, "replies": m.replies}
        if old is None:
            self.db.execute(
                "INSERT INTO mentions (key, source, native_id, brand, text, author,"
                " author_followers, url, created_at, likes, shares, replies, lang, parent_id,"
                " thread_id, connector, first_seen_at, last_seen_at, version, raw)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
                [
                    m.key,
                    m.source,
                    m.native_id,
                    m.brand,
                    m.text,
                    m.author,
                    m.author_followers,
                    m.url,
                    iso(m.created_at),
                    m.likes,
                    m.shares,
                    m.replies,
                    m.lang,
                    m.parent_id,
                    m.thread_id,
                    connector,
                    seen,
                    seen,
                    json.dumps(m.raw, default=str) if m.raw is not None else None,
                ],
            )
            self._snapshot(m.key, seen, counts)
            return {**counts, "key": m.key, "last_seen_at": seen, "version": 1}
        if seen < old["last_seen_at"]:
            # A late observation: keep it as history, leave the current counts alone.
            added = self._snapshot(m.key, seen, counts)
            version = old["version"] + added
            self.db.execute("UPDATE mentions SET version = ? WHERE key = ?", [version, m.key])
            return {**old, "version": version}
        changed = any(old[k] != v for k, v in counts.items())
        added = self._snapshot(m.key, seen, counts) if changed else 0
        version = old["version"] + added
        self.db.execute(
            "UPDATE mentions SET text = ?, author = COALESCE(?, author),"
            " author_followers = COALESCE(?, author_followers), url = COALESCE(?, url),"
            " likes = ?, shares = ?, replies = ?, lang = COALESCE(?, lang),"
            " parent_id = COALESCE(?, parent_id), thread_id = COALESCE(?, thread_id),"
            " last_seen_at = ?, version = ? WHERE key = ?",
            [
                m.text,
                m.author,
                m.author_followers,
                m.url,
                m.likes,
                m.shares,
                m.replies,
                m.lang,
                m.parent_id,
                m.thread_id,
                seen,
                version,
                m.key,
            ],
        )
        return {**counts, "key": m.key, "last_seen_at": seen, "version": version}

    def _snapshot(self, key: str, seen: str, counts: dict[str, int]) -> int:
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO snapshots (mention_key, observed_at, likes, shares, replies)"
            " VALUES (?, ?, ?, ?, ?)",
            [key, seen, counts["likes"], counts["shares"], counts["replies"]],
        )
        return cursor.rowcount

    # -- scoring --------------------------------------------------------------------------

    def mentions_to_score(
        self, limit: int = 500, after: tuple[str, str] | None = None
    ) -> list[dict[str, Any]]:
        """Mentions never scored or changed since, ordered by (created_at, key), after `after`."""
        created, key = after or ("", "")
        return self.rows(
            "SELECT m.* FROM mentions m LEFT JOIN scores s ON s.mention_key = m.key"
            " WHERE (s.mention_key IS NULL OR s.mention_version < m.version)"
            " AND (m.created_at > ? OR (m.created_at = ? AND m.key > ?))"
            " ORDER BY m.created_at, m.key LIMIT ?",
            [created, created, key, limit],
        )

    def snapshots(self, keys: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """Engagement snapshots of each key, oldest first."""
        out: dict[str, list[dict[str, Any]]] = {k: [] for k in keys}
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            marks = ", ".join("?" * len(chunk))
            sql = (
                "SELECT * FROM snapshots"  # noqa: S608
                f" WHERE mention_key IN ({marks}) ORDER BY observed_at"
            )
            for row in self.rows(sql, chunk):
                out[row["mention_key"]].append(row)
        return out

    def complaints(self, keys: Iterable[str]) -> dict[str, float]:
        """The stored complaint probability of each of these mention keys that has a score
        (a reply's parent and thread root, for the scorer to carry a complaint over)."""
        keys = list(dict.fromkeys(keys))
        out: dict[str, float] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            sql = (
                "SELECT mention_key, complaint FROM scores"  # noqa: S608
                f" WHERE mention_key IN ({marks})"
            )
            out.update((r["mention_key"], r["complaint"]) for r in self.rows(sql, chunk))
        return out

    def save_scores(self, scored: Sequence[tuple[Score, int]], now: datetime) -> None:
        """Write scores with the mention version they cover; each is due for rule evaluation."""
        with self.db.atomic():
            for score, version in scored:
                self.db.execute(
                    "INSERT INTO scores (mention_key, mention_version, scored_at, sentiment,"
                    " complaint, severity, viral_risk, predicted_engagement_24h, category,"
                    " reasons, evaluated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)"
                    " ON CONFLICT (mention_key) DO UPDATE SET"
                    " mention_version = excluded.mention_version,"
                    " scored_at = excluded.scored_at, sentiment = excluded.sentiment,"
                    " complaint = excluded.complaint, severity = excluded.severity,"
                    " viral_risk = excluded.viral_risk,"
                    " predicted_engagement_24h = excluded.predicted_engagement_24h,"
                    " category = excluded.category, reasons = excluded.reasons, evaluated = 0",
                    [
                        score.mention_key,
                        version,
                        iso(now),
                        score.sentiment,
                        score.complaint,
                        score.severity,
                        score.viral_risk,
                        score.predicted_engagement_24h,
                        score.category,
                        json.dumps(list(score.reasons)),
                    ],
                )

    # -- rules ----------------------------------------------------------------------------

    def unevaluated(self, limit: int = 500) -> list[dict[str, Any]]:
        """Scored mentions the rules have not seen in their current version, oldest first."""
        return self.rows(
            _ROW_SELECT + " WHERE s.evaluated = 0 ORDER BY m.created_at, m.key LIMIT ?", [limit]
        )

    def window(
        self,
        brand: str,
        start: datetime,
        end: datetime,
        field: str | None = None,
        value: Any = None,
    ) -> list[dict[str, Any]]:
        """Scored mentions of `brand` created in [start, end], optionally with `field` = value."""
        sql = _ROW_SELECT + " WHERE m.brand = ? AND m.created_at >= ? AND m.created_at <= ?"
        params: list[Any] = [brand, iso(start), iso(end)]
        if field is not None and field != "brand":
            sql += f" AND {_column(field)} IS ?"
            params.append(value)
        return self.rows(sql + " ORDER BY m.created_at, m.key", params)

    def mark_evaluated(self, keys: Sequence[str]) -> None:
        """Record that the rules have seen these mentions' current scores."""
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            marks = ", ".join("?" * len(chunk))
            self.db.execute(
                f"UPDATE scores SET evaluated = 1 WHERE mention_key IN ({marks})",  # noqa: S608
                chunk,
            )

    def group_alerts(self, group_key: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Alerts of one group whose event time falls in [start, end]."""
        return self.rows(
            "SELECT * FROM alerts WHERE group_key = ? AND event_at >= ? AND event_at <= ?",
            [group_key, iso(start), iso(end)],
        )

    def record_alert(
        self,
        alert: Alert,
        sinks: Sequence[str],
        now: datetime,
        incident_id: int | None = None,
        muted: str | None = None,
    ) -> bool:
        """Write an alert: muted (with the reason, no deliveries), or pending with a delivery per
        sink (sent at once when there is no sink). False if it was already recorded."""
        stamp = iso(now)
        status = "muted" if muted else "pending" if sinks else "sent"
        cursor = self.db.execute(
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
            self.db.execute(
                "INSERT OR IGNORE INTO alert_mentions (fingerprint, mention_key) VALUES (?, ?)",
                [alert.fingerprint, key],
            )
        for sink in () if muted else sinks:
            self.db.execute(
                "INSERT INTO deliveries (fingerprint, sink, status, updated_at)"
                " VALUES (?, ?, 'pending', ?)",
                [alert.fingerprint, sink, stamp],
            )
        return True

    def resolve_alerts(self, group_key: str, now: datetime) -> int:
        """Mark the group's unresolved alerts resolved (a flatline's mentions came back)."""
        return self.db.execute(
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
        cursor = self.db.execute(
            "INSERT INTO incidents (brand, category, severity, status, title, route, opened_at,"
            " last_event_at, updated_at) VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?)",
            [brand, category, severity, title, route, iso(event_at), iso(event_at), iso(now)],
        )
        return int(cursor.lastrowid)

    def grow_incident(
        self, incident: dict[str, Any], severity: str, event_at: datetime, now: datetime
    ) -> int:
        """Record a new alert in `incident`: raise its severity if higher, widen its time
        span, reopen it; return its new version."""
        from reputation.models import SEVERITY_LEVELS

        level = max(incident["severity"], severity, key=SEVERITY_LEVELS.index)
        version = incident["version"] + 1
        self.db.execute(
            "UPDATE incidents SET severity = ?, version = ?, status = 'open', resolved_at = NULL,"
            " opened_at = MIN(opened_at, ?), last_event_at = MAX(last_event_at, ?),"
            " updated_at = ? WHERE id = ?",
            [level, version, iso(event_at), iso(event_at), iso(now), incident["id"]],
        )
        return version

    def add_incident_mentions(self, incident_id: int, hashes: dict[str, str], version: int) -> None:
        """Add mentions (key -> text hash) to an incident, as of `version`."""
        for key, digest in hashes.items():
            self.db.execute(
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
    ) -> dict[str, Any] | None:
        if not values:
            return None
        marks = ", ".join("?" * len(values))
        rows = self.rows(
            "SELECT DISTINCT i.* FROM incidents i JOIN incident_mentions im"  # noqa: S608
            f" ON im.incident_id = i.id {join} WHERE i.brand = ? AND i.category != 'pipeline'"
            f" AND i.last_event_at >= ? AND i.opened_at <= ? AND {condition} IN ({marks})"
            " ORDER BY i.last_event_at DESC LIMIT 1",
            [brand, iso(start), iso(end), *values],
        )
        return rows[0] if rows else None

    def incident_with_mentions(
        self, brand: str, keys: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, Any] | None:
        """An incident active in [start, end] holding any of these mention keys."""
        return self._incident_where("", "im.mention_key", keys, brand, start, end)

    def incident_linked_to(
        self,
        brand: str,
        link: Literal["parent_id", "thread_id"],
        keys: Sequence[str],
        start: datetime,
        end: datetime,
    ) -> dict[str, Any] | None:
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
    ) -> dict[str, Any] | None:
        """An incident active in [start, end] holding a copy of one of these texts."""
        return self._incident_where("", "im.text_hash", hashes, brand, start, end)

    def incident_of_category(
        self, brand: str, category: str, start: datetime, end: datetime
    ) -> dict[str, Any] | None:
        """The latest incident of `brand` and `category` active in [start, end]."""
        rows = self.rows(
            "SELECT * FROM incidents WHERE brand = ? AND category = ? AND last_event_at >= ?"
            " AND opened_at <= ? ORDER BY last_event_at DESC LIMIT 1",
            [brand, category, iso(start), iso(end)],
        )
        return rows[0] if rows else None

    def critical_incident(
        self, brand: str, category: str, start: datetime, end: datetime
    ) -> dict[str, Any] | None:
        """A critical incident of `brand` and `category` active in [start, end] (inhibition)."""
        rows = self.rows(
            "SELECT * FROM incidents WHERE brand = ? AND category = ? AND severity = 'critical'"
            " AND last_event_at >= ? AND opened_at <= ? LIMIT 1",
            [brand, category, iso(start), iso(end)],
        )
        return rows[0] if rows else None

    def resolve_incidents(self, quiet_since: str, now: datetime) -> int:
        """Resolve open incidents not changed since `quiet_since` (wall-clock)."""
        return self.db.execute(
            "UPDATE incidents SET status = 'resolved', resolved_at = ? WHERE status = 'open'"
            " AND updated_at < ?",
            [iso(now), quiet_since],
        ).rowcount

    def incident(self, incident_id: int) -> dict[str, Any]:
        """An incident with its mention count and total reach (followers, each author once)."""
        [row] = self.rows(
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
    ) -> list[dict[str, Any]]:
        """An incident's mentions added after `since_version`, most severe first."""
        return self.rows(
            _ROW_SELECT + " JOIN incident_mentions im ON im.mention_key = m.key"
            " WHERE im.incident_id = ? AND im.added_version > ?"
            " ORDER BY s.severity DESC, m.created_at LIMIT ?",
            [incident_id, since_version, limit],
        )

    def count_incident_mentions(self, incident_id: int, since_version: int = 0) -> int:
        """How many mentions an incident gained after `since_version`."""
        return self.rows(
            "SELECT COUNT(*) AS n FROM incident_mentions WHERE incident_id = ?"
            " AND added_version > ?",
            [incident_id, since_version],
        )[0]["n"]

    def incident_message(self, incident_id: int, sink: str, kind: str = "main") -> dict | None:
        """The message a sink posted for an incident (main thread or escalation), if any."""
        rows = self.rows(
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
    ) -> None:
        """Record what a sink has shown of an incident, up to `version`."""
        self.db.execute(
            "INSERT INTO incident_messages (incident_id, sink, kind, channel, message_id,"
            " delivered_version, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (incident_id, sink, kind) DO UPDATE SET"
            " channel = COALESCE(excluded.channel, channel),"
            " message_id = COALESCE(excluded.message_id, message_id),"
            " delivered_version = excluded.delivered_version, updated_at = excluded.updated_at",
            [incident_id, sink, kind, channel, message_id, version, iso(now)],
        )

    def has_alert(self, fingerprint: str) -> bool:
        """Whether the ledger already holds this alert."""
        return bool(self.rows("SELECT 1 FROM alerts WHERE fingerprint = ?", [fingerprint]))

    # -- rule types: queries they need (kept together; see reputation/ruletypes.py) -------

    def field_values(self, field: str, since: datetime, until: datetime) -> list[Any]:
        """Distinct non-null values of a rule field among mentions created in [since, until]
        (a flatline's candidates; scores are joined only for a score field)."""
        column = _column(field)
        join = " JOIN scores s ON s.mention_key = m.key" if field in SCORE_COLUMNS else ""
        rows = self.rows(
            f"SELECT DISTINCT {column} AS value FROM mentions m{join}"  # noqa: S608
            f" WHERE m.created_at >= ? AND m.created_at <= ? AND {column} IS NOT NULL"
            " ORDER BY 1",
            [iso(since), iso(until)],
        )
        return [r["value"] for r in rows]

    def newest_first(
        self, until: datetime, *, since: datetime | None = None, brand: str | None = None,
        field: str | None = None, value: Any = None, text_like: str | None = None,
        before: tuple[str, str] | None = None, page: int = 100,
    ) -> Iterator[dict[str, Any]]:  # fmt: skip
        """Scored mentions created in [since, until] (of `brand`, with `field` = value, text
        LIKE `text_like`, strictly before (created_at, key) `before`), newest first, by page."""
        sql = _ROW_SELECT + " WHERE m.created_at <= ?"
        params: list[Any] = [iso(until)]
        if since is not None:
            sql += " AND m.created_at >= ?"
            params.append(iso(since))
        if brand is not None:
            sql += " AND m.brand = ?"
            params.append(brand)
        if field is not None:
            sql += f" AND {_column(field)} = ?"
            params.append(value)
        if text_like is not None:
            sql += " AND m.text LIKE ? ESCAPE '\\'"
            params.append(text_like)
        while True:
            bound = " AND (m.created_at, m.key) < (?, ?)" if before else ""
            found = self.rows(
                sql + bound + " ORDER BY m.created_at DESC, m.key DESC LIMIT ?",
                [*params, *(before or ()), page],
            )
            yield from found
            if len(found) < page:
                return
            before = (found[-1]["created_at"], found[-1]["key"])

    def first_mention_at(self, brand: str) -> datetime | None:
        """When the oldest stored mention of `brand` was created (None: no mention yet)."""
        [row] = self.rows("SELECT MIN(created_at) AS first FROM mentions WHERE brand = ?", [brand])
        return parse_time(row["first"]) if row["first"] else None

    # -- notify ---------------------------------------------------------------------------

    def pending_deliveries(
        self, sink: str, limit: int = 100, after: tuple[str, str, str] | None = None
    ) -> list[dict[str, Any]]:
        """Deliveries still owed to `sink` in (created_at, event_at, fingerprint) order, after
        the position `after`, with their alert's fields."""
        created, event, fingerprint = after or ("", "", "")
        return self.rows(
            "SELECT a.*, d.sink, d.attempts FROM deliveries d"
            " JOIN alerts a ON a.fingerprint = d.fingerprint"
            " WHERE d.sink = ? AND d.status = 'pending'"
            " AND (a.created_at, a.event_at, a.fingerprint) > (?, ?, ?)"
            " ORDER BY a.created_at, a.event_at, a.fingerprint LIMIT ?",
            [sink, created, event, fingerprint, limit],
        )

    def evidence(self, fingerprint: str, limit: int = 5) -> list[dict[str, Any]]:
        """An alert's evidence mentions with their scores, most severe first."""
        return self.rows(
            _ROW_SELECT + " JOIN alert_mentions am ON am.mention_key = m.key"
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
        with self.db.atomic():
            self.db.execute(
                "UPDATE deliveries SET status = 'sent', attempts = attempts + 1, message_id = ?,"
                " channel = ?, sent_at = ?, updated_at = ?, last_error = NULL"
                " WHERE fingerprint = ? AND sink = ?",
                [message_id, channel, stamp, stamp, fingerprint, sink],
            )
            if message_id is not None:
                self.db.execute(
                    "UPDATE alerts SET message_id = COALESCE(message_id, ?) WHERE fingerprint = ?",
                    [message_id, fingerprint],
                )
            self._settle(fingerprint, stamp)

    def mark_undelivered(
        self, fingerprint: str, sink: str, error: str, permanent: bool, now: datetime
    ) -> None:
        """Record a failed attempt: it stays pending unless the failure is permanent."""
        stamp = iso(now)
        with self.db.atomic():
            self.db.execute(
                "UPDATE deliveries SET status = ?, attempts = attempts + 1, last_error = ?,"
                " updated_at = ? WHERE fingerprint = ? AND sink = ?",
                ["failed" if permanent else "pending", error, stamp, fingerprint, sink],
            )
            self.db.execute(
                "UPDATE alerts SET last_error = ? WHERE fingerprint = ?", [error, fingerprint]
            )
            self._settle(fingerprint, stamp)

    def _settle(self, fingerprint: str, stamp: str) -> None:
        states = {
            r["status"]
            for r in self.rows("SELECT status FROM deliveries WHERE fingerprint = ?", [fingerprint])
        }
        status = "pending" if "pending" in states else "failed" if "failed" in states else "sent"
        self.db.execute(
            "UPDATE alerts SET status = ?, updated_at = ?,"
            " sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END"
            " WHERE fingerprint = ? AND status != 'muted'",
            [status, stamp, status, stamp, fingerprint],
        )

    def retry_failed(self, now: datetime) -> int:
        """Put every permanently failed delivery back in the queue; return how many."""
        stamp = iso(now)
        with self.db.atomic():
            count = self.db.execute(
                "UPDATE deliveries SET status = 'pending', updated_at = ? WHERE status = 'failed'",
                [stamp],
            ).rowcount
            self.db.execute(
                "UPDATE alerts SET status = 'pending', updated_at = ? WHERE status = 'failed'",
                [stamp],
            )
        return count

    def alert_counts(self) -> dict[str, int]:
        """How many alerts the ledger holds in each status."""
        counts = {"pending": 0, "sent": 0, "failed": 0, "muted": 0}
        for row in self.rows("SELECT status, COUNT(*) AS n FROM alerts GROUP BY status"):
            counts[row["status"]] = row["n"]
        return counts

    # -- runs -----------------------------------------------------------------------------

    def start_run(self, now: datetime) -> int:
        """Record the start of a run and return its id."""
        cursor = self.db.execute(
            "INSERT INTO runs (started_at, status) VALUES (?, 'running')", [iso(now)]
        )
        return int(cursor.lastrowid)

    def finish_run(self, run_id: int, summary: dict[str, Any], status: str, now: datetime) -> None:
        """Record a run's outcome and counts."""
        self.db.execute(
            "UPDATE runs SET finished_at = ?, status = ?, fetched = ?, new_mentions = ?,"
            " scored = ?, alerts = ?, sent = ?, pending = ?, failed = ?, errors = ? WHERE id = ?",
            [
                iso(now),
                status,
                summary["fetched"],
                summary["new_mentions"],
                summary["scored"],
                summary["alerts"],
                summary["sent"],
                summary["pending"],
                summary["failed"],
                json.dumps(summary["errors"]),
                run_id,
            ],
        )


def month_reads(state: dict[str, Any], now: datetime) -> int:
    """Billable reads a `source_state` row counts for the UTC month of `now`."""
    return state["month_reads"] if state.get("month") == now.strftime("%Y-%m") else 0


def _column(field: str) -> str:
    """The SQL expression for a rule field; only names from ROW_FIELDS ever reach SQL."""
    if field not in ROW_FIELDS:
        raise ValueError(f"unknown field {field!r}")
    if field == "engagement":
        return "(m.likes + m.shares + m.replies)"
    return f"s.{field}" if field in SCORE_COLUMNS else f"m.{field}"
