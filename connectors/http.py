"""Plain-HTTP helpers for connectors built on requests: timeouts, 429s, 5xx, bad JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from connectors.base import RateLimited, SourceError

USER_AGENT = "reputation-monitor/0.1 (+https://github.com/reputation-monitor/reputation)"


def new_session() -> requests.Session:
    """A requests session with this project's User-Agent."""
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    return session


def request(
    session: requests.Session, method: str, url: str, *, timeout: timedelta | float,
    now: datetime, **kwargs: Any,
) -> requests.Response:  # fmt: skip
    """Send with a timeout; raise RateLimited on 429 and SourceError on any other failure.

    Messages name the host and path only: query strings may carry keys."""
    seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else float(timeout)
    place = where(url)
    try:
        response = session.request(method, url, timeout=seconds, **kwargs)
    except requests.Timeout:
        raise SourceError(f"{place}: no answer within {seconds:g}s") from None
    except requests.RequestException as exc:
        raise SourceError(f"{place}: cannot connect ({type(exc).__name__})") from None
    if response.status_code == 429:
        raise RateLimited(f"{place}: rate limited (HTTP 429)", retry_at(response.headers, now))
    if response.status_code >= 400:
        raise SourceError(f"{place}: HTTP {response.status_code}")
    return response


def get(
    session: requests.Session, url: str, *, timeout: timedelta | float, now: datetime,
    params: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
) -> requests.Response:  # fmt: skip
    """`request` with GET."""
    return request(session, "GET", url, timeout=timeout, now=now, params=params, headers=headers)


def get_json(
    session: requests.Session, url: str, *, timeout: timedelta | float, now: datetime,
    params: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
) -> Any:  # fmt: skip
    """`get`, then parse JSON; a body that is not JSON is a SourceError."""
    response = get(session, url, timeout=timeout, now=now, params=params, headers=headers)
    try:
        return response.json()
    except ValueError:
        raise SourceError(f"{where(url)}: malformed JSON in the response") from None


def retry_at(headers: Any, now: datetime) -> datetime | None:
    """When a rate-limited source may be called again, from Retry-After (seconds or an HTTP
    date) or an x-rate-limit-reset / x-ratelimit-reset epoch; None if it did not say."""
    value = headers.get("Retry-After")
    if value:
        try:
            return now + timedelta(seconds=float(value))
        except ValueError:
            try:
                return parsedate_to_datetime(value).astimezone(UTC)
            except (TypeError, ValueError):
                pass
    for name in ("x-rate-limit-reset", "x-ratelimit-reset"):
        value = headers.get(name)
        if value:
            try:
                reset = float(value)
            except ValueError:
                continue
            # Some APIs send an epoch, others seconds until the reset.
            if reset > 1e9:
                return datetime.fromtimestamp(reset, UTC)
            return now + timedelta(seconds=reset)
    return None


def where(url: str) -> str:
    """Host and path of `url`, for messages: never its query string, which may hold keys."""
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path}"


def require(payload: Any, *keys: str | int, what: str) -> Any:
    """Walk `payload[k1][k2]...`; a missing key or wrong type is a malformed-payload error."""
    value = payload
    for key in keys:
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            path = "".join(f"[{k!r}]" for k in keys)
            raise SourceError(f"{what}: malformed payload (no {path})") from None
    return value
