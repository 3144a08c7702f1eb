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
    "vader_neg": 1.1786,
    "vader_pos": -4.1330,
    "failure": 1.2378,
    "trouble": 2.7458,
    "waiting": 0.5873,
    "duration": 0.3839,
    "money": 1.0576,
    "service": 0.1437,
    "strong_negative": 0.2893,
    "demand": 2.9877,
    "question": -2.0172,
    "sarcasm": 2.7609,
    "negated_praise": 4.6137,
    "praise": -0.9690,
    "inquiry": -1.8604,
    "negative_emoji": 1.4606,
    "positive_emoji": -0.6997,
    "negative_hashtag": 3.7429,
    "repeat": 1.0108,
    "nobody": 1.8641,
    "escalation": 1.6015,
    "shouting": 6.0164,
    "problem_and_praise": -0.4902,
    "praise_then_problem": 0.9732,
    "problem_question": 0.9522,
    "inquiry_only": -0.0145,
    "scare_quote": 2.1440,
    "mismatch": 0.7607,
    "resolved": -1.6368,
    "retraction": -2.8606,
    "negated_problem": -2.1525,
    "low_rating": 5.7446,
    "high_rating": -2.8348,
    "laughing": -3.5463,
    "broadcast": -4.2776,
    "hypothetical": -0.5365,
    "request": 0.5532,
}
BIAS = 0.3927
# The default `scoring.threshold`: the best held-out F1 at held-out precision >= 0.85 on
# data/dev's realistic corpora, whole industries held out (never on evaluation data).
DEFAULT_THRESHOLD = 0.525

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
_SHOWN_RANK = {signal: rank for rank, (signal, _) in enumerate(_SHOWN)}
_SHOWN_LABEL = dict(_SHOWN)
# Signals without words to quote, shown by name.
_FLAGGED = tuple(
    (FEATURES.index(signal), label)
    for signal, label in (
        ("praise_then_problem", "sarcasm"),
        ("mismatch", "not as promised"),
        ("low_rating", "low rating"),
        ("shouting", "in capitals"),
    )
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
    # Words of an escalation phrase ("never again") are shown as the escalation, not again.
    escalated = {w for p in signals.evidence.get("escalation", ()) if " " in p for w in p.split()}
    shown = [s for s in signals.evidence if s in _SHOWN_RANK]  # usually one to three
    for signal in sorted(shown, key=_SHOWN_RANK.__getitem__):
        label = _SHOWN_LABEL[signal]
        for word in signals.evidence[signal]:
            if word in escalated:
                continue
            if word not in grouped.setdefault(label, []):
                grouped[label].append(word)
    details = [f"{label}: {', '.join(words[:3])}" for label, words in grouped.items() if words]
    values = signals.values
    details += [label for index, label in _FLAGGED if values[index] > 0]
    return [f"complaint ({complaint:.0%})", *details[:3]]
