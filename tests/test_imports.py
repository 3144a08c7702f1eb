"""Every module imports on its own: no import cycle hides behind the order tests import in."""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.conftest import REPO
from tests.layout import source_modules

# Each module is imported first thing after our packages are dropped from sys.modules, so it
# initialises as in a fresh interpreter (third-party libraries stay loaded: they cannot take
# part in a cycle of ours, and reloading them per module would cost a minute).
_SCRIPT = """
import importlib, sys, traceback
failed = []
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m.split(".")[0] == "reputation"]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception:
        failed.append(name + ": " + traceback.format_exc(limit=-3))
# connectors/ is installed as reputation.connectors: a bare `connectors` is another project's.
if any(m.split(".")[0] == "connectors" for m in sys.modules):
    failed.append("something imported the bare `connectors` package")
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""
# `python -m reputation` runs the command line on import; it is covered by test_config.
_NOT_IMPORTABLE = {"reputation.__main__"}


def modules() -> list[str]:
    """Every module of the reputation package (connectors included), found on disk."""
    return [name for name in source_modules() if name not in _NOT_IMPORTABLE]


def test_the_module_list_reaches_into_subpackages() -> None:
    names = modules()
    assert {"reputation.sinks", "reputation.sinks.base", "reputation.sinks.slack"} <= set(names)
    assert {"reputation.connectors", "reputation.connectors.x", "reputation.cli"} <= set(names)
    assert len(names) == len(set(names))


def test_every_module_imports_cleanly_on_its_own() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, *modules()],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_slack_sink_imports_in_a_fresh_interpreter() -> None:
    # The case issue 11 found: `import reputation.slack` failed half-initialised.
    done = subprocess.run(
        [sys.executable, "-c", "import reputation.sinks.slack"],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr


def bare_connectors_imports(path_text: str, source: str) -> list[str]:
    """Each `import connectors`, `from connectors... import` or import_module("connectors...")."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Call) and node.args and _is_import_call(node.func):
            first = node.args[0]
            if isinstance(first, ast.JoinedStr) and first.values:
                first = first.values[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                names = [first.value]
        found += [f"{path_text}:{node.lineno}: {name}" for name in names if _bare(name)]
    return found


def _is_import_call(func: ast.expr) -> bool:
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name in ("import_module", "__import__")


def _bare(name: str) -> bool:
    return name == "connectors" or name.startswith("connectors.")


def test_nothing_imports_the_bare_connectors_package() -> None:
    # The PyPI distribution `connectors` would answer such an import in a user's environment.
    tracked = subprocess.run(
        ["git", "ls-files", "*.py"], capture_output=True, text=True, check=True, cwd=REPO
    ).stdout.split()
    assert "reputation/cli.py" in tracked and "tests/harness/x.py" in tracked
    offences = []
    for name in tracked:
        offences += bare_connectors_imports(name, (REPO / name).read_text(encoding="utf-8"))
    assert offences == []


def test_the_bare_import_check_sees_every_form() -> None:
    planted = (
        "import connectors\n"
        "import connectors.x as x\n"
        "from connectors.base import Batch\n"
        "importlib.import_module(f'connectors.{name}')\n"
        "__import__('connectors')\n"
    )
    assert len(bare_connectors_imports("planted.py", planted)) == 5
    fine = (
        "from reputation.connectors import CONNECTORS\n"
        "from . import connectors\n"
        "print('connectors: expected a list')\n"
    )
    assert bare_connectors_imports("fine.py", fine) == []
