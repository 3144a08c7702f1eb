"""Fakes of remote APIs, served on 127.0.0.1, shaped like the documented responses.

`FakeSlack` checks what Slack checks, so a payload Slack would refuse is refused here too:
the token, that the channel exists and the bot is in it, Block Kit's documented limits per
element, that `thread_ts` and `ts` name a message of that channel, the metadata's shape, and
the scopes a method needs. It records every call, and can be told to fail the ways a network
and a busy service fail (see `fail`).
"""

from __future__ import annotations

import json
import re
import socket
import time
from dataclasses import dataclass, field
from typing import Any

from werkzeug import Request, Response

TOKEN = "xoxb-test-token"
BOT_ID = "B0REPBOT"
# Channels every test workspace has, the bot a member of each (name -> id).
DEFAULT_CHANNELS = {
    "rep": "C0REP",
    "rep-critical": "C0REPCRIT",
    "rep-crit": "C0CRIT",
    "rep-warn": "C0WARN",
    "reputation-alerts": "C0ALERTS",
    "reputation-critical": "C0CRITICAL",
    "outage-room": "C0OUTAGE",
}
DEFAULT_SCOPES = ("chat:write", "channels:history", "groups:history", "channels:read")

# Block Kit's documented limits (api.slack.com/reference/block-kit): per message, per block
# type and per element. Slack refuses a message over any of them with `invalid_blocks`.
MAX_BLOCKS = 50
MAX_BLOCK_TEXT = 12_000  # all text of all blocks together (Slack: `msg_blocks_too_long`)
MAX_FALLBACK_TEXT = 40_000
HEADER_TEXT = 150
SECTION_TEXT = 3000
SECTION_FIELDS, FIELD_TEXT = 10, 2000
CONTEXT_ELEMENTS, CONTEXT_TEXT = 10, 3000
BUTTON_TEXT, BUTTON_URL, ACTION_ID = 75, 3000, 255
# What makes Slack notify people: special mentions and user or group mentions.
PING = re.compile(r"<!(?:channel|here|everyone)(?:\|[^>]*)?>|<!subteam\^[^>]*>|<@[UW][A-Z0-9]+>")
EVENT_TYPE = re.compile(r"^[A-Za-z0-9_]{1,100}$")


@dataclass
class FakeChannel:
    """A conversation: its messages (top level and replies) in the order they were posted."""

    id: str
    name: str
    member: bool = True
    messages: list[dict[str, Any]] = field(default_factory=list)

    def find(self, ts: str | None) -> dict[str, Any] | None:
        return next((m for m in self.messages if m["ts"] == ts), None)


@dataclass
class Fault:
    """One scripted failure of the next call to `method`.

    kind: `answer` (answer `status`/`body`/`headers` without processing the call), `drop`
    (process the call, then close the connection without answering), `error_after` (process
    it, then answer HTTP 500), `slow` (process it, then answer after `delay` seconds).
    """

    method: str
    kind: str
    status: int = 200
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    skip: int = 0  # calls of `method` to let through first


