"""What every connector gets from the framework: saved state in and out, batches that change
nothing dropped, Mention/Reply dispatch, and one bad item reported and skipped."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
import requests

from reputation.brands import Brand
from reputation.config import load_config
from reputation.connectors import (
    CONNECTORS,
    BadItem,
    Batch,
    FetchContext,
    RateLimited,
    SourceError,
    decode_state,
    encode_state,
)
from reputation.connectors.base import MAX_COUNT
from reputation.connectors.http import translate
from reputation.models import Mention, Reply
from reputation.pipeline import RunSummary, fetch_into
from reputation.store import Store
from reputation.validate import Field
from tests.conftest import NOW


def mention(native_id: str, **fields: Any) -> Mention:
    return Mention("x", native_id, "Acme Air", "Acme Air lost my bag", NOW - timedelta(hours=1),
                   **fields)  # fmt: skip


def test_state_is_a_copy_of_what_was_saved_and_none_is_empty() -> None:
    ctx = FetchContext(now=NOW, cursors={"Acme Air": '{"newest": 5, "seen": ["a"]}'})
    state = ctx.state("Acme Air")
    state["seen"].append("b")
    assert ctx.state("Acme Air") == {"newest": 5, "seen": ["a"]}
    assert ctx.state("Globex") == {}
    assert ctx.warnings == []


@pytest.mark.parametrize("saved", ["{not json", "[1]", '"text"', "[" * 100_000])
def test_an_unreadable_state_is_reported_once_and_read_as_empty(saved: str) -> None:
    ctx = FetchContext(now=NOW, cursors={"Acme Air": saved})
    assert ctx.state("Acme Air") == {} and ctx.state("Acme Air") == {}
    assert ctx.warnings == ["saved state for scope Acme Air is unreadable, starting over"]


def test_a_state_the_connector_refuses_is_unreadable_too() -> None:
    def check(state: dict[str, Any]) -> None:
        if not isinstance(state["newest"], int):
            raise ValueError("newest")

    ctx = FetchContext(now=NOW, cursors={"a": '{"newest": "soon"}', "b": '{"other": 1}'})
    assert (ctx.state("a", check), ctx.state("b", check)) == ({}, {})
    assert ctx.warnings == [
        "saved state for scope a is unreadable, starting over",
        "saved state for scope b is unreadable, starting over",
    ]


def test_states_are_encoded_as_sorted_json_and_decoded_back() -> None:
    state = {"since_id": "9", "backfill": None}
    assert encode_state(state) == '{"backfill": null, "since_id": "9"}'
    assert decode_state(encode_state(state)) == state
    assert (decode_state(None), decode_state(""), decode_state("[]")) == ({}, {}, None)


def test_add_files_mentions_and_replies_and_drops_none() -> None:
    batch = Batch(scope="Acme Air")
    reply = Reply("x", "2", "Acme Air", "1", "Sorry!", NOW)
    batch.add(mention("1"), "post 1")
    batch.add(reply)
    batch.add(None, "post 3")
    assert (batch.mentions, batch.replies) == ([mention("1")], [reply])
    assert batch.origins == {"x:1": "post 1"}
    with pytest.raises(TypeError):
        batch.add({"id": "4"})  # type: ignore[arg-type]


def test_a_bad_item_is_reported_where_it_came_from_and_the_rest_goes_on() -> None:
    batch = Batch()
    for where, problem in [("a.jsonl:1", None), ("a.jsonl:2", BadItem("likes is not a count")),
                           ("a.jsonl:3", RecursionError()), ("a.jsonl:4", None)]:  # fmt: skip
        with batch.item(where) as outcome:
            if problem is not None:
                raise problem
            batch.add(mention(where[-1]), where)
        assert outcome.failed is (problem is not None)
    assert [m.native_id for m in batch.mentions] == ["1", "4"]
    assert batch.problems == [
        "a.jsonl:2: likes is not a count",
        "a.jsonl:3: unreadable (RecursionError)",
    ]
    with batch.item("a.jsonl:5", report=False) as outcome:
        raise BadItem("reported on an earlier run")
    assert outcome.failed and len(batch.problems) == 2
    with pytest.raises(KeyboardInterrupt), batch.item("a.jsonl:6"):
        raise KeyboardInterrupt  # not an item's fault: it goes up


class Scripted:
    """A connector that yields the batches a test gives it."""

    type: ClassVar[str] = "scripted"
    OPTIONS: ClassVar[Mapping[str, Field]] = {}
    batches: ClassVar[list[Batch]] = []

    def __init__(
        self, name: str, options: Mapping[str, Any], brands: Sequence[Brand],
        env: Mapping[str, str],
    ):  # fmt: skip
        self.name = name

    def fetch(self, ctx: FetchContext) -> Iterator[Batch]:
        ctx.state("Acme Air")
        yield from Scripted.batches


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch, workspace: Callable) -> Callable[..., Any]:
    monkeypatch.setitem(CONNECTORS, "scripted", Scripted)
    config = load_config(workspace(connectors=[{"type": "scripted"}]))

    def run(*batches: Batch, minutes: float = 0) -> tuple[RunSummary, list[dict[str, Any]]]:
        Scripted.batches = list(batches)
        store = Store.open(config.database)
        summary = RunSummary()
        now = NOW + timedelta(minutes=minutes)
        fetch_into(store, config.connectors, config.brands, now, summary)
        cursors = store._rows("SELECT scope, value, updated_at FROM cursors")
        store.close()
        return summary, cursors

    return run


def test_the_pipeline_saves_a_changed_state_and_drops_batches_that_change_nothing(
    scripted: Callable,
) -> None:
    _, saved = scripted(Batch(scope="Acme Air", state={"newest": 1}))
    assert [(c["scope"], c["value"]) for c in saved] == [("Acme Air", '{"newest": 1}')]
    # The same state, no mentions, no reads: nothing is written (updated_at stays).
    summary, again = scripted(Batch(scope="Acme Air", state={"newest": 1}), Batch(), minutes=5)
    assert again == saved and summary.errors == []
    # A problem or a note is still reported, though there is nothing to store.
    summary, again = scripted(
        Batch(scope="Acme Air", state={"newest": 1}, problems=["f:3: bad"], notes=["cut"]),
        minutes=10,
    )
    assert again == saved
    assert (summary.errors, summary.warnings) == (["connector scripted: f:3: bad"],
                                                  ["connector scripted: cut"])  # fmt: skip
    summary, moved = scripted(Batch([mention("1")], scope="Acme Air"), minutes=15)
    assert (summary.new_mentions, moved) == (1, saved), "mentions without a state keep it"
    _, moved = scripted(Batch(scope="Acme Air", state={"newest": 2}), minutes=20)
    assert moved[0]["value"] == '{"newest": 2}'


def _chained(cause: BaseException) -> BaseException:
    """An exception a client library raised while handling `cause` (as Mastodon.py does)."""
    try:
        try:
            raise cause
        except BaseException:  # noqa: BLE001
            raise RuntimeError("client error") from None  # context kept, cause hidden
    except RuntimeError as exc:
        return exc


class _Wrapped(Exception):
    """prawcore's RequestException: the transport error as `original_exception`."""

    def __init__(self, original: BaseException):
        super().__init__("wrapped")
        self.original_exception = original


