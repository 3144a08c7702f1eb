"""The `reddit` connector: submissions from Reddit search and comments polled from chosen
subreddits, with praw (application-only OAuth, read-only)."""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

import praw
import prawcore
import requests
from praw.exceptions import PRAWException
from praw.models import Comment, Submission
from prawcore import Requestor

from reputation import __version__
from reputation.brands import Brand
from reputation.connectors.base import (
    HTTP_OPTIONS,
    BadItem,
    Batch,
    FetchContext,
    RateLimited,
    SourceError,
    classify,
)
from reputation.connectors.http import translate
from reputation.models import Mention, Reply
from reputation.validate import Checker, Field

SOURCE = "reddit"
PUBLIC_URL = "https://www.reddit.com"  # links in mentions, whatever host the API is read from
TOKEN_PATH = "/api/v1/access_token"  # a path, not a secret
DEFAULT_USER_AGENT = (
    f"python:reputation-monitor:{__version__} (+https://github.com/reputation-monitor/reputation)"
)
_SUBREDDIT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{1,20}$")
_SUBREDDIT_PREFIX = re.compile(r"^/?r/", re.IGNORECASE)
_USER_PREFIX = re.compile(r"^/?u(ser)?/", re.IGNORECASE)
# Reddit's search time filters, narrowest first; a month is taken as its shortest length.
_TIME_FILTERS = (
    ("hour", timedelta(hours=1)),
    ("day", timedelta(days=1)),
    ("week", timedelta(days=7)),
    ("month", timedelta(days=28)),
    ("year", timedelta(days=365)),
)
_CLOCK_MARGIN = timedelta(minutes=5)
_YEAR_10000 = 253_402_300_800  # epoch seconds past which datetime cannot go
_KINDS = {"t3": Submission, "t1": Comment}
_KIND_NAMES = {"t3": "submission", "t1": "comment"}
_GONE = ("[removed]", "[deleted]")
_RAW_KEYS = (
    "id", "name", "subreddit", "author", "created_utc", "title", "score", "num_comments",
    "upvote_ratio", "permalink", "url", "link_id", "parent_id", "link_title", "is_self",
    "over_18", "stickied", "locked", "edited", "distinguished",
)  # fmt: skip


@dataclass(frozen=True)
class Item:
    """One listing child: its kind (`t3` submission, `t1` comment), id, time and data."""

    kind: str
    id: str
    created: int
    data: Mapping[str, Any]


@dataclass
class Listing:
    """What one listing read found: items back to the point asked for, whether it got there
    (False: `max_items` stopped it), and the items it could not read, as problems."""

    items: list[Item] = field(default_factory=list)
    complete: bool = True
    problems: list[str] = field(default_factory=list)


class _Session(requests.Session):
    """The requests session prawcore sends through: one timeout on every request (prawcore
    passes its own 16 s default to API calls, whatever the Requestor was given), and the
    last URL and rate-limit reset seen, for error messages and RateLimited."""

    def __init__(self, timeout: float):
        super().__init__()
        self.timeout = timeout
        self.last_url: str | None = None
        self.reset_after: float | None = None

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs["timeout"] = self.timeout
        self.last_url = str(url)
        response = super().request(method, url, *args, **kwargs)
        with suppress(KeyError, ValueError):  # no header, or not a number: keep the last
            self.reset_after = float(response.headers["x-ratelimit-reset"])
        return response


