"""What every connector shares: the fetch context and saved state, batches and their checks,
errors, and brand classification."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Protocol

from reputation.brands import Brand
from reputation.models import Mention, Reply
from reputation.text import normalize
from reputation.timeutil import iso
from reputation.validate import Checker, Field

log = logging.getLogger("reputation")

ALL_BRANDS = "*"

# Options most HTTP connectors take; include them in a connector's OPTIONS as `**HTTP_OPTIONS`.
HTTP_OPTIONS: dict[str, Field] = {
    "timeout": Field("duration", default="20s"),
    "lookback": Field("duration", default="1d"),
}
# Read budgets, for sources that bill per read (X). The pipeline enforces the monthly cap.
BUDGET_OPTIONS: dict[str, Field] = {
    "max_reads_per_run": Field("int", default=1000, min=1),
    "max_reads_per_month": Field("int", min=1),
}


# What an item must fit to be stored (check_item). Counts stay below 2**53 so that SQLite
# holds them as integers, their sum (engagement) cannot overflow its 64 bits, and a float
# holds them exactly; no post has 9 quadrillion likes, so a larger one is a broken record.
MAX_COUNT = 2**53 - 1
EARLIEST = datetime(2006, 1, 1, tzinfo=UTC)  # before any of these platforms existed
FUTURE_SLACK = timedelta(days=1)  # clocks and time zones differ; more is a broken record
MAX_TEXT = 100_000  # characters of a post (Reddit's longest is 40,000)
MAX_FIELD = 2_000  # characters of an id, author, language
MAX_URL = 8_000


class SourceError(Exception):
    """A source failed (5xx, timeout, malformed payload...); this connector stops for the run."""


class RateLimited(SourceError):
    """The source answered 429; `retry_at` says when it may be called again, if it said."""

    def __init__(self, message: str, retry_at: datetime | None = None):
        super().__init__(message)
        self.retry_at = retry_at


class BadItem(ValueError):
    """One item of a source is unusable; the message says which field and why. The batch
    reports it where the item came from (file:line, or the item's id) and skips it."""


# What reading one odd item may raise besides BadItem: reported and skipped like a BadItem, so
# one poison record (nested 100,000 deep, a number too large...) never stops the rest.
_ITEM_ERRORS = (
    ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError, RecursionError,
)  # fmt: skip


class ItemOutcome:
    """How reading one item went: `failed` is set when it was reported and skipped."""

    failed = False


@dataclass
class Batch:
    """Mentions plus the state that covers them; the pipeline stores both in one transaction.

    `state` None leaves the saved state of `scope` as it was; a dict replaces it (the pipeline
    encodes it and drops a batch that changes nothing). `problems` are input errors already
    located (file and line, or id) that were skipped; `notes` are warnings (a budget ran out,
    say); `reads` counts billable reads spent on this batch; `origins` says where each item
    came from, for messages about it later (the store refusing it, say).
    """

    mentions: list[Mention] = field(default_factory=list)
    state: dict[str, Any] | None = None
    scope: str = ALL_BRANDS
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)
    reads: int = 0
    origins: dict[str, str] = field(default_factory=dict)
    now: datetime | None = None  # the fetch's time, for check_item (FetchContext.batch sets it)
    # Items `add` checked at `now` (by id: they stay in the batch, so ids are not reused).
    _checked: set[int] = field(default_factory=set, init=False, repr=False, compare=False)

    def add(self, item: Mention | Reply | None, where: str | None = None) -> None:
        """File a Mention or the brand's Reply (None, an item not about the brand, is dropped);
        `where` locates it in messages (default: its key). Raises BadItem when the item fails
        `check_item`, so call it inside `item(where)`, before the item moves any state."""
        if item is None:
            return
        if not isinstance(item, Mention | Reply):
            raise TypeError(f"not a Mention or Reply: {type(item).__name__}")
        check_item(item, self.now)
        self._checked.add(id(item))
        if isinstance(item, Mention):
            self.mentions.append(item)
        else:
            self.replies.append(item)
        if where is not None:
            self.origins[item.key] = where

    @contextmanager
    def item(self, where: str, report: bool = True) -> Iterator[ItemOutcome]:
        """Read one item inside this block: a BadItem (or any error reading it) is reported as
        a problem at `where` (unless `report` is False: already reported) and the item skipped."""
        outcome = ItemOutcome()
        try:
            yield outcome
        except BadItem as exc:
            outcome.failed = True
            if report:
                self.problems.append(f"{where}: {exc}")
        except _ITEM_ERRORS as exc:
            outcome.failed = True
            log.debug("unreadable item at %s", where, exc_info=True)
            if report:
                self.problems.append(f"{where}: unreadable ({type(exc).__name__})")

    def screen(self, now: datetime) -> None:
        """Move every item that fails `check_item` at `now` from the batch to its problems:
        the pipeline's last check, for items a connector filed without `add`."""
        for kind in ("mentions", "replies"):
            kept = []
            for item in getattr(self, kind):
                if now == self.now and id(item) in self._checked:
                    kept.append(item)  # checked by `add` at this time already
                    continue
                try:
                    check_item(item, now)
                except BadItem as exc:
                    self.problems.append(f"{self.where(item.key)}: {exc}")
                else:
                    kept.append(item)
            setattr(self, kind, kept)

    def where(self, key: str) -> str:
        """Where the item with `key` came from, for messages."""
        return self.origins.get(key, key)