def _response(status: int, **headers: str) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers)
    return response


REFUSED = "api.test/x: cannot connect (ConnectionError)"


@pytest.mark.parametrize(
    ("exc", "response", "expected"),
    [
        (requests.ReadTimeout(), None, "api.test/x: no answer within 2s"),
        (_chained(requests.ConnectTimeout()), None, "api.test/x: no answer within 2s"),
        (_Wrapped(requests.ConnectionError()), None, REFUSED),
        (_chained(requests.ConnectionError()), None, REFUSED),
        (requests.JSONDecodeError("Expecting value", "<html>", 0), None,
         "api.test/x: malformed JSON in the response"),
        (RuntimeError("odd"), _response(503), "api.test/x: HTTP 503"),
        (RuntimeError("odd"), None, "api.test/x: malformed response (RuntimeError)"),
    ],
)  # fmt: skip
def test_one_wording_for_every_client_librarys_failures(
    exc: BaseException, response: requests.Response | None, expected: str
) -> None:
    error = translate(exc, "api.test/x", timeout=timedelta(seconds=2), now=NOW, response=response)
    assert (type(error), str(error)) == (SourceError, expected)


def test_a_429_is_rate_limited_until_the_time_the_source_gave() -> None:
    exc = RuntimeError("too many")
    exc.response = _response(429, **{"Retry-After": "120"})  # type: ignore[attr-defined]
    error = translate(exc, "api.test/x", timeout=timedelta(seconds=2), now=NOW)
    assert isinstance(error, RateLimited)
    assert (str(error), error.retry_at) == ("api.test/x: rate limited (HTTP 429)",
                                            NOW + timedelta(minutes=2))  # fmt: skip
    detailed = translate(RuntimeError(), "api.test/x", timeout=timedelta(seconds=2), now=NOW,
                         response=_response(422), detail="limit is too large")  # fmt: skip
    assert str(detailed) == "api.test/x: HTTP 422 (limit is too large)"


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"likes": -1}, "likes -1 is not a count"),
        ({"shares": MAX_COUNT + 1}, f"shares {MAX_COUNT + 1} is not a count"),
        ({"author_followers": 2**63}, "author_followers"),
        ({"replies": 2.5}, "replies '2.5' is not a whole number"),
        ({"created_at": datetime(9999, 1, 1, tzinfo=UTC)}, "is more than a day in the future"),
        ({"created_at": datetime(1, 1, 1, tzinfo=UTC)}, "0001-01-01T00:00:00Z is before 2006"),
        ({"created_at": datetime(2026, 1, 1)}, "created_at is not a time with a zone"),  # noqa: DTZ001
        ({"observed_at": NOW + timedelta(days=2)}, "observed_at"),
        ({"text": "x" * 100_001}, "text is longer than 100,000 characters"),
        ({"author": "a" * 2001}, "author is longer than 2,000 characters"),
        ({"native_id": " "}, "id is missing"),
    ],
)
def test_add_refuses_what_the_store_cannot_keep(fields: dict[str, Any], problem: str) -> None:
    batch = FetchContext(now=NOW).batch("Acme Air")
    with batch.item("post 1") as outcome:
        batch.add(replace(mention("1"), **fields), "post 1")
    assert outcome.failed and batch.mentions == []
    assert problem in batch.problems[0] and batch.problems[0].startswith("post 1: ")


def test_the_edges_of_the_bounds_are_kept() -> None:
    batch = FetchContext(now=NOW).batch()
    edges = {"likes": MAX_COUNT, "author_followers": 0, "created_at": NOW + timedelta(days=1),
             "observed_at": datetime(2006, 1, 1, tzinfo=UTC)}  # fmt: skip
    batch.add(replace(mention("1"), **edges))
    assert len(batch.mentions) == 1


def test_the_pipeline_screens_items_a_connector_filed_without_add() -> None:
    batch = Batch([mention("1"), replace(mention("2"), likes=-5)], origins={"x:2": "f.jsonl:2"})
    batch.screen(NOW)
    assert [m.native_id for m in batch.mentions] == ["1"]
    assert batch.problems == ["f.jsonl:2: likes -5 is not a count from 0 to 9,007,199,254,740,991"]
