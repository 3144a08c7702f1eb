"""The Slack sink: Block Kit messages through slack-sdk's WebClient, user text escaped.

`chat.postMessage` has no idempotency key, so a post is only ever retried where it surely
did not arrive (the connection was refused, Slack answered 429). Where the outcome is unknown
(the connection dropped after the request went out, a 500, a client timeout) the attempt is
recorded as in doubt, and before posting again the sink looks for it in the channel by the
key its metadata carries (`conversations.history` / `.replies`, scope `channels:history`).
Without that scope it says so once per run and posts at most once more. `chat.update` and
the history reads are idempotent and retried.
"""

from __future__ import annotations

import email.utils
import http.client
import re
import socket
import time
import urllib.error
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from reputation.crashpoint import crash_point
from reputation.links import post_url
from reputation.models import IncidentMessage, IncidentSummary, ScoredMention, SinkPost, Transition
from reputation.playbook import next_step
from reputation.sinks.base import (
    Delivered,
    IncidentView,
    PostLog,
    SinkError,
    SinkUnavailable,
    WorkflowView,
)
from reputation.text import compact_count, normalize, shorten, slack_escape, slack_inert
from reputation.timeutil import parse_time
from reputation.validate import Field, defaults

DEFAULT_BASE_URL = "https://slack.com/api/"
EVENT_TYPE = "reputation_incident"  # the metadata event type of every post
# Slack's documented limits (Block Kit reference): header 150, section text 3,000, a
# button's url 3,000. Fallback text may be 40,000; ours stays short, as notifications are.
HEADER_LIMIT = 150
SECTION_LIMIT = 3000
BUTTON_URL_LIMIT = 3000
FALLBACK_LIMIT = 3000
# Our own shares of those, for fields of stranger origin: a quoted mention (three of them
# keep the whole message under Slack's ~12,000 characters of block text), an author, a
# source, a summary (it names the author), a rule or category name.
MENTION_LIMIT = 2000
AUTHOR_LIMIT = 100
SOURCE_LIMIT = 40
SUMMARY_LIMIT = 500
NAME_LIMIT = 100
# Calls per request: the first and two retries, where a retry is safe.
TRIES = 3
# A 429 without Retry-After (Slack always sends one; a proxy may not) waits this long.
DEFAULT_RETRY_AFTER = 60.0
# How far to read a channel for an earlier attempt: from its first try, less this much for
# the difference between our clock and Slack's, at most this many messages.
SEARCH_MARGIN = 600.0
SEARCH_PAGE, SEARCH_PAGES = 200, 10
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
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
# Of those, the ones after which Slack says some of the call may have been done.
_MAYBE_DONE = {"internal_error", "fatal_error", "service_unavailable"}
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
# Why a channel's history cannot be read to look for an earlier attempt.
_UNREADABLE = {"missing_scope", "not_in_channel", "channel_not_found", "thread_not_found",
               "no_permission", "access_denied", "busy"}  # fmt: skip


