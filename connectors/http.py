"""HTTP for every connector: requests with a timeout, and one translation of what can go wrong
(timeouts, refused connections, 429s, 4xx/5xx, bad JSON), whether a connector calls requests
itself or through a client library (tweepy, praw, Mastodon.py), into SourceError and
RateLimited with one wording."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from reputation import __version__
from reputation.connectors.base import RateLimited, SourceError

USER_AGENT = f"reputation-monitor/{__version__} (+https://github.com/reputation-monitor/reputation)"


def new_session() -> requests.Session:
    """A requests session with this project's User-Agent."""
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    return session


def request(
    session: requests.Session, method: str, url: str, *, timeout: timedelta, now: datetime,
    **kwargs: Any,
) -> requests.Response:  # fmt: skip
    """Send with a timeout; raise RateLimited on 429 and SourceError on any other failure.

    Messages name the host and path only: query strings may carry keys."""
    place = where(url)
    try:
        response = session.request(method, url, timeout=timeout.total_seconds(), **kwargs)
    except requests.RequestException as exc:
        raise translate(exc, place, timeout=timeout, now=now) from None
    if response.status_code >= 400:
        raise failed_status(place, response, now)
    return response


def translate(
    exc: BaseException, place: str, *, timeout: timedelta, now: datetime,
    response: requests.Response | None = None, detail: str | None = None,
    retry: Callable[[Any, datetime], datetime | None] | None = None,
) -> SourceError:  # fmt: skip
    """The SourceError (RateLimited for a 429) for a failed call to `place`, from requests or
    any client library built on it: the transport error in the exception's chain (a timeout,
    a refused connection), else the HTTP answer (`response`, or the exception's own), else a
    body that is not JSON, else a malformed response. `detail` is what the source said;
    `retry` reads the retry time from headers (default: `retry_at`)."""
    cause = _transport_error(exc)
    if isinstance(cause, requests.Timeout):
        return SourceError(f"{place}: no answer within {timeout.total_seconds():g}s")
    if isinstance(cause, requests.JSONDecodeError):
        return SourceError(f"{place}: malformed JSON in the response")
    if cause is not None:
        return SourceError(f"{place}: cannot connect ({type(cause).__name__})")
    answer = response if response is not None else getattr(exc, "response", None)
    status = getattr(answer, "status_code", None)
    if isinstance(status, int) and status >= 400:
        return failed_status(place, answer, now, detail, retry)
    if isinstance(exc, json.JSONDecodeError | RecursionError):
        return SourceError(f"{place}: malformed JSON in the response")
    return SourceError(f"{place}: malformed response ({type(exc).__name__})")


def failed_status(
    place: str, response: Any, now: datetime, detail: str | None = None,
    retry: Callable[[Any, datetime], datetime | None] | None = None,
) -> SourceError:  # fmt: skip
    """RateLimited for a 429 (with when to retry, if the headers say), else `HTTP <status>`
    and what the source said about it, if anything."""
    status = response.status_code
    if status == 429:
        when = (retry or retry_at)(response.headers, now)
        return RateLimited(f"{place}: rate limited (HTTP 429)", when)
    return SourceError(f"{place}: HTTP {status}" + (f" ({detail})" if detail else ""))


def _transport_error(exc: BaseException) -> BaseException | None:
    """The requests error underneath `exc` (itself, prawcore's `original_exception`, or a
    cause or context Mastodon.py and others chain), if the call failed in transport."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, requests.RequestException) and not isinstance(
            current, requests.HTTPError
        ):
            return current
        todo += [getattr(current, "original_exception", None), current.__cause__,
                 current.__context__]  # fmt: skip
    return None


def get(
    session: requests.Session, url: str, *, timeout: timedelta, now: datetime,
    params: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
) -> requests.Response:  # fmt: skip
    """`request` with GET."""
    return request(session, "GET", url, timeout=timeout, now=now, params=params, headers=headers)


def get_json(
    session: requests.Session, url: str, *, timeout: timedelta, now: datetime,
    params: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
) -> Any:  # fmt: skip
    """`get`, then parse JSON; a body that is not JSON is a SourceError."""
    response = get(session, url, timeout=timeout, now=now, params=params, headers=headers)
    try:
        return response.json()
    except (ValueError, RecursionError):  # RecursionError: JSON nested too deep to parse
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
