"""What a command loads: `--help` and `check-config` start without the store, sqlite-utils,
pandas or scikit-learn; a run loads scikit-learn only when the config names a model."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from reputation.classifier import save_model, train
from tests.conftest import REPO, record

# The console script's entry point, then every module it left loaded, as the last line.
_PROBE = """
import json, sys
from reputation.cli import main
try:
    status = main(sys.argv[1:])
except SystemExit as exc:
    status = exc.code
print(json.dumps({"status": status, "modules": sorted(sys.modules)}))
"""
HEAVY = {"reputation.store", "sqlite_utils", "pandas", "sklearn"}


def loaded(*args: str, cwd: Path) -> set[str]:
    """The modules and top-level packages a fresh interpreter holds after `reputation ARGS`."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, cwd=cwd
    )
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["status"] in (0, None), done.stdout + done.stderr
    return set(report["modules"]) | {m.split(".")[0] for m in report["modules"]}


def test_help_loads_nothing_heavy(tmp_path: Path) -> None:
    assert loaded("--help", cwd=tmp_path) & HEAVY == set()


def test_check_config_loads_nothing_heavy(tmp_path: Path) -> None:
    modules = loaded("check-config", "--config", str(REPO / "config.yaml"), cwd=tmp_path)
    assert "reputation.config" in modules  # it did check the config
    assert modules & HEAVY == set()


def test_a_run_without_a_model_loads_the_store_but_not_scikit_learn(
    workspace: Callable, tmp_path: Path
) -> None:
    config = workspace([record("acme air lost my bag", minutes=1)])
    modules = loaded("run", "--config", str(config), cwd=tmp_path)
    assert {"reputation.store", "sqlite_utils"} <= modules  # the probe sees what loads
    assert "sklearn" not in modules


def test_a_run_with_a_model_loads_scikit_learn(workspace: Callable, tmp_path: Path) -> None:
    complaints = [f"acme air lost my bag on flight {n}, still no answer" for n in range(10)]
    praise = [f"acme air crew on flight {n} was lovely, thanks" for n in range(10)]
    model = tmp_path / "model.joblib"
    save_model(train(complaints + praise, [True] * 10 + [False] * 10, {}), model)
    config = workspace([record("acme air lost my bag", minutes=1)], scoring={"model": str(model)})
    assert "sklearn" in loaded("run", "--config", str(config), cwd=tmp_path)


@pytest.mark.parametrize("args", [["--version"], ["rules", "--help"]])
def test_other_light_commands_stay_light(args: list[str], tmp_path: Path) -> None:
    assert loaded(*args, cwd=tmp_path) & HEAVY == set()
