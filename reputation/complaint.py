"""The built-in complaint detector: a logistic model over reputation.signals, no training
data needed at run time.

WEIGHTS, BIAS and DEFAULT_THRESHOLD come from `python bench/fit_detector.py`: a logistic
regression whose weights keep each signal's plausible direction, fitted on data/dev (three
corpora written for this project, data/dev/README.md), its hyperparameters and threshold
chosen by cross-validation that holds whole industries out. The labeled airline tweets
measure it (bench/detector.py); no weight or threshold was fitted on them.
"""

from __future__ import annotations

import math
from operator import mul

from reputation.signals import FEATURES, Signals, has_evidence

# From bench/fit_detector.py; raw-scale weights, one per feature in FEATURES order.
WEIGHTS: dict[str, float] = {
    "vader_compound": 0.0000,
    "vader_neg": 1.6318,
    "vader_pos": -3.7684,
    "failure": 1.1996,
    "trouble": 2.5716,
    "waiting": 0.5751,
    "duration": 0.3571,
    "money": 1.0560,
    "service": 0.0943,
    "strong_negative": 0.0484,
    "demand": 2.9630,
    "question": -2.0388,
    "sarcasm": 1.8712,
    "negated_praise": 4.4353,
    "praise": -0.8118,
    "inquiry": -1.7756,
    "negative_emoji": 0.6575,
    "positive_emoji": -0.6347,
    "negative_hashtag": 3.8681,
    "repeat": 0.9692,
    "nobody": 1.7637,
    "escalation": 1.5737,
    "shouting": 6.9191,
    "problem_and_praise": -0.4296,
    "praise_then_problem": 0.5348,
    "problem_question": 0.9126,
    "inquiry_only": -0.0904,
    "scare_quote": 2.3094,
    "mismatch": 0.7008,
    "resolved": -1.6734,
    "retraction": -2.6619,
    "negated_problem": -2.2731,
    "low_rating": 5.7301,
    "high_rating": -2.9242,
    "laughing": -3.5331,
    "broadcast": -3.2883,
    "hypothetical": -0.5552,
    "request": 0.4478,
}
BIAS = 0.4225
# The default `scoring.threshold`: the best held-out F1 at held-out precision >= 0.85 on
# data/dev's realistic corpora, whole industries held out (never on evaluation data).
DEFAULT_THRESHOLD = 0.550

# With no sign of a complaint (no signal, no negative sentiment) the detector claims no more
# than even odds: it could not say why, and how many such posts are complaints in data/dev is
# a choice made when writing it, not a measurement. Thresholds sit above this.
NO_EVIDENCE_CEILING = 0.5

_WEIGHT_VECTOR = [WEIGHTS[name] for name in FEATURES]
_SHOWN = (
    ("waiting", "waiting"),
    ("duration", "waiting"),
    ("failure", "problem"),
    ("trouble", "problem"),
    ("money", "money"),
    ("sarcasm", "sarcasm"),
    ("negated_praise", "negated praise"),
    ("demand", "demand to the brand"),
    ("repeat", "repeated"),
    ("negative_hashtag", "hashtag"),
    ("negative_emoji", "emoji"),
    ("strong_negative", "strong words"),
    ("scare_quote", "in quotes"),
    ("nobody", "nobody, nothing"),
)
# Signals without words to quote, shown by name.
_FLAGGED = (
    ("praise_then_problem", "sarcasm"),
    ("mismatch", "not as promised"),
    ("low_rating", "low rating"),
    ("shouting", "in capitals"),
)


def probability(signals: Signals) -> float:
    """Probability in 0..1 that the text is a complaint that needs an answer."""
    z = BIAS + sum(map(mul, _WEIGHT_VECTOR, signals.values))
    if z < -30:
        return 0.0
    p = 1.0 / (1.0 + math.exp(-z))
    if p > NO_EVIDENCE_CEILING and not has_evidence(signals.values):
        return NO_EVIDENCE_CEILING
    return p


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
    details += [label for signal, label in _FLAGGED if signals[signal] > 0]
    return [f"complaint ({complaint:.0%})", *details[:3]]
