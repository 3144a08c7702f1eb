"""Built-in complaint signals: what a sentiment lexicon cannot see, read in a few passes.

`extract` turns a normalized text into the feature vector of reputation.features plus the
words behind each signal, for reasons. The word lists are data in reputation.lexicon
(escalation words in reputation.categories); this module builds lookup tables from them once
and reads a text in passes: its words (one lookup per token, negations and phrases), its
marks (hashtags, emoji, quotes, news and offers), its numbers (ratings, amounts, durations),
its capitals; then reputation.speech reads its questions, accusations and whom it is aimed
at; last come the interactions a linear model cannot form.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from reputation import lexicon
from reputation.categories import ESCALATION_KIND
from reputation.features import (
    FEATURES,
    INDEX,
    LOWERS,
    RAISES,
    VADER_NEGATIVE,
    VADER_POSITIVE,
    Signals,
    has_evidence,
    hit,
)
from reputation.speech import read_accusations, read_questions, read_target

# What other modules read from here; the vector itself is defined in reputation.features.
__all__ = [
    "FEATURES",
    "LOWERS",
    "RAISES",
    "VADER_NEGATIVE",
    "VADER_POSITIVE",
    "Signals",
    "extract",
    "has_evidence",
]
_INDEX = INDEX
_hit = hit


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
_FUNCTION_NEGATORS = frozenset(lexicon.FUNCTION_NEGATORS)
_NEGATORS = frozenset(lexicon.NEGATORS) | _FUNCTION_NEGATORS
_AUXILIARIES = frozenset(lexicon.FUNCTION_AUXILIARIES)
# Negators that may state the speaker's intention instead ("I won't fly with them again",
# "I don't know") or an imperative at the start ("don't miss our sale").
_INTENTIONS = frozenset(
    {"won't", "wont", "will", "don't", "dont", "do", "wouldn't", "wouldnt", "would"}
)
_SPEAKERS = frozenset({"i", "we", "i'll", "we'll"})
_NOT_FUNCTIONS = frozenset(lexicon.NOT_FUNCTIONS)
_ADVERBS = frozenset(lexicon.ADVERBS)
_NOT_VERBS = frozenset(
    """it you me him her them us the a an my your our their this that these those to be
    any anything much more enough have has had one i""".split()
)
_UNMET = frozenset(lexicon.UNMET)
_PRAISE_NEGATABLE = frozenset(lexicon.PRAISE_NEGATABLE)
_INTENSIFIERS = frozenset(lexicon.INTENSIFIERS)
_NEG_EMOJI = frozenset(lexicon.NEGATIVE_EMOJI)
_POS_EMOJI = frozenset(lexicon.POSITIVE_EMOJI)
_LAUGH_EMOJI = frozenset(lexicon.LAUGHING_EMOJI)
_PROMO_HASHTAG = re.compile("|".join(lexicon.PROMO_HASHTAG_PARTS))
# Words whose capitals are shouting ("LOST", "AGAIN", "NEVER"), unlike names and acronyms
# ("NASA", "LIVE"): the words of complaint signals and the negators.
_SHOUTABLE = (
    frozenset(
        w
        for w, s in _UNIGRAMS.items()
        if s in ("failure", "trouble", "waiting", "strong_negative", "demand", "repeat", "nobody")
    )
    | _NEGATORS
)
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
        "shouting",
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
# Words whose negation other rules read: negated praise and problems said to be absent.
_NEGATION_HANDLED = frozenset({"praise", "failure", "trouble", "strong_negative", "resolved"})
# The lookahead (first letters of the alternatives) halves the time the regex takes.
_DURATION = re.compile(
    r"\b(?=[\dacefmnost])(\d+(?:[.,]\d+)?\+?"
    r"|an|one|two|three|four|five|six|seven|eight|nine|ten|twelve"
    r"|couple of|few|several|many)\s*(hours?|hrs?|h|minutes?|mins?|days?|weeks?|months?)\b"
)
# "2h", "3 h": the one unit a duration can have without any of the words checked first.
_HOURS = re.compile(r"[0-9] ?h\b")
_HASHTAG = re.compile(r"#\w+")
# News, offers and promotions: a ticker ("$PXLN"), a label in capitals ("BREAKING:", "LIVE
# NOW:"), a source ("via @verge", "per Reuters"), an offer ("50% off", "code TV50", "T&Cs").
_TICKER = re.compile(r"\$[A-Za-z]{2,5}\b")
_LABEL = re.compile(r"[A-Z][A-Z ]{2,20}:")
_SOURCE = re.compile(r"\b(?:via|per|h/t) (?:@\w+|[A-Z]\w+)")
_OFFER = re.compile(r"\d+% off\b|[£$€]\d+ off\b|\bdown to [£$€]\d|\bcode [A-Z0-9]{4,}\b|\bT&Cs\b")
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


def extract(
    text: str,
    vader: dict[str, float],
    words: list[str],
    shouted: Sequence[int] = (),
    brand: Sequence[str] | None = None,
) -> Signals:
    """Signals of `text` (normalized) from FastVader.scores_and_words (its scores, its
    lower-cased words, the positions of words in capitals) and the brand's terms, lower-case
    (None when unknown: then any handle is taken to address the brand)."""
    values = [0.0] * len(FEATURES)
    values[0], values[1], values[2] = vader["compound"], vader["neg"], vader["pos"]
    evidence: dict[str, list[str]] = {}
    tokens = _tokens(text, words)
    _read_words(tokens, values, evidence)
    lower = text.lower()
    _read_marks(text, lower, values, evidence)
    _read_numbers(text, lower, values, evidence)
    if shouted:
        values[_I_SHOUTING] = float(sum(words[i] in _SHOUTABLE for i in shouted))
    for index, cap in _CAPPED:
        if values[index] > cap:
            values[index] = cap
    if "?" in text:
        read_questions(lower, values, evidence)
    read_accusations(tokens, values, evidence)
    problem = min(sum(map(values.__getitem__, _PROBLEM)), 3.0)
    if problem or values[0] <= VADER_NEGATIVE:
        read_target(text, lower, tokens, values, evidence, brand)
    _interactions(values, problem)
    return Signals(values, evidence, tokens)


def _tokens(text: str, words: list[str]) -> list[str]:
    """VADER's lower-cased words with straight apostrophes, handles after the first word
    dropped ("thanks @brand for nothing" is "thanks for nothing")."""
    tokens = [w.replace("’", "'") for w in words] if "’" in text else words
    if text.find("@", 1) > 0:
        handles = {h.lower() for h in _HANDLE.findall(text)}
        tokens = [
            t
            for t in tokens
            if t not in handles and ("'" not in t or t.split("'")[0] not in handles)
        ]
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
        _scare_quotes(text, values, evidence)
    # News and offers go out to followers; a post that starts with a handle answers someone.
    if text.startswith("RT @") or (text[:1] != "@" and _broadcast(text, lower)):
        values[_I_BROADCAST] = 1.0


def _scare_quotes(text: str, values: list[float], evidence: dict[str, list[str]]) -> None:
    """A few words in quotes, usually scare quotes; a quoted name or title ("Google", "The
    Long Harbour") or link cites, and is none."""
    for quoted in _SCARE_QUOTE.findall(text):
        if "/" not in quoted and not all(w[:1].isupper() for w in quoted.split()):
            _hit(values, evidence, "scare_quote", quoted)


def _broadcast(text: str, lower: str) -> bool:
    """News or an offer: each pattern tried only where its marker is in the text."""
    return bool(
        ("$" in text and _TICKER.search(text))
        or (text.find(":", 0, 24) > 0 and _LABEL.match(text))
        or (("via " in lower or "per " in lower or "h/t " in lower) and _SOURCE.search(text))
        or (
            (
                "%" in text
                or " off" in lower
                or "down to" in lower
                or "code " in lower
                or "t&c" in lower
            )
            and _OFFER.search(text)
        )
    )


def _read_numbers(
    text: str, lower: str, values: list[float], evidence: dict[str, list[str]]
) -> None:
    """Amounts of money, ratings ("1/5", "★★☆☆☆") and durations ("2 hours")."""
    if "£" in text or "$" in text or "€" in text:
        for amount in _AMOUNT.findall(text):
            _hit(values, evidence, "money", amount)
    if (
        "★" in text
        or "/5" in text
        or "/ 5" in text
        or "*" in text
        or "star" in lower
        or ("out of" in lower)
    ):
        for filled, digit in _STARS.findall(lower):
            stars = len(filled) if filled else int(digit)
            if stars <= 2:
                values[_I_LOW_RATING] = 1.0
            elif stars >= 4:
                values[_I_HIGH_RATING] = 1.0
    if (
        "hour" in lower
        or "hr" in lower
        or "min" in lower
        or "day" in lower
        or "week" in lower
        or "month" in lower
        or _HOURS.search(lower)
    ):
        for number, unit in _DURATION.findall(lower):
            _hit(values, evidence, "duration", f"{number} {unit}")


def _interactions(values: list[float], problem: float) -> None:
    """What a linear model cannot form: praise beside a problem is sarcasm or a mixed review;
    a question about a problem is a demand; a question with none is an inquiry. `problem` is
    the count of problem signals, at most 3."""
    values[_I_PROBLEM_AND_PRAISE] = min(problem, values[_PRAISE])
    values[_I_PROBLEM_QUESTION] = values[_I_QUESTION] * (problem > 0)
    values[_I_INQUIRY_ONLY] = float(values[_I_INQUIRY] > 0 and problem == 0)


def _phrases_at(
    tokens: list[str], i: int, values: list[float], evidence: dict[str, list[str]]
) -> None:
    """The two- and three-word phrases starting at token `i` (its second word starts one)."""
    grams: list[tuple[str, ...]] = [(tokens[i], tokens[i + 1])]
    if i + 2 < len(tokens):
        grams.append((tokens[i], tokens[i + 1], tokens[i + 2]))
    for gram in grams:
        signal = _PHRASES.get(gram)
        if signal is not None:
            _hit(values, evidence, signal, " ".join(gram))


def _after_negator(
    tokens: list[str], i: int, values: list[float], evidence: dict[str, list[str]]
) -> None:
    """What a negator at token `i` turns around: praise, an expectation, a problem, or what
    a thing should do."""
    _negated_praise(tokens, i, values, evidence)
    if not _unmet(tokens, i, values, evidence):
        _no_function(tokens, i, values, evidence)
    _negated_problem(tokens, i, values)


def _no_function(
    tokens: list[str], i: int, values: list[float], evidence: dict[str, list[str]]
) -> None:
    """`won't switch on`, `can't log in`, `does not charge`: a thing that fails to do what it
    should, whatever the verb, unless the negation is an idiom ("can't wait"), the speaker's
    intention ("I won't go") or an imperative ("don't miss")."""
    negator, subject_at = tokens[i], i - 1
    if negator == "not":  # "will not load": the auxiliary is the negator
        if i == 0 or tokens[i - 1] not in _AUXILIARIES:
            return
        negator, subject_at = tokens[i - 1], i - 2
    elif negator not in _FUNCTION_NEGATORS:
        return
    if negator in _INTENTIONS and (subject_at < 0 or tokens[subject_at] in _SPEAKERS):
        return
    j = i + 1
    while j < len(tokens) and tokens[j] in _ADVERBS:
        j += 1
    if j >= len(tokens):
        return
    verb = tokens[j]
    if verb == "be" and j + 1 < len(tokens) and tokens[j + 1].endswith("ed"):
        j, verb = j + 1, tokens[j + 1]  # "can't be added", "won't be delivered"
    if (
        verb in _NOT_FUNCTIONS
        or verb in _NOT_VERBS
        or not verb.isalpha()
        or _UNIGRAMS.get(verb) in _NEGATION_HANDLED
    ):
        return
    _hit(values, evidence, "failure", " ".join(tokens[i : j + 1]))


def _unmet(tokens: list[str], i: int, values: list[float], evidence: dict[str, list[str]]) -> bool:
    """`hasn't (yet) arrived`, `never received`: an expectation verb within two tokens."""
    for j in range(i + 1, min(i + 3, len(tokens))):
        if tokens[j] in _UNMET:
            _hit(values, evidence, "failure", " ".join(tokens[i : j + 1]))
            return True
    return False


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