class _Unknown(Exception):
    """A call that may have been done: the request went out and no answer came back."""


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
        # Interactivity (reputation/interactivity.py): either one puts the workflow's buttons
        # on every incident message; `reputation serve` answers their clicks.
        "app_token_env": Field("env"),
        "signing_secret_env": Field("env"),
    }

    def __init__(
        self,
        name: str,
        options: Mapping[str, Any],
        env: Mapping[str, str],
        client: WebClient | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall: Callable[[], float] = time.time,
    ) -> None:
        options = {**defaults(self.OPTIONS), **options}
        self.name = name
        self.channel = options["channel"]
        token = env.get(options["token_env"], "")
        if client is None and not token:
            raise SinkUnavailable(f"environment variable {options['token_env']} is not set")
        base_url = options["base_url"]
        self.min_interval = options["min_interval"].total_seconds()
        self.max_wait = options["max_retry_wait"].total_seconds()
        self.clock, self.sleep, self.wall = clock, sleep, wall
        self.last_post: dict[str, float] = {}
        self.buttons = bool(options.get("app_token_env") or options.get("signing_secret_env"))
        # No retry handlers: whether a call may be repeated depends on the call (_request).
        self.client = client or WebClient(
            token=token,
            base_url=base_url if base_url.endswith("/") else base_url + "/",
            timeout=int(options["timeout"].total_seconds()),  # durations are whole seconds
            retry_handlers=[],
        )

    def post(self, view: IncidentView) -> Delivered:
        """Post a new incident as a top-level message."""
        channel = view.incident.get("route") or self.channel
        text, blocks = incident_message(view, buttons=self.buttons)
        return self._post(view, "main", channel, text, blocks)

    def update(self, view: IncidentView, message: IncidentMessage) -> Delivered:
        """Rewrite the incident's message in place and, if alerts are being delivered, reply
        in its thread with what is new."""
        channel = message.get("channel") or view.incident.get("route") or self.channel
        if not _CHANNEL_ID.match(channel):  # stored by a version that kept the #name
            channel = view.log.channel_id(channel) or channel
        ts = message.get("message_id")
        text, blocks = incident_message(view, buttons=self.buttons)
        try:
            self._request(
                "chat_update", channel, idempotent=True, channel=channel, ts=ts, text=text,
                blocks=blocks,
            )  # fmt: skip
        except SinkError as exc:
            if exc.code not in ("message_not_found", "cant_update_message"):
                raise
            # Someone deleted it: start the thread again, once per deleted message.
            route = view.incident.get("route") or self.channel
            return self._post(view, f"main after {ts}", route, text, blocks)
        if view.alerts:
            reply_text, reply_blocks = thread_reply(view)
            slot = f"reply after version {message['delivered_version']}"
            self._post(view, slot, channel, reply_text, reply_blocks, thread_ts=ts)
        return Delivered(message_id=ts, channel=channel)

    def escalate(self, view: IncidentView, message: IncidentMessage | None) -> Delivered:
        """Post once to the critical route that the incident became critical."""
        channel = view.critical_route or self.channel
        text, blocks = escalation_message(view, message)
        return self._post(view, "escalation", channel, text, blocks)

    def flush(self) -> None:
        """Nothing is buffered."""

    def show_workflow(
        self, view: IncidentView, message: IncidentMessage, events: Sequence[Transition],
        refresh: bool,
    ) -> None:  # fmt: skip
        """Show workflow changes: rewrite the incident's message in place (`refresh`), post
        one thread line per event, and announce an SLA breach once on the critical route."""
        ts = message.get("message_id")
        if not ts:
            return  # never posted (or deleted and not yet posted again): the next post shows it
        channel = self._message_channel(view, message)
        if refresh:
            text, blocks = incident_message(view, buttons=self.buttons)
            self._request("chat_update", channel, idempotent=True, channel=channel, ts=ts,
                          text=text, blocks=blocks)  # fmt: skip
        for event in events:
            line = _fit(event_line(event), SECTION_LIMIT)
            self._post(view, f"event {event['id']}", channel, line, [_section(line)],
                       thread_ts=ts)  # fmt: skip
            if event["action"] == "escalate":
                text, blocks = sla_message(view, event, channel)
                target = view.critical_route or self.channel
                self._post(view, f"sla {event['detail'].get('breach')}", target, text, blocks)

    def note(self, view: IncidentView, message: IncidentMessage, slot: str, text: str) -> bool:
        """Post `text` (mrkdwn, already inert) once in the incident's thread under `slot`;
        False if it was posted before."""
        ts = message.get("message_id")
        if not ts:
            raise SinkError("the incident has no message to reply to", scope="alert")
        record = view.log.get(slot)
        if record and record["message_id"]:
            return False
        channel = self._message_channel(view, message)
        self._post(view, slot, channel, _fit(text, FALLBACK_LIMIT), [_section(
            _fit(text, SECTION_LIMIT))], thread_ts=ts)  # fmt: skip
        return True

    def _message_channel(self, view: IncidentView, message: IncidentMessage) -> str:
        channel = message.get("channel") or view.incident.get("route") or self.channel
        if not _CHANNEL_ID.match(channel):  # stored by a version that kept the #name
            channel = view.log.channel_id(channel) or channel
        return channel

    def _post(
        self,
        view: IncidentView,
        slot: str,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]],
        thread_ts: str | None = None,
    ) -> Delivered:
        """Post one message of the incident, at most once (`announce`)."""
        subject = {"incident": view.incident["id"]}
        return self.announce(view.log, subject, slot, channel, text, blocks, thread_ts)

    def announce(
        self, log: PostLog, subject: Mapping[str, Any], slot: str, channel: str, text: str,
        blocks: list[dict[str, Any]], thread_ts: str | None = None,
    ) -> Delivered:  # fmt: skip
        """Post one message at most once, kept under `slot` in `log`: a post already made is
        returned as it was; one whose outcome is in doubt is looked for (by the key its
        metadata carries beside `subject`) before it is made again."""
        record = log.get(slot)
        if record and record["message_id"]:
            return Delivered(record["message_id"], record["channel_id"] or record["channel"])
        if record and record["in_doubt"]:
            found = self._find(log, record)
            if found:
                log.done(slot, *found)
                return Delivered(*found)
        record = log.begin(slot, channel, thread_ts, self.wall())
        self._pace(channel if _CHANNEL_ID.match(channel) else log.channel_id(channel) or channel)
        try:
            response = self._request(
                "chat_postMessage", channel, idempotent=False, channel=channel, text=text,
                blocks=blocks, thread_ts=thread_ts, unfurl_links=False, unfurl_media=False,
                metadata={"event_type": EVENT_TYPE, "event_payload": {
                    **subject, "post": record["post_key"]}},
            )  # fmt: skip
        except _Unknown as exc:
            log.failed(slot, str(exc), sent=None)
            raise SinkError(
                f"{exc}; Slack may have posted it, so the next run looks for it in"
                f" {channel} before posting again"
            ) from None
        except SinkError as exc:
            log.failed(slot, str(exc), sent=False)
            raise
        crash_point("post")  # a test hook (decision 140)  # pragma: no mutate
        ts, channel_id = response["ts"], response.get("channel") or channel
        log.done(slot, ts, channel_id)
        return Delivered(message_id=ts, channel=channel_id)

    def upload(
        self, log: PostLog, slot: str, channel: str, filename: str, data: bytes, title: str,
        thread_ts: str | None = None, alt_text: str = "",
    ) -> str | None:  # fmt: skip
        """Share a file in `channel` (an id; in the thread `thread_ts`) with slack-sdk's
        `files_upload_v2`, at most once under `slot`; returns its file id. An attempt whose
        outcome is unknown (no answer, or a 5xx, to the call that shares the file) is never
        repeated: None, with a warning. Other failures raise SinkError and may be retried."""
        record = log.get(slot)
        if record and record["message_id"]:
            return record["message_id"]
        if record and record["in_doubt"]:
            log.warn(f"sink {self.name}: {filename} may have been shared already (no answer"
                     " to an earlier upload); not uploading it again")  # fmt: skip
            return None
        log.begin(slot, channel, thread_ts, self.wall())
        try:
            response = self.client.files_upload_v2(
                channel=channel, file=data, filename=filename, title=title,
                thread_ts=thread_ts, alt_txt=alt_text or None,
            )  # fmt: skip
        except SlackApiError as exc:
            status = getattr(exc.response, "status_code", 0) or 0
            shared = "completeUploadExternal" in str(getattr(exc.response, "api_url", ""))
            unknown = shared and (status >= 500 or _code(exc) in _MAYBE_DONE)
            log.failed(slot, str(exc), sent=None if unknown else False)
            raise _classify(exc, channel) from None
        except (SlackRequestError, urllib.error.URLError, OSError) as exc:
            # SlackRequestError: refused before sending, or the upload itself was refused;
            # either way nothing was shared.
            sent = False if isinstance(exc, SlackRequestError) or _never_sent(exc) else None
            log.failed(slot, _reason(exc), sent=sent)
            raise SinkError(f"cannot upload to Slack: {_reason(exc)}", scope="sink") from None
        found = response.get("file") or {}
        file_id = str(found.get("id") or "uploaded")
        log.done(slot, file_id, channel)
        return file_id

    def _find(self, log: PostLog, record: SinkPost) -> tuple[str, str] | None:
        """(ts, channel id) of an earlier attempt found in its channel by its key; None when
        the channel was read and it is not there (the record then has no doubt left), or
        cannot be read and one more post is allowed. Raises when not even that is allowed."""
        try:
            channel = record["channel_id"] or self._channel_id(log, record["channel"])
            found = self._search(channel, record)
        except SinkError as exc:
            if exc.code not in _UNREADABLE:
                raise
            self._unreadable(log, record, str(exc))  # raises if no post is allowed
            return None
        if found is None:
            log.absent(record["slot"])
            return None
        return found, channel

    def _channel_id(self, log: PostLog, channel: str) -> str:
        """The id of a channel given by name (history is read by id only): from an earlier
        answer, else from conversations.list (scope channels:read)."""
        if _CHANNEL_ID.match(channel):
            return channel
        known = log.channel_id(channel)
        if known:
            return known
        name, cursor = channel.lstrip("#").lower(), None
        for _ in range(SEARCH_PAGES):
            page = self._request(
                "conversations_list", channel, idempotent=True, exclude_archived=True,
                types="public_channel,private_channel", limit=1000, cursor=cursor,
            )  # fmt: skip
            for found in page.get("channels") or []:
                if str(found.get("name", "")).lower() == name:
                    return str(found["id"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not page.get("has_more", bool(cursor)) or not cursor:
                break
        raise SinkError(f"no channel {channel} in the workspace", code="channel_not_found")

    def _search(self, channel: str, record: SinkPost) -> str | None:
        """The ts of the message carrying `record`'s key, reading `channel` (or the thread)
        from just before its first attempt; None if it is not there. A channel too busy to
        read to the end counts as unreadable."""
        method, extra = "conversations_history", {}
        if record["thread_ts"]:
            method, extra = "conversations_replies", {"ts": record["thread_ts"]}
        oldest = f"{max(0.0, record['first_attempt_at'] - SEARCH_MARGIN):.6f}"
        cursor = None
        for _ in range(SEARCH_PAGES):
            page = self._request(
                method, channel, idempotent=True, channel=channel, oldest=oldest,
                include_all_metadata=True, limit=SEARCH_PAGE, cursor=cursor, **extra,
            )  # fmt: skip
            for message in page.get("messages") or []:
                payload = (message.get("metadata") or {}).get("event_payload") or {}
                if payload.get("post") == record["post_key"]:
                    return message["ts"]
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not page.get("has_more") or not cursor:
                return None
        raise SinkError(f"more than {SEARCH_PAGE * SEARCH_PAGES} messages to read", code="busy")

    def _unreadable(self, log: PostLog, record: SinkPost, why: str) -> None:
        """The channel cannot be read for an earlier attempt: say so, and allow one more post
        (so at most two messages), or none if that one was made already."""
        log.warn(
            f"sink {self.name}: cannot look for posts whose outcome was unknown ({why}); give"
            " the bot the channels:history and channels:read scopes (groups:history and"
            " groups:read for private channels), or a message may appear twice"
        )
        if record["in_doubt"] >= 2:
            raise SinkError(
                f"posted twice to {record['channel']} with no answer, and its history cannot be"
                " read; not posting a third time: check the channel, then run"
                " `reputation alerts retry`",
                permanent=True,
                scope="alert",
            )

    def _pace(self, channel: str) -> None:
        """Wait until `min_interval` has passed since the last post to `channel`: queue, never
        drop."""
        last = self.last_post.get(channel)
        if last is not None:
            wait = self.min_interval - (self.clock() - last)
            if wait > 0:
                self.sleep(wait)
        self.last_post[channel] = self.clock()

    def _request(self, method: str, where: str, *, idempotent: bool, **kwargs: Any) -> Any:
        """Call a WebClient method, retrying only what is safe to repeat: anything that surely
        did not arrive (connection refused, a 429 asking for at most `max_retry_wait`), and
        any failure of an `idempotent` call. A non-idempotent call whose request went out
        unanswered raises _Unknown; every other failure a SinkError naming `where`."""
        for attempt in range(1, TRIES + 1):
            last = attempt == TRIES
            try:
                return getattr(self.client, method)(**kwargs)
            except SlackApiError as exc:
                status = getattr(exc.response, "status_code", 0) or 0
                code = _code(exc)
                if status == 429 or code == "ratelimited":
                    wait = self._retry_after(exc.response)
                    if wait > self.max_wait or last:
                        raise _rate_limited(status, wait) from None
                    self.sleep(wait)
                    continue
                maybe_done = status >= 500 or code in _MAYBE_DONE
                if maybe_done and not idempotent:
                    raise _Unknown(f"Slack answered HTTP {status} {code or ''}".strip()) from None
                if (maybe_done or code in _TRANSIENT) and not last:
                    self.sleep(attempt)
                    continue
                raise _classify(exc, where) from None
            except (SlackRequestError, urllib.error.URLError, OSError) as exc:
                if not idempotent and not _never_sent(exc):
                    raise _Unknown(f"no answer from Slack ({_reason(exc)})") from None
                if last:
                    raise SinkError(f"cannot reach Slack: {_reason(exc)}", scope="sink") from None
                self.sleep(attempt)
        raise AssertionError("unreachable")  # the loop returns or raises

    def _retry_after(self, response: Any) -> float:
        """Seconds a 429 asks to wait: Retry-After in seconds or as an HTTP date, else
        DEFAULT_RETRY_AFTER."""
        headers = {k.lower(): v for k, v in (getattr(response, "headers", None) or {}).items()}
        value = headers.get("retry-after")
        value = value[0] if isinstance(value, list) and value else value
        if not isinstance(value, str) or not value.strip():
            return DEFAULT_RETRY_AFTER
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return DEFAULT_RETRY_AFTER
        if when.tzinfo is None:  # an HTTP date is GMT
            return DEFAULT_RETRY_AFTER
        return max(0.0, when.timestamp() - self.wall())


def _never_sent(exc: BaseException) -> bool:
    """Whether a connection error proves the request never reached Slack: the connection was
    refused or the host not found, before anything was written."""
    if isinstance(exc, SlackRequestError):  # refused by the client before sending
        return True
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    return isinstance(reason, (ConnectionRefusedError, socket.gaierror))


def _reason(exc: BaseException) -> str:
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return "timed out"
    if isinstance(reason, http.client.RemoteDisconnected):
        return "connection closed"
    return str(reason) or type(reason).__name__


def _code(exc: SlackApiError) -> str | None:
    data = getattr(exc.response, "data", None)
    code = data.get("error") if isinstance(data, dict) else None
    return code if isinstance(code, str) else None


def _rate_limited(status: int, wait: float) -> SinkError:
    return SinkError(
        f"Slack answered HTTP {status} ratelimited; no call before {wait:.0f}s have passed",
        scope="sink",
        code="ratelimited",
        retry_after=wait,
    )


def _classify(exc: SlackApiError, channel: str) -> SinkError:
    status = getattr(exc.response, "status_code", 0) or 0
    code = _code(exc)
    what = f"Slack answered HTTP {status}" + (f" {code}" if code else "")
    if status >= 500 or code in _TRANSIENT:
        return SinkError(f"{what}; will retry on a later run", scope="sink", code=code)
    if code in _SINK_LEVEL:
        return SinkError(f"{what}; check the bot token and its scopes", scope="sink", code=code)
    if code in _CHANNEL_LEVEL:
        return SinkError(
            f"{what} for {channel}; invite the bot or fix the route", scope="channel", code=code
        )
    return SinkError(f"{what}; the message was refused", permanent=True, scope="alert", code=code)


def incident_message(
    view: IncidentView, *, buttons: bool = False
) -> tuple[str, list[dict[str, Any]]]:
    """Fallback text and blocks of an incident's main message; strangers' text is escaped and
    every element kept within Slack's limits. With `buttons`, the workflow's actions."""
    incident, lead = view.incident, view.title_alert
    severity = incident["severity"]
    resolved = incident["status"] == "resolved"
    summary = _inert(lead["summary"], SUMMARY_LIMIT)
    why = _inert("; ".join(lead["reasons"]), SECTION_LIMIT // 2) or "rule matched"
    state = f"RESOLVED ({severity})" if resolved else severity.upper()
    header = shorten(f"{state}: {incident['title']}", HEADER_LIMIT)
    icon = ":white_check_mark:" if resolved else _ICON.get(severity, "")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header}},
        _section(_fit(f"{icon} *{summary}*\n*Why:* {why}", SECTION_LIMIT)),
        {"type": "section", "fields": _fields(incident, view.span)},
    ]
    blocks.extend(_mention_block(m) for m in view.top[:3])
    if view.top:
        top = view.top[0]
        blocks.append(
            _context(
                f"{_inert(top['category'].replace('_', ' '), NAME_LIMIT)} · "
                f"{top['engagement']:,} engagements · "
                f"viral risk {top['viral_risk']:.2f} · severity {top['severity']:.2f}"
            )
        )
    flow = view.workflow
    if flow is not None and flow.reply is not None:
        blocks.append(_context(answered_line(flow, incident)))
    else:
        blocks.append(_context(f"*Next:* {next_step(incident['category'])}"))
    status = incident["status"]
    if resolved and incident["resolved_at"]:
        status += f" {parse_time(incident['resolved_at']):%Y-%m-%d %H:%M} UTC"
    blocks.append(
        _context(
            f"Incident #{incident['id']} · {status} · "
            f"alerts from rule {_inert(lead['rule'], NAME_LIMIT)}"
        )
    )
    if flow is not None:
        blocks.append(_context(state_line(flow)))
        if buttons:
            blocks.extend(workflow_actions(flow))
    text = f"[{state}] {_inert(lead['rule'], NAME_LIMIT)}: {summary}"
    return _fit(f"{text} ({incident['mentions']} mentions)", FALLBACK_LIMIT), blocks


