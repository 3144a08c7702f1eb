"""Harness and fake of the X API v2 endpoints the `x` connector calls (bearer-token auth).

Shapes follow X's documentation: `GET /2/tweets/search/recent` takes `query`, `since_id`,
`until_id` (both exclusive), `start_time`, `end_time`, `max_results` (10..100), `next_token`,
`expansions`, `tweet.fields` and `user.fields`, and answers newest first
`{"data": [...], "includes": {"users": [...]}, "meta": {"newest_id", "oldest_id",
"result_count", "next_token"?}}`, or `{"meta": {"result_count": 0}}` when nothing matches.
`GET /2/tweets?ids=` (up to 100) answers the posts it found in `data` and the others in
`errors` ("Not Found Error"). `GET /2/tweets/:id/retweeted_by` takes `max_results` (1..100),
`pagination_token` and `user.fields`, and answers `{"data": [users], "meta": {"result_count",
"next_token"?}}`, `{"meta": {"result_count": 0}}` when nobody retweeted it, or only `errors`
for a post it cannot find. Ids are snowflakes minted from the post's time, so `since_id`
and `until_id` order posts the way X's do. Every answer checks `Authorization: Bearer
<token>` (401 otherwise) and carries `x-rate-limit-*` headers; a scripted call can answer 429
with `x-rate-limit-reset` (epoch seconds) and `x-rate-limit-remaining: 0`.

The query language is the subset the connector builds: quoted phrases, words, `@handle`,
`#tag`, `from:user`, `is:reply`, `is:retweet`, `is:quote`, `lang:xx`, `-` negation, implicit
AND, `OR` and parentheses.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from werkzeug import Request, Response

TOKEN = "AAAAAAAAAAAAAAAAAAAAAfake-bearer-token%2Fnot-a-secret"
SEARCH = "/2/tweets/search/recent"
LOOKUP = "/2/tweets"
RETWEETERS = re.compile(r"^/2/tweets/(?P<id>[0-9]+)/retweeted_by$")
BASE = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
TWEPOCH_MS = 1288834974657
ALWAYS_TWEET = ("id", "text", "edit_history_tweet_ids")
ALWAYS_USER = ("id", "name", "username")


def snowflake(moment: datetime, sequence: int = 0) -> str:
    """An X id minted at `moment` (milliseconds since X's epoch, shifted by 22 bits)."""
    return str(((int(moment.timestamp() * 1000) - TWEPOCH_MS) << 22) | sequence)


def user(uid: str, username: str, followers: int, verified: bool = False) -> dict[str, Any]:
    """A user object with every field the connector asks for."""
    return {
        "id": uid, "name": username.replace("_", " ").title(), "username": username,
        "verified": verified,
        "public_metrics": {"followers_count": followers, "following_count": 150,
                           "tweet_count": 4200, "listed_count": 3, "like_count": 900},
    }  # fmt: skip


def post(
    moment: datetime, author_id: str, text: str, *, likes: int = 0, retweets: int = 0,
    replies: int = 0, quotes: int = 0, replied_to: dict[str, Any] | None = None,
    quoted: dict[str, Any] | None = None, retweeted: dict[str, Any] | None = None,
    lang: str = "en", sequence: int = 0,
) -> dict[str, Any]:  # fmt: skip
    """A post with every field the connector asks for (X leaves out empty ones)."""
    tweet_id = snowflake(moment, sequence)
    tweet: dict[str, Any] = {
        "id": tweet_id,
        "text": text,
        "edit_history_tweet_ids": [tweet_id],
        "author_id": author_id,
        "created_at": moment.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "lang": lang,
        "conversation_id": (replied_to or {}).get("conversation_id", tweet_id),
        "public_metrics": {
            "retweet_count": retweets, "reply_count": replies, "like_count": likes,
            "quote_count": quotes, "bookmark_count": 0, "impression_count": 40 * (likes + 1),
        },
    }  # fmt: skip
    refs = [
        {"type": kind, "id": parent["id"]}
        for kind, parent in (("replied_to", replied_to), ("quoted", quoted),
                             ("retweeted", retweeted))
        if parent
    ]  # fmt: skip
    if refs:
        tweet["referenced_tweets"] = refs
    if replied_to:
        tweet["in_reply_to_user_id"] = replied_to["author_id"]
    return tweet


def default_users() -> list[dict[str, Any]]:
    return [
        user("101", "traveler42", 1200),
        user("102", "flyer_jane", 85),
        user("103", "cook", 40),
        user("104", "acmeair", 250000, verified=True),
        user("105", "grumpy", 5),
        user("106", "frequent_flyer", 310),
    ]


FILLER = (
    "on time and a smooth landing", "delayed two hours at the gate", "lovely cabin crew",
    "seat 14C would not recline", "great coffee on board", "lost my charger in row 9",
    "the app crashed at check-in", "upgrade went through, thanks", "bumpy but fine",
)  # fmt: skip


def default_posts(base: datetime = BASE) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Posts around `base`, and what each is for the brand Acme Air: "mention", "reply",
    "own" (its own post, dropped), "excluded" (only "acme air fryer"), or "other" (not
    found by its query). 15 match the built query: two pages at 10 a page."""
    at = lambda minutes: base + timedelta(minutes=minutes)  # noqa: E731
    bag = post(
        at(0),
        "101",
        "Acme Air lost my bag again. Three days and no word.",
        likes=12,
        retweets=3,
        quotes=1,
        replies=4,
    )
    lisbon = post(at(20), "104", "Acme Air launches a Lisbon route this spring ✈️", likes=80)
    posts = [
        (bag, "mention"),
        (post(at(5), "102", "@acmeair crew on flight 12 was lovely today 👏", likes=2), "mention"),
        (post(at(10), "103", "My acme air fryer makes better fries than any airline",
              likes=30), "excluded"),
        (post(at(15), "104", "@traveler42 We're so sorry. Please DM us your file number.",
              replied_to=bag), "reply"),
        (lisbon, "own"),
        (post(at(25), "105", "Still waiting for the refund @AcmeAir promised &amp; nothing. "
              "#acmeair", replies=1, lang="en"), "mention"),
        (post(at(30), "101", "Acme Air to Lisbon? Find my bag first.", quoted=lisbon,
              retweets=2), "mention"),
        (post(at(32), "106", "Nothing to see here, just airports"), "other"),
        (post(at(33), "102", "RT @traveler42: Acme Air lost my bag again. Three days and no word.",
              retweeted=bag), "other"),
    ]  # fmt: skip
    for i, words in enumerate(FILLER):
        author = "106" if i % 2 else "102"
        text = f"Acme Air flight {100 + i}: {words}"
        posts.append((post(at(35 + 5 * i), author, text, likes=i, lang="en"), "mention"))
    kinds = {p["id"]: kind for p, kind in posts}
    return [p for p, _ in posts], kinds


class FakeX:
    """The X API v2 recent search and post lookup, over a list of posts and users."""

    def __init__(self, base: datetime = BASE, token: str = TOKEN):
        self.token = token
        self.posts, self.kinds = default_posts(base)
        self.users = {u["id"]: u for u in default_users()}
        self.retweeters: dict[str, list[str]] = {}  # post id: ids of users who retweeted it
        self.requests: list[dict[str, str]] = []  # every call: {"path": ..., **args}
        self.headers: list[dict[str, str]] = []
        self.served: list[list[str]] = []  # ids answered by each successful call
        self._script: dict[int, Callable[[], Response]] = {}
        self._empty_pages = 0
        self.reset = base + timedelta(hours=1)

    def install(self, server: Any) -> FakeX:
        server.expect_request(SEARCH, method="GET").respond_with_handler(self.search)
        server.expect_request(LOOKUP, method="GET").respond_with_handler(self.lookup)
        server.expect_request(RETWEETERS, method="GET").respond_with_handler(self.retweeted_by)
        return self

    # -- scripting ------------------------------------------------------------------------

    def rate_limit(self, after: int = 0, reset: datetime | None = None,
                   with_reset: bool = True) -> None:  # fmt: skip
        """Let `after` more calls through, then answer the next one 429."""
        headers = {"x-rate-limit-limit": "450", "x-rate-limit-remaining": "0"}
        if with_reset:
            headers["x-rate-limit-reset"] = str(int((reset or self.reset).timestamp()))
        body = {"title": "Too Many Requests", "detail": "Too Many Requests",
                "type": "about:blank", "status": 429}  # fmt: skip
        self._script[len(self.requests) + after + 1] = lambda: _json(429, body, headers)

    def fail(self, status: int, after: int = 0, body: str = "") -> None:
        """Let `after` more calls through, then answer the next one `status` with `body`."""
        self._script[len(self.requests) + after + 1] = lambda: Response(body, status=status)

    def empty_pages(self, count: int) -> None:
        """Answer the next `count` searches with no posts but a next_token (X does that)."""
        self._empty_pages = count

    def add(self, moment: datetime, author_id: str, text: str, kind: str,
            **fields: Any) -> dict[str, Any]:  # fmt: skip
        """A new post, labelled with what it is for Acme Air."""
        new = post(moment, author_id, text, **fields)
        self.posts.append(new)
        self.kinds[new["id"]] = kind
        return new

    def grow(self, tweet_id: str, **counts: int) -> None:
        """Add to a post's public_metrics (like_count=5, ...)."""
        metrics = self.find(tweet_id)["public_metrics"]
        for key, more in counts.items():
            metrics[key] += more

    def find(self, tweet_id: str) -> dict[str, Any]:
        return next(p for p in self.posts if p["id"] == tweet_id)

    def ids(self, kind: str) -> set[str]:
        return {i for i, k in self.kinds.items() if k == kind}

    def searches(self) -> list[dict[str, str]]:
        return [r for r in self.requests if r["path"] == SEARCH]

    # -- endpoints ------------------------------------------------------------------------

    def search(self, request: Request) -> Response:
        denied = self._enter(request)
        if denied is not None:
            return denied
        args = request.args
        size = int(args.get("max_results", 10))
        if not 10 <= size <= 100:
            return _invalid("max_results", args["max_results"],
                            f"The `max_results` query parameter value [{size}] is not between "
                            "10 and 100")  # fmt: skip
        if "query" not in args:
            return _invalid("query", "", "The `query` query parameter can not be empty")
        matches = _parse(args["query"])
        found = _in_range([p for p in self.posts if matches(p, self.users)], args)
        found.sort(key=lambda p: int(p["id"]), reverse=True)
        if self._empty_pages:
            self._empty_pages -= 1
            self.served.append([])
            return self._ok({"meta": {"result_count": 0, "next_token": _token(None)}})
        page = found[:size]
        self.served.append([p["id"] for p in page])
        if not page:
            return self._ok({"meta": {"result_count": 0}})
        meta = {"newest_id": page[0]["id"], "oldest_id": page[-1]["id"], "result_count": len(page)}
        if len(found) > size:
            meta["next_token"] = _token(page[-1]["id"])
        return self._ok({**self._expand(page, args), "meta": meta})

    def lookup(self, request: Request) -> Response:
        denied = self._enter(request)
        if denied is not None:
            return denied
        ids = [i for i in request.args.get("ids", "").split(",") if i]
        if not 1 <= len(ids) <= 100:
            return _invalid("ids", request.args.get("ids", ""),
                            "The number of values in the `ids` query parameter list "
                            f"[{len(ids)}] is not between 1 and 100")  # fmt: skip
        by_id = {p["id"]: p for p in self.posts}
        page = [by_id[i] for i in ids if i in by_id]
        self.served.append([p["id"] for p in page])
        body: dict[str, Any] = self._expand(page, request.args) if page else {}
        missing = [i for i in ids if i not in by_id]
        if missing:
            body["errors"] = [
                {"value": i, "detail": f"Could not find tweet with ids: [{i}].",
                 "title": "Not Found Error", "resource_type": "tweet", "parameter": "ids",
                 "resource_id": i, "type": "https://api.twitter.com/2/problems/resource-not-found"}
                for i in missing
            ]  # fmt: skip
        return self._ok(body)

    def retweeted_by(self, request: Request) -> Response:
        denied = self._enter(request)
        if denied is not None:
            return denied
        tweet_id = RETWEETERS.match(request.path)["id"]  # type: ignore[index]
        size = int(request.args.get("max_results", 100))
        if not 1 <= size <= 100:
            return _invalid("max_results", request.args["max_results"],
                            f"The `max_results` query parameter value [{size}] is not between "
                            "1 and 100")  # fmt: skip
        if tweet_id not in {p["id"] for p in self.posts}:
            self.served.append([])
            return self._ok({"errors": [
                {"value": tweet_id, "detail": f"Could not find tweet with id: [{tweet_id}].",
                 "title": "Not Found Error", "resource_type": "tweet", "parameter": "id",
                 "resource_id": tweet_id,
                 "type": "https://api.twitter.com/2/problems/resource-not-found"}
            ]})  # fmt: skip
        who = self.retweeters.get(tweet_id, [])
        start = int(request.args.get("pagination_token") or 0)
        page = who[start : start + size]
        self.served.append(page)
        if not page:
            return self._ok({"meta": {"result_count": 0}})
        fields = set(request.args.get("user.fields", "").split(",")) | set(ALWAYS_USER)
        meta: dict[str, Any] = {"result_count": len(page)}
        if start + size < len(who):
            meta["next_token"] = str(start + size)
        data = [{k: v for k, v in self.users[u].items() if k in fields} for u in page]
        return self._ok({"data": data, "meta": meta})

    def _enter(self, request: Request) -> Response | None:
        """Log the call; answer its scripted fault or a 401 for a wrong token, if any."""
        self.requests.append({"path": request.path, **request.args.to_dict()})
        self.headers.append(dict(request.headers))
        scripted = self._script.pop(len(self.requests), None)
        if scripted is not None:
            return scripted()
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            body = {"title": "Unauthorized", "type": "about:blank", "status": 401,
                    "detail": "Unauthorized"}  # fmt: skip
            return _json(401, body)
        return None

    def _expand(self, page: list[dict[str, Any]], args: Any) -> dict[str, Any]:
        wanted = set(args.get("tweet.fields", "").split(",")) | set(ALWAYS_TWEET)
        data = [{k: v for k, v in p.items() if k in wanted} for p in page]
        body: dict[str, Any] = {"data": data}
        if "author_id" in args.get("expansions", "").split(","):
            user_fields = set(args.get("user.fields", "").split(",")) | set(ALWAYS_USER)
            authors = dict.fromkeys(p["author_id"] for p in page)
            body["includes"] = {"users": [
                {k: v for k, v in self.users[a].items() if k in user_fields} for a in authors
            ]}  # fmt: skip
        return body

    def _ok(self, body: dict[str, Any]) -> Response:
        remaining = str(max(0, 450 - len(self.requests)))
        headers = {"x-rate-limit-limit": "450", "x-rate-limit-remaining": remaining,
                   "x-rate-limit-reset": str(int(self.reset.timestamp()))}  # fmt: skip
        return _json(200, body, headers)


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {},
                    content_type="application/json")  # fmt: skip


