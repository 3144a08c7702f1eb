"""The `mastodon` connector: hashtag timelines and, with a token, full-text search (Mastodon.py).

Reach (decision 112): after a brand's feeds, up to `reach_lookups` statuses of the run (in
total, most reblogged first) whose reblog count grew since their last lookup get one page of
their rebloggers (`GET /api/v1/statuses/:id/reblogged_by`, Mastodon's default 40); the summed
`followers_count` of those accounts is the status's reshare reach, filed as the same
observation. The reblog count of each lookup is kept in the brand's state under `"reach"`
(statuses within `lookback`), so a status is asked about again only once reblogged again.
"""

from __future__ import annotations

import copy
import dataclasses
import html
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, NamedTuple
from urllib.parse import urlsplit

import requests

# An absolute import: this module is `reputation.connectors.mastodon`, so `mastodon` is Mastodon.py.
from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonError,
    MastodonNetworkError,
    MastodonRatelimitError,
    MastodonVersionError,
)

from reputation.brands import Brand
from reputation.connectors.base import (
    HTTP_OPTIONS,
    BadItem,
    Batch,
    FetchContext,
    SourceError,
    classify,
)
from reputation.connectors.http import USER_AGENT, translate
from reputation.connectors.http import retry_at as header_retry_at
from reputation.models import Mention, Reply
from reputation.text import normalize, shorten, terminal_safe
from reputation.timeutil import parse_time
from reputation.validate import Checker, Field

SOURCE = "mastodon"
TAG_PATH = "/api/v1/timelines/tag/{}"
SEARCH_PATH = "/api/v2/search"
REBLOGGED_PATH = "/api/v1/statuses/{}/reblogged_by"
INSTANCE_PATH = "/api/v1/instance"
MAX_BAD = 200  # ids of unusable statuses remembered so re-reads do not report them again
_HASHTAG = re.compile(r"^#?\w+$")
_BREAK = re.compile(r"<br\s*/?>|</?p(?:\s[^>]{0,2000})?>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]{0,2000}>")