class FakeSlack:
    """Slack's Web API: chat.postMessage, chat.update, conversations.history, .replies and
    .list."""

    def __init__(self, server: Any, scopes: tuple[str, ...] = DEFAULT_SCOPES):
        self.server = server
        self.scopes = set(scopes)
        self.channels: dict[str, FakeChannel] = {}
        for name, channel_id in DEFAULT_CHANNELS.items():
            self.add_channel(name, channel_id)
        self.calls: list[dict[str, Any]] = []  # every request: method, payload, what happened
        self.messages: list[dict[str, Any]] = []  # accepted posts: payload, ts, channel_id
        self.updates: list[dict[str, Any]] = []  # accepted chat.update calls
        self.pings: list[str] = []  # special mentions that would have notified people
        self.faults: list[Fault] = []
        self.down = False  # every call answers HTTP 500 without processing
        self._clock = int(time.time())
        handlers = {
            "chat.postMessage": self._post,
            "chat.update": self._update,
            "conversations.history": self._history,
            "conversations.replies": self._replies,
            "conversations.list": self._list,
        }
        for method, handler in handlers.items():
            server.expect_request(f"/api/{method}", method="POST").respond_with_handler(
                self._wrap(method, handler)
            )

    # -- the workspace ---------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self.server.url_for("/api/")

    def add_channel(self, name: str, channel_id: str | None = None, member: bool = True) -> str:
        """Create a channel (or invite the bot to it); return its id."""
        name = name.lstrip("#")
        existing = self._by_name(name)
        if existing:
            existing.member = member
            return existing.id
        channel_id = channel_id or f"C{len(self.channels):04d}{name.upper()[:6]}"
        self.channels[channel_id] = FakeChannel(channel_id, name, member)
        return channel_id

    def channel(self, name_or_id: str) -> FakeChannel:
        """A channel by `#name`, `name` or id."""
        found = self.channels.get(name_or_id) or self._by_name(name_or_id.lstrip("#"))
        assert found is not None, name_or_id
        return found

    def _by_name(self, name: str) -> FakeChannel | None:
        return next((c for c in self.channels.values() if c.name == name), None)

    def now(self) -> float:
        """Slack's clock (epoch seconds): the last ts it gave, or when it started."""
        return float(self._clock)

    # -- what tests read -------------------------------------------------------------------

    @property
    def attempts(self) -> int:
        """chat.postMessage requests received, accepted or not."""
        return len(self.calls_of("chat.postMessage"))

    def calls_of(self, method: str) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["method"] == method]

    @property
    def top_level(self) -> list[dict[str, Any]]:
        """Posts that start a message, not thread replies."""
        return [m for m in self.messages if not m.get("thread_ts")]

    @property
    def replies(self) -> list[dict[str, Any]]:
        """Posts in a thread."""
        return [m for m in self.messages if m.get("thread_ts")]

    def posts_about(self, incident: int) -> list[dict[str, Any]]:
        """Accepted posts whose metadata names `incident`."""
        return [
            m for m in self.messages
            if (m.get("metadata") or {}).get("event_payload", {}).get("incident") == incident
        ]  # fmt: skip

    # -- scripted failures -----------------------------------------------------------------

    def answer(
        self,
        status: int,
        times: int = 1,
        error: str | None = None,
        headers: dict[str, str] | None = None,
        method: str = "chat.postMessage",
    ) -> None:
        """Answer the next `times` calls of `method` with `status` (and Slack's `error` code),
        without processing them."""
        body = {"ok": False, "error": error or ("ratelimited" if status == 429 else "fatal_error")}
        for _ in range(times):
            self.faults.append(Fault(method, "answer", status, body, dict(headers or {})))

    def fail(
        self, kind: str, times: int = 1, method: str = "chat.postMessage", delay: float = 0.0,
        skip: int = 0,
    ) -> None:  # fmt: skip
        """Let `skip` calls of `method` through, then process the next `times` and fail them:
        `drop` the connection, answer 500 (`error_after`), or answer too late (`slow`, after
        `delay` seconds)."""
        assert kind in ("drop", "error_after", "slow"), kind
        self.faults.extend(Fault(method, kind, delay=delay, skip=skip) for _ in range(times))

    # -- the API ---------------------------------------------------------------------------

    def _wrap(self, method: str, handler: Any) -> Any:
        def handle(request: Request) -> Response:
            payload = _payload(request)
            call: dict[str, Any] = {"method": method, "payload": payload, "outcome": None}
            self.calls.append(call)
            if request.headers.get("Authorization") != f"Bearer {TOKEN}":
                return _done(call, _json(200, {"ok": False, "error": "invalid_auth"}))
            if self.down:
                return _done(call, Response("upstream connect error", status=500))
            fault = next((f for f in self.faults if f.method == method), None)
            if fault is not None and fault.skip:
                fault.skip -= 1
                fault = None
            if fault is not None:
                self.faults.remove(fault)
                if fault.kind == "answer":
                    return _done(call, _json(fault.status, fault.body or {}, fault.headers))
            response = handler(payload)
            call["outcome"] = json.loads(response.get_data()).get("error") or "ok"
            if fault is None:
                return response
            call["outcome"] += f", then {fault.kind}"
            if fault.kind == "drop":
                sock = request.environ["werkzeug.socket"]
                sock.shutdown(socket.SHUT_RDWR)
                sock.close()
                return Response(b"", status=200)  # never reaches the client
            if fault.kind == "error_after":
                return Response("upstream request timeout", status=500)
            time.sleep(fault.delay)
            return response

        return handle

    def _resolve(self, name_or_id: Any, by_name: bool) -> FakeChannel | str:
        """The channel a call names, or Slack's error code. Only chat.postMessage takes a
        name; every other method needs the id (Slack answers `channel_not_found`)."""
        if not isinstance(name_or_id, str) or not name_or_id:
            return "channel_not_found"
        channel = self.channels.get(name_or_id)
        if channel is None and by_name:
            channel = self._by_name(name_or_id.lstrip("#"))
        if channel is None:
            return "channel_not_found"
        return channel if channel.member else "not_in_channel"

    def _post(self, payload: dict[str, Any]) -> Response:
        channel = self._resolve(payload.get("channel"), by_name=True)
        if isinstance(channel, str):
            return _error(channel)
        problem = check_message(payload) or _check_metadata(payload.get("metadata"))
        if problem:
            return _error(*problem)
        thread_ts = payload.get("thread_ts")
        if thread_ts is not None:
            parent = channel.find(thread_ts)
            if parent is None or parent.get("thread_ts") not in (None, parent["ts"]):
                return _error("thread_not_found")
        self._clock += 1
        ts = f"{self._clock}.{len(self.messages):06d}"
        stored = {
            "type": "message", "ts": ts, "bot_id": BOT_ID, "text": payload.get("text", ""),
            "blocks": payload.get("blocks"), "metadata": payload.get("metadata"),
            "thread_ts": thread_ts,
        }  # fmt: skip
        channel.messages.append(stored)
        self.messages.append({**payload, "ts": ts, "channel_id": channel.id})
        self._listen(payload)
        return _ok({"channel": channel.id, "ts": ts, "message": _shown(stored, True)})

    def _update(self, payload: dict[str, Any]) -> Response:
        channel = self._resolve(payload.get("channel"), by_name=False)
        if isinstance(channel, str):
            return _error(channel)
        message = channel.find(payload.get("ts"))
        if message is None:
            return _error("message_not_found")
        problem = check_message(payload)
        if problem:
            return _error(*problem)
        message.update(text=payload.get("text", ""), blocks=payload.get("blocks"))
        self.updates.append(payload)
        self._listen(payload)
        return _ok({"channel": channel.id, "ts": message["ts"], "text": message["text"]})

    def _read(self, payload: dict[str, Any]) -> FakeChannel | Response:
        if "channels:history" not in self.scopes:
            return _error(
                "missing_scope", needed="channels:history", provided=",".join(sorted(self.scopes))
            )
        channel = self._resolve(payload.get("channel"), by_name=False)
        return _error(channel) if isinstance(channel, str) else channel

    def _history(self, payload: dict[str, Any]) -> Response:
        channel = self._read(payload)
        if isinstance(channel, Response):
            return channel
        # Newest first; replies stay in their threads (history shows only their parents).
        found = [m for m in reversed(channel.messages) if m.get("thread_ts") in (None, m["ts"])]
        return _page(found, payload)

    def _replies(self, payload: dict[str, Any]) -> Response:
        channel = self._read(payload)
        if isinstance(channel, Response):
            return channel
        parent = channel.find(payload.get("ts"))
        if parent is None:
            return _error("thread_not_found")
        thread = [parent] + [m for m in channel.messages if m.get("thread_ts") == parent["ts"]]
        return _page(thread, payload)

    def _list(self, payload: dict[str, Any]) -> Response:
        if "channels:read" not in self.scopes:
            return _error(
                "missing_scope", needed="channels:read", provided=",".join(sorted(self.scopes))
            )
        channels = [
            {"id": c.id, "name": c.name, "is_member": c.member} for c in self.channels.values()
        ]
        page = _page(channels, payload, key="channels")
        return page

    def _listen(self, payload: dict[str, Any]) -> None:
        """Note every special mention Slack would turn into a notification."""
        texts = [payload.get("text") or ""] + [
            t for block in payload.get("blocks") or [] for t in _mrkdwn(block)
        ]
        for text in texts:
            self.pings.extend(PING.findall(text))


