"""FastVader must return exactly what vaderSentiment returns, only sooner."""

from __future__ import annotations

import json
import random

import pytest
from vaderSentiment.vaderSentiment import (
    BOOSTER_DICT,
    NEGATE,
    SPECIAL_CASES,
    SentimentIntensityAnalyzer,
)

from reputation.fastvader import FastVader
from tests.conftest import REPO

EDGE_CASES = [
    "",
    "   ",
    "good",
    "GOOD but bad",
    "not good",
    "never so good",
    "without doubt good",
    "no good",
    "no",
    "no no no",
    "at least good",
    "very least good",
    "least good",
    "kind of good",
    "sort of bad",
    "the shit",
    "yeah right",
    "bus stop fun",
    "kiss of death",
    "it was NOT GREAT!!!",
    "BAD!!!???",
    "ok.",
    ":) :( :-D",
    "I ❤️ this 😡😡",
    "great, another delay",
    "but but but good",
    "good but",
    "wasn't happy, isn't good, didn't like it",
    "Don't not like it",
    "😂😂😂",
    "hello\tworld\nnew line",
    "#fail @united ugh!!",
]


@pytest.fixture(scope="module")
def pair() -> tuple[SentimentIntensityAnalyzer, FastVader]:
    return SentimentIntensityAnalyzer(), FastVader()


@pytest.mark.parametrize("text", EDGE_CASES)
def test_edge_cases_score_exactly_like_vader(pair: tuple, text: str) -> None:
    vader, fast = pair
    assert fast.polarity_scores(text) == vader.polarity_scores(text)


def test_demo_mentions_score_exactly_like_vader(pair: tuple) -> None:
    vader, fast = pair
    lines = (REPO / "data/demo/mentions.jsonl").read_text().splitlines()
    texts = [json.loads(line)["text"] for line in lines]
    assert [fast.polarity_scores(t) for t in texts] == [vader.polarity_scores(t) for t in texts]


def test_random_word_soup_scores_exactly_like_vader(pair: tuple) -> None:
    vader, fast = pair
    rng = random.Random(7)
    pool = (
        list(vader.lexicon)[::5]
        + list(NEGATE)
        + list(BOOSTER_DICT)
        + [w for k in SPECIAL_CASES for w in k.split()]
        + [
            "but",
            "BUT",
            "least",
            "at",
            "very",
            "kind",
            "of",
            "no",
            "nor",
            "or",
            "so",
            "this",
            "without",
            "doubt",
            "GREAT",
            "AWFUL",
            "!!!",
            "?",
            ":)",
            "😡",
            "👍",
            "...",
        ]
    )
    texts = [" ".join(rng.choice(pool) for _ in range(rng.randint(1, 30))) for _ in range(3000)]
    assert [fast.polarity_scores(t) for t in texts] == [vader.polarity_scores(t) for t in texts]


def test_words_and_capitals_come_with_the_scores(pair: tuple) -> None:
    _, fast = pair
    text = "WHY is my bag LOST, AGAIN?! I told the ATM desk"
    scores, words, shouted = fast.scores_and_words(text)
    assert scores == fast.polarity_scores(text)
    assert words[:6] == ["why", "is", "my", "bag", "lost", "again"]
    assert shouted == [4, 5]  # LOST, AGAIN; not "I", nor WHY or ATM (under four letters)
    assert fast.scores_and_words("BREAKING: #CES2026 @NASA $AAPL LIVE now")[2] == [0, 4]
    assert fast.scores_and_words("ALL CAPS WHOLE POST HERE")[2] == []  # a headline, no shouting
