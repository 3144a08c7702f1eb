"""The SQLite store: connection and migrations, idempotent upserts with cursors saved with
their data, scores, the window queries rules run, and runs. The alert ledger shares its
connection (reputation/ledger.py)."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlite_utils import Database

from reputation.crashpoint import crash_point
from reputation.errors import StoreError
from reputation.models import Mention, MentionRow, Reply, Score, ScoredMention, Snapshot
from reputation.schema import migrations
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


# What one record can make SQLite refuse (a number beyond 64 bits, text that is not UTF-8, a
# constraint): that record is skipped and reported. Anything else (a locked or full database)
# fails the whole batch, whose cursor then stays where it was.
_RECORD_ERRORS = (
    OverflowError, ValueError, TypeError, RecursionError, sqlite3.IntegrityError,
    sqlite3.InterfaceError, sqlite3.DataError,
)  # fmt: skip


class Tables:
    """Bound-parameter SQL over one connection: what the Store and the Ledger share."""

    def __init__(self, db: Database):
        self._db = db

    def _rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        """Run a read query with bound parameters and return dict rows."""
        cursor = self._db.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def _insert(self, sql: str, params: Sequence[Any]) -> int:
        """Run an INSERT and return the id SQLite gave the new row."""
        row_id = self._db.execute(sql, params).lastrowid
        if row_id is None:
            raise StoreError(f"no row was written by {sql.split('(')[0]}")
        return row_id

    def _typed(self, kind: type[R], sql: str, params: Sequence[Any] = ()) -> list[R]:
        """`_rows` as rows of the TypedDict `kind`, for a query that selects its columns."""
        return cast("list[R]", self._rows(sql, params))

    def _scored(self, sql: str, params: Sequence[Any] = ()) -> list[ScoredMention]:
        """Run a SCORED_SELECT query; each row's `reasons` decoded, once, here."""
        rows = self._typed(ScoredMention, sql, params)
        for row in rows:
            row["reasons"] = json.loads(cast("str", row["reasons"]))
        return rows

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything inside commits together or not at all, in the store and the ledger alike
        (they share the connection); nested, it is a savepoint."""
        with self._db.atomic():
            yield


class Store(Tables):
    """The pipeline's state in one SQLite file: mentions, scores, cursors and runs; `ledger`
    holds the alerts, over the same connection."""

    def __init__(self, db: Database):
        from reputation.ledger import Ledger  # the ledger builds on this module

        super().__init__(db)
        self.ledger: Ledger = Ledger(db)

    @classmethod
    def open(cls, path: Path | str) -> Store:
        """Open (creating if needed) the database at `path`, in WAL mode, fully migrated;
        StoreError, in one line saying why, if it cannot be used."""
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

    def copy_to(self, path: Path) -> None:
        """Write a consistent copy of the whole database to `path` (a new file)."""
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
    ) -> IngestStats:
        """Upsert mentions, their snapshots and the brand's replies, count billable reads, and
        advance the cursor: all in one transaction. A record SQLite refuses is skipped and
        listed in `refused`; the rest and the cursor go on."""
        args = (connector, mentions, now, scope, cursor, replies, reads)
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
        guarded: bool,
    ) -> IngestStats:
        stats = IngestStats()
        record = self._db.atomic if guarded else contextlib.nullcontext
        with self._db.atomic():
            existing = self._current(m.key for m in mentions)
            for mention in mentions:
                old = existing.get(mention.key)
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
            for reply in replies:
                try:
                    with record():
                        self._save_reply(connector, reply, now)
                except _RECORD_ERRORS as exc:
                    if not guarded:
                        raise
                    stats.refused.append((reply.key, _reason(exc)))
            if reads:
                self._count_reads(connector, reads, now)
            if scope is not None and cursor is not None:
                self._db.execute(
                    "INSERT INTO cursors (connector, scope, value, updated_at) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (connector, scope) DO UPDATE SET value = excluded.value,"
                    " updated_at = excluded.updated_at",
                    [connector, scope, cursor, iso(now)],
                )
        return stats

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
                "SELECT key, text, likes, shares, replies, last_seen_at, version"  # noqa: S608
                f" FROM mentions WHERE key IN ({marks})"
            )
            for row in self._rows(sql, chunk):
                found[row["key"]] = row
        return found

    def _upsert(
        self, connector: str, m: Mention, old: dict[str, Any] | None, now: datetime
    ) -> dict[str, Any]:
        seen = iso(m.observed_at or now)
        counts = {"likes": m.likes, "shares": m.shares, "replies": m.replies}
        if old is None:
            self._db.execute(
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
            return {**counts, "key": m.key, "text": m.text, "last_seen_at": seen, "version": 1}
        if seen < old["last_seen_at"]:
            # A late observation: keep it as history, leave the current counts alone.
            added = self._snapshot(m.key, seen, counts)
            version = old["version"] + added
            self._db.execute("UPDATE mentions SET version = ? WHERE key = ?", [version, m.key])
            return {**old, "version": version}
        if seen == old["last_seen_at"]:  # the same moment read twice: the higher counts hold
            counts = {k: max(v, old[k]) for k, v in counts.items()}
        changed = any(old[k] != v for k, v in counts.items())
        added = self._snapshot(m.key, seen, counts) if changed else 0
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
        return {**counts, "key": m.key, "text": m.text, "last_seen_at": seen, "version": version}

    def _snapshot(self, key: str, seen: str, counts: dict[str, int]) -> int:
        """Record the counts observed at `seen`; a snapshot of that moment already kept
        keeps the higher of each count (decision 141). 1 if it is new or rose, else 0."""
        cursor = self._db.execute(
            "INSERT INTO snapshots (mention_key, observed_at, likes, shares, replies)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (mention_key, observed_at) DO UPDATE SET"
            " likes = MAX(likes, excluded.likes), shares = MAX(shares, excluded.shares),"
            " replies = MAX(replies, excluded.replies) WHERE excluded.likes > likes"
            " OR excluded.shares > shares OR excluded.replies > replies",
            [key, seen, counts["likes"], counts["shares"], counts["replies"]],
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
            f"SELECT {_TO_SCORE_SQL} FROM mentions m"  # noqa: S608 - names from a constant
            " LEFT JOIN scores s ON s.mention_key = m.key"
            " WHERE (s.mention_key IS NULL OR s.mention_version < m.version)"
            " AND (m.created_at > ? OR (m.created_at = ? AND m.key > ?))"
            " ORDER BY m.created_at, m.key LIMIT ?",
            [created, created, key, limit],
        )

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
        with self._db.atomic():
            for score, version in scored:
                self._db.execute(
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

    def unevaluated(self, limit: int = 500) -> list[ScoredMention]:
        """Scored mentions the rules have not seen in their current version, oldest first."""
        return self._scored(
            SCORED_SELECT + " WHERE s.evaluated = 0 ORDER BY m.created_at, m.key LIMIT ?", [limit]
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

    # -- runs -----------------------------------------------------------------------------

    def start_run(self, now: datetime) -> int:
        """Record the start of a run and return its id. The caller holds the run lock, so a
        run still marked running ended without recording its outcome (kill -9, power loss):
        it is marked crashed."""
        with self.transaction():
            self._db.execute(
                "UPDATE runs SET status = 'crashed', errors = ? WHERE status = 'running'",
                [json.dumps([f"ended without recording its outcome; found at {iso(now)}"])],
            )
            return self._insert(
                "INSERT INTO runs (started_at, status) VALUES (?, 'running')", [iso(now)]
            )

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


class _Database(Database):
    """A sqlite-utils Database whose transactions start as writers (`BEGIN IMMEDIATE`).

    With a plain `BEGIN` a transaction that reads first takes the write lock only at its
    first write; in WAL mode, if another connection committed in between (`reputation
    silence add` during a run's rules), that upgrade fails at once with "database is locked",
    whatever the busy timeout. Taken at `BEGIN`, the lock waits its turn like any other."""

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


def _schema_version(names: Iterable[str]) -> int:
    """The highest migration number among `names` (m005_... is 5), 0 for none."""
    numbers = [int(n[1:4]) for n in names if n[:1] == "m" and n[1:4].isdigit()]
    return max(numbers, default=0)


def _refuse_newer(db: Database, path: Path | str) -> None:
    """Raise StoreError if the database holds migrations this version does not know: a newer
    version wrote it, and this one would misread or damage what it added."""
    applied = [m.name for m in migrations.applied(db)]
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