def thread_reply(view: IncidentView) -> tuple[str, list[dict[str, Any]]]:
    """What a run adds to an incident's thread: its new alerts and new mentions."""
    alerts = "\n".join(f"• {_inert(a['summary'], SUMMARY_LIMIT)}" for a in view.alerts[:5])
    head = f"*+{view.new_count} new mention(s)*, {len(view.alerts)} new alert(s)\n{alerts}"
    blocks = [_section(_fit(head, SECTION_LIMIT)), *(_mention_block(m) for m in view.new[:3])]
    text = f"+{view.new_count} new mention(s): {_inert(view.lead['summary'], SUMMARY_LIMIT)}"
    return _fit(text, FALLBACK_LIMIT), blocks


def escalation_message(
    view: IncidentView, message: IncidentMessage | None
) -> tuple[str, list[dict[str, Any]]]:
    """The one post on the critical route when an incident becomes critical."""
    incident = view.incident
    channel = message.get("channel") if message else None
    where = f" (thread in {_channel_link(channel)})" if channel else ""
    title = _inert(incident["title"], HEADER_LIMIT)
    header = shorten(f"ESCALATED: {incident['title']}", HEADER_LIMIT)
    summary = _inert(view.lead["summary"], SUMMARY_LIMIT)
    body = f":rotating_light: *{title} is now critical*{where}\n{summary}"
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": header}},
        _section(_fit(body, SECTION_LIMIT)),
        {"type": "section", "fields": _fields(incident, view.span)},
        *(_mention_block(m) for m in view.top[:1]),
    ]
    return _fit(f"[CRITICAL] Escalated: {title}{where}", FALLBACK_LIMIT), blocks


