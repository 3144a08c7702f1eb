"""The database behind the store: SQLite (one file, the default) or PostgreSQL (a server that
several workers share). The store, the ledger and the migrations write SQLite's SQL once;
`to_postgres` carries it over by a few fixed rules (docs/postgresql.md lists them), so a new
query or migration is written once and runs on both.

Rules: `?` becomes `%s` (a literal `%` is doubled); `INSERT OR IGNORE` becomes `INSERT ... ON
CONFLICT DO NOTHING`; bare columns inside `ON CONFLICT ... DO UPDATE SET` are qualified by
the table (PostgreSQL finds them ambiguous); `x IS ?` or `x IS y` becomes `IS NOT DISTINCT
FROM`; `LIKE` becomes `ILIKE` (SQLite's LIKE ignores case); two-argument `MIN`/`MAX` become
`LEAST`/`GREATEST`; `group_concat` becomes `string_agg`; every `ORDER BY` key gets SQLite's
place for NULLs (first ascending, last descending). In DDL: `INTEGER PRIMARY KEY` is an
identity column, INTEGER is BIGINT, REAL is DOUBLE PRECISION, TEXT is TEXT COLLATE "C" (byte
order, as SQLite compares), REFERENCES are dropped (SQLite here never enforces them), and a
`CREATE TRIGGER ... BEGIN ...; END` becomes a PL/pgSQL function and a row trigger.
"""

from __future__ import annotations

import functools
import hashlib
import re
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import psycopg

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
# The table that records applied migrations on PostgreSQL: the shape of sqlite-utils'
# `_sqlite_migrations` (id, migration_set, name, applied_at).
MIGRATIONS_TABLE = "_migrations"


