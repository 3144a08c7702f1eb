"""Severity = harm × spread: how harsh a complaint is, times how far it will travel.

Harm (0..1) is the complaint's harshness, scaled down while the detector is unsure it is a
complaint at all (full from a probability of HARM_CONFIDENT up). Harshness rises from a
minor gripe beside praise, to a plain fault report, to disapproval, to an accusation, to
blame; an escalation (legal threat, safety, privacy, discrimination, media or regulator,
churn) sets its own floor. Spread (0..1) is the largest of the author's reach, the
engagement so far and the viral risk. Severity = harm × (SPREAD_FLOOR + (1 - SPREAD_FLOOR) ×
spread), so a harsh complaint nobody sees still counts for half; and a complaint whose viral
risk crosses viral.CRITICAL_RISK is critical whatever its harm. docs/scoring.md has the
levels and why.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from reputation import lexicon
from reputation.categories import ESCALATION_KIND
from reputation.features import FEATURES, Signals
from reputation.text import compact_count
from reputation.viral import CRITICAL_RISK, Viral

# Harshness by how the complaint is worded, lowest first.
MINOR, FAULT, DISAPPROVAL, ACCUSATION, BLAME = 0.3, 0.5, 0.65, 0.9, 0.95
# An escalation's own harshness: a floor, whatever the wording.
ESCALATION_HARM = {
    "legal": 1.0,
    "safety": 1.0,
    "discrimination": 1.0,
    "privacy": 0.95,
    "regulator": 0.9,
    "churn": 0.8,
}
HARM_CONFIDENT = 0.5  # complaint probability from which harm is the full harshness
SPREAD_FLOOR = 0.5  # a complaint nobody will see keeps this share of its harm
CRITICAL_SEVERITY = 0.9  # what a complaint going viral is set to, at least

_ACTS = frozenset(lexicon.ACTS)
_MITIGATIONS = frozenset(lexicon.MITIGATIONS)
_CONTRASTS = frozenset({"but", "though", "although"})
_DISAPPROVAL = ("strong_negative", "negated_praise", "sarcasm", "negative_hashtag")
_DISAPPROVAL_FLAGS = [
    FEATURES.index(n)
    for n in ("praise_then_problem", "low_rating", "shouting", "rhetorical", "scare_quote")
]
_PROBLEM_AND_PRAISE = FEATURES.index("problem_and_praise")


class Harm(NamedTuple):
    """How harsh a complaint is (0..1) and why, in words for a reason."""

    level: float
    kind: str
    words: tuple[str, ...] = ()

    def reason(self) -> str:
        """The harm as a reason: `harm: accusation (lied)`, `harm: fault report`."""
        shown = f" ({', '.join(self.words[:3])})" if self.words else ""
        return f"harm: {self.kind}{shown}"


def harm_of(signals: Signals, complaint: float, read_words: bool = True) -> Harm:
    """The complaint's harshness from its wording (read only if `read_words`, else a fault
    report's) and escalations, scaled by how sure the detector is that it is a complaint."""
    worded = _wording(signals) if read_words else _FAULT
    level = worded.level
    for item in signals.evidence.get("escalation", ()):
        level = max(level, ESCALATION_HARM[ESCALATION_KIND[item]])
    confidence = min(1.0, complaint / HARM_CONFIDENT)
    return Harm(level * confidence, worded.kind, worded.words)


_FAULT = Harm(FAULT, "fault report")
_MINOR = Harm(MINOR, "minor, beside praise")


def _wording(signals: Signals) -> Harm:
    """The harshest kind the words show (reputation.signals found blame and accusations):
    blame, accusation, disapproval, a fault report, or a minor gripe beside praise."""
    evidence = signals.evidence
    if "blame" in evidence:
        return Harm(BLAME, "blame", tuple(dict.fromkeys(evidence["blame"])))
    # The brand named as the subject of what went wrong: "Acme Air lost my bag".
    accused = [*evidence.get("accusation", ())]
    accused += [w for w in evidence.get("brand_subject", ()) if w in _ACTS]
    if accused:
        return Harm(ACCUSATION, "accusation", tuple(dict.fromkeys(accused)))
    values, tokens = signals.values, signals.tokens
    if values[_PROBLEM_AND_PRAISE] > 0 or (
        not _CONTRASTS.isdisjoint(tokens) and _mitigated(tokens)
    ):
        return _MINOR
    found = [w for name in _DISAPPROVAL if name in evidence for w in evidence[name]]
    if found or any(map(values.__getitem__, _DISAPPROVAL_FLAGS)):
        return Harm(DISAPPROVAL, "disapproval", tuple(dict.fromkeys(found)))
    return _FAULT


def _mitigated(tokens: list[str]) -> bool:
    """`slow but working`, `late but the crew were lovely`: the problem said to be small."""
    return any(
        token in _CONTRASTS and not _MITIGATIONS.isdisjoint(tokens[i + 1 : i + 5])
        for i, token in enumerate(tokens)
    )


def spread_of(followers: int | None, viral: Viral) -> float:
    """How far the complaint will travel, 0..1: the author's reach, the engagement so far or
    the viral risk, whichever is largest."""
    reach = min(1.0, math.log10(1 + followers) / 7) if followers else 0.0
    engagement = min(1.0, math.log10(1 + viral.engagement) / 4.5)
    return max(reach, engagement, viral.risk)


def spread_reason(followers: int | None, viral: Viral) -> str | None:
    """What says how far it goes (`spread: ~12k engagements in 24h likely, author has 48k
    followers`), or None when it goes nowhere much."""
    parts = []
    outlook = viral.outlook()
    if outlook:
        parts.append(outlook)
    if followers and followers >= 10_000:
        parts.append(f"author has {compact_count(followers)} followers")
    if viral.engagement >= 20:
        parts.append(f"{viral.engagement:,} engagements")
    return f"spread: {', '.join(parts)}" if parts else None


def severity(harm: Harm, spread: float, viral_risk: float, is_complaint: bool) -> float:
    """Harm × spread with a floor for spread; at least CRITICAL_SEVERITY for a complaint whose
    viral risk crosses the critical line."""
    value = harm.level * (SPREAD_FLOOR + (1 - SPREAD_FLOOR) * spread)
    if is_complaint and viral_risk >= CRITICAL_RISK:
        value = max(value, CRITICAL_SEVERITY)
    return min(1.0, value)