def _fields(incident: IncidentSummary, span: tuple[str, str] | None) -> list[dict[str, Any]]:
    """Mentions, reach, category, and the time from the first mention to the last (the
    alerts' own times only when the mentions are unknown)."""
    first, last = span or (incident["opened_at"], incident["last_event_at"])
    start, end = parse_time(first), parse_time(last)
    since = f"{start:%Y-%m-%d %H:%M}"
    until = f"{end:%H:%M} UTC" if end.date() == start.date() else f"{end:%Y-%m-%d %H:%M} UTC"
    category = _inert(incident["category"].replace("_", " "), NAME_LIMIT)
    return [
        {"type": "mrkdwn", "text": f"*Mentions:* {incident['mentions']:,}"},
        {"type": "mrkdwn", "text": f"*Reach:* {compact_count(incident['reach'])} followers"},
        {"type": "mrkdwn", "text": f"*Category:* {category}"},
        {"type": "mrkdwn", "text": f"*Active:* {since} \N{EN DASH} {until}"},
    ]


def _mention_block(m: ScoredMention) -> dict[str, Any]:
    """One quoted mention: who, where, when, the text, and a button to the post. Every part
    a stranger wrote is escaped and capped, so no field can push the block over its limit."""
    name = m.get("author")
    author = _inert(f"@{name.lstrip('@')}", AUTHOR_LIMIT) if name else "unknown author"
    followers = m.get("author_followers")
    reach = f" ({followers:,} followers)" if followers else ""
    when = parse_time(m["created_at"]).strftime("%Y-%m-%d %H:%M UTC")
    head = f"*{author}*{reach} on {_inert(m['source'], SOURCE_LIMIT)} · {when}\n"
    body = _fit_quote(slack_inert(normalize(m["text"])), MENTION_LIMIT - len(head))
    block = _section(head + body)
    url = post_url(m)  # the platform's own link to this post, or none
    if url is not None and len(url) <= BUTTON_URL_LIMIT:
        block["accessory"] = {
            "type": "button",
            "text": {"type": "plain_text", "text": "Open post"},
            "url": url,
            "action_id": "open_post",
        }
    return block


