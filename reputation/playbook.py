"""The next-step playbook: what to do first about an incident of each category.

Domain advice, not presentation: every sink may show it (Slack does, on each incident).
"""

from __future__ import annotations

NEXT_STEPS = {
    "legal": "Don't argue in public: acknowledge, move to DM, and bring in legal first.",
    "safety_health": "Reply fast and with care, escalate to the safety team, never dismiss it.",
    "privacy_security": "Move to DM, never ask for personal data in public, alert security.",
    "outage_bug": "Confirm with engineering, post one status update, answer the top posts with it.",
    "delay_cancellation": "Share rebooking options and the compensation policy, big reach first.",
    "lost_damaged": "Apologise, open a claim, and DM the file or tracking reference.",
    "billing_refund": "Take it to DM to check the account; state the refund timeline in public.",
    "staff_conduct": "Apologise, ask for details in DM, and loop in the team lead.",
    "customer_service": "Reply in public with a real name and a way to reach someone now.",
    "product_defect": "Apologise, offer a repair or replacement, and log it for the product team.",
    "pipeline": "Check the connector: credentials, rate limits, and `reputation run --json`.",
}
DEFAULT_STEP = "Open the post, reply in public, and take it to DM if needed."


def next_step(category: str) -> str:
    """The first thing to do about an incident of `category` (a general step if unknown)."""
    return NEXT_STEPS.get(category, DEFAULT_STEP)
