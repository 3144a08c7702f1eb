"""`reputation browse`: the database in Datasette, read-only, with full-text search on
mention text, every table and column described, and canned queries.

The descriptions come from one place, the README's "Tables" section (shipped in the wheel
beside the starter files), parsed here: a column the README does not name fails
tests/test_browse.py, so the two cannot drift. The canned queries are SQL that Datasette
runs on its read-only connections; they live here, beside the metadata they belong to
(tests/test_sql_boundary.py allows this module for that reason).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reputation import starter

if TYPE_CHECKING:
    from datasette.app import Datasette

    from reputation.config import Config

README = "README.md"
_SECTION = re.compile(r"^## Tables\b.*?$(.*?)^## ", re.MULTILINE | re.DOTALL)
_ROW = re.compile(r"^\| `(\w+)` \| (.*) \|$", re.MULTILINE)
_ITEM = re.compile(r"^`(\w+)`\s*(?:\((.*)\))?$", re.DOTALL)
FTS_SHADOWS = ("data", "idx", "docsize", "config")


def readme_text() -> str:
    """The README: the checkout's, or the copy a wheel carries beside the starter files."""
    return (starter.root() / README).read_text(encoding="utf-8")


def table_docs(readme: str) -> dict[str, tuple[str, dict[str, str]]]:
    """From the README's Tables section: table -> (its description, column -> description).
    A column written without a comment is described by its name in words."""
    section = _SECTION.search(readme)
    if section is None:
        raise ValueError("the README has no '## Tables' section")
    docs: dict[str, tuple[str, dict[str, str]]] = {}
    for table, cell in _ROW.findall(section.group(1)):
        columns_part, about = _split_top(cell, ": ", once=True)
        columns: dict[str, str] = {}
        for item in _split_top(columns_part, ", "):
            found = _ITEM.match(item.strip())
            if found is None:
                continue
            name, comment = found.groups()
            columns[name] = _plain(comment) if comment else name.replace("_", " ")
        docs[table] = (_plain(about) if about else table.replace("_", " "), columns)
    return docs


def _split_top(text: str, separator: str, once: bool = False) -> list[str]:
    """`text` split at `separator` where it stands outside backticks and parentheses."""
    parts, depth, quoted, start, i = [], 0, False, 0, 0
    while i < len(text):
        char = text[i]
        if char == "`":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth = max(0, depth - 1)
        elif not quoted and depth == 0 and text.startswith(separator, i):
            parts.append(text[start:i])
            start = i = i + len(separator)
            if once:
                break
            continue
        i += 1
    parts.append(text[start:])
    if once and len(parts) == 1:
        parts.append("")
    return parts


def _plain(markdown: str) -> str:
    """A README phrase as plain text: backticks dropped, links reduced to their words."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    return text.replace("`", "").strip()


def queries(threshold: float) -> dict[str, dict[str, Any]]:
    """The canned queries; `threshold` is the complaint probability that counts as one."""
    complaint = f"{float(threshold):.6f}"  # a number from the validated config, not text
    return {
        "search": {
            "title": "Search mention text",
            "description": 'Full-text search (SQLite FTS5 syntax: words, "a phrase", '
            "prefix*, OR, NOT), best matches first.",
            "sql": _SEARCH,
        },
        "todays_complaints": {
            "title": "Today's complaints by severity",
            "description": f"Mentions created today (UTC) with a complaint probability of at "
            f"least {threshold}, most severe first.",
            "sql": _TODAYS_COMPLAINTS.replace(":threshold", complaint),
        },
        "open_incidents": {
            "title": "Open incidents",
            "description": "Incidents still open, most severe and newest first, with their "
            "workflow state, mentions and reach.",
            "sql": _OPEN_INCIDENTS,
        },
        "brand_week": {
            "title": "A brand's week",
            "description": "One brand's last 7 days (UTC) per day and category: mentions, "
            "negative ones, complaints, mean severity and alerts.",
            "sql": _BRAND_WEEK.replace(":threshold", complaint),
        },
        "author_history": {
            "title": "An author's history across sources",
            "description": "Every stored mention by one handle (any case, with or without "
            "@), on every source, newest first, with its score and alert status.",
            "sql": _AUTHOR_HISTORY,
        },
        "response_times": {
            "title": "Response times",
            "description": "Per incident: minutes from the alert to the first "
            "acknowledgement and from the first post to the brand's first public response.",
            "sql": _RESPONSE_TIMES,
        },
    }


def metadata(config: Config, name: str, readme: str | None = None) -> dict[str, Any]:
    """Datasette metadata for the database called `name`: every table and column described,
    the FTS table named for the mentions, and the canned queries."""
    docs = table_docs(readme if readme is not None else readme_text())
    tables: dict[str, Any] = {}
    for table, (about, columns) in docs.items():
        tables[table] = {"description": about, "columns": columns}
    tables["mentions"].update(fts_table="mentions_fts", fts_pk="rowid", sort_desc="created_at")
    for shadow in FTS_SHADOWS:
        tables[f"mentions_fts_{shadow}"] = {
            "description": "SQLite FTS5 internals of mentions_fts",
            "hidden": True,
        }
    return {
        "title": "reputation archive",
        "description": "Mentions, scores, alerts and incidents of the reputation monitor, "
        "read-only. Search mention text from the mentions table or the search query.",
        "databases": {name: {"tables": tables, "queries": queries(config.scoring.threshold)}},
    }


def datasette(config: Config, immutable: bool = False) -> Datasette:
    """A Datasette over the configured database that cannot write to it: read connections
    are `mode=ro` (or `immutable=1` for a file nothing writes any more), and no canned query
    writes. The store migrates the file first (an upgrade adds the search index). Raises
    FileNotFoundError when there is no database yet."""
    from datasette.app import Datasette

    from reputation.store import Store

    path = Path(config.database)
    if not path.is_file():
        raise FileNotFoundError(f"no database at {path} yet: run `reputation run` first")
    if not immutable:  # brought up to this version's schema (the search index) first
        Store.open(path).close()
    files = {"immutables": [str(path)]} if immutable else {"files": [str(path)]}
    return Datasette(
        metadata=metadata(config, path.stem),
        settings={"sql_time_limit_ms": 5000, "allow_download": False},
        **files,
    )


# Datasette's named parameters (:brand) become form fields; values are always bound.
_SEARCH = """
SELECT m.created_at, m.brand, m.source, m.author, m.text, s.severity, s.category, m.url, m.key
  FROM mentions_fts f JOIN mentions m ON m.rowid = f.rowid
  LEFT JOIN scores s ON s.mention_key = m.key
 WHERE mentions_fts MATCH :q
 ORDER BY f.rank LIMIT 200