def _inert(raw: str, limit: int) -> str:
    """`raw` made inert for Slack (`slack_inert`: no formatting, no invisible controls),
    escaped, and cut, never inside an entity, to at most `limit` chars."""
    raw = slack_inert(raw)
    escaped = slack_escape(raw)
    if len(escaped) <= limit:
        return escaped
    pieces, used = [], 0
    for char in raw:
        piece = slack_escape(char)
        if used + len(piece) > limit - 1:
            break
        pieces.append(piece)
        used += len(piece)
    return "".join(pieces) + "…"


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


def _channel_link(channel: str) -> str:
    """A channel id as Slack's link to it (`<#C0123>` shows as #name); anything else escaped."""
    return f"<#{channel}>" if _CHANNEL_ID.match(channel) else slack_escape(channel)


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text, "verbatim": True}]}


# -- the answering workflow: state, buttons, thread lines, SLA breaches ------------------

# action_id of each workflow element; the incident and version travel in its value.
ACTION_IDS = {
    "acknowledge": "wf_acknowledge",
    "assign_me": "wf_assign_me",
    "assign": "wf_assign",
    "respond": "wf_respond",
    "snooze": "wf_snooze",
    "dismiss": "wf_dismiss",
    "draft": "wf_draft",
}
_OPEN_STATES = {"new", "acknowledged", "assigned", "snoozed"}
_SNOOZE_CHOICES = (("1h", "1 hour"), ("4h", "4 hours"), ("tomorrow", "Until tomorrow"))
_STATE_ICON = {
    "new": ":new:", "acknowledged": ":eyes:", "assigned": ":bust_in_silhouette:",
    "responded": ":speech_balloon:", "closed": ":lock:", "snoozed": ":zzz:",
    "dismissed": ":no_entry_sign:",
}  # fmt: skip


