"""Built-in signals: what VADER cannot see, found word by word; categories and escalations."""

from __future__ import annotations

import pytest

from reputation.categories import categorize, escalations
from reputation.fastvader import FastVader
from reputation.signals import FEATURES, extract
from reputation.text import normalize

VADER = FastVader()


def signals(text: str):
    clean = normalize(text)
    return extract(clean, *VADER.scores_and_words(clean))


@pytest.mark.parametrize(
    ("text", "signal", "evidence"),
    [
        ("Been on hold for 2 hours", "waiting", ["on hold"]),
        ("Been on hold for 2 hours", "duration", ["2 hours"]),
        ("you lost my bag AGAIN", "failure", ["lost"]),
        ("you lost my bag AGAIN", "repeat", ["again"]),
        ("still no refund after 3 weeks", "money", ["refund"]),
        ("still no refund after 3 weeks", "waiting", ["still no"]),
        ("thanks for nothing", "sarcasm", ["thanks for nothing"]),
        ("great, another delay", "sarcasm", ["great another"]),
        ("not very impressed with the service", "negated_praise", ["not very impressed"]),
        ("why is my card declined? fix it", "demand", ["why", "fix"]),
        ("worst airline #fail #neveragain", "negative_hashtag", ["#fail", "#neveragain"]),
        ("seriously 😡👎", "negative_emoji", ["😡", "👎"]),
        ("my lawyer will be in touch", "escalation", ["lawyer"]),
        ("noodles arrived lukewarm and soggy", "trouble", ["lukewarm", "soggy"]),
        ('the "unlimited" plan is throttled', "scare_quote", ["unlimited"]),
        ("how is a 10 minute ride £34?", "demand", ["how is"]),
        ("how is a 10 minute ride £34?", "money", ["£34"]),
    ],
)
def test_signals_and_their_evidence(text: str, signal: str, evidence: list[str]) -> None:
    found = signals(text)
    assert found[signal] >= 1
    assert set(evidence) <= set(found.evidence[signal])


def test_vector_has_one_value_per_feature_and_vader_first() -> None:
    found = signals("Terrible service!!")
    assert len(found.values) == len(FEATURES)
    assert found["vader_compound"] == VADER.polarity_scores("Terrible service!!")["compound"]
    assert found["question"] == 0 and "exclaim" not in FEATURES


def test_interactions() -> None:
    assert signals("thanks for the 3 hour delay")["problem_and_praise"] >= 1
    assert signals("why is my flight delayed?")["problem_question"] == 1
    assert signals("what time does boarding start?")["inquiry_only"] == 1
    assert signals("what time does my delayed flight leave?")["inquiry_only"] == 0


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("thanks @Munchrun for nothing", "sarcasm"),  # a handle does not break a phrase
        ("nice to see the price rise working so well", "sarcasm"),
        ("the free sauna, aka a car with no aircon", "sarcasm"),
        ("absolute clowns. do better", "strong_negative"),
        ("thanks for the 3 hour delay", "praise_then_problem"),
        ("ordered oak, but received white", "mismatch"),
        ("thanks for fixing the leak so quickly", "resolved"),
        ("ignore my last tweet, found it, my bad", "retraction"),
        ("no issues at all, nothing was missing", "negated_problem"),
        ("★☆☆☆☆ crashes on launch", "low_rating"),
        ("5 stars, great app", "high_rating"),
        ("my dog ate the receipt lol 😂", "laughing"),
        ("RT @Brand: 20% off this weekend", "broadcast"),
        ("entered! #giveaway", "broadcast"),
        ("what if my flight is delayed?", "hypothetical"),
        ("can you help me change my seat please", "request"),
    ],
)
def test_context_signals(text: str, signal: str) -> None:
    assert signals(text)[signal] >= 1


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("thanks for the quick refund", "praise_then_problem"),  # money is no sarcasm
        ("lovely staff but the room was cold", "praise_then_problem"),  # a mixed review
        ("ordered a blue one and it is lovely", "mismatch"),
        ("I can't cancel my subscription", "negated_problem"),  # a failure, not its absence
        ("I told them OK and the ATM ate my card", "shouting"),  # "I", OK, ATM are no shouting
    ],
)
def test_context_signals_stay_quiet(text: str, signal: str) -> None:
    assert signals(text)[signal] == 0


def test_a_handle_in_the_middle_is_dropped_from_the_tokens() -> None:
    assert "munchrun" not in signals("thanks @Munchrun for nothing").tokens


def test_praise_words_without_a_negator_are_not_negated() -> None:
    assert signals("very impressed, not a single problem")["negated_praise"] == 0


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("I'm calling my lawyer and the FAA", ["legal threat", "media or regulator mention"]),
        ("food poisoning from your meal, I was hospitalized", ["safety or health risk"]),
        ("you leaked my personal data in a data breach", ["data breach or privacy"]),
        ("the agent was openly racist", ["discrimination"]),
        ("never again, switching to a competitor", ["churn or boycott"]),
        ("lovely flight", []),
    ],
)
def test_escalations(text: str, kinds: list[str]) -> None:
    assert escalations(signals(text)) == kinds


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("my lawyer will sue", "legal"),
        ("the meal gave me food poisoning", "safety_health"),
        ("my account was hacked, password changed", "privacy_security"),
        ("the crew was so rude to my mother", "staff_conduct"),
        ("flight delayed 4 hours then cancelled", "delay_cancellation"),
        ("you lost my luggage", "lost_damaged"),
        ("charged twice and no refund", "billing_refund"),
        ("the app keeps crashing at login", "outage_bug"),
        ("the charger stopped working after a week, defective", "product_defect"),
        ("on hold for an hour with customer service", "customer_service"),
        ("hello there", "other"),
    ],
)
def test_categories(text: str, category: str) -> None:
    assert categorize(signals(text), complaint=0.9) == category


def test_clearly_positive_non_complaints_are_praise() -> None:
    assert categorize(signals("Wonderful crew, thank you so much!"), complaint=0.05) == "praise"
    assert categorize(signals("Wonderful crew but they lost my bag"), complaint=0.9) != "praise"


def test_every_phrase_has_two_or_three_words() -> None:
    from reputation.signals import _PHRASES

    assert [" ".join(p) for p in _PHRASES if not 2 <= len(p) <= 3] == []  # longer never match
