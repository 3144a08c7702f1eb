"""The recipes in deploy/ (systemd units and timers, the Dockerfile) name commands and
options the command line really has, and the pieces they rely on exist."""

from __future__ import annotations

import configparser
import json
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from reputation.cli import _parser, cmd_digest, cmd_run, cmd_serve
from tests.conftest import REPO

DEPLOY = REPO / "deploy"
HANDLERS = {"run": cmd_run, "digest": cmd_digest, "serve": cmd_serve}


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser


def check_command(argv: list[str]) -> str:
    """Parse `argv` (without the program) with the real parser: unknown commands or options
    fail here as they would for the user; returns the command's name."""
    args = _parser().parse_args(argv)
    assert args.config and Path(args.config).is_absolute()
    name = argv[0]
    assert args.handler is HANDLERS[name]
    return name


@pytest.mark.parametrize("path", sorted(DEPLOY.glob("*.service")), ids=lambda p: p.name)
def test_each_unit_runs_a_real_command(path: Path) -> None:
    service = unit(path)["Service"]
    argv = shlex.split(service["ExecStart"])
    assert argv[0].endswith("/.venv/bin/reputation")
    name = check_command(argv[1:])
    assert path.stem == f"reputation-{name}"
    assert service["Type"] == ("exec" if name == "serve" else "oneshot")
    if name == "run":
        assert service["SuccessExitStatus"] == "75"  # the lock held: exit 75 is not a failure


@pytest.mark.parametrize("path", sorted(DEPLOY.glob("*.timer")), ids=lambda p: p.name)
def test_each_timer_starts_a_unit_that_is_there(path: Path) -> None:
    timer = unit(path)
    assert (DEPLOY / f"{path.stem}.service").is_file()
    assert timer["Install"]["WantedBy"] == "timers.target"
    calendar = timer["Timer"]["OnCalendar"]
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed: the calendar expression is not checked")
    done = subprocess.run([analyze, "calendar", calendar], capture_output=True, check=False)
    assert done.returncode == 0, done.stderr


def test_the_dockerfile_serves_on_the_slim_image() -> None:
    lines = [line.strip() for line in (DEPLOY / "Dockerfile").read_text().splitlines()]
    instructions = [line for line in lines if line and not line.startswith("#")]
    assert instructions[0] == "FROM python:3.11-slim"
    [entrypoint] = [json.loads(line.partition(" ")[2]) for line in instructions
                    if line.startswith("ENTRYPOINT ")]  # fmt: skip
    [command] = [json.loads(line.partition(" ")[2]) for line in instructions
                 if line.startswith("CMD ")]  # fmt: skip
    assert entrypoint == ["reputation"]
    assert check_command(command) == "serve"
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert 'pip install --no-compile ".[chart]"' in " ".join(instructions)
    assert "chart" in extras
    assert "USER reputation" in instructions


def test_the_readme_points_at_the_recipes() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for path in [*DEPLOY.glob("*.service"), *DEPLOY.glob("*.timer"), DEPLOY / "Dockerfile"]:
        assert f"deploy/{path.name}" in readme, path.name