class MastodonConnector:
    """Reads hashtag timelines (and optionally search) newest first, re-reading a lookback
    window so counts refresh and late-federated posts are caught."""

    type: ClassVar[str] = "mastodon"
    OPTIONS: ClassVar[Mapping[str, Field]] = {
        "base_url": Field("url", default="https://mastodon.social"),
        "access_token_env": Field("env"),
        "hashtags": Field("str_list"),
        "search": Field("bool", default=False),
        "limit": Field("int", default=40, min=1, max=40),
        "max_pages": Field("int", default=10, min=1),
        "reach_lookups": Field("int", default=0, min=0),
        **HTTP_OPTIONS,
    }

    def __init__(
        self, name: str, options: Mapping[str, Any], brands: Sequence[Brand],
        env: Mapping[str, str],
    ):  # fmt: skip
        self.name = name
        self.env = env
        self.base_url: str = options["base_url"]
        self.token_env: str | None = options["access_token_env"]
        self.hashtags = [h.lstrip("#").lower() for h in options["hashtags"]]
        self.search: bool = options["search"]
        self.limit: int = options["limit"]
        self.max_pages: int = options["max_pages"]
        self.reach_lookups: int = options["reach_lookups"]
        self.timeout: timedelta = options["timeout"]
        self.lookback: timedelta = options["lookback"]
        self.brands = list(brands)
        # Accounts without a domain in `acct` are local to this host.
        self.local_domain = (urlsplit(self.base_url).hostname or "").lower()

    @classmethod
    def check_options(
        cls, values: Mapping[str, Any], path: str, check: Checker, brands: Sequence[Brand]
    ) -> None:
        """Hashtags must be plain tags, search needs a token, and every brand needs a feed."""
        for tag in values.get("hashtags") or []:
            if not _HASHTAG.match(tag):
                check.error(f"{path}.hashtags", f"{tag!r} is not a hashtag (letters, digits, _)")
        if values.get("search") and not values.get("access_token_env"):
            check.error(f"{path}.search", "needs access_token_env: Mastodon searches post text "
                        "only for a logged-in account")  # fmt: skip
        if not values.get("hashtags") and not values.get("search"):
            for brand in brands:
                if not hashtags_for(brand):
                    check.error(f"{path}.hashtags", f"brand {brand.name!r} has no term usable "
                                "as a hashtag; list hashtags or turn on search")  # fmt: skip

    def fetch(self, ctx: FetchContext) -> Iterator[Batch]:
        """Per brand, one batch per feed (hashtag or search query) with the updated cursor."""
        api = _Api(self.base_url, self._token(), self.timeout, ctx.now)
        boundary = snowflake(ctx.now - self.lookback)
        lookups = [self.reach_lookups]  # left in this run, every brand together
        for brand in self.brands:
            state = _load(ctx.state(brand.name, _check_state))
            seen: dict[str, tuple[Mention, int] | None] = {}
            for feed in self._feeds(api, brand, state, boundary):
                batch = ctx.batch(brand.name)
                newest = self._read(api, brand, feed, state, seen, batch)
                if newest is not None:
                    old = state[feed.kind].get(feed.key)
                    state[feed.kind][feed.key] = str(max(newest, int(old) if old else 0))
                batch.state = _saved(state)
                yield batch
            yield from self._reach(api, ctx, brand, state, seen, lookups, boundary)

    def _reach(
        self, api: _Api, ctx: FetchContext, brand: Brand, state: dict[str, Any],
        seen: Mapping[str, tuple[Mention, int] | None], lookups: list[int], boundary: int,
    ) -> Iterator[Batch]:  # fmt: skip
        """The reshare reach of the brand's statuses of this run whose reblogs grew since
        their last lookup, most reblogged first, each filed again with it (decision 112)."""
        looked = state["reach"]
        for key in [k for k in looked if int(k) < boundary]:
            del looked[key]
        grown = sorted(
            (post for post in seen.values() if post and post[1] > looked.get(post[0].native_id, 0)),
            key=lambda post: (-post[1], post[0].native_id),
        )
        for mention, reblogs in grown[: max(lookups[0], 0)]:
            lookups[0] -= 1
            accounts = api.reblogged_by(mention.native_id)
            looked[mention.native_id] = reblogs
            batch = ctx.batch(brand.name)
            if accounts is not None:
                where = f"{api.where(REBLOGGED_PATH.format(mention.native_id))}"
                with batch.item(where):
                    reach = sum(_count(a, "followers_count", optional=True) or 0 for a in accounts)
                    batch.add(dataclasses.replace(mention, reshare_reach=reach), where)
            batch.state = _saved(state)
            yield batch

    def _token(self) -> str | None:
        if not self.token_env:
            return None
        token = self.env.get(self.token_env, "").strip()
        if not token:
            raise SourceError(f"environment variable {self.token_env} is not set (access token)")
        return token

    def _feeds(
        self, api: _Api, brand: Brand, state: dict[str, Any], boundary: int
    ) -> Iterator[Feed]:
        """Each hashtag of the brand, then each search query; pages are read lazily."""
        for tag in self.hashtags or hashtags_for(brand):
            since = _since(state["tags"].get(tag), boundary)
            pages = self._tag_pages(api, tag, since)
            yield Feed("tags", tag, TAG_PATH.format(tag), since, pages)
        if self.search:
            for query in search_queries(brand):
                since = _since(state["search"].get(query), boundary)
                yield Feed("search", query, SEARCH_PATH, since, self._search_pages(api, query))

    def _tag_pages(self, api: _Api, tag: str, since: int) -> Iterator[list[Any]]:
        """Pages of a hashtag timeline above `since`, newest first, older pages by max_id."""
        where = api.where(TAG_PATH.format(tag))
        max_id: str | None = None
        while True:
            page = api.timeline(tag, since_id=str(since), max_id=max_id, limit=self.limit)
            yield page
            # Mastodon links a "next" page from every non-empty page, and pages can come back
            # short (statuses deleted meanwhile): only an empty page ends the feed.
            if not page:
                return
            max_id = str(min(status_id(item, where) for item in page))

    def _search_pages(self, api: _Api, query: str) -> Iterator[list[Any]]:
        """Pages of search results, newest first, by offset (search takes no since_id)."""
        offset = 0
        while True:
            page = api.search(query, limit=self.limit, offset=offset)
            yield page
            if not page:
                return
            offset += len(page)

    def _read(
        self, api: _Api, brand: Brand, feed: Feed, state: dict[str, Any],
        seen: dict[str, tuple[Mention, int] | None], batch: Batch,
    ) -> int | None:  # fmt: skip
        """Add one feed's statuses newer than `feed.since` to `batch`; return the newest id.
        `seen` collects each status read (a mention, with its reblog count)."""
        where = api.where(feed.path)
        newest: int | None = None
        bad = state["bad"]
        for number, page in enumerate(feed.pages, start=1):
            reached = False
            for item in page:
                sid = status_id(item, where)
                if sid <= feed.since:
                    reached = True  # search has no since_id: it pages on past the boundary
                    continue
                newest = max(newest or sid, sid)
                native = str(sid)
                if native in seen:
                    continue
                seen[native] = None
                # An unusable status is reported once, not on every re-read of the window.
                with batch.item(f"{where}: status {native}", report=native not in bad) as it:
                    found = self._classify(brand, item, native)
                    batch.add(found, f"{where}: status {native}")
                    if isinstance(found, Mention):
                        seen[native] = (found, found.shares)
                if it.failed and native not in bad:
                    bad.append(native)
            if reached or not page:
                break
            if number >= self.max_pages:
                batch.notes.append(
                    f"{where}: stopped after {self.max_pages} pages; statuses older than the "
                    "last page read may be missing (raise max_pages)"
                )
                break
        del bad[:-MAX_BAD]
        return newest

    def _classify(
        self, brand: Brand, status: Mapping[str, Any], native_id: str
    ) -> Mention | Reply | None:
        """What a status is for `brand`; reblogs are skipped (the original carries the counts)."""
        if status.get("reblog"):
            return None
        account = status.get("account")
        acct = account.get("acct") if isinstance(account, Mapping) else None
        if not isinstance(acct, str) or not acct.strip():
            raise BadItem("has no account.acct")
        author = self._author(brand, acct.strip())
        content = status.get("content")
        if not isinstance(content, str):
            raise BadItem("content is not a string")
        # Matched here on Mastodon-aware plain text: its HTML wraps "#tag" and "@name" in
        # inline elements that a generic tag strip would split ("# acmeair").
        if not brand.is_own_account(author) and not brand.mentioned_in(plain_text(content)):
            return None
        parent = status.get("in_reply_to_id")
        # The status's page on the instance read, not its `url`: the server that sent a
        # federated status chose that one, and it can name any site (decision 83).
        url = f"{self.base_url.rstrip('/')}/@{acct.strip()}/{native_id}"
        return classify(
            brand,
            match=False,
            source=SOURCE,
            native_id=native_id,
            text=content,
            created_at=_created(status),
            author=author,
            parent_id=str(parent) if parent not in (None, "") else None,
            url=url,
            author_followers=_count(account, "followers_count", optional=True),
            likes=_count(status, "favourites_count"),
            shares=_count(status, "reblogs_count"),
            replies=_count(status, "replies_count"),
            lang=status.get("language") if isinstance(status.get("language"), str) else None,
            raw=plain(status),
        )

    def _author(self, brand: Brand, acct: str) -> str:
        """`acct`, or `acct@<instance>` for a local account the brand lists in that form."""
        if "@" not in acct and self.local_domain:
            qualified = f"{acct}@{self.local_domain}"
            if brand.is_own_account(qualified):
                return qualified
        return acct


