"""What every connector shares: the fetch context, batches, errors and brand classification."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

from reputation.brands import Brand
from reputation.models import Mention, Reply
from reputation.text import normalize
from reputation.validate import Field

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


class SourceError(Exception):
    """A source failed (5xx, timeout, malformed payload...); this connector stops for the run."""


class RateLimited(SourceError):
    """The source answered 429; `retry_at` says when it may be called again, if it said."""

    def __init__(self, message: str, retry_at: datetime | None = None):
        super().__init__(message)
        self.retry_at = retry_at


@dataclass
class Batch:
    """Mentions plus the cursor that covers them; the pipeline stores both in one transaction.

    `cursor` None leaves the saved cursor of `scope` unchanged. `problems` are input errors
    already located (file and line, or id) that were skipped; `notes` are warnings (a budget
    ran out, say); `reads` counts billable reads spent on this batch.
    """

    mentions: list[Mention]
    cursor: str | None = None
    scope: str = ALL_BRANDS
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)
    reads: int = 0


@dataclass(frozen=True)
class FetchContext:
    """What a fetch may know: the time, saved cursors by scope, its read budget, and the ids
    of mentions it already stored (for re-reading their engagement)."""

    now: datetime
    cursors: Mapping[str, str] = field(default_factory=dict)
    reads_allowed: int | None = None
    recent: Callable[[str, datetime], list[str]] = lambda scope, since: []

    def cursor(self, scope: str) -> str | None:
        """The saved cursor of `scope`, if any."""
        return self.cursors.get(scope)


class Connector(Protocol):
    """A source of mentions. It persists nothing: the pipeline owns cursors and budgets."""

    type: ClassVar[str]
    OPTIONS: ClassVar[Mapping[str, Field]]
    name: str

    def __init__(self, name: str, options: Mapping[str, Any], brands: Sequence[Brand]) -> None:
        """Keep the checked options; build clients lazily or here, but send nothing."""
        ...

    def fetch(self, ctx: FetchContext) -> Iterator[Batch]:
        """Yield batches of mentions newer than the saved cursors, plus lookback re-reads."""
        ...

    # Optional: `check_options(cls, options, brands) -> list[tuple[key, message]]`, a
    # classmethod that config loading calls to report problems only the connector knows.


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
    options: Mapping[str, Any], brands: Sequence[Brand], required: bool = True
) -> list[tuple[str, str]]:
    """Problems with a connector's `brand` option, as (key, message), for `check_options`:
    it must name a configured brand, and (if `required`) be set when there are several."""
    wanted = options.get("brand")
    if wanted is None:
        if required and len(brands) > 1:
            return [("brand", "is required when more than one brand is configured")]
        return []
    if all(b.name.casefold() != str(wanted).casefold() for b in brands):
        return [("brand", f"{wanted!r} is not a configured brand")]
    return []


def brand_named(options: Mapping[str, Any], brands: Sequence[Brand]) -> Brand:
    """The brand an app- or business-specific connector covers: its `brand` option, or the
    only configured brand (config load has already checked this with `check_brand`)."""
    wanted = options.get("brand")
    for brand in brands:
        if wanted is None or brand.name.casefold() == str(wanted).casefold():
            return brand
    raise SourceError(f"brand {wanted!r} is not configured")