def check_item(item: Mention | Reply, now: datetime | None) -> None:
    """Raise BadItem unless `item` fits what the store keeps and the rules can use: ids and
    texts of bounded size, counts from 0 to MAX_COUNT (reach and impressions too, when
    given), and times from 2006 to a day after `now` (the upper bound only when `now` is
    known)."""
    if not isinstance(item.native_id, str) or not item.native_id.strip():
        raise BadItem("id is missing")
    _check_str(item.native_id, "id", MAX_FIELD)
    if not isinstance(item.text, str):
        raise BadItem("text is missing")
    _check_str(item.text, "text", MAX_TEXT)
    for name in ("author", "lang", "parent_id", "thread_id"):
        _check_str(getattr(item, name, None), name, MAX_FIELD)
    _check_str(item.url, "url", MAX_URL)
    check_time(item.created_at, now)
    if isinstance(item, Mention):
        for name in ("likes", "shares", "replies"):
            _check_count(getattr(item, name), name)
        for name in ("author_followers", "reshare_reach", "impressions"):
            _check_count(getattr(item, name), name, optional=True)
        if item.observed_at is not None:
            check_time(item.observed_at, now, "observed_at")


def check_time(moment: Any, now: datetime | None, what: str = "created_at") -> None:
    """Raise BadItem unless `moment` is an aware time from 2006 to a day after `now`."""
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise BadItem(f"{what} is not a time with a zone")
    if moment < EARLIEST:
        raise BadItem(f"{what} {_when(moment)} is before 2006")
    if now is not None and moment > now + FUTURE_SLACK:
        raise BadItem(f"{what} {_when(moment)} is more than a day in the future")


def _when(moment: datetime) -> str:
    try:
        return iso(moment)[:19] + "Z"
    except (OverflowError, ValueError):
        return repr(moment)[:40]


def _check_str(value: Any, name: str, limit: int) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise BadItem(f"{name} is not text")
    if len(value) > limit:
        raise BadItem(f"{name} is longer than {limit:,} characters")