def button_value(flow: WorkflowView, extra: str = "") -> str:
    """What a workflow element carries: `incident:version[:extra]`."""
    state = flow.state
    return f"{state['incident_id']}:{state['version']}" + (f":{extra}" if extra else "")


def workflow_actions(flow: WorkflowView) -> list[dict[str, Any]]:
    """The actions block for an incident's state: what may be done from it, and the draft."""
    value = button_value(flow)
    elements: list[dict[str, Any]] = []
    state = flow.state["state"]
    if state in ("new", "snoozed"):
        elements.append(_button("Acknowledge", "acknowledge", value, style="primary"))
    if state in _OPEN_STATES:
        elements += [
            _button("Assign to me", "assign_me", value),
            {"type": "users_select", "action_id": ACTION_IDS["assign"],
             "placeholder": {"type": "plain_text", "text": "Assign to…"}},
            _button("Mark responded", "respond", value),
            {"type": "static_select", "action_id": ACTION_IDS["snooze"],
             "placeholder": {"type": "plain_text", "text": "Snooze…"},
             "options": [{"text": {"type": "plain_text", "text": label},
                          "value": f"{value}:{choice}"} for choice, label in _SNOOZE_CHOICES]},
            _button("Not relevant", "dismiss", value, style="danger"),
        ]  # fmt: skip
    if state != "dismissed":
        elements.append(_button("Show draft reply", "draft", value))
    if not elements:
        return []
    # The users select carries no value of ours: the block id names incident and version.
    return [{"type": "actions", "block_id": f"incident:{value}", "elements": elements}]


