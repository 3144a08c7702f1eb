"""Versioned schema migrations for the SQLite store (README lists every column)."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("reputation")


@migrations()
def m001_initial(db: Database) -> None:
    """Mentions, snapshots, scores, cursors, the alert ledger with deliveries, and runs."""
    for statement in _INITIAL:
        db.execute(statement)


@migrations()
def m002_replies_and_source_state(db: Database) -> None:
    """The brand's own replies to mentions, and per-connector rate-limit and budget state."""
    for statement in _REPLIES_AND_STATE:
        db.execute(statement)


@migrations()
def m003_incidents_and_muting(db: Database) -> None:
    """Incidents (related alerts as one thread), their messages per sink, and silences."""
    for statement in _INCIDENTS:
        db.execute(statement)


@migrations()
def m004_mention_threads(db: Database) -> None:
    """The conversation a mention belongs to, so replies anywhere in it join one incident."""
    db.execute("ALTER TABLE mentions ADD COLUMN thread_id TEXT")
    db.execute("CREATE INDEX mentions_thread ON mentions (source, thread_id)")


@migrations()
def m005_every_alert_in_an_incident(db: Database) -> None:
    """Alerts recorded before incidents existed get an incident of their own, as delivery
    used to give them at send time; muted alerts stay outside incidents, as they always are.
    After this, every alert that is not muted has an incident."""
    from reputation.incidents import category_of, text_hash  # the live grouping's own rules

    orphans = db.execute(
        "SELECT fingerprint, brand, severity, route, event_at FROM alerts"
        " WHERE incident_id IS NULL AND status != 'muted'"
        " ORDER BY created_at, event_at, fingerprint"
    ).fetchall()
    for fingerprint, brand, severity, route, event_at in orphans:
        cursor = db.execute(
            "SELECT m.key, m.text, s.category, s.severity FROM alert_mentions am"
            " JOIN mentions m ON m.key = am.mention_key JOIN scores s ON s.mention_key = m.key"
            " WHERE am.fingerprint = ? ORDER BY s.severity DESC, m.created_at LIMIT 50",
            [fingerprint],
        )
        names = [d[0] for d in cursor.description]
        evidence = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        category = category_of(evidence)
        incident_id = db.execute(
            "INSERT INTO incidents (brand, category, severity, status, title, route, opened_at,"
            " last_event_at, updated_at) VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?)",
            [brand, category, severity, f"{brand}: {category}", route, event_at, event_at,
             event_at],
        ).lastrowid  # fmt: skip
        for row in evidence:
            db.execute(
                "INSERT OR IGNORE INTO incident_mentions (incident_id, mention_key, text_hash,"
                " added_version) VALUES (?, ?, ?, 1)",
                [incident_id, row["key"], text_hash(row["text"])],
            )
        db.execute(
            "UPDATE alerts SET incident_id = ? WHERE fingerprint = ?", [incident_id, fingerprint]
        )


@migrations()
def m006_sink_posts_and_state(db: Database) -> None:
    """Each post a sink makes, keyed before it is sent, so a post whose outcome is unknown is
    looked for before it is made again; per-sink state (a rate limit's retry time); and the
    incident status each message shows (existing ones: the status they were shown with,
    so no old incident is updated on upgrade)."""
    for statement in _SINK_POSTS_AND_STATE:
        db.execute(statement)


@migrations()
def m007_incident_workflow(db: Database) -> None:
    """The answering workflow: each incident's state (new, acknowledged, assigned, responded,
    closed, snoozed, dismissed) with a version for conditional updates, every transition with
    who, when and from where, SLA escalations (one per breach), the signatures of Slack
    requests already taken (replays are refused), and what each message shows of it.
    Incidents from before have no SLA clock (none escalates on upgrade); resolved ones are
    closed. A trigger gives every new incident its state row in the same statement."""
    for statement in _WORKFLOW:
        db.execute(statement)


