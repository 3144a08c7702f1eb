"""Fit the built-in complaint detector's weights on the development corpora (ours, not eval).

    python bench/fit_detector.py

Corpora, all written for this project (data/dev/README.md): complaints.csv, adversarial and
balanced; natural.csv and inbox.csv, an ordinary day's care inbox in 40 industries.
complaints.csv over-represents complaint-looking non-complaints by design, so how much it and
its hard negatives count is chosen like the penalty: by cross-validated log loss on the
realistic corpora.

Cross-validation leaves whole industries out, since the detector must work in industries it
has never seen. Each signal's weight is held to the direction it can only plausibly have
(failure words can only raise the probability of a complaint, praise can only lower it); the
data set the sizes. That is a logistic regression fitted with L-BFGS-B under those bounds.
The default threshold is the one with the highest held-out F1 on the realistic corpora among
those that keep their held-out precision >= 0.85. Prints the Python to paste into
reputation/complaint.py on stderr and the figures as JSON on stdout.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from sklearn.model_selection import GroupKFold

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reputation.complaint import NO_EVIDENCE_CEILING  # noqa: E402
from reputation.fastvader import FastVader  # noqa: E402
from reputation.metrics import prf  # noqa: E402
from reputation.signals import FEATURES, LOWERS, RAISES, extract, has_evidence  # noqa: E402
from reputation.text import normalize  # noqa: E402

CORPORA = {
    "complaints": ROOT / "data/dev/complaints.csv",
    "natural": ROOT / "data/dev/natural.csv",
    "inbox": ROOT / "data/dev/inbox.csv",
}
# The corpora with an inbox's proportions: they score hyperparameters and the threshold.
REALISTIC = ("natural", "inbox")
ADVERSARIAL_WEIGHTS = (0.1, 0.25, 0.5, 1.0)
HARD_NEGATIVE_WEIGHTS = (0.25, 0.5, 1.0)
PENALTIES = (0.0003, 0.001, 0.003, 0.01, 0.03)
FOLDS = 7
PRECISION = 0.85  # the cross-validated precision the default threshold must keep


def features(texts: list[str]) -> np.ndarray:
    """The signal vectors of `texts`, as the scorer computes them."""
    vader = FastVader()
    rows = []
    for text in texts:
        clean = normalize(text)
        rows.append(extract(clean, *vader.scores_and_words(clean)).values)
    return np.array(rows)


def fit(z: np.ndarray, y: np.ndarray, weight: np.ndarray, penalty: float) -> np.ndarray:
    """[bias, w...] of a weighted, L2-penalised logistic regression with sign bounds."""
    total = weight.sum()

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        p = 1 / (1 + np.exp(-(z @ params[1:] + params[0])))
        p = np.clip(p, 1e-12, 1 - 1e-12)
        value = -np.sum(weight * (y * np.log(p) + (1 - y) * np.log(1 - p))) / total
        residual = weight * (p - y) / total
        grad = np.concatenate([[residual.sum()], z.T @ residual + 2 * penalty * params[1:]])
        return value + penalty * np.sum(params[1:] ** 2), grad

    bounds = [(None, None)] + [
        (0, None) if name in RAISES else (None, 0) if name in LOWERS else (None, None)
        for name in FEATURES
    ]
    return minimize(loss, np.zeros(len(FEATURES) + 1), jac=True, bounds=bounds, method="L-BFGS-B").x


def predict(params: np.ndarray, z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-(z @ params[1:] + params[0])))


def main() -> None:
    frames = [pd.read_csv(path).assign(corpus=name) for name, path in CORPORA.items()]
    data = pd.concat(frames, ignore_index=True)
    x = features(data["text"].astype(str).tolist())
    y = (data["label"] == "complaint").to_numpy(dtype=float)
    realistic = data["corpus"].isin(REALISTIC).to_numpy()
    hard = (~realistic) & (data["kind"] == "hard_negative").to_numpy()
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    z = (x - mean) / scale
    # Cross-validation leaves whole industries out (all their rows in every corpus), as the
    # detector must work for industries it has never seen. Hyperparameters are chosen by the
    # held-out log loss on the realistic corpora; complaints.csv trains, never scores.
    folds = list(GroupKFold(FOLDS).split(z, y, groups=data["industry"]))
    best = None
    for adversarial in ADVERSARIAL_WEIGHTS:
        for hard_share in HARD_NEGATIVE_WEIGHTS:
            weight = np.where(realistic, 1.0, adversarial * np.where(hard, hard_share, 1.0))
            for penalty in PENALTIES:
                proba = np.zeros(len(y))
                for train, test in folds:
                    proba[test] = predict(fit(z[train], y[train], weight[train], penalty), z[test])
                p = np.clip(proba[realistic], 1e-12, 1 - 1e-12)
                yr = y[realistic]
                loss = -np.mean(yr * np.log(p) + (1 - yr) * np.log(1 - p))
                if best is None or loss < best[0]:
                    best = (loss, adversarial, hard_share, penalty, weight, proba)
    loss, adversarial, hard_share, penalty, weight, proba = best
    # As at run time (reputation/complaint.py), a text with no sign of a complaint is held
    # at NO_EVIDENCE_CEILING, below any threshold chosen here.
    evident = np.array([has_evidence(list(row)) for row in x])
    proba = np.where(evident, proba, np.minimum(proba, NO_EVIDENCE_CEILING))
    # The threshold: the best F1 on the realistic corpora among those that keep their pooled
    # held-out precision >= PRECISION. The share of industries that keep it on their own is
    # reported, not required: with 100-150 rows each it is mostly sampling noise.
    industries = data["industry"].to_numpy()
    sweep = []
    for t in np.arange(NO_EVIDENCE_CEILING + 0.025, 0.91, 0.025):
        per = {
            name: prf(y[data["corpus"] == name].astype(bool), proba[data["corpus"] == name] >= t)
            for name in CORPORA
        }
        per["realistic"] = prf(y[realistic].astype(bool), proba[realistic] >= t)
        held = {
            str(i): prf(
                y[realistic & (industries == i)].astype(bool),
                proba[realistic & (industries == i)] >= t,
            )
            for i in np.unique(industries[realistic])
        }
        per["industries_at_precision"] = round(
            float(np.mean([h["precision"] >= PRECISION for h in held.values()])), 3
        )
        per["by_industry"] = held
        sweep.append((t, per))
    ok = [(t, per) for t, per in sweep if per["realistic"]["precision"] >= PRECISION]
    threshold, at_threshold = max(ok or sweep, key=lambda pair: pair[1]["realistic"]["f1"])
    params = fit(z, y, weight, penalty)
    weights = params[1:] / scale
    bias = float(params[0] - np.sum(params[1:] * mean / scale))
    print("WEIGHTS: dict[str, float] = {", file=sys.stderr)
    for name, value in zip(FEATURES, weights, strict=True):
        print(f'    "{name}": {value:.4f},', file=sys.stderr)
    print("}", file=sys.stderr)
    print(f"BIAS = {bias:.4f}", file=sys.stderr)
    print(f"DEFAULT_THRESHOLD = {threshold:.3f}", file=sys.stderr)
    print(
        json.dumps(
            {
                "rows": {name: int((data["corpus"] == name).sum()) for name in CORPORA},
                "adversarial_weight": adversarial,
                "hard_negative_share": hard_share,
                "penalty": penalty,
                "cv_log_loss": round(float(loss), 4),
                "threshold": round(float(threshold), 3),
                "cv_at_threshold": {k: v for k, v in at_threshold.items() if k != "by_industry"},
                # Each industry scored while held out of the fit, at the default threshold.
                "held_out_by_industry": at_threshold["by_industry"],
            }
        )
    )


if __name__ == "__main__":
    main()
