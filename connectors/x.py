"""The `x` connector: posts naming a brand, from X API v2 recent search (tweepy `Client`).

State, one per brand::

    {"since_id": S | null,
     "backfill": null | {"since_id": S | null, "start_time": T | null,
                         "until_id": U, "newest_id": N}}

X search pages run newest first, so a run stopped part-way through a range (by its read budget,
a 429 or any fault) has read the newest posts of the range, not the oldest. Each pass therefore
asks for older pages with `until_id` = the oldest id read so far (a `next_token` dies with the
run; an id does not), and every page is its own Batch whose state says where to resume:

- while pages remain: `{"since_id": S, "backfill": {"since_id": S, "until_id": U,
  "newest_id": N}}`, U being the oldest id read and N the newest id of the pass's first page;
- when the range is complete (no `next_token`): `{"since_id": N, "backfill": null}`.

A run first finishes a pending backfill (posts after S and before U), then starts one new
pass after N. Nothing between the old since_id and the newest post read is ever skipped. The
very first pass has no since_id: it uses `start_time` = now - lookback (stored in the
backfill as T if it is interrupted). X searches only the last 7 days: a bound older than that
is moved up to the limit and the run warns that the posts in between were missed.

Budget: `ctx.reads_allowed` bounds the posts read in a run (searches and refreshes, every
brand); X bills per post, so `Batch.reads` is the number of posts returned. No request asks for
more than is left, searches need at least 10. With several brands each first gets an equal
share, then what is left goes to those with more to read, in order.

Refresh: after the searches, the stored mentions of each brand created within `lookback`
(newest first, at most `refresh_limit`, minus those just read) are fetched again by id,
100 per request, with the budget left; the store records a snapshot when counts grew.
`public_metrics.impression_count` is kept as the post's impressions.

Reach (decision 111): last, with what the budget leaves, up to `reach_lookups` posts of this
run (searched or refreshed) whose retweet count grew since their last lookup, most retweeted
first, get one page of their retweeters (`GET /2/tweets/:id/retweeted_by`, up to 100, with
user public_metrics); the summed followers of those retweeters is the post's reshare reach,
filed as the same observation (X bills each user returned as a read). The retweet count of
each lookup is kept in the brand's state as `"reach": {id: retweets}` (posts within
`lookback` only), so a post is looked up again only once it has been retweeted again.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests
import tweepy
from requests.adapters import HTTPAdapter

from reputation.brands import Brand, normalize_handle
from reputation.connectors.base import (
    BUDGET_OPTIONS,
    HTTP_OPTIONS,
    BadItem,
    Batch,
    FetchContext,
    SourceError,
    brand_named,
    check_brand,
    classify,
    optional_id,
)
from reputation.connectors.http import translate
from reputation.models import Mention, Reply
from reputation.timeutil import parse_time
from reputation.validate import Checker, Field

SOURCE = "x"
API_HOST = "https://api.twitter.com/"  # hard-coded in tweepy
SEARCH = "/2/tweets/search/recent"
LOOKUP = "/2/tweets"
RETWEETERS = "/2/tweets/{}/retweeted_by"
MIN_RESULTS, MAX_RESULTS, MAX_IDS = 10, 100, 100
SEARCH_WINDOW = timedelta(days=7)
# X rejects a start_time or since_id older than 7 days by its own clock: keep clear of the edge.
WINDOW_MARGIN = timedelta(minutes=5)
# Only the author: `referenced_tweets.id` would add (and may bill) the quoted and parent posts.
EXPANSIONS = ["author_id"]
TWEET_FIELDS = [
    "created_at", "public_metrics", "author_id", "lang", "conversation_id",
    "referenced_tweets", "in_reply_to_user_id", "note_tweet",
]  # fmt: skip
USER_FIELDS = ["public_metrics", "username", "verified"]
TWEPOCH_MS = 1288834974657  # X ids are snowflakes: milliseconds since this, shifted by 22 bits
EMPTY_PAGES = 5  # empty pages with a next_token followed in a row before giving up for the run
BUDGET_NOTE = "read budget reached; the rest of the range is read next run"
NEWER_NOTE = "read budget reached; newer posts are read next run"
_DIGITS = re.compile(r"^[0-9]{1,20}$")
_WORD = re.compile(r"^[@#]?\w+$")


class XConnector:
    """Recent-search posts per brand, resumable mid-range, within a per-run read budget."""

    type: ClassVar[str] = "x"
    OPTIONS: ClassVar[Mapping[str, Field]] = {
        "bearer_token_env": Field("env", default="X_BEARER_TOKEN"),
        "query": Field("str"),
        "brand": Field("str"),
        "base_url": Field("url", default="https://api.twitter.com"),
        "max_results": Field("int", default=MAX_RESULTS, min=MIN_RESULTS, max=MAX_RESULTS),
        "exclude_in_query": Field("bool", default=True),
        "refresh_limit": Field("int", default=100, min=0),
        "reach_lookups": Field("int", default=0, min=0),
        **BUDGET_OPTIONS,
        **HTTP_OPTIONS,
    }

    def __init__(
        self, name: str, options: Mapping[str, Any], brands: Sequence[Brand],
        env: Mapping[str, str],
    ):  # fmt: skip
        self.name = name
        self.env = env
        self.token_env: str = options["bearer_token_env"]
        self.query: str | None = options["query"]
        self.base_url: str = options["base_url"]
        self.max_results: int = options["max_results"]
        self.exclude_in_query: bool = options["exclude_in_query"]
        self.refresh_limit: int = options["refresh_limit"]
        self.reach_lookups: int = options["reach_lookups"]
        self.timeout: timedelta = options["timeout"]
        self.lookback: timedelta = options["lookback"]
        if self.query or options["brand"]:
            self.brands = [brand_named(options, brands)]
        else:
            self.brands = list(brands)
        parts = urlsplit(self.base_url)
        host = parts.hostname or ""
        self.where = host + (f":{parts.port}" if parts.port else "") + parts.path.rstrip("/")
        self._token = ""

    @classmethod
    def check_options(
        cls, values: Mapping[str, Any], path: str, check: Checker, brands: Sequence[Brand]
    ) -> None:
        """`brand` must be configured, and is required with `query` when there are several
        brands; a run budget under 10 could never pay for one search."""
        check_brand(values, path, check, brands, required=False)
        if values.get("query") and values.get("brand") is None and len(brands) > 1:
            check.error(
                f"{path}.brand", "is required with `query` when more than one brand is configured"
            )
        per_run = values.get("max_reads_per_run")
        if isinstance(per_run, int) and per_run < MIN_RESULTS:
            check.error(f"{path}.max_reads_per_run", f"must be at least {MIN_RESULTS}: X "
                        "returns 10 to 100 posts per search request")  # fmt: skip

    def fetch(self, ctx: FetchContext) -> Iterator[Batch]:
        """New posts of each brand (pending backfill first), then refreshed counts."""
        client = self._client()
        budget = _Budget(ctx.reads_allowed)
        jobs = [_Job(b, self.query or build_query(b, self.exclude_in_query)) for b in self.brands]
        for job in jobs:
            job.state = _State.load(ctx.state(job.brand.name, _State.load))
        if budget.left is None:
            for job in jobs:
                yield from self._search(client, job, budget, None, ctx.now, final=True)
        else:
            for i, job in enumerate(jobs):  # an equal share first, so no brand starves
                share = max(MIN_RESULTS, budget.left // (len(jobs) - i))
                yield from self._search(client, job, budget, share, ctx.now, final=False)
            for job in jobs:
                if not job.finished:
                    yield from self._search(client, job, budget, None, ctx.now, final=True)
        seen = {tweet_id for job in jobs for tweet_id in job.seen}
        yield from self._refresh(client, jobs, seen, budget, ctx)
        yield from self._reach(client, jobs, budget, ctx.now)

    # -- searching ------------------------------------------------------------------------

    def _search(
        self, client: tweepy.Client, job: _Job, budget: _Budget, share: int | None,
        now: datetime, final: bool,
    ) -> Iterator[Batch]:  # fmt: skip
        """Read the job's pending backfill, then one new pass, until done or out of budget
        (`share` caps this call); every page is a Batch carrying the cursor that covers it."""
        spent, token, empty = 0, None, 0
        while not job.finished:
            fresh = job.state.backfill is None
            span, notes = self._span(job, now)
            if span is None:  # the rest of the backfill fell out of the 7-day window
                yield self._batch(job, now, notes=notes)
                continue
            size = budget.size(self.max_results, None if share is None else share - spent)
            if size < MIN_RESULTS:
                if final:
                    note = NEWER_NOTE if fresh else BUDGET_NOTE
                    yield self._batch(job, now, notes=[*notes, note], cursor=False)
                return
            page = self._page(client, job.query, span, size, token, now)
            budget.spend(len(page.tweets))
            spent += len(page.tweets)
            if not page.tweets and page.next_token:
                empty += 1
                if empty > EMPTY_PAGES:
                    job.notes.append(f"{self.where}{SEARCH}: empty pages kept coming; "
                                     "the rest of the range is read next run")  # fmt: skip
                    yield self._batch(job, now, cursor=False)
                    return
                token = page.next_token  # nothing to resume from: follow the token this run
                continue
            token, empty = None, 0
            job.passed = job.passed or fresh  # one new pass a run, however many pages it has
            if page.tweets:
                ids = [int(t["id"]) for t in page.tweets]
                span.newest_id = span.newest_id or str(max(ids))
                span.until_id = str(min(ids))
                job.seen.update(str(i) for i in ids)
            if page.tweets and page.next_token:
                job.state = dataclasses.replace(job.state, backfill=span.to_backfill())
            else:
                since = span.newest_id or job.state.since_id
                job.state = dataclasses.replace(job.state, since_id=since, backfill=None)
            batch = self._batch(job, now, notes=notes)
            batch.reads = len(page.tweets)
            for tweet in page.tweets:
                self._add(batch, job, tweet, page.users, match=True)
            yield batch

    def _span(self, job: _Job, now: datetime) -> tuple[_Span | None, list[str]]:
        """The range to read next (None: nothing left of the backfill), and warnings about
        posts that fell out of X's 7-day window."""
        floor = now - SEARCH_WINDOW + WINDOW_MARGIN
        state, notes = job.state, []
        if state.backfill is None:
            span = _Span(since_id=state.since_id)
            if span.since_id is None:
                span.start_time = max(now - self.lookback, floor)
        else:
            back = state.backfill
            span = _Span(since_id=back.get("since_id"), until_id=back["until_id"],
                         newest_id=back["newest_id"])  # fmt: skip
            if back.get("start_time"):
                span.start_time = parse_time(back["start_time"])
            if snowflake_time(back["until_id"]) <= floor:
                notes.append(_missed(span.lower(), snowflake_time(back["until_id"])))
                job.state = dataclasses.replace(
                    job.state, since_id=back["newest_id"], backfill=None
                )
                return None, notes
        lower = span.lower()
        if lower is not None and lower < floor:
            if span.since_id is not None or state.backfill is not None:
                notes.append(_missed(lower, floor))
            span.since_id, span.start_time = None, floor
        return span, notes

    def _page(
        self, client: tweepy.Client, query: str, span: _Span, size: int, token: str | None,
        now: datetime,
    ) -> _Page:  # fmt: skip
        params: dict[str, Any] = {
            "query": query, "max_results": size, "expansions": EXPANSIONS,
            "tweet_fields": TWEET_FIELDS, "user_fields": USER_FIELDS,
        }  # fmt: skip
        if span.since_id is not None:
            params["since_id"] = span.since_id
        elif span.start_time is not None:
            params["start_time"] = span.start_time
        if span.until_id is not None:
            params["until_id"] = span.until_id
        if token:
            params["next_token"] = token
        payload = self._call(SEARCH, client.search_recent_tweets, now, **params)
        meta = payload.get("meta")
        if not isinstance(meta, dict):
            problem = f"malformed payload (no 'meta'){_errors(payload)}"
            raise SourceError(f"{self.where}{SEARCH}: {problem}")
        token = meta.get("next_token")
        return _Page(
            tweets=self._tweets(payload, SEARCH),
            users=self._users(payload, SEARCH),
            next_token=token if isinstance(token, str) and token else None,
        )

    # -- refreshing counts ----------------------------------------------------------------

    def _refresh(
        self, client: tweepy.Client, jobs: list[_Job], seen: set[str], budget: _Budget,
        ctx: FetchContext,
    ) -> Iterator[Batch]:  # fmt: skip
        """Stored mentions created within `lookback`, fetched again with current counts."""
        left = self.refresh_limit
        for job in jobs:
            recent = ctx.recent(job.brand.name, ctx.now - self.lookback)
            ids = [i for i in recent if _DIGITS.match(str(i)) and str(i) not in seen][:left]
            left -= len(ids)
            while ids:
                size = budget.size(min(MAX_IDS, len(ids)), None)
                if size <= 0:
                    return
                chunk, ids = ids[:size], ids[size:]
                payload = self._call(LOOKUP, client.get_tweets, ctx.now, ids=chunk,
                                     expansions=EXPANSIONS, tweet_fields=TWEET_FIELDS,
                                     user_fields=USER_FIELDS)  # fmt: skip
                tweets = self._tweets(payload, LOOKUP)
                budget.spend(len(tweets))
                batch = ctx.batch(job.brand.name, reads=len(tweets))
                users = self._users(payload, LOOKUP)
                for tweet in tweets:
                    self._add(batch, job, tweet, users, match=False)
                yield batch

    # -- reshare reach --------------------------------------------------------------------

    def _reach(
        self, client: tweepy.Client, jobs: list[_Job], budget: _Budget, now: datetime
    ) -> Iterator[Batch]:
        """The reshare reach of this run's posts whose retweets grew since their last lookup,
        most retweeted first, each filed again with its reach (decision 111)."""
        if not self.reach_lookups:
            return
        floor = now - self.lookback
        for job in jobs:
            job.state.reach = {
                k: v for k, v in job.state.reach.items() if snowflake_time(k) >= floor
            }
        candidates = sorted(
            (
                (retweets, mention.native_id, job)
                for job in jobs
                for mention, retweets in job.posts.values()
                if retweets > job.state.reach.get(mention.native_id, 0)
            ),
            key=lambda c: (-c[0], c[1]),
        )[: self.reach_lookups]
        for retweets, tweet_id, job in candidates:
            size = budget.size(MAX_RESULTS, None)
            if size < 1:
                yield self._batch(job, now, notes=["read budget reached; reshare reach of "
                                                   "the rest is looked up next run"])  # fmt: skip
                return
            route = RETWEETERS.format(tweet_id)
            payload = self._call(route, client.get_retweeters, now, id=tweet_id,
                                 max_results=size, user_fields=["public_metrics"])  # fmt: skip
            users = self._retweeters(payload, route)
            budget.spend(len(users or ()))
            job.state.reach[tweet_id] = retweets
            batch = self._batch(job, now)
            batch.reads = len(users or ())
            if users is not None:
                mention = job.posts[tweet_id][0]
                where = f"{self.where}: post {tweet_id}"
                with batch.item(where):
                    reach = sum(_count(u.get("public_metrics") or {}, "followers_count", 0) or 0
                                for u in users)  # fmt: skip
                    batch.add(dataclasses.replace(mention, reshare_reach=reach), where)
            yield batch

    def _retweeters(self, payload: dict[str, Any], route: str) -> list[dict[str, Any]] | None:
        """The users of a retweeted_by answer ([] when X found none); None when X answered
        only errors (the post is gone or protected): no reach is known then."""
        if payload.get("data") is None and payload.get("errors"):
            return None
        data = payload.get("data") or []
        if not isinstance(data, list) or not all(isinstance(u, dict) for u in data):
            raise SourceError(f"{self.where}{route}: malformed payload ('data' is not a list)")
        return data

    # -- the client and its payloads ------------------------------------------------------

    def _client(self) -> tweepy.Client:
        token = self.env.get(self.token_env, "").strip()
        if not token:
            raise SourceError(
                f"the environment variable {self.token_env} is not set: put the X API bearer "
                "token there"
            )
        # dict payloads: checked here, field by field, instead of failing inside tweepy's models.
        client = tweepy.Client(bearer_token=token, wait_on_rate_limit=False, return_type=dict)
        client.session.mount(API_HOST, _Rehost(self.base_url, self.timeout.total_seconds()))
        self._token = token
        return client

    def _call(
        self, route: str, method: Callable[..., Any], now: datetime, **params: Any
    ) -> dict[str, Any]:
        """One API call; every failure becomes RateLimited or SourceError naming the route."""
        where = f"{self.where}{route}"
        try:
            payload = method(**params)
        except tweepy.HTTPException as exc:
            said = "; ".join(str(m) for m in exc.api_messages)[:300]
            raise translate(exc, where, timeout=self.timeout, now=now,
                            detail=self._redact(said) or None) from None  # fmt: skip
        except (tweepy.TweepyException, requests.RequestException, ValueError,
                RecursionError) as exc:  # fmt: skip
            raise translate(exc, where, timeout=self.timeout, now=now) from None
        if not isinstance(payload, dict):
            raise SourceError(f"{where}: malformed payload (not a JSON object)")
        return payload

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text

    def _tweets(self, payload: dict[str, Any], route: str) -> list[dict[str, Any]]:
        data = payload.get("data", [])
        if data is None:
            data = []
        if not isinstance(data, list) or not all(isinstance(t, dict) for t in data):
            raise SourceError(f"{self.where}{route}: malformed payload ('data' is not a list)")
        for tweet in data:
            if not _DIGITS.match(str(tweet.get("id", ""))):
                raise SourceError(f"{self.where}{route}: malformed payload (a post without an id)")
            tweet["id"] = str(tweet["id"])
        return data

    def _users(self, payload: dict[str, Any], route: str) -> dict[str, dict[str, Any]]:
        includes = payload.get("includes") or {}
        users = includes.get("users", []) if isinstance(includes, dict) else None
        if not isinstance(users, list):
            raise SourceError(f"{self.where}{route}: malformed payload ('includes.users')")
        return {str(u["id"]): u for u in users if isinstance(u, dict) and "id" in u}

    def _add(
        self, batch: Batch, job: _Job, tweet: dict[str, Any],
        users: Mapping[str, dict[str, Any]], match: bool,
    ) -> None:  # fmt: skip
        """File the post; a mention with retweets is a candidate for a reach lookup."""
        where = f"{self.where}: post {tweet['id']}"
        with batch.item(where):
            item = to_item(job.brand, tweet, users, match=match)
            batch.add(item, where)
            if isinstance(item, Mention):
                retweets = _count(tweet.get("public_metrics") or {}, "retweet_count", 0) or 0
                job.posts[item.native_id] = (item, retweets)

    def _batch(
        self, job: _Job, now: datetime, notes: Sequence[str] = (), cursor: bool = True
    ) -> Batch:
        """A Batch of the job's brand with its current state (or none) and pending notes."""
        batch = Batch(scope=job.brand.name, notes=[*job.notes, *notes], now=now)
        job.notes.clear()
        if cursor:
            batch.state = job.state.to_dict()
        return batch


