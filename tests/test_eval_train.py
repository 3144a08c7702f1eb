"""`reputation eval` and `reputation train` on labeled CSVs, and the `scoring` config."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import joblib
import pandas as pd
import pytest
import yaml
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from reputation.classifier import ModelError, load_model, save_model, train
from reputation.cli import main
from reputation.config import ConfigError, load_config
from reputation.metrics import prf
from reputation.scoring import Scorer, ScoringSettings
from tests.conftest import REPO


@pytest.fixture
def labels(tmp_path: Path) -> Path:
    """300 rows of the development corpus, renamed columns, as a user's labeled CSV."""
    rows = pd.read_csv(REPO / "data/dev/natural.csv").sample(300, random_state=1)
    path = tmp_path / "labels.csv"
    rows.rename(columns={"text": "post", "label": "tag"})[["post", "tag"]].to_csv(path, index=False)
    return path


def label_args(labels: Path) -> list[str]:
    """The labeled CSV and its columns, as every eval and train call here names them."""
    return [
        str(labels),
        "--text-column",
        "post",
        "--label-column",
        "tag",
        "--positive",
        "complaint",
    ]


def config_with(workspace: Callable, **scoring: object) -> Path:
    return workspace([], scoring=scoring) if scoring else workspace([])


def eval_json(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict:
    capsys.readouterr()
    assert main(["eval", *args, "--json"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    return json.loads(out)


def test_eval_reports_the_detector_at_the_configured_threshold_beside_vader(
    labels: Path, workspace: Callable, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_with(workspace, threshold=0.6)
    result = eval_json(
        [
            *label_args(labels),
            "--config",
            str(config),
        ],
        capsys,
    )
    frame = pd.read_csv(labels)
    truth = (frame["tag"] == "complaint").tolist()
    analyses = Scorer().analyse(frame["post"].tolist())
    vader = SentimentIntensityAnalyzer()
    assert set(result) == {"n", "threshold", "detector", "vader"}
    assert (result["n"], result["threshold"]) == (300, 0.6)
    assert result["detector"] == prf(truth, [a.complaint >= 0.6 for a in analyses])
    assert result["vader"] == prf(
        truth, [vader.polarity_scores(t)["compound"] <= -0.05 for t in frame["post"]]
    )
    assert result["detector"]["f1"] > result["vader"]["f1"]


def test_eval_prints_a_table_without_json(
    labels: Path, workspace: Callable, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        *label_args(labels),
        "--config",
        str(config_with(workspace)),
    ]
    assert main(["eval", *args]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("300 rows, positive class 'complaint', threshold ")
    assert out[2].startswith("detector") and out[3].startswith("vader")


def test_train_saves_a_model_that_eval_and_the_scorer_use(
    labels: Path, tmp_path: Path, workspace: Callable, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "models" / "complaints.joblib"
    assert (
        main(
            [
                "train",
                str(labels),
                "--text-column",
                "post",
                "--label-column",
                "tag",
                "--positive",
                "complaint",
                "--out",
                str(model),
                "--cv",
                "3",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "trained on 300 rows" in out and "3-fold CV: precision" in out
    meta = json.loads(model.with_suffix(".joblib.json").read_text())
    assert (meta["rows"], meta["positive"], meta["text_column"]) == (300, "complaint", "post")
    assert set(meta["cv"]) == {"precision", "recall", "f1"}
    config = config_with(workspace)
    result = eval_json(
        [
            *label_args(labels),
            "--config",
            str(config),
            "--model",
            str(model),
        ],
        capsys,
    )
    frame = pd.read_csv(labels)
    blended = Scorer(ScoringSettings(model=model)).analyse(frame["post"].tolist())
    truth = (frame["tag"] == "complaint").tolist()
    threshold = load_config(config).scoring.threshold
    assert result["detector"] == prf(truth, [a.complaint >= threshold for a in blended])
    configured = load_config(workspace([], scoring={"model": str(model)}))
    assert configured.scoring.model == model


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--text-column", "body", "--label-column", "tag"], "no column 'body'"),
        (
            ["--text-column", "post", "--label-column", "tag", "--positive", "nope"],
            "no row has 'nope' in column 'tag'",
        ),
    ],
)
def test_train_names_what_is_wrong(
    labels: Path,
    tmp_path: Path,
    args: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if "--positive" not in args:
        args = [*args, "--positive", "complaint"]
    code = main(["train", str(labels), *args, "--out", str(tmp_path / "m.joblib")])
    assert code == 1
    assert message in capsys.readouterr().err


def test_eval_refuses_a_file_that_is_not_a_model(
    labels: Path, tmp_path: Path, workspace: Callable, capsys: pytest.CaptureFixture[str]
) -> None:
    bogus = tmp_path / "bogus.joblib"
    bogus.write_bytes(b"not a pickle")
    code = main(
        [
            "eval",
            str(labels),
            "--text-column",
            "post",
            "--label-column",
            "tag",
            "--positive",
            "complaint",
            "--model",
            str(bogus),
            "--config",
            str(config_with(workspace)),
        ]
    )
    assert code == 2
    assert "not a readable model" in capsys.readouterr().err


def test_scoring_config_is_checked(workspace: Callable, tmp_path: Path) -> None:
    path = workspace(
        [], scoring={"threshold": 1.5, "model": str(tmp_path / "missing.joblib"), "weight": 1}
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    errors = "\n".join(caught.value.errors)
    assert "scoring.threshold: 1.5 is above the maximum 1" in errors
    assert "scoring.model: " in errors and "is not a file" in errors
    assert "scoring.weight: unknown key" in errors


def test_the_default_threshold_comes_from_the_detector(workspace: Callable) -> None:
    from reputation.complaint import DEFAULT_THRESHOLD

    assert load_config(workspace([])).scoring.threshold == DEFAULT_THRESHOLD
    raw = yaml.safe_load((REPO / "config.yaml").read_text())
    assert "scoring" not in raw or "threshold" not in (raw["scoring"] or {})


@pytest.mark.parametrize("stale", [{"format": "reputation-complaint-model/1"}, {"signals": ["x"]}])
def test_a_model_trained_on_other_signals_is_refused_by_name(
    labels: Path, tmp_path: Path, stale: dict
) -> None:
    frame = pd.read_csv(labels)
    model = train(frame["post"].tolist(), (frame["tag"] == "complaint").tolist(), {})
    path = tmp_path / "old.joblib"
    save_model(model, path)
    joblib.dump({**joblib.load(path), **stale}, path)
    with pytest.raises(ModelError, match="another version's built-in signals; train it again"):
        load_model(path)