class RedditConnector:
    """Searches submissions newest-first and polls subreddits' newest comments per brand;
    re-reads a lookback window so scores and comment counts keep growing in the store."""

    type: ClassVar[str] = "reddit"
    OPTIONS: ClassVar[Mapping[str, Field]] = {
        "client_id_env": Field("env", default="REDDIT_CLIENT_ID"),
        "client_secret_env": Field("env", default="REDDIT_CLIENT_SECRET"),
        "user_agent": Field("str", default=DEFAULT_USER_AGENT),
        "subreddits": Field("str_list", default=["all"]),
        "comments_from": Field("str_list"),
        "query": Field("str"),
        "page_size": Field("int", default=100, min=1, max=100),
        "max_items": Field("int", default=1000, min=1),
        "oauth_url": Field("url", default="https://oauth.reddit.com"),
        "reddit_url": Field("url", default="https://www.reddit.com"),
        **HTTP_OPTIONS,
    }

    def __init__(
        self, name: str, options: Mapping[str, Any], brands: Sequence[Brand],
        env: Mapping[str, str],
    ):  # fmt: skip
        self.name = name
        self.env = env
        self.id_env: str = options["client_id_env"]
        self.secret_env: str = options["client_secret_env"]
        self.user_agent: str = options["user_agent"]
        self.subreddits = [_subreddit(s) for s in options["subreddits"]]
        # Lower-cased: Reddit ignores the case, and they key the cursor.
        self.comments_from = list(dict.fromkeys(_subreddit(s) for s in options["comments_from"]))
        self.query: str | None = options["query"]
        self.page_size: int = options["page_size"]
        self.max_items: int = options["max_items"]
        # prawcore joins API paths onto oauth_url and appends the token path to reddit_url.
        self.oauth_url = options["oauth_url"].rstrip("/") + "/"
        self.reddit_url = options["reddit_url"].rstrip("/")
        self.timeout: timedelta = options["timeout"]
        self.lookback: timedelta = options["lookback"]
        self.brands = [_with_bare_accounts(b) for b in brands]
        self.hint = f"check the client id and secret in ${self.id_env} and ${self.secret_env}"

    @classmethod
    def check_options(
        cls, values: Mapping[str, Any], path: str, check: Checker, brands: Sequence[Brand]
    ) -> None:
        """Subreddit names must be plain names; the user agent must be descriptive."""
        for key in ("subreddits", "comments_from"):
            for sub in values.get(key) or []:
                if not _SUBREDDIT.match(_subreddit(sub)):
                    check.error(f"{path}.{key}", f"{sub!r} is not a subreddit name like 'travel'")
        agent = values.get("user_agent")
        if isinstance(agent, str) and len(agent.strip()) < Requestor.MIN_USER_AGENT_LENGTH:
            check.error(f"{path}.user_agent", "is too short; Reddit wants a descriptive one")

    def fetch(self, ctx: FetchContext) -> Iterator[Batch]:
        """Per brand: one batch of search results, then one per comments_from subreddit,
        each with the cursor covering what it holds."""
        with _Session(self.timeout.total_seconds()) as session:
            yield from self._fetch(ctx, _Reader(self._client(session), session, self, ctx.now))

    def _fetch(self, ctx: FetchContext, reader: _Reader) -> Iterator[Batch]:
        if not self.brands:
            return
        states = {b.name: _load(ctx.state(b.name, _check_state)) for b in self.brands}
        # Comments are read once per subreddit, back to the oldest point any brand needs.
        reach = {
            sub: min(self._since(states[b.name]["comments"].get(sub), ctx.now) for b in self.brands)
            for sub in self.comments_from
        }
        polled: dict[str, Listing] = {}
        for brand in self.brands:
            state = states[brand.name]
            since = self._since(state["search"], ctx.now)
            query = self._query(brand)
            found = reader.search(query, since)
            note = None if found.complete else reader.cut(f"search {query!r}", since)
            batch = self._batch(brand, state, found.items, note, ctx.now, None)
            batch.problems.extend(found.problems)
            yield batch
            for sub in self.comments_from:
                first = sub not in polled
                if first:
                    polled[sub] = reader.comments(sub, reach[sub])
                found = polled[sub]
                since = self._since(state["comments"].get(sub), ctx.now)
                items = [i for i in found.items if i.created >= since]
                note = None if found.complete else reader.cut(f"r/{sub} comments", reach[sub])
                batch = self._batch(brand, state, items, note, ctx.now, sub)
                if first:  # read once for every brand: reported once
                    batch.problems.extend(found.problems)
                yield batch

    def _batch(
        self, brand: Brand, state: dict[str, Any], items: list[Item], note: str | None,
        now: datetime, sub: str | None,
    ) -> Batch:  # fmt: skip
        """The batch of what `items` are for `brand`, with the state advanced to cover them
        (search when `sub` is None, else that subreddit's comments)."""
        saved = state["search"] if sub is None else state["comments"].get(sub)
        batch = Batch(scope=brand.name, now=now)
        # A capped read that stopped short of the saved newest item may have missed new ones;
        # past it, the cap only left older items' counts unrefreshed.
        if note and items and min(i.created for i in items) > (saved or 0):
            batch.notes.append(note)
        for item in items:
            where = f"{_KIND_NAMES[item.kind]} {item.id}"
            with batch.item(where):
                batch.add(_classify(brand, item), where)
        if items:
            # Never past now: a clock-skewed item must not push the window into the future.
            newest = min(max(saved or 0, *(i.created for i in items)), int(now.timestamp()))
            if sub is None:
                state["search"] = newest
            else:
                state["comments"][sub] = newest
        batch.state = copy.deepcopy(state)
        return batch

    def _since(self, newest: int | None, now: datetime) -> int:
        """Where a feed's re-read starts: `lookback` before its newest item (or before now)."""
        start = now if newest is None else datetime.fromtimestamp(newest, UTC)
        return int((start - self.lookback).timestamp())

    def _query(self, brand: Brand) -> str:
        """The configured query, else the brand's terms as quoted phrases joined by OR."""
        if self.query:
            return self.query
        phrases: dict[str, str] = {}
        for term in brand.terms:
            phrase = " ".join(term.replace('"', " ").split())
            phrases.setdefault(phrase.casefold(), phrase)
        return " OR ".join(f'"{p}"' for p in phrases.values() if p)

    def _client(self, session: _Session) -> praw.Reddit:
        missing = [n for n in (self.id_env, self.secret_env) if not self.env.get(n)]
        if missing:
            raise SourceError(
                f"set {' and '.join(missing)} in the environment to the Reddit app's "
                "client id and secret"
            )
        try:
            return praw.Reddit(
                site_name="DEFAULT",
                client_id=self.env[self.id_env],
                client_secret=self.env[self.secret_env],
                user_agent=self.user_agent,
                oauth_url=self.oauth_url,
                reddit_url=self.reddit_url,
                # Application-only OAuth, whatever a praw.ini or praw_* variables may hold.
                username=None,
                password=None,
                refresh_token=None,
                check_for_updates=False,
                requestor_kwargs={"session": session, "timeout": session.timeout},
            )
        except (PRAWException, prawcore.PrawcoreException) as exc:
            raise SourceError(f"cannot set up the Reddit client ({type(exc).__name__})") from None


