"""One contract over every connector: UTC-aware mentions with ids, incremental cursors, and
429 / 500 / timeout / malformed payloads reported without moving the cursor."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from werkzeug import Response

from reputation.config import Config, load_config
from reputation.connectors import CONNECTORS, FetchContext
from reputation.pipeline import RunSummary, fetch_into, run_once
from reputation.store import Store
from tests.conftest import NOW, REPO
from tests.harness import harness

TYPES = sorted(CONNECTORS)
HTTP_TYPES = [kind for kind in TYPES if harness(kind).http]


def test_every_connector_class_is_registered_under_its_type_with_a_harness() -> None:
    # What each connector test's `test_registered` used to check, for every module at once:
    # a connector class defined anywhere in connectors/ is in CONNECTORS under its own type,
    # which is its module's name, and the contract below runs it through a harness.
    defined = set()
    for path in sorted((REPO / "connectors").glob("*.py")):
        module = importlib.import_module(f"reputation.connectors.{path.stem}")
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and value.__module__ == module.__name__
                and isinstance(getattr(value, "type", None), str)
                and callable(getattr(value, "fetch", None))
            ):
                defined.add(value)
    assert defined == set(CONNECTORS.values())
    for kind, cls in CONNECTORS.items():
        assert (cls.type, cls.__module__) == (kind, f"reputation.connectors.{kind}")
        assert harness(kind).type == kind
    harnesses = {p.stem for p in (REPO / "tests" / "harness").glob("*.py")} - {"__init__"}
    assert harnesses == set(CONNECTORS)


def configure(kind: str, base_url: str, workspace: Callable, tmp_path: Path) -> Config:
    h = harness(kind)
    entry = {**h.options(base_url, tmp_path), "name": f"{kind}-contract"}
    if h.http:
        entry["timeout"] = "1s"
    return load_config(workspace(connectors=[entry]))


def fetch(config: Config, env: dict[str, str], minutes: float = 0) -> tuple[RunSummary, Store]:
    store = Store.open(config.database)
    summary = RunSummary()
    now = NOW + timedelta(minutes=minutes)
    fetch_into(store, config.connectors, config.brands, now, summary, env)
    return summary, store


@pytest.mark.parametrize("kind", TYPES)
def test_mentions_are_utc_with_ids_and_a_second_run_adds_nothing(
    kind: str, httpserver: Any, workspace: Callable, tmp_path: Path
) -> None:
    harness(kind).serve(httpserver)
    config = configure(kind, httpserver.url_for("/"), workspace, tmp_path)
    plugin = config.connectors[0]
    env = harness(kind).env  # secrets come from the environment the connector is given
    connector = CONNECTORS[kind](plugin.name, plugin.options, config.brands, env)
    mentions = [m for b in connector.fetch(FetchContext(now=NOW)) for m in b.mentions]
    assert mentions
    for m in mentions:
        assert m.native_id and m.native_id.strip() == m.native_id
        assert m.created_at.utcoffset() == timedelta(0)
        assert m.brand == "Acme Air" and "fryer" not in m.text.lower()
    first, store = fetch(config, env)
    assert (first.errors, first.new_mentions > 0) == ([], True)
    assert store.cursors(plugin.name), "a cursor is saved with the data"
    second, store = fetch(config, env, minutes=10)
    assert (second.errors, second.new_mentions) == ([], 0)


@pytest.mark.parametrize("kind", HTTP_TYPES)
@pytest.mark.parametrize("fault", ["429", "500", "timeout", "malformed", "deep"])
def test_a_fault_is_reported_and_the_cursor_stays(
    kind: str, fault: str, httpserver: Any, blackhole: str, workspace: Callable,
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    harness(kind).serve(httpserver)
    config = configure(kind, httpserver.url_for("/"), workspace, tmp_path)
    name = config.connectors[0].name
    env = harness(kind).env
    _, store = fetch(config, env)
    cursors = store.cursors(name)
    count = store._rows("SELECT COUNT(*) AS n FROM mentions")[0]["n"]
    httpserver.clear()
    if fault == "timeout":  # the same connector name on another endpoint keeps its cursor
        config = configure(kind, blackhole, workspace, tmp_path)
    else:
        httpserver.expect_request(_ANY).respond_with_handler(_FAULTS[fault])
    summary = run_once(config, now=NOW + timedelta(hours=1), env=env)
    errors = [e for e in summary.errors if e.startswith(f"connector {name}: ")]
    assert len(errors) == 1, summary.errors
    if fault in ("malformed", "deep"):  # a payload nested too deep to parse is malformed too
        assert "malformed" in errors[0], errors[0]
    assert store.cursors(name) == cursors
    assert store._rows("SELECT COUNT(*) AS n FROM mentions")[0]["n"] == count
    if fault == "429":
        calls = len(httpserver.log)
        later = run_once(config, now=NOW + timedelta(hours=1, minutes=5), env=env)
        assert any("rate limited until" in w for w in later.warnings)
        assert len(httpserver.log) == calls, "a rate-limited source is not called again early"


_ANY = __import__("re").compile(".*")
_FAULTS: dict[str, Callable[[Any], Response]] = {
    "429": lambda request: Response(
        '{"errors": [{"message": "Too Many Requests"}]}', status=429,
        headers={"Retry-After": "600", "x-rate-limit-reset": "600"},
        content_type="application/json",
    ),
    "500": lambda request: Response("Internal Server Error", status=500),
    "malformed": lambda request: Response('{"data": [{"id": ', status=200,
                                          content_type="application/json"),
    "deep": lambda request: Response('{"data": ' + "[" * 100_000 + "]" * 100_000 + "}",
                                     status=200, content_type="application/json"),
}  # fmt: skip