class Cursor(Protocol):
    """What a statement returns on either backend (sqlite3 and psycopg cursors both fit)."""

    @property
    def rowcount(self) -> int: ...

    @property
    def description(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def fetchmany(self, size: int = ...) -> list[Any]: ...

    def fetchone(self) -> Any: ...


class Connection(Protocol):
    """The connection the store and the ledger share: statements and transactions."""

    dialect: str

    def execute(
        self, sql: str, parameters: Sequence[Any] | dict[str, Any] | None = None
    ) -> Any: ...

    def atomic(self) -> Any: ...

    def close(self) -> None: ...


def is_postgres(target: object) -> bool:
    """Whether a `database:` setting names a PostgreSQL server rather than a SQLite file."""
    return isinstance(target, str) and target.startswith(POSTGRES_SCHEMES)


def database_errors() -> tuple[type[Exception], ...]:
    """The driver errors a command may meet once the store is open (either backend)."""
    try:
        import psycopg
    except ImportError:  # the `postgres` extra is not installed: SQLite alone
        return (sqlite3.Error,)
    return (sqlite3.Error, psycopg.Error)


def record_errors() -> tuple[type[Exception], ...]:
    """What PostgreSQL raises for one record it refuses (out of range, NUL in text, a
    constraint), beside the Python and SQLite ones the store already lists."""
    try:
        import psycopg
    except ImportError:
        return ()
    return (psycopg.DataError, psycopg.IntegrityError)


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for a PostgreSQL advisory lock named `name`."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class PostgresDatabase:
    """A psycopg connection in autocommit, with sqlite-utils' `execute` and `atomic`: SQL in
    SQLite's dialect is translated; `atomic` is a transaction (nested: a savepoint) that
    takes the writer lock first."""

    dialect = "postgresql"

    def __init__(self, dsn: str):
        import psycopg

        self.dsn = dsn
        self.conn: psycopg.Connection[Any] = psycopg.connect(dsn, autocommit=True)
        _load_numeric_as_numbers(self.conn)
        # Advisory locks are server-wide: their names carry the database and schema.
        where = self.conn.execute("SELECT current_database(), current_schema()").fetchone()
        self._scope = f"{where[0]}.{where[1]}" if where else dsn
        # Every writer takes this transaction lock at BEGIN: writes serialize as SQLite's
        # `BEGIN IMMEDIATE` makes them, so code written for SQLite keeps its guarantees.
        self.writer_key = self.key("writer")

    def key(self, name: str) -> int:
        """The advisory lock key of `name` in this database and schema."""
        return lock_key(f"reputation:{self._scope}:{name}")

    def try_lock(self, name: str) -> bool:
        """Take the session lock `name` if no session holds it; held until `unlock` or the
        connection ends (a worker killed with -9 releases it with its connection)."""
        row = self.conn.execute("SELECT pg_try_advisory_lock(%s)", [self.key(name)]).fetchone()
        return bool(row and row[0])

    def unlock(self, name: str) -> None:
        """Release the session lock `name` taken by `try_lock` (gone already with a closed
        connection)."""
        if self.conn.closed:
            return
        self.conn.execute("SELECT pg_advisory_unlock(%s)", [self.key(name)])

    def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] | None = None) -> Any:
        """Run one statement written in SQLite's dialect, with `?` parameters (named ones
        are SQLite's alone); return its cursor."""
        if isinstance(parameters, dict):
            raise TypeError("PostgreSQL statements take `?` parameters, not named ones")
        if _DDL.match(sql):  # may be several statements (a trigger): no parameters
            return self.conn.execute(to_postgres(sql).encode())
        return self.conn.execute(to_postgres(sql), list(parameters or ()))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement written in SQLite's dialect once per row of parameters."""
        with self.conn.cursor() as cursor:
            cursor.executemany(to_postgres(sql), [list(row) for row in rows])

    def execute_native(self, sql: str, parameters: Sequence[Any] | None = None) -> Any:
        """Run one statement written for PostgreSQL, untranslated."""
        return self.conn.execute(sql, parameters if parameters else None)

    @contextmanager
    def atomic(self, writer: bool = True) -> Iterator[PostgresDatabase]:
        """A transaction holding the writer lock from its start (`writer`), or, nested, a
        savepoint; rolled back whole if anything inside raises."""
        outer = self.conn.info.transaction_status == _idle()
        with self.conn.transaction():
            if outer and writer:
                self.conn.execute("SELECT pg_advisory_xact_lock(%s)", [self.writer_key])
            yield self

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open on this connection."""
        return self.conn.info.transaction_status != _idle()

    def close(self) -> None:
        """Close the connection (a session lock it held is released with it)."""
        self.conn.close()


def _idle() -> Any:
    from psycopg.pq import TransactionStatus

    return TransactionStatus.IDLE


def _load_numeric_as_numbers(conn: psycopg.Connection[Any]) -> None:
    """NUMERIC (what SUM of BIGINT gives) loads as int when whole, else float: as SQLite."""
    from psycopg.types.numeric import NumericLoader

    class Loader(NumericLoader):
        def load(self, data: Any) -> Any:
            value = super().load(data)
            if isinstance(value, Decimal):
                return int(value) if value == value.to_integral_value() else float(value)
            return value

    conn.adapters.register_loader("numeric", Loader)


# -- translation ------------------------------------------------------------------------

_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")
_MASK = re.compile(r"\x00(\d+)\x00")
_DDL = re.compile(r"^\s*(CREATE|ALTER)\s+(TABLE|TRIGGER)\b")


@functools.lru_cache(maxsize=4096)
def to_postgres(sql: str) -> str:
    """The statement, written for SQLite, as PostgreSQL runs it (the rules: module doc)."""
    masked, literals = _mask(sql)
    if _DDL.match(masked):
        out = _ddl(masked)
    else:
        out = masked.replace("%", "%%").replace("?", "%s")
        for rule in _DML_RULES:
            out = rule(out)
    return _MASK.sub(lambda m: literals[int(m.group(1))], out)


def _mask(sql: str) -> tuple[str, list[str]]:
    """The statement with every quoted literal and identifier replaced by a marker, so the
    rules never touch their text; and the literals, by marker number."""
    literals: list[str] = []

    def keep(match: re.Match[str]) -> str:
        literals.append(match.group(0))
        return f"\x00{len(literals) - 1}\x00"

    return _QUOTED.sub(keep, sql), literals


def _insert_or_ignore(sql: str) -> str:
    if not re.match(r"\s*INSERT OR IGNORE INTO\b", sql):
        return sql
    sql = re.sub(r"INSERT OR IGNORE INTO", "INSERT INTO", sql, count=1)
    head, returning, tail = sql.partition(" RETURNING ")
    return f"{head} ON CONFLICT DO NOTHING" + (f" RETURNING {tail}" if returning else "")


_BARE = re.compile(r"(?<![\w.%\x00])([a-z_][a-z0-9_]*)\b(?!\s*[(.])")


def _qualify_upsert(sql: str) -> str:
    """Qualify bare column names in the expressions of `DO UPDATE SET` with the table."""
    match = re.search(r"\bDO UPDATE SET\b", sql)
    table = re.match(r"\s*INSERT INTO (\w+)", sql)
    if not match or not table:
        return sql
    head, body = sql[: match.end()], sql[match.end() :]
    assignments = _split_top(body, ",")
    out = []
    for assignment in assignments:
        target, _, expr = assignment.partition("=")
        out.append(f"{target}={_BARE.sub(lambda m: f'{table.group(1)}.{m.group(1)}', expr)}")
    return head + ",".join(out)


_IS_OPERAND = r"(?!NOT\b|NULL\b|DISTINCT\b|TRUE\b|FALSE\b)"


def _is_parameter(sql: str) -> str:
    """SQLite's `a IS b` / `a IS NOT b` (a parameter or a column: NULL-safe comparison)."""
    sql = re.sub(rf"\bIS NOT {_IS_OPERAND}", "IS DISTINCT FROM ", sql)
    return re.sub(rf"\bIS {_IS_OPERAND}", "IS NOT DISTINCT FROM ", sql)


