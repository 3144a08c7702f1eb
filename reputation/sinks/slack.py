"""The Slack sink: Block Kit messages through slack-sdk's WebClient, user text escaped."""

from __future__ import annotations

import time
import urllib.error
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from reputation.links import post_url
from reputation.models import IncidentMessage, IncidentSummary, ScoredMention
from reputation.playbook import next_step
from reputation.sinks.base import Delivered, IncidentView, SinkError, SinkUnavailable
from reputation.text import compact_count, normalize, shorten, slack_escape, slack_inert, slack_text
from reputation.timeutil import parse_time
from reputation.validate import Field, defaults

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

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:
        if not super()._can_retry(state=state, request=request, response=response, error=error):
            return False
        values = {k.lower(): v for k, v in response.headers.items()}.get("retry-after") or ["1"]
        try:
            return float(values[0]) <= self.max_wait
        except ValueError:
            return False


class SlackSink:
    """Posts each incident once to its route's channel (or the sink's `channel`), updates it in
    place with one thread reply per run, and announces escalations on the critical route;
    posts are paced to `min_interval` per channel, Slack's guidance being one a second."""

    type: ClassVar[str] = "slack"
    OPTIONS: ClassVar[Mapping[str, Field]] = {
        "channel": Field("str", required=True),
        "token_env": Field("env", default="SLACK_BOT_TOKEN"),
        "base_url": Field("url", default=DEFAULT_BASE_URL),
        "timeout": Field("duration", default="15s", min=1, max=300, bare_seconds=True),
        "max_retry_wait": Field("duration", default="30s"),
        "min_interval": Field("duration", default="1s"),
    }

    def __init__(
        self,
        name: str,
        options: Mapping[str, Any],
        env: Mapping[str, str],
        client: WebClient | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        options = {**defaults(self.OPTIONS), **options}
        self.name = name
        self.channel = options["channel"]
        token = env.get(options["token_env"], "")
        if client is None and not token:
            raise SinkUnavailable(f"environment variable {options['token_env']} is not set")
        base_url = options["base_url"]
        self.min_interval = options["min_interval"].total_seconds()
        self.clock, self.sleep = clock, sleep
        self.last_post: dict[str, float] = {}
        self.client = client or WebClient(
            token=token,
            base_url=base_url if base_url.endswith("/") else base_url + "/",
            timeout=int(options["timeout"].total_seconds()),  # durations are whole seconds
            retry_handlers=[
                ConnectionErrorRetryHandler(max_retry_count=1),
                _CappedRateLimitRetry(max_wait=options["max_retry_wait"].total_seconds()),
                ServerErrorRetryHandler(max_retry_count=1),
            ],
        )

    def post(self, view: IncidentView) -> Delivered:
        """Post a new incident as a top-level message."""
        channel = view.incident.get("route") or self.channel
        text, blocks = incident_message(view)
        ts = self._post(channel, text, blocks, view)
        return Delivered(message_id=ts, channel=channel)

    def update(self, view: IncidentView, message: IncidentMessage) -> Delivered:
        """Rewrite the incident's message in place and reply in its thread with what is new."""
        channel = message.get("channel") or view.incident.get("route") or self.channel
        ts = message.get("message_id")
        text, blocks = incident_message(view)
        try:
            self._call(
                self.client.chat_update, channel, channel=channel, ts=ts, text=text, blocks=blocks
            )
        except SinkError as exc:
            if "message_not_found" not in str(exc) and "cant_update_message" not in str(exc):
                raise
            return self.post(view)  # someone deleted it: start the thread again
        reply_text, reply_blocks = thread_reply(view)
        self._post(channel, reply_text, reply_blocks, view, thread_ts=ts)
        return Delivered(message_id=ts, channel=channel)

    def escalate(self, view: IncidentView, message: IncidentMessage | None) -> Delivered:
        """Post once to the critical route that the incident became critical."""
        channel = view.critical_route or self.channel
        text, blocks = escalation_message(view, message)
        return Delivered(message_id=self._post(channel, text, blocks, view), channel=channel)

    def flush(self) -> None:
        """Nothing is buffered."""

    def _post(
        self,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]],
        view: IncidentView,
        thread_ts: str | None = None,
    ) -> str | None:
        self._pace(channel)
        response = self._call(
            self.client.chat_postMessage,
            channel,
            channel=channel,
            text=text,
            blocks=blocks,
            thread_ts=thread_ts,
            unfurl_links=False,
            unfurl_media=False,
            metadata={
                "event_type": "reputation_incident",
                "event_payload": {"incident": view.incident["id"]},
            },
        )
        return response.get("ts")

    def _pace(self, channel: str) -> None:
        """Wait until `min_interval` has passed since the last post to `channel`: queue, never
        drop."""
        last = self.last_post.get(channel)
        if last is not None:
            wait = self.min_interval - (self.clock() - last)
            if wait > 0:
                self.sleep(wait)
        self.last_post[channel] = self.clock()

    def _call(self, method: Callable[..., Any], where: str, **kwargs: Any) -> Any:
        """Call a WebClient method; Slack's failures become SinkErrors naming `where`."""
        try:
            return method(**kwargs)
        except SlackApiError as exc:
            raise _classify(exc, where) from None
        except (SlackRequestError, urllib.error.URLError, TimeoutError, OSError) as exc:
            raise SinkError(f"cannot reach Slack: {exc}", scope="sink") from None


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


