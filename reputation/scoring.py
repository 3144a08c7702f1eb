"""Scoring: sentiment, complaint probability, category, severity with reasons, viral risk.

docs/scoring.md explains every number. The scorer reads mention rows as the store returns
them, with their engagement snapshots, and writes one Score per mention.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from reputation import complaint as detector
from reputation.categories import categorize, escalations
from reputation.fastvader import FastVader
from reputation.models import Score
from reputation.signals import VADER_NEGATIVE, Signals, extract
from reputation.text import compact_count, normalize
from reputation.viral import assess

ESCALATION_BOOST = 0.25


@dataclass(frozen=True)
class ScoringSettings:
    """The `scoring` config: the complaint threshold, and an optional trained model blended
    with the built-in detector (`model_weight` is the model's share)."""

    threshold: float = detector.DEFAULT_THRESHOLD
    model: Path | None = None
    model_weight: float = 0.7


class TextAnalysis(NamedTuple):
    """What the text alone says: sentiment, signals, complaint probability."""

    sentiment: float
    signals: Signals
    complaint: float


class Scorer:
    """Scores mentions; load it once per run (VADER's lexicon and any model load here)."""

    def __init__(self, settings: ScoringSettings | None = None, model: Any = None):
        self.settings = settings or ScoringSettings()
        self.vader = FastVader()
        if model is None and self.settings.model is not None:
            from reputation.model import load_model

            model = load_model(self.settings.model)
        self.model = model

    def analyse(self, texts: Sequence[str]) -> list[TextAnalysis]:
        """Sentiment, signals and complaint probability of each text (a batch, for the model)."""
        out = []
        score = self.vader.scores_and_words
        for text in texts:
            clean = normalize(text)
            vader, words, shouted = score(clean) if clean else (_NEUTRAL, [], 0)
            signals = extract(clean, vader, words, shouted)
            out.append(TextAnalysis(vader["compound"], signals, detector.probability(signals)))
        if self.model is not None and out:
            share = self.settings.model_weight
            learned = self.model.probabilities(texts)
            out = [
                TextAnalysis(a.sentiment, a.signals, share * p + (1 - share) * a.complaint)
                for a, p in zip(out, learned, strict=True)
            ]
        return out

    def score(self, row: Mapping[str, Any], snapshots: Sequence[Mapping[str, Any]]) -> Score:
        """Score one mention; `snapshots` are its engagement observations, oldest first."""
        return self.score_many([row], {row["key"]: snapshots})[0]

    def score_many(
        self,
        rows: Sequence[Mapping[str, Any]],
        snapshots: Mapping[str, Sequence[Mapping[str, Any]]],
    ) -> list[Score]:
        """Score a chunk of mentions (the trained model, if any, runs once per chunk)."""
        analyses = self.analyse([row["text"] for row in rows])
        return [
            self._score(row, snapshots.get(row["key"], ()), analysis)
            for row, analysis in zip(rows, analyses, strict=True)
        ]

    def _score(
        self, row: Mapping[str, Any], snapshots: Sequence[Mapping[str, Any]], text: TextAnalysis
    ) -> Score:
        reasons = detector.reasons(text.signals, text.complaint, self.settings.threshold)
        if text.sentiment <= VADER_NEGATIVE:
            reasons.append(f"negative sentiment ({text.sentiment:+.2f})")
        raised = escalations(text.signals)
        reasons.extend(raised)
        reach = _reach(row.get("author_followers"), reasons)
        viral = assess(row, snapshots)
        if viral.engagement >= 20:
            reasons.append(f"{viral.engagement:,} engagements")
        reasons.extend(viral.reasons())
        outlook = viral.outlook()
        if outlook:
            reasons.append(outlook)
        engagement = min(1.0, math.log10(1 + viral.engagement) / 4.5)
        amplification = max(reach, engagement, viral.risk)
        severity = text.complaint * (0.4 + 0.6 * amplification)
        if raised and text.complaint >= 0.2:
            severity += ESCALATION_BOOST
        return Score(
            mention_key=row["key"],
            sentiment=round(text.sentiment, 4),
            complaint=round(text.complaint, 4),
            severity=round(min(1.0, severity), 4),
            viral_risk=round(viral.risk, 4),
            predicted_engagement_24h=round(viral.predicted_24h, 1),
            category=categorize(text.signals, text.complaint),
            reasons=tuple(reasons),
        )


_NEUTRAL = {"neg": 0.0, "neu": 1.0, "pos": 0.0, "compound": 0.0}


def _reach(followers: int | None, reasons: list[str]) -> float:
    if not followers:
        return 0.0
    if followers >= 10_000:
        reasons.append(f"author has {compact_count(followers)} followers")
    return min(1.0, math.log10(1 + followers) / 7)