def check_message(payload: dict[str, Any]) -> tuple[str, str] | None:
    """Slack's checks of a message body: (error code, detail), or None if Slack takes it."""
    text, blocks = payload.get("text"), payload.get("blocks")
    if not text and not blocks:
        return ("no_text", "")
    if text and len(text) > MAX_FALLBACK_TEXT:
        return ("msg_too_long", f"text is {len(text)} characters")
    if blocks is None:
        return None
    if not isinstance(blocks, list) or len(blocks) > MAX_BLOCKS:
        return ("invalid_blocks", f"more than {MAX_BLOCKS} blocks")
    total = 0
    for i, block in enumerate(blocks):
        problem = _check_block(block)
        if problem:
            return ("invalid_blocks", f"{problem} [json-pointer:/blocks/{i}]")
        total += sum(len(t) for t in _texts(block))
    if total > MAX_BLOCK_TEXT:
        return ("msg_blocks_too_long", f"{total} characters of block text")
    return None


def _check_block(block: Any) -> str | None:
    if not isinstance(block, dict):
        return "a block must be an object"
    kind = block.get("type")
    if kind == "header":
        return _check_text(block.get("text"), HEADER_TEXT, plain=True)
    if kind == "section":
        return _check_section(block)
    if kind == "context":
        return _check_context(block)
    if kind == "divider":
        return None
    return f"unsupported block type {kind!r}"


