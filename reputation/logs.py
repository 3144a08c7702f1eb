"""Logging for the command line: one handler on stderr, and no credential ever in its output.

Libraries log URLs as they are (slack-sdk logs the proxy URL taken from `HTTPS_PROXY`,
password included, at debug level), so every line the handler writes, tracebacks included,
goes through `redact` (docs/decisions.md 50).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time

# scheme://user:password@ or scheme://token@: everything up to the last `@` before the host.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^\s/?#'\"<>]*)@")
# A query parameter whose name says it holds a secret (?token=, &api_key=, &sig=...).
_SECRET_PARAM = re.compile(
    r"(?i)([?&;][\w.-]*(?:token|key|secret|passw(?:or)?d|pwd|auth|signature|sig|credential)"
    r"[\w.-]*=)[^&#\s'\"<>]+"
)
_MARK = "_reputation_handler"
# Loggers whose routine INFO lines would drown the one line per run `serve` writes.
_CHATTY = ("apscheduler",)


def redact(text: str) -> str:
    """`text` with the password (or bare token) of every URL's user info, and the values of
    query parameters named like secrets, replaced by `***`."""
    if "://" not in text and "=" not in text:
        return text
    text = _USERINFO.sub(_userinfo, text)
    return _SECRET_PARAM.sub(r"\1***", text)


def _userinfo(match: re.Match[str]) -> str:
    scheme, info = match.group(1), match.group(2)
    user, colon, _ = info.partition(":")
    return f"{scheme}{user}:***@" if colon and "@" not in user else f"{scheme}***@"


class RedactFilter(logging.Filter):
    """Redacts a record's message (its arguments merged in) before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class RedactingFormatter(logging.Formatter):
    """A formatter whose whole output, traceback included, goes through `redact`."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line for log shippers: `time` (UTC, ms), `level`, `logger`,
    `message`, and where given `exception` (the traceback) and `summary` (a run's counts).
    The whole line goes through `redact`, as the text lines do."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        entry: dict[str, object] = {
            "time": f"{stamp}.{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        summary = getattr(record, "summary", None)
        if summary is not None:
            entry["summary"] = summary
        return redact(json.dumps(entry, ensure_ascii=False, default=str))


def configure(verbose: bool = False, *, service: bool = False, json_format: bool = False) -> None:
    """Log to stderr, every line with a UTC timestamp and its level (one JSON object per
    line with `json_format`): warnings and errors; INFO too for a long-running `service` and
    for JSON (a shipper wants each run's summary line); everything with `verbose`
    (libraries included). Calling it again replaces the handler it added before (tests call
    the command line many times)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _MARK, False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    setattr(handler, _MARK, True)
    formatter: logging.Formatter
    if json_format:
        formatter = JsonFormatter()
    else:
        formatter = RedactingFormatter(
            "%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%SZ"
        )
        formatter.converter = time.gmtime  # the timestamps say Z: make them UTC
    handler.setFormatter(formatter)
    handler.addFilter(RedactFilter())
    routine = service or json_format
    level = logging.DEBUG if verbose else logging.INFO if routine else logging.WARNING
    handler.setLevel(level)
    root.addHandler(handler)
    root.setLevel(level)
    for name in _CHATTY:
        logging.getLogger(name).setLevel(logging.NOTSET if verbose else logging.WARNING)