class _Reader:
    """Reads listings through praw, newest first, back to a point in time; turns praw's
    exceptions into RateLimited / SourceError naming the endpoint."""

    def __init__(
        self, reddit: praw.Reddit, session: _Session, conf: RedditConnector, now: datetime
    ):
        self.reddit = reddit
        self.session = session
        self.conf = conf
        self.now = now

    def search(self, query: str, since: int) -> Listing:
        """Submissions matching `query` created at or after `since`, and whether the read
        reached `since` (False: `max_items` stopped it)."""
        subreddit = self.reddit.subreddit("+".join(self.conf.subreddits))
        filter_ = _time_filter(self.now - datetime.fromtimestamp(since, UTC))
        listing = subreddit.search(
            query, sort="new", time_filter=filter_, limit=self.conf.max_items,
            request_limit=self.conf.page_size,
        )  # fmt: skip
        where = f"r/{'+'.join(self.conf.subreddits)}/search"
        return self._read(listing, since, where, "t3")

    def comments(self, sub: str, since: int) -> Listing:
        """The newest comments of r/`sub` created at or after `since`, and whether the read
        reached `since`."""
        listing = self.reddit.subreddit(sub).comments(
            limit=self.conf.max_items, request_limit=self.conf.page_size
        )
        return self._read(listing, since, f"r/{sub}/comments", "t1")

    def _read(self, listing: Any, since: int, where: str, kind: str) -> Listing:
        """Items back to `since`, whether the listing reached it (or ended), and the items
        that could not be read."""
        read = Listing()
        with self._translate(where):
            while True:
                self._check_quota(where)
                try:
                    thing = next(listing)
                except StopIteration:
                    return read
                try:
                    item = _item(thing, kind, f"{self._host()}/{where}")
                except BadItem as exc:
                    read.problems.append(str(exc))
                    continue
                if item.created < since:
                    return read
                read.items.append(item)
                if len(read.items) >= self.conf.max_items:
                    read.complete = False
                    return read

    def _check_quota(self, where: str) -> None:
        """Stop when the rate-limit window is spent: prawcore would sleep until it resets."""
        remaining = self.reddit.auth.limits.get("remaining")
        if isinstance(remaining, int | float) and remaining <= 0:
            reset = self.session.reset_after
            until = self.now + timedelta(seconds=reset) if reset is not None else None
            raise RateLimited(f"{self._host()}/{where}: rate-limit window spent", until)

    def cut(self, what: str, since: int) -> str:
        """The note for a read that `max_items` stopped before `since`."""
        moment = datetime.fromtimestamp(since, UTC)
        return (
            f"{what}: more than {self.conf.max_items} items since {moment:%Y-%m-%d %H:%M} UTC;"
            " the oldest were not read (raise max_items, or run more often)"
        )

    def _host(self) -> str:
        return urlsplit(self.conf.oauth_url).netloc

    @contextmanager
    def _translate(self, where: str) -> Iterator[None]:
        try:
            yield
        except SourceError:
            raise
        except prawcore.PrawcoreException as exc:
            raise self._error(exc, where) from None
        except PRAWException as exc:
            raise SourceError(f"{self._host()}/{where}: Reddit API error ({exc})") from None
        except (ValueError, LookupError, TypeError, AttributeError, RecursionError) as exc:
            # praw assumes well-formed listings; anything else breaks somewhere inside it.
            at = _where(self.session.last_url) or f"{self._host()}/{where}"
            raise SourceError(f"{at}: malformed payload ({type(exc).__name__})") from None

    def _error(self, exc: prawcore.PrawcoreException, where: str) -> SourceError:
        """The SourceError (or RateLimited) for a prawcore exception: what only Reddit's
        answers mean (refused credentials, a redirect for a missing subreddit) here, the rest
        in the shared wording."""
        at = f"{self._host()}/{where}"
        if isinstance(exc, prawcore.RequestException):
            at = (_where(str(exc.request_args[1])) if len(exc.request_args) > 1 else None) or at
            return translate(exc, at, timeout=self.conf.timeout, now=self.now)
        response = getattr(exc, "response", None)
        at = _where(getattr(response, "url", None)) or at
        status = getattr(response, "status_code", None)
        hint = self.conf.hint
        if isinstance(exc, prawcore.OAuthException):
            return SourceError(f"{at}: Reddit refused the app's credentials ({exc.error}); {hint}")
        if status == 401 or (at.endswith(TOKEN_PATH) and status == 403):
            return SourceError(
                f"{at}: Reddit refused the app's credentials (HTTP {status}); {hint}"
            )
        if isinstance(exc, prawcore.BadJSON):
            return SourceError(f"{at}: malformed JSON in the response")
        if isinstance(exc, prawcore.Redirect):
            return SourceError(f"{at}: redirected to {exc.path}; is the subreddit name right?")
        detail = {403: "a private, quarantined or banned subreddit?", 404: "no such subreddit?"}
        if status is not None:
            return translate(exc, at, timeout=self.conf.timeout, now=self.now,
                             detail=detail.get(status))  # fmt: skip
        return SourceError(f"{at}: Reddit client error ({type(exc).__name__})")