def _check_count(value: Any, name: str, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadItem(f"{name} {str(value)[:30]!r} is not a whole number")
    if not 0 <= value <= MAX_COUNT:
        raise BadItem(f"{name} {str(value)[:30]} is not a count from 0 to {MAX_COUNT:,}")


def encode_state(state: Mapping[str, Any]) -> str:
    """A connector's state as the text saved in the store (JSON, keys sorted)."""
    return json.dumps(state, sort_keys=True)


def decode_state(text: str | None) -> dict[str, Any] | None:
    """The state saved as `text`: {} when there is none, None when it cannot be read."""
    if not text:
        return {}
    try:
        state = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return state if isinstance(state, dict) else None


@dataclass(frozen=True)
class FetchContext:
    """What a fetch may know: the time, the states saved by scope (as stored), its read budget,
    and the ids of mentions it already stored (for re-reading their engagement). Warnings it
    gives the run (a saved state it could not read) collect in `warnings`."""

    now: datetime
    cursors: Mapping[str, str] = field(default_factory=dict)
    reads_allowed: int | None = None
    recent: Callable[[str, datetime], list[str]] = lambda scope, since: []
    warnings: list[str] = field(default_factory=list)
    _states: dict[str, dict[str, Any]] = field(default_factory=dict, init=False, repr=False)

    def batch(self, scope: str = ALL_BRANDS, **fields: Any) -> Batch:
        """A new Batch for `scope` whose `add` checks items against this fetch's time."""
        return Batch(scope=scope, now=self.now, **fields)

    def state(
        self, scope: str, check: Callable[[dict[str, Any]], object] | None = None
    ) -> dict[str, Any]:
        """A copy of the state saved for `scope`, {} if none. One that cannot be decoded, or
        that `check` refuses (by raising ValueError, KeyError or TypeError), is reported once
        as a warning and read as {}: the connector starts over."""
        if scope not in self._states:
            state = decode_state(self.cursors.get(scope))
            if state and check is not None:
                try:
                    check(state)
                except (ValueError, KeyError, TypeError, AttributeError, IndexError):
                    state = None
            if state is None:
                self.warnings.append(f"saved state for scope {scope} is unreadable, starting over")
                state = {}
            self._states[scope] = state
        return copy.deepcopy(self._states[scope])


class Connector(Protocol):
    """A source of mentions. It persists nothing: the pipeline owns state and budgets.

    `OPTIONS` declares every option with its default; config loading fills the defaults in,
    so a connector reads `options["key"]` and never repeats a default. Optional:
    `check_options(cls, values, path, check, brands) -> None`, a classmethod (the contract
    rule types share) that config loading calls after the OPTIONS checks, to report what only
    the connector knows through `check.error(f"{path}.key", message)`.
    """

    type: ClassVar[str]
    OPTIONS: ClassVar[Mapping[str, Field]]
    name: str

    def __init__(
        self, name: str, options: Mapping[str, Any], brands: Sequence[Brand],
        env: Mapping[str, str],
    ) -> None:  # fmt: skip
        """Keep the checked options, and take secrets from `env` (never from os.environ);
        build clients lazily or here, but send nothing."""
        ...

    def fetch(self, ctx: FetchContext) -> Iterator[Batch]:
        """Yield batches of mentions newer than the saved states, plus lookback re-reads."""
        ...


def classify(
    brand: Brand,
    *,
    source: str,
    native_id: str,
    text: str,
    created_at: datetime,
    author: str | None = None,
    parent_id: str | None = None,
    url: str | None = None,
    match: bool = True,
    **fields: Any,
) -> Mention | Reply | None:
    """A Mention, the brand's own Reply to one, or None (its own post, or not about it).

    With `match` the normalized text must name the brand outside its exclusions (search
    results); without, every item is about the brand (reviews of its own app)."""
    if brand.is_own_account(author):
        if parent_id is None:
            return None
        return Reply(
            source=source,
            native_id=native_id,
            brand=brand.name,
            parent_id=parent_id,
            text=text,
            created_at=created_at,
            author=author,
            url=url,
        )
    if match and not brand.mentioned_in(normalize(text)):
        return None
    return Mention(
        source=source,
        native_id=native_id,
        brand=brand.name,
        text=text,
        created_at=created_at,
        author=author,
        parent_id=parent_id,
        url=url,
        **fields,
    )


def optional_id(value: Any) -> str | None:
    """An id from a payload as text (a string or a number, not a boolean); None if absent."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value).strip() or None


def check_brand(
    values: Mapping[str, Any], path: str, check: Checker, brands: Sequence[Brand],
    required: bool = True,
) -> None:  # fmt: skip
    """For `check_options`: a connector's `brand` option must name a configured brand, and (if
    `required`) be set when there are several. Silent when no brand is configured: that is
    reported where the brands are."""
    wanted = values.get("brand")
    if not brands:
        return
    if wanted is None:
        if required and len(brands) > 1:
            check.error(f"{path}.brand", "is required when more than one brand is configured")
        return
    if all(b.name.casefold() != str(wanted).casefold() for b in brands):
        check.error(f"{path}.brand", f"{wanted!r} is not a configured brand")


def brand_named(options: Mapping[str, Any], brands: Sequence[Brand]) -> Brand:
    """The brand an app- or business-specific connector covers: its `brand` option, or the
    only configured brand (config load has already checked this with `check_brand`)."""
    wanted = options.get("brand")
    for brand in brands:
        if wanted is None or brand.name.casefold() == str(wanted).casefold():
            return brand
    raise SourceError(f"brand {wanted!r} is not configured")
