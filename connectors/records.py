"""Records of a file that grows: JSON lines and CSV records (by the csv module's own record
boundaries), each with the line it starts on and the byte offset after it, and never a
record that is still being written.

A record that cannot be read comes back with a `problem` and reading goes on after it. A
CSV record that spans lines and is broken (a stray quote swallowing the lines after it) is
reported at its first line, and reading resumes on the next line, so the lines it swallowed
are read for what they are.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

# Longest record read, and most lines a CSV record may span while its quote is still open at
# the end of the file (a writer mid-record) before it counts as a quote never closed.
MAX_RECORD_BYTES = 1 << 20
MAX_OPEN_LINES = 100
_CHUNK = 1 << 16
_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # what surrogateescape makes of bytes not UTF-8


@dataclass(frozen=True)
class Record:
    """One record: the line it starts on, the offset and line number after it, and either its
    data (JSON text, CSV fields; None for a blank line) or the problem that makes it
    unreadable. `pending` marks an unterminated record at the end: nothing after it is read."""

    line: int
    end: int
    next_line: int
    data: bytes | list[str] | None = None
    problem: str | None = None
    pending: bool = False


class _TooLong(Exception):
    """A line longer than MAX_RECORD_BYTES, read past (the position is after its end)."""


class _Lines:
    """The complete lines of a file from `offset`, counting bytes and lines; it stops at an
    unterminated last line (kept in `tail`) and never holds more than one bounded line."""

    def __init__(self, handle: io.BufferedReader, offset: int, line: int):
        handle.seek(offset)
        self.handle, self.pos, self.line = handle, offset, line
        self.tail: bytes | None = None  # set when the lines ran out: b"" at a clean end
        self.mark()

    def mark(self) -> None:
        """Start a record here."""
        self.start, self.start_line, self.first_end = self.pos, self.line, self.pos
        self.tail = None
        self.taken: list[bytes] = []  # the record's lines

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> bytes:
        raw = self.handle.readline(MAX_RECORD_BYTES + 1)
        if len(raw) > MAX_RECORD_BYTES and not raw.endswith(b"\n"):
            self._skip(len(raw))
        if not raw.endswith(b"\n"):
            self.tail = raw
            raise StopIteration
        self._advance(len(raw))
        self.taken.append(raw)
        return raw

    def _advance(self, size: int) -> None:
        self.pos += size
        self.line += 1
        if self.line == self.start_line + 1:
            self.first_end = self.pos

    def _skip(self, size: int) -> None:
        """Read past the rest of an overlong line, then raise _TooLong; if it has no end yet,
        it is still being written: stop (StopIteration) and leave it."""
        while chunk := self.handle.read(_CHUNK):
            newline = chunk.find(b"\n")
            if newline >= 0:
                self._advance(size + newline + 1)
                raise _TooLong
            size += len(chunk)
        self.tail = b"..."
        raise StopIteration


def json_records(handle: io.BufferedReader, offset: int, line: int) -> Iterator[Record]:
    """Each line from `offset` as a record; an unterminated last line only if it is a whole
    JSON text (files often lack a final newline), else it waits for the next run."""
    lines = _Lines(handle, offset, line)
    while True:
        lines.mark()
        try:
            raw = next(lines)
        except _TooLong:
            yield Record(lines.start_line, lines.pos, lines.line, problem=_too_long())
            continue
        except StopIteration:
            tail = lines.tail or b""
            if tail.strip() and _whole_json(tail):
                yield Record(lines.line, lines.pos + len(tail), lines.line + 1, tail)
            return
        yield Record(lines.start_line, lines.pos, lines.line, raw if raw.strip() else None)


def csv_records(handle: io.BufferedReader, offset: int, line: int, width: int) -> Iterator[Record]:
    """Each CSV record from `offset`, as the csv module bounds it (a quoted field may span
    lines; a `"` inside an unquoted field is a character); `width` is the header's. A record
    not yet terminated by a line end is `pending` and ends the read."""
    lines = _Lines(handle, offset, line)
    reader = _reader(lines)
    while True:
        lines.mark()
        try:
            row = next(reader)
        except StopIteration:
            if (lines.tail or b"").strip():
                yield Record(lines.line, lines.pos, lines.line, pending=True)
            return
        except _TooLong:
            yield Record(lines.start_line, lines.pos, lines.line, problem=_too_long())
            lines, reader = _restart(handle, lines.pos, lines.line)
            continue
        except csv.Error as exc:
            yield _resync(lines, f"is not valid CSV ({exc})")
            lines, reader = _restart(handle, lines.first_end, lines.start_line + 1)
            continue
        spanned = lines.line - lines.start_line
        if lines.tail is not None:  # the record's quote was still open where the file ends
            if spanned < MAX_OPEN_LINES and lines.pos - lines.start < MAX_RECORD_BYTES:
                yield Record(lines.start_line, lines.start, lines.start_line, pending=True)
                return
            yield _resync(lines, "opens a quoted field that is never closed")
            lines, reader = _restart(handle, lines.first_end, lines.start_line + 1)
            continue
        if spanned > 1 and (len(row) != width or _swallowed(lines.taken[1:], width)):
            # A stray quote joined lines that are records of their own: report the line it
            # opened on, and read the others one by one.
            problem = (
                f"has {len(row)} fields, the header has {width}"
                if len(row) != width
                else "opens a quoted field that runs over the records after it"
            )
            yield _resync(lines, problem)
            lines, reader = _restart(handle, lines.first_end, lines.start_line + 1)
            continue
        if row and len(row) != width:
            problem = f"has {len(row)} fields, the header has {width}"
            yield Record(lines.start_line, lines.pos, lines.line, problem=problem)
            continue
        if any(_NOT_UTF8.search(field) for field in row):
            yield Record(lines.start_line, lines.pos, lines.line, problem="is not valid UTF-8")
            continue
        yield Record(lines.start_line, lines.pos, lines.line, row or None)


def _swallowed(continued: list[bytes], width: int) -> bool:
    """Whether lines a quoted field took in look like records: a line that alone is a whole
    row. The text of a real multi-line field rarely has exactly the header's commas, and its
    last line holds only the fields after it."""
    for raw in continued:
        row = next(csv.reader([raw.decode("utf-8", "surrogateescape")]), [])
        if len(row) == width:
            return True
    return False


def _reader(lines: _Lines) -> Iterator[list[str]]:
    return csv.reader(raw.decode("utf-8", "surrogateescape") for raw in lines)


def _restart(
    handle: io.BufferedReader, offset: int, line: int
) -> tuple[_Lines, Iterator[list[str]]]:
    """A fresh reader from `offset`: after an error the csv reader and its lines are spent."""
    lines = _Lines(handle, offset, line)
    return lines, _reader(lines)


def _resync(lines: _Lines, problem: str) -> Record:
    """The problem of a broken record, reported at its first line; reading goes on with the
    line after that one."""
    return Record(lines.start_line, lines.first_end, lines.start_line + 1, problem=problem)


def _too_long() -> str:
    return f"is longer than {MAX_RECORD_BYTES >> 20} MiB"


def _whole_json(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except (ValueError, RecursionError):
        return False
    return True
