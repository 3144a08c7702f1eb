"""The `file` connector: mentions from a JSON Lines or CSV file, read incrementally."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from reputation.brands import Brand, match_brand
from reputation.connectors.base import (
    ALL_BRANDS,
    BadItem,
    Batch,
    FetchContext,
    SourceError,
    classify,
)
from reputation.connectors.records import csv_records, json_records
from reputation.models import Mention, Reply
from reputation.text import normalize
from reputation.timeutil import parse_time
from reputation.validate import Field

BATCH_LINES = 500
# A record nested deeper than this is refused before parsing: json would recurse until
# RecursionError. Real records are a few levels deep; raw API payloads a dozen or so.
MAX_DEPTH = 100
_SOURCE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(rb"[\[\]{}]")


class FileConnector:
    """Reads mentions appended to a local file, remembering the byte offset it reached."""

    type: ClassVar[str] = "file"
    OPTIONS: ClassVar[Mapping[str, Field]] = {
        "path": Field("path", required=True),
        "format": Field("choice", choices=("jsonl", "csv")),
    }

    def __init__(
        self, name: str, options: Mapping[str, Any], brands: Sequence[Brand],
        env: Mapping[str, str],
    ):  # fmt: skip
        self.name = name
        self.path = Path(options["path"])
        self.format = options["format"] or _guess_format(self.path)  # None: by the extension
        self.brands = list(brands)

    def fetch(self, ctx: FetchContext) -> Iterator[Batch]:
        """Yield batches of mentions from the records after the saved offset, each with the
        offset and line number after its last record."""
        try:
            handle = self.path.open("rb")
        except OSError as exc:
            raise SourceError(f"cannot open {self.path}: {exc.strerror}") from None
        with handle:
            stat = os.fstat(handle.fileno())
            state, restarted = _resume(ctx.state(ALL_BRANDS, _check_state), stat)
            header = self._read_header(handle) if self.format == "csv" else None
            if self.format == "csv" and header is None:
                return  # an empty CSV file: nothing to read yet
            if header is not None and state["offset"] == 0:
                state["offset"], state["line"] = handle.tell(), 2
            if header is None:
                records = json_records(handle, state["offset"], state["line"])
            else:
                records = csv_records(handle, state["offset"], state["line"], len(header))
            batch = ctx.batch()
            if restarted:
                batch.problems.append(
                    f"{self.path}: the file shrank or was replaced; reading it again from the start"
                )
            for count, record in enumerate(records, start=1):
                where = f"{self.path}:{record.line}"
                if record.pending:
                    batch.notes.append(f"{where}: the last record has no line end yet; it is "
                                       "read once it has one")  # fmt: skip
                    break
                if record.problem is not None:
                    batch.problems.append(f"{where}: {record.problem}")
                elif record.data is not None:
                    with batch.item(where):
                        batch.add(self._to_item(_decode(record.data, header), ctx.now), where)
                state.update(offset=record.end, line=record.next_line)
                if count % BATCH_LINES == 0:
                    batch.state = dict(state)
                    yield batch
                    batch = ctx.batch()
            batch.state = dict(state)
            yield batch

    def _read_header(self, handle: io.BufferedReader) -> list[str] | None:
        handle.seek(0)
        first = handle.readline()
        return self._parse_header(first) if first.strip() else None

    def _parse_header(self, line: bytes) -> list[str]:
        text = line.decode("utf-8-sig", errors="replace")
        header = [h.strip() for h in next(csv.reader([text]), [])]
        missing = {"id", "text", "created_at"} - set(header)
        if missing:
            raise SourceError(f"{self.path}:1: CSV header lacks {', '.join(sorted(missing))}")
        return header

    def _to_item(self, record: dict[str, Any], now: datetime) -> Mention | Reply | None:
        text = record.get("text")
        if not isinstance(text, str):
            raise BadItem("text is missing or not a string")
        author = _opt_str(record, "author")
        # The brand's own accounts first: its replies rarely repeat its name.
        brand = next((b for b in self.brands if b.is_own_account(author)), None)
        brand = brand or self._brand_for(record, text)
        if brand is None:
            return None
        return classify(
            brand,
            match=False,
            source=_source(record.get("source")),
            native_id=_required_id(record.get("id")),
            text=text,
            created_at=_time(record, "created_at", None),
            author=author,
            parent_id=_opt_str(record, "parent_id"),
            thread_id=_opt_str(record, "thread_id"),
            url=_opt_str(record, "url"),
            author_followers=_count(record, "author_followers", None),
            likes=_count(record, "likes", 0),
            shares=_count(record, "shares", 0),
            replies=_count(record, "replies", 0),
            reshare_reach=_count(record, "reshare_reach", None),
            impressions=_count(record, "impressions", None),
            lang=_opt_str(record, "lang"),
            observed_at=_time(record, "observed_at", now),
            raw=record,
        )

    def _brand_for(self, record: dict[str, Any], text: str) -> Brand | None:
        named = _opt_str(record, "brand")
        if named is None:
            return match_brand(normalize(text), self.brands)
        for brand in self.brands:
            if brand.name.casefold() == named.casefold():
                return brand
        raise BadItem(f"brand {named!r} is not configured")


def _guess_format(path: Path) -> str:
    return "csv" if path.suffix.lower() in {".csv", ".tsv"} else "jsonl"


def _check_state(state: dict[str, Any]) -> None:
    """Refuse a saved state that is not `{"offset": n, "line": n, "inode": n}`."""
    for key in ("offset", "line", "inode"):
        value = state[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(key)


def _resume(state: dict[str, Any], stat: os.stat_result) -> tuple[dict[str, int], bool]:
    """Where to start reading, and whether the file changed under the saved offset."""
    fresh = {"offset": 0, "line": 1, "inode": stat.st_ino}
    if not state:
        return fresh, False
    offset, line, inode = state["offset"], state["line"], state["inode"]
    if stat.st_size < offset or (inode and stat.st_ino and inode != stat.st_ino):
        return fresh, True
    return {"offset": offset, "line": line, "inode": stat.st_ino}, False


def _decode(data: bytes | list[str], header: list[str] | None) -> dict[str, Any]:
    """A record's fields: a CSV row by the header's names, or a JSON line's object."""
    if isinstance(data, list):
        assert header is not None
        return {k: (v if v != "" else None) for k, v in zip(header, data, strict=True)}
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadItem("is not valid UTF-8") from None
    if _nesting(data) > MAX_DEPTH:
        raise BadItem(f"is nested more than {MAX_DEPTH} deep")
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadItem(f"is not valid JSON ({exc.msg})") from None
    if not isinstance(record, dict):
        raise BadItem("is not a JSON object")
    return record


