"""The foundation scorer: VADER sentiment, severity in 0..1 with readable reasons."""

from __future__ import annotations

import pytest

from reputation.scoring import Scorer


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer()


def row(text: str, followers: int | None = 100, likes: int = 0, seen: str = "2026-11-22T09:00:00Z"):
    return {
        "key": "x:1",
        "text": text,
        "author_followers": followers,
        "likes": likes,
        "shares": 0,
        "replies": 0,
        "created_at": "2026-11-22T08:00:00Z",
        "last_seen_at": seen,
    }


def snap(likes: int, at: str) -> dict:
    return {"likes": likes, "shares": 0, "replies": 0, "observed_at": at}


def test_negative_mention_has_reasons(scorer: Scorer) -> None:
    score = scorer.score(
        row("Acme Air is terrible, awful service", followers=48_000, likes=150), []
    )
    assert score.sentiment < -0.5
    assert 0 < score.severity <= 1
    assert score.reasons[:3] == (
        f"negative sentiment ({score.sentiment:+.2f})",
        "author has 48k followers",
        "150 engagements",
    )


def test_praise_is_not_severe(scorer: Scorer) -> None:
    score = scorer.score(
        row("Acme Air crew was wonderful, thank you so much!", followers=900_000), []
    )
    assert score.category == "praise"
    assert score.severity < 0.1


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Acme Air is awful, my lawyer will be in touch", "legal threat"),
        ("Smoke in the Acme Air cabin, this is unsafe and horrible", "safety or health risk"),
        ("Acme Air leaked my data in a data breach, terrible", "data breach or privacy"),
        ("Terrible Acme Air, never again", "churn or boycott"),
    ],
)
def test_escalation_signals_raise_severity_and_say_why(
    scorer: Scorer, text: str, reason: str
) -> None:
    plain = scorer.score(row("Acme Air is awful and terrible"), [])
    escalated = scorer.score(row(text), [])
    assert reason in escalated.reasons
    assert escalated.severity > plain.severity


def test_growth_across_snapshots_raises_severity(scorer: Scorer) -> None:
    text = "Acme Air lost my bag, horrible service"
    flat = scorer.score(
        row(text, likes=40, seen="2026-11-22T12:00:00Z"),
        [snap(40, "2026-11-22T08:30:00Z"), snap(40, "2026-11-22T12:00:00Z")],
    )
    grown = scorer.score(
        row(text, likes=4000, seen="2026-11-22T12:00:00Z"),
        [snap(40, "2026-11-22T08:30:00Z"), snap(4000, "2026-11-22T12:00:00Z")],
    )
    assert grown.severity > flat.severity
    assert grown.viral_risk > flat.viral_risk
    assert "engagement up 40 → 4,000 in 4h" in grown.reasons


def test_markup_is_stripped_before_sentiment(scorer: Scorer) -> None:
    tagged = scorer.score(row("<p>Acme Air is <b>terrible</b> &amp; <i>awful</i></p>"), [])
    plain = scorer.score(row("Acme Air is terrible & awful"), [])
    assert tagged.sentiment == plain.sentiment
