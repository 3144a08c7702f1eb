"""Fakes of remote APIs, served on 127.0.0.1, shaped like the documented responses."""

from __future__ import annotations

import json
from typing import Any

from werkzeug import Request, Response

TOKEN = "xoxb-test-token"


class FakeSlack:
    """Slack Web API `chat.postMessage` as documented: records payloads, can answer 429/5xx."""

    def __init__(self, server: Any):
        self.server = server
        self.messages: list[dict[str, Any]] = []  # accepted posts (top-level and replies)
        self.updates: list[dict[str, Any]] = []  # accepted chat.update calls
        self.attempts = 0
        self.script: list[tuple[int, dict[str, Any], dict[str, str]]] = []
        self.down = False
        server.expect_request("/api/chat.postMessage", method="POST").respond_with_handler(
            self._post
        )
        server.expect_request("/api/chat.update", method="POST").respond_with_handler(self._update)

    @property
    def top_level(self) -> list[dict[str, Any]]:
        """Posts that start a message, not thread replies."""
        return [m for m in self.messages if not m.get("thread_ts")]

    @property
    def replies(self) -> list[dict[str, Any]]:
        """Posts in a thread."""
        return [m for m in self.messages if m.get("thread_ts")]

    def _update(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return _json(200, {"ok": False, "error": "invalid_auth"})
        if self.down:
            return Response("upstream connect error", status=500)
        payload = request.get_json(force=True)
        if payload.get("ts") not in {m["ts"] for m in self.messages}:
            return _json(200, {"ok": False, "error": "message_not_found"})
        self.updates.append(payload)
        return _json(200, {"ok": True, "channel": payload["channel"], "ts": payload["ts"]})

    @property
    def base_url(self) -> str:
        return self.server.url_for("/api/")

    def answer(
        self,
        status: int,
        times: int = 1,
        error: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next `times` posts with `status` (and Slack's `error` code)."""
        body = {"ok": False, "error": error or ("ratelimited" if status == 429 else "fatal_error")}
        self.script.extend([(status, body, headers or {})] * times)

    def _post(self, request: Request) -> Response:
        self.attempts += 1
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return _json(200, {"ok": False, "error": "invalid_auth"})
        if self.down:
            return Response("upstream connect error", status=500)
        if self.script:
            status, body, headers = self.script.pop(0)
            return _json(status, body, headers)
        payload = request.get_json(force=True) if request.is_json else request.form.to_dict()
        ts = f"{1763800000 + len(self.messages)}.{len(self.messages):06d}"
        self.messages.append({**payload, "ts": ts})
        return _json(
            200,
            {
                "ok": True,
                "channel": "C0REPUTE",
                "ts": ts,
                "message": {"text": payload.get("text"), "ts": ts},
            },
        )


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body), status=status, headers=headers or {}, content_type="application/json"
    )
