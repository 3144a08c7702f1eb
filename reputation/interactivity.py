"""Answering clicks on incident messages: one slack-bolt app, reached over Socket Mode (an
app-level token, for teams without a public URL) and over HTTP at `/slack/events` (Slack's
request signature checked, five minutes of replay window, each signature taken once).

Every click is acknowledged at once (Slack waits three seconds), then handled: the incident
and the version the person saw come from the value the element carries, never from the
message text; the change is a conditional update (reputation/workflow.py), so a click that
lost a race changes nothing and its author is told who got there first. A forged, stale or
replayed request is refused before it reaches the handler and records nothing.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from reputation.config import Config, PluginConfig
from reputation.drafts import draft_for, guard_text
from reputation.followup import incident_lock, incident_view, show
from reputation.sinks.base import SinkError
from reputation.sinks.slack import ACTION_IDS, DEFAULT_BASE_URL, SlackSink
from reputation.store import Store
from reputation.text import slack_escape, slack_text
from reputation.timeutil import utcnow
from reputation.workflow import Actor, Outcome, act, describe_state, snooze_until

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

log = logging.getLogger("reputation")
PATH = "/slack/events"
REPLAY_WINDOW = timedelta(minutes=5)  # Slack's own: older timestamps are refused
MAX_BODY = 1 << 20  # an interaction payload is a few kB; anything this big is not Slack
_VALUE = re.compile(r"^(\d{1,12}):(\d{1,12})(?::(1h|4h|tomorrow))?$")
_BLOCK = re.compile(r"^incident:(\d{1,12}):(\d{1,12})$")
_ACTIONS = {action_id: name for name, action_id in ACTION_IDS.items()}


class InteractivityError(Exception):
    """Interactivity is configured but cannot start (a missing secret, say)."""


@dataclass(frozen=True)
class Click:
    """One element clicked: which, on which incident at which version, with what choice."""

    action: str  # a key of ACTION_IDS
    incident_id: int
    version: int
    choice: str | None = None  # a snooze's length, or the user picked in the select


def parse_click(action: Mapping[str, Any]) -> Click | None:
    """The click a block_actions action describes, from the value its element carries (a
    button's value, a select option's value, the users select's block id); None if it is
    not one of ours."""
    name = _ACTIONS.get(str(action.get("action_id")))
    if name is None:
        return None
    if name == "assign":
        found = _BLOCK.match(str(action.get("block_id") or ""))
        user = action.get("selected_user")
        if found is None or not isinstance(user, str) or not user:
            return None
        return Click(name, int(found[1]), int(found[2]), user)
    value = action.get("value")
    if name == "snooze":
        value = (action.get("selected_option") or {}).get("value")
    found = _VALUE.match(str(value or ""))
    if found is None or (name == "snooze") != bool(found[3]):
        return None
    return Click(name, int(found[1]), int(found[2]), found[3])


def slack_sink_config(config: Config) -> PluginConfig | None:
    """The Slack sink that answers clicks: the first with an app token or signing secret."""
    return next(
        (s for s in config.sinks if s.type == "slack" and (
            s.options.get("app_token_env") or s.options.get("signing_secret_env"))),
        None,
    )  # fmt: skip


class Interactivity:
    """The click handler for one config: a bolt App, its Socket Mode connection and its
    HTTP endpoint, whichever the Slack sink's secrets allow."""

    def __init__(
        self, config: Config, env: Mapping[str, str], *, port: int | None = None,
        now: Callable[[], datetime] = utcnow,
    ) -> None:  # fmt: skip
        sink = slack_sink_config(config)
        if sink is None:
            raise InteractivityError("no slack sink names app_token_env or signing_secret_env")
        self.config, self.sink_config, self.env, self.now = config, sink, env, now
        options = sink.options
        token = env.get(options.get("token_env") or "SLACK_BOT_TOKEN", "")
        self.app_token = _secret(env, options.get("app_token_env"))
        self.signing_secret = _secret(env, options.get("signing_secret_env"))
        if not token:
            raise InteractivityError(f"environment variable {options.get('token_env')} is not set")
        if not self.app_token and not self.signing_secret:
            names = [n for n in (options.get("app_token_env"), options.get("signing_secret_env"))
                     if n]  # fmt: skip
            raise InteractivityError(f"environment variable {' or '.join(names)} is not set")
        base_url = options.get("base_url") or DEFAULT_BASE_URL
        self.client = WebClient(token=token, base_url=base_url.rstrip("/") + "/",
                                timeout=10)  # fmt: skip
        self.app = App(
            client=self.client,  # carries the bot token
            signing_secret=self.signing_secret or "unused: socket mode only",
            token_verification_enabled=False,  # no Slack call at start-up: serve starts offline
            request_verification_enabled=True,  # HTTP only; Socket Mode needs no signature
            before_authorize=self._replay_guard,
            process_before_response=False,  # ack() answers Slack; the work goes on after
        )
        self.app.action(re.compile(r"^wf_"))(self._on_action)
        self.app.action("open_post")(_just_ack)  # a link button still sends its click
        self.host, self.port = config.interactivity
        if port is not None:
            self.port = port
        self.http: WSGIServer | None = None
        self.socket: SocketModeHandler | None = None
        self._names: dict[str, str] = {}
        self._names_lock = threading.Lock()

    # -- running ------------------------------------------------------------------------

    def start(self) -> None:
        """Connect over Socket Mode (with an app token) and listen on HTTP (with a signing
        secret), both in background threads."""
        if self.signing_secret:
            self.http = make_server(self.host, self.port, self.wsgi, server_class=_Server,
                                    handler_class=_QuietHandler)  # fmt: skip
            self.port = self.http.server_port
            threading.Thread(target=self.http.serve_forever, name="slack-http",
                             daemon=True).start()  # fmt: skip
            log.warning("answering Slack clicks at http://%s:%s%s", self.host, self.port, PATH)
        if self.app_token:
            self.socket = SocketModeHandler(self.app, self.app_token, logger=log)
            self.socket.connect()
            log.warning("answering Slack clicks over Socket Mode")

    def stop(self) -> None:
        """Close the connection and the endpoint."""
        if self.socket is not None:
            self.socket.close()
            self.socket = None
        if self.http is not None:
            self.http.shutdown()
            self.http.server_close()
            self.http = None

    def wsgi(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """The HTTP endpoint as a WSGI app: bolt's adapter, behind a size limit."""
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = MAX_BODY + 1
        if length > MAX_BODY:
            start_response("413 Payload Too Large", [("Content-Type", "text/plain")])
            return [b"too large"]
        return SlackRequestHandler(self.app, path=PATH)(environ, start_response)

    # -- middleware and listeners -------------------------------------------------------

    def _replay_guard(self, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
                      ) -> BoltResponse:  # fmt: skip
        """After bolt checked the signature and its five-minute window: take each signed
        request once; a replay within the window is refused and records nothing."""
        if req.mode == "socket_mode":
            return next()
        signature = (req.headers.get("x-slack-signature") or [""])[0]
        with self._store() as store:
            fresh = store.ledger.first_sight_of_request(signature, self.now(), REPLAY_WINDOW)
        if not fresh:
            log.warning("refused a replayed Slack request")
            return BoltResponse(status=401, body={"error": "replayed request"})
        return next()

    def _on_action(self, ack: Callable[..., Any], body: dict[str, Any], action: dict[str, Any],
                   request: BoltRequest) -> None:  # fmt: skip
        ack()  # first: Slack shows an error if it has no answer within three seconds
        try:
            self.handle(body, action, request.mode)
        except Exception:  # the app must outlive any one click (logged with its traceback)
            log.exception("handling a Slack click failed")

    @contextmanager
    def _store(self) -> Any:
        store = Store.open(self.config.database)  # one connection per thread
        try:
            yield store
        finally:
            store.close()

    # -- a click ------------------------------------------------------------------------

    def handle(self, body: Mapping[str, Any], action: Mapping[str, Any], via: str) -> None:
        """Do what one click asks, show it, and tell its author if it changed nothing."""
        user = str((body.get("user") or {}).get("id") or "")
        channel = str((body.get("channel") or {}).get("id") or "")
        click = parse_click(action)
        if click is None or not user:
            log.warning("a Slack click that is not one of ours: %r", action.get("action_id"))
            return
        with self._store() as store:
            if not store.ledger.has_incident(click.incident_id):
                self._tell(channel, user, f"There is no incident #{click.incident_id}.")
                return
            if click.action == "draft":
                # A double click arrives as two requests at once: one posts, the other is told.
                with incident_lock(click.incident_id):
                    self._draft(store, click, channel, user)
                return
            outcome = self._act(store, click, user, via)
            if outcome.won:
                self._show(store, click.incident_id)
            else:
                self._tell(channel, user, _lost_text(click, outcome))

    def _act(self, store: Store, click: Click, user: str, via: str) -> Outcome:
        actor = Actor(user, self.name_of(user), "button")
        now = self.now()
        kwargs: dict[str, Any] = {"version": click.version, "detail": {"via": via}}
        action = click.action
        if action == "assign_me":
            action, kwargs["assignee"] = "assign", (user, actor.name)
        elif action == "assign":
            assert click.choice is not None
            kwargs["assignee"] = (click.choice, self.name_of(click.choice))
        elif action == "snooze":
            assert click.choice is not None
            kwargs["until"] = snooze_until(click.choice, now, self.config.sla)
        return act(store.ledger, click.incident_id, action, actor, now, **kwargs)

    def _sink(self) -> SlackSink:
        return SlackSink(self.sink_config.name, self.sink_config.options, self.env)

    def _show(self, store: Store, incident_id: int) -> None:
        """Update the message in place and write the change in its thread, now."""
        warnings: list[str] = []
        critical = self.config.policy.routes.by_severity.get("critical")
        try:
            show(store.ledger, self._sink(), incident_id, self.now(), critical, warnings)
        except SinkError as exc:  # the next run shows it: the change is kept
            log.warning("incident #%s: could not show the change yet: %s", incident_id, exc)
        for warning in warnings:
            log.warning("%s", warning)

    def _draft(self, store: Store, click: Click, channel: str, user: str) -> None:
        """Post the draft reply (or the guard) in the incident's thread, once."""
        ledger = store.ledger
        top = ledger.incident_evidence(click.incident_id, 0, 1)
        incident = ledger.incident(click.incident_id)
        if not top:
            self._tell(channel, user, "This incident has no mention to answer.")
            return
        draft = draft_for(self.config.drafts, incident["brand"], top[0], incident["category"])
        if draft.text is None:
            text = f":warning: *{slack_escape(guard_text(draft.guard))}*"
        else:
            author = slack_text(top[0]["author"] or "the author")
            quoted = "\n".join(f"> {slack_text(line)}" for line in draft.text.splitlines())
            text = f":memo: *Draft reply* to {author} (edit it, then post it yourself):\n{quoted}"
        sink = self._sink()
        main = ledger.incident_message(click.incident_id, sink.name, "main")
        if main is None:
            self._tell(channel, user, "This incident has no message to reply in yet.")
            return
        view = incident_view(ledger, click.incident_id, sink.name, self.now(),
                             None, [])  # fmt: skip
        try:
            posted = sink.note(view, main, "draft", text)
        except SinkError as exc:
            self._tell(channel, user, f"Could not post the draft: {slack_escape(str(exc))}")
            return
        if not posted:
            self._tell(channel, user, "The draft reply is already in the thread.")

    def name_of(self, user: str) -> str:
        """A person's name as Slack shows it (users.info), or their id if Slack cannot say."""
        with self._names_lock:
            if user in self._names:
                return self._names[user]
        try:
            found = self.client.users_info(user=user)["user"]
        except (SlackApiError, OSError) as exc:
            log.warning("users.info %s failed: %s", user, exc)
            return user
        profile = found.get("profile") or {}
        name = str(profile.get("display_name") or profile.get("real_name")
                   or found.get("real_name") or found.get("name") or user)  # fmt: skip
        with self._names_lock:
            self._names[user] = name
        return name

    def _tell(self, channel: str, user: str, text: str) -> None:
        """A message only the clicker sees (text already inert)."""
        if not channel:
            return
        try:
            self.client.chat_postEphemeral(channel=channel, user=user, text=text)
        except (SlackApiError, OSError) as exc:
            log.warning("could not tell %s: %s", user, exc)


def _lost_text(click: Click, outcome: Outcome) -> str:
    """What the loser of a race (or a click on a state that moved) is told."""
    state = describe_state(outcome.current["state"])
    by = outcome.by
    if by is None:
        return f"Nothing changed: incident #{click.incident_id} is {state}."
    who = slack_text(by["actor_name"])
    return (f"Nothing changed: incident #{click.incident_id} is already {state}, by {who}"
            f" at {by['at'][11:16]} UTC ({by['source']}).")  # fmt: skip


def _secret(env: Mapping[str, str], name: Any) -> str:
    return env.get(name, "") if isinstance(name, str) and name else ""


def _just_ack(ack: Callable[..., Any]) -> None:
    ack()


class _Server(ThreadingMixIn, WSGIServer):
    """One thread per request: a slow click never holds up the next one."""

    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        log.debug("slack http: " + format, *args)
