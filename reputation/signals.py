"""Built-in complaint signals: what a sentiment lexicon cannot see, read in one pass over tokens.

Every word list the complaint detector uses lives here (docs/scoring.md explains them). They
were written for this project to be general across industries: waiting, failures, money,
demands addressed to the brand, sarcasm, negated praise, emoji and hashtags. `extract` turns
a text into a fixed-order feature vector (FEATURES) plus the evidence behind it for reasons.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

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


# Single words -> the signal they feed. Forms are listed out: a dict lookup is far faster
# than stemming or regular expressions, and the scorer must keep up with plain VADER.
_UNIGRAMS: dict[str, str] = {}
for _signal, _text in {
    "failure": """delay delayed delays delaying late cancel cancelled canceled
        cancellation cancellations cancelling canceling lost missing broken broke damaged
        missed overbooked bumped diverted stranded stuck error errors crash crashed crashing
        crashes outage down glitch glitches bug bugs buggy fail failed failing fails failure
        problem problems issue issues declined denied refused wrong defective faulty leaking
        leak cold undelivered unusable disconnected dropped frozen freezes broken-down
        unreachable unavailable expired overcharged double-charged keeps kept stopped fell
        smashed scratched scratch dented botched shoddy loose mould mold dirty filthy burst
        reverted duplicated double-booked bounced lag laggy unplayable glitchy slow slowest
        disconnects incorrect mistake mistakes half incomplete unusable 404 outdated""",
    "waiting": """wait waiting waited hold holding queue queued forever since hours hrs
        minutes mins days weeks ages""",
    "money": """refund refunds refunded charge charged charges charging fee fees money
        compensation voucher reimburse reimbursement reimbursed paid pay paying bill billed
        billing overcharge price deposit dispute chargeback""",
    "service": """service support agent agents staff employee employees rep reps supervisor
        manager phone call called calling email emailed dm dms chat website app site online
        hotline helpline desk counter""",
    "strong_negative": """worst terrible horrible awful ridiculous unacceptable disappointed
        disappointing disappointment frustrated frustrating frustration annoyed annoying
        pathetic useless incompetent rude unprofessional disgusted disgusting joke shameful
        embarrassing furious angry upset sucks suck poor bad mess nightmare hate hated
        appalling atrocious shocking outrageous livid fuming scam ripoff clueless
        inexcusable worthless unhelpful garbage trash dreadful ugh smh wtf ffs sigh fml jeez
        unbelievable ruined wasted waste ruining ruin ruins clowns clown circus disgraceful
        disgrace rubbish shambles shambolic amateurs amateur cowboys abysmal diabolical dire
        horrendous crap crappy shite shit f*** f***ing gutted shame""",
    "demand": """why fix explain answer respond reply asap seriously urgent urgently
        immediately sort""",
    # Asking for help is as common in plain service requests as in complaints.
    "request": """please pls plz help""",
    # A problem already dealt with: "thanks for fixing the leak so quickly".
    "resolved": """fixed fixing sorted sorting resolved replaced replacing quickly promptly
        swiftly speedy painless""",
    "praise": """thanks thank thx ty appreciate appreciated love loved loving great awesome
        amazing best excellent kudos wonderful perfect happy glad fantastic brilliant
        impressed smooth helpful friendly lovely cheers legend legends shoutout superb
        outstanding stellar easiest quickest seamless flawless spotless recommend recommended
        faultless favourite favorite gorgeous delicious beautiful hero lifesaver smoothest
        fastest genius gem comfy comfortable""",
    # News, offers and competitions about the brand (with "RT @..." and #giveaway tags).
    "broadcast": """giveaway competition podcast headline""",
    "inquiry": """wondering question curious info information possible""",
    "repeat": """again still yet another twice already""",
    "nobody": """nobody noone nothing never none""",
    # Bad states and outcomes in any industry, less certain than a failure on their own.
    "trouble": """soggy stale lukewarm raw undercooked overcooked burnt inedible mush mushy
        melted spilled spilt squashed crushed rotten mouldy moldy greasy torn ripped stained
        cracked shattered bent snapped peeling faded shrunk vanished disappeared deleted
        wiped erased locked blocked suspended unresponsive overheating overheats draining
        throttled throttling buffering lagging rebooting reboots restarting restarts
        flickering ignored ignoring ignores ghosted excuses runaround misleading misled
        missold mis-sold overpriced extortionate hike hiked doubled tripled noisy smelly
        stinks stank uncomfortable humiliated humiliating cramped overcrowded impossible
        confusing worse nerfed downgraded tried anymore""",
    # What was expected: with a contrast word it is a broken promise ("ordered oak, got white").
    # These words count only here ("paid" is an expectation, not money).
    "expected": """ordered booked paid advertised promised guaranteed supposedly apparently
        supposed meant expected says said claims claimed listed shows showed states quoted
        confirmed""",
    "contrast": """but instead only though although""",
    "laughing": """lol lmao lmfao haha hahaha rofl""",
    # "the free sauna, aka a car with no aircon": a sarcastic renaming.
    "sarcasm": """aka""",
}.items():
    for _word in _text.split():
        _UNIGRAMS[_word] = _signal
# Failures that can be said not to have happened ("never late"); not ones a customer tries
# and fails to do ("can't cancel my subscription").
_NEGATABLE_PROBLEMS = frozenset(
    w
    for w, s in _UNIGRAMS.items()
    if s in ("failure", "trouble") and w not in {"cancel", "refund", "pay", "tried", "anymore"}
) | {"issue", "issues", "problem", "problems", "complaints", "fuss", "hassle"}
_EXPECT, _CONTRAST = -2, -3  # codes in _ACTIONS for the two word lists below
_EXPECTATIONS = frozenset(w for w, s in _UNIGRAMS.items() if s == "expected")
_CONTRASTS = frozenset(w for w, s in _UNIGRAMS.items() if s == "contrast")
for _word in _EXPECTATIONS | _CONTRASTS:
    del _UNIGRAMS[_word]

# Multi-word phrases (as token tuples) -> signal. Checked on bigrams and trigrams.
_PHRASES: dict[tuple[str, ...], str] = {}
for _signal, _lines in {
    "waiting": [
        "all day",
        "all night",
        "since yesterday",
        "since last",
        "all morning",
        "all afternoon",
        "all week",
        "all weekend",
        "days later",
        "weeks later",
        "on hold",
        "no answer",
        "no response",
        "no reply",
        "no update",
        "no updates",
        "still waiting",
        "still no",
        "still not",
        "haven't heard",
        "never heard",
        "no one",
        "no word",
        "any update",
    ],
    # Negated expectations ("not working", "never received") are found by _unmet.
    "failure": [
        "never came",
        "wrong order",
        "missed connection",
        "fell through",
        "had to",
        "forced to",
        "supposed to",
        "was told",
        "were told",
        "told me",
        "to no avail",
        "instead of",
        "only got",
        "only one",
        "only 1",
        "less than",
        "was meant",
        "were meant",
        "is meant",
        "was promised",
        "were promised",
        "without notice",
        "without warning",
        "without telling",
        "without asking",
        "without any",
        "no record",
        "black screen",
        "no signal",
        "zero bars",
        "0 bars",
        "no hot",
        "no power",
        "no water",
        "no internet",
        "every night",
        "every day",
        "every morning",
        "used to be",
    ],
    "service": ["customer service", "customer care", "customer support"],
    "demand": [
        "come on",
        "how come",
        "what's going on",
        "whats going on",
        "where is",
        "where's my",
        "when will",
        "do something",
        "sort it",
        "sort this",
        "get back to",
        "anyone there",
        "is anyone",
        "how is",
        "how does",
        "how are",
        "how did",
        "what's the point",
        "whats the point",
        "who is paying",
        "who's paying",
        "who pays",
        "where are",
        "so where",
        "so who",
        "are you serious",
        "are you kidding",
        "kidding me",
        "is this how",
        "this is how",
        "how you treat",
        "do better",
        "one job",
        "shame on",
        "get your act",
        "sort yourselves",
        "how many times",
        "how many more",
        "how much longer",
        "what happened",
        "what now",
        "not even",
        "can't even",
        "couldn't even",
    ],
    "praise": [
        "can't wait",
        "cant wait",
        "no worries",
        "no problem",
        "no complaints",
        "no problems",
        "shout out",
        "spot on",
        "nice one",
        "would recommend",
        "highly recommend",
        "nailed it",
        "changed my life",
        "deserves a",
        "looked back",
        "couldn't be easier",
        "looking forward",
        "well deserved",
        "pay rise",
        "not bad",
        "never disappoints",
        "never fails",
        "no issues",
        "couldn't be happier",
    ],
    "sarcasm": [
        "thanks for nothing",
        "thanks a lot",
        "great job",
        "so glad",
        "way to go",
        "just what i",
        "good job",
        "nice job",
        "nice work",
        "love how",
        "love when",
        "love that i",
        "love being",
        "love waiting",
        "great another",
        "great service not",
        "well done",
        "gotta love",
        "got to love",
        "what a joke",
        "just great",
        "just perfect",
        "oh great",
        "oh good",
        "real nice",
        "super helpful not",
        "at its finest",
        "highlight of",
        "so generous",
        "very generous",
        "really appreciate it",
        "what a surprise",
        "surprise surprise",
        "who knew",
        "thanks a bunch",
        "love it when",
        "love that my",
        "really made my",
        "made my week",
        "really adds",
        "so personal",
        "truly cutting",
        "very reassuring",
        "really impressive",
        "impressive how",
        "amazing how",
        "nice to see",
        "great touch",
        "great idea",
        "brilliant idea",
        "chef's kiss",
        "lol ok",
        "nice of you",
        "kind of you",
        "really enjoying",
        "oh wonderful",
        "oh brilliant",
        "oh lovely",
        "for the surprise",
    ],
    "request": ["call me", "dm me", "help me", "can you", "would you"],
    "inquiry": [
        "is there",
        "are there",
        "do you",
        "does the",
        "can i",
        "could you",
        "will there",
        "what time",
        "how much",
        "how many",
        "how long",
        "how do",
        "how can",
        "any news",
        "what is",
        "what's the",
        "has anyone",
        "anyone tried",
        "anyone know",
        "thinking of",
        "worth it",
        "should i",
    ],
    # A problem that has not happened: "what if my flight is delayed?", "in case it's lost".
    "hypothetical": [
        "what if",
        "what happens",
        "in case",
        "if my",
        "if the",
        "if i",
        "if it",
        "if there",
        "will my",
        "will the",
        "would it",
        "is it possible",
    ],
    # The poster takes it back: "ignore my last tweet, found it", "my fault, sorry".
    "retraction": [
        "my fault",
        "my bad",
        "ignore my",
        "never mind",
        "false alarm",
        "all along",
        "turned up",
        "just landed",
        "just arrived",
        "found it",
        "scrap my",
        "sorry for the",
        "all good",
        "all fine",
        "all sorted",
        "turns out",
        "turned out",
        "about to complain",
        "about to moan",
        "going to complain",
        "thought i'd",
        "nothing to report",
        "in a good",
        "just venting",
        "nothing to do",
        "not your fault",
    ],
    "repeat": [
        "yet again",
        "once again",
        "for the second",
        "for the third",
        "every time",
        "third time",
        "second time",
    ],
}.items():
    for _line in _lines:
        _PHRASES[tuple(_line.split())] = _signal

# Escalation signals by kind; each kind is one reason in Slack.
ESCALATIONS: dict[str, str] = {
    "legal": "legal threat",
    "safety": "safety or health risk",
    "privacy": "data breach or privacy",
    "discrimination": "discrimination",
    "regulator": "media or regulator mention",
    "churn": "churn or boycott",
}
# kind -> (single words, phrases)
_ESCALATION_LEXICON: dict[str, tuple[str, tuple[str, ...]]] = {
    "legal": (
        "lawyer lawyers lawsuit sue suing sued attorney attorneys court litigation",
        ("legal action", "class action", "small claims"),
    ),
    "safety": (
        "unsafe injured injury injuries hospital hospitalized dangerous hazard "
        "poisoning allergic ambulance burned",
        (
            "food poisoning",
            "allergic reaction",
            "emergency landing",
            "could have died",
            "fire hazard",
        ),
    ),
    "privacy": (
        "hacked breach leaked phishing",
        (
            "data breach",
            "identity theft",
            "my data",
            "personal data",
            "personal information",
            "was hacked",
        ),
    ),
    "discrimination": (
        "discrimination discriminated discriminating racist racism sexist "
        "sexism homophobic ableist",
        ("racially profiled",),
    ),
    "regulator": (
        "regulator ombudsman ftc faa fcc cfpb ofcom ofgem fca journalist reporter press bbb",
        ("better business bureau", "consumer rights", "trading standards"),
    ),
    "churn": (
        "boycott boycotting unsubscribed",
        (
            "never again",
            "switching to",
            "cancel my account",
            "cancelling my",
            "canceling my",
            "closing my account",
            "taking my business",
            "done with you",
            "never flying",
            "never ordering",
            "never buying",
        ),
    ),
}
_ESCALATION_KIND: dict[str, str] = {}
for _kind, (_words, _phrases) in _ESCALATION_LEXICON.items():
    for _item in (*_words.split(), *_phrases):
        _ESCALATION_KIND[_item] = _kind
_ESCALATION_WORDS = frozenset(k for k in _ESCALATION_KIND if " " not in k)
for _item in (k for k in _ESCALATION_KIND if " " in k):
    _PHRASES[tuple(_item.split())] = "escalation"

_NEGATORS = frozenset(
    """not never no isn't wasn't aren't weren't don't didn't doesn't hasn't haven't hadn't
    won't can't cannot couldn't unable""".split()
)
# What a customer expected and did not get: "hasn't arrived", "never received", "can't log".
_EXPECTED = frozenset(
    """arrive arrived arriving receive received get got gotten work works working worked show
    showed shown respond responded answer answered reply replied refund refunded deliver
    delivered load loads loading call called log login sign connect connected help helped
    fix fixed send sent process processed update updated open opens access pay paid
    credited cancelled canceled returned heard""".split()
)
_PRAISE_NEGATABLE = frozenset(
    """happy impressed good great helpful pleased ok okay acceptable satisfied fun nice
    friendly worth working professional fair fast stable comfortable premium instant usable
    clean safe reliable quick easy included correct right accurate thrilled cheap""".split()
)
_INTENSIFIERS = frozenset("very so too really that at all".split())
_DURATION_UNITS = frozenset(
    "hour hours hr hrs h minute minutes min mins day days week weeks month months".split()
)
_NEG_EMOJI = frozenset("😡😠🤬😤😒🙄👎💩😭😢😩😫😞😟😑🤦😣😖💔🤮🙃🤡")
_POS_EMOJI = frozenset("😀😃😄😁😊🙂😍🥰😘👍👏🙌🎉❤💙💚💜🧡💛✨🤩😎🙏")
_PROMO_HASHTAG = re.compile(r"giveaway|win|competition|contest|sweepstake|promo|sale")
_NEG_HASHTAG = re.compile(
    r"fail|worst|never|sucks|disappoint|fml|nothappy|unacceptable|ripoff|shame|notcool|joke|"
    r"frustrat|angry|boycott|scam|help|broken|delay|cancel|lost|refund|poor|bad|awful"
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
# Only these signals are ever shown as reasons (complaint.py) or read back (escalations).
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
_LAUGH_EMOJI = frozenset("😂🤣😅🙈")
_EMOJI = re.compile("[" + "".join(sorted(_NEG_EMOJI | _POS_EMOJI | _LAUGH_EMOJI)) + "]")


def _actions() -> dict[str, tuple[int, bool, frozenset[str] | None]]:
    """token -> (feature index it counts toward, or -1 / _EXPECT / _CONTRAST, is a negator,
    the second words of the phrases it starts)."""
    table: dict[str, tuple[int, bool, frozenset[str] | None]] = {}
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
        **dict.fromkeys(_EXPECTATIONS, _EXPECT),
        **dict.fromkeys(_CONTRASTS, _CONTRAST),
    }
    for token in set(feature_of) | set(starts) | _NEGATORS:
        table[token] = (feature_of.get(token, -1), token in _NEGATORS, starts.get(token))
    return table


