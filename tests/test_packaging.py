"""What the packaging promises: one version, every direct import declared, the starter
files (`reputation init`, the shipped rules), and a wheel that installs and starts."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

import reputation
from reputation import starter
from reputation.cli import main
from reputation.config import ConfigError, load_config
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
    # An optional backend's library is declared in its extra (`postgres`), imported lazily.
    extras = PYPROJECT["project"]["optional-dependencies"]
    declared |= {_name(r) for extra, reqs in extras.items() if extra != "dev" for r in reqs}
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


def test_init_writes_the_starter_files_that_check_config_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "monitor"
    assert main(["init", str(folder)]) == 0
    written = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert written == set(starter.files())
    assert {"config.yaml", "rules/viral-complaint.yaml", "data/demo/mentions.jsonl"} <= written
    for name in written:
        assert (folder / name).read_bytes() == (REPO / name).read_bytes(), name
    assert main(["check-config", "--config", str(folder / "config.yaml")]) == 0
    assert "ok (1 brand(s), 1 connector(s), 2 rule(s), 2 sink(s))" in capsys.readouterr().out


def test_init_overwrites_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "viral-complaint.yaml").write_text("name: mine\n")
    assert main(["init", str(tmp_path)]) == 1
    assert "viral-complaint.yaml; nothing written" in capsys.readouterr().err
    assert not (tmp_path / "config.yaml").exists()
    assert (tmp_path / "rules" / "viral-complaint.yaml").read_text() == "name: mine\n"


def test_a_config_without_rules_gets_the_shipped_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    del config["rules"]
    config["connectors"][0]["path"] = str(REPO / "data/demo/mentions.jsonl")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    loaded = load_config(path)
    assert loaded.rules_dir == starter.default_rules()
    assert {r.name for r in loaded.rules} == {"viral-complaint", "complaint-burst"}
    assert main(["check-config", "--config", str(path)]) == 0
    assert "2 shipped rule(s)" in capsys.readouterr().out
    # A rules/ folder beside the config is used as before...
    (tmp_path / "rules").mkdir()
    assert load_config(path).rules == ()
    # ...and a folder the config names must exist: a typo is not replaced by the shipped rules.
    config["rules"] = "rulez/"
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError, match="rulez is not a directory"):
        load_config(path)


def _run(*command: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, check=False, cwd=cwd
    )
    assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"
    return done.stdout


def _purelib(python: Path | str) -> Path:
    """The site-packages folder of the interpreter `python`."""
    code = "import sysconfig; print(sysconfig.get_path('purelib'))"
    return Path(_run(python, "-c", code).strip())


def test_a_wheel_installs_and_starts_from_an_empty_folder(tmp_path: Path) -> None:
    # Built from a copy of what an sdist holds, with the project venv's setuptools (no build
    # isolation: offline), then installed without dependencies into a fresh venv that finds
    # them in the project venv through a .pth file. About ten seconds.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "config.yaml"):
        shutil.copy(REPO / name, source / name)
    for folder in ("reputation", "connectors", "rules", "data/demo"):
        shutil.copytree(
            REPO / folder, source / folder, symlinks=True, ignore=shutil.ignore_patterns("__py*")
        )
    wheels = tmp_path / "wheels"
    pip = (sys.executable, "-m", "pip")
    _run(*pip, "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", wheels, source)
    (wheel,) = wheels.glob("reputation-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert {f"reputation/example/{name}" for name in starter.files()} <= names
    assert {"reputation/connectors/x.py", "reputation/sinks/slack.py"} <= names
    assert not [n for n in names if n.startswith(("connectors/", "tests/", "rules/"))]

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    site = _purelib(python)
    # A path line only: the project venv's own .pth files (its editable install) do not run.
    (site / "project-deps.pth").write_text(f"{_purelib(sys.executable)}\n")
    _run(*pip, "--python", python, "install", "-q", "--no-deps", "--no-index", wheel)

    empty = tmp_path / "empty"
    empty.mkdir()
    script = venv / "bin" / "reputation"
    _run(script, "init", cwd=empty)
    checked = _run(script, "check-config", cwd=empty)
    assert "ok (1 brand(s), 1 connector(s), 2 rule(s), 2 sink(s))" in checked
    summary = json.loads(_run(script, "run", "--json", cwd=empty))
    assert summary["alerts"] > 0 and summary["errors"] == []
    # The code that ran is the wheel's, and there is no top-level `connectors` package.
    code = "import reputation.connectors as c, reputation.starter as s; print(c.__file__, s.root())"
    assert _run(python, "-c", code, cwd=empty).split() == [
        str(site / "reputation/connectors/__init__.py"),
        str(site / "reputation/example"),
    ]
    bare = subprocess.run([python, "-c", "import connectors"], capture_output=True, cwd=empty)
    assert b"No module named 'connectors'" in bare.stderr
