"""`reputation forget --author HANDLE [--source S]`: a person's posts removed on request.

The store deletes their mentions with everything hanging off them and leaves tombstones
(hashes) so the sources' re-reads do not bring them back; the ledger redacts its alerts and
incidents (fingerprints stay: nothing is alerted or sent again, and each incident's message
is updated in place on the next run); the digest CSVs already written lose their rows.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from reputation.store import ForgetResult, Store, handle_key

REDACTED = "[removed]"


def redactor(handle: str) -> Callable[[str], str]:
    """A function that replaces `handle` (with or without its @, any case) in a text, as a
    whole word: forgetting @ann leaves "announcement" alone."""
    bare = handle.strip().lstrip("@")
    pattern = re.compile(r"(?<![\w@])@?" + re.escape(bare) + r"(?![\w@])", re.IGNORECASE)
    return lambda text: pattern.sub(REDACTED, text) if isinstance(text, str) else text


@dataclass
class Forgotten:
    """What `forget` removed: the store's counts and the digest rows by file."""

    result: ForgetResult
    digest_rows: dict[str, int] = field(default_factory=dict)

    def lines(self, handle: str) -> list[str]:
        """What was removed, in words, one line per kind."""
        counts = self.result.counts
        out = [
            f"forgot {handle}: {counts['mentions']} mention(s), {counts['snapshots']} "
            f"snapshot(s), {counts['scores']} score(s), {counts['replies']} brand reply(ies)"
        ]
        result = self.result
        if result.alerts_redacted:
            muted = f", {result.alerts_muted} not yet sent muted" if result.alerts_muted else ""
            out.append(f"redacted {result.alerts_redacted} alert(s){muted}")
        if result.incidents_redacted:
            ids = ", ".join(f"#{n}" for n in result.incidents_redacted)
            out.append(
                f"redacted {len(result.incidents_redacted)} incident(s) ({ids}): each Slack "
                "message is updated in place on the next run; thread replies already posted "
                "are not edited: delete those that quote them in Slack"
            )
        for name, rows in sorted(self.digest_rows.items()):
            out.append(f"removed {rows} row(s) from {name}")
        return out


def forget(
    store: Store, handle: str, source: str | None, digest_dir: Path, now: datetime
) -> Forgotten:
    """Forget `handle` (on `source`, or everywhere) in the store and the digests."""
    result = store.forget_author(handle, source, redactor(handle), now)
    rows = scrub_digests(digest_dir, handle, source, set(result.keys))
    return Forgotten(result, rows)


def scrub_digests(
    folder: Path, handle: str, source: str | None, keys: Collection[str]
) -> dict[str, int]:
    """Remove, from every CSV in `folder` with a `key` or `author` column, the rows of these
    mention `keys` or by `handle` (on `source`); renumber `rank`; rewrite each changed file
    under a temporary name and rename it. Returns rows removed by file name."""
    removed: dict[str, int] = {}
    if not folder.is_dir():
        return removed
    wanted = handle_key(handle)
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle_file:
            rows = list(csv.reader(handle_file))
        if not rows:
            continue
        header, body = rows[0], rows[1:]

        def theirs(row: list[str], header: list[str] = header) -> bool:
            cells = dict(zip(header, row, strict=False))
            if cells.get("key") in keys:
                return True
            author = cells.get("author", "")
            if source is not None and cells.get("source", source) != source:
                return False
            # csv_safe wrote an author starting with @ as '@...
            return bool(author) and handle_key(author.removeprefix("'")) == wanted

        kept = [row for row in body if not theirs(row)]
        if len(kept) == len(body):
            continue
        if "rank" in header:
            column = header.index("rank")
            for rank, row in enumerate(kept, 1):
                row[column] = str(rank)
        partial = path.with_suffix(".csv.partial")
        with partial.open("w", encoding="utf-8", newline="") as out:
            csv.writer(out, quoting=csv.QUOTE_MINIMAL).writerows([header, *kept])
        os.replace(partial, path)
        removed[path.name] = len(body) - len(kept)
    return removed
