"""Every module imports on its own: no import cycle hides behind the order tests import in."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO

# Each module is imported first thing after our packages are dropped from sys.modules, so it
# initialises as in a fresh interpreter (third-party libraries stay loaded: they cannot take
# part in a cycle of ours, and reloading them per module would cost a minute).
_SCRIPT = """
import importlib, sys, traceback
failed = []
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m.split(".")[0] in ("reputation", "connectors")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception:
        failed.append(name + ": " + traceback.format_exc(limit=-3))
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""
# `python -m reputation` runs the command line on import; it is covered by test_config.
_NOT_IMPORTABLE = {"reputation.__main__"}


def modules() -> list[str]:
    """Every module of the reputation and connectors packages, found on disk."""
    found = []
    for package in ("reputation", "connectors"):
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            if name not in _NOT_IMPORTABLE:
                found.append(name)
    return found


def test_the_module_list_reaches_into_subpackages() -> None:
    names = modules()
    assert {"reputation.sinks", "reputation.sinks.base", "reputation.sinks.slack"} <= set(names)
    assert {"connectors", "connectors.x", "reputation", "reputation.cli"} <= set(names)
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
