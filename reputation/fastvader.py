"""VADER with the same scores, faster: the scorer must keep pace with a bare VADER loop.

vaderSentiment 3.3.2 rebuilds ASCII text character by character to translate emoji, and
lower-cases the whole word list again for every sentiment word it checks for negation and
idioms. FastVader skips the first for ASCII text (no emoji key is ASCII) and lower-cases the
words once per text; everything else is VADER's own code and constants, so `polarity_scores`
returns exactly what VADER returns (tests/test_fastvader.py checks this word for word).
Adapted from vaderSentiment (MIT licence, C.J. Hutto).
"""

from __future__ import annotations

import math
import string

from vaderSentiment.vaderSentiment import (
    BOOSTER_DICT,
    C_INCR,
    N_SCALAR,
    NEGATE,
    SPECIAL_CASES,
    SentimentIntensityAnalyzer,
    scalar_inc_dec,
)

_NEGATE = frozenset(NEGATE)
# Words of VADER's idioms and multi-word boosters ("kiss of death", "kind of").
_IDIOM_WORDS = frozenset(
    w for key in (*SPECIAL_CASES, *BOOSTER_DICT) if " " in key for w in key.split()
)
_PUNCTUATION = string.punctuation


class FastVader(SentimentIntensityAnalyzer):
    """A SentimentIntensityAnalyzer whose polarity_scores is VADER's, computed faster."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # Words VADER gives a valence of their own (boosters only scale their neighbours).
        self._valenced = frozenset(self.lexicon).difference(BOOSTER_DICT)
        # VADER's emoji pass compares one character at a time: only one-character keys match.
        self._emoji_chars = frozenset(key for key in self.emojis if len(key) == 1)

    def polarity_scores(self, text: str) -> dict[str, float]:
        """VADER's neg, neu, pos and compound scores of `text`."""
        return self.scores_and_words(text)[0]

    def scores_and_words(self, text: str) -> tuple[dict[str, float], list[str], list[int]]:
        """VADER's scores, its lower-cased words (edge punctuation stripped, emoji spelled
        out) and the positions of the words that may be shouted, so callers need not split
        the text again: words of 4+ letters in capitals in a text that is not all capitals,
        never a hashtag, handle or ticker ("#CES2026", "@NASA", "$AAPL")."""
        text = text.strip() if text.isascii() else self._without_emoji(text)
        tokens = text.split()
        # SentiText's split, inlined: strip edge punctuation unless that leaves <= 2 chars.
        words = [
            token if len(stripped := token.strip(_PUNCTUATION)) <= 2 else stripped
            for token in tokens
        ]
        lower = list(map(str.lower, words))
        # allcap_differential, inlined: some but not all words in capitals.
        capitals = list(filter(str.isupper, words))
        cap_diff = 0 < len(words) - len(capitals) < len(words)
        shouted = (
            [
                i
                for i, w in enumerate(words)
                if len(w) >= 4 and w.isupper() and w.isalpha() and tokens[i][0] not in "#@$"
            ]
            if cap_diff and max(map(len, capitals)) >= 4
            else []
        )
        # VADER gives boosters, "kind of" and words outside its lexicon a valence of 0.
        sentiments: list[float] = [0] * len(lower)
        last = len(words) - 1
        valenced = self._valenced
        for i in [i for i, word in enumerate(lower) if word in valenced]:
            if not (i < last and lower[i] == "kind" and lower[i + 1] == "of"):
                sentiments[i] = self._valence(cap_diff, words, lower, words[i], i)
        if "but" in lower:
            sentiments = _but_check(lower, sentiments)
        return _score_valence(sentiments, text), lower, shouted

    def _without_emoji(self, text: str) -> str:
        """VADER's emoji translation, unchanged (text with no emoji, such as curly quotes or
        accents, is returned stripped without the character loop: what the loop gives)."""
        if self._emoji_chars.isdisjoint(text):
            return text.strip()
        out = ""
        prev_space = True
        for char in text:
            if char in self.emojis:
                if not prev_space:
                    out += " "
                out += self.emojis[char]
                prev_space = False
            else:
                out += char
                prev_space = char == " "
        return out.strip()

    def _valence(
        self, cap_diff: bool, words: list[str], lower: list[str], item: str, i: int
    ) -> float:
        """VADER's sentiment_valence for word `i`, reading the lower-cased words once."""
        word = lower[i]
        lexicon = self.lexicon
        if word not in lexicon:
            return 0
        valence = lexicon[word]
        if word == "no" and i != len(words) - 1 and lower[i + 1] in lexicon:
            valence = 0.0
        if (
            (i > 0 and lower[i - 1] == "no")
            or (i > 1 and lower[i - 2] == "no")
            or (i > 2 and lower[i - 3] == "no" and lower[i - 1] in ["or", "nor"])
        ):
            valence = lexicon[word] * N_SCALAR
        if item.isupper() and cap_diff:
            valence = valence + C_INCR if valence > 0 else valence - C_INCR
        # VADER's loop over the three words before, unrolled: each word before that is not
        # in the lexicon may boost, negate and (three back) complete an idiom.
        if i > 0 and (w1 := lower[i - 1]) not in lexicon:  # boosters and negations
            if w1 in BOOSTER_DICT:
                valence = valence + scalar_inc_dec(words[i - 1], valence, cap_diff)
            if w1 in _NEGATE or "n't" in w1:
                valence = valence * N_SCALAR
        if i > 1 and lower[i - 2] not in lexicon:
            valence = _two_back(valence, lower, words, i, cap_diff)
        if i > 2 and lower[i - 3] not in lexicon:
            valence = _three_back(valence, lower, words, i, cap_diff)
        # VADER's _least_check changes nothing unless the word before is "least".
        if i > 0 and lower[i - 1] == "least":
            return self._least(valence, lower, i)
        return valence

    def _least(self, valence: float, lower: list[str], i: int) -> float:
        """VADER's _least_check on the lower-cased words."""
        if i > 1 and lower[i - 1] not in self.lexicon and lower[i - 1] == "least":
            if lower[i - 2] != "at" and lower[i - 2] != "very":
                valence = valence * N_SCALAR
        elif i > 0 and lower[i - 1] not in self.lexicon and lower[i - 1] == "least":
            valence = valence * N_SCALAR
        return valence