_ACTIONS = _actions()


def extract(text: str, vader: dict[str, float], words: list[str], shouted: int = 0) -> Signals:
    """Signals of `text` (normalized) from FastVader.scores_and_words: its scores, its
    lower-cased words and the number of words of 4+ letters written in capitals."""
    values = [0.0] * len(FEATURES)
    values[0], values[1], values[2] = vader["compound"], vader["neg"], vader["pos"]
    evidence: dict[str, list[str]] = {}
    tokens = [w.replace("’", "'") for w in words] if "’" in text else words
    if text.find("@", 1) > 0:  # "thanks @brand for nothing" is "thanks for nothing"
        handles = {h.lower() for h in _HANDLE.findall(text)}
        tokens = [t for t in tokens if t.split("'")[0] not in handles]
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
            _negated_praise(tokens, i, values, evidence)
            _unmet(tokens, i, values, evidence)
            _negated_problem(tokens, i, values)
        if starts and i + 1 < count and tokens[i + 1] in starts:
            _phrase(values, evidence, (tokens[i], tokens[i + 1]))
            if i + 2 < count:
                _phrase(values, evidence, (tokens[i], tokens[i + 1], tokens[i + 2]))
    if "?" in text:
        values[_I_QUESTION] = 1.0
    lower = text.lower()
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
    if text.startswith("RT @"):
        values[_I_BROADCAST] = 1.0
    if expected and contrasted:
        values[_I_MISMATCH] = 1.0
    for number, unit in _DURATION.findall(lower):
        _hit(values, evidence, "duration", f"{number} {unit}")
    if shouted and count:
        values[_I_SHOUTING] = shouted / count
    for index, cap in _CAPPED:
        if values[index] > cap:
            values[index] = cap
    # Interactions a linear model cannot form: praise beside a problem is sarcasm or a mixed
    # review; a question about a problem is a demand; a question with none is an inquiry.
    problem = min(sum([values[k] for k in _PROBLEM]), 3.0)
    values[_I_PROBLEM_AND_PRAISE] = min(problem, values[_PRAISE])
    values[_I_PROBLEM_QUESTION] = values[_I_QUESTION] * (problem > 0)
    values[_I_INQUIRY_ONLY] = float(values[_I_INQUIRY] > 0 and problem == 0)
    return Signals(values, evidence, tokens)


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
    return values[0] <= -0.05 or any(map(values.__getitem__, _EVIDENCE))


