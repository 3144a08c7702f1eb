"""The built-in complaint detector: a logistic model over reputation.signals, no training
data needed at run time.

WEIGHTS, BIAS and DEFAULT_THRESHOLD come from `python bench/fit_detector.py`: a logistic
regression whose weights keep each signal's plausible direction, fitted on data/dev (two
corpora written for this project, data/dev/README.md), its hyperparameters and threshold
chosen by cross-validation on the realistic one. The labeled airline tweets only measure it
(bench/detector.py); nothing here was fitted on them.
"""

from __future__ import annotations

import math
from operator import mul

from reputation.signals import FEATURES, Signals

# From bench/fit_detector.py; raw-scale weights, one per feature in FEATURES order.
WEIGHTS: dict[str, float] = {
    "vader_compound": 0.0000,
    "vader_neg": 1.9804,
    "vader_pos": -5.1684,
    "failure": 0.9952,
    "waiting": 0.5679,
    "duration": 0.4347,
    "money": 0.8521,
    "service": 0.0602,
    "strong_negative": 0.6741,
    "demand": 1.4972,
    "question": -1.5378,
    "sarcasm": 0.9320,
    "negated_praise": 2.6915,
    "praise": -0.1474,
    "inquiry": -1.0911,
    "negative_emoji": 0.4268,
    "positive_emoji": -1.7335,
    "negative_hashtag": 1.7998,
    "repeat": 1.1506,
    "nobody": 2.0383,
    "escalation": 0.6153,
    "shouting": 0.0000,
    "problem_and_praise": -0.5097,
    "problem_question": 0.6381,
    "inquiry_only": -0.6333,
}
BIAS = 0.4016
# The default `scoring.threshold`: the best F1 at precision >= 0.85 in cross-validation on
# data/dev/natural.csv (never on evaluation data).
DEFAULT_THRESHOLD = 0.625

_WEIGHT_VECTOR = [WEIGHTS[name] for name in FEATURES]
_SHOWN = (
    ("waiting", "waiting"),
    ("duration", "waiting"),
    ("failure", "problem"),
    ("money", "money"),
    ("sarcasm", "sarcasm"),
    ("negated_praise", "negated praise"),
    ("demand", "demand to the brand"),
    ("repeat", "repeated"),
    ("negative_hashtag", "hashtag"),
    ("negative_emoji", "emoji"),
)


def probability(signals: Signals) -> float:
    """Probability in 0..1 that the text is a complaint that needs an answer."""
    z = BIAS + sum(map(mul, _WEIGHT_VECTOR, signals.values))
    if z < -30:
        return 0.0
    return 1.0 / (1.0 + math.exp(-z))


def reasons(signals: Signals, complaint: float, threshold: float) -> list[str]:
    """Readable reasons for a complaint: its probability and the words that show it."""
    if complaint < threshold:
        return []
    grouped: dict[str, list[str]] = {}
    for signal, label in _SHOWN:
        for word in signals.evidence.get(signal, ()):
            if word not in grouped.setdefault(label, []):
                grouped[label].append(word)
    details = [f"{label}: {', '.join(words[:3])}" for label, words in grouped.items() if words]
    return [f"complaint ({complaint:.0%})", *details[:3]]
