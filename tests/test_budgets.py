"""Read budgets per run and per month, and rate-limit backoff, enforced by the pipeline."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import timedelta
from typing import Any, ClassVar

import pytest

from reputation.brands import Brand
from reputation.config import load_config
from reputation.connectors import CONNECTORS, Batch, FetchContext, RateLimited
from reputation.connectors.base import BUDGET_OPTIONS
from reputation.models import Mention
from reputation.pipeline import RunSummary, fetch_into
from reputation.store import Store
from reputation.validate import Field
from tests.conftest import NOW


class Counter:
    """Yields pages of 100 billable reads until its budget would be exceeded."""

    type: ClassVar[str] = "counter"
    OPTIONS: ClassVar[Mapping[str, Field]] = {**BUDGET_OPTIONS, "fail": Field("bool")}
    seen: ClassVar[list[int | None]] = []

    def __init__(
        self, name: str, options: Mapping[str, Any], brands: Sequence[Brand],
        env: Mapping[str, str],
    ):  # fmt: skip
        self.name, self.options = name, options

    def fetch(self, ctx: FetchContext) -> Iterator[Batch]:
        Counter.seen.append(ctx.reads_allowed)
        if self.options.get("fail"):
            raise RateLimited("api.example/search: rate limited (HTTP 429)")
        spent = 0
        for page in range(10):
            if ctx.reads_allowed is not None and spent + 100 > ctx.reads_allowed:
                yield Batch([], notes=[f"read budget reached after {spent} reads"])
                return
            spent += 100
            mention = Mention("x", f"{ctx.now:%m%d%H%M}-{page}", "Acme Air", "Acme Air", NOW)
            yield Batch([mention], state={"page": page}, scope="Acme Air", reads=100)


@pytest.fixture
def counter(monkeypatch: pytest.MonkeyPatch, workspace: Callable) -> Callable[..., Any]:
    monkeypatch.setitem(CONNECTORS, "counter", Counter)
    Counter.seen.clear()

    def run(minutes: float = 0, **options: Any) -> RunSummary:
        config = load_config(workspace(connectors=[{"type": "counter", **options}]))
        store = Store.open(config.database)
        summary = RunSummary()
        fetch_into(
            store, config.connectors, config.brands, NOW + timedelta(minutes=minutes), summary
        )
        store.close()
        return summary

    return run


def test_per_run_budget_defaults_to_1000_and_is_reported(counter: Callable) -> None:
    summary = counter()
    assert Counter.seen == [1000]
    assert summary.reads == {"counter": 1000}
    summary = counter(max_reads_per_run=250)
    assert summary.reads == {"counter": 200}
    assert summary.warnings == ["connector counter: read budget reached after 200 reads"]


def test_monthly_cap_carries_across_runs_and_resets_next_month(counter: Callable) -> None:
    assert counter(max_reads_per_run=250, max_reads_per_month=300).reads == {"counter": 200}
    assert counter(60, max_reads_per_run=250, max_reads_per_month=300).reads == {"counter": 100}
    third = counter(120, max_reads_per_run=250, max_reads_per_month=300)
    assert third.reads == {"counter": 0}
    assert third.warnings == ["connector counter: monthly read budget spent; skipped"]
    assert Counter.seen == [250, 100]
    december = counter(60 * 24 * 9, max_reads_per_run=250, max_reads_per_month=300)
    assert december.reads == {"counter": 200}


def test_a_429_without_a_reset_time_backs_off_15_minutes(counter: Callable) -> None:
    first = counter(fail=True)
    assert first.errors == [
        "connector counter: api.example/search: rate limited (HTTP 429); "
        "next try after 2026-11-22 12:15 UTC"
    ]
    assert counter(10, fail=True).warnings == [
        "connector counter: rate limited until 2026-11-22 12:15 UTC; skipped this run"
    ]
    assert len(counter(16).errors) == 0
    assert Counter.seen == [1000, 1000]  # the skipped run never called the connector


def test_a_connector_checks_its_own_options_at_config_load(
    monkeypatch: pytest.MonkeyPatch, workspace: Callable
) -> None:
    from reputation.config import ConfigError
    from reputation.connectors.base import check_brand

    class OneBrand(Counter):
        type = "one-brand"
        OPTIONS: ClassVar[dict[str, Field]] = {**Counter.OPTIONS, "brand": Field("str")}

        @classmethod
        def check_options(cls, values, path, check, brands):
            check_brand(values, path, check, brands)

    monkeypatch.setitem(CONNECTORS, "one-brand", OneBrand)
    two = [{"name": "Acme Air", "terms": ["acme air"]}, {"name": "Bolt Bus", "terms": ["bolt"]}]
    path = workspace(
        brands=two,
        connectors=[{"type": "one-brand"}, {"type": "one-brand", "name": "b", "brand": "Nope"}],
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.errors == [
        "connectors[0].brand: is required when more than one brand is configured",
        "connectors[1].brand: 'Nope' is not a configured brand",
    ]
