"""Harness for the `hackernews` connector: a fake Algolia HN Search API (`search_by_date`)."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from werkzeug import Request, Response

BASE = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
PATH = "/api/v1/search_by_date"
_FILTER = re.compile(r"^\s*(\w+)\s*(>=|<=|>|<|=)\s*(-?\d+)\s*$")


def story(object_id: int, minutes: float, author: str, title: str, base: datetime = BASE,
          **fields: Any) -> dict[str, Any]:  # fmt: skip
    """A story hit as search_by_date returns it."""
    created = base + timedelta(minutes=minutes)
    hit = {
        "_tags": ["story", f"author_{author}", f"story_{object_id}"],
        "author": author,
        "children": [],
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "created_at_i": int(created.timestamp()),
        "num_comments": 0,
        "objectID": str(object_id),
        "points": 1,
        "story_id": object_id,
        "title": title,
        "updated_at": created.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "url": None,
    }
    hit.update(fields)
    hit["_highlightResult"] = _highlight(hit)
    return hit


def comment(object_id: int, minutes: float, author: str, text: str, parent: int, story_id: int,
            base: datetime = BASE) -> dict[str, Any]:  # fmt: skip
    """A comment hit: no title, points or num_comments; parent_id and story_* instead."""
    created = base + timedelta(minutes=minutes)
    hit = {
        "_tags": ["comment", f"author_{author}", f"story_{story_id}"],
        "author": author,
        "comment_text": text,
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "created_at_i": int(created.timestamp()),
        "objectID": str(object_id),
        "parent_id": parent,
        "story_id": story_id,
        "story_title": "Ask HN: Acme Air lost my bag, what now?",
        "story_url": None,
        "updated_at": created.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    }
    hit["_highlightResult"] = _highlight(hit)
    return hit


def default_hits(base: datetime = BASE) -> list[dict[str, Any]]:
    """Five hits for "acme air" (two pages at 3 a page), one more only for "@acmeair"."""
    return [
        story(9001, 0, "traveler42", "Ask HN: Acme Air lost my bag, what now?", base,
              story_text="<p>Three days and still no word from Acme Air.</p>",
              points=12, num_comments=4),
        comment(9002, 20, "pg_fan", "Acme Air&#x27;s desk found mine in a day.<p>Call them.",
                9001, 9001, base),
        comment(9003, 30, "cook", "My acme air fryer makes better fries than any airline",
                9001, 9001, base),
        comment(9004, 40, "acmeair", "Acme Air here: sorry, please email us your file number.",
                9001, 9001, base),
        story(9005, 50, "acmeair", "Acme Air launches a Lisbon route", base,
              url="https://acmeair.example/lisbon", points=3),
        comment(9006, 60, "grumpy", "@acmeair still waiting for the refund you promised",
                9002, 9001, base),
        story(9007, 70, "sqlfan", "Show HN: A faster SQLite", base, points=40),
    ]  # fmt: skip


class FakeAlgolia:
    """`GET /api/v1/search_by_date` as documented: words of `query` must all occur (title,
    text, url, author), `tags` "(a,b)" means a OR b, `numericFilters` like created_at_i>N,
    newest first, `hitsPerPage` and 0-based `page` with `nbPages`."""

    def __init__(self, hits: list[dict[str, Any]] | None = None):
        self.hits = hits if hits is not None else default_hits()
        self.requests: list[dict[str, str]] = []

    def install(self, server: Any) -> FakeAlgolia:
        server.expect_request(PATH, method="GET").respond_with_handler(self.handle)
        return self

    def handle(self, request: Request) -> Response:
        args = request.args.to_dict()
        self.requests.append(args)
        words = re.findall(r"\w+", args.get("query", "").lower())
        tags = {t for t in re.split(r"[(),]", args.get("tags", "")) if t}
        filters = [f for f in args.get("numericFilters", "").split(",") if f.strip()]
        per_page, page = int(args.get("hitsPerPage", 20)), int(args.get("page", 0))
        found = [
            h for h in self.hits
            if _words_in(words, h) and (not tags or tags & set(h["_tags"]))
            and all(_passes(f, h) for f in filters)
        ]  # fmt: skip
        found.sort(key=lambda h: h["created_at_i"], reverse=True)
        body = {
            "exhaustive": {"nbHits": True, "typo": True},
            "exhaustiveNbHits": True,
            "exhaustiveTypo": True,
            "hits": found[page * per_page : (page + 1) * per_page],
            "hitsPerPage": per_page,
            "nbHits": len(found),
            "nbPages": math.ceil(len(found) / per_page),
            "page": page,
            "params": request.query_string.decode(),
            "processingTimeMS": 1,
            "query": args.get("query", ""),
        }
        return Response(json.dumps(body), status=200, content_type="application/json")

    def hit(self, object_id: int) -> dict[str, Any]:
        return next(h for h in self.hits if h["objectID"] == str(object_id))


def _words_in(words: list[str], hit: dict[str, Any]) -> bool:
    fields = ("title", "story_text", "comment_text", "url", "author")
    haystack = set(re.findall(r"\w+", " ".join(str(hit.get(f) or "") for f in fields).lower()))
    return all(w in haystack for w in words)


def _passes(expression: str, hit: dict[str, Any]) -> bool:
    match = _FILTER.match(expression)
    if not match:
        raise ValueError(f"unsupported numeric filter {expression!r}")
    name, op, number = match.group(1), match.group(2), int(match.group(3))
    value = hit.get(name)
    if value is None:
        return False
    return {
        ">": value > number, ">=": value >= number, "<": value < number,
        "<=": value <= number, "=": value == number,
    }[op]  # fmt: skip


def _highlight(hit: dict[str, Any]) -> dict[str, Any]:
    keys = ("author", "title", "url", "story_text", "comment_text", "story_title")
    return {
        k: {"matchLevel": "none", "matchedWords": [], "value": hit[k]} for k in keys if hit.get(k)
    }


class HackerNewsHarness:
    type = "hackernews"
    env: ClassVar[dict[str, str]] = {}
    http = True

    def options(self, base_url: str, tmp_path: Path) -> dict[str, Any]:
        return {"type": "hackernews", "base_url": base_url, "hits_per_page": 3}

    def serve(self, server: Any) -> None:
        FakeAlgolia().install(server)


HARNESS = HackerNewsHarness()
