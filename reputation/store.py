"""The store, on SQLite (a file, the default) or PostgreSQL (reputation/db.py carries the
SQL over): connection and migrations, idempotent upserts with cursors saved with
their data, scores, the window queries rules run, and runs. The alert ledger shares its
connection (reputation/ledger.py)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlite_utils import Database

from reputation.crashpoint import crash_point
from reputation.db import (
    Connection,
    PostgresDatabase,
    applied_migrations,
    is_postgres,
    migrate_postgres,
    record_errors,
)
from reputation.errors import StoreError
from reputation.models import Mention, MentionRow, Reply, Score, ScoredMention, Snapshot
from reputation.schema import TEXT_SEARCH, migrations
from reputation.timeutil import iso, parse_time

if TYPE_CHECKING:
    from reputation.ledger import Ledger

R = TypeVar("R")

MENTION_COLUMNS = tuple(
    """key source native_id brand text author author_followers url created_at likes shares
    replies lang parent_id thread_id first_seen_at last_seen_at""".split()
)
SCORE_COLUMNS = tuple(
    "sentiment complaint severity viral_risk predicted_engagement_24h category reasons".split()
)
# Fields a rule may filter or group on: every mention and score column plus `engagement`.
ROW_FIELDS = frozenset(MENTION_COLUMNS + SCORE_COLUMNS + ("engagement",))

# Scored mentions (mention and score columns, and engagement) for the store and the ledger.
# Built once from the constant column lists above; values always go in as bound parameters.
_COLUMNS_SQL = ", ".join([f"m.{c}" for c in MENTION_COLUMNS] + [f"s.{c}" for c in SCORE_COLUMNS])
SCORED_SELECT = (
    f"SELECT {_COLUMNS_SQL}, m.likes + m.shares + m.replies AS engagement"  # noqa: S608
    " FROM mentions m JOIN scores s ON s.mention_key = m.key"
)
# What the scorer reads of a mention: everything but its raw payload.
_TO_SCORE_SQL = ", ".join(f"m.{c}" for c in (*MENTION_COLUMNS, "connector", "version"))


@dataclass
class IngestStats:
    """What one batch did to the store; `refused` holds (key, reason) of the records it could
    not take, which were skipped."""

    new: int = 0
    updated: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)
    forgotten: int = 0  # items of people `reputation forget` removed, not stored again


# What one record can make SQLite refuse (a number beyond 64 bits, text that is not UTF-8, a
# constraint): that record is skipped and reported. Anything else (a locked or full database)
# fails the whole batch, whose cursor then stays where it was.
_RECORD_ERRORS: tuple[type[Exception], ...] = (
    OverflowError, ValueError, TypeError, RecursionError, sqlite3.IntegrityError,
    sqlite3.InterfaceError, sqlite3.DataError, *record_errors(),
)  # fmt: skip


class Tables:
    """Bound-parameter SQL over one connection: what the Store and the Ledger share."""

    def __init__(self, db: Connection):
        self._db = db

    def _rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        """Run a read query with bound parameters and return dict rows."""
        cursor = self._db.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def _insert(self, sql: str, params: Sequence[Any]) -> int:
        """Run an INSERT and return the id the database gave the new row."""
        if self._db.dialect == "postgresql":
            row_id = self._db.execute(sql + " RETURNING id", params).fetchone()[0]
        else:
            row_id = self._db.execute(sql, params).lastrowid
        if row_id is None:
            raise StoreError(f"no row was written by {sql.split('(')[0]}")
        return row_id

    def _execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement once per row of parameters (sqlite3's and psycopg's executemany)."""
        if isinstance(self._db, PostgresDatabase):
            self._db.executemany(sql, rows)
        else:
            cast("Database", self._db).conn.executemany(sql, rows)

    def _typed(self, kind: type[R], sql: str, params: Sequence[Any] = ()) -> list[R]:
        """`_rows` as rows of the TypedDict `kind`, for a query that selects its columns."""
        return cast("list[R]", self._rows(sql, params))

    def _scored(self, sql: str, params: Sequence[Any] = ()) -> list[ScoredMention]:
        """Run a SCORED_SELECT query; each row's `reasons` decoded, once, here."""
        rows = self._typed(ScoredMention, sql, params)
        for row in rows:
            row["reasons"] = json.loads(cast("str", row["reasons"]))
        return rows

    def table_names(self) -> list[str]:
        """The schema's tables in the order they were created (migration records and SQLite's
        full-text index, `mentions_fts` and its shadow tables, apart: copy_tables rebuilds it)."""
        if self._db.dialect == "postgresql":
            sql = (
                "SELECT c.relname AS name FROM pg_class c WHERE c.relkind = 'r'"
                " AND c.relnamespace = current_schema()::regnamespace ORDER BY c.oid"
            )
        else:
            sql = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid"
        skip = ("_", "sqlite_", "mentions_fts")
        return [r["name"] for r in self._rows(sql) if not r["name"].startswith(skip)]

    def has_rows(self, table: str) -> bool:
        """Whether `table` (one of `table_names()`) holds any row."""
        if table not in self.table_names():
            raise ValueError(f"no table {table!r}")
        return bool(self._rows(f"SELECT 1 FROM {table} LIMIT 1"))  # noqa: S608 - checked above

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything inside commits together or not at all, in the store and the ledger alike
        (they share the connection); nested, it is a savepoint."""
        with self._db.atomic():
            yield


class Store(Tables):
    """The pipeline's state in one SQLite file: mentions, scores, cursors and runs; `ledger`
    holds the alerts, over the same connection."""

    def __init__(self, db: Connection):
        from reputation.ledger import Ledger  # the ledger builds on this module

        super().__init__(db)
        self.ledger: Ledger = Ledger(db)
        if isinstance(db, Database):
            # `forget` matches authors as the tombstones do: case folded, without a leading @.
            db.conn.create_function("reputation_handle", 1, handle_key, deterministic=True)

    @classmethod
    def open(cls, path: Path | str) -> Store:
        """Open (creating if needed) the database at `path`, in WAL mode, fully migrated;
        StoreError, in one line saying why, if it cannot be used. A `postgresql://` URL
        opens that PostgreSQL database instead (migrated the same way)."""
        if is_postgres(path):
            return cls(_open_postgres(str(path)))
        memory = str(path) == ":memory:"
        try:
            if not memory:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            db = _Database(path)
            db.execute("PRAGMA busy_timeout = 10000")
            if not memory:
                db.enable_wal()
            _refuse_newer(db, path)
            migrations.apply(db)
            # Writes outside `atomic()` start as writers too (see _Database).
            db.conn.isolation_level = "IMMEDIATE"
        except (sqlite3.DatabaseError, OSError) as exc:
            raise StoreError(f"cannot open database {path}: {_why(Path(path), exc)}") from None
        return cls(db)

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Commits inside the block skip the flush to disk (SQLite in WAL mode: `synchronous
        = NORMAL`, then back to what it was). A killed process loses none of them; a power
        cut may roll back the block's last ones, which the next run redoes (a fetch cursor
        rolls back with its mentions). The first full commit after the block, such as a
        delivery's, flushes them all. PostgreSQL: no change."""
        if not isinstance(self._db, _Database) or self._db.conn.in_transaction:
            yield
            return
        conn = self._db.conn
        before = int(conn.execute("PRAGMA synchronous").fetchone()[0])
        if before <= _SYNC_NORMAL:  # already as relaxed (or more): nothing to undo
            yield
            return
        conn.execute(f"PRAGMA synchronous = {_SYNC_NORMAL}")
        try:
            yield
        finally:
            conn.execute(f"PRAGMA synchronous = {before}")  # an int read above, never input

    @contextmanager
    def lease(self, name: str) -> Iterator[bool]:
        """Hold the lease `name` (a connector, a stage of the run) for the block: True if
        this worker holds it, False if another worker does (skip the work then). SQLite: always
        True, the run lock already makes a run alone. PostgreSQL: a session advisory lock,
        released at the block's end or with the connection of a worker that died."""
        if not isinstance(self._db, PostgresDatabase):
            yield True
            return
        held = self._db.try_lock(f"lease:{name}")
        try:
            yield held
        finally:
            if held:
                self._db.unlock(f"lease:{name}")

    def copy_to(self, path: Path) -> None:
        """Write a consistent copy of the whole database to `path` (a new SQLite file)."""
        if self._db.dialect == "postgresql":
            target = Store.open(path)
            try:
                copy_tables(self, target)
            finally:
                target.close()
            return
        self._db.execute("VACUUM INTO ?", [str(path)])

    # -- ingest ---------------------------------------------------------------------------

    def cursors(self, connector: str) -> dict[str, str]:
        """Saved cursors of one connector, by scope."""
        rows = self._rows("SELECT scope, value FROM cursors WHERE connector = ?", [connector])
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
        cursor_as: str | None = None,
    ) -> IngestStats:
        """Upsert mentions, their snapshots and the brand's replies, count billable reads, and
        advance the cursor (saved under `cursor_as`, default the connector's name): all in one
        transaction. A record SQLite refuses is skipped and listed in `refused`; the rest and
        the cursor go on."""
        args = (connector, mentions, now, scope, cursor, replies, reads, cursor_as)
        try:
            return self._save_batch(*args, guarded=False)
        except _RECORD_ERRORS:
            # Rolled back whole; again with a savepoint per record (about twice as slow, so
            # only for a batch that holds a record SQLite refuses).
            return self._save_batch(*args, guarded=True)

    def _save_batch(
        self,
        connector: str,
        mentions: Sequence[Mention],
        now: datetime,
        scope: str | None,
        cursor: str | None,
        replies: Sequence[Reply],
        reads: int,
        cursor_as: str | None,
        guarded: bool,
    ) -> IngestStats:
        stats = IngestStats()
        record = self._db.atomic if guarded else contextlib.nullcontext
        fresh: list[tuple[list[Any], list[Any]]] = []  # new mentions, written many at once
        with self._db.atomic():
            mentions, replies = self._unforgotten(mentions, replies, stats)
            top = self._fts_top()
            existing = self._current(m.key for m in mentions)
            for mention in mentions:
                old = existing.get(mention.key)
                if old is None and not guarded:
                    params = self._new_params(connector, mention, now)
                    fresh.append(params)
                    existing[mention.key] = _as_current(mention, params[1][1])
                    stats.new += 1
                    crash_point("ingest-record")  # a test hook (decision 140)  # pragma: no mutate
                    continue
                self._insert_many(fresh)  # an update may follow an insert of the same key
                try:
                    with record():  # a savepoint: one record's failure is its own
                        new = self._upsert(connector, mention, old, now)
                except _RECORD_ERRORS as exc:
                    if not guarded:
                        raise
                    stats.refused.append((mention.key, _reason(exc)))
                    continue
                existing[mention.key] = new
                crash_point("ingest-record")  # a test hook (decision 140)  # pragma: no mutate
                if old is None:
                    stats.new += 1
                elif new["version"] != old["version"]:
                    stats.updated += 1
            self._insert_many(fresh)
            self._save_replies(connector, replies, now, guarded, stats)
            if stats.new and top is not None:  # new rows take rowids above the old maximum
                self._db.execute(
                    "INSERT INTO mentions_fts (rowid, text) SELECT rowid, text FROM mentions"
                    " WHERE rowid > ?",
                    [top],
                )
            if reads:
                self._count_reads(connector, reads, now)
            if scope is not None and cursor is not None:
                self._db.execute(
                    "INSERT INTO cursors (connector, scope, value, updated_at) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (connector, scope) DO UPDATE SET value = excluded.value,"
                    " updated_at = excluded.updated_at",
                    [cursor_as or connector, scope, cursor, iso(now)],
                )
        return stats

    def _fts_top(self) -> int | None:
        """SQLite: the highest rowid of mentions, above which a batch's new mentions are put
        in the FTS5 index in one statement. PostgreSQL: None, its index follows by itself."""
        if self._db.dialect == "postgresql":
            return None
        [top] = self._rows("SELECT COALESCE(MAX(rowid), 0) AS top FROM mentions")
        return int(top["top"])

    def known_keys(self, keys: Iterable[str]) -> set[str]:
        """Which of these mention keys the store already holds."""
        return set(self._current(keys))

    def clear_cursors(self, connector: str) -> None:
        """Forget every saved cursor of `connector` (a finished backfill's own state)."""
        with self._db.atomic():
            self._db.execute("DELETE FROM cursors WHERE connector = ?", [connector])

    def _unforgotten(
        self, mentions: Sequence[Mention], replies: Sequence[Reply], stats: IngestStats
    ) -> tuple[Sequence[Mention], Sequence[Reply]]:
        """The batch less the posts of people `forget` removed (and the brand's replies to
        them): a re-read of the source must not bring them back."""
        rows = self._rows("SELECT kind, digest, source FROM forgotten")
        if not rows:
            return mentions, replies
        gone = {(r["kind"], r["digest"], r["source"]) for r in rows}

        def forgotten(m: Mention) -> bool:
            author = forget_digest("author", m.author) if m.author else None
            return (
                ("mention", forget_digest("mention", m.key), "*") in gone
                or ("author", author, "*") in gone
                or ("author", author, m.source) in gone
            )

        kept = [m for m in mentions if not forgotten(m)]
        kept_replies = [
            r for r in replies
            if ("mention", forget_digest("mention", r.mention_key), "*") not in gone
        ]  # fmt: skip
        stats.forgotten += len(mentions) - len(kept) + len(replies) - len(kept_replies)
        return kept, kept_replies

    def _save_replies(
        self, connector: str, replies: Sequence[Reply], now: datetime, guarded: bool,
        stats: IngestStats,
    ) -> None:  # fmt: skip
        """Store the brand's replies; guarded, a reply the store refuses is reported and
        skipped (its own savepoint), otherwise the error propagates."""
        record = self._db.atomic if guarded else contextlib.nullcontext
        for reply in replies:
            try:
                with record():
                    self._save_reply(connector, reply, now)
            except _RECORD_ERRORS as exc:
                if not guarded:
                    raise
                stats.refused.append((reply.key, _reason(exc)))

    def _save_reply(self, connector: str, reply: Reply, now: datetime) -> None:
        self._db.execute(
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
        rows = self._rows(sql + " ORDER BY created_at DESC LIMIT ?", [*params, limit])
        return [r["native_id"] for r in rows]

    # -- source state: rate limits and read budgets ---------------------------------------

    def source_state(self, connector: str) -> dict[str, Any]:
        """The connector's saved state (retry_at, last_error, month, month_reads...)."""
        rows = self._rows("SELECT * FROM source_state WHERE connector = ?", [connector])
        return rows[0] if rows else {"connector": connector, "month": None, "month_reads": 0}

    def reads_this_month(self, connector: str, now: datetime) -> int:
        """Billable reads the connector spent in the UTC month of `now`."""
        return month_reads(self.source_state(connector), now)

    def _count_reads(self, connector: str, reads: int, now: datetime) -> None:
        month = now.strftime("%Y-%m")
        self._db.execute(
            "INSERT INTO source_state (connector, month, month_reads) VALUES (?, ?, ?)"
            " ON CONFLICT (connector) DO UPDATE SET month_reads = CASE WHEN month = excluded.month"
            " THEN month_reads + excluded.month_reads ELSE excluded.month_reads END,"
            " month = excluded.month",
            [connector, month, reads],
        )

    def source_succeeded(self, connector: str, now: datetime) -> None:
        """Record a fetch that finished; any rate-limit wait is over."""
        self._db.execute(
            "INSERT INTO source_state (connector, last_success_at) VALUES (?, ?)"
            " ON CONFLICT (connector) DO UPDATE SET last_success_at = excluded.last_success_at,"
            " retry_at = NULL",
            [connector, iso(now)],
        )

    def source_failed(
        self, connector: str, error: str, now: datetime, retry_at: datetime | None = None
    ) -> None:
        """Record a failed fetch and, for a rate limit, when the source may be called again."""
        self._db.execute(
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
                "SELECT key, text, likes, shares, replies, last_seen_at, version,"  # noqa: S608
                " (SELECT s.reshare_reach FROM snapshots s WHERE s.mention_key = m.key"
                " AND s.reshare_reach IS NOT NULL ORDER BY s.observed_at DESC LIMIT 1)"
                f" AS reshare_reach FROM mentions m WHERE key IN ({marks})"
            )
            for row in self._rows(sql, chunk):
                found[row["key"]] = row
        return found

    def _new_params(self, connector: str, m: Mention, now: datetime) -> tuple[list[Any], list[Any]]:
        """The parameters of a new mention's row and of its first snapshot."""
        seen = iso(m.observed_at or now)
        raw = json.dumps(m.raw, default=str) if m.raw is not None else None
        row = [m.key, m.source, m.native_id, m.brand, m.text, m.author, m.author_followers,
               m.url, iso(m.created_at), m.likes, m.shares, m.replies, m.lang, m.parent_id,
               m.thread_id, connector, seen, seen, raw]  # fmt: skip
        return row, [m.key, seen, m.likes, m.shares, m.replies, m.reshare_reach, m.impressions]

    def _insert_many(self, fresh: list[tuple[list[Any], list[Any]]]) -> None:
        """Write new mentions and their first snapshots, two statements for them all; empty
        `fresh`."""
        if not fresh:
            return
        self._execute_many(
            "INSERT INTO mentions (key, source, native_id, brand, text, author,"
            " author_followers, url, created_at, likes, shares, replies, lang, parent_id,"
            " thread_id, connector, first_seen_at, last_seen_at, version, raw)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
            [row for row, _ in fresh],
        )
        self._execute_many(
            "INSERT OR IGNORE INTO snapshots (mention_key, observed_at, likes, shares, replies,"
            " reshare_reach, impressions) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [snapshot for _, snapshot in fresh],
        )
        fresh.clear()

    def _upsert(
        self, connector: str, m: Mention, old: dict[str, Any] | None, now: datetime
    ) -> dict[str, Any]:
        seen = iso(m.observed_at or now)
        counts = {"likes": m.likes, "shares": m.shares, "replies": m.replies}
        reach = m.reshare_reach
        if old is None:
            row, _ = self._new_params(connector, m, now)
            self._db.execute(
                "INSERT INTO mentions (key, source, native_id, brand, text, author,"
                " author_followers, url, created_at, likes, shares, replies, lang, parent_id,"
                " thread_id, connector, first_seen_at, last_seen_at, version, raw)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
                row,
            )
            self._snapshot(m, seen)
            return _as_current(m, seen)
        if seen < old["last_seen_at"]:
            # A late observation: keep it as history, leave the current counts alone.
            added = self._snapshot(m, seen)
            version = old["version"] + added
            self._db.execute("UPDATE mentions SET version = ? WHERE key = ?", [version, m.key])
            return {**old, "version": version}
        if seen == old["last_seen_at"]:  # the same moment read twice: the higher counts hold
            counts = {k: max(v, old[k]) for k, v in counts.items()}
        # New counts or a new reshare reach are a new observation; impressions alone are not
        # (they rise with every view and the forecast does not read them: decision 110).
        changed = any(old[k] != v for k, v in counts.items()) or (
            reach is not None and reach != old.get("reshare_reach")
        )
        added = self._snapshot(m, seen) if changed else 0
        latest_reach = reach if added and reach is not None else old.get("reshare_reach")
        # An edited post is a new version too: scored and evaluated again, as new counts are.
        version = old["version"] + (added or int(old["text"] != m.text))
        self._db.execute(
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
                counts["likes"],
                counts["shares"],
                counts["replies"],
                m.lang,
                m.parent_id,
                m.thread_id,
                seen,
                version,
                m.key,
            ],
        )
        return {**counts, "key": m.key, "text": m.text, "last_seen_at": seen, "version": version,
                "reshare_reach": latest_reach}  # fmt: skip

    def _snapshot(self, m: Mention, seen: str) -> int:
        """Record the observation of `m` at `seen` (counts, reshare reach, impressions); 1 if
        it was added or changed. A snapshot of that moment already kept keeps the higher of
        each count (decision 141) and takes the reach (with the impressions) a later report
        of the same moment adds: a source may look the reach up after it read the counts."""
        cursor = self._db.execute(
            "INSERT INTO snapshots (mention_key, observed_at, likes, shares, replies,"
            " reshare_reach, impressions) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (mention_key, observed_at) DO UPDATE SET"
            " likes = MAX(snapshots.likes, excluded.likes),"
            " shares = MAX(snapshots.shares, excluded.shares),"
            " replies = MAX(snapshots.replies, excluded.replies),"
            " reshare_reach = COALESCE(excluded.reshare_reach, snapshots.reshare_reach),"
            " impressions = COALESCE(excluded.impressions, snapshots.impressions)"
            " WHERE excluded.likes > snapshots.likes OR excluded.shares > snapshots.shares"
            " OR excluded.replies > snapshots.replies OR (excluded.reshare_reach IS NOT NULL"
            " AND snapshots.reshare_reach IS NOT excluded.reshare_reach)",
            [m.key, seen, m.likes, m.shares, m.replies, m.reshare_reach, m.impressions],
        )
        return cursor.rowcount

    # -- scoring --------------------------------------------------------------------------

    def mentions_to_score(
        self, limit: int = 500, after: tuple[str, str] | None = None
    ) -> list[MentionRow]:
        """Mentions never scored or changed since, ordered by (created_at, key), after `after`."""
        created, key = after or ("", "")
        return self._typed(
            MentionRow,
            # `scored_version < version` is the partial index mentions_to_score: the queue.
            f"SELECT {_TO_SCORE_SQL} FROM mentions m"  # noqa: S608 - names from a constant
            " WHERE m.scored_version < m.version AND (m.created_at, m.key) > (?, ?)"
            " ORDER BY m.created_at, m.key LIMIT ?",
            [created, key, limit],
        )

    def count_to_score(self, limit: int) -> int:
        """How many mentions are due for scoring, counted up to `limit` (an index read)."""
        [row] = self._rows(
            "SELECT COUNT(*) AS n FROM (SELECT 1 FROM mentions"
            " WHERE scored_version < version LIMIT ?)",
            [limit],
        )
        return int(row["n"])

    def snapshots(self, keys: Sequence[str]) -> dict[str, list[Snapshot]]:
        """Engagement snapshots of each key, oldest first."""
        out: dict[str, list[Snapshot]] = {k: [] for k in keys}
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            marks = ", ".join("?" * len(chunk))
            sql = (
                "SELECT * FROM snapshots"  # noqa: S608
                f" WHERE mention_key IN ({marks}) ORDER BY observed_at"
            )
            for row in self._typed(Snapshot, sql, chunk):
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
            out.update((r["mention_key"], r["complaint"]) for r in self._rows(sql, chunk))
        return out

    def save_scores(self, scored: Sequence[tuple[Score, int]], now: datetime) -> None:
        """Write scores with the mention version they cover; each is due for rule evaluation."""
        rows = [
            [score.mention_key, version, iso(now), score.sentiment, score.complaint,
             score.severity, score.viral_risk, score.predicted_engagement_24h, score.category,
             json.dumps(list(score.reasons)), score.mention_key]
            for score, version in scored
        ]  # fmt: skip
        with self._db.atomic():
            self._execute_many(
                "INSERT INTO scores (mention_key, mention_version, scored_at, sentiment,"
                " complaint, severity, viral_risk, predicted_engagement_24h, category,"
                " reasons, evaluated, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0,"
                " (SELECT created_at FROM mentions WHERE key = ?))"
                " ON CONFLICT (mention_key) DO UPDATE SET"
                " mention_version = excluded.mention_version,"
                " scored_at = excluded.scored_at, sentiment = excluded.sentiment,"
                " complaint = excluded.complaint, severity = excluded.severity,"
                " viral_risk = excluded.viral_risk,"
                " predicted_engagement_24h = excluded.predicted_engagement_24h,"
                " category = excluded.category, reasons = excluded.reasons, evaluated = 0",
                rows,
            )
            self._execute_many(
                "UPDATE mentions SET scored_version = ? WHERE key = ?",
                [(version, score.mention_key) for score, version in scored],
            )

    # -- rules ----------------------------------------------------------------------------

    def unevaluated(self, limit: int = 500) -> list[ScoredMention]:
        """Scored mentions the rules have not seen in their current version, oldest first."""
        # `evaluated = 0` is the partial index scores_due, in (created_at, key) order.
        return self._scored(
            SCORED_SELECT + " WHERE s.evaluated = 0 ORDER BY s.created_at, s.mention_key LIMIT ?",
            [limit],
        )

    def window(
        self,
        brand: str,
        start: datetime,
        end: datetime,
        field: str | None = None,
        value: Any = None,
    ) -> list[ScoredMention]:
        """Scored mentions of `brand` created in [start, end], optionally with `field` = value."""
        sql = SCORED_SELECT + " WHERE m.brand = ? AND m.created_at >= ? AND m.created_at <= ?"
        params: list[Any] = [brand, iso(start), iso(end)]
        if field is not None and field != "brand":
            sql += f" AND {_column(field)} IS ?"
            params.append(value)
        return self._scored(sql + " ORDER BY m.created_at, m.key", params)

    def evaluate_again_since(self, start: datetime) -> None:
        """Make mentions created since `start` due for rule evaluation, and the older ones
        not (a backtest replays from `start`)."""
        self._db.execute(
            "UPDATE scores SET evaluated = CASE WHEN mention_key IN"
            " (SELECT key FROM mentions WHERE created_at >= ?) THEN 0 ELSE 1 END",
            [iso(start)],
        )

    def mark_evaluated(self, keys: Sequence[str]) -> None:
        """Record that the rules have seen these mentions' current scores."""
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            marks = ", ".join("?" * len(chunk))
            self._db.execute(
                f"UPDATE scores SET evaluated = 1 WHERE mention_key IN ({marks})",  # noqa: S608
                chunk,
            )

    # -- rule types: queries they need (kept together; see reputation/ruletypes.py) -------

    def field_values(self, field: str, since: datetime, until: datetime) -> list[Any]:
        """Distinct non-null values of a rule field among mentions created in [since, until]
        (a flatline's candidates; scores are joined only for a score field)."""
        column = _column(field)
        join = " JOIN scores s ON s.mention_key = m.key" if field in SCORE_COLUMNS else ""
        rows = self._rows(
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
    ) -> Iterator[ScoredMention]:  # fmt: skip
        """Scored mentions created in [since, until] (of `brand`, with `field` = value, text
        LIKE `text_like`, strictly before (created_at, key) `before`), newest first, by page."""
        sql = SCORED_SELECT + " WHERE m.created_at <= ?"
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
            found = self._scored(
                sql + bound + " ORDER BY m.created_at DESC, m.key DESC LIMIT ?",
                [*params, *(before or ()), page],
            )
            yield from found
            if len(found) < page:
                return
            before = (found[-1]["created_at"], found[-1]["key"])

    def first_mention_at(self, brand: str) -> datetime | None:
        """When the oldest stored mention of `brand` was created (None: no mention yet)."""
        [row] = self._rows("SELECT MIN(created_at) AS first FROM mentions WHERE brand = ?", [brand])
        return parse_time(row["first"]) if row["first"] else None

    # -- retention and forgetting (reputation/retention.py, reputation/forget.py) ----------

    def prune_raw(self, before: datetime, limit: int) -> int:
        """Drop the raw payload of at most `limit` mentions created before `before`; one
        transaction. Returns how many."""
        with self._db.atomic():
            return self._db.execute(
                "UPDATE mentions SET raw = NULL WHERE "  # noqa: S608 - constants
                + self._first_rows("mentions", "raw IS NOT NULL AND created_at < ?", "created_at"),
                [iso(before), limit],
            ).rowcount

    def prune_snapshots(self, before: datetime, limit: int) -> int:
        """Delete at most `limit` snapshots observed before `before` (a mention's row keeps its
        latest counts); one transaction. Returns how many."""
        with self._db.atomic():
            return self._db.execute(
                "DELETE FROM snapshots WHERE "  # noqa: S608 - constants
                + self._first_rows("snapshots", "observed_at < ?", "observed_at"),
                [iso(before), limit],
            ).rowcount

    def _first_rows(self, table: str, condition: str, order: str) -> str:
        """A WHERE condition: the row is among the first `?` rows of `table` (a constant) by
        `order` where `condition` holds, found by physical address: SQLite's rowid, or
        PostgreSQL's ctid (`= ANY(ARRAY(...))` is a TID scan there; `IN` would scan)."""
        rows = f"SELECT {{0}} FROM {table} WHERE {condition} ORDER BY {order} LIMIT ?"  # noqa: S608
        if self._db.dialect == "postgresql":
            return "ctid = ANY(ARRAY(" + rows.format("ctid") + "))"
        return "rowid IN (" + rows.format("rowid") + ")"

    def prune_mentions(self, before: datetime, limit: int) -> int:
        """Delete at most `limit` mentions created before `before`, none of an open incident,
        with their scores, snapshots, evidence links and the brand's replies to them; one
        transaction. Alerts stay in the ledger, so nothing is alerted twice. Returns how many."""
        with self._db.atomic():
            rows = self._rows(
                "SELECT key FROM mentions m WHERE created_at < ? AND NOT EXISTS (SELECT 1"
                " FROM incident_mentions im JOIN incidents i ON i.id = im.incident_id"
                " WHERE im.mention_key = m.key AND i.status = 'open')"
                " ORDER BY created_at LIMIT ?",
                [iso(before), limit],
            )
            keys = [r["key"] for r in rows]
            self._delete_mentions(keys)
        return len(keys)

    def _delete_mentions(self, keys: Sequence[str]) -> dict[str, int]:
        """Delete these mentions and every row that hangs off them; counts by table. The
        triggers of migration m011 take them out of the full-text index."""
        counts = dict.fromkeys((*_MENTION_DEPENDANTS, "mentions"), 0)
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            marks = ", ".join("?" * len(chunk))
            for table in (*_MENTION_DEPENDANTS, "mentions"):
                column = "key" if table == "mentions" else "mention_key"
                counts[table] += self._db.execute(
                    f"DELETE FROM {table} WHERE {column} IN ({marks})",  # noqa: S608 - constants
                    chunk,
                ).rowcount
        return counts

    def forget_author(
        self, handle: str, source: str | None, redact: Callable[[str], str], now: datetime
    ) -> ForgetResult:
        """Remove every mention `handle` wrote (on `source`, or anywhere), with its snapshots,
        scores and the brand's replies to it; redact them in the ledger (alerts keep their
        fingerprints, so nothing is sent again); record tombstones (hashes, never the handle)
        so a re-read does not store them again. `redact` blanks the handle in the ledger's
        texts. On SQLite, deleted content is overwritten on disk (secure_delete), and the
        full-text index is merged, so no old segment keeps the words; PostgreSQL has neither
        (its dead rows go at the next vacuum: docs/postgresql.md)."""
        sqlite = self._db.dialect != "postgresql"
        if sqlite:
            self._db.execute("PRAGMA secure_delete = ON")
        try:
            with self._db.atomic():
                rows = self._written_by(handle, source)
                keys = [r["key"] for r in rows]
                ledger = self.ledger.forget_evidence(keys, handle, redact, now)
                counts = self._delete_mentions(keys)
                stamp = iso(now)
                tombstones = [("author", forget_digest("author", handle), source or "*")]
                tombstones += [("mention", forget_digest("mention", k), "*") for k in keys]
                for kind, digest, scope in tombstones:
                    self._db.execute(
                        "INSERT OR IGNORE INTO forgotten (kind, digest, source, forgotten_at)"
                        " VALUES (?, ?, ?, ?)",
                        [kind, digest, scope, stamp],
                    )
            if sqlite:
                with self._db.atomic():  # one merged segment: no old one keeps their words
                    self._db.execute("INSERT INTO mentions_fts (mentions_fts) VALUES ('optimize')")
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            if sqlite:
                self._db.execute("PRAGMA secure_delete = OFF")
        days = sorted({r["created_at"][:10] for r in rows})
        return ForgetResult(keys=keys, days=days, counts=counts, **ledger)

    def _written_by(self, handle: str, source: str | None) -> list[dict[str, Any]]:
        """Key and created_at of the mentions `handle` wrote (on `source`, or anywhere),
        authors matched by `handle_key`: in SQL on SQLite (a registered function), in Python
        over the rows on PostgreSQL (whose SQL has no casefold)."""
        wanted = handle_key(handle)
        if self._db.dialect == "postgresql":
            sql = "SELECT key, created_at, author FROM mentions"
            rows = (
                self._rows(sql + " WHERE source = ?", [source])
                if source is not None
                else self._rows(sql)
            )
            return [
                {"key": r["key"], "created_at": r["created_at"]}
                for r in rows
                if handle_key(r["author"]) == wanted
            ]
        sql = "SELECT key, created_at FROM mentions WHERE reputation_handle(author) = ?"
        params: list[Any] = [wanted]
        if source is not None:
            sql += " AND source = ?"
            params.append(source)
        return self._rows(sql, params)

    def search(self, words: str, limit: int = 20) -> list[str]:
        """Keys of mentions whose text matches the full-text query `words`, best first: FTS5's
        query syntax on SQLite; on PostgreSQL web-search syntax (words, "phrases", OR, -word)
        over the text's words, lower-cased, unstemmed (decision 157)."""
        if self._db.dialect == "postgresql":
            query = "websearch_to_tsquery('simple', ?)"
            rows = self._rows(
                f"SELECT key FROM mentions WHERE {TEXT_SEARCH} @@ {query}"  # noqa: S608
                f" ORDER BY ts_rank({TEXT_SEARCH}, {query}) DESC, key LIMIT ?",
                [words, words, limit],
            )
        else:
            rows = self._rows(
                "SELECT m.key FROM mentions_fts f JOIN mentions m ON m.rowid = f.rowid"
                " WHERE mentions_fts MATCH ? ORDER BY rank LIMIT ?",
                [words, limit],
            )
        return [r["key"] for r in rows]

    def describe_tables(self) -> list[dict[str, Any]]:
        """Every table of the database with its columns: [{"table", "columns"}]."""
        if self._db.dialect == "postgresql":
            names = sorted(self.table_names())
        else:
            sql = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            names = [r["name"] for r in self._rows(sql)]
        return [{"table": name, "columns": [d[0] for d in self._columns(name)]} for name in names]

    def _columns(self, table: str) -> Any:
        """The cursor description of `table` (a name from the catalogue), in column order."""
        return self._db.execute(f'SELECT * FROM "{table}" LIMIT 0').description  # noqa: S608

    # -- runs -----------------------------------------------------------------------------

    def start_run(self, now: datetime) -> int:
        """Record the start of a run and return its id. The caller holds the run lock, so a
        run still marked running ended without recording its outcome (kill -9, power loss):
        it is marked crashed. On PostgreSQL, where workers run side by side, each run holds
        a session lock on its id while it lives: only runs whose lock is free are crashed."""
        error = json.dumps([f"ended without recording its outcome; found at {iso(now)}"])
        with self.transaction():
            if isinstance(self._db, PostgresDatabase):
                for row in self._rows("SELECT id FROM runs WHERE status = 'running'"):
                    if self._db.try_lock(f"run:{row['id']}"):  # its worker is gone
                        self._db.unlock(f"run:{row['id']}")
                        self._db.execute(
                            "UPDATE runs SET status = 'crashed', errors = ? WHERE id = ?",
                            [error, row["id"]],
                        )
            else:
                self._db.execute(
                    "UPDATE runs SET status = 'crashed', errors = ? WHERE status = 'running'",
                    [error],
                )
            run_id = self._insert(
                "INSERT INTO runs (started_at, status) VALUES (?, 'running')", [iso(now)]
            )
            if isinstance(self._db, PostgresDatabase):  # before any other worker sees the row
                self._db.try_lock(f"run:{run_id}")  # released by finish_run or with the worker
        return run_id

    def finish_run(self, run_id: int, summary: dict[str, Any], status: str, now: datetime) -> None:
        """Record a run's outcome and counts."""
        self._db.execute(
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
        if isinstance(self._db, PostgresDatabase):
            self._db.unlock(f"run:{run_id}")

    # -- operations (issue 14): each source's outcome per run, activity, runs, the day ----

    def record_source_run(self, connector: str, outcome: str, reads: int, now: datetime) -> None:
        """Keep what one run did with a source: ok, failed, rate_limited or budget (skipped)."""
        self._db.execute(
            "INSERT INTO source_runs (connector, at, outcome, reads) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (connector, at) DO UPDATE SET outcome = excluded.outcome,"
            " reads = excluded.reads",
            [connector, iso(now), outcome, reads],
        )

    def last_source_run(self, connector: str) -> dict[str, Any] | None:
        """The latest `source_runs` row of a connector."""
        rows = self._rows(
            "SELECT * FROM source_runs WHERE connector = ? ORDER BY at DESC LIMIT 1", [connector]
        )
        return rows[0] if rows else None

    def connector_activity(self, connector: str, now: datetime) -> dict[str, Any]:
        """A connector's newest stored post, and its mentions created in the last 24 h, the
        same 24 h a week before, the last hour and the same hour a week before."""
        week, day, hour = timedelta(days=7), timedelta(days=1), timedelta(hours=1)
        spans = [(now - day, now), (now - week - day, now - week), (now - hour, now),
                 (now - week - hour, now - week)]  # fmt: skip
        params: list[Any] = [x for span in spans for x in (iso(span[0]), iso(span[1]))]
        [row] = self._rows(
            "SELECT MAX(created_at) AS newest,"
            " SUM(CASE WHEN created_at > ? AND created_at <= ? THEN 1 ELSE 0 END) AS d0,"
            " SUM(CASE WHEN created_at > ? AND created_at <= ? THEN 1 ELSE 0 END) AS d7,"
            " SUM(CASE WHEN created_at > ? AND created_at <= ? THEN 1 ELSE 0 END) AS h0,"
            " SUM(CASE WHEN created_at > ? AND created_at <= ? THEN 1 ELSE 0 END) AS h7"
            " FROM mentions WHERE connector = ?",
            [*params, connector],
        )
        return {k: (v if k == "newest" else int(v or 0)) for k, v in row.items()}

    def recent_runs(self, limit: int = 10) -> list[dict[str, Any]]:
        """The latest runs, newest first."""
        return self._rows("SELECT * FROM runs ORDER BY id DESC LIMIT ?", [limit])

    def last_finished_run(self) -> dict[str, Any] | None:
        """The latest run that recorded its outcome (ok, or errors: it ran to the end)."""
        rows = self._rows(
            "SELECT * FROM runs WHERE status IN ('ok', 'errors') ORDER BY id DESC LIMIT 1"
        )
        return rows[0] if rows else None

    def day_counts(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Mentions created in [start, end) counted by sentiment (negative ≤ -0.05 < neutral <
        0.05 ≤ positive; unscored), by category and by source: rows (dimension, value, n)."""
        return self._rows(
            "SELECT 'sentiment' AS dimension, CASE WHEN s.sentiment IS NULL THEN 'unscored'"
            " WHEN s.sentiment <= -0.05 THEN 'negative' WHEN s.sentiment >= 0.05"
            " THEN 'positive' ELSE 'neutral' END AS value, COUNT(*) AS n"
            " FROM mentions m LEFT JOIN scores s ON s.mention_key = m.key"
            " WHERE m.created_at >= ? AND m.created_at < ? GROUP BY 2"
            " UNION ALL SELECT 'category', COALESCE(s.category, 'unscored'), COUNT(*)"
            " FROM mentions m LEFT JOIN scores s ON s.mention_key = m.key"
            " WHERE m.created_at >= ? AND m.created_at < ? GROUP BY 2"
            " UNION ALL SELECT 'source', m.source, COUNT(*) FROM mentions m"
            " WHERE m.created_at >= ? AND m.created_at < ? GROUP BY 2",
            [iso(start), iso(end)] * 3,
        )

    def hourly(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Mentions created in [start, end) per UTC hour (`YYYY-MM-DDTHH`): all, negative."""
        return self._rows(
            "SELECT substr(m.created_at, 1, 13) AS hour, COUNT(*) AS n,"
            " SUM(CASE WHEN s.sentiment <= -0.05 THEN 1 ELSE 0 END) AS negative"
            " FROM mentions m LEFT JOIN scores s ON s.mention_key = m.key"
            " WHERE m.created_at >= ? AND m.created_at < ? GROUP BY 1 ORDER BY 1",
            [iso(start), iso(end)],
        )

    def coverage(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Per connector, runs in [start, end) by outcome, billable reads, and the mentions
        it stored for the first time then."""
        rows = self._rows(
            "SELECT connector, SUM(CASE WHEN outcome = 'ok' THEN 1 ELSE 0 END) AS ok,"
            " SUM(CASE WHEN outcome = 'failed' THEN 1 ELSE 0 END) AS failed,"
            " SUM(CASE WHEN outcome = 'rate_limited' THEN 1 ELSE 0 END) AS rate_limited,"
            " SUM(CASE WHEN outcome = 'budget' THEN 1 ELSE 0 END) AS budget,"
            " SUM(reads) AS reads FROM source_runs WHERE at >= ? AND at < ? GROUP BY connector",
            [iso(start), iso(end)],
        )
        fetched = self._rows(
            "SELECT connector, COUNT(*) AS n FROM mentions WHERE first_seen_at >= ?"
            " AND first_seen_at < ? GROUP BY connector",
            [iso(start), iso(end)],
        )
        out = {r["connector"]: {**r, "fetched": 0} for r in rows}
        for row in fetched:
            base = {"connector": row["connector"], "ok": 0, "failed": 0, "rate_limited": 0,
                    "budget": 0, "reads": 0}  # fmt: skip
            out.setdefault(row["connector"], base)["fetched"] = row["n"]
        return [out[name] for name in sorted(out)]


# SQLite's `synchronous` level that syncs the WAL only at checkpoints (FULL, 2, syncs it at
# every commit).
_SYNC_NORMAL = 1


class _Database(Database):
    """A sqlite-utils Database whose transactions start as writers (`BEGIN IMMEDIATE`).
    PostgreSQL's counterpart is reputation.db.PostgresDatabase.

    With a plain `BEGIN` a transaction that reads first takes the write lock only at its
    first write; in WAL mode, if another connection committed in between (`reputation
    silence add` during a run's rules), that upgrade fails at once with "database is locked",
    whatever the busy timeout. Taken at `BEGIN`, the lock waits its turn like any other."""

    dialect = "sqlite"

    @contextmanager
    def atomic(self) -> Iterator[Database]:
        """A transaction that holds the write lock from its start; nested, a savepoint."""
        if self.conn.in_transaction:
            with super().atomic():
                yield self
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self.rollback()
            raise
        try:
            self.conn.execute("COMMIT")
        except BaseException:
            self.rollback()
            raise


def _open_postgres(dsn: str) -> PostgresDatabase:
    """Connect to a PostgreSQL database, refuse a newer schema, apply the migrations."""
    try:
        import psycopg
    except ImportError:
        raise StoreError(
            "a postgresql:// database needs psycopg: pip install 'reputation[postgres]'"
        ) from None
    try:
        db = PostgresDatabase(dsn)
    except psycopg.Error as exc:
        raise StoreError(f"cannot open database {_hidden(dsn)}: {_first_line(exc)}") from None
    try:
        _refuse_newer_names(applied_migrations(db, migrations.name), _hidden(dsn))
        steps = [(m.name, m.fn) for m in migrations._migrations]  # sqlite-utils keeps it private
        migrate_postgres(db, migrations.name, steps)
    except BaseException:
        db.close()
        raise
    return db


def _hidden(dsn: str) -> str:
    """A PostgreSQL URL without its password, for messages and logs."""
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", dsn)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def copy_tables(source: Tables, target: Tables, chunk: int = 1000) -> dict[str, int]:
    """Copy every row of every table from one migrated store into another, new, one (of
    either backend) in one transaction; return the rows copied per table. Tables go in the
    order they were created, each emptied first (of rows a trigger made from an earlier one)."""
    copied: dict[str, int] = {}
    with target.transaction():
        for table in source.table_names():
            cursor = source._db.execute(f"SELECT * FROM {table}")  # noqa: S608 - from the schema
            names = [d[0] for d in cursor.description]
            marks = ", ".join("?" * len(names))
            insert = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})"  # noqa: S608
            target._db.execute(f"DELETE FROM {table}")  # noqa: S608
            copied[table] = 0
            while rows := cursor.fetchmany(chunk):
                for row in rows:
                    target._db.execute(insert, list(row))
                copied[table] += len(rows)
            if target._db.dialect == "postgresql" and "id" in names:
                target._db.execute(  # the next id follows the copied ones
                    "SELECT setval(pg_get_serial_sequence(?, 'id'), COALESCE((SELECT MAX(id)"  # noqa: S608
                    f" FROM {table}), 0) + 1, false) WHERE pg_get_serial_sequence(?, 'id')"
                    " IS NOT NULL",
                    [table, table],
                )
        if target._db.dialect != "postgresql":  # FTS5 indexes what it is given (m011)
            target._db.execute("INSERT INTO mentions_fts (mentions_fts) VALUES ('rebuild')")
    return copied


def _schema_version(names: Iterable[str]) -> int:
    """The highest migration number among `names` (m005_... is 5), 0 for none."""
    numbers = [int(n[1:4]) for n in names if n[:1] == "m" and n[1:4].isdigit()]
    return max(numbers, default=0)


def _refuse_newer(db: Database, path: Path | str) -> None:
    """Raise StoreError if the database holds migrations this version does not know: a newer
    version wrote it, and this one would misread or damage what it added."""
    _refuse_newer_names([m.name for m in migrations.applied(db)], path)


def _refuse_newer_names(applied: Sequence[str], path: Path | str) -> None:
    known = {m.name for m in migrations._migrations}  # sqlite-utils keeps its list private
    unknown = [name for name in applied if name not in known]
    if unknown:
        raise StoreError(
            f"database {path} has schema version {_schema_version(applied)}, written by a "
            f"newer reputation; this version reads up to schema version "
            f"{_schema_version(known)}: upgrade reputation, or give it another database"
        )


def _why(path: Path, exc: BaseException) -> str:
    """Why the database at `path` cannot be opened, in the user's terms."""
    for folder in path.parents:
        if folder.exists():
            if not folder.is_dir():
                return f"{folder} is a file, not a folder"
            break
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    if isinstance(exc, PermissionError) or "unable to open" in text or "readonly" in text:
        return (
            f"{text}; its folder {path.parent} must exist and be writable (SQLite keeps "
            f"{path.name}-wal and {path.name}-shm beside it)"
        )
    if "malformed" in text or "not a database" in text:
        return f"{text}: the file is damaged, or is not a reputation database"
    return text


def _reason(exc: BaseException) -> str:
    """Why SQLite refused a record, short enough for one line of a run's errors."""
    return f"{type(exc).__name__}: {exc}"[:200]


def _as_current(m: Mention, seen: str) -> dict[str, Any]:
    """What `_current` reads of a mention just inserted (seen at `seen`)."""
    return {"key": m.key, "text": m.text, "likes": m.likes, "shares": m.shares,
            "replies": m.replies, "last_seen_at": seen, "version": 1,
            "reshare_reach": m.reshare_reach}  # fmt: skip


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


# What hangs off a mention by `mention_key`, deleted with it (retention, forget).
_MENTION_DEPENDANTS = ("scores", "snapshots", "alert_mentions", "incident_mentions", "replies")


@dataclass
class ForgetResult:
    """What `forget_author` removed: the mention keys, rows deleted by table, and what the
    ledger redacted."""

    keys: list[str]
    days: list[str]  # the UTC days (YYYY-MM-DD) their mentions were created
    counts: dict[str, int]
    alerts_redacted: int = 0
    alerts_muted: int = 0
    incidents_redacted: list[int] = field(default_factory=list)


def handle_key(author: str | None) -> str | None:
    """An author as `forget` matches it: without a leading @, case folded, trimmed."""
    if author is None:
        return None
    return author.strip().lstrip("@").casefold()


def forget_digest(kind: str, value: str | None) -> str:
    """The tombstone of a forgotten author or mention key: a hash, never the value."""
    text = handle_key(value) if kind == "author" else value
    return hashlib.sha256(f"{kind}:{text}".encode()).hexdigest()