def incident_message(view: IncidentView) -> tuple[str, list[dict[str, Any]]]:
    """Fallback text and blocks of an incident's main message; strangers' text is escaped."""
    incident, lead = view.incident, view.lead
    severity = incident["severity"]
    summary = slack_text(lead["summary"])
    why = slack_text("; ".join(lead["reasons"])) or "rule matched"
    header = shorten(f"{severity.upper()}: {incident['title']}", HEADER_LIMIT)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header}},
        _section(_fit(f"{_ICON.get(severity, '')} *{summary}*\n*Why:* {why}", SECTION_LIMIT)),
        {"type": "section", "fields": _fields(incident)},
    ]
    blocks.extend(_mention_block(m) for m in view.top[:3])
    if view.top:
        top = view.top[0]
        blocks.append(
            _context(
                f"{top['category'].replace('_', ' ')} · {top['engagement']:,} engagements · "
                f"viral risk {top['viral_risk']:.2f} · severity {top['severity']:.2f}"
            )
        )
    blocks.append(_context(f"*Next:* {next_step(incident['category'])}"))
    blocks.append(
        _context(
            f"Incident #{incident['id']} · {incident['status']} · "
            f"alerts from rule {slack_text(lead['rule'])}"
        )
    )
    text = shorten(
        f"[{severity.upper()}] {lead['rule']}: {summary} ({incident['mentions']} mentions)", 3000
    )
    return text, blocks


def thread_reply(view: IncidentView) -> tuple[str, list[dict[str, Any]]]:
    """What a run adds to an incident's thread: its new alerts and new mentions."""
    alerts = "\n".join(f"• {slack_text(a['summary'])}" for a in view.alerts[:5])
    head = f"*+{view.new_count} new mention(s)*, {len(view.alerts)} new alert(s)\n{alerts}"
    blocks = [_section(_fit(head, SECTION_LIMIT)), *(_mention_block(m) for m in view.new[:3])]
    return shorten(
        f"+{view.new_count} new mention(s): {slack_text(view.lead['summary'])}", 3000
    ), blocks


def escalation_message(
    view: IncidentView, message: IncidentMessage | None
) -> tuple[str, list[dict[str, Any]]]:
    """The one post on the critical route when an incident becomes critical."""
    incident = view.incident
    channel = message.get("channel") if message else None
    where = f" (thread in {slack_text(channel)})" if channel else ""
    title = slack_text(incident["title"])
    header = shorten(f"ESCALATED: {incident['title']}", HEADER_LIMIT)
    body = f":rotating_light: *{title} is now critical*{where}\n{slack_text(view.lead['summary'])}"
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": header}},
        _section(_fit(body, SECTION_LIMIT)),
        {"type": "section", "fields": _fields(incident)},
        *(_mention_block(m) for m in view.top[:1]),
    ]
    return shorten(f"[CRITICAL] Escalated: {incident['title']}{where}", 3000), blocks


def _fields(incident: IncidentSummary) -> list[dict[str, Any]]:
    since = parse_time(incident["opened_at"]).strftime("%Y-%m-%d %H:%M")
    last = parse_time(incident["last_event_at"]).strftime("%H:%M UTC")
    return [
        {"type": "mrkdwn", "text": f"*Mentions:* {incident['mentions']:,}"},
        {"type": "mrkdwn", "text": f"*Reach:* {compact_count(incident['reach'])} followers"},
        {"type": "mrkdwn", "text": f"*Category:* {incident['category'].replace('_', ' ')}"},
        {"type": "mrkdwn", "text": f"*Active:* {since} \N{EN DASH} {last}"},
    ]


def _mention_block(m: ScoredMention) -> dict[str, Any]:
    name = m.get("author")
    author = slack_text(f"@{name.lstrip('@')}") if name else "unknown author"
    followers = m.get("author_followers")
    reach = f" ({followers:,} followers)" if followers else ""
    when = parse_time(m["created_at"]).strftime("%Y-%m-%d %H:%M UTC")
    head = f"*{author}*{reach} on {slack_text(m['source'])} · {when}\n"
    body = _fit_quote(slack_inert(normalize(m["text"])), MENTION_LIMIT - len(head))
    block = _section(head + body)
    url = post_url(m)  # the platform's own link to this post, or none
    if url is not None and len(url) <= 3000:
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
