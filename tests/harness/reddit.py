"""Harness for the `reddit` connector: a fake Reddit OAuth API (token, search, comments)."""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from werkzeug import Request, Response

from tests.conftest import NOW

CLIENT_ID = "fake-client-id-4f2a"
CLIENT_SECRET = "fake-client-secret-9c1e77"  # a fake, for the fake
TOKEN_PATH = "/api/v1/access_token"
SEARCH = re.compile(r"^/r/([A-Za-z0-9_+]+)/search/?$")
COMMENTS = re.compile(r"^/r/([A-Za-z0-9_]+)/comments/?$")
SPANS = {"hour": 3600, "day": 86400, "week": 7 * 86400, "month": 30 * 86400, "year": 365 * 86400}
WINDOW = 1000  # requests per 10-minute window, as Reddit's x-ratelimit-* headers count them


def _epoch(moment: datetime) -> float:
    return float(int(moment.timestamp()))


def post(
    post_id: str, created: datetime, author: str | None, title: str, subreddit: str,
    selftext: str = "", score: int = 1, num_comments: int = 0, upvote_ratio: float = 1.0,
) -> dict[str, Any]:  # fmt: skip
    """A submission (`t3` data) with the fields Reddit's listings carry."""
    slug = re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")[:50]
    permalink = f"/r/{subreddit}/comments/{post_id}/{slug}/"
    return {
        "all_awardings": [],
        "archived": False,
        "author": author if author is not None else "[deleted]",
        "author_fullname": f"t2_{author}" if author else None,
        "created": _epoch(created),
        "created_utc": _epoch(created),
        "distinguished": None,
        "domain": f"self.{subreddit}",
        "downs": 0,
        "edited": False,
        "id": post_id,
        "is_self": True,
        "link_flair_text": None,
        "locked": False,
        "name": f"t3_{post_id}",
        "num_comments": num_comments,
        "over_18": False,
        "permalink": permalink,
        "score": score,
        "selftext": selftext,
        "selftext_html": f'<div class="md"><p>{selftext}</p></div>' if selftext else None,
        "stickied": False,
        "subreddit": subreddit,
        "subreddit_id": f"t5_{subreddit[:6]}",
        "subreddit_name_prefixed": f"r/{subreddit}",
        "thumbnail": "self",
        "title": title,
        "ups": score,
        "upvote_ratio": upvote_ratio,
        "url": f"https://www.reddit.com{permalink}",
    }


def comment(
    comment_id: str, created: datetime, author: str | None, body: str, parent: str,
    link: dict[str, Any], score: int = 1,
) -> dict[str, Any]:  # fmt: skip
    """A comment (`t1` data) as `/r/{sub}/comments` lists it; `parent` is a fullname."""
    subreddit = link["subreddit"]
    return {
        "all_awardings": [],
        "archived": False,
        "author": author if author is not None else "[deleted]",
        "author_fullname": f"t2_{author}" if author else None,
        "body": body,
        "body_html": f'<div class="md"><p>{body}</p></div>',
        "controversiality": 0,
        "created": _epoch(created),
        "created_utc": _epoch(created),
        "distinguished": None,
        "downs": 0,
        "edited": False,
        "id": comment_id,
        "is_submitter": author == link["author"],
        "link_author": link["author"],
        "link_id": link["name"],
        "link_permalink": f"https://www.reddit.com{link['permalink']}",
        "link_title": link["title"],
        "link_url": link["url"],
        "locked": False,
        "name": f"t1_{comment_id}",
        "num_comments": link["num_comments"],  # the submission's count, not the comment's
        "over_18": False,
        "parent_id": parent,
        "permalink": f"{link['permalink']}{comment_id}/",
        "quarantine": False,
        "replies": "",
        "score": score,
        "score_hidden": False,
        "stickied": False,
        "subreddit": subreddit,
        "subreddit_id": link["subreddit_id"],
        "subreddit_name_prefixed": f"r/{subreddit}",
        "subreddit_type": "public",
        "ups": score,
    }


