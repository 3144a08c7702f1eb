"""A trainable complaint model for teams with their own labels (scikit-learn).

TF-IDF word (1-2) and character (2-5) n-grams plus the built-in signals, into a logistic
regression. `reputation train` fits and saves one; `scoring.model: PATH` blends it with the
built-in detector. A model file is a pickle: load only files you trained yourself.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import StandardScaler

from reputation.errors import ModelError

FORMAT = "reputation-complaint-model/2"  # /2 records the built-in signals it was trained on
_FAMILY = "reputation-complaint-model/"


class SignalFeatures(BaseEstimator, TransformerMixin):
    """The built-in signals (reputation.signals) as a feature block."""

    def fit(self, texts: Sequence[str], labels: Any = None) -> SignalFeatures:
        """Nothing to learn."""
        return self

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """One row of signal values per text."""
        from reputation.fastvader import FastVader
        from reputation.signals import extract
        from reputation.text import normalize

        vader = FastVader()
        rows = []
        for text in texts:
            clean = normalize(str(text))
            rows.append(extract(clean, *vader.scores_and_words(clean)).values)
        return np.array(rows)


def build_pipeline(c: float = 4.0) -> Pipeline:
    """An untrained model: word and character TF-IDF plus scaled signals, then logistic."""
    features = FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(
                    ngram_range=(1, 2), min_df=2, sublinear_tf=True, strip_accents="unicode"
                ),
            ),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(2, 5),
                    min_df=2,
                    sublinear_tf=True,
                    max_features=200_000,
                ),
            ),
            ("signals", Pipeline([("extract", SignalFeatures()), ("scale", StandardScaler())])),
        ]
    )
    return Pipeline([("features", features), ("classify", LogisticRegression(C=c, max_iter=3000))])


@dataclass
class TrainedModel:
    """A fitted pipeline with what it was trained on."""

    pipeline: Pipeline
    meta: dict[str, Any] = field(default_factory=dict)

    def probabilities(self, texts: Sequence[str]) -> list[float]:
        """Probability of the positive class for each text."""
        return [float(p) for p in self.pipeline.predict_proba([str(t) for t in texts])[:, 1]]


def train(texts: Sequence[str], labels: Sequence[bool], meta: dict[str, Any]) -> TrainedModel:
    """Fit a model on `texts` with boolean `labels`."""
    pipeline = build_pipeline()
    pipeline.fit(list(texts), np.asarray(labels, dtype=bool))
    return TrainedModel(pipeline, {"format": FORMAT, **meta})


def save_model(model: TrainedModel, path: Path) -> None:
    """Write the model to `path` (a joblib pickle) and its metadata beside it as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"format": FORMAT, "signals": _signals(), "pipeline": model.pipeline, "meta": model.meta}
    joblib.dump(data, path)
    path.with_suffix(path.suffix + ".json").write_text(json.dumps(model.meta, indent=2))


def load_model(path: Path) -> TrainedModel:
    """Load a model written by `save_model`; raise ModelError otherwise."""
    try:
        data = joblib.load(path)
    except FileNotFoundError:
        raise ModelError(f"{path}: no such model file") from None
    except Exception as exc:  # noqa: BLE001 - a corrupt pickle raises anything
        raise ModelError(f"{path}: not a readable model ({type(exc).__name__})") from None
    kind = data.get("format") if isinstance(data, dict) else None
    if not isinstance(kind, str) or not kind.startswith(_FAMILY):
        raise ModelError(f"{path}: not a reputation complaint model")
    if kind != FORMAT or data.get("signals") != _signals():
        raise ModelError(
            f"{path}: trained on another version's built-in signals; "
            "train it again with `reputation train`"
        )
    return TrainedModel(data["pipeline"], data.get("meta", {}))


def _signals() -> list[str]:
    from reputation.signals import FEATURES

    return list(FEATURES)
