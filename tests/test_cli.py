"""The command line as a user meets it: options on either side of the subcommand, a reader
that stops early, `run --json` under a held lock, and errors said in the user's terms."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from reputation.cli import _parser, main
from reputation.lock import RunLock
from tests.conftest import REPO, sqlite_only


@pytest.mark.parametrize(
    "argv",
    [
        ["--config", "prod.yaml", "run"],
        ["run", "--config", "prod.yaml"],
        ["--config", "prod.yaml", "silence", "list"],
        ["--config", "prod.yaml", "rules", "test"],
        ["silence", "add", "brand=x", "--for", "1h", "--config", "prod.yaml"],
    ],
)
def test_config_is_taken_before_or_after_the_subcommand(argv: list[str]) -> None:
    assert _parser().parse_args(argv).config == "prod.yaml"


@pytest.mark.parametrize(
    ("argv", "verbose"),
    [
        (["-v", "run"], True),
        (["run", "-v"], True),
        (["--verbose", "silence", "list"], True),
        (["run"], False),
    ],
)
def test_verbose_is_taken_before_or_after_the_subcommand(argv: list[str], verbose: bool) -> None:
    assert _parser().parse_args(argv).verbose is verbose


def test_the_last_config_given_wins() -> None:
    assert _parser().parse_args(["--config", "a.yaml", "run", "--config", "b.yaml"]).config == (
        "b.yaml"
    )


def test_config_before_the_subcommand_is_the_one_used(
    workspace: Callable, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys,
    config_database: Path | str,
) -> None:  # fmt: skip
    sqlite_only(config_database, "the run's database file is where the config says")
    path = workspace([])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "config.yaml").write_text("brands: []\n")  # the demo a slip would run instead
    monkeypatch.chdir(elsewhere)
    assert main(["--config", str(path), "check-config"]) == 0
    assert capsys.readouterr().out.startswith(f"{path}: ok")
    assert main(["--config", str(path), "run", "--json"]) == 0
    assert (tmp_path / "reputation.db").exists() and not (elsewhere / "data").exists()


# -- a reader that stops early ------------------------------------------------------------


def _closed_stdout(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the CLI with its stdout a pipe whose reader has already gone (`| head -0`)."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [sys.executable, "-m", "reputation", *argv],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write)


@pytest.fixture
def alerted(workspace: Callable, make_record: Callable) -> Path:
    """A workspace whose ledger holds a few alerts."""
    path = workspace(
        [
            make_record(f"Acme Air is terrible and awful, lost bag {i}", i, author_followers=90_000)
            for i in range(3)
        ]
    )
    assert main(["run", "--json", "--config", str(path)]) == 0
    return path


@pytest.mark.parametrize(
    "argv",
    [["alerts"], ["check-config"], ["silence", "list"], ["run", "--json"]],
)
def test_a_reader_that_stops_early_ends_the_command_quietly(
    alerted: Path, tmp_path: Path, argv: list[str]
) -> None:
    done = _closed_stdout([*argv, "--config", str(alerted)], tmp_path)
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
    assert done.stderr == ""
    assert done.returncode == 141  # as a Unix tool killed by SIGPIPE


# -- run --json under a held lock -----------------------------------------------------------


def test_run_json_prints_its_one_object_when_the_lock_is_held(
    workspace: Callable, tmp_path: Path, capsys, config_database: Path | str
) -> None:
    sqlite_only(config_database, "SQLite's run lock (PostgreSQL workers take leases)")
    path = workspace([])
    with RunLock(tmp_path / "reputation.db"):
        assert main(["run", "--json", "--config", str(path)]) == 75
    captured = capsys.readouterr()
    assert captured.out.count("\n") == 1
    out = json.loads(captured.out)
    assert out == {
        "skipped": "another run holds the lock",
        "lock": str(tmp_path / "reputation.db.lock"),
        "pid": os.getpid(),
    }
    assert "another run holds" in captured.err


# -- eval and train -------------------------------------------------------------------------


@pytest.fixture
def labels(tmp_path: Path) -> Path:
    rows = pd.read_csv(REPO / "data/dev/natural.csv").sample(120, random_state=2)
    path = tmp_path / "labels.csv"
    rows.rename(columns={"text": "post", "label": "tag"})[["post", "tag"]].to_csv(path, index=False)
    return path


def test_eval_refuses_a_positive_value_the_label_column_never_holds(labels: Path, capsys) -> None:
    argv = ["eval", str(labels), "--text-column", "post", "--label-column", "tag"]
    assert main([*argv, "--positive", "Complaint"]) == 1  # the value is "complaint"
    err = capsys.readouterr().err
    assert f"{labels}: no row has 'Complaint' in column 'tag'" in err
    assert "'complaint'" in err  # the values it does hold are named
    assert main([*argv, "--positive", "complaint", "--json"]) == 0


def test_train_hint_names_the_model_as_the_config_reads_it(
    labels: Path, tmp_path: Path, workspace: Callable, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    config = workspace([])  # tmp_path/config.yaml
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")  # the model path is given relative to here
    argv = ["train", str(labels), "--text-column", "post", "--label-column", "tag"]
    assert (
        main([*argv, "--positive", "complaint", "--out", "m.joblib", "--config", str(config)]) == 0
    )
    hint = re.search(r"scoring: \{model: (.+?)\}", capsys.readouterr().out)
    assert hint is not None
    named = Path(hint.group(1))
    resolved = named if named.is_absolute() else config.parent / named
    assert resolved.resolve() == (tmp_path / "work" / "m.joblib").resolve()
    assert named == Path("work/m.joblib")  # inside the config's folder: relative to it


# -- rules test, silence expire, check-config -------------------------------------------------


def test_rules_test_runs_a_disabled_rule_it_is_given_and_says_so(
    workspace: Callable, tmp_path: Path, capsys
) -> None:
    path = workspace([])
    rule = tmp_path / "flatline.yaml"
    shutil.copy(REPO / "rules" / "source-flatline.yaml", rule)
    assert "enabled: false" in rule.read_text()
    assert main(["rules", "test", str(rule), "--json", "--config", str(path)]) == 0
    captured = capsys.readouterr()
    assert list(json.loads(captured.out)) == ["source-flatline"]
    assert f"{rule} is disabled (enabled: false); tested anyway" in captured.err


def test_silence_expire_of_no_active_silence_exits_1_as_the_readme_says(
    workspace: Callable, capsys
) -> None:
    path = workspace([])
    assert main(["silence", "expire", "7", "--config", str(path)]) == 1
    assert "no active silence #7" in capsys.readouterr().err
    readme = (REPO / "README.md").read_text()
    [row] = [line for line in readme.splitlines() if line.startswith("| `reputation silence")]
    assert "1 no active silence" in row.split("|")[3]


def test_check_config_reports_a_missing_input_and_a_duplicate_rule_with_other_errors(
    workspace: Callable, tmp_path: Path, capsys
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "a.yaml").write_text("name: twice\ntype: any\nwhere: {sentimnt: {lte: 0}}\n")
    (rules / "b.yaml").write_text("name: twice\ntype: any\n")
    path = workspace(
        None,
        rules_dir=rules,
        connectors=[{"type": "file", "path": str(tmp_path / "missing.jsonl")}],
        schedule={"every": "soon"},
    )
    assert main(["check-config", "--config", str(path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert f"connectors[0].path: {tmp_path / 'missing.jsonl'} does not exist" in err
    assert f"{rules / 'b.yaml'}: name: 'twice' is already used by {rules / 'a.yaml'}" in err
    assert any(line.startswith(f"{rules / 'a.yaml'}: where.sentimnt") for line in err)
    assert any(line.startswith("schedule.every") for line in err)


def test_a_run_still_treats_a_missing_input_as_a_failed_source(
    workspace: Callable, tmp_path: Path, capsys
) -> None:
    path = workspace(None, connectors=[{"type": "file", "path": str(tmp_path / "later.jsonl")}])
    assert main(["run", "--json", "--config", str(path)]) == 0
    assert "later.jsonl" in json.loads(capsys.readouterr().out)["errors"][0]


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["digest", "--date", "2026-13-01"], "'2026-13-01' is not a date like 2026-11-21"),
        (["silence", "add", "brand=x", "--for", "soon"], "'soon' is not a duration"),
        (["alerts", "--limit", "lots"], "'lots' is not a whole number of at least 1"),
        (["silence", "expire", "first"], "'first' is not a whole number of at least 1"),
        (["rules", "test", "--since", "lately"], "'lately' is neither a duration"),
    ],
)
def test_bad_arguments_are_explained_in_the_users_terms(argv: list[str], said: str, capsys) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert said in err
    assert not re.search(r"fromisoformat|parse_duration|_since|invalid \w+ value", err), err