def _like(sql: str) -> str:
    return re.sub(r"\bLIKE\b", "ILIKE", sql)


def _functions(sql: str) -> str:
    """Two-argument MIN/MAX become LEAST/GREATEST; group_concat becomes string_agg."""
    out, pos = [], 0
    while match := _FUNCTION.search(sql, pos):
        close = _closing(sql, match.end() - 1)
        inner = _functions(sql[match.end() : close])
        args = _split_top(inner, ",")
        name = match.group(1)
        out.append(sql[pos : match.start()])
        if name == "group_concat":
            separator = args[1].strip() if len(args) > 1 else "','"
            out.append(f"string_agg(CAST({args[0].strip()} AS TEXT), {separator})")
        elif len(args) > 1:
            out.append(f"{'LEAST' if name == 'MIN' else 'GREATEST'}({inner})")
        else:
            out.append(f"{name}({inner})")
        pos = close + 1
    return "".join(out) + sql[pos:]


_FUNCTION = re.compile(r"\b(MIN|MAX|group_concat)\(")
_ORDER_END = re.compile(r"\s+(LIMIT|OFFSET)\b|\s*;")


_NOT_ALIAS = frozenset("WHERE GROUP ORDER LIMIT JOIN LEFT INNER CROSS ON UNION".split())


def _alias_subqueries(sql: str) -> str:
    """Name every subquery in FROM (PostgreSQL before 16 requires it; SQLite does not)."""
    out, pos, number = [], 0, 0
    for match in re.finditer(r"\bFROM \(\s*SELECT\b", sql):
        if match.start() < pos:
            continue
        close = _closing(sql, match.end() - len(match.group(0)) + 5)
        following = re.match(r"\s*(?:AS\s+)?(\w+)", sql[close + 1 :])
        out.append(sql[pos : close + 1])
        if following is None or following.group(1).upper() in _NOT_ALIAS:
            number += 1
            out.append(f" AS subquery_{number}")
        pos = close + 1
    return "".join(out) + sql[pos:]


def _nulls_as_sqlite(sql: str) -> str:
    """Every ORDER BY key sorts NULL as SQLite does: first ascending, last descending."""
    out, pos = [], 0
    for match in re.finditer(r"\bORDER BY\b", sql):
        if match.start() < pos:
            continue
        start = match.end()
        end = _order_end(sql, start)
        keys = []
        for key in _split_top(sql[start:end], ","):
            text = key.rstrip()
            if re.search(r"\bNULLS (FIRST|LAST)$", text):
                keys.append(key)
            elif text.endswith(" DESC"):
                keys.append(f"{text} NULLS LAST")
            else:
                keys.append(f"{text} NULLS FIRST")
        out.append(sql[pos:start] + ",".join(keys))
        pos = end
    return "".join(out) + sql[pos:]


