"""Who a post speaks to, and how: questions that are complaints, blame and accusations, and
whether its negativity is aimed at the brand. Passes of reputation.signals.extract, apart
because they read sentences and targets rather than single words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from reputation import lexicon
from reputation.features import INDEX as _INDEX

_SECOND_PERSON = frozenset(lexicon.SECOND_PERSON)
_THANKS = frozenset({"thanks", "thank", "thx", "ty"})
_TRANSACTIONS = frozenset(lexicon.TRANSACTIONS)
_FUNCTION_WORDS = frozenset(lexicon.FUNCTION_WORDS)
_ACCUSATIONS = frozenset(lexicon.ACCUSATION_WORDS)
_ACTS = frozenset(lexicon.ACTS)
_AGENTS = frozenset({"you", "they", "u", "ya"})
_BETWEEN = frozenset({"have", "'ve", "just", "never", "still", "already", "also", "again"})
_BLAME = re.compile("|".join(map(re.escape, lexicon.BLAME_PHRASES)))
_ACCUSATION_PHRASE = re.compile("|".join(map(re.escape, lexicon.ACCUSATION_PHRASES)))


def _keys(phrases: list[str]) -> frozenset[str]:
    """The longest word of each phrase: a text without any of them holds none of them."""
    return frozenset(max(reversed(p.split()), key=len) for p in phrases)


_BLAME_KEYS = _keys(lexicon.BLAME_PHRASES)
_ACCUSATION_KEYS = _keys(lexicon.ACCUSATION_PHRASES)
_ACCUSING = _ACCUSATIONS | _BLAME_KEYS | _ACCUSATION_KEYS | _AGENTS
# Sarcasm speaks to someone ("thanks for the 3 hour delay"): the brand.
_SPOKEN_TO = [_INDEX[n] for n in ("sarcasm", "praise_then_problem")]
# Evidence words of a stated problem (for the question and target passes).
_STATED = ("failure", "trouble", "waiting", "strong_negative")
# A question and the clause it is in: from the last sentence or clause break before it.
_BREAKS = re.compile(r"([.!?;,\n]+)")
_WORDS = re.compile(r"[\w'-]+")
_CLAUSE_END = re.compile(r"[.!?;,\n]|\s(?:and|but|so|because)\s")
_PREPOSITIONS = frozenset(
    "with on at in from to via for by like of about into onto than per over".split()
)
(
    _I_QUESTION,
    _I_INQUIRY,
    _I_RHETORICAL,
    _I_STATED_PROBLEM_QUESTION,
    _I_ACCUSATION,
    _I_AIMED,
    _I_UNAIMED,
) = (
    _INDEX[n]
    for n in (
        "question",
        "inquiry",
        "rhetorical",
        "stated_problem_question",
        "accusation",
        "aimed",
        "unaimed",
    )
)


def read_questions(lower: str, values: list[float], evidence: dict[str, list[str]]) -> None:
    """Questions that are complaints: a problem stated outside the question ("you lost my bag,
    how will you fix this?"), and questions that ask nothing ("really??", "why?"). A question
    is the clause before a question mark, from the last sentence or clause break."""
    parts = _BREAKS.split(lower)
    parts.append("")  # the mark after the last clause, if it has none
    asked = [parts[i] for i in range(0, len(parts) - 1, 2) if "?" in parts[i + 1]]
    if "??" in lower or "?!" in lower or "!?" in lower or any(map(_asks_nothing, asked)):
        values[_I_RHETORICAL] = 1.0
    stated = [w for signal in _STATED for w in evidence.get(signal, ())]
    if not stated:
        return
    outside = " ".join(parts[i] for i in range(0, len(parts) - 1, 2) if "?" not in parts[i + 1])
    words = set(_WORDS.findall(outside))
    if any((w in outside) if " " in w else (w in words) for w in stated):
        # The question follows a problem it states: a demand for a fix, not an inquiry.
        values[_I_STATED_PROBLEM_QUESTION] = 1.0
        values[_I_QUESTION] = values[_I_INQUIRY] = 0.0


def _asks_nothing(clause: str) -> bool:
    """A question of at most four words, all of them closed-class words ("what now?")."""
    if len(clause) > 40:
        return False
    words = [w for w in clause.split() if not w.startswith("@")]
    return 0 < len(words) <= 4 and all(w.strip("'\"") in _FUNCTION_WORDS for w in words)


def read_accusations(
    tokens: list[str], values: list[float], evidence: dict[str, list[str]]
) -> None:
    """Blame ("your fault", "you ruined") and accusations ("lied", "ripped off", "you lost"):
    the brand said to have done wrong. Each pattern is tried only when its key word is in the
    text."""
    present = _ACCUSING.intersection(tokens)  # one pass; most texts have none of these
    if not present:
        return
    found = 0
    if not _BLAME_KEYS.isdisjoint(present):
        blamed = _BLAME.findall(" ".join(tokens))
        if blamed:
            evidence["blame"] = blamed
            found += len(blamed)
    accused = []
    if not _ACCUSATIONS.isdisjoint(present):
        accused += [t for t in tokens if t in _ACCUSATIONS]
    if not _ACCUSATION_KEYS.isdisjoint(present):
        accused += _ACCUSATION_PHRASE.findall(" ".join(tokens))
    if not _AGENTS.isdisjoint(present):
        accused += _accused_acts(tokens)
    if accused:
        evidence["accusation"] = accused
        found += len(accused)
    values[_I_ACCUSATION] = min(float(found), 3.0)


def _accused_acts(tokens: list[str]) -> list[str]:
    """`you lost`, `they have cancelled`: a failure the brand is said to have done."""
    found = []
    for i, token in enumerate(tokens[:-1]):
        if token not in _AGENTS:
            continue
        j = i + 1
        while j < len(tokens) - 1 and tokens[j] in _BETWEEN:
            j += 1
        if tokens[j] in _ACTS:
            found.append(f"{token} {tokens[j]}")
    return found


def read_target(
    text: str,
    lower: str,
    tokens: list[str],
    values: list[float],
    evidence: dict[str, list[str]],
    brand: Sequence[str] | None,
) -> None:
    """Whether a problem or negative sentiment is aimed at the brand: the brand addressed
    (its handle, the second person, thanks or sarcasm spoken to it), the customer's dealings
    with it ("my order"), or the brand as the subject of the problem. Venting, politics and
    sport that only name a brand are not."""
    aimed = (
        (brand is not None and _brand_subject(lower, evidence, brand))
        or _addressed(text, lower, brand)
        or not _SECOND_PERSON.isdisjoint(tokens)
        or any(map(values.__getitem__, _SPOKEN_TO))
        or not _THANKS.isdisjoint(tokens)
        or _dealings(tokens)
    )
    values[_I_AIMED if aimed else _I_UNAIMED] = 1.0


def _addressed(text: str, lower: str, brand: Sequence[str] | None) -> bool:
    """A handle of the brand in the text (any handle, when the brand's are unknown)."""
    if brand is None:
        return "@" in text
    return any(term in lower for term in brand if term.startswith("@"))


def _dealings(tokens: list[str]) -> bool:
    """`my order`, `our booking`: something the company handles for the customer."""
    return any(
        tokens[i] in ("my", "our") and tokens[i + 1] in _TRANSACTIONS
        for i in range(len(tokens) - 1)
    )


def _brand_subject(lower: str, evidence: dict[str, list[str]], brand: Sequence[str]) -> bool:
    """The brand, or something of the customer's from it, as the subject of a stated problem:
    named (not after a preposition: "watching it on Acme" is no subject) with the problem
    in the next few words of the same clause ("Acme Air lost my bag", "my Acme router keeps
    dropping")."""
    stated = [w for signal in _STATED for w in evidence.get(signal, ())]
    if not stated:
        return False
    for term in brand:
        if term[:1] in "@#":
            continue
        at = lower.find(term)
        while at >= 0:
            before = lower[max(0, at - 12) : at].split()
            if not before or before[-1] not in _PREPOSITIONS:
                clause = _CLAUSE_END.split(lower[at + len(term) : at + len(term) + 80], 1)[0]
                after = " ".join(clause.split()[:5])
                words = {w.strip("\"'()") for w in after.split()}
                found = [w for w in stated if ((w in after) if " " in w else (w in words))]
                if found:
                    evidence["brand_subject"] = found  # what the brand did, for severity
                    return True
            at = lower.find(term, at + len(term))
    return False