class Feed(NamedTuple):
    """One feed of a brand: its cursor entry (kind, key), endpoint path, the id it reads back
    to, and its pages."""

    kind: str
    key: str
    path: str
    since: int
    pages: Iterator[list[Any]]


class _Api:
    """Mastodon.py calls with errors mapped to SourceError / RateLimited; it keeps the last
    HTTP response (the client does not expose it) for rate-limit headers and shape checks."""

    def __init__(self, base_url: str, token: str | None, timeout: timedelta, now: datetime):
        session = requests.Session()
        session.hooks["response"].append(self._keep)
        self.timeout = timeout
        self.now = now
        self.last: requests.Response | None = None
        self.version_read = False
        # No request is made here: version_check_mode="none" skips the instance lookup.
        self.client = Mastodon(
            api_base_url=base_url,
            access_token=token or None,
            request_timeout=timeout.total_seconds(),
            ratelimit_method="throw",
            version_check_mode="none",
            session=session,
            user_agent=USER_AGENT,
        )
        self.host = urlsplit(str(self.client.api_base_url)).netloc

    def _keep(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.last = response

    def where(self, path: str) -> str:
        """The endpoint as messages name it: host and path, no query string."""
        return f"{self.host}{path}"

    def timeline(self, tag: str, **params: Any) -> list[Any]:
        """One page of a hashtag timeline, newest first."""
        path = TAG_PATH.format(tag)
        page = self._call(path, self.client.timeline_hashtag, tag, **params)
        # Mastodon.py turns a JSON object into an empty list: check the body itself.
        body = self.last.content.lstrip()[:1] if self.last is not None else b""
        if not isinstance(page, list) or body != b"[":
            raise SourceError(f"{self.where(path)}: malformed payload (not a list of statuses)")
        return page

    def search(self, query: str, limit: int, offset: int) -> list[Any]:
        """One page of statuses matching `query`, newest first (Mastodon 4.2+ orders by id)."""
        if offset and not self.version_read:
            # Mastodon.py checks the server version before sending `offset`; read it here so a
            # failure is reported as what it is, not as "server too old".
            self._call(INSTANCE_PATH, self.client.retrieve_mastodon_version, fail_hard=True)
            self.version_read = True
        result = self._call(
            SEARCH_PATH, self.client.search_v2, query, resolve=False, result_type="statuses",
            exclude_unreviewed=False, limit=limit, offset=offset or None,
        )  # fmt: skip
        statuses = result.get("statuses") if isinstance(result, Mapping) else None
        if not isinstance(statuses, list):
            raise SourceError(f"{self.where(SEARCH_PATH)}: malformed payload (no 'statuses' list)")
        return statuses

    def reblogged_by(self, status: str) -> list[Mapping[str, Any]] | None:
        """The accounts that reblogged a status (one page); None when it is gone (404)."""
        path = REBLOGGED_PATH.format(status)
        try:
            accounts = self._call(path, self.client.status_reblogged_by, status)
        except SourceError:
            if self.last is not None and self.last.status_code == 404:
                return None
            raise
        if not isinstance(accounts, list) or not all(isinstance(a, Mapping) for a in accounts):
            raise SourceError(f"{self.where(path)}: malformed payload (not a list of accounts)")
        return accounts

    def _call(self, path: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        self.last = None
        try:
            return method(*args, **kwargs)
        except MastodonError as exc:
            raise self._error(path, exc) from None
        except (AttributeError, KeyError, TypeError, ValueError, RecursionError) as exc:
            # Mastodon.py's own post-processing can trip over a body of the wrong shape.
            problem = f"malformed payload ({type(exc).__name__})"
            raise SourceError(f"{self.where(path)}: {problem}") from None

    def _error(self, path: str, exc: BaseException) -> SourceError:
        """The SourceError (or RateLimited) for a Mastodon.py exception: what only this client
        means here, the rest in the shared wording."""
        where = self.where(path)
        status = self.last.status_code if self.last is not None else None
        if isinstance(exc, MastodonRatelimitError) and status != 429:
            return SourceError(f"{where}: unreadable rate-limit headers ({exc})")
        if isinstance(exc, MastodonVersionError) and isinstance(exc.__cause__, MastodonError):
            return self._error(path, exc.__cause__)
        if isinstance(exc, MastodonNetworkError) and exc.__context__ is None:
            return SourceError(f"{where}: cannot connect ({type(exc).__name__})")
        if isinstance(exc, MastodonAPIError) and status is not None and status < 400:
            return SourceError(f"{where}: malformed JSON in the response")
        detail = self._said() if status is not None and status != 429 else None
        said = terminal_safe(shorten(detail, 200)) if detail else None
        return translate(exc, where, timeout=self.timeout, now=self.now, response=self.last,
                         detail=said, retry=retry_at)  # fmt: skip

    def _said(self) -> str | None:
        """The `error` of an error answer. Mastodon.py casts error bodies to the endpoint's
        return type (a status list loses the object), so it is read from the response."""
        try:
            body = self.last.json() if self.last is not None else None
        except ValueError:
            return None
        said = body.get("error") if isinstance(body, dict) else None
        return said if isinstance(said, str) and said.strip() else None


def hashtags_for(brand: Brand) -> list[str]:
    """Hashtags from brand terms: "#acmeair" and "acme air" -> acmeair; "@handles" are skipped."""
    tags: list[str] = []
    for term in brand.terms:
        text = term.strip()
        if not text or text.startswith("@"):
            continue
        tag = re.sub(r"\W", "", text.lstrip("#")).lower()
        if tag and tag not in tags:
            tags.append(tag)
    return tags


def search_queries(brand: Brand) -> list[str]:
    """One search per brand term (case-insensitively distinct); phrases are quoted."""
    queries: dict[str, str] = {}
    for term in brand.terms:
        text = " ".join(term.split())
        if text:
            queries.setdefault(text.casefold(), f'"{text}"' if " " in text else text)
    return list(queries.values())


def plain_text(content: str) -> str:
    """Mastodon status HTML as plain text: paragraphs and breaks become spaces, inline
    elements (links, hashtags, mentions, hidden URL parts) are unwrapped in place."""
    text = _BREAK.sub(" ", content)
    text = html.unescape(_TAG.sub("", text))
    # Decoded "&lt;" is the author's text, not markup: keep normalize from stripping it.
    return normalize(text.replace("<", " ").replace(">", " "))


def snowflake(moment: datetime) -> int:
    """The lowest Mastodon status id of `moment` (milliseconds shifted left by 16 bits)."""
    return int(moment.timestamp() * 1000) << 16


def status_id(item: Any, where: str) -> int:
    """A status's numeric id; anything else means this is not a Mastodon status list."""
    value = item.get("id") if isinstance(item, Mapping) else None
    usable = isinstance(value, str | int) and not isinstance(value, bool)
    text = str(value).strip() if usable else ""
    if not text.isdigit():
        raise SourceError(f"{where}: malformed payload (a status without a numeric id)")
    return int(text)


def retry_at(headers: Any, now: datetime) -> datetime | None:
    """When a rate-limited instance may be called again: Retry-After, else Mastodon's
    X-RateLimit-Reset (ISO 8601 in the server's clock, so measured against its Date)."""
    found = header_retry_at(headers, now)
    if found is not None:
        return found
    try:
        reset = parse_time(headers.get("X-RateLimit-Reset"))
    except (TypeError, ValueError):
        return None
    try:
        server_now = parsedate_to_datetime(headers.get("Date")).astimezone(UTC)
    except (TypeError, ValueError):
        return reset
    return now + max(timedelta(0), reset - server_now)


def plain(value: Any) -> Any:
    """Mastodon.py's typed objects as JSON-safe values: dicts, lists, ISO times."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _created(status: Mapping[str, Any]) -> datetime:
    value = status.get("created_at")
    if isinstance(value, str):
        try:
            value = parse_time(value)
        except ValueError:
            value = None
    if not isinstance(value, datetime):
        raise BadItem("has no created_at time")
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)


def _count(item: Any, key: str, optional: bool = False) -> int | None:
    value = item.get(key) if isinstance(item, Mapping) else None
    if value is None:
        return None if optional else 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadItem(f"{key} {str(value)[:20]!r} is not a count")
    return value


def _since(saved: str | None, boundary: int) -> int:
    """Read back to the saved newest id or the lookback boundary, whichever is older."""
    return min(int(saved), boundary) if saved else boundary


def _check_state(state: dict[str, Any]) -> None:
    """Refuse a saved state other than `{"tags": {tag: id}, "search": {query: id},
    "bad": [ids]}` (empty parts left out)."""
    for kind in ("tags", "search"):
        feeds = state.get(kind, {})
        if not isinstance(feeds, dict):
            raise TypeError(kind)
        if not all(isinstance(v, str) and v.isdigit() for v in feeds.values()):
            raise ValueError(kind)
    if not isinstance(state.get("bad", []), list):
        raise TypeError("bad")
    reach = state.get("reach", {})
    if not isinstance(reach, dict):
        raise TypeError("reach")
    for key, value in reach.items():
        if not key.isdigit() or isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("reach")


def _load(saved: dict[str, Any]) -> dict[str, Any]:
    """The saved state with every part present: newest id per hashtag and search query, and
    the ids of bad statuses already reported."""
    return {
        "tags": dict(saved.get("tags", {})),
        "search": dict(saved.get("search", {})),
        "bad": [str(b) for b in saved.get("bad", [])][-MAX_BAD:],
        "reach": dict(saved.get("reach", {})),
    }


def _saved(state: dict[str, Any]) -> dict[str, Any]:
    """The state as a batch carries it: empty parts left out."""
    return {k: copy.deepcopy(v) for k, v in state.items() if v}
