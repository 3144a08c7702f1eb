"""Reply drafts in the brand's voice, with a guard: a mention that carries legal, safety,
privacy or discrimination signals gets "route to legal/comms first" instead of a draft.

Templates live in the config (`drafts:` by category, or `default`) and may use `{handle}`
(the author, as @handle), `{issue}` (what the category is about) and `{brand}`. A draft is
plain text; whoever shows it escapes it (the handle is a stranger's).
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass

from reputation.categories import ESCALATIONS
from reputation.models import ScoredMention

PLACEHOLDERS = ("handle", "issue", "brand")
DEFAULT_TEMPLATE = (
    "Hi {handle}, we're sorry about {issue}. We'd like to put this right: please send us a DM"
    " with the details and we'll look into it straight away."
)
ISSUES = {
    "delay_cancellation": "the delay",
    "lost_damaged": "your lost or damaged item",
    "billing_refund": "the billing problem",
    "outage_bug": "the problem with our service",
    "product_defect": "the problem with your product",
    "customer_service": "the service you received",
    "staff_conduct": "how you were treated",
    "praise": "your kind words",
}
DEFAULT_ISSUE = "your experience"
# What must go to legal or comms before anyone answers: the scorer's reasons for these
# kinds, these categories, and (should the scorer miss it) these words in the text.
GUARDED_KINDS = ("legal", "safety", "privacy", "discrimination")
GUARDED_REASONS = {ESCALATIONS[kind][0]: kind for kind in GUARDED_KINDS}
GUARDED_CATEGORIES = {"legal": "legal", "safety_health": "safety", "privacy_security": "privacy"}
# Should the scorer miss it, the same words the scorer reads for each kind (one list each,
# in reputation.categories), found in the text; longest first, so phrases win.
_KIND_OF = {
    item: kind
    for kind in GUARDED_KINDS
    for item in (*ESCALATIONS[kind][1].words, *ESCALATIONS[kind][1].phrases)
}
_GUARDED_WORDS = re.compile(
    r"\b(?:" + "|".join(map(re.escape, sorted(_KIND_OF, key=len, reverse=True))) + r")\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Draft:
    """A reply to suggest (`text`), or why there is none (`guard`: the kinds of signal that
    send it to legal/comms first)."""

    text: str | None
    guard: tuple[str, ...] = ()


def check_template(template: str) -> str | None:
    """Why a template cannot be used (an unknown placeholder, a broken brace), or None."""
    try:
        fields = [f for _, f, spec, conv in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        return f"not a template ({exc}; write a literal brace as {{{{ or }}}})"
    unknown = sorted({f for f in fields if f not in PLACEHOLDERS})
    if unknown:
        return f"unknown placeholder {{{unknown[0]}}} (use {{handle}}, {{issue}}, {{brand}})"
    return None


def guard_kinds(mention: ScoredMention, category: str) -> tuple[str, ...]:
    """The guarded kinds of signal in a mention: from its reasons, its category or its
    incident's category, and its words."""
    kinds = {GUARDED_REASONS[r] for r in mention["reasons"] if r in GUARDED_REASONS}
    for name in (mention["category"], category):
        if name in GUARDED_CATEGORIES:
            kinds.add(GUARDED_CATEGORIES[name])
    for word in _GUARDED_WORDS.findall(mention["text"]):
        kinds.add(_KIND_OF[word.lower()])
    return tuple(k for k in GUARDED_KINDS if k in kinds)


def draft_for(
    templates: Mapping[str, str], brand: str, mention: ScoredMention, category: str
) -> Draft:
    """The draft reply to `mention` (of an incident of `category`), or the guard."""
    guard = guard_kinds(mention, category)
    if guard:
        return Draft(None, guard)
    template = templates.get(category) or templates.get("default") or DEFAULT_TEMPLATE
    author = (mention["author"] or "").strip().lstrip("@")
    values = {
        "handle": f"@{author}" if author else "there",
        "issue": ISSUES.get(category, DEFAULT_ISSUE),
        "brand": brand,
    }
    return Draft(template.format_map(values))


def guard_text(guard: tuple[str, ...]) -> str:
    """What is shown instead of a draft."""
    kinds = ", ".join(guard)
    return f"Route to legal/comms first: this mention carries {kinds} signals. No draft reply."