def _item(thing: Any, kind: str, where: str) -> Item:
    """The listing child as an Item, read from its payload only: a missing attribute would
    make praw fetch the item again, one request each."""
    if not isinstance(thing, _KINDS[kind]):
        raise SourceError(f"{where}: malformed payload (a {type(thing).__name__} in the listing)")
    data = vars(thing)
    item_id = data.get("id")
    if not isinstance(item_id, str) or not item_id.strip():
        raise SourceError(f"{where}: malformed payload (an item has no id)")
    for key in ("created_utc", "permalink", "score") + (("num_comments",) if kind == "t3" else ()):
        value = data.get(key)
        ok = isinstance(value, str) if key == "permalink" else _is_number(value)
        if not ok:
            raise BadItem(f"{where}: {_KIND_NAMES[kind]} {item_id.strip()} has no {key}; skipped")
    created = data["created_utc"]
    if not 0 < created < _YEAR_10000:  # also refuses NaN and infinity
        raise BadItem(f"{where}: {_KIND_NAMES[kind]} {item_id.strip()} has created_utc "
                      f"{str(created)[:30]}, not a time")  # fmt: skip
    return Item(kind=kind, id=item_id.strip(), created=int(created), data=data)


def _bare(fullname: Any) -> str | None:
    """`abc` from a fullname such as `t3_abc`; None when absent."""
    return fullname.split("_", 1)[-1] if isinstance(fullname, str) and fullname else None