_SINK_POSTS_AND_STATE = (
    """CREATE TABLE sink_posts (
        sink TEXT NOT NULL,
        incident_id INTEGER NOT NULL REFERENCES incidents(id),
        slot TEXT NOT NULL,
        post_key TEXT NOT NULL UNIQUE,
        channel TEXT NOT NULL,
        thread_ts TEXT,
        first_attempt_at REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        in_doubt INTEGER NOT NULL DEFAULT 0,
        message_id TEXT,
        channel_id TEXT,
        last_error TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (sink, incident_id, slot)
    )""",
    "CREATE INDEX sink_posts_channel ON sink_posts (sink, channel)",
    "ALTER TABLE incident_messages ADD COLUMN shown_status TEXT NOT NULL DEFAULT 'open'",
    "UPDATE incident_messages SET shown_status = (SELECT status FROM incidents"
    " WHERE incidents.id = incident_messages.incident_id)",
    """CREATE TABLE sink_state (
        sink TEXT PRIMARY KEY,
        retry_at TEXT,
        last_error TEXT,
        updated_at TEXT NOT NULL
    )""",
)

_INCIDENTS = (
    "ALTER TABLE alerts ADD COLUMN incident_id INTEGER",
    "ALTER TABLE alerts ADD COLUMN muted_reason TEXT",
    "ALTER TABLE alerts ADD COLUMN resolved_at TEXT",
    "CREATE INDEX alerts_incident ON alerts (incident_id)",
    """CREATE TABLE incidents (
        id INTEGER PRIMARY KEY,
        brand TEXT NOT NULL,
        category TEXT NOT NULL,
        severity TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
        title TEXT NOT NULL,
        route TEXT,
        opened_at TEXT NOT NULL,
        last_event_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        resolved_at TEXT,
        version INTEGER NOT NULL DEFAULT 1
    )""",
    "CREATE INDEX incidents_open ON incidents (status, brand, category)",
    """CREATE TABLE incident_mentions (
        incident_id INTEGER NOT NULL REFERENCES incidents(id),
        mention_key TEXT NOT NULL,
        text_hash TEXT,
        added_version INTEGER NOT NULL,
        PRIMARY KEY (incident_id, mention_key)
    )""",
    "CREATE INDEX incident_mentions_key ON incident_mentions (mention_key)",
    "CREATE INDEX incident_mentions_hash ON incident_mentions (text_hash)",
    """CREATE TABLE incident_messages (
        incident_id INTEGER NOT NULL REFERENCES incidents(id),
        sink TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('main', 'escalation')),
        channel TEXT,
        message_id TEXT,
        delivered_version INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (incident_id, sink, kind)
    )""",
    """CREATE TABLE silences (
        id INTEGER PRIMARY KEY,
        matchers TEXT NOT NULL,
        starts_at TEXT NOT NULL,
        ends_at TEXT NOT NULL,
        comment TEXT,
        created_at TEXT NOT NULL,
        expired_at TEXT
    )""",
)

