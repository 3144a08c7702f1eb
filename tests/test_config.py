"""Config validation: every error at once, each with its path; secrets only by env name."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from reputation.cli import main
from reputation.config import ConfigError, load_config
from reputation.sinks import SlackSink
from tests.conftest import REPO


def test_shipped_config_is_valid() -> None:
    config = load_config(REPO / "config.yaml")
    assert [b.name for b in config.brands] == ["Acme Air"]
    assert {r.name for r in config.rules} >= {"viral-complaint", "complaint-burst"}
    assert config.database == REPO / "data" / "reputation.db"
    assert config.every.total_seconds() == 600
    assert [s.type for s in config.sinks] == ["console", "slack"]


def _errors(tmp_path: Path, data: object) -> list[str]:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value.errors


BASE = {
    "brands": [{"name": "Acme", "terms": ["acme"]}],
    "connectors": [{"type": "file", "path": "m.jsonl"}],
    "rules": str(REPO / "rules"),
}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"schedule": {"every": "2x"}}, "schedule.every: '2x' is not a duration"),
        ({"digest": {"cron": "61 * * * *"}}, "digest.cron: '61 * * * *' is not a crontab"),
        ({"databse": "x.db"}, "databse: unknown key"),
        ({"brands": []}, "brands: expected a non-empty list"),
        ({"brands": [{"name": "A"}]}, "brands[0].terms: is required"),
        ({"connectors": [{"type": "smoke-signals"}]}, "connectors[0].type: 'smoke-signals' is not"),
        ({"connectors": [{"type": "file"}]}, "connectors[0].path: is required"),
        (
            {"connectors": [{"type": "file", "path": "a", "lookback": "1h"}]},
            "connectors[0].lookback: unknown key",
        ),
        ({"sinks": [{"type": "slack"}]}, "sinks[0].channel: is required"),
        (
            {"sinks": [{"type": "console"}, {"type": "console"}]},
            "sinks[1].name: 'console' is already",
        ),
        (
            {"sinks": [{"type": "slack", "channel": "#a", "token": "xoxb-1"}]},
            "sinks[0].token: unknown key",
        ),
        (
            {"sinks": [{"type": "slack", "channel": "#a", "base_url": "slack.com"}]},
            "sinks[0].base_url: 'slack.com' is not an http(s) URL",
        ),
        (
            {"sinks": [{"type": "slack", "channel": "#a", "timeout": "10m"}]},
            "sinks[0].timeout: 10m is above the maximum 300s",
        ),
        (
            {"sinks": [{"type": "slack", "channel": "#a", "timeout": 0}]},
            "sinks[0].timeout: '0s' is not a positive duration",
        ),
        (
            {"sinks": [{"type": "slack", "channel": "#a", "timeout": 1.5}]},
            "sinks[0].timeout: 1.5 is not a duration",
        ),
        ({"scoring": {"prevalence": 1.5}}, "scoring.prevalence: "),
        (
            {"scoring": {"prevalence": 0.6}},
            "scoring.prevalence: 0.6 is not below the threshold (0.275); raise scoring.threshold",
        ),
    ],
)
def test_each_mistake_is_named_with_its_path(tmp_path: Path, change: dict, expected: str) -> None:
    errors = _errors(tmp_path, {**BASE, **change})
    assert any(expected in e for e in errors), errors


@pytest.mark.parametrize(("given", "seconds"), [(None, 15), ("20s", 20), ("1m", 60), (45, 45)])
def test_the_slack_timeout_is_a_duration_and_a_bare_number_is_seconds(
    tmp_path: Path, given: object, seconds: int
) -> None:
    sink = {"type": "slack", "channel": "#a"} | ({} if given is None else {"timeout": given})
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({**BASE, "sinks": [sink]}), encoding="utf-8")
    [slack] = load_config(path).sinks
    assert slack.options["timeout"] == timedelta(seconds=seconds)
    sink = SlackSink(slack.name, slack.options, {"SLACK_BOT_TOKEN": "xoxb-test"})
    assert sink.client.timeout == seconds


def test_two_mistakes_are_both_reported(tmp_path: Path) -> None:
    errors = _errors(
        tmp_path, {**BASE, "schedule": {"every": "often"}, "sinks": [{"type": "pager"}]}
    )
    assert len(errors) == 2
    assert errors[0].startswith("sinks[0].type") or errors[1].startswith("sinks[0].type")
    assert any(e.startswith("schedule.every") for e in errors)


def test_a_pasted_secret_is_rejected_without_echoing_it(tmp_path: Path) -> None:
    secret = "xoxb-1234-5678-abcdefSECRET"
    errors = _errors(
        tmp_path, {**BASE, "sinks": [{"type": "slack", "channel": "#a", "token_env": secret}]}
    )
    assert any(
        e.startswith("sinks[0].token_env: must name an environment variable") for e in errors
    )
    assert all(secret not in e for e in errors)


def test_rule_file_errors_name_the_file_and_key(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "bad.yaml").write_text(
        "name: bad\ntype: frequency\nwhere: {sentimnt: {lte: -1}}\ntimeframe: 1h\nseverity: loud\n"
    )
    (rules / "broken.yaml").write_text("name: [unclosed\n")
    errors = _errors(tmp_path, {**BASE, "rules": str(rules)})
    bad = str(rules / "bad.yaml")
    assert f"{bad}: where.sentimnt: unknown field" in "\n".join(errors)
    assert f"{bad}.num_events: is required" in errors
    assert any(e.startswith(f"{bad}: severity: 'loud' is not one of") for e in errors)
    assert any(e.startswith(f"{rules / 'broken.yaml'}: is not valid YAML") for e in errors)


def test_invalid_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("brands:\n  - name: [oops\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.errors[0].startswith(f"{path}:")


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "config.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump({**BASE, "database": "state/r.db"}))
    config = load_config(path)
    assert config.database == path.parent.resolve() / "state" / "r.db"
    assert config.connectors[0].options["path"] == path.parent.resolve() / "m.jsonl"


def test_check_config_exit_codes_and_one_line_per_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(BASE))
    (tmp_path / "m.jsonl").touch()  # check-config wants the input there
    assert main(["check-config", "--config", str(good)]) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({**BASE, "schedule": {"every": "x"}, "extra": 1}))
    capsys.readouterr()
    assert main(["check-config", "--config", str(bad)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2
    assert sorted(line.split(":")[0] for line in lines) == ["extra", "schedule.every"]


def test_config_path_falls_back_to_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "elsewhere.yaml"
    path.write_text(yaml.safe_dump(BASE))
    (tmp_path / "m.jsonl").touch()
    monkeypatch.setenv("REPUTATION_CONFIG", str(path))
    monkeypatch.chdir(tmp_path)
    assert main(["check-config"]) == 0
    monkeypatch.delenv("REPUTATION_CONFIG")
    assert main(["check-config"]) == 2  # ./config.yaml does not exist here


def test_python_dash_m_runs_the_cli(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(BASE))
    (tmp_path / "m.jsonl").touch()
    done = subprocess.run(
        [sys.executable, "-m", "reputation", "check-config", "--config", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "ok" in done.stdout


@pytest.mark.parametrize("module", ["connectors", "reputation", "reputation.pipeline"])
def test_each_package_imports_on_its_own(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_the_stream_prevalence_reaches_the_scorer(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    scoring = {"threshold": 0.7, "prevalence": 0.6}
    path.write_text(yaml.safe_dump({**BASE, "scoring": scoring}), encoding="utf-8")
    settings = load_config(path).scoring
    assert (settings.threshold, settings.prevalence) == (0.7, 0.6)