def default_posts(now: datetime = NOW) -> list[dict[str, Any]]:
    """Five posts that search finds for "acme air", one older than a day, one off-topic."""
    at = now - timedelta(hours=4)
    return [
        post("1a0001", at, "traveler42", "Acme Air lost my bag", "travel",
             "Three days and still no word from Acme Air.", score=12, num_comments=3,
             upvote_ratio=0.93),
        post("1a0002", at + timedelta(minutes=20), None, "Acme Air crew was lovely", "flying",
             score=5, num_comments=1, upvote_ratio=0.88),
        post("1a0003", at + timedelta(minutes=30), "cook", "My acme air fryer is the best buy",
             "cooking", "Crispy fries in 12 minutes.", score=40, num_comments=7),
        post("1a0004", at + timedelta(minutes=40), "acmeair", "Acme Air launches a Lisbon route",
             "acmeair", "Daily flights from March.", score=30, num_comments=2),
        post("1a0005", at + timedelta(minutes=50), "grumpy", "Still waiting on my Acme Air refund",
             "acmeair", score=3, num_comments=2, upvote_ratio=0.75),
        post("1a0006", at + timedelta(minutes=55), "planner", "Best budget airlines in Europe?",
             "travel", "Looking for tips.", score=8, num_comments=12),
        post("19zzz1", now - timedelta(days=3), "oldtimer", "Acme Air old thread", "travel",
             score=2),
    ]  # fmt: skip


def default_comments(posts: list[dict[str, Any]], now: datetime = NOW) -> list[dict[str, Any]]:
    """Comments of r/acmeair: one mention, the brand's reply to it, one off-topic, one fryer."""
    refund = next(p for p in posts if p["id"] == "1a0005")
    at = now - timedelta(hours=3)
    return [
        comment("c00001", at + timedelta(minutes=5), "frequentflyer",
                "Same here, Acme Air still owes me 200 euros", "t3_1a0005", refund, score=4),
        comment("c00002", at + timedelta(minutes=10), "acmeair",
                "Sorry to hear that, please DM us your booking reference.", "t1_c00001", refund),
        comment("c00003", at + timedelta(minutes=15), "localguide",
                "Nice weather in Lisbon today", "t3_1a0005", refund),
        comment("c00004", at + timedelta(minutes=20), "cook", "my acme air fryer broke",
                "t3_1a0005", refund),
    ]  # fmt: skip


