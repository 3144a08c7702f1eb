"""Command line of the archive: `reputation forget`, `reputation browse` and
`reputation backfill`. Parsers only here; each command imports what it needs when it runs
(the start-up promise of reputation/cli.py)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FATAL, EXIT_USAGE = 0, 1, 2


def add_commands(
    commands: Any, common: argparse.ArgumentParser, load: Callable[[Path], Any]
) -> None:
    """Add `forget`, `browse` and `backfill` to the command line (`load` reads the config)."""
    forget = commands.add_parser(
        "forget", parents=[common], help="remove a person's posts everywhere (privacy request)"
    )
    forget.add_argument("--author", required=True, metavar="HANDLE", help="their handle")
    forget.add_argument("--source", metavar="SOURCE", help="only on this source (x, reddit...)")
    forget.set_defaults(handler=lambda args, path: cmd_forget(args, load(path)))
    browse = commands.add_parser(
        "browse", parents=[common], help="explore the database in Datasette, read-only"
    )
    browse.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    browse.add_argument("--port", type=int, default=8001, help="port (default 8001)")
    browse.add_argument(
        "--immutable", action="store_true", help="for a copy nothing writes to any more"
    )
    browse.set_defaults(handler=lambda args, path: cmd_browse(args, load(path)))
    backfill = commands.add_parser(
        "backfill", parents=[common], help="read history within each source's limits"
    )
    backfill.add_argument("--since", type=_duration, default="7d", metavar="DURATION",
                          help="how far back (default 7d)")  # fmt: skip
    backfill.add_argument("--connector", metavar="NAME", help="only this connector")
    backfill.set_defaults(handler=lambda args, path: cmd_backfill(args, load(path)))


def cmd_forget(args: argparse.Namespace, config: Any) -> int:
    """Forget an author: their mentions and all that hangs off them, the digests' rows; the
    ledger redacted. Holds the run lock, so no run is halfway through meanwhile."""
    from reputation.lock import RunLock
    from reputation.privacy import forget
    from reputation.store import Store, handle_key
    from reputation.text import terminal_safe
    from reputation.timeutil import utcnow

    if not handle_key(args.author):
        print("reputation: --author needs a handle", file=sys.stderr)
        return EXIT_USAGE
    with RunLock(config.database):
        store = Store.open(config.database)
        try:
            done = forget(store, args.author, args.source, config.digest_dir, utcnow())
        finally:
            store.close()
    for line in done.lines(args.author):
        print(terminal_safe(line))
    return EXIT_OK


def cmd_browse(args: argparse.Namespace, config: Any) -> int:
    """Serve the database in Datasette (the `browse` extra) until stopped; SQLite only."""
    from reputation.db import is_postgres

    if is_postgres(config.database):
        print("reputation: browse works on a SQLite database only (Datasette reads SQLite);"
              " this config's database is PostgreSQL: use a PostgreSQL client such as psql",
              file=sys.stderr)  # fmt: skip
        return EXIT_FATAL
    try:
        import uvicorn

        from reputation.browse import datasette
    except ImportError:
        print("reputation: browse needs Datasette: pip install 'reputation[browse]'",
              file=sys.stderr)  # fmt: skip
        return EXIT_FATAL
    import asyncio

    try:
        ds = datasette(config, immutable=args.immutable)
    except FileNotFoundError as exc:
        print(f"reputation: {exc}", file=sys.stderr)
        return EXIT_FATAL
    asyncio.run(ds.invoke_startup())
    name = config.database.stem
    print(f"browse http://{args.host}:{args.port}/{name} (read-only; Ctrl-C stops)")
    uvicorn.run(ds.app(), host=args.host, port=args.port, log_level="warning")
    return EXIT_OK


def _duration(text: str) -> Any:
    """A --since value: a duration such as 7d or 12h."""
    from reputation.validate import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def utcnow() -> Any:
    """The current UTC time (a seam for tests)."""
    from reputation.timeutil import utcnow as now

    return now()


def cmd_backfill(args: argparse.Namespace, config: Any) -> int:
    """Read `--since` of history from every connector (or one), holding the run lock, with a
    progress bar per connector on a terminal and plain lines otherwise."""
    from reputation.backfill import backfill
    from reputation.lock import RunLock
    from reputation.logs import redact
    from reputation.progress import Reporter

    names = [c.name for c in config.connectors]
    if args.connector is not None and args.connector not in names:
        print(f"reputation: no connector named {args.connector!r} (configured: "
              f"{', '.join(names)})", file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    with RunLock(config.database), Reporter() as report:
        summary = backfill(config, args.since, utcnow(), report, only=args.connector)
    for warning in summary.warnings:
        print(f"reputation: warning: {redact(warning)}", file=sys.stderr)
    for error in summary.errors:
        print(f"error: {redact(error)}")
    new = sum(o.new for o in summary.connectors.values())
    print(f"backfilled {new} new mention(s), scored {summary.scored}; the rules do not alert"
          " on history")  # fmt: skip
    return EXIT_OK