def _classify(brand: Brand, item: Item) -> Mention | Reply | None:
    """What the item is for `brand`: a Mention, the brand's Reply, or None."""
    data = item.data
    if any(data.get(k) in _GONE for k in ("selftext", "body")):
        # Removed or deleted since: yielding it would overwrite the text first stored.
        return None
    thread_id: str | None
    if item.kind == "t3":
        title, body = _text(data, "title"), _text(data, "selftext")
        text = f"{title}\n\n{body}" if body.strip() else title
        parent_id, replies = None, int(data["num_comments"])
        thread_id = item.id
    else:
        text, replies = _text(data, "body"), 0
        parent_id = _bare(data.get("parent_id"))
        thread_id = _bare(data.get("link_id"))  # the submission the comment is under
    if not text.strip():
        return None
    author = data.get("author")
    return classify(
        brand,
        source=SOURCE,
        native_id=item.id,
        text=text,
        created_at=datetime.fromtimestamp(item.created, UTC),
        author=str(author) if author is not None else None,
        parent_id=parent_id,
        thread_id=thread_id,
        url=PUBLIC_URL + str(data["permalink"]),
        author_followers=None,
        # A downvoted post has a negative score; engagement counts cannot go below zero.
        likes=max(int(data["score"]), 0),
        shares=0,
        replies=max(replies, 0),
        raw={"kind": item.kind} | {k: _plain(data[k]) for k in _RAW_KEYS if k in data},
    )


def _check_state(state: dict[str, Any]) -> None:
    """Refuse a saved state other than `{"search": epoch | None, "comments": {sub: epoch}}`."""
    search, comments = state.get("search"), state.get("comments", {})
    if search is not None and not _is_epoch(search):
        raise ValueError("search")
    if not isinstance(comments, dict) or not all(_is_epoch(v) for v in comments.values()):
        raise ValueError("comments")


def _load(saved: dict[str, Any]) -> dict[str, Any]:
    """The saved state with both parts present."""
    return {"search": saved.get("search"), "comments": dict(saved.get("comments", {}))}


def _time_filter(span: timedelta) -> str:
    """The narrowest search time filter covering `span` (plus a margin for clock skew)."""
    for name, limit in _TIME_FILTERS:
        if span + _CLOCK_MARGIN <= limit:
            return name
    return "all"


def _subreddit(name: str) -> str:
    """`r/Travel` or `/r/travel/` as `travel`."""
    return _SUBREDDIT_PREFIX.sub("", name.strip()).strip("/").lower()


def _with_bare_accounts(brand: Brand) -> Brand:
    """The brand with its own accounts as bare usernames: `u/acmeair`, `/u/acmeair` and
    `@acmeair` all match the author `acmeair`."""
    accounts = tuple(_USER_PREFIX.sub("", a.strip()).strip("/") for a in brand.own_accounts)
    return dataclasses.replace(brand, own_accounts=accounts)


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def _plain(value: Any) -> Any:
    """JSON-ready: praw's Redditor and Subreddit objects as their names."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_epoch(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _where(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path}"