def escalations(signals: Signals) -> list[str]:
    """Readable escalation reasons found in the text, in ESCALATIONS order, each once."""
    words = signals.evidence.get("escalation")
    if not words:
        return []
    kinds = {_ESCALATION_KIND.get(word) for word in words}
    return [label for kind, label in ESCALATIONS.items() if kind in kinds]


# Categories for routing and the digest. Earlier categories win ties: they are the ones a
# team must not miss.
CATEGORIES = (
    "legal",
    "safety_health",
    "privacy_security",
    "staff_conduct",
    "delay_cancellation",
    "lost_damaged",
    "billing_refund",
    "outage_bug",
    "product_defect",
    "customer_service",
    "praise",
    "other",
)
_CATEGORY_LEXICON: dict[str, tuple[str, tuple[str, ...]]] = {
    "legal": (
        "lawyer lawyers lawsuit sue suing sued attorney court legal litigation",
        ("class action", "small claims"),
    ),
    "safety_health": (
        "unsafe injured injury hospital dangerous smoke fire sick poisoning "
        "allergic allergy accident hurt burned emergency hazard ambulance",
        ("food poisoning",),
    ),
    "privacy_security": (
        "hacked breach leaked leak privacy fraud fraudulent phishing "
        "password unauthorized compromised",
        ("identity theft", "data breach"),
    ),
    "staff_conduct": (
        "rude unprofessional yelled shouted racist sexist discriminated "
        "attendant attendants crew driver waiter cashier",
        ("was rude",),
    ),
    "delay_cancellation": (
        "delay delayed delays late cancel cancelled canceled cancellation "
        "cancelled stranded diverted rescheduled rebooked overbooked bumped",
        ("missed connection", "missed my"),
    ),
    "lost_damaged": (
        "lost missing damaged stolen bag bags luggage baggage suitcase package "
        "parcel delivery stroller",
        ("never arrived",),
    ),
    "billing_refund": (
        "refund refunds refunded charged charge charges fee fees billing bill "
        "billed overcharged invoice payment paid price voucher compensation "
        "credit subscription",
        ("money back", "charged twice"),
    ),
    "outage_bug": (
        "app website site login log crash crashed crashing outage down error bug "
        "glitch server offline update loading",
        ("not loading", "won't load"),
    ),
    "product_defect": (
        "broken defective faulty cracked leaking malfunction quality stopped recall",
        ("stopped working", "doesn't work", "not working"),
    ),
    "customer_service": (
        "hold support service agent phone call email dm chat respond "
        "response reply answer waiting queue",
        ("on hold", "customer service", "no response", "no answer"),
    ),
}
_CATEGORY_OF: dict[str, tuple[int, ...]] = {}
for _index, (_name, (_words, _phrases)) in enumerate(_CATEGORY_LEXICON.items()):
    for _item in (*_words.split(), *_phrases):
        _CATEGORY_OF[_item] = (*_CATEGORY_OF.get(_item, ()), _index)