def _but_check(lower: list[str], sentiments: list[float]) -> list[float]:
    """VADER's _but_check on the lower-cased words, quirks included (it looks sentiments up
    by value, so equal values share the first one's position)."""
    bi = lower.index("but")
    for sentiment in sentiments:
        si = sentiments.index(sentiment)
        if si < bi:
            sentiments.pop(si)
            sentiments.insert(si, sentiment * 0.5)
        elif si > bi:
            sentiments.pop(si)
            sentiments.insert(si, sentiment * 1.5)
    return sentiments


def _two_back(valence: float, lower: list[str], words: list[str], i: int, cap: bool) -> float:
    """VADER's booster (x 0.95) and negation checks two words before word `i`."""
    w2, w1 = lower[i - 2], lower[i - 1]
    if w2 in BOOSTER_DICT:
        s = scalar_inc_dec(words[i - 2], valence, cap)
        if s != 0:
            s = s * 0.95
        valence = valence + s
    if w2 == "never" and (w1 == "so" or w1 == "this"):
        valence = valence * 1.25
    elif w2 == "without" and w1 == "doubt":
        pass
    elif w2 in _NEGATE or "n't" in w2:
        valence = valence * N_SCALAR
    return valence


def _three_back(valence: float, lower: list[str], words: list[str], i: int, cap: bool) -> float:
    """VADER's booster (x 0.9), negation and idiom checks three words before word `i`."""
    w3, w2, w1 = lower[i - 3], lower[i - 2], lower[i - 1]
    if w3 in BOOSTER_DICT:
        s = scalar_inc_dec(words[i - 3], valence, cap)
        if s != 0:
            s = s * 0.9
        valence = valence + s
    if (w3 == "never" and (w2 == "so" or w2 == "this")) or (w1 == "so" or w1 == "this"):
        valence = valence * 1.25
    elif w3 == "without" and (w2 == "doubt" or w1 == "doubt"):
        pass
    elif w3 in _NEGATE or "n't" in w3:
        valence = valence * N_SCALAR
    # Every idiom VADER checks has two of its words among these three: when none of them is
    # an idiom word, no idiom can match (VADER would change nothing).
    if w2 in _IDIOM_WORDS or w1 in _IDIOM_WORDS or lower[i] in _IDIOM_WORDS:
        valence = _special_idioms_check(valence, lower, i)
    return valence