def _button(text: str, action: str, value: str, style: str | None = None) -> dict[str, Any]:
    button = {"type": "button", "text": {"type": "plain_text", "text": text},
              "action_id": ACTION_IDS[action], "value": value}  # fmt: skip
    if style:
        button["style"] = style
    return button


def state_line(flow: WorkflowView) -> str:
    """Where the incident stands, who moved it there and when (names escaped)."""
    row, last = flow.state, flow.last
    state = row["state"]
    icon = _STATE_ICON.get(state, "")
    who = f" by {_inert(last['actor_name'], AUTHOR_LIMIT)}" if last else ""
    when = f" · {_clock(last['at'])}" if last else ""
    if state == "new":
        return f"{icon} *New* · nobody has acknowledged it yet"
    if state == "assigned":
        name = _inert(row["assignee_name"] or row["assignee"] or "someone", AUTHOR_LIMIT)
        return f"{icon} *Assigned* to {name}{who}{when}"
    if state == "snoozed" and row["snoozed_until"]:
        return f"{icon} *Snoozed* until {_clock(row['snoozed_until'])}{who}"
    words = {"acknowledged": "Acknowledged", "responded": "Answered", "closed": "Closed",
             "dismissed": "Not relevant"}  # fmt: skip
    return f"{icon} *{words.get(state, state)}*{who}{when}"


