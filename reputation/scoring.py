"""Scoring: VADER sentiment, a first complaint estimate, severity with reasons, viral risk.

This is the foundation scorer; docs/scoring.md says how each number is made.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from reputation.models import Score
from reputation.text import normalize
from reputation.timeutil import parse_time

# Escalation signals: a phrase list per kind, with the reason shown to people.
ESCALATIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "legal": (
        "legal threat",
        (
            "lawyer",
            "lawyers",
            "lawsuit",
            "sue",
            "suing",
            "sued",
            "legal action",
            "attorney",
            "class action",
            "small claims",
            "court",
        ),
    ),
    "safety": (
        "safety or health risk",
        (
            "unsafe",
            "injured",
            "injury",
            "hospital",
            "smoke",
            "fire",
            "food poisoning",
            "emergency landing",
            "dangerous",
            "allergic reaction",
        ),
    ),
    "privacy": (
        "data breach or privacy",
        (
            "data breach",
            "hacked",
            "leaked",
            "my data",
            "privacy",
            "identity theft",
        ),
    ),
    "regulator": (
        "media or regulator mention",
        (
            "faa",
            "ftc",
            "dot",
            "bbb",
            "regulator",
            "journalist",
            "reporter",
            "ombudsman",
        ),
    ),
    "churn": (
        "churn or boycott",
        (
            "never again",
            "never flying",
            "boycott",
            "switching to",
            "cancel my",
            "cancelling my",
            "canceling my",
        ),
    ),
}

COMPLAINT_WORDS = re.compile(
    r"\b(delay(ed)?|cancel+ed|lost|broken|refund|on hold|no response|charged twice|worst|"
    r"stuck|waiting|rude|never again|still no|missing|damaged)\b",
    re.IGNORECASE,
)

CATEGORIES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        ("legal", r"\b(lawyer|lawsuit|sue|suing|attorney|class action|court)\b"),
        ("safety_health", r"\b(unsafe|injur\w*|hospital|smoke|fire|food poisoning|dangerous)\b"),
        ("privacy_security", r"\b(data breach|hacked|leak\w*|privacy|identity theft)\b"),
        ("delay_cancellation", r"\b(delay\w*|cancel\w*|late|stranded|missed (my )?connection)\b"),
        ("lost_damaged", r"\b(lost|missing|damaged|broken) (bag|luggage|suitcase|stroller)\b"),
        ("billing_refund", r"\b(refund|charged|charge|fee|billing|overcharged|money back)\b"),
        ("outage_bug", r"\b(app|website|site|login|crash\w*|outage|down|error|bug)\b"),
        ("staff_conduct", r"\b(rude|staff|crew|agent|attendant|employee)\b"),
        ("customer_service", r"\b(on hold|no response|customer service|support|hold music)\b"),
    )
)

_WORD_CACHE: dict[str, re.Pattern[str]] = {}


def _phrase_re(phrases: Sequence[str]) -> re.Pattern[str]:
    key = "|".join(phrases)
    if key not in _WORD_CACHE:
        alternation = "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in phrases)
        _WORD_CACHE[key] = re.compile(rf"\b(?:{alternation})\b", re.IGNORECASE)
    return _WORD_CACHE[key]


class Scorer:
    """Scores mention rows (as the store returns them) with their engagement snapshots."""

    def __init__(self) -> None:
        self.vader = SentimentIntensityAnalyzer()

    def score(self, row: Mapping[str, Any], snapshots: Sequence[Mapping[str, Any]]) -> Score:
        """Score one mention; `snapshots` are its engagement observations, oldest first."""
        text = normalize(row["text"])
        sentiment = self.vader.polarity_scores(text)["compound"] if text else 0.0
        reasons: list[str] = []
        negativity = max(0.0, -sentiment)
        if sentiment <= -0.05:
            reasons.append(f"negative sentiment ({sentiment:+.2f})")
        escalations = [
            label for label, phrases in ESCALATIONS.values() if _phrase_re(phrases).search(text)
        ]
        worded = bool(COMPLAINT_WORDS.search(text))
        complaint = _clamp(
            1.2 * negativity + (0.35 if worded else 0.0) + (0.2 if escalations else 0.0)
        )
        reach = _reach(row.get("author_followers"), reasons)
        viral = Viral.from_snapshots(row, snapshots)
        engagement = _clamp(math.log10(1 + viral.engagement) / 4.5)
        if viral.engagement >= 20:
            reasons.append(f"{viral.engagement:,} engagements")
        reasons.extend(viral.reasons)
        reasons.extend(escalations)
        concern = max(negativity, complaint)
        amplification = max(reach, engagement, viral.growth)
        severity = concern * (0.4 + 0.6 * amplification)
        if escalations and concern >= 0.2:
            severity += 0.25
        return Score(
            mention_key=row["key"],
            sentiment=round(sentiment, 4),
            complaint=round(complaint, 4),
            severity=round(_clamp(severity), 4),
            viral_risk=round(viral.risk, 4),
            predicted_engagement_24h=round(viral.predicted_24h, 1),
            category=categorize(text, sentiment),
            reasons=tuple(reasons),
        )


def categorize(text: str, sentiment: float) -> str:
    """The first matching complaint category, `praise` for clearly positive text, else `other`."""
    if sentiment >= 0.5:
        return "praise"
    for name, pattern in CATEGORIES:
        if pattern.search(text):
            return name
    return "other"


class Viral:
    """Engagement growth read from snapshots: velocity, growth signal and a 24-hour projection."""

    def __init__(self, engagement: int, hours: float, gained: int, span_hours: float):
        self.engagement = engagement
        self.reasons: list[str] = []
        per_hour = engagement / max(hours, 0.25)
        recent = gained / max(span_hours, 0.25) if gained > 0 else 0.0
        self.growth = _clamp(math.log10(1 + recent) / 4.5)
        self.risk = _clamp(math.log10(1 + max(per_hour, recent)) / 3)
        # A square-root growth law from the current age to 24 hours: a first, cautious estimate.
        self.predicted_24h = (
            engagement * math.sqrt(24 / max(hours, 1.0)) if hours < 24 else engagement
        )
        if gained > 0:
            self.reasons.append(
                f"engagement up {engagement - gained:,} → {engagement:,} in {_span(span_hours)}"
            )

    @classmethod
    def from_snapshots(
        cls, row: Mapping[str, Any], snapshots: Sequence[Mapping[str, Any]]
    ) -> Viral:
        """Build from a mention row and its snapshots (oldest first)."""
        created = parse_time(row["created_at"])
        last_seen = parse_time(row["last_seen_at"])
        engagement = int(row["likes"]) + int(row["shares"]) + int(row["replies"])
        hours = max((last_seen - created).total_seconds() / 3600, 0.0)
        gained, span = 0, 0.0
        if len(snapshots) >= 2:
            first = snapshots[0]
            first_total = first["likes"] + first["shares"] + first["replies"]
            gained = max(engagement - first_total, 0)
            span = (last_seen - parse_time(first["observed_at"])).total_seconds() / 3600
        return cls(engagement, hours, gained, span)


def _reach(followers: int | None, reasons: list[str]) -> float:
    if not followers:
        return 0.0
    if followers >= 10_000:
        reasons.append(f"author has {_compact(followers)} followers")
    return _clamp(math.log10(1 + followers) / 7)


def _compact(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M".replace(".0M", "M")
    if n >= 1_000:
        return f"{n / 1_000:.0f}k"
    return str(n)


def _span(hours: float) -> str:
    return f"{hours * 60:.0f} min" if hours < 2 else f"{hours:.0f}h"


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))
