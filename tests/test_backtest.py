"""`reputation rules test`: replay rules over stored mentions without sending anything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reputation.cli import main
from reputation.config import load_config
from reputation.store import Store


@pytest.fixture
def ran(demo: Path) -> Path:
    """The demo config after one run: its store holds the demo mentions and alerts."""
    assert main(["run", "--config", str(demo)]) == 0
    return demo


def ledger(path: Path) -> list[dict]:
    store = Store.open(load_config(path).database)
    try:
        return store._rows("SELECT fingerprint, status, incident_id FROM alerts ORDER BY 1")
    finally:
        store.close()


def test_rules_test_reports_per_rule_counts_and_sends_nothing(
    ran: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = ledger(ran)
    capsys.readouterr()
    # A fixed start: the demo data is dated, and a duration would age out of it.
    assert main(["rules", "test", "--since", "2026-11-01", "--json", "--config", str(ran)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"viral-complaint", "complaint-burst"}
    for result in report.values():
        assert set(result) == {"alerts", "incidents", "per_day", "examples"}
        assert sum(day["alerts"] for day in result["per_day"].values()) == result["alerts"]
        assert 1 <= result["incidents"] <= result["alerts"]
        assert 1 <= len(result["examples"]) <= 3
    # The replay finds what the live run alerted on, and touches nothing.
    assert report["viral-complaint"]["alerts"] + report["complaint-burst"]["alerts"] == len(before)
    assert ledger(ran) == before


def test_a_window_before_the_data_finds_nothing(
    ran: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["rules", "test", "--since", "1h", "--json", "--config", str(ran)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert all(r["alerts"] == 0 and r["per_day"] == {} for r in report.values())


def test_a_draft_rule_file_can_be_tried_before_switching_it_on(
    ran: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    draft = tmp_path / "draft.yaml"
    draft.write_text("name: any-praise\ntype: any\nwhere: {category: praise}\nrealert: 1m\n")
    capsys.readouterr()
    assert main(["rules", "test", str(draft), "--since", "2026-11-01", "--config", str(ran)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("any-praise: ") and "alert(s) in" in out
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: b\ntype: any\nwhere: {nope: 1}\n")
    assert main(["rules", "test", str(broken), "--config", str(ran)]) == 2
    assert f"{broken}: where.nope: unknown field" in capsys.readouterr().err


def test_since_takes_a_duration_or_a_utc_time_and_refuses_the_future(
    ran: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    args = ["rules", "test", "--json", "--config", str(ran), "--since"]
    assert main([*args, "2026-11-20T00:00Z"]) == 0
    by_time = json.loads(capsys.readouterr().out)
    assert sum(r["alerts"] for r in by_time.values()) >= 1
    assert main([*args, "2999-01-01"]) == 2
    assert "--since 2999-01-01T00:00:00+00:00 is in the future" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main([*args, "last tuesday"])
    assert exited.value.code == 2
    assert "neither a duration" in capsys.readouterr().err