def answered_line(flow: WorkflowView, incident: IncidentSummary) -> str:
    """The brand's first public reply, instead of the next step: who, when, how soon."""
    reply = flow.reply
    assert reply is not None
    author = _inert(reply["author"] or "the brand", AUTHOR_LIMIT)
    after = parse_time(reply["created_at"]) - parse_time(incident["opened_at"])
    minutes = max(0, int(after.total_seconds() // 60))
    quote = _inert(normalize(reply["text"]), 300)
    return (f"*Answered in public* by {author} at {_clock(reply['created_at'])}"
            f" ({minutes} min after the first post): “{quote}”")  # fmt: skip


def event_line(event: Transition) -> str:
    """One thread line for an event of the incident's history (names escaped)."""
    name = _inert(event["actor_name"], AUTHOR_LIMIT)
    detail = event["detail"]
    action = event["action"]
    lines = {
        "acknowledge": f":eyes: Acknowledged by {name}",
        "assign": f":bust_in_silhouette: Assigned to "
        f"{_inert(str(detail.get('assignee_name') or ''), AUTHOR_LIMIT)} by {name}",
        "respond": f":speech_balloon: Marked responded by {name}",
        "snooze": f":zzz: Snoozed until {_clock(str(detail.get('until') or event['at']))}"
        f" by {name}",
        "wake": f":alarm_clock: Snooze over: back to {event['to_state']}",
        "dismiss": f":no_entry_sign: Marked not relevant by {name}",
        "close": ":lock: Closed" + (f" by {name}" if event["source"] != "automatic" else
                                    f" ({_inert(str(detail.get('why') or ''), 200)})"),
        "reopen": f":leftwards_arrow_with_hook: Reopened by {name}",
        "reply": f":speech_balloon: {name} answered in public: "
        f"“{_inert(normalize(str(detail.get('text') or '')), 1000)}”",
        "escalate": f":stopwatch: Not {_BREACH_WORDS.get(str(detail.get('breach')), '')} "
        f"within {_inert(str(detail.get('limit') or ''), 40)}: escalated",
    }  # fmt: skip
    line = lines.get(action, f"{_inert(action, NAME_LIMIT)} by {name}")
    return f"{line} · {_clock(event['at'])} · {event['source']}"


_BREACH_WORDS = {"acknowledge": "acknowledged", "respond": "answered in public"}


def sla_message(
    view: IncidentView, event: Transition, channel: str
) -> tuple[str, list[dict[str, Any]]]:
    """The one post on the critical route when an incident breaches an SLA."""
    incident = view.incident
    breach = _BREACH_WORDS.get(str(event["detail"].get("breach")), "handled")
    limit = _inert(str(event["detail"].get("limit") or ""), 40)
    title = _inert(incident["title"], HEADER_LIMIT)
    body = (f":stopwatch: *SLA breached:* incident #{incident['id']} ({title},"
            f" {incident['severity']}) was not {breach} within {limit}"
            f" (thread in {_channel_link(channel)})")  # fmt: skip
    return _fit(body, FALLBACK_LIMIT), [_section(_fit(body, SECTION_LIMIT))]


def _clock(stamp: str) -> str:
    return parse_time(stamp).strftime("%b %d %H:%M UTC")
