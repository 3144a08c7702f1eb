"""Built-in complaint signals: what a sentiment lexicon cannot see, read in a few passes.

`extract` turns a normalized text into a fixed-order feature vector (FEATURES) plus the words
behind each signal, for reasons. The word lists are data in reputation.lexicon (escalation
words in reputation.categories); this module builds lookup tables from them once and reads a
text in passes: its words (one lookup per token), its marks (hashtags, emoji, quotes,
ratings, amounts, durations), its capitals, and the interactions a linear model cannot form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from reputation import lexicon
from reputation.categories import ESCALATION_KIND

# VADER's own cut-off (its authors' recommendation): compound <= -0.05 is negative sentiment,
# >= 0.05 positive. Written here once; the scorer, the evaluation and the rules' docs use it.
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
)


@dataclass
class Signals:
    """The feature vector (FEATURES order) and the words that produced each signal."""

    values: list[float]
    evidence: dict[str, list[str]] = field(default_factory=dict)
    tokens: list[str] = field(default_factory=list)

    def __getitem__(self, name: str) -> float:
        return self.values[_INDEX[name]]


_INDEX = {name: i for i, name in enumerate(FEATURES)}


def _unigrams() -> dict[str, str]:
    """word -> signal; a word listed under two signals counts for the later one."""
    table = {w: signal for signal, text in lexicon.WORDS.items() for w in text.split()}
    for word in (*lexicon.EXPECTATIONS, *lexicon.CONTRASTS):
        table.pop(word, None)  # these count only as expectations and contrasts
    return table


_UNIGRAMS = _unigrams()
# Multi-word phrases (as token tuples) -> signal; escalation phrases among them.
_PHRASES: dict[tuple[str, ...], str] = {
    tuple(line.split()): signal for signal, lines in lexicon.PHRASES.items() for line in lines
}
_PHRASES.update({tuple(item.split()): "escalation" for item in ESCALATION_KIND if " " in item})
_ESCALATION_WORDS = frozenset(k for k in ESCALATION_KIND if " " not in k)
# Problems that can be said not to have happened ("never late", "no issues").
_NEGATABLE_PROBLEMS = frozenset(
    w
    for w, s in _UNIGRAMS.items()
    if s in ("failure", "trouble") and w not in lexicon.NOT_NEGATABLE
) | frozenset(lexicon.ABSENT_PROBLEMS)
_NEGATORS = frozenset(lexicon.NEGATORS)
_UNMET = frozenset(lexicon.UNMET)
_PRAISE_NEGATABLE = frozenset(lexicon.PRAISE_NEGATABLE)
_INTENSIFIERS = frozenset(lexicon.INTENSIFIERS)
_NEG_EMOJI = frozenset(lexicon.NEGATIVE_EMOJI)
_POS_EMOJI = frozenset(lexicon.POSITIVE_EMOJI)
_LAUGH_EMOJI = frozenset(lexicon.LAUGHING_EMOJI)
_PROMO_HASHTAG = re.compile("|".join(lexicon.PROMO_HASHTAG_PARTS))
_NEG_HASHTAG = re.compile("|".join(lexicon.NEGATIVE_HASHTAG_PARTS))

# Counts above these caps say nothing more.
_CAPPED = [
    (_INDEX[n], 1.0 if n == "question" else 3.0)
    for n in (
        "failure",
        "trouble",
        "waiting",
        "money",
        "service",
        "strong_negative",
        "demand",
        "question",
    )
]
# Only these signals are ever shown as reasons (complaint.py) or read back (categories.py).
_KEEP_EVIDENCE = frozenset(
    _INDEX[n]
    for n in (
        "waiting",
        "duration",
        "failure",
        "trouble",
        "money",
        "strong_negative",
        "nobody",
        "sarcasm",
        "negated_praise",
        "demand",
        "repeat",
        "negative_hashtag",
        "negative_emoji",
        "escalation",
    )
)
_PROBLEM = [
    _INDEX[n] for n in ("failure", "trouble", "waiting", "duration", "strong_negative", "money")
]
# "thanks for the 3 hour delay": praise shortly followed by one of these (money is not one:
# "thanks for the quick refund").
_SARCASTIC_AFTER = frozenset(
    _INDEX[n] for n in ("failure", "trouble", "waiting", "strong_negative")
)
_PRAISE = _INDEX["praise"]
_EXPECT, _CONTRAST = -2, -3  # codes in _ACTIONS for expectation and contrast words
(
    _I_QUESTION,
    _I_BROADCAST,
    _I_LAUGHING,
    _I_LOW_RATING,
    _I_HIGH_RATING,
    _I_MISMATCH,
    _I_SHOUTING,
    _I_PRAISE_THEN_PROBLEM,
    _I_PROBLEM_AND_PRAISE,
    _I_PROBLEM_QUESTION,
    _I_INQUIRY,
    _I_INQUIRY_ONLY,
    _I_NEGATED_PROBLEM,
) = (
    _INDEX[n]
    for n in (
        "question",
        "broadcast",
        "laughing",
        "low_rating",
        "high_rating",
        "mismatch",
        "shouting",
        "praise_then_problem",
        "problem_and_praise",
        "problem_question",
        "inquiry",
        "inquiry_only",
        "negated_problem",
    )
)
# The lookahead (first letters of the alternatives) halves the time the regex takes.
_DURATION = re.compile(
    r"\b(?=[\dacefmnost])(\d+(?:[.,]\d+)?\+?"
    r"|an|one|two|three|four|five|six|seven|eight|nine|ten|twelve"
    r"|couple of|few|several|many)\s*(hours?|hrs?|h|minutes?|mins?|days?|weeks?|months?)\b"
)
_HASHTAG = re.compile(r"#\w+")
_HANDLE = re.compile(r"@(\w+)")
# "premium" sofa, the “fixed” tariff: a few words in quotes, usually scare quotes.
_SCARE_QUOTE = re.compile(r"[\"“]([^\"“”]{2,30})[\"”]")
_AMOUNT = re.compile(r"[£$€]\s?\d+(?:[.,]\d+)*")
# Review ratings written in the text: "★★☆☆☆", "2 stars", "1/5", "5 out of 5".
_STARS = re.compile(r"(★+)|\b([0-5])(?:\s?(?:stars?|\*)|\s?/\s?5\b|\s?out of 5\b)")
_EMOJI = re.compile("[" + "".join(sorted(_NEG_EMOJI | _POS_EMOJI | _LAUGH_EMOJI)) + "]")


def _actions() -> dict[str, tuple[int, bool, frozenset[str] | None]]:
    """token -> (feature index it counts toward, or -1 / _EXPECT / _CONTRAST, is a negator,
    the second words of the phrases it starts)."""
    seconds: dict[str, set[str]] = {}
    for gram in _PHRASES:
        seconds.setdefault(gram[0], set()).add(gram[1])
    starts = {first: frozenset(second) for first, second in seconds.items()}
    feature_of = {
        **{w: _INDEX[s] for w, s in _UNIGRAMS.items()},
        **{w: _INDEX["escalation"] for w in _ESCALATION_WORDS},
        **{e: _INDEX["negative_emoji"] for e in _NEG_EMOJI},
        **{e: _INDEX["positive_emoji"] for e in _POS_EMOJI},
        "?": _INDEX["question"],
        **dict.fromkeys(lexicon.EXPECTATIONS, _EXPECT),
        **dict.fromkeys(lexicon.CONTRASTS, _CONTRAST),
    }
    return {
        token: (feature_of.get(token, -1), token in _NEGATORS, starts.get(token))
        for token in set(feature_of) | set(starts) | _NEGATORS
    }


_ACTIONS = _actions()


def extract(text: str, vader: dict[str, float], words: list[str], shouted: int = 0) -> Signals:
    """Signals of `text` (normalized) from FastVader.scores_and_words: its scores, its
    lower-cased words and the number of words of 4+ letters written in capitals."""
    values = [0.0] * len(FEATURES)
    values[0], values[1], values[2] = vader["compound"], vader["neg"], vader["pos"]
    evidence: dict[str, list[str]] = {}
    tokens = _tokens(text, words)
    _read_words(tokens, values, evidence)
    lower = text.lower()
    _read_marks(text, lower, values, evidence)
    _read_numbers(text, lower, values, evidence)
    if shouted and tokens:
        values[_I_SHOUTING] = shouted / len(tokens)
    for index, cap in _CAPPED:
        if values[index] > cap:
            values[index] = cap
    _interactions(values)
    return Signals(values, evidence, tokens)


def _tokens(text: str, words: list[str]) -> list[str]:
    """VADER's lower-cased words with straight apostrophes, handles after the first word
    dropped ("thanks @brand for nothing" is "thanks for nothing")."""
    tokens = [w.replace("’", "'") for w in words] if "’" in text else words
    if text.find("@", 1) > 0:
        handles = {h.lower() for h in _HANDLE.findall(text)}
        tokens = [t for t in tokens if t.split("'")[0] not in handles]
    return tokens


def _read_words(tokens: list[str], values: list[float], evidence: dict[str, list[str]]) -> None:
    """The word pass: one lookup per token for its signal, negations and phrases."""
    count = len(tokens)
    praised = -1  # the last praise word; a problem soon after it reads as sarcasm
    expected = contrasted = False
    for i, action in enumerate(map(_ACTIONS.get, tokens)):
        if action is None:
            continue
        feature, negator, starts = action
        if feature >= 0:
            values[feature] += 1.0
            if feature in _KEEP_EVIDENCE:
                evidence.setdefault(FEATURES[feature], []).append(tokens[i])
            if feature == _PRAISE:
                praised = i
            elif praised >= 0 and i - praised <= 5 and feature in _SARCASTIC_AFTER:
                values[_I_PRAISE_THEN_PROBLEM] = 1.0
        elif feature == _EXPECT:
            expected = True
        elif feature == _CONTRAST:
            contrasted, praised = True, -1  # "lovely staff but a cold room" is a mixed review
        if negator:
            _after_negator(tokens, i, values, evidence)
        if starts and i + 1 < count and tokens[i + 1] in starts:
            _phrases_at(tokens, i, values, evidence)
    if expected and contrasted:
        values[_I_MISMATCH] = 1.0


def _read_marks(text: str, lower: str, values: list[float], evidence: dict[str, list[str]]) -> None:
    """Question marks, hashtags, emoji, scare quotes and retweets, each only when its marker
    is in the text (most posts have none)."""
    if "?" in text:
        values[_I_QUESTION] = 1.0
    if "#" in text:
        for tag in _HASHTAG.findall(lower):
            if _NEG_HASHTAG.search(tag):
                _hit(values, evidence, "negative_hashtag", tag)
            elif _PROMO_HASHTAG.search(tag):
                values[_I_BROADCAST] = 1.0
    if not text.isascii():  # VADER spelled emoji out as words; count them from the text
        for char in _EMOJI.findall(text):
            if char in _LAUGH_EMOJI:
                values[_I_LAUGHING] += 1.0
            else:
                kind = "negative_emoji" if char in _NEG_EMOJI else "positive_emoji"
                _hit(values, evidence, kind, char)
    if '"' in text or "“" in text:
        for quoted in _SCARE_QUOTE.findall(text):
            _hit(values, evidence, "scare_quote", quoted)
    if text.startswith("RT @"):
        values[_I_BROADCAST] = 1.0


def _read_numbers(
    text: str, lower: str, values: list[float], evidence: dict[str, list[str]]
) -> None:
    """Amounts of money, ratings ("1/5", "★★☆☆☆") and durations ("2 hours")."""
    if "£" in text or "$" in text or "€" in text:
        for amount in _AMOUNT.findall(text):
            _hit(values, evidence, "money", amount)
    if "★" in text or "/" in text or "*" in text or "star" in lower or "out of" in lower:
        for filled, digit in _STARS.findall(lower):
            stars = len(filled) if filled else int(digit)
            if stars <= 2:
                values[_I_LOW_RATING] = 1.0
            elif stars >= 4:
                values[_I_HIGH_RATING] = 1.0
    for number, unit in _DURATION.findall(lower):
        _hit(values, evidence, "duration", f"{number} {unit}")


def _interactions(values: list[float]) -> None:
    """What a linear model cannot form: praise beside a problem is sarcasm or a mixed review;
    a question about a problem is a demand; a question with none is an inquiry."""
    problem = min(sum([values[k] for k in _PROBLEM]), 3.0)
    values[_I_PROBLEM_AND_PRAISE] = min(problem, values[_PRAISE])
    values[_I_PROBLEM_QUESTION] = values[_I_QUESTION] * (problem > 0)
    values[_I_INQUIRY_ONLY] = float(values[_I_INQUIRY] > 0 and problem == 0)


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
    }
)
# Signs of a complaint a person can be shown: the raising signals, except VADER's negative
# share (negative sentiment is checked on the compound), service words (context, no sign) and
# a question about a problem (the problem itself counts). A text with none of them gives the
# detector nothing to say why it would be a complaint.
_EVIDENCE = tuple(
    _INDEX[n]
    for n in FEATURES
    if n in RAISES and n not in {"vader_neg", "service", "problem_question"}
)


def has_evidence(values: list[float]) -> bool:
    """Whether a feature vector shows any sign of a complaint: a signal or negative sentiment."""
    return values[0] <= VADER_NEGATIVE or any(map(values.__getitem__, _EVIDENCE))


def _hit(values: list[float], evidence: dict[str, list[str]], signal: str, word: str) -> None:
    values[_INDEX[signal]] += 1.0
    evidence.setdefault(signal, []).append(word)


def _phrases_at(
    tokens: list[str], i: int, values: list[float], evidence: dict[str, list[str]]
) -> None:
    """The two- and three-word phrases starting at token `i` (its second word starts one)."""
    grams = [(tokens[i], tokens[i + 1])]
    if i + 2 < len(tokens):
        grams.append((tokens[i], tokens[i + 1], tokens[i + 2]))
    for gram in grams:
        signal = _PHRASES.get(gram)
        if signal is not None:
            _hit(values, evidence, signal, " ".join(gram))


def _after_negator(
    tokens: list[str], i: int, values: list[float], evidence: dict[str, list[str]]
) -> None:
    """What a negator at token `i` turns around: praise, an expectation, a problem."""
    _negated_praise(tokens, i, values, evidence)
    _unmet(tokens, i, values, evidence)
    _negated_problem(tokens, i, values)


def _unmet(tokens: list[str], i: int, values: list[float], evidence: dict[str, list[str]]) -> None:
    """`hasn't (yet) arrived`, `never received`: an expectation verb within two tokens."""
    for j in range(i + 1, min(i + 3, len(tokens))):
        if tokens[j] in _UNMET:
            _hit(values, evidence, "failure", " ".join(tokens[i : j + 1]))
            return


def _negated_problem(tokens: list[str], i: int, values: list[float]) -> None:
    """`no issues`, `nothing was missing`, `not a single leaf bent`: a problem word within
    three tokens after a negator, said to be absent."""
    for j in range(i + 1, min(i + 4, len(tokens))):
        if tokens[j] in _NEGATABLE_PROBLEMS:
            values[_I_NEGATED_PROBLEM] = 1.0
            return


def _negated_praise(
    tokens: list[str], i: int, values: list[float], evidence: dict[str, list[str]]
) -> None:
    """`not (very|so|really...) happy`: praise words within three tokens after a negator."""
    for j in range(i + 1, min(i + 4, len(tokens))):
        word = tokens[j]
        if word in _PRAISE_NEGATABLE:
            _hit(values, evidence, "negated_praise", " ".join(tokens[i : j + 1]))
            return
        if word not in _INTENSIFIERS:
            return