def _check_section(block: dict[str, Any]) -> str | None:
    if "text" not in block and "fields" not in block:
        return "a section needs text or fields"
    if "text" in block and (problem := _check_text(block["text"], SECTION_TEXT)):
        return problem
    fields = block.get("fields", [])
    if len(fields) > SECTION_FIELDS:
        return f"more than {SECTION_FIELDS} fields"
    for item in fields:
        if problem := _check_text(item, FIELD_TEXT):
            return problem
    accessory = block.get("accessory")
    return None if accessory is None else _check_button(accessory)


def _check_context(block: dict[str, Any]) -> str | None:
    elements = block.get("elements") or []
    if not elements or len(elements) > CONTEXT_ELEMENTS:
        return f"a context needs 1 to {CONTEXT_ELEMENTS} elements"
    for item in elements:
        if problem := _check_text(item, CONTEXT_TEXT):
            return problem
    return None


def _check_button(element: dict[str, Any]) -> str | None:
    if element.get("type") != "button":
        return "unsupported accessory"
    if problem := _check_text(element.get("text"), BUTTON_TEXT, plain=True):
        return problem
    url = element.get("url")
    if url is not None and (not isinstance(url, str) or not 0 < len(url) <= BUTTON_URL):
        return f"url must be 1 to {BUTTON_URL} characters"
    action_id = element.get("action_id", "")
    return f"action_id over {ACTION_ID} characters" if len(action_id) > ACTION_ID else None


def _check_text(obj: Any, limit: int, plain: bool = False) -> str | None:
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
        return "a text object needs type plain_text or mrkdwn"
    if plain and obj["type"] != "plain_text":
        return "must be plain_text"
    text = obj.get("text")
    if not isinstance(text, str) or not 1 <= len(text) <= limit:
        length = len(text) if isinstance(text, str) else "no"
        return f"text must be 1 to {limit} characters, not {length}"
    return None


