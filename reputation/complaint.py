"""The built-in complaint detector: a logistic model over reputation.signals, no training
data needed at run time.

WEIGHTS, BIAS and DEFAULT_THRESHOLD come from `python bench/fit_detector.py`: a logistic
regression whose weights keep each signal's plausible direction, fitted on data/dev (four
corpora written for this project, data/dev/README.md) weighted to DEFAULT_PREVALENCE, its
hyperparameters and threshold chosen by cross-validation that holds whole industries out.
The labeled airline tweets measure it (bench/detector.py); no weight, prior or threshold was
fitted on them.
"""

from __future__ import annotations

import math
from operator import mul

from reputation.features import FEATURES, Signals, has_evidence

# From bench/fit_detector.py; raw-scale weights, one per feature in FEATURES order.
WEIGHTS: dict[str, float] = {
    "vader_compound": 0.0000,
    "vader_neg": 0.0000,
    "vader_pos": -4.2884,
    "failure": 0.8725,
    "trouble": 1.9088,
    "waiting": 0.3961,
    "duration": 0.2416,
    "money": 0.9131,
    "service": 0.2414,
    "strong_negative": 0.0000,
    "demand": 2.5153,
    "question": -1.7221,
    "sarcasm": 2.7890,
    "negated_praise": 4.2897,
    "praise": -0.7099,
    "inquiry": -1.7049,
    "negative_emoji": 1.1448,
    "positive_emoji": -0.6399,
    "negative_hashtag": 4.4081,
    "repeat": 0.7922,
    "nobody": 1.5355,
    "escalation": 1.2449,
    "shouting": 0.9705,
    "problem_and_praise": -0.7292,
    "praise_then_problem": 0.9225,
    "problem_question": 0.6916,
    "inquiry_only": 0.0000,
    "scare_quote": 2.1639,
    "mismatch": 0.9143,
    "resolved": -1.8272,
    "retraction": -2.7657,
    "negated_problem": -1.9525,
    "low_rating": 7.1342,
    "high_rating": -2.1543,
    "laughing": -3.3963,
    "broadcast": -3.8883,
    "hypothetical": -0.4244,
    "request": 0.4683,
    "aimed": 0.7612,
    "unaimed": -2.6482,
    "rhetorical": 2.0079,
    "stated_problem_question": 0.0000,
    "accusation": 1.2415,
}
BIAS = -1.3033
# The share of complaints among a brand's mentions that BIAS assumes: one in four
# (docs/scoring.md). `scoring.prevalence` shifts the prior for a stream that differs.
DEFAULT_PREVALENCE = 0.25
# The default `scoring.threshold`: the best held-out F1 at held-out precision >= 0.85 on
# data/dev's realistic corpora, whole industries held out (never on evaluation data), among
# thresholds above the prevalence: a complaint is likelier one than the average mention.
DEFAULT_THRESHOLD = 0.275

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


def prior_shift(prevalence: float) -> float:
    """The logit shift that moves the prior from DEFAULT_PREVALENCE to `prevalence`."""
    return _logit(prevalence) - _logit(DEFAULT_PREVALENCE)


def probability(signals: Signals, prevalence: float = DEFAULT_PREVALENCE) -> float:
    """Probability in 0..1 that the text is a complaint that needs an answer, on a stream
    where `prevalence` of the mentions are complaints. With no sign of a complaint (no
    signal, no negative sentiment) it is never above `prevalence`: the detector could not
    say why, so it claims no more than the average mention."""
    z = BIAS + sum(map(mul, _WEIGHT_VECTOR, signals.values))
    if prevalence != DEFAULT_PREVALENCE:
        z += prior_shift(prevalence)
    if z < -30:
        return 0.0
    p = 1.0 / (1.0 + math.exp(-z))
    if p > prevalence and not has_evidence(signals.values):
        return prevalence
    return p


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


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
