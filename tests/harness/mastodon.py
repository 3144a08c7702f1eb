"""Harness for the `mastodon` connector: a fake Mastodon instance (hashtag timelines, v2
search, instance info) answering with documented Status and Account entities."""

from __future__ import annotations

import copy
import json
import re
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlencode

from werkzeug import Request, Response

BASE = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
DOMAIN = "mastodon.example"
TAG_PATH = re.compile(r"^/api/v1/timelines/tag/(?P<tag>[^/]+)$")
SEARCH_PATH = "/api/v2/search"
INSTANCE_PATH = re.compile(r"^/api/v(?P<version>[12])/instance/?$")
REBLOGGED_PATH = re.compile(r"^/api/v1/statuses/(?P<id>[0-9]+)/reblogged_by$")
TOKEN = "fake-mastodon-token"
RATE_LIMIT = 300


def snowflake(moment: datetime, sequence: int = 0) -> str:
    """A Mastodon status id: milliseconds since the epoch shifted 16 bits, plus a sequence."""
    return str((int(moment.timestamp() * 1000) << 16) + sequence)


def account(username: str, domain: str | None = None, followers: int = 10) -> dict[str, Any]:
    """An Account entity; `acct` carries the domain only for remote accounts."""
    host = domain or DOMAIN
    return {
        "id": str(100000 + zlib.crc32(f"{username}@{host}".encode())),
        "username": username,
        "acct": f"{username}@{domain}" if domain else username,
        "display_name": username.title(),
        "locked": False,
        "bot": False,
        "discoverable": True,
        "group": False,
        "created_at": "2022-11-01T00:00:00.000Z",
        "note": "",
        "url": f"https://{host}/@{username}",
        "uri": f"https://{host}/users/{username}",
        "avatar": f"https://{DOMAIN}/avatars/original/missing.png",
        "avatar_static": f"https://{DOMAIN}/avatars/original/missing.png",
        "header": f"https://{DOMAIN}/headers/original/missing.png",
        "header_static": f"https://{DOMAIN}/headers/original/missing.png",
        "followers_count": followers,
        "following_count": 3,
        "statuses_count": 42,
        "last_status_at": "2026-11-22",
        "emojis": [],
        "fields": [],
    }


def hashtag(name: str) -> str:
    """A hashtag link as Mastodon renders it in `content`."""
    return (
        f'<a href="https://{DOMAIN}/tags/{name.lower()}" class="mention hashtag" rel="tag">'
        f"#<span>{name}</span></a>"
    )


def mention(username: str) -> str:
    """A mention as Mastodon renders it in `content`."""
    return (
        f'<span class="h-card" translate="no"><a href="https://{DOMAIN}/@{username}" '
        f'class="u-url mention">@<span>{username}</span></a></span>'
    )


def status(
    sequence: int, minutes: float, author: dict[str, Any], content: str, *,
    tags: tuple[str, ...] = ("acmeair",), in_reply_to: dict[str, Any] | None = None,
    favourites: int = 0, reblogs: int = 0, replies: int = 0, language: str | None = "en",
    base: datetime = BASE,
) -> dict[str, Any]:  # fmt: skip
    """A Status entity as the REST API returns it to an anonymous client."""
    created = base + timedelta(minutes=minutes)
    sid = snowflake(created, sequence)
    host = author["url"].split("/")[2]
    return {
        "id": sid,
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "in_reply_to_id": in_reply_to["id"] if in_reply_to else None,
        "in_reply_to_account_id": in_reply_to["account"]["id"] if in_reply_to else None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "language": language,
        "uri": f"https://{host}/users/{author['username']}/statuses/{sid}",
        "url": f"https://{host}/@{author['username']}/{sid}",
        "replies_count": replies,
        "reblogs_count": reblogs,
        "favourites_count": favourites,
        "edited_at": None,
        "content": content,
        "reblog": None,
        "application": {"name": "Web", "website": None} if host == DOMAIN else None,
        "account": copy.deepcopy(author),
        "media_attachments": [],
        "mentions": [],
        "tags": [{"name": t, "url": f"https://{DOMAIN}/tags/{t}"} for t in tags],
        "emojis": [],
        "card": None,
        "poll": None,
    }