def _check_metadata(metadata: Any) -> tuple[str, str] | None:
    """Slack's metadata shape: an alphanumeric `event_type` and an object payload of
    strings, numbers, booleans, objects of those, or lists of such objects."""
    if metadata is None:
        return None
    if not isinstance(metadata, dict) or set(metadata) != {"event_type", "event_payload"}:
        return ("invalid_metadata_format", "needs exactly event_type and event_payload")
    if not isinstance(metadata["event_type"], str) or not EVENT_TYPE.match(metadata["event_type"]):
        return ("invalid_metadata_format", "event_type must be alphanumeric")
    payload = metadata["event_payload"]
    if not isinstance(payload, dict) or not all(_scalar_or_object(v) for v in payload.values()):
        return ("invalid_metadata_schema", "event_payload values must be scalars or objects")
    return None


def _scalar_or_object(value: Any, depth: int = 0) -> bool:
    if isinstance(value, (str, int, float, bool)):
        return True
    if depth == 0 and isinstance(value, dict):
        return all(isinstance(v, (str, int, float, bool)) for v in value.values())
    if depth == 0 and isinstance(value, list):
        return all(isinstance(v, dict) and _scalar_or_object(v, 0) for v in value)
    return False


def _texts(block: dict[str, Any]) -> list[str]:
    """Every text of a block (its text, fields, context elements, button text)."""
    found = [block.get("text", {}).get("text", "")]
    found += [f.get("text", "") for f in block.get("fields", [])]
    found += [e.get("text", "") for e in block.get("elements", [])]
    found.append(block.get("accessory", {}).get("text", {}).get("text", ""))
    return [t for t in found if t]


def _mrkdwn(block: dict[str, Any]) -> list[str]:
    """The texts of a block that Slack reads as mrkdwn (where mentions are live)."""
    objects = [block.get("text") or {}, *block.get("fields", []), *block.get("elements", [])]
    return [o.get("text", "") for o in objects if o.get("type") == "mrkdwn"]


def _shown(message: dict[str, Any], with_metadata: bool) -> dict[str, Any]:
    shown = {k: v for k, v in message.items() if v is not None and k != "metadata"}
    if with_metadata and message.get("metadata"):
        shown["metadata"] = message["metadata"]
    return shown


def _page(
    messages: list[dict[str, Any]], payload: dict[str, Any], key: str = "messages"
) -> Response:
    """One page of `messages` (after `oldest`, if given) by Slack's cursor pagination
    (`limit`, `cursor`)."""
    if payload.get("oldest") and key == "messages":
        oldest = float(payload["oldest"])
        messages = [m for m in messages if float(m["ts"]) > oldest]
    limit = max(1, min(int(payload.get("limit") or 100), 1000))
    cursor = payload.get("cursor") or ""
    start = int(cursor.removeprefix("next:")) if cursor.startswith("next:") else 0
    page = messages[start : start + limit]
    more = start + limit < len(messages)
    metadata = str(payload.get("include_all_metadata", "")).lower() in ("1", "true")
    return _ok(
        {
            key: [_shown(m, metadata) if key == "messages" else m for m in page],
            "has_more": more,
            "response_metadata": {"next_cursor": f"next:{start + limit}" if more else ""},
        }
    )


def _payload(request: Request) -> dict[str, Any]:
    if request.is_json:
        return request.get_json(force=True)
    return {**request.args.to_dict(), **request.form.to_dict()}


def _done(call: dict[str, Any], response: Response) -> Response:
    call["outcome"] = f"HTTP {response.status_code}"
    return response


def _ok(body: dict[str, Any]) -> Response:
    return _json(200, {"ok": True, **body})


def _error(code: str, detail: str = "", **extra: str) -> Response:
    body: dict[str, Any] = {"ok": False, "error": code, **extra}
    if detail:
        body["response_metadata"] = {"messages": [f"[ERROR] {detail}"]}
    return _json(200, body)


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body), status=status, headers=headers or {}, content_type="application/json"
    )
