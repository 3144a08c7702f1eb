"""Connectors: one module per source, and the CONNECTORS registry of their classes."""

from __future__ import annotations

from connectors.base import (
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
    from connectors.appstore import AppStoreConnector
    from connectors.file import FileConnector
    from connectors.googleplay import GooglePlayConnector
    from connectors.hackernews import HackerNewsConnector
    from connectors.mastodon import MastodonConnector
    from connectors.reddit import RedditConnector
    from connectors.rss import RssConnector
    from connectors.trustpilot import TrustpilotConnector
    from connectors.x import XConnector

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
