"""No SQL outside the store, the ledger and the migrations: every other module asks them by
name, so a second backend is a second implementation of two classes, not a hunt."""

from __future__ import annotations

import ast
import re

from tests.conftest import REPO
from tests.layout import source_modules

_ALLOWED = {
    "reputation/store.py",
    "reputation/ledger.py",
    "reputation/schema.py",
    # db.py: the backends themselves (connection, transactions, migrations on PostgreSQL).
    "reputation/db.py",
    # Datasette's canned queries (`reputation browse`): SQL that Datasette runs, read-only,
    # on its own connections, never through the store; a backend without SQLite has no
    # Datasette to give them to.
    "reputation/browse.py",
}
# The project writes SQL keywords in capitals; prose does not open with these words so.
_SQL = re.compile(
    r"^\s*(SELECT\s|INSERT\s|UPDATE \w+ SET|DELETE FROM|CREATE\s|ALTER\s|DROP\s|VACUUM"
    r"|PRAGMA\s|WITH \w+ AS)"
)
_PRIVATE = {"_db", "_rows"}  # the connection and the raw query helper


def _offences(path_text: str, source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if _SQL.match(node.value):
                found.append(f"{path_text}:{node.lineno}: SQL {node.value[:40]!r}")
        elif isinstance(node, ast.Attribute) and node.attr in _PRIVATE:
            found.append(f"{path_text}:{node.lineno}: uses .{node.attr}")
    return found


def test_no_sql_outside_the_store_and_the_ledger() -> None:
    offences = []
    for path in source_modules().values():
        name = path.relative_to(REPO).as_posix()
        if name not in _ALLOWED:
            offences += _offences(name, path.read_text(encoding="utf-8"))
    assert offences == []


def test_the_check_sees_sql_and_the_private_connection() -> None:
    planted = 'rows = store._rows("SELECT * FROM alerts")\nstore._db.execute("DELETE FROM x")\n'
    assert len(_offences("planted.py", planted)) == 4
    assert _offences("fine.py", 'print("Selected 3 alerts")\n') == []