# -- mapping ------------------------------------------------------------------------------


def build_query(brand: Brand, exclude: bool = True) -> str:
    """The brand's search: its terms (multi-word ones quoted, @/# as they are) or its own
    accounts' replies, minus its exclusion phrases (if `exclude`) and retweets."""
    parts: dict[str, str] = {}
    for term in brand.terms:
        text = " ".join(term.replace('"', " ").split())
        if text:
            parts.setdefault(text.casefold(), text if _WORD.match(text) else f'"{text}"')
    for account in brand.own_accounts:
        handle = normalize_handle(account)
        if handle:
            parts.setdefault(f"from:{handle}", f"(from:{handle} is:reply)")
    query = "(" + " OR ".join(parts.values()) + ")"
    if exclude:
        for phrase in brand.exclude:
            text = " ".join(phrase.replace('"', " ").split())
            if text:
                query += f' -"{text}"'
    return query + " -is:retweet"


def to_item(
    brand: Brand, tweet: Mapping[str, Any], users: Mapping[str, Mapping[str, Any]], match: bool
) -> Mention | Reply | None:
    """A post as a Mention, the brand's Reply, or None; BadItem says what is unusable."""
    tweet_id = str(tweet["id"])
    note = tweet.get("note_tweet")
    text = note.get("text") if isinstance(note, dict) else None
    text = text if isinstance(text, str) and text else tweet.get("text")
    if not isinstance(text, str):
        raise BadItem("has no text")
    try:
        created = parse_time(tweet.get("created_at"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise BadItem("has no created_at time") from None
    user = users.get(str(tweet.get("author_id")))
    username = user.get("username") if user else None
    username = username if isinstance(username, str) and username else None
    metrics = tweet.get("public_metrics") or {}
    if not isinstance(metrics, Mapping):
        raise BadItem("public_metrics is not an object")
    followers = (user or {}).get("public_metrics", {}) or {}
    lang = tweet.get("lang")
    raw = dict(tweet) | ({"user": dict(user)} if user else {})
    return classify(
        brand,
        match=match,
        source=SOURCE,
        native_id=tweet_id,
        text=text,
        created_at=created,
        author=username,
        parent_id=_parent(tweet),
        thread_id=optional_id(tweet.get("conversation_id")),
        url=f"https://x.com/{username or 'i/web'}/status/{tweet_id}",
        author_followers=_count(followers, "followers_count", None),
        likes=_count(metrics, "like_count", 0),
        shares=(_count(metrics, "retweet_count", 0) or 0)
        + (_count(metrics, "quote_count", 0) or 0),
        replies=_count(metrics, "reply_count", 0),
        impressions=_count(metrics, "impression_count", None),
        lang=lang if isinstance(lang, str) and lang else None,
        raw=raw,
    )


def _parent(tweet: Mapping[str, Any]) -> str | None:
    """The post answered (replied_to), else the post quoted."""
    refs = tweet.get("referenced_tweets")
    found = {r.get("type"): str(r.get("id")) for r in refs or [] if isinstance(r, dict)}
    return found.get("replied_to") or found.get("quoted")


def _count(values: Mapping[str, Any], key: str, default: int | None) -> int | None:
    value = values.get(key) if isinstance(values, Mapping) else None
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadItem(f"{key} {str(value)[:20]!r} is not a count")
    return value


def snowflake_time(tweet_id: str | int) -> datetime:
    """When an X id was minted (ids are snowflakes: milliseconds since 2010-11-04 << 22)."""
    return datetime.fromtimestamp(((int(tweet_id) >> 22) + TWEPOCH_MS) / 1000, UTC)


def _missed(start: datetime | None, end: datetime) -> str:
    since = f"{start:%Y-%m-%d %H:%M} UTC" if start else "the start"
    return (f"posts from {since} to {end:%Y-%m-%d %H:%M} UTC are beyond X's 7-day search "
            "window and were not read")  # fmt: skip


def _errors(payload: Mapping[str, Any]) -> str:
    errors = payload.get("errors")
    if not isinstance(errors, list) or not errors:
        return ""
    titles = [str(e.get("title") or e.get("message") or "") for e in errors if isinstance(e, dict)]
    return f": {'; '.join(t for t in titles if t)[:200]}" if any(titles) else ""


# -- state --------------------------------------------------------------------------------


@dataclass
class _State:
    """A brand's state: the newest id of the last complete pass, and a range left to read."""

    since_id: str | None = None
    backfill: dict[str, Any] | None = None
    reach: dict[str, int] = field(default_factory=dict)  # retweets at each post's last lookup

    def to_dict(self) -> dict[str, Any]:
        saved = {"since_id": self.since_id, "backfill": copy.deepcopy(self.backfill)}
        return saved | ({"reach": dict(self.reach)} if self.reach else {})

    @classmethod
    def load(cls, saved: Mapping[str, Any]) -> _State:
        """The state saved as `saved` ({} is a fresh one); ValueError, KeyError or TypeError
        when it is not one this connector wrote."""
        since, back = saved.get("since_id"), saved.get("backfill")
        if since is not None and not _DIGITS.match(str(since)):
            raise ValueError("since_id")
        if back is not None:
            for key in ("until_id", "newest_id"):
                if not _DIGITS.match(str(back[key])):
                    raise ValueError(key)
            if back.get("since_id") is not None and not _DIGITS.match(str(back["since_id"])):
                raise ValueError("backfill since_id")
            if back.get("start_time") is not None:
                parse_time(back["start_time"])
            back = {k: back.get(k) for k in ("since_id", "start_time", "until_id", "newest_id")}
        reach = dict(saved.get("reach") or {})
        for key, value in reach.items():
            if not _DIGITS.match(key) or isinstance(value, bool) or not isinstance(value, int):
                raise ValueError("reach")
        return cls(since_id=since, backfill=back, reach=reach)


@dataclass
class _Span:
    """One range of a search: after since_id (or from start_time), before until_id."""

    since_id: str | None = None
    start_time: datetime | None = None
    until_id: str | None = None
    newest_id: str | None = None

    def lower(self) -> datetime | None:
        if self.since_id is not None:
            return snowflake_time(self.since_id)
        return self.start_time

    def to_backfill(self) -> dict[str, Any]:
        start = self.start_time.strftime("%Y-%m-%dT%H:%M:%SZ") if self.start_time else None
        return {"since_id": self.since_id, "start_time": None if self.since_id else start,
                "until_id": self.until_id, "newest_id": self.newest_id}  # fmt: skip


@dataclass
class _Job:
    """One brand's search in this run."""

    brand: Brand
    query: str
    state: _State = field(default_factory=_State)
    passed: bool = False  # this run's new pass has begun
    seen: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    posts: dict[str, tuple[Mention, int]] = field(default_factory=dict)  # id: (mention, retweets)

    @property
    def finished(self) -> bool:
        return self.passed and self.state.backfill is None


@dataclass
class _Page:
    tweets: list[dict[str, Any]]
    users: dict[str, dict[str, Any]]
    next_token: str | None


class _Budget:
    """Posts this run may still read; None is no limit."""

    def __init__(self, allowed: int | None):
        self.left = allowed

    def size(self, want: int, cap: int | None) -> int:
        limits = [want] + [n for n in (self.left, cap) if n is not None]
        return max(0, min(limits))

    def spend(self, reads: int) -> None:
        if self.left is not None:
            self.left -= reads


# -- transport ----------------------------------------------------------------------------


class _Rehost(HTTPAdapter):
    """Sends tweepy's requests for https://api.twitter.com/ to `base_url`, with a timeout."""

    def __init__(self, base_url: str, timeout: float):
        super().__init__()
        self.base = base_url.rstrip("/") + "/"
        self.timeout = timeout

    def send(self, request: requests.PreparedRequest, stream: bool = False,
             timeout: Any = None, verify: Any = True, cert: Any = None,
             proxies: Mapping[str, str] | None = None) -> requests.Response:  # fmt: skip
        url = request.url or ""
        if self.base != API_HOST and url.startswith(API_HOST):
            request.url = self.base + url[len(API_HOST) :]
            # requests chose proxies for api.twitter.com; choose again for the real host.
            proxies = requests.utils.get_environ_proxies(request.url)
        return super().send(request, stream=stream, timeout=timeout or self.timeout,
                            verify=verify, cert=cert, proxies=proxies)  # fmt: skip


class _MaskBearer(logging.Filter):
    """tweepy logs request headers at DEBUG, bearer token included: mask it."""

    _TOKEN = re.compile(r"(Bearer\s+)[^\s'\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = self._TOKEN.sub(r"\1***", message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


_tweepy_log = logging.getLogger("tweepy.client")
if not any(isinstance(f, _MaskBearer) for f in _tweepy_log.filters):
    _tweepy_log.addFilter(_MaskBearer())
