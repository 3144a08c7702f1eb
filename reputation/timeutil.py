"""UTC time helpers: everything in the store is an aware UTC ISO 8601 string."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def parse_time(value: str) -> datetime:
    """Parse ISO 8601 (`Z` or offset; naive is taken as UTC) into an aware UTC datetime."""
    if isinstance(value, str) and value.endswith("Z") and len(value) == 27:
        return datetime.fromisoformat(value)  # the store's own format: already UTC
    if not isinstance(value, str) or not value.strip():
        raise ValueError("is empty")
    text = value.strip()
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def iso(moment: datetime) -> str:
    """Format an aware datetime as the store's fixed-width UTC text (sorts as time): the year
    always has four digits, which strftime's %Y does not promise (year 1 is "1" on glibc)."""
    if moment.tzinfo is not UTC:
        if moment.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC time")
        moment = moment.astimezone(UTC)
    # isoformat pads the year to four digits; "+00:00" (6 characters) becomes "Z".
    return moment.isoformat(timespec="microseconds")[:-6] + "Z"
