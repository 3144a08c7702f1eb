"""Escalations and categories, with the one word list each kind of harm has.

A legal threat, a safety risk, a privacy breach or discrimination is both an escalation (a
readable reason, and harm in severity) and a category (for routing and the digest). Each is
written once below and read by both, so the two cannot drift apart. reputation.signals counts
escalation words while it reads the text; `escalations` and `categorize` read what it found.
"""

from __future__ import annotations

from itertools import pairwise
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from reputation.features import Signals


class Words(NamedTuple):
    """A kind's single words and its phrases of two or three words."""

    words: frozenset[str]
    phrases: tuple[str, ...]


def _words(words: str, *phrases: str) -> Words:
    return Words(frozenset(words.split()), phrases)


LEGAL = _words(
    "lawyer lawyers lawsuit lawsuits sue suing sued attorney attorneys court litigation "
    "solicitor solicitors",
    "legal action",
    "class action",
    "small claims",
)
SAFETY = _words(
    "unsafe injured injury injuries hospital hospitalized hospitalised dangerous hazard "
    "poisoning poisoned allergic ambulance burned",
    "food poisoning",
    "allergic reaction",
    "emergency landing",
    "could have died",
    "fire hazard",
    "caught fire",
)
PRIVACY = _words(
    "hacked breach leaked phishing unauthorized unauthorised compromised",
    "data breach",
    "identity theft",
    "my data",
    "personal data",
    "personal information",
    "was hacked",
)
DISCRIMINATION = _words(
    "discrimination discriminated discriminating racist racism sexist sexism homophobic ableist",
    "racially profiled",
)
REGULATOR = _words(
    "regulator ombudsman ftc faa fcc cfpb ofcom ofgem fca journalist reporter press bbb",
    "better business bureau",
    "consumer rights",
    "trading standards",
)
CHURN = _words(
    "boycott boycotting unsubscribed",
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
)

# Escalation kind -> (its reason in Slack, its words). Each kind is one reason.
ESCALATIONS: dict[str, tuple[str, Words]] = {
    "legal": ("legal threat", LEGAL),
    "safety": ("safety or health risk", SAFETY),
    "privacy": ("data breach or privacy", PRIVACY),
    "discrimination": ("discrimination", DISCRIMINATION),
    "regulator": ("media or regulator mention", REGULATOR),
    "churn": ("churn or boycott", CHURN),
}
# Word or phrase -> escalation kind; reputation.signals reads these while it reads the text.
ESCALATION_KIND: dict[str, str] = {
    item: kind
    for kind, (_, found) in ESCALATIONS.items()
    for item in (*found.words, *found.phrases)
}

# Categories for routing and the digest, in order of precedence: earlier ones win ties, as
# they are the ones a team must not miss. `praise` and `other` have no words.
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
# Category -> the escalation kind whose words it shares.
_SHARED = {
    "legal": "legal",
    "safety_health": "safety",
    "privacy_security": "privacy",
    "staff_conduct": "discrimination",
}
# Words of the categories that are no escalation (staff_conduct has both).
_OWN: dict[str, Words] = {
    "staff_conduct": _words(
        "rude unprofessional yelled shouted attendant attendants crew driver waiter cashier",
        "was rude",
    ),
    "delay_cancellation": _words(
        "delay delayed delays late cancel cancelled canceled cancellation stranded diverted "
        "rescheduled rebooked overbooked bumped",
        "missed connection",
        "missed my",
    ),
    "lost_damaged": _words(
        "lost missing damaged stolen bag bags luggage baggage suitcase package parcel delivery "
        "stroller",
        "never arrived",
    ),
    "billing_refund": _words(
        "refund refunds refunded charged charge charges fee fees billing bill billed "
        "overcharged invoice payment paid price voucher compensation credit subscription",
        "money back",
        "charged twice",
    ),
    "outage_bug": _words(
        "app website site login log crash crashed crashing outage down error bug glitch server "
        "offline update loading",
        "not loading",
        "won't load",
    ),
    "product_defect": _words(
        "broken defective faulty cracked leaking malfunction quality stopped recall",
        "stopped working",
        "doesn't work",
        "not working",
    ),
    "customer_service": _words(
        "hold support service agent phone call email dm chat respond response reply answer "
        "waiting queue",
        "on hold",
        "customer service",
        "no response",
        "no answer",
    ),
}
_NAMES = [c for c in CATEGORIES if c in _SHARED or c in _OWN]
_CATEGORY_OF_KIND = {kind: _NAMES.index(category) for category, kind in _SHARED.items()}
# Word or two-word phrase -> the categories it votes for (escalation words vote through what
# reputation.signals found, so they are not here).
_VOTES: dict[str, tuple[int, ...]] = {}
for _category, _found in _OWN.items():
    for _item in (*_found.words, *_found.phrases):
        _VOTES[_item] = (*_VOTES.get(_item, ()), _NAMES.index(_category))
_PHRASE_STARTS = frozenset(p.split()[0] for found in _OWN.values() for p in found.phrases)
_WORDS = frozenset(k for k in _VOTES if " " not in k)


def escalations(signals: Signals) -> list[str]:
    """Readable escalation reasons found in the text, in ESCALATIONS order, each once."""
    found = signals.evidence.get("escalation")
    if not found:
        return []
    kinds = {ESCALATION_KIND.get(item) for item in found}
    return [reason for kind, (reason, _) in ESCALATIONS.items() if kind in kinds]


def categorize(signals: Signals, complaint: float) -> str:
    """The category with most word hits (ties: the earlier, more serious one); `praise` for
    clearly positive text that is no complaint; `other` when nothing matches."""
    if complaint < 0.3 and signals.values[0] >= 0.5:
        return "praise"
    tokens = signals.tokens
    escalated = signals.evidence.get("escalation", ())
    words = _WORDS.intersection(tokens)  # a set operation: most tokens vote for nothing
    starts = _PHRASE_STARTS.intersection(tokens)
    if not (escalated or words or starts):
        return "other"
    votes = [0] * len(_NAMES)
    for item in escalated:
        index = _CATEGORY_OF_KIND.get(ESCALATION_KIND[item])
        if index is not None:
            votes[index] += 2 if " " in item else 1  # a phrase says more than a word
    for word in words:
        count = tokens.count(word)
        for index in _VOTES[word]:
            votes[index] += count
    if starts:  # one pass over the word pairs, whatever the number of phrase starts
        for first, second in pairwise(tokens):
            if first in starts:
                for index in _VOTES.get(f"{first} {second}", ()):
                    votes[index] += 2  # a phrase says more than a word
    top = max(votes)
    return _NAMES[votes.index(top)] if top else "other"