_CATEGORY_PHRASE_STARTS = frozenset(
    p.split()[0] for _, ps in _CATEGORY_LEXICON.values() for p in ps
)
_CATEGORY_NAMES = list(_CATEGORY_LEXICON)
# token -> (categories it votes for, whether it starts a phrase): one lookup per token.
_CATEGORY_ACTIONS: dict[str, tuple[tuple[int, ...], bool]] = {
    token: (_CATEGORY_OF.get(token, ()), token in _CATEGORY_PHRASE_STARTS)
    for token in {*(k for k in _CATEGORY_OF if " " not in k), *_CATEGORY_PHRASE_STARTS}
}


def categorize(signals: Signals, complaint: float) -> str:
    """The category with most word hits (ties: the earlier, more serious one); `praise` for
    clearly positive text that is no complaint; `other` when nothing matches."""
    if complaint < 0.3 and signals.values[0] >= 0.5:
        return "praise"
    votes = [0] * len(_CATEGORY_NAMES)
    tokens = signals.tokens
    last = len(tokens) - 1
    for i, action in enumerate(map(_CATEGORY_ACTIONS.get, tokens)):
        if action is None:
            continue
        hits, starts = action
        for index in hits:
            votes[index] += 1
        if starts and i < last:
            for index in _CATEGORY_OF.get(f"{tokens[i]} {tokens[i + 1]}", ()):
                votes[index] += 2  # a phrase says more than a word
    top = max(votes)
    return _CATEGORY_NAMES[votes.index(top)] if top else "other"


def _hit(values: list[float], evidence: dict[str, list[str]], signal: str, word: str) -> None:
    values[_INDEX[signal]] += 1.0
    evidence.setdefault(signal, []).append(word)


def _phrase(values: list[float], evidence: dict[str, list[str]], gram: tuple[str, ...]) -> None:
    signal = _PHRASES.get(gram)
    if signal is not None:
        _hit(values, evidence, signal, " ".join(gram))


def _unmet(tokens: list[str], i: int, values: list[float], evidence: dict[str, list[str]]) -> None:
    """`hasn't (yet) arrived`, `never received`: an expectation verb within two tokens."""
    for j in range(i + 1, min(i + 3, len(tokens))):
        if tokens[j] in _EXPECTED:
            _hit(values, evidence, "failure", " ".join(tokens[i : j + 1]))
            return


def _negated_problem(tokens: list[str], i: int, values: list[float]) -> None:
    """`no issues`, `nothing was missing`, `not a single leaf bent`: a problem word within
    three tokens after a negator, said to be absent."""
    for j in range(i + 1, min(i + 4, len(tokens))):
        if tokens[j] in _NEGATABLE_PROBLEMS:
            values[_INDEX["negated_problem"]] = 1.0
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
