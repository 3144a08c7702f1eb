"""Crontab lines as cron reads them, in UTC, and in words (for `serve` and its config)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger

# Cron counts days of the week from Sunday (0, and 7 again); APScheduler 3 counts from
# Monday, so "0 8 * * 1" would run on Tuesdays if passed through (its from_crontab says so).
# Names mean the same to both, so a weekday field goes to APScheduler as names.
_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


def crontab_trigger(expression: str) -> CronTrigger:
    """A trigger firing on a standard five-field crontab line, read in UTC (day of week 0 or 7
    is Sunday); ValueError if it is not one."""
    from apscheduler.triggers.cron import CronTrigger

    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 fields (minute hour day month weekday), got {len(fields)}")
    minute, hour, day, month, weekday = fields
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=weekday_names(weekday),
        timezone="UTC",
    )


def weekday_names(field: str) -> str:
    """A crontab weekday field ("1-5", "0,6", "*/2", "mon") as a list of day names."""
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for item in field.split(","):
        span, slash, step_text = item.partition("/")
        step = _number(step_text, 1, 7) if slash else 1
        if span == "*":
            first, last = 0, 6
        else:
            low, dash, high = span.partition("-")
            first = _day(low)
            last = _day(high) if dash else (6 if slash else first)
        if last < first:
            raise ValueError(f"{item!r}: a weekday range runs from Sunday (0) to Sunday (7)")
        days.update(d % 7 for d in range(first, last + 1, step))
    return ",".join(_NAMES[d] for d in sorted(days))


def _day(text: str) -> int:
    if text.lower()[:3] in _NAMES:
        return _NAMES.index(text.lower()[:3])
    return _number(text, 0, 7)


def _number(text: str, low: int, high: int) -> int:
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValueError(f"{text!r} is not a day of the week ({low}-{high} or sun-sat)")
    return int(text)


def cron_words(expression: str) -> str:
    """A crontab line in words: "every day at 00:05 UTC", "every Monday at 08:00 UTC"; other
    forms are quoted as written, with "(UTC)"."""
    fields = expression.split()
    if len(fields) == 5 and fields[0].isdigit():
        minute, hour, day, month, weekday = fields
        at = f"{int(hour):02d}:{int(minute):02d} UTC" if hour.isdigit() else ""
        if (day, month, weekday) == ("*", "*", "*"):
            if at:
                return f"every day at {at}"
            if hour == "*":
                return f"every hour at minute {int(minute)} (UTC)"
        if at and (day, month) == ("*", "*") and weekday.isdigit() and int(weekday) <= 7:
            return f"every {_DAYS[int(weekday) % 7]} at {at}"
    return f'on the cron schedule "{expression}" (UTC)'
