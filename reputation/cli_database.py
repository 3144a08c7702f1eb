"""Command line of the database itself: `reputation migrate-db --to postgresql://...` copies
the configured SQLite database into an empty PostgreSQL one. The store is imported when the
command runs (the start-up promise of reputation/cli.py)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reputation.db import is_postgres

EXIT_OK, EXIT_FATAL, EXIT_USAGE = 0, 1, 2


def add_commands(
    commands: Any, common: argparse.ArgumentParser, load: Callable[[Path], Any]
) -> None:
    """Add `migrate-db` to the command line (`load` reads the config)."""
    migrate = commands.add_parser(
        "migrate-db",
        parents=[common],
        help="copy the configured SQLite database into an empty PostgreSQL database",
    )
    migrate.add_argument("--to", required=True, metavar="postgresql://USER@HOST:PORT/NAME")
    migrate.set_defaults(handler=lambda args, path: migrate_db(load(path), args.to))


def migrate_db(config: Any, target: str) -> int:
    """Copy every table of the config's SQLite database into the PostgreSQL database `target`
    (migrated first; it must hold no data), under the run lock so no run writes meanwhile."""
    from reputation.lock import RunLock
    from reputation.logs import redact
    from reputation.store import Store, copy_tables

    if is_postgres(config.database):
        print("reputation: the configured database is PostgreSQL already", file=sys.stderr)
        return EXIT_USAGE
    if not is_postgres(target):
        print("reputation: --to takes a postgresql:// URL", file=sys.stderr)
        return EXIT_USAGE
    with RunLock(config.database):
        source = Store.open(config.database)
        try:
            destination = Store.open(target)
            try:
                filled = [t for t in destination.table_names() if destination.has_rows(t)]
                if filled:
                    print(
                        f"reputation: {redact(target)} already holds data ({', '.join(filled)});"
                        " migrate-db copies into an empty database only",
                        file=sys.stderr,
                    )
                    return EXIT_FATAL
                copied = copy_tables(source, destination)
            finally:
                destination.close()
        finally:
            source.close()
    rows = sum(copied.values())
    print(
        f"copied {rows} row(s) in {len(copied)} table(s) from {config.database} "
        f"({copied.get('mentions', 0)} mentions, {copied.get('alerts', 0)} alerts); set "
        "`database:` in the config to the PostgreSQL URL to use it"
    )
    return EXIT_OK
