"""Connectors: one module per source, and the CONNECTORS registry of their classes."""

from __future__ import annotations

from reputation.connectors.base import (
    ALL_BRANDS,
    BadItem,
    Batch,
    Connector,
    FetchContext,
    RateLimited,
    SourceError,
    classify,
    decode_state,
    encode_state,
)

__all__ = [
    "ALL_BRANDS", "CONNECTORS", "BadItem", "Batch", "Connector", "FetchContext", "RateLimited",
    "SourceError", "classify", "decode_state", "encode_state",
]  # fmt: skip


def _registry() -> dict[str, type[Connector]]:
    from reputation.connectors.appstore import AppStoreConnector
    from reputation.connectors.file import FileConnector
    from reputation.connectors.googleplay import GooglePlayConnector
    from reputation.connectors.hackernews import HackerNewsConnector
    from reputation.connectors.mastodon import MastodonConnector
    from reputation.connectors.reddit import RedditConnector
    from reputation.connectors.rss import RssConnector
    from reputation.connectors.trustpilot import TrustpilotConnector
    from reputation.connectors.x import XConnector

    return {
        cls.type: cls
        for cls in (
            FileConnector,
            XConnector,
            RedditConnector,
            AppStoreConnector,
            GooglePlayConnector,
            TrustpilotConnector,
            RssConnector,
            HackerNewsConnector,
            MastodonConnector,
        )
    }


CONNECTORS: dict[str, type[Connector]] = _registry()
