"""The detector's feature vector: its signals in a fixed order, which way each may point,
and which of them are evidence a person can be shown. Shared by reputation.signals (which
fills the vector) and reputation.speech (which reads who a post speaks to).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# VADER's own cut-off (its authors' recommendation): compound <= -0.05 is negative sentiment,
# >= 0.05 positive. Written here once; the detector, the scorer and the evaluation read it.
VADER_NEGATIVE = -0.05
VADER_POSITIVE = 0.05

FEATURES = (
    "vader_compound",
    "vader_neg",
    "vader_pos",
    "failure",
    "trouble",
    "waiting",
    "duration",
    "money",
    "service",
    "strong_negative",
    "demand",
    "question",
    "sarcasm",
    "negated_praise",
    "praise",
    "inquiry",
    "negative_emoji",
    "positive_emoji",
    "negative_hashtag",
    "repeat",
    "nobody",
    "escalation",
    "shouting",
    "problem_and_praise",
    "praise_then_problem",
    "problem_question",
    "inquiry_only",
    "scare_quote",
    "mismatch",
    "resolved",
    "retraction",
    "negated_problem",
    "low_rating",
    "high_rating",
    "laughing",
    "broadcast",
    "hypothetical",
    "request",
    "aimed",
    "unaimed",
    "rhetorical",
    "stated_problem_question",
    "accusation",
)


@dataclass(slots=True)
class Signals:
    """The feature vector (FEATURES order) and the words that produced each signal."""

    values: list[float]
    evidence: dict[str, list[str]] = field(default_factory=dict)
    tokens: list[str] = field(default_factory=list)

    def __getitem__(self, name: str) -> float:
        return self.values[INDEX[name]]


INDEX = {name: i for i, name in enumerate(FEATURES)}


# The way each signal can plausibly point: bench/fit_detector.py holds the weights of RAISES
# at >= 0 and of LOWERS at <= 0 (the rest are free); the data set the sizes.
RAISES = frozenset(
    {
        "failure",
        "trouble",
        "waiting",
        "duration",
        "money",
        "strong_negative",
        "demand",
        "sarcasm",
        "negated_praise",
        "negative_emoji",
        "negative_hashtag",
        "repeat",
        "nobody",
        "escalation",
        "scare_quote",
        "mismatch",
        "praise_then_problem",
        "low_rating",
        "shouting",
        "problem_question",
        "vader_neg",
        "service",
        "aimed",
        "rhetorical",
        "stated_problem_question",
        "accusation",
    }
)
LOWERS = frozenset(
    {
        "resolved",
        "retraction",
        "negated_problem",
        "high_rating",
        "broadcast",
        "hypothetical",
        "praise",
        "inquiry",
        "positive_emoji",
        "inquiry_only",
        "vader_pos",
        "vader_compound",
        "unaimed",
    }
)
# Signs of a complaint a person can be shown: the raising signals, except VADER's negative
# share (negative sentiment is checked on the compound), service words (context, no sign),
# what only qualifies a problem (a question about it, its target: the problem itself counts)
# and a rhetorical question on its own. A text with none of them gives the detector nothing
# to say why it would be a complaint.
_EVIDENCE = tuple(
    INDEX[n]
    for n in FEATURES
    if n in RAISES
    and n
    not in {
        "vader_neg",
        "service",
        "problem_question",
        "stated_problem_question",
        "aimed",
        "rhetorical",
    }
)


def has_evidence(values: list[float]) -> bool:
    """Whether a feature vector shows any sign of a complaint: a signal or negative sentiment."""
    return values[0] <= VADER_NEGATIVE or any(map(values.__getitem__, _EVIDENCE))


def hit(values: list[float], evidence: dict[str, list[str]], signal: str, word: str) -> None:
    values[INDEX[signal]] += 1.0
    evidence.setdefault(signal, []).append(word)