def _nesting(raw: bytes) -> int:
    """How deep the brackets of a JSON text go, counting none inside strings (0 when it has
    too few brackets to pass MAX_DEPTH: the usual record, checked at no cost)."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return 0
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_JSON_STRING.sub(b"", raw)):
        depth += 1 if bracket in b"[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _required_id(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        raise BadItem("id is missing")
    return str(value).strip()


def _source(value: Any) -> str:
    if value is None or value == "":
        return "file"
    text = str(value).strip().lower()
    if not _SOURCE.match(text):
        raise BadItem(f"source {str(value)[:40]!r} is not a plain name like 'x' or 'reddit'")
    return text


def _opt_str(record: Mapping[str, Any], key: str) -> str | None:
    value = record.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BadItem(f"{key} is not a string")
    return str(value)


def _count(record: Mapping[str, Any], key: str, default: int | None) -> int | None:
    value = record.get(key)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: infinity
        raise BadItem(f"{key} {str(value)[:40]!r} is not a whole number") from None
    if isinstance(value, bool) or number < 0 or (isinstance(value, float) and value != number):
        raise BadItem(f"{key} {value!r} is not a whole number of zero or more")
    return number


def _time(record: Mapping[str, Any], key: str, default: datetime | None) -> datetime:
    value = record.get(key)
    if value is None or value == "":
        if default is None:
            raise BadItem(f"{key} is missing")
        return default
    try:
        return parse_time(value)
    except (TypeError, ValueError):
        raise BadItem(f"{key} {str(value)[:40]!r} is not an ISO 8601 time") from None
