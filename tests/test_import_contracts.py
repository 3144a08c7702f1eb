"""The import contracts in pyproject.toml (run by `lint-imports` in `make test`) can fail: a
planted import of each forbidden kind, direct or through a third module, breaks its contract."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports with the project's contracts over the copy of the packages in `root`."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(REPO / "pyproject.toml")],
        capture_output=True,
        text=True,
        check=False,
        cwd=root,
        env=env,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of reputation/ and connectors/, laid out as in the repository."""
    shutil.copytree(REPO / "connectors", tmp_path / "connectors")
    shutil.copytree(
        REPO / "reputation",
        tmp_path / "reputation",
        symlinks=True,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    assert (tmp_path / "reputation" / "connectors").is_symlink()
    return tmp_path


def test_the_copy_keeps_every_contract(tree: Path) -> None:
    done = lint_imports(tree)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 kept, 0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "planted", "contract"),
    [
        ("connectors/base.py", "reputation.store", "Connectors import only leaf modules"),
        # Indirect: a leaf every connector uses reaches the store.
        ("reputation/text.py", "reputation.store", "Connectors import only leaf modules"),
        ("reputation/viral.py", "reputation.ledger", "The scorer never reaches the store"),
        ("reputation/muting.py", "reputation.notify", "Rules never import notify or sinks"),
        ("reputation/sinks/console.py", "reputation.store", "Sinks never import the engine"),
    ],
)
def test_a_planted_import_breaks_its_contract(
    tree: Path, module: str, planted: str, contract: str
) -> None:
    path = tree / module
    path.write_text(path.read_text(encoding="utf-8") + f"\nimport {planted}  # planted\n")
    done = lint_imports(tree)
    assert done.returncode != 0
    broken = [line for line in done.stdout.splitlines() if line.endswith(" BROKEN")]
    assert any(line.startswith(contract) for line in broken), done.stdout
