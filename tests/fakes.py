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
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from werkzeug import Request, Response

TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-1-A0REP-test-token"  # an app-level token (connections:write)
BOT_ID = "B0REPBOT"
BOT_USER = "U0REPBOT"
TEAM = "T0REP"
APP_ID = "A0REP"
# Workspace members users.info knows: id -> (name, real name, display name).
DEFAULT_USERS = {
    "U0ANN": ("ann", "Ann Smith", "ann"),
    "U0BOB": ("bob", "Bob Jones", ""),
    "U0EVE": ("eve", "<!channel> Eve", "<!channel> eve"),
}
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
DEFAULT_SCOPES = (
    "chat:write", "channels:history", "groups:history", "channels:read", "users:read",
    "files:write",
)  # fmt: skip

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
ACTION_ELEMENTS, BUTTON_VALUE, BLOCK_ID = 25, 2000, 255
PLACEHOLDER_TEXT, OPTIONS, OPTION_TEXT, OPTION_VALUE = 150, 100, 75, 150
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
    .list, and the external file upload (files.getUploadURLExternal, the POST of the bytes to
    the URL it gives, files.completeUploadExternal)."""

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
        self.users = dict(DEFAULT_USERS)
        self.ephemerals: list[dict[str, Any]] = []  # accepted chat.postEphemeral calls
        self.socket: FakeSocketMode | None = None  # started by `socket_mode()`
        self.gates: dict[str, threading.Event] = {}  # methods held until released
        self.pending_files: dict[str, dict[str, Any]] = {}  # file id -> upload in progress
        self.files: list[dict[str, Any]] = []  # files shared by files.completeUploadExternal
        handlers = {
            "chat.postMessage": self._post,
            "chat.update": self._update,
            "chat.postEphemeral": self._ephemeral,
            "conversations.history": self._history,
            "conversations.replies": self._replies,
            "conversations.list": self._list,
            "auth.test": self._auth_test,
            "users.info": self._user_info,
            "files.getUploadURLExternal": self._upload_url,
            "files.completeUploadExternal": self._complete_upload,
        }
        for method, handler in handlers.items():
            server.expect_request(f"/api/{method}", method="POST").respond_with_handler(
                self._wrap(method, handler)
            )
        server.expect_request("/api/apps.connections.open", method="POST").respond_with_handler(
            self._connections_open
        )
        # The upload URL files.getUploadURLExternal hands out: no token (the URL is the
        # credential), the file's bytes as the body (raw, or a multipart `file` part).
        server.expect_request("/upload/v1/files", method="POST").respond_with_handler(
            self._receive_upload
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

    def hold(self, method: str) -> None:
        """Keep every call of `method` waiting until `release`."""
        self.gates[method] = threading.Event()

    def release(self, method: str) -> None:
        self.gates.pop(method).set()

    # -- interactions: what Slack sends when someone clicks -----------------------------------

    def click(
        self, message: dict[str, Any], action_id: str, user: str = "U0ANN", *,
        option: str | None = None, selected_user: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """The block_actions payload Slack sends when `user` uses element `action_id` of
        `message` as it now stands (its current blocks): a button's value, a select's chosen
        option or user, the block's id."""
        channel = next(c for c in self.channels.values() if c.find(message["ts"]))
        shown = channel.find(message["ts"])
        assert shown is not None
        block, element = next(
            (b, e) for b in shown.get("blocks") or [] for e in b.get("elements") or []
            if isinstance(e, dict) and e.get("action_id") == action_id
        )  # fmt: skip
        action: dict[str, Any] = {"type": element["type"], "action_id": action_id,
                                  "block_id": block.get("block_id", "b0"),
                                  "action_ts": f"{self._clock}.000100"}  # fmt: skip
        if element["type"] == "button":
            action.update(text=element["text"], value=element.get("value"))
        elif element["type"] == "static_select":
            chosen = next(o for o in element["options"] if o["value"].endswith(f":{option}"))
            action.update(selected_option=chosen, placeholder=element["placeholder"])
        elif element["type"] == "users_select":
            action["selected_user"] = selected_user
        name = self.users.get(user, ("someone", "", ""))[0]
        return {
            "type": "block_actions",
            "user": {"id": user, "username": name, "name": name, "team_id": TEAM},
            "api_app_id": APP_ID,
            "token": "legacy-verification-token",
            "container": {"type": "message", "message_ts": shown["ts"],
                          "channel_id": channel.id, "is_ephemeral": False},
            "trigger_id": f"{self._clock}.{TEAM}.{uuid.uuid4().hex}",
            "team": {"id": TEAM, "domain": "rep"},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel.id, "name": channel.name},
            "message": _shown(shown, False),
            "state": {"values": {}},
            "response_url": f"https://hooks.slack.com/actions/{TEAM}/1/{uuid.uuid4().hex}",
            "actions": [action],
        }  # fmt: skip

    # -- Socket Mode --------------------------------------------------------------------------

    def socket_mode(self) -> FakeSocketMode:
        """Start the websocket server that `apps.connections.open` hands out."""
        if self.socket is None:
            self.socket = FakeSocketMode()
        return self.socket

    def close(self) -> None:
        """Stop the websocket server, if one was started."""
        if self.socket is not None:
            self.socket.close()

    def _connections_open(self, request: Request) -> Response:
        """apps.connections.open: an app-level token gets a websocket URL (a fresh ticket)."""
        self.calls.append({"method": "apps.connections.open", "payload": {}, "outcome": None})
        if request.headers.get("Authorization") != f"Bearer {APP_TOKEN}":
            error = "not_allowed_token_type" if "xoxb-" in str(request.headers.get(
                "Authorization")) else "invalid_auth"  # fmt: skip
            return _json(200, {"ok": False, "error": error})
        if self.socket is None:
            return _error("internal_error", "no Socket Mode server in this test")
        return _ok({"url": self.socket.url_for_ticket()})

    # -- the API ---------------------------------------------------------------------------

    def _wrap(self, method: str, handler: Any) -> Any:
        def handle(request: Request) -> Response:
            gate = self.gates.get(method)
            if gate is not None:
                gate.wait(30)
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

    def _ephemeral(self, payload: dict[str, Any]) -> Response:
        channel = self._resolve(payload.get("channel"), by_name=False)
        if isinstance(channel, str):
            return _error(channel)
        if payload.get("user") not in self.users:
            return _error("user_not_in_channel")
        problem = check_message(payload)
        if problem:
            return _error(*problem)
        self.ephemerals.append(payload)
        self._listen(payload)
        return _ok({"message_ts": f"{self._clock}.{len(self.ephemerals):06d}"})

    def _auth_test(self, payload: dict[str, Any]) -> Response:
        return _ok({"url": "https://rep.example.slack.com/", "team": "Rep", "user": "reputation",
                    "team_id": TEAM, "user_id": BOT_USER, "bot_id": BOT_ID,
                    "is_enterprise_install": False})  # fmt: skip

    def _user_info(self, payload: dict[str, Any]) -> Response:
        if "users:read" not in self.scopes:
            return _error("missing_scope", needed="users:read",
                          provided=",".join(sorted(self.scopes)))  # fmt: skip
        found = self.users.get(payload.get("user") or "")
        if found is None:
            return _error("user_not_found")
        name, real, display = found
        return _ok({"user": {
            "id": payload["user"], "team_id": TEAM, "name": name, "deleted": False,
            "real_name": real, "tz": "Europe/London", "is_bot": False,
            "profile": {"real_name": real, "display_name": display, "team": TEAM},
        }})  # fmt: skip

    # -- files: the external upload, as Slack documents it ---------------------------------

    def _upload_url(self, payload: dict[str, Any]) -> Response:
        """files.getUploadURLExternal: `filename` and `length` (bytes) required; a URL to
        POST the bytes to, and the file's id."""
        if "files:write" not in self.scopes:
            return _error("missing_scope", needed="files:write",
                          provided=",".join(sorted(self.scopes)))  # fmt: skip
        filename, length = payload.get("filename"), str(payload.get("length") or "")
        if not filename:
            return _error("invalid_arguments", "missing required field: filename")
        if not length.isdigit() or int(length) < 1:
            return _error("invalid_arguments", "missing required field: length")
        file_id = f"F{uuid.uuid4().hex[:10].upper()}"
        self.pending_files[file_id] = {"id": file_id, "filename": filename,
                                       "length": int(length), "data": None,
                                       "alt_txt": payload.get("alt_txt")}  # fmt: skip
        url = self.server.url_for("/upload/v1/files") + f"?file={file_id}"
        return _ok({"upload_url": url, "file_id": file_id})

    def _receive_upload(self, request: Request) -> Response:
        """The POST to the upload URL: stores the bytes; the length must be the one given."""
        file_id = request.args.get("file", "")
        self.calls.append({"method": "upload", "payload": {"file": file_id}, "outcome": None})
        pending = self.pending_files.get(file_id)
        if pending is None:
            return Response("invalid upload URL", status=404)
        data = request.files["file"].read() if "file" in request.files else request.get_data()
        if len(data) != pending["length"]:
            return Response(f"expected {pending['length']} bytes, got {len(data)}", status=400)
        pending["data"] = data
        return Response(f"OK - {len(data)}", status=200, content_type="text/plain")

    def _complete_upload(self, payload: dict[str, Any]) -> Response:
        """files.completeUploadExternal: `files` (JSON: [{id, title}]) each uploaded, shared
        in `channel_id` (an id; in the thread `thread_ts`) with `initial_comment`."""
        try:
            items = json.loads(payload.get("files") or "")
        except ValueError:
            return _error("invalid_arguments", "files must be a JSON array")
        if not isinstance(items, list) or not items:
            return _error("invalid_arguments", "files must be a JSON array")
        uploads = [self.pending_files.get(str(item.get("id"))) for item in items]
        if any(u is None or u["data"] is None for u in uploads):
            return _error("file_not_found")
        channel_id = payload.get("channel_id")
        channel = self._resolve(channel_id, by_name=False) if channel_id else None
        if isinstance(channel, str):
            return _error(channel)
        thread_ts = payload.get("thread_ts") or None
        if thread_ts is not None and (channel is None or channel.find(thread_ts) is None):
            return _error("invalid_thread_ts")
        shared = []
        for item, upload in zip(items, uploads, strict=True):
            assert upload is not None
            self.pending_files.pop(upload["id"])
            shared.append({**upload, "title": item.get("title") or upload["filename"],
                           "channel_id": channel.id if channel else None,
                           "thread_ts": thread_ts,
                           "initial_comment": payload.get("initial_comment")})  # fmt: skip
        self.files.extend(shared)
        if channel is not None:
            self._clock += 1
            channel.messages.append({
                "type": "message", "ts": f"{self._clock}.{len(self.messages):06d}",
                "bot_id": BOT_ID, "text": payload.get("initial_comment") or "",
                "files": [{"id": f["id"], "title": f["title"]} for f in shared],
                "thread_ts": thread_ts, "blocks": None, "metadata": None,
            })  # fmt: skip
        return _ok({"files": [{"id": f["id"], "title": f["title"]} for f in shared]})

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
    if kind == "actions":
        return _check_actions(block)
    return f"unsupported block type {kind!r}"