def _order_end(sql: str, start: int) -> int:
    """Where an ORDER BY list starting at `start` ends: a closing bracket, LIMIT, the end."""
    depth = 0
    for index in range(start, len(sql)):
        char = sql[index]
        if char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                return index
            depth -= 1
        elif depth == 0 and _ORDER_END.match(sql, index):
            return index
    return len(sql)


_DML_RULES: tuple[Callable[[str], str], ...] = (
    _insert_or_ignore,
    _qualify_upsert,
    _is_parameter,
    _like,
    _functions,
    _alias_subqueries,
    _nulls_as_sqlite,
)


def _closing(sql: str, open_at: int) -> int:
    """The index of the bracket that closes the one at `open_at`."""
    depth = 0
    for index in range(open_at, len(sql)):
        if sql[index] == "(":
            depth += 1
        elif sql[index] == ")":
            depth -= 1
            if depth == 0:
                return index
    raise ValueError(f"unbalanced brackets in {sql!r}")


def _split_top(text: str, separator: str) -> list[str]:
    """`text` split at `separator` outside brackets."""
    parts, depth, last = [], 0, 0
    for index, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append(text[last:index])
            last = index + 1
    parts.append(text[last:])
    return parts


_TRIGGER = re.compile(
    r"\s*CREATE TRIGGER (\w+) (AFTER|BEFORE) (INSERT|UPDATE|DELETE) ON (\w+) BEGIN(.*)END\s*$",
    re.DOTALL,
)


def _ddl(sql: str) -> str:
    trigger = _TRIGGER.match(sql)
    if trigger:
        name, when, event, table, body = trigger.groups()
        return (
            f"CREATE FUNCTION {name}_fn() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            f" {body.strip()} RETURN NULL; END $$; CREATE TRIGGER {name} {when} {event} ON {table}"
            f" FOR EACH ROW EXECUTE FUNCTION {name}_fn()"
        )
    identity = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
    sql = re.sub(r"\bINTEGER PRIMARY KEY\b(?!\s+REFERENCES)", identity, sql)
    sql = re.sub(r"\s+REFERENCES \w+\s*\(\w+\)", "", sql)
    sql = re.sub(r"\bINTEGER\b", "BIGINT", sql)
    sql = re.sub(r"\bREAL\b", "DOUBLE PRECISION", sql)
    return re.sub(r"\bTEXT\b", 'TEXT COLLATE "C"', sql)


# -- migrations on PostgreSQL -------------------------------------------------------------


def applied_migrations(db: PostgresDatabase, migration_set: str) -> list[str]:
    """Names of the migrations of `migration_set` applied to this database, in order."""
    found = db.execute_native("SELECT to_regclass(%s)", [MIGRATIONS_TABLE]).fetchone()
    if found is None or found[0] is None:
        return []
    rows = db.execute(
        f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ? ORDER BY id",  # noqa: S608
        [migration_set],
    ).fetchall()
    return [row[0] for row in rows]


def migrate_postgres(
    db: PostgresDatabase, migration_set: str, steps: Sequence[tuple[str, Callable[[Any], None]]]
) -> None:
    """Apply the pending `steps` (name, function) in order, each with its record in one
    transaction; the functions are the SQLite migrations, run through the translation (the
    writer lock makes two workers starting at once apply each step once)."""
    with db.atomic():
        db.execute(
            f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} (id INTEGER PRIMARY KEY,"
            " migration_set TEXT NOT NULL, name TEXT NOT NULL, applied_at TEXT NOT NULL,"
            " UNIQUE (migration_set, name))"
        )
    for name, step in steps:
        with db.atomic():
            if name in applied_migrations(db, migration_set):
                continue
            step(db)
            db.execute(
                f"INSERT INTO {MIGRATIONS_TABLE} (migration_set, name, applied_at)"  # noqa: S608
                " VALUES (?, ?, ?)",
                [migration_set, name, str(datetime.now(UTC))],
            )