_REPLIES_AND_STATE = (
    """CREATE TABLE replies (
        key TEXT PRIMARY KEY,
        mention_key TEXT NOT NULL,
        brand TEXT NOT NULL,
        author TEXT,
        text TEXT NOT NULL,
        url TEXT,
        created_at TEXT NOT NULL,
        connector TEXT,
        first_seen_at TEXT NOT NULL
    )""",
    "CREATE INDEX replies_mention ON replies (mention_key)",
    """CREATE TABLE source_state (
        connector TEXT PRIMARY KEY,
        retry_at TEXT,
        last_error TEXT,
        last_error_at TEXT,
        last_success_at TEXT,
        month TEXT,
        month_reads INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX mentions_connector_created ON mentions (connector, brand, created_at)",
)

_INITIAL = (
    """CREATE TABLE mentions (
        key TEXT PRIMARY KEY,
        source TEXT NOT NULL,
        native_id TEXT NOT NULL,
        brand TEXT NOT NULL,
        text TEXT NOT NULL,
        author TEXT,
        author_followers INTEGER,
        url TEXT,
        created_at TEXT NOT NULL,
        likes INTEGER NOT NULL DEFAULT 0,
        shares INTEGER NOT NULL DEFAULT 0,
        replies INTEGER NOT NULL DEFAULT 0,
        lang TEXT,
        parent_id TEXT,
        connector TEXT,
        first_seen_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,
        version INTEGER NOT NULL DEFAULT 1,
        raw TEXT
    )""",
    "CREATE INDEX mentions_brand_created ON mentions (brand, created_at)",
    "CREATE INDEX mentions_created ON mentions (created_at)",
    """CREATE TABLE snapshots (
        mention_key TEXT NOT NULL REFERENCES mentions(key),
        observed_at TEXT NOT NULL,
        likes INTEGER NOT NULL,
        shares INTEGER NOT NULL,
        replies INTEGER NOT NULL,
        PRIMARY KEY (mention_key, observed_at)
    )""",
    """CREATE TABLE scores (
        mention_key TEXT PRIMARY KEY REFERENCES mentions(key),
        mention_version INTEGER NOT NULL,
        scored_at TEXT NOT NULL,
        sentiment REAL NOT NULL,
        complaint REAL NOT NULL,
        severity REAL NOT NULL,
        viral_risk REAL NOT NULL,
        predicted_engagement_24h REAL NOT NULL,
        category TEXT NOT NULL,
        reasons TEXT NOT NULL,
        evaluated INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX scores_unevaluated ON scores (evaluated) WHERE evaluated = 0",
    """CREATE TABLE cursors (
        connector TEXT NOT NULL,
        scope TEXT NOT NULL,
        value TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (connector, scope)
    )""",
    """CREATE TABLE alerts (
        fingerprint TEXT PRIMARY KEY,
        rule TEXT NOT NULL,
        group_key TEXT NOT NULL,
        severity TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'muted')),
        brand TEXT NOT NULL,
        summary TEXT NOT NULL,
        reasons TEXT NOT NULL,
        route TEXT,
        labels TEXT NOT NULL,
        event_at TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        sent_at TEXT,
        message_id TEXT,
        last_error TEXT
    )""",
    "CREATE INDEX alerts_group ON alerts (group_key, event_at)",
    "CREATE INDEX alerts_status ON alerts (status)",
    """CREATE TABLE alert_mentions (
        fingerprint TEXT NOT NULL REFERENCES alerts(fingerprint),
        mention_key TEXT NOT NULL REFERENCES mentions(key),
        PRIMARY KEY (fingerprint, mention_key)
    )""",
    "CREATE INDEX alert_mentions_mention ON alert_mentions (mention_key)",
    """CREATE TABLE deliveries (
        fingerprint TEXT NOT NULL REFERENCES alerts(fingerprint),
        sink TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        message_id TEXT,
        channel TEXT,
        last_error TEXT,
        sent_at TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (fingerprint, sink)
    )""",
    "CREATE INDEX deliveries_pending ON deliveries (status) WHERE status = 'pending'",
    """CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL,
        fetched INTEGER NOT NULL DEFAULT 0,
        new_mentions INTEGER NOT NULL DEFAULT 0,
        scored INTEGER NOT NULL DEFAULT 0,
        alerts INTEGER NOT NULL DEFAULT 0,
        sent INTEGER NOT NULL DEFAULT 0,
        pending INTEGER NOT NULL DEFAULT 0,
        failed INTEGER NOT NULL DEFAULT 0,
        errors TEXT NOT NULL DEFAULT '[]'
    )""",
)

_WORKFLOW = (
    """CREATE TABLE incident_workflow (
        incident_id INTEGER PRIMARY KEY REFERENCES incidents(id),
        state TEXT NOT NULL CHECK (state IN ('new', 'acknowledged', 'assigned', 'responded',
            'closed', 'snoozed', 'dismissed')),
        version INTEGER NOT NULL DEFAULT 1,
        assignee TEXT,
        assignee_name TEXT,
        acknowledged_at TEXT,
        acknowledged_by TEXT,
        first_response_at TEXT,
        responded_at TEXT,
        snoozed_until TEXT,
        snoozed_from TEXT,
        snoozed_at TEXT,
        paused_seconds REAL NOT NULL DEFAULT 0,
        sla_from TEXT,
        updated_at TEXT NOT NULL
    )""",
    "CREATE INDEX incident_workflow_state ON incident_workflow (state)",
    "INSERT INTO incident_workflow (incident_id, state, updated_at) SELECT id, CASE status"
    " WHEN 'resolved' THEN 'closed' ELSE 'new' END, updated_at FROM incidents",
    """CREATE TRIGGER incident_workflow_new AFTER INSERT ON incidents BEGIN
        INSERT INTO incident_workflow (incident_id, state, sla_from, updated_at)
        VALUES (NEW.id, 'new', NEW.updated_at, NEW.updated_at);
    END""",
    """CREATE TABLE incident_transitions (
        id INTEGER PRIMARY KEY,
        incident_id INTEGER NOT NULL REFERENCES incidents(id),
        version INTEGER NOT NULL,
        action TEXT NOT NULL,
        from_state TEXT NOT NULL,
        to_state TEXT NOT NULL,
        actor TEXT NOT NULL,
        actor_name TEXT NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('button', 'command', 'automatic')),
        detail TEXT NOT NULL DEFAULT '{}',
        at TEXT NOT NULL
    )""",
    "CREATE INDEX incident_transitions_incident ON incident_transitions (incident_id, id)",
    """CREATE TABLE incident_escalations (
        incident_id INTEGER NOT NULL REFERENCES incidents(id),
        breach TEXT NOT NULL CHECK (breach IN ('acknowledge', 'respond')),
        due_at TEXT NOT NULL,
        escalated_at TEXT NOT NULL,
        PRIMARY KEY (incident_id, breach)
    )""",
    """CREATE TABLE slack_requests (
        signature TEXT PRIMARY KEY,
        seen_at TEXT NOT NULL
    )""",
    "ALTER TABLE incident_messages ADD COLUMN shown_workflow INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE incident_messages ADD COLUMN shown_event INTEGER NOT NULL DEFAULT 0",
    "UPDATE incident_messages SET shown_workflow = 1",
)


@migrations()
def m008_work_queues(db: Database) -> None:
    """Work queues read by index, so a run with nothing new reads nothing: each mention's
    `scored_version` (the version its score covers; a partial index holds the mentions due
    for scoring), and each score's `created_at` (its mention's; a partial index holds the
    scores due for rule evaluation in event order). Replaces `scores_unevaluated`. And
    incidents by (brand, last_event_at): an alert's incident lookups read its brand's
    incidents active around it, not every incident mention (a scan per alert before)."""
    for statement in _WORK_QUEUES:
        db.execute(statement)


_WORK_QUEUES = (
    "ALTER TABLE mentions ADD COLUMN scored_version INTEGER NOT NULL DEFAULT 0",
    "UPDATE mentions SET scored_version = COALESCE("
    "(SELECT mention_version FROM scores WHERE mention_key = mentions.key), 0)",
    "CREATE INDEX mentions_to_score ON mentions (created_at, key) WHERE scored_version < version",
    "ALTER TABLE scores ADD COLUMN created_at TEXT NOT NULL DEFAULT ''",
    "UPDATE scores SET created_at = COALESCE("
    "(SELECT created_at FROM mentions WHERE key = scores.mention_key), '')",
    "DROP INDEX scores_unevaluated",
    "CREATE INDEX scores_due ON scores (created_at, mention_key) WHERE evaluated = 0",
    "CREATE INDEX incidents_brand_active ON incidents (brand, last_event_at)",
)


@migrations()
def m009_snapshot_reach_and_impressions(db: Database) -> None:
    """Each engagement snapshot keeps the reshare reach (summed followers of the accounts that
    reshared the post so far) and the impressions the source reported with it; NULL where
    it reported none, as in every snapshot taken before."""
    db.execute("ALTER TABLE snapshots ADD COLUMN reshare_reach INTEGER")
    db.execute("ALTER TABLE snapshots ADD COLUMN impressions INTEGER")


@migrations()
def m010_health_and_notices(db: Database) -> None:
    """Each source's health as last judged and as last announced, each source's outcome per
    run (the day's coverage), and the posts that belong to no incident (a health change, the
    day in Slack), keyed before they are sent."""
    for statement in _HEALTH_AND_NOTICES:
        db.execute(statement)


_HEALTH_AND_NOTICES = (
    """CREATE TABLE source_health (
        connector TEXT PRIMARY KEY,
        state TEXT NOT NULL CHECK (state IN ('up', 'down')),
        changed_at TEXT NOT NULL,
        change INTEGER NOT NULL DEFAULT 0,
        announced TEXT NOT NULL DEFAULT 'up' CHECK (announced IN ('up', 'down')),
        failing_since TEXT,
        updated_at TEXT NOT NULL
    )""",
    """CREATE TABLE notice_posts (
        sink TEXT NOT NULL,
        slot TEXT NOT NULL,
        post_key TEXT NOT NULL UNIQUE,
        channel TEXT NOT NULL,
        thread_ts TEXT,
        first_attempt_at REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        in_doubt INTEGER NOT NULL DEFAULT 0,
        message_id TEXT,
        channel_id TEXT,
        last_error TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (sink, slot)
    )""",
    """CREATE TABLE source_runs (
        connector TEXT NOT NULL,
        at TEXT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'failed', 'rate_limited', 'budget')),
        reads INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (connector, at)
    )""",
    "CREATE INDEX source_runs_at ON source_runs (at)",
    "CREATE INDEX mentions_connector_first_seen ON mentions (connector, first_seen_at)",
)


@migrations()
def m011_search_and_forgetting(db: Database) -> None:
    """Full-text search on mention text (FTS5, sqlite-utils' layout: `mentions_fts`; the
    store indexes each batch's new mentions in one statement, and triggers follow every
    edit and delete of a mention's text), and the
    `forgotten` tombstones of `reputation forget`: hashes of a person's handle and of their
    posts' keys, never the handle itself, so a re-read of the source does not bring them
    back."""
    if getattr(db, "dialect", "sqlite") == "postgresql":
        # No FTS5: an expression index PostgreSQL keeps itself, for Store.search (decision 157).
        db.execute(f"CREATE INDEX mentions_text_search ON mentions USING GIN ({TEXT_SEARCH})")
    else:
        db.table("mentions").enable_fts(["text"], fts_version="FTS5")
        for statement in _MENTIONS_FTS_TRIGGERS:
            db.execute(statement)
    db.execute(
        """CREATE TABLE forgotten (
            kind TEXT NOT NULL CHECK (kind IN ('author', 'mention')),
            digest TEXT NOT NULL,
            source TEXT NOT NULL,
            forgotten_at TEXT NOT NULL,
            PRIMARY KEY (kind, digest, source)
        )"""
    )
    # Retention works by age: each batch an index lookup, not a table scan.
    db.execute("CREATE INDEX snapshots_observed ON snapshots (observed_at)")
    db.execute("CREATE INDEX mentions_raw_created ON mentions (created_at) WHERE raw IS NOT NULL")


@migrations()
def m012_delivery_claims(db: Database) -> None:
    """A pending delivery is claimed by one worker before it is sent (decision 160): who
    (`claimed_by`, a token per delivery pass; `claimed_run`, its run's id when it has one)
    and until when (`claimed_until`); NULL while nobody holds it."""
    db.execute("ALTER TABLE deliveries ADD COLUMN claimed_by TEXT")
    db.execute("ALTER TABLE deliveries ADD COLUMN claimed_run INTEGER")
    db.execute("ALTER TABLE deliveries ADD COLUMN claimed_until TEXT")
    if getattr(db, "dialect", "sqlite") == "postgresql":
        # The work queues are read in SQLite's NULL order (`ORDER BY ... NULLS FIRST`, the
        # translation's): their indexes must hold that order, or every batch sorts the whole
        # queue (decision 162).
        for name, table, columns, where in _QUEUES_IN_SQLITE_ORDER:
            db.execute(f"DROP INDEX {name}")
            db.execute(f"CREATE INDEX {name} ON {table} ({columns}) WHERE {where}")


_QUEUES_IN_SQLITE_ORDER = (
    ("mentions_to_score", "mentions", "created_at NULLS FIRST, key NULLS FIRST",
     "scored_version < version"),
    ("scores_due", "scores", "created_at NULLS FIRST, mention_key NULLS FIRST", "evaluated = 0"),
)  # fmt: skip


# PostgreSQL's full-text document of a mention (m011's index and Store.search must say it
# alike for the index to serve): words lower-cased, not stemmed, as FTS5's unicode61.
TEXT_SEARCH = "to_tsvector('simple', text)"


# sqlite-utils' trigger names (its rebuild and disable find them), but the update trigger
# fires only when the text changed: most updates of a mention are new engagement counts.
# No insert trigger: FTS5 flushes its pending terms at every statement a trigger writes it
# from, which made ingest 2-3 times slower (bench/archive.py); Store.save_batch indexes a
# batch's new mentions in one statement instead (decision 131).
_MENTIONS_FTS_TRIGGERS = (
    """CREATE TRIGGER mentions_ad AFTER DELETE ON mentions BEGIN
        INSERT INTO mentions_fts (mentions_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
    END""",
    """CREATE TRIGGER mentions_au AFTER UPDATE OF text ON mentions
    WHEN old.text IS NOT new.text BEGIN
        INSERT INTO mentions_fts (mentions_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
        INSERT INTO mentions_fts (rowid, text) VALUES (new.rowid, new.text);
    END""",
)