def _special_idioms_check(valence: float, lower: list[str], i: int) -> float:
    """VADER's _special_idioms_check on the lower-cased words (negative indices included)."""
    onezero = f"{lower[i - 1]} {lower[i]}"
    twoonezero = f"{lower[i - 2]} {lower[i - 1]} {lower[i]}"
    twoone = f"{lower[i - 2]} {lower[i - 1]}"
    threetwoone = f"{lower[i - 3]} {lower[i - 2]} {lower[i - 1]}"
    threetwo = f"{lower[i - 3]} {lower[i - 2]}"
    for seq in (onezero, twoonezero, twoone, threetwoone, threetwo):
        if seq in SPECIAL_CASES:
            valence = SPECIAL_CASES[seq]
            break
    if len(lower) - 1 > i:
        zeroone = f"{lower[i]} {lower[i + 1]}"
        if zeroone in SPECIAL_CASES:
            valence = SPECIAL_CASES[zeroone]
    if len(lower) - 1 > i + 1:
        zeroonetwo = f"{lower[i]} {lower[i + 1]} {lower[i + 2]}"
        if zeroonetwo in SPECIAL_CASES:
            valence = SPECIAL_CASES[zeroonetwo]
    for n_gram in (threetwoone, threetwo, twoone):
        if n_gram in BOOSTER_DICT:
            valence = valence + BOOSTER_DICT[n_gram]
    return valence


def _score_valence(sentiments: list[float], text: str) -> dict[str, float]:
    """VADER's score_valence with its helpers inlined: the same arithmetic in the same order."""
    if not sentiments:
        return {"neg": 0.0, "neu": 0.0, "pos": 0.0, "compound": 0.0}
    pos_sum = 0.0
    neg_sum = 0.0
    # Most words have no valence; adding their zeros changes no sum, so only the others are
    # added, in the same order.
    scored = [score for score in sentiments if score]
    neu_count = len(sentiments) - len(scored)
    for score in scored:
        if score > 0:
            pos_sum += float(score) + 1  # compensates for neutral words counted as 1
        else:
            neg_sum += float(score) - 1
    if not pos_sum and not neg_sum:  # every word neutral: what VADER's arithmetic gives
        return {"neg": 0.0, "neu": 1.0, "pos": 0.0, "compound": 0.0}
    exclaims = text.count("!")
    questions = text.count("?")
    emphasis = min(exclaims, 4) * 0.292 + (
        0 if questions <= 1 else questions * 0.18 if questions <= 3 else 0.96
    )
    sum_s = float(sum(scored))
    if sum_s > 0:
        sum_s += emphasis
    elif sum_s < 0:
        sum_s -= emphasis
    compound = sum_s / math.sqrt((sum_s * sum_s) + 15)
    compound = -1.0 if compound < -1.0 else 1.0 if compound > 1.0 else compound
    if pos_sum > math.fabs(neg_sum):
        pos_sum += emphasis
    elif pos_sum < math.fabs(neg_sum):
        neg_sum -= emphasis
    total = pos_sum + math.fabs(neg_sum) + neu_count
    return {
        "neg": round(math.fabs(neg_sum / total), 3),
        "neu": round(math.fabs(neu_count / total), 3),
        "pos": round(math.fabs(pos_sum / total), 3),
        "compound": round(compound, 4),
    }