def reblog_of(sequence: int, minutes: float, booster: dict[str, Any],
              original: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    """A reblog: a wrapper status of its own whose `reblog` is the original."""
    wrapper = status(sequence, minutes, booster, "", tags=())
    wrapper.update(reblog=original, language=None, url=None)
    return wrapper


TRAVELER = account("traveler", followers=120)
FLYER = account("flyer", "other.example", followers=2300)
COOK = account("cook")
ACME = account("acmeair", followers=50000)
IMPOSTOR = account("acmeair", "evil.example", followers=3)
GRUMPY = account("grumpy", "other.example", followers=15)
TAGGER = account("tagger")


def default_statuses(base: datetime = BASE) -> list[dict[str, Any]]:
    """Nine statuses, eight tagged #acmeair, oldest first (see each comment)."""
    lost = status(
        1, 0, TRAVELER,
        f"<p>Three days and still no bag. {hashtag('AcmeAir')} Acme Air, where is it?</p>",
        favourites=4, reblogs=2, replies=1, base=base,
    )  # fmt: skip
    return [
        lost,  # a mention
        status(
            2,
            20,
            FLYER,
            f"<p>Acme Air crew on the Lisbon flight was lovely {hashtag('acmeair')}</p>",
            favourites=9,
            base=base,
        ),  # a remote mention
        status(
            3,
            30,
            COOK,
            f"<p>My acme air fryer makes the best fries {hashtag('acmeair')}</p>",
            base=base,
        ),  # excluded: "acme air fryer"
        status(
            4,
            40,
            ACME,
            f"<p>{mention('traveler')} Acme Air here: sorry! Please DM us your "
            f"file number. {hashtag('acmeair')}</p>",
            in_reply_to=lost,
            base=base,
        ),  # the brand's reply to the first post
        status(
            5, 50, ACME, f"<p>Acme Air launches a Lisbon route {hashtag('acmeair')}</p>", base=base
        ),  # the brand's own post: dropped
        status(
            6,
            60,
            IMPOSTOR,
            f"<p>{mention('traveler')} Acme Air support here, send us your "
            f"card number {hashtag('acmeair')}</p>",
            in_reply_to=lost,
            base=base,
        ),  # same username on another server: not the brand
        status(
            7, 70, TAGGER, f"<p>Lost again {hashtag('acmeair')}</p>", base=base
        ),  # only the hashtag: no brand term
        status(
            8,
            80,
            GRUMPY,
            f"<p>{mention('acmeair')} still waiting for the refund you "
            f"promised {hashtag('acmeair')}</p>",
            base=base,
        ),  # an @-mention of the brand
        status(
            9,
            90,
            TRAVELER,
            "<p>Acme Air lost my bag again &amp; nobody answers</p>",
            tags=(),
            base=base,
        ),  # no hashtag: only search finds it
    ]


class FakeMastodon:
    """A Mastodon instance as documented: `GET /api/v1/timelines/tag/:hashtag` (since_id,
    max_id, min_id, limit 20 default / 40 max, newest first, reblogs excluded, Link headers
    with next = max_id of the last and prev = min_id of the first), `GET /api/v2/search`
    (statuses only for a logged-in account, offset needs one, newest first), `GET
    /api/v1/statuses/:id/reblogged_by` (an array of Accounts, limit 40 default / 80 max, a
    Link header while more remain; 404 `Record not found` for an unknown status), the
    instance endpoints, and X-RateLimit-* headers on every answer."""

    def __init__(self, statuses: list[dict[str, Any]] | None = None):
        self.statuses = statuses if statuses is not None else default_statuses()
        self.reset_after = 300.0  # seconds until X-RateLimit-Reset (Mastodon: 5-minute periods)
        self.remaining = RATE_LIMIT
        self.requests: list[dict[str, Any]] = []
        self.limited = False
        self.include_reblogs = False  # Mastodon leaves reblogs out of tag timelines
        self.rebloggers: dict[str, list[dict[str, Any]]] = {}  # status id: accounts

    def install(self, server: Any) -> FakeMastodon:
        server.expect_request(TAG_PATH, method="GET").respond_with_handler(self.tag_timeline)
        server.expect_request(SEARCH_PATH, method="GET").respond_with_handler(self.search)
        server.expect_request(INSTANCE_PATH, method="GET").respond_with_handler(self.instance)
        server.expect_request(REBLOGGED_PATH, method="GET").respond_with_handler(self.reblogged_by)
        return self

    def get(self, sequence: int) -> dict[str, Any]:
        return next(s for s in self.statuses if int(s["id"]) & 0xFFFF == sequence)

    def calls(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == path]

    def tag_timeline(self, request: Request) -> Response:
        refused = self._record(request)
        if refused:
            return refused
        tag = TAG_PATH.match(request.path)["tag"].lower()  # type: ignore[index]
        args = request.args
        limit = _limit(args.get("limit"))
        found = [s for s in self.statuses if self._tagged(s, tag)]
        found = [s for s in found if _id_filter(s, args)]
        found.sort(key=lambda s: int(s["id"]), reverse=True)
        # With min_id: the page just above min_id, still newest first.
        page = found[-limit:] if args.get("min_id") else found[:limit]
        headers = {}
        if page:
            kept = {k: args[k] for k in ("local", "limit", "only_media") if k in args}
            url = f"{request.host_url}api/v1/timelines/tag/{tag}?"
            headers["Link"] = (
                f'<{url}{urlencode({**kept, "max_id": page[-1]["id"]})}>; rel="next", '
                f'<{url}{urlencode({**kept, "min_id": page[0]["id"]})}>; rel="prev"'
            )
        return self._json(page, headers=headers)

    def search(self, request: Request) -> Response:
        refused = self._record(request)
        if refused:
            return refused
        args = request.args
        signed_in = request.headers.get("Authorization") == f"Bearer {TOKEN}"
        if request.headers.get("Authorization") and not signed_in:
            return self._json({"error": "The access token is invalid"}, status=401)
        if not args.get("q"):
            return self._json({"error": "param is missing or the value is empty: q"}, 400)
        if not signed_in and args.get("offset"):
            error = "Search queries pagination is not supported without authentication"
            return self._json({"error": error}, status=401)
        if not signed_in and args.get("resolve") in ("true", "1"):
            error = "Search queries that resolve remote resources are not supported without "
            return self._json({"error": error + "authentication"}, status=401)
        statuses: list[dict[str, Any]] = []
        if signed_in and args.get("type") in (None, "statuses"):
            words = re.findall(r"\w+", args["q"].lower())
            found = [s for s in self.statuses if s["reblog"] is None and _has_words(s, words)]
            found.sort(key=lambda s: int(s["id"]), reverse=True)
            offset, limit = int(args.get("offset") or 0), _limit(args.get("limit"))
            statuses = found[offset : offset + limit]
        return self._json({"accounts": [], "statuses": statuses, "hashtags": []})

    def reblogged_by(self, request: Request) -> Response:
        refused = self._record(request)
        if refused:
            return refused
        sid = REBLOGGED_PATH.match(request.path)["id"]  # type: ignore[index]
        if sid not in {s["id"] for s in self.statuses}:
            return self._json({"error": "Record not found"}, status=404)
        value = request.args.get("limit")
        limit = max(1, min(80, int(value))) if value else 40
        who = self.rebloggers.get(sid, [])
        headers = {}
        if len(who) > limit:
            url = f"{request.host_url}api/v1/statuses/{sid}/reblogged_by?"
            headers["Link"] = f'<{url}{urlencode({"limit": limit, "max_id": limit})}>; rel="next"'
        return self._json(who[:limit], headers=headers)

    def instance(self, request: Request) -> Response:
        refused = self._record(request)
        if refused:
            return refused
        host = request.host
        if INSTANCE_PATH.match(request.path)["version"] == "1":  # type: ignore[index]
            body: dict[str, Any] = {
                "uri": host, "title": "Fake Mastodon", "short_description": "A test double",
                "description": "", "email": "admin@example.com", "version": "4.3.2",
                "urls": {"streaming_api": f"ws://{host}"},
                "stats": {"user_count": 7, "status_count": 9, "domain_count": 3},
                "languages": ["en"], "registrations": False, "approval_required": False,
                "invites_enabled": False, "contact_account": None, "rules": [],
            }  # fmt: skip
        else:
            body = {
                "domain": host, "title": "Fake Mastodon", "version": "4.3.2",
                "source_url": "https://github.com/mastodon/mastodon",
                "description": "A test double", "usage": {"users": {"active_month": 7}},
                "languages": ["en"],
                "configuration": {
                    "urls": {"streaming": f"ws://{host}"},
                    "statuses": {"max_characters": 500, "max_media_attachments": 4},
                },
                "registrations": {"enabled": False, "approval_required": False},
                "api_versions": {"mastodon": 2},
                "contact": {"email": "admin@example.com"}, "rules": [],
            }  # fmt: skip
        return self._json(body)

    def _tagged(self, item: dict[str, Any], tag: str) -> bool:
        if item["reblog"] is not None:
            return self.include_reblogs and self._tagged(item["reblog"], tag)
        return tag in {t["name"].lower() for t in item["tags"]}

    def _record(self, request: Request) -> Response | None:
        self.requests.append({
            "path": request.path,
            "args": request.args.to_dict(),
            "authorization": request.headers.get("Authorization"),
        })  # fmt: skip
        if self.limited:
            self.remaining = 0
            return self._json({"error": "Too many requests"}, status=429)
        self.remaining = max(0, self.remaining - 1)
        return None

    def _json(self, body: Any, status: int = 200, headers: dict[str, str] | None = None
              ) -> Response:  # fmt: skip
        # The server's own clock, as in the Date header the HTTP server adds.
        reset = datetime.now(UTC) + timedelta(seconds=self.reset_after)
        return Response(json.dumps(body), status=status, content_type="application/json", headers={
            "X-RateLimit-Limit": str(RATE_LIMIT),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            **(headers or {}),
        })  # fmt: skip


def _limit(value: str | None) -> int:
    return max(1, min(40, int(value))) if value else 20


def _id_filter(item: dict[str, Any], args: Any) -> bool:
    sid = int(item["id"])
    checks = (("since_id", lambda v: sid > v), ("min_id", lambda v: sid > v),
              ("max_id", lambda v: sid < v))  # fmt: skip
    return all(check(int(args[name])) for name, check in checks if args.get(name))


def _has_words(item: dict[str, Any], words: list[str]) -> bool:
    text = re.sub(r"<[^>]*>", "", item["content"]).lower()
    return all(w in set(re.findall(r"\w+", text)) for w in words)


class MastodonHarness:
    type = "mastodon"
    env: ClassVar[dict[str, str]] = {}
    http = True

    def options(self, base_url: str, tmp_path: Path) -> dict[str, Any]:
        return {"type": "mastodon", "base_url": base_url, "limit": 3}

    def serve(self, server: Any) -> None:
        FakeMastodon().install(server)


HARNESS = MastodonHarness()
