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


# -- issue 9: general rules for what real posts do ------------------------------------------


def aimed(text: str, brand: tuple[str, ...] | None = None) -> tuple[float, float]:
    clean = normalize(text)
    found = extract(clean, *VADER.scores_and_words(clean), brand)
    return found["aimed"], found["unaimed"]


@pytest.mark.parametrize(
    "text",
    [
        "NASA and #CES2026: LIVE coverage of the new iOS features",  # acronyms, hashtag
        "$PXLN up 4% after Q3 EPS beat, via @Reuters",  # ticker, handle
        "@NASA and @ESA LAUNCH update tonight",  # handles
        "BREAKING NEWS ALL IN CAPITALS, LOST AND FOUND",  # a whole post in capitals
    ],
)
def test_capitals_that_are_no_shouting(text: str) -> None:
    assert signals(text)["shouting"] == 0


def test_capitals_on_words_of_a_complaint_are_shouting() -> None:
    assert signals("you lost my bag AGAIN and NOBODY answers")["shouting"] == 2


@pytest.mark.parametrize(
    ("text", "evidence"),
    [
        ("my phone won't switch on since the update", "won't switch"),
        ("the charger won't charge past 60%", "won't charge"),
        ("@Brand the earbuds don't pair anymore", "don't pair"),
        ("the app will not load my boarding pass", "not load"),
        ("card can't be added to my wallet", "can't be added"),
        ("self checkout wouldn't scan anything", "wouldn't scan"),
        ("watch doesn't sync with the app", "doesn't sync"),
    ],
)
def test_a_thing_that_will_not_do_what_it_should_is_a_failure(text: str, evidence: str) -> None:
    assert evidence in signals(text).evidence["failure"]


@pytest.mark.parametrize(
    "text",
    [
        "can't wait for the trip!",  # an idiom
        "I won't forget this holiday",  # the speaker's intention
        "Don't miss our sale this weekend",  # an imperative
        "can't fault the crew, lovely flight",
        "the new album doesn't disappoint",
        "I didn't know you flew to Lisbon",
    ],
)
def test_negations_that_are_no_failure(text: str) -> None:
    assert signals(text)["failure"] == 0


def test_a_question_after_a_stated_failure_is_a_demand_not_an_inquiry() -> None:
    found = signals("you lost my bag, how will you fix this?")
    assert found["stated_problem_question"] == 1
    assert found["question"] == found["inquiry"] == 0
    inquiry = signals("is my flight delayed? leaving for the airport soon")
    assert inquiry["stated_problem_question"] == 0 and inquiry["question"] == 1


@pytest.mark.parametrize("text", ["down again. really??", "4 hour delay. what now?", "why?!"])
def test_questions_that_ask_nothing_are_rhetorical(text: str) -> None:
    assert signals(text)["rhetorical"] == 1


@pytest.mark.parametrize("text", ["what time does boarding start?", "is the lounge open today?"])
def test_questions_that_ask_something_are_not_rhetorical(text: str) -> None:
    assert signals(text)["rhetorical"] == 0


def test_words_glued_by_punctuation_are_read_apart() -> None:
    found = signals("@Brand worst,everything was cold...again")
    assert "worst" in found.evidence["strong_negative"]
    assert "again" in found.evidence["repeat"]


@pytest.mark.parametrize(
    ("text", "brand", "expected"),
    [
        ("@Streamora the app keeps crashing", ("streamora", "@streamora"), (1, 0)),
        ("Streamora keeps buffering on every device", ("streamora", "@streamora"), (1, 0)),
        ("my order never arrived, third time", ("cartwheel", "@cartwheeleats"), (1, 0)),
        ("you lost my bag", None, (1, 0)),  # the second person
        ("thanks for the 3 hour delay", None, (1, 0)),  # sarcasm speaks to someone
        # Negativity that only names the brand: sport, venting, politics.
        ("Lakers lost again, awful defence. Watching on Streamora", ("streamora",), (0, 1)),
        (
            "worst week ever, got dumped. at least Streamora has new episodes",
            ("streamora",),
            (0, 1),
        ),
        ("the minister is useless, Orbitel and the others will raise prices", ("orbitel",), (0, 1)),
        ("lovely day at the beach", ("streamora",), (0, 0)),  # no negativity: no target read
    ],
)
def test_negativity_aimed_at_the_brand_or_not(
    text: str, brand: tuple[str, ...] | None, expected: tuple[int, int]
) -> None:
    assert aimed(text, brand) == expected


def test_with_unknown_brand_terms_any_handle_addresses_the_brand() -> None:
    assert aimed("@someone this is broken")[0] == 1
    assert aimed("@someone this is broken", ("acme air", "@acmeair")) == (0, 1)


@pytest.mark.parametrize(
    "text",
    [
        "$PXLN up 4% premarket after the beat",
        "BREAKING: Pixelon unveils the P9",
        "Hands-on with the P9, full review via @verge",
        "FLASH SALE: 50% off TVs this weekend",
        "Buds 2 down to $79 today",
        "use code TV50 at checkout",
    ],
)
def test_news_and_offers_are_broadcasts(text: str) -> None:
    assert signals(text)["broadcast"] == 1


def test_a_quoted_name_is_no_scare_quote() -> None:
    assert signals('"Google" is down for everyone')["scare_quote"] == 0
    assert signals('the "unlimited" plan is throttled')["scare_quote"] == 1


def test_escalations_and_categories_read_one_list_per_kind() -> None:
    from reputation.categories import ESCALATIONS

    shared = {"legal": "legal", "safety": "safety_health", "privacy": "privacy_security"}
    for kind, category in shared.items():
        reason, words = ESCALATIONS[kind]
        for item in (*sorted(words.words), *words.phrases):
            found = signals(f"they {item} us")
            assert escalations(found) == [reason], item
            assert categorize(found, complaint=0.9) == category, item