"""
_TODAYS_COMPLAINTS = """
SELECT m.created_at, m.brand, m.source, m.author, m.author_followers, m.text,
       round(s.severity, 3) AS severity, round(s.complaint, 3) AS complaint, s.category,
       s.reasons, m.url, m.key
  FROM mentions m JOIN scores s ON s.mention_key = m.key
 WHERE m.created_at >= date('now') AND s.complaint >= :threshold
 ORDER BY s.severity DESC, m.created_at DESC
"""
_OPEN_INCIDENTS = """
SELECT i.id, i.brand, i.category, i.severity, w.state, w.assignee_name AS assignee, i.title,
       i.opened_at, i.last_event_at,
       (SELECT COUNT(*) FROM incident_mentions im WHERE im.incident_id = i.id) AS mentions,
       (SELECT SUM(f) FROM (SELECT MAX(COALESCE(m.author_followers, 0)) AS f
          FROM incident_mentions im JOIN mentions m ON m.key = im.mention_key
         WHERE im.incident_id = i.id GROUP BY COALESCE(m.author, m.key))) AS reach
  FROM incidents i LEFT JOIN incident_workflow w ON w.incident_id = i.id
 WHERE i.status = 'open'
 ORDER BY CASE i.severity WHEN 'critical' THEN 2 WHEN 'warning' THEN 1 ELSE 0 END DESC,
          i.last_event_at DESC
"""
_BRAND_WEEK = """
SELECT substr(m.created_at, 1, 10) AS day, s.category, COUNT(*) AS mentions,
       SUM(s.sentiment <= -0.05) AS negative, SUM(s.complaint >= :threshold) AS complaints,
       round(AVG(s.severity), 3) AS mean_severity,
       SUM(EXISTS (SELECT 1 FROM alert_mentions am WHERE am.mention_key = m.key)) AS alerted
  FROM mentions m JOIN scores s ON s.mention_key = m.key
 WHERE m.brand = :brand AND m.created_at >= date('now', '-6 days')
 GROUP BY day, s.category
 ORDER BY day DESC, mentions DESC
"""
_AUTHOR_HISTORY = """
SELECT m.created_at, m.source, m.brand, m.author, m.text, round(s.sentiment, 3) AS sentiment,
       round(s.severity, 3) AS severity, s.category,
       (SELECT group_concat(DISTINCT a.status) FROM alert_mentions am
          JOIN alerts a ON a.fingerprint = am.fingerprint
         WHERE am.mention_key = m.key) AS alerts,
       m.url, m.key
  FROM mentions m LEFT JOIN scores s ON s.mention_key = m.key
 WHERE lower(ltrim(m.author, '@')) = lower(ltrim(trim(:author), '@'))
 ORDER BY m.created_at DESC
"""
_RESPONSE_TIMES = """
SELECT i.id, i.brand, i.category, i.severity, w.state, i.opened_at, w.acknowledged_at,
       w.acknowledged_by,
       round((julianday(w.acknowledged_at) - julianday(w.sla_from)) * 1440, 1)
         AS minutes_to_acknowledge,
       w.first_response_at,
       round((julianday(w.first_response_at) - julianday(i.opened_at)) * 1440, 1)
         AS minutes_to_first_response
  FROM incidents i JOIN incident_workflow w ON w.incident_id = i.id
 ORDER BY i.opened_at DESC
"""
