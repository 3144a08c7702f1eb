"""What pyproject.toml promises: one version, every direct import declared."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import reputation
from tests.conftest import REPO
from tests.layout import source_modules

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
SCRIPT = Path(sys.executable).with_name("reputation")


def _name(requirement: str) -> str:
    """The normalized distribution name of a requirement string."""
    found = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert found is not None, requirement
    return re.sub(r"[-_.]+", "-", found.group()).lower()


def third_party_imports(sources: dict[str, Path]) -> dict[str, str]:
    """Top-level names imported from outside the standard library and reputation, with where."""
    found: dict[str, str] = {}
    for name, path in sources.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                tops = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                tops = [node.module.split(".")[0]]
            else:
                continue
            for top in tops:
                if top not in sys.stdlib_module_names and top != "reputation":
                    found.setdefault(top, f"{name}:{node.lineno}")
    return found


def test_the_version_is_written_once_and_reported() -> None:
    assert "version" not in PYPROJECT["project"]
    assert PYPROJECT["project"]["dynamic"] == ["version"]
    installed = importlib.metadata.version("reputation")
    assert installed == reputation.__version__
    done = subprocess.run([SCRIPT, "--version"], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == f"reputation {installed}"


def test_every_direct_import_is_a_declared_dependency() -> None:
    declared = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    distributions = importlib.metadata.packages_distributions()
    imports = third_party_imports(source_modules())
    assert {"numpy", "joblib", "prawcore", "sklearn", "yaml"} <= set(imports)
    missing = {
        top: where
        for top, where in imports.items()
        if not {_name(d) for d in distributions.get(top, [top])} & declared
    }
    assert missing == {}


def test_the_import_check_sees_an_undeclared_library(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text("import os\nimport numpy as np\nfrom reputation import text\n")
    assert third_party_imports({"planted": planted}) == {"numpy": "planted:2"}