def _invalid(parameter: str, value: str, message: str) -> Response:
    return _json(400, {
        "errors": [{"parameters": {parameter: [value]}, "message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    })  # fmt: skip


def _in_range(found: list[dict[str, Any]], args: Any) -> list[dict[str, Any]]:
    """The posts a search's since/until ids, start/end times and next_token leave."""
    since, until = args.get("since_id"), args.get("until_id")
    if since:  # X uses since_id and ignores start_time when both are given
        found = [p for p in found if int(p["id"]) > int(since)]
    elif args.get("start_time"):
        found = [p for p in found if p["created_at"][:19] >= args["start_time"][:19]]
    if until:
        found = [p for p in found if int(p["id"]) < int(until)]
    if args.get("end_time"):
        found = [p for p in found if p["created_at"][:19] < args["end_time"][:19]]
    if args.get("next_token"):
        after = json.loads(base64.urlsafe_b64decode(args["next_token"]))["before"]
        if after is not None:
            found = [p for p in found if int(p["id"]) < int(after)]
    return found


def _token(before: str | None) -> str:
    return base64.urlsafe_b64encode(json.dumps({"before": before}).encode()).decode()


# -- the query language ---------------------------------------------------------------------

_LEX = re.compile(r'\s*(\(|\)|-?"[^"]*"|-?[^\s()"]+)')
_WORDS = re.compile(r"[@#]?\w+")
Matcher = Callable[[dict[str, Any], dict[str, dict[str, Any]]], bool]


def _parse(query: str) -> Matcher:
    tokens = [t for t in _LEX.findall(query) if t.strip()]
    matcher, rest = _or(tokens)
    if rest:
        raise ValueError(f"unexpected {rest[0]!r} in query {query!r}")
    return matcher


def _or(tokens: list[str]) -> tuple[Matcher, list[str]]:
    options, tokens = [], tokens
    while True:
        clause, tokens = _and(tokens)
        options.append(clause)
        if not tokens or tokens[0] != "OR":
            return (lambda p, u: any(m(p, u) for m in options)), tokens
        tokens = tokens[1:]


def _and(tokens: list[str]) -> tuple[Matcher, list[str]]:
    parts: list[Matcher] = []
    while tokens and tokens[0] not in ("OR", ")"):
        if tokens[0] == "(":
            inner, tokens = _or(tokens[1:])
            if not tokens or tokens[0] != ")":
                raise ValueError("unbalanced parentheses")
            parts.append(inner)
            tokens = tokens[1:]
        else:
            parts.append(_atom(tokens[0]))
            tokens = tokens[1:]
    if not parts:
        raise ValueError("empty clause")
    return (lambda p, u: all(m(p, u) for m in parts)), tokens


def _atom(token: str) -> Matcher:
    negate = token.startswith("-")
    token = token[1:] if negate else token

    def words(p: dict[str, Any]) -> list[str]:
        return [w.lower() for w in _WORDS.findall(p["text"])]

    def refs(p: dict[str, Any]) -> set[str]:
        return {r["type"] for r in p.get("referenced_tweets", [])}

    if token.startswith('"'):
        phrase = [w.lower() for w in _WORDS.findall(token.strip('"'))]

        def test(p: dict[str, Any], u: dict[str, dict[str, Any]]) -> bool:
            text = words(p)
            n = len(phrase)
            return any(text[i : i + n] == phrase for i in range(len(text) - n + 1))
    elif token.startswith("from:"):
        name = token[5:].lower()

        def test(p: dict[str, Any], u: dict[str, dict[str, Any]]) -> bool:
            return u[p["author_id"]]["username"].lower() == name
    elif token.startswith("is:"):
        kind = {"reply": "replied_to", "retweet": "retweeted", "quote": "quoted"}[token[3:]]

        def test(p: dict[str, Any], u: dict[str, dict[str, Any]]) -> bool:
            return kind in refs(p)
    elif token.startswith("lang:"):

        def test(p: dict[str, Any], u: dict[str, dict[str, Any]]) -> bool:
            return p.get("lang") == token[5:]
    else:
        word = token.lower()

        def test(p: dict[str, Any], u: dict[str, dict[str, Any]]) -> bool:
            return word in words(p)

    return (lambda p, u: not test(p, u)) if negate else test


class XHarness:
    type = "x"
    env: ClassVar[dict[str, str]] = {"X_BEARER_TOKEN": TOKEN}
    http = True

    def options(self, base_url: str, tmp_path: Path) -> dict[str, Any]:
        return {"type": "x", "base_url": base_url, "max_results": 10}

    def serve(self, server: Any) -> None:
        FakeX().install(server)


HARNESS = XHarness()
