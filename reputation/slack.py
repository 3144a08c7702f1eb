"""The Slack sink: Block Kit messages through slack-sdk's WebClient, user text escaped."""

from __future__ import annotations

import json
import urllib.error
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from reputation.sinks import Delivered, SinkError, SinkUnavailable
from reputation.text import shorten, slack_escape
from reputation.timeutil import parse_time
from reputation.validate import Field

DEFAULT_BASE_URL = "https://slack.com/api/"
HEADER_LIMIT = 150
SECTION_LIMIT = 3000
MENTION_LIMIT = 2000  # per quoted mention, keeping the whole message under ~12k characters
_ICON = {"critical": ":rotating_light:", "warning": ":warning:", "info": ":information_source:"}
# Errors that a retry can fix without anyone acting: keep the alert pending.
_TRANSIENT = {
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
    "team_added_to_org",
}
# Errors of the whole sink (credentials): pending until an operator fixes the token.
_SINK_LEVEL = {
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "missing_scope",
    "no_permission",
    "ekm_access_denied",
}
# Errors of one channel (the bot is not invited, say): pending, other channels go on.
_CHANNEL_LEVEL = {"channel_not_found", "not_in_channel", "is_archived", "restricted_action"}


class _CappedRateLimitRetry(RateLimitErrorRetryHandler):
    """Retries a 429 after its Retry-After, unless Slack asks for a longer wait than `max_wait`."""

    def __init__(self, max_wait: float, max_retry_count: int = 2):
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:  # noqa: ANN001
        if not super()._can_retry(state=state, request=request, response=response, error=error):
            return False
        values = {k.lower(): v for k, v in response.headers.items()}.get("retry-after") or ["1"]
        try:
            return float(values[0]) <= self.max_wait
        except ValueError:
            return False


class SlackSink:
    """Posts each alert once to its route's channel (or the sink's `channel`)."""

    type: ClassVar[str] = "slack"
    OPTIONS: ClassVar[Mapping[str, Field]] = {
        "channel": Field("str", required=True),
        "token_env": Field("env", default="SLACK_BOT_TOKEN"),
        "base_url": Field("url", default=DEFAULT_BASE_URL),
        "timeout": Field("int", default=15, min=1, max=300),
        "max_retry_wait": Field("duration", default="30s"),
    }

    def __init__(
        self,
        name: str,
        options: Mapping[str, Any],
        env: Mapping[str, str],
        client: WebClient | None = None,
    ) -> None:
        self.name = name
        self.channel = options["channel"]
        token = env.get(options["token_env"] or "SLACK_BOT_TOKEN", "")
        if client is None and not token:
            raise SinkUnavailable(f"environment variable {options['token_env']} is not set")
        base_url = options.get("base_url") or DEFAULT_BASE_URL
        wait = options.get("max_retry_wait")
        self.client = client or WebClient(
            token=token,
            base_url=base_url if base_url.endswith("/") else base_url + "/",
            timeout=options.get("timeout") or 15,
            retry_handlers=[
                ConnectionErrorRetryHandler(max_retry_count=1),
                _CappedRateLimitRetry(max_wait=wait.total_seconds() if wait else 30),
                ServerErrorRetryHandler(max_retry_count=1),
            ],
        )

    def send(self, alert: Mapping[str, Any], evidence: Sequence[Mapping[str, Any]]) -> Delivered:
        """Post the alert; raise SinkError saying whether to retry and what to pause."""
        channel = alert.get("route") or self.channel
        text, blocks = build_message(alert, evidence)
        try:
            response = self.client.chat_postMessage(
                channel=channel,
                text=text,
                blocks=blocks,
                unfurl_links=False,
                unfurl_media=False,
                metadata={
                    "event_type": "reputation_alert",
                    "event_payload": {"fingerprint": alert["fingerprint"], "rule": alert["rule"]},
                },
            )
        except SlackApiError as exc:
            raise _classify(exc, channel) from None
        except (SlackRequestError, urllib.error.URLError, TimeoutError, OSError) as exc:
            raise SinkError(f"cannot reach Slack: {exc}", scope="sink") from None
        return Delivered(message_id=response.get("ts"), channel=response.get("channel", channel))

    def flush(self) -> None:
        """Nothing is buffered."""


def _classify(exc: SlackApiError, channel: str) -> SinkError:
    status = getattr(exc.response, "status_code", 0) or 0
    data = getattr(exc.response, "data", None)
    code = data.get("error") if isinstance(data, dict) else None
    what = f"Slack answered HTTP {status}" + (f" {code}" if code else "")
    if status == 429 or status >= 500 or code in _TRANSIENT:
        return SinkError(f"{what}; will retry on a later run", scope="sink")
    if code in _SINK_LEVEL:
        return SinkError(f"{what}; check the bot token and its scopes", scope="sink")
    if code in _CHANNEL_LEVEL:
        return SinkError(f"{what} for {channel}; invite the bot or fix the route", scope="channel")
    return SinkError(f"{what}; the message was refused", permanent=True, scope="alert")


def build_message(
    alert: Mapping[str, Any], evidence: Sequence[Mapping[str, Any]]
) -> tuple[str, list[dict[str, Any]]]:
    """Fallback text and Block Kit blocks for an alert; every stranger's string is escaped."""
    severity = alert["severity"]
    reasons = (
        json.loads(alert["reasons"]) if isinstance(alert["reasons"], str) else alert["reasons"]
    )
    summary = slack_escape(alert["summary"])
    header = shorten(f"{severity.upper()}: {alert['rule']} ({alert['brand']})", HEADER_LIMIT)
    why = slack_escape("; ".join(reasons)) or "rule matched"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header}},
        _section(_fit(f"{_ICON.get(severity, '')} *{summary}*\n*Why:* {why}", SECTION_LIMIT)),
    ]
    for mention in evidence[:3]:
        blocks.append(_mention_block(mention))
    if evidence:
        top = evidence[0]
        blocks.append(
            _context(
                f"{top['category'].replace('_', ' ')} · {top['engagement']:,} engagements · "
                f"viral risk {top['viral_risk']:.2f} · severity {top['severity']:.2f}"
            )
        )
    blocks.append(_context("Next: open the post, reply in public, and take it to DM if needed."))
    text = shorten(f"[{severity.upper()}] {alert['rule']}: {summary}", 3000)
    return text, blocks


def _mention_block(m: Mapping[str, Any]) -> dict[str, Any]:
    author = slack_escape(f"@{m['author'].lstrip('@')}") if m.get("author") else "unknown author"
    followers = m.get("author_followers")
    reach = f" ({followers:,} followers)" if followers else ""
    when = parse_time(m["created_at"]).strftime("%Y-%m-%d %H:%M UTC")
    head = f"*{author}*{reach} on {slack_escape(m['source'])} · {when}\n"
    body = _fit_quote(m["text"], MENTION_LIMIT - len(head))
    block = _section(head + body)
    url = m.get("url") or ""
    if url.startswith(("https://", "http://")) and len(url) <= 3000:
        block["accessory"] = {
            "type": "button",
            "text": {"type": "plain_text", "text": "Open post"},
            "url": url,
            "action_id": "open_post",
        }
    return block


def _fit_quote(raw: str, limit: int) -> str:
    """The text escaped and quoted, cut (never inside an entity) to at most `limit` chars."""
    pieces, used = [">"], 1
    for char in raw:
        piece = "\n>" if char == "\n" else slack_escape(char)
        if used + len(piece) > limit - 1:
            pieces.append("…")
            break
        pieces.append(piece)
        used += len(piece)
    return "".join(pieces)


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text, "verbatim": True}]}