def _check_actions(block: dict[str, Any]) -> str | None:
    elements = block.get("elements") or []
    if not elements or len(elements) > ACTION_ELEMENTS:
        return f"an actions block needs 1 to {ACTION_ELEMENTS} elements"
    if len(str(block.get("block_id", ""))) > BLOCK_ID:
        return f"block_id over {BLOCK_ID} characters"
    action_ids = [e.get("action_id") for e in elements]
    if len(set(action_ids)) != len(action_ids):
        return "action_id must be unique in a block"
    for element in elements:
        kind = element.get("type")
        if kind == "button":
            problem = _check_button(element)
            value = element.get("value")
            if problem is None and value is not None and len(value) > BUTTON_VALUE:
                problem = f"value over {BUTTON_VALUE} characters"
        elif kind in ("static_select", "users_select"):
            problem = _check_select(element)
        else:
            problem = f"unsupported element {kind!r}"
        if problem:
            return problem
    return None


def _check_select(element: dict[str, Any]) -> str | None:
    if problem := _check_text(element.get("placeholder"), PLACEHOLDER_TEXT, plain=True):
        return problem
    if element["type"] == "users_select":
        return None
    options = element.get("options") or []
    if not 1 <= len(options) <= OPTIONS:
        return f"a select needs 1 to {OPTIONS} options"
    for option in options:
        if problem := _check_text(option.get("text"), OPTION_TEXT, plain=True):
            return problem
        if not 1 <= len(str(option.get("value", ""))) <= OPTION_VALUE:
            return f"option value must be 1 to {OPTION_VALUE} characters"
    return None


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
    found += [e["text"] if isinstance(e.get("text"), str) else (e.get("text") or {}).get(
        "text", "") for e in block.get("elements", [])]  # fmt: skip
    found.append(block.get("accessory", {}).get("text", {}).get("text", ""))
    return [t for t in found if t]


