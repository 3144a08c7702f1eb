"""Scoring: sentiment, complaint probability, category, severity with reasons, viral risk.

docs/scoring.md explains every number. The scorer reads mention rows as the store returns
them, with their engagement snapshots, and writes one Score per mention.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from reputation import complaint as detector
from reputation.brands import Brand, normalize_handle
from reputation.categories import categorize, escalations
from reputation.fastvader import FastVader
from reputation.features import VADER_NEGATIVE, VADER_POSITIVE, Signals
from reputation.models import Score
from reputation.severity import harm_of, severity, spread_of, spread_reason
from reputation.signals import extract
from reputation.text import normalize
from reputation.viral import assess


@dataclass(frozen=True)
class ScoringSettings:
    """The `scoring` config: the complaint threshold, the share of complaints in the brand's
    stream (`prevalence`, the detector's prior), and an optional trained model blended with
    the built-in detector (`model_weight` is the model's share); `workers`: processes that
    score a large batch (1: in this process; "auto": one per core)."""

    threshold: float = detector.DEFAULT_THRESHOLD
    prevalence: float = detector.DEFAULT_PREVALENCE
    model: Path | None = None
    model_weight: float = 0.7
    workers: int | str = 1


class TextAnalysis(NamedTuple):
    """What the text alone says: sentiment, signals, complaint probability."""

    sentiment: float
    signals: Signals
    complaint: float


class Scorer:
    """Scores mentions; load it once per run (VADER's lexicon and any model load here)."""

    def __init__(
        self,
        settings: ScoringSettings | None = None,
        model: Any = None,
        brands: Sequence[Brand] = (),
    ):
        self.settings = settings or ScoringSettings()
        self.vader = FastVader()
        # Each brand's terms and handles, lower-case: who a complaint can be aimed at.
        self.terms = {
            b.name: tuple(t.lower() for t in b.terms)
            + tuple("@" + normalize_handle(a) for a in b.own_accounts)
            for b in brands
        }
        if model is None and self.settings.model is not None:
            from reputation.classifier import load_model

            model = load_model(self.settings.model)
        self.model = model

    def analyse(
        self, texts: Sequence[str], brands: Sequence[str | None] | None = None
    ) -> list[TextAnalysis]:
        """Sentiment, signals and complaint probability of each text (a batch, for the model);
        `brands` names each text's brand, if known."""
        out = []
        score = self.vader.scores_and_words
        prevalence = self.settings.prevalence
        known = self.terms
        names = brands if brands is not None and known else [None] * len(texts)
        for text, brand in zip(texts, names, strict=True):
            clean = normalize(text)
            vader, words, shouted = score(clean) if clean else (_NEUTRAL, [], [])
            terms = known.get(brand) if brand else None
            signals = extract(clean, vader, words, shouted, terms)
            complaint = detector.probability(signals, prevalence)
            out.append(TextAnalysis(vader["compound"], signals, complaint))
        if self.model is not None and out:
            share = self.settings.model_weight
            learned = self.model.probabilities(texts)
            out = [
                TextAnalysis(a.sentiment, a.signals, share * p + (1 - share) * a.complaint)
                for a, p in zip(out, learned, strict=True)
            ]
        return out

    def score(
        self,
        row: Mapping[str, Any],
        snapshots: Sequence[Mapping[str, Any]],
        threads: Mapping[str, float] | None = None,
    ) -> Score:
        """Score one mention; `snapshots` are its engagement observations, oldest first;
        `threads` the stored complaint probability of its parent and thread root, by key."""
        return self.score_many([row], {row["key"]: snapshots}, threads)[0]

    def score_many(
        self,
        rows: Sequence[Mapping[str, Any]],
        snapshots: Mapping[str, Sequence[Mapping[str, Any]]],
        threads: Mapping[str, float] | None = None,
    ) -> list[Score]:
        """Score a chunk of mentions (the trained model, if any, runs once per chunk).
        `threads` maps `"{source}:{id}"` keys of parents and thread roots to their stored
        complaint probability; a parent scored in this chunk counts as it is scored now."""
        brands = [row.get("brand") for row in rows] if self.terms else None
        analyses = self.analyse([row["text"] for row in rows], brands)
        inherited = [0.0] * len(rows)
        if any(row.get("parent_id") or row.get("thread_id") for row in rows):
            known = dict(threads or {})
            known.update((r["key"], a.complaint) for r, a in zip(rows, analyses, strict=True))
            inherited = [_inherited(row, known) for row in rows]
        return [
            self._score(row, snapshots.get(row["key"], ()), analysis, parent)
            for row, analysis, parent in zip(rows, analyses, inherited, strict=True)
        ]

    def _score(
        self,
        row: Mapping[str, Any],
        snapshots: Sequence[Mapping[str, Any]],
        text: TextAnalysis,
        inherited: float,
    ) -> Score:
        threshold = self.settings.threshold
        complaint = text.complaint
        follow_up = inherited >= threshold and inherited > complaint and _follows_up(text)
        if follow_up:
            complaint = inherited
        reasons = detector.reasons(text.signals, complaint, threshold)
        if follow_up:
            reasons[1:1] = [f"follow-up in a complaint thread ({inherited:.0%})"]
        if text.sentiment <= VADER_NEGATIVE:
            reasons.append(f"negative sentiment ({text.sentiment:+.2f})")
        is_complaint = complaint >= threshold
        harm = harm_of(text.signals, complaint, read_words=is_complaint)
        if is_complaint:
            reasons.append(harm.reason())
        if "escalation" in text.signals.evidence:
            reasons.extend(escalations(text.signals))
        viral = assess(row, snapshots)
        followers = row.get("author_followers")
        spread = spread_reason(followers, viral)
        if spread:
            reasons.append(spread)
        reasons.extend(viral.reasons())
        level = severity(harm, spread_of(followers, viral), viral.risk, is_complaint)
        return Score(
            mention_key=row["key"],
            sentiment=text.sentiment,  # VADER's compound: four decimals already
            complaint=round(complaint, 4),
            severity=round(level, 4),
            viral_risk=round(viral.risk, 4),
            predicted_engagement_24h=round(viral.predicted_24h, 1),
            category=categorize(text.signals, complaint),
            reasons=tuple(reasons),
        )


_NEUTRAL = {"neg": 0.0, "neu": 1.0, "pos": 0.0, "compound": 0.0}
# Signals that a reply has moved on from the complaint it answers: thanks, a fix, a joke.
_MOVED_ON = ("praise", "resolved", "retraction", "high_rating", "laughing", "positive_emoji")


def _inherited(row: Mapping[str, Any], known: Mapping[str, float]) -> float:
    """The complaint probability of the mention's parent or thread root, whichever is higher
    (0 when neither is known)."""
    parent, thread = row.get("parent_id"), row.get("thread_id")
    if not parent and not thread:
        return 0.0
    source = row.get("source")
    keys = [f"{source}:{native}" for native in (parent, thread) if native]
    return max((known[k] for k in keys if k in known and k != row.get("key")), default=0.0)


def _follows_up(text: TextAnalysis) -> bool:
    """A reply that keeps the complaint open ("any update?", "still nothing"): not positive,
    not thanks, a fix, a retraction or a joke."""
    signals = text.signals
    return text.sentiment < VADER_POSITIVE and not any(signals[n] > 0 for n in _MOVED_ON)