class FakeReddit:
    """Reddit's OAuth API as documented: client-credentials tokens (HTTP Basic auth),
    `GET /r/{a+b|all}/search` (q, sort=new, t, restrict_sr, limit <= 100, after) and
    `GET /r/{sub}/comments` (newest first, limit, after) answering Listing JSON with
    x-ratelimit-used/remaining/reset headers. `fail(kind, response)` scripts faults."""

    def __init__(
        self, now: datetime = NOW, posts: list[dict[str, Any]] | None = None,
        comments: dict[str, list[dict[str, Any]]] | None = None,
    ) -> None:  # fmt: skip
        self.now = now
        self.posts = posts if posts is not None else default_posts(now)
        self.comments = comments if comments is not None else {
            "acmeair": default_comments(self.posts, now)
        }  # fmt: skip
        self.requests: list[tuple[str, str, dict[str, str]]] = []  # (kind, path, args)
        self.tokens: set[str] = set()
        self.faults: dict[str, list[Response]] = {}
        self.used = 0
        self.window = WINDOW  # lower it to make the next listing spend the window

    def install(self, server: Any) -> FakeReddit:
        server.expect_request(TOKEN_PATH, method="POST").respond_with_handler(self.token)
        server.expect_request(SEARCH, method="GET").respond_with_handler(self.search)
        server.expect_request(COMMENTS, method="GET").respond_with_handler(self.subreddit_comments)
        return self

    def fail(self, kind: str, response: Response, times: int = 1) -> None:
        """Answer the next `times` requests of `kind` (token, search, comments) with `response`."""
        self.faults.setdefault(kind, []).extend([response] * times)

    def calls(self, kind: str) -> list[dict[str, str]]:
        """The query arguments of each request of `kind`, in order."""
        return [args for k, _, args in self.requests if k == kind]

    def item(self, item_id: str) -> dict[str, Any]:
        """A post or comment by id, to change its counts."""
        everything = self.posts + [c for cs in self.comments.values() for c in cs]
        return next(i for i in everything if i["id"] == item_id)

    # -- handlers -------------------------------------------------------------------------

    def token(self, request: Request) -> Response:
        self.requests.append(("token", request.path, request.form.to_dict()))
        if fault := self._fault("token"):
            return fault
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return _json({"message": "Unauthorized", "error": 401}, 401)
        if request.form.get("grant_type") != "client_credentials":
            return _json({"error": "unsupported_grant_type"})
        token = f"fake-token-{len(self.tokens) + 1}"
        self.tokens.add(token)
        return _json({"access_token": token, "token_type": "bearer", "expires_in": 86400,
                      "scope": "*"})  # fmt: skip

    def search(self, request: Request) -> Response:
        subs = SEARCH.match(request.path).group(1).lower().split("+")  # type: ignore[union-attr]
        args = request.args.to_dict()
        if denied := self._api("search", request, args):
            return denied
        if args.get("sort") != "new":
            return _json({"message": "the fake only sorts by new", "error": 400}, 400)
        span = SPANS.get(args.get("t", "all"))
        oldest = self.now.timestamp() - span if span else float("-inf")
        wanted = _alternatives(args.get("q", ""))
        found = [
            p for p in self.posts
            if ("all" in subs or p["subreddit"].lower() in subs)
            and p["created_utc"] >= oldest and _matches(wanted, f"{p['title']} {p['selftext']}")
        ]  # fmt: skip
        return self._listing("t3", found, args)

    def subreddit_comments(self, request: Request) -> Response:
        sub = COMMENTS.match(request.path).group(1).lower()  # type: ignore[union-attr]
        args = request.args.to_dict()
        if denied := self._api("comments", request, args):
            return denied
        return self._listing("t1", self.comments.get(sub, []), args)

    # -- helpers --------------------------------------------------------------------------

    def _api(self, kind: str, request: Request, args: dict[str, str]) -> Response | None:
        self.requests.append((kind, request.path, args))
        if fault := self._fault(kind):
            return fault
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("bearer ") or auth.removeprefix("bearer ") not in self.tokens:
            return _json(
                {"message": "Unauthorized", "error": 401},
                401,
                {"www-authenticate": 'Bearer realm="reddit", error="invalid_token"'},
            )
        return None  # fmt: skip

    def _fault(self, kind: str) -> Response | None:
        queue = self.faults.get(kind)
        return queue.pop(0) if queue else None

    def _listing(self, kind: str, items: list[dict[str, Any]], args: dict[str, str]) -> Response:
        ordered = sorted(items, key=lambda i: i["created_utc"], reverse=True)
        limit = max(1, min(int(args.get("limit", 25)), 100))
        start = 0
        if after := args.get("after"):
            names = [i["name"] for i in ordered]
            start = names.index(after) + 1 if after in names else len(ordered)
        page = ordered[start : start + limit]
        more = start + limit < len(ordered)
        self.used += 1
        body = {
            "kind": "Listing",
            "data": {
                "after": page[-1]["name"] if page and more else None,
                "before": None,
                "dist": len(page),
                "geo_filter": "",
                "modhash": "",
                "children": [{"kind": kind, "data": dict(i)} for i in page],
            },
        }
        return _json(body, 200, {
            "x-ratelimit-used": str(self.used),
            "x-ratelimit-remaining": f"{max(self.window - self.used, 0):.1f}",
            "x-ratelimit-reset": "420",
        })  # fmt: skip


def too_many_requests(reset: int = 300) -> Response:
    """Reddit's 429: an exhausted window, with the seconds until it resets."""
    return _json({"message": "Too Many Requests", "error": 429}, 429, {
        "x-ratelimit-used": str(WINDOW), "x-ratelimit-remaining": "0.0",
        "x-ratelimit-reset": str(reset),
    })  # fmt: skip


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {},
                    content_type="application/json; charset=UTF-8")  # fmt: skip


def _alternatives(query: str) -> list[list[str]]:
    """A lucene-ish query as OR-ed word sequences: `"acme air" OR acmeair`."""
    parts = re.split(r"\s+OR\s+", query.strip())
    return [re.findall(r"\w+", part.lower()) for part in parts if re.findall(r"\w+", part)]


def _matches(alternatives: list[list[str]], text: str) -> bool:
    words = re.findall(r"\w+", text.lower())
    for phrase in alternatives:
        n = len(phrase)
        if any(words[i : i + n] == phrase for i in range(len(words) - n + 1)):
            return True
    return False


class RedditHarness:
    type = "reddit"
    env: ClassVar[dict[str, str]] = {
        "REDDIT_CLIENT_ID": CLIENT_ID,
        "REDDIT_CLIENT_SECRET": CLIENT_SECRET,
    }
    http = True

    def options(self, base_url: str, tmp_path: Path) -> dict[str, Any]:
        return {"type": "reddit", "oauth_url": base_url, "reddit_url": base_url,
                "comments_from": ["acmeair"], "page_size": 2}  # fmt: skip

    def serve(self, server: Any) -> None:
        FakeReddit().install(server)


HARNESS = RedditHarness()