def _mrkdwn(block: dict[str, Any]) -> list[str]:
    """The texts of a block that Slack reads as mrkdwn (where mentions are live)."""
    objects = [block.get("text") or {}, *block.get("fields", []), *block.get("elements", [])]
    return [o.get("text", "") for o in objects if o.get("type") == "mrkdwn"]


class FakeSocketMode:
    """Slack's Socket Mode end: a websocket server on 127.0.0.1 that greets each connection
    with `hello`, sends envelopes (`send`) and checks that each is acknowledged with its
    `envelope_id` (`acks`), as Slack does before it gives up on an app."""

    def __init__(self) -> None:
        from websockets.sync.server import serve

        self.tickets: set[str] = set()
        self.connections: list[Any] = []
        self.acks: dict[str, dict[str, Any]] = {}  # envelope_id -> the acknowledgement
        self.unknown: list[str] = []  # frames that acknowledge nothing we sent
        self._sent: set[str] = set()
        self._acked = threading.Condition()
        self.server = serve(self._session, "127.0.0.1", 0)
        self.port = self.server.socket.getsockname()[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url_for_ticket(self) -> str:
        ticket = uuid.uuid4().hex
        self.tickets.add(ticket)
        return f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}&app_id={APP_ID}"

    def _session(self, connection: Any) -> None:
        path = connection.request.path if connection.request else ""
        ticket = path.partition("ticket=")[2].partition("&")[0]
        if ticket not in self.tickets:
            connection.close(1008, "invalid ticket")
            return
        self.tickets.discard(ticket)  # a URL is good for one connection
        self.connections.append(connection)
        connection.send(json.dumps({
            "type": "hello", "num_connections": 1,
            "debug_info": {"host": "applink-fake", "build_number": 1,
                           "approximate_connection_time": 18060},
            "connection_info": {"app_id": APP_ID},
        }))  # fmt: skip
        for frame in connection:
            message = json.loads(frame)
            envelope_id = message.get("envelope_id")
            with self._acked:
                if envelope_id in self._sent:
                    self.acks[envelope_id] = message
                    self._acked.notify_all()
                else:
                    self.unknown.append(str(frame))

    def wait_connected(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while not self.connections and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self.connections, "the app never connected"

    def send(self, payload: dict[str, Any], kind: str = "interactive") -> str:
        """Send an envelope carrying `payload` on the latest connection; its envelope_id."""
        self.wait_connected()
        envelope_id = str(uuid.uuid4())
        with self._acked:
            self._sent.add(envelope_id)
        self.connections[-1].send(json.dumps({
            "envelope_id": envelope_id, "payload": payload, "type": kind,
            "accepts_response_payload": False,
        }))  # fmt: skip
        return envelope_id

    def wait_ack(self, envelope_id: str, timeout: float = 3.0) -> dict[str, Any]:
        """The acknowledgement of an envelope; fails if none came within `timeout` (Slack
        waits 3 seconds)."""
        with self._acked:
            self._acked.wait_for(lambda: envelope_id in self.acks, timeout)
        assert envelope_id in self.acks, f"envelope {envelope_id} was not acknowledged"
        return self.acks[envelope_id]

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


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
