"""Measuring the complaint detector against labels, beside the VADER baseline."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from reputation.features import VADER_NEGATIVE


def prf(
    labels: Sequence[bool] | np.ndarray, predicted: Sequence[bool] | np.ndarray
) -> dict[str, float]:
    """Precision, recall and F1 of `predicted` against `labels` (True = positive class)."""
    y = np.asarray(labels, dtype=bool)
    p = np.asarray(predicted, dtype=bool)
    tp = int((y & p).sum())
    precision = tp / int(p.sum()) if p.any() else 0.0
    recall = tp / int(y.sum()) if y.any() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def measure_detector(
    batches: Iterable[tuple[Sequence[str], Sequence[bool]]], scorer: Any, threshold: float
) -> dict[str, Any]:
    """Score every text (in batches) and compare the detector at `threshold` and VADER
    (compound <= -0.05 says "positive class") with the labels."""
    labels: list[bool] = []
    detected: list[bool] = []
    vader: list[bool] = []
    for texts, truth in batches:
        for analysis in scorer.analyse(list(texts)):
            detected.append(analysis.complaint >= threshold)
            vader.append(analysis.sentiment <= VADER_NEGATIVE)
        labels.extend(bool(t) for t in truth)
    return {
        "n": len(labels),
        "threshold": threshold,
        "detector": prf(labels, detected),
        "vader": prf(labels, vader),
    }


def cross_validate(
    texts: Sequence[str], labels: Sequence[bool], folds: int,
    on_fold: Callable[[int, int], None] | None = None,
) -> dict[str, float]:  # fmt: skip
    """Pooled precision, recall and F1 at 0.5 of the trainable model in k-fold CV;
    `on_fold(k, folds)` is called as fold k (from 1) starts."""
    from sklearn.model_selection import StratifiedKFold

    from reputation.classifier import build_pipeline

    x = np.asarray(texts, dtype=object)
    y = np.asarray(labels, dtype=bool)
    predicted = np.zeros(len(y), dtype=bool)
    splits = StratifiedKFold(folds, shuffle=True, random_state=0).split(x, y)
    for fold, (train, test) in enumerate(splits, 1):
        if on_fold is not None:
            on_fold(fold, folds)
        model = build_pipeline().fit(list(x[train]), y[train])
        predicted[test] = model.predict_proba(list(x[test]))[:, 1] >= 0.5
    return prf(y, predicted)
