"""Muting: silences, quiet hours per route, inhibition; muted alerts are recorded, not sent."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from reputation.cli import main
from reputation.config import ConfigError, load_config
from reputation.muting import parse_matchers
from reputation.pipeline import run_once
from reputation.sinks import SlackSink
from reputation.store import Store
from reputation.timeutil import utcnow
from tests.conftest import NOW, write_jsonl
from tests.fakes import TOKEN, FakeSlack

ENV = {"SLACK_BOT_TOKEN": TOKEN}
NO_SLEEP = {"slack": lambda n, o, e: SlackSink(n, o, e, sleep=lambda s: None)}


def complaint(make_record: Callable, minutes: float, followers: int = 30_000, **extra) -> dict:
    return make_record(
        "Acme Air lost my bag and nobody answers, terrible",
        minutes=minutes,
        author_followers=followers,
        **extra,
    )


def statuses(config_path: Path) -> list[tuple[str, str, str | None]]:
    store = Store.open(load_config(config_path).database)
    try:
        rows = store._rows("SELECT rule, status, muted_reason FROM alerts ORDER BY event_at")
    finally:
        store.close()
    return [(r["rule"], r["status"], r["muted_reason"]) for r in rows]


def slack_config(workspace: Callable, slack: FakeSlack, **top: object) -> Path:
    return workspace(
        [], sinks=[{"type": "slack", "channel": "#rep", "base_url": slack.base_url}], **top
    )


def test_a_silence_mutes_matching_alerts_until_it_expires(
    workspace: Callable,
    make_record: Callable,
    slack: FakeSlack,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = slack_config(workspace, slack)
    args = ["--config", str(path)]
    assert (
        main(
            [
                "silence",
                "add",
                "brand=Acme Air",
                "rule=viral-complaint",
                "--for",
                "4h",
                "--comment",
                "PR aware",
                *args,
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.startswith("silence #1 until ")
    write_jsonl(tmp_path / "mentions.jsonl", [complaint(make_record, 0)])
    run_once(load_config(path), now=utcnow(), env=ENV, sink_factories=NO_SLEEP)
    assert statuses(path) == [("viral-complaint", "muted", "silenced by #1: PR aware")]
    assert slack.messages == []
    assert main(["silence", "list", *args]) == 0
    assert 'brand="Acme Air" rule="viral-complaint"  # PR aware' in capsys.readouterr().out
    assert main(["silence", "expire", "1", *args]) == 0
    assert main(["silence", "list", *args]) == 0
    assert "no active silences" in capsys.readouterr().out
    write_jsonl(tmp_path / "mentions.jsonl", [complaint(make_record, 300)], mode="a")
    run_once(load_config(path), now=utcnow(), env=ENV, sink_factories=NO_SLEEP)
    assert [s[1] for s in statuses(path)] == ["muted", "sent"]
    assert len(slack.top_level) == 1
    assert main(["silence", "expire", "1", *args]) == 1  # already ended


def test_a_silence_only_mutes_what_it_matches(
    workspace: Callable, make_record: Callable, slack: FakeSlack, tmp_path: Path
) -> None:
    path = slack_config(workspace, slack)
    assert (
        main(["silence", "add", "rule=complaint-burst", "--for", "1h", "--config", str(path)]) == 0
    )
    write_jsonl(tmp_path / "mentions.jsonl", [complaint(make_record, 0)])
    run_once(load_config(path), now=utcnow(), env=ENV, sink_factories=NO_SLEEP)
    assert statuses(path) == [("viral-complaint", "sent", None)]


@pytest.mark.parametrize(
    ("pairs", "problem"),
    [(["brand"], "expected key=value"), (["colour=red"], "key one of"), ([], "at least one")],
)
def test_silence_matchers_are_checked(pairs: list[str], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_matchers(pairs)


def test_quiet_hours_mute_a_route_but_critical_passes(
    workspace: Callable, make_record: Callable, slack: FakeSlack, tmp_path: Path
) -> None:
    # NOW is 12:00 UTC, inside the quiet hours.
    path = slack_config(
        workspace,
        slack,
        routes={
            "warning": "#rep-warn",
            "critical": "#rep-crit",
            "quiet_hours": {"#rep-warn": {"start": "10:00", "end": "14:00", "timezone": "UTC"}},
        },
    )
    write_jsonl(
        tmp_path / "mentions.jsonl",
        [
            complaint(make_record, 0),
            complaint(make_record, 300, followers=3_000_000),
        ],
    )
    run_once(load_config(path), now=NOW, env=ENV, sink_factories=NO_SLEEP)
    assert statuses(path) == [
        ("viral-complaint", "muted", "quiet hours on #rep-warn"),
        ("viral-complaint", "sent", None),
    ]
    assert [m["channel"] for m in slack.top_level] == ["#rep-crit"]


def test_quiet_hours_run_past_midnight_in_their_time_zone(workspace: Callable) -> None:
    config = load_config(
        workspace(
            [],
            routes={
                "quiet_hours": {
                    "#rep": {"start": "22:00", "end": "07:00", "timezone": "Europe/London"}
                }
            },
        )
    )
    quiet = config.policy.routes.quiet["#rep"]
    assert quiet.covers(NOW.replace(hour=23)) and quiet.covers(NOW.replace(hour=6))
    assert not quiet.covers(NOW.replace(hour=12))


def test_routes_config_errors_name_their_place(workspace: Callable) -> None:
    path = workspace(
        [],
        routes={
            "critical": "#c",
            "urgent": "#u",
            "quiet_hours": {"#c": {"start": "25:00", "end": "07:00", "timezone": "Mars/Base"}},
        },
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    errors = "\n".join(caught.value.errors)
    assert "routes.urgent: unknown key" in errors
    assert "routes.quiet_hours.#c.timezone: 'Mars/Base' is not a time zone" in errors


def test_an_open_critical_incident_inhibits_warnings_of_its_category(
    workspace: Callable, make_record: Callable, slack: FakeSlack, tmp_path: Path
) -> None:
    path = slack_config(workspace, slack)
    write_jsonl(tmp_path / "mentions.jsonl", [complaint(make_record, 0, followers=3_000_000)])
    run_once(load_config(path), now=NOW, env=ENV, sink_factories=NO_SLEEP)
    write_jsonl(tmp_path / "mentions.jsonl", [complaint(make_record, 30)], mode="a")
    run_once(load_config(path), now=NOW + timedelta(minutes=10), env=ENV, sink_factories=NO_SLEEP)
    rules_statuses = statuses(path)
    assert rules_statuses[0][1] == "sent"
    assert rules_statuses[1][1] == "muted"
    assert str(rules_statuses[1][2]).startswith("inhibited by critical incident #")
    assert len(slack.top_level) == 1


def test_muted_alerts_appear_in_the_digest(
    workspace: Callable, make_record: Callable, slack: FakeSlack, tmp_path: Path
) -> None:
    path = slack_config(workspace, slack)
    main(["silence", "add", "brand=Acme Air", "--for", "4h", "--config", str(path)])
    write_jsonl(tmp_path / "mentions.jsonl", [complaint(make_record, 0)])
    run_once(load_config(path), now=utcnow(), env=ENV, sink_factories=NO_SLEEP)
    assert main(["digest", "--date", "2026-11-22", "--config", str(path)]) == 0
    with (tmp_path / "digests" / "2026-11-22.csv").open() as handle:
        [row] = list(csv.DictReader(handle))
    assert (row["alert_status"], row["alert_rules"]) == ("muted", "viral-complaint")


def test_a_silence_added_while_slack_was_down_mutes_what_was_waiting(
    workspace: Callable, make_record: Callable, slack: FakeSlack, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    path = slack_config(workspace, slack)
    write_jsonl(
        tmp_path / "mentions.jsonl",
        [complaint(make_record, 0), complaint(make_record, 300, followers=3_000_000)],
    )
    down = {"SLACK_BOT_TOKEN": "xoxb-revoked"}  # Slack refuses everything: all waits
    first = run_once(load_config(path), now=utcnow(), env=down, sink_factories=NO_SLEEP)
    assert (first.alerts, first.pending, slack.messages) == (2, 2, [])
    # The operator mutes the flood while it waits; the brand written in another case.
    args = ["silence", "add", 'brand="ACME AIR"', "severity=critical", "--for", "4h"]
    assert main([*args, "--config", str(path)]) == 0
    capsys.readouterr()
    second = run_once(load_config(path), now=utcnow(), env=ENV, sink_factories=NO_SLEEP)
    assert (second.sent, second.pending, second.errors) == (1, 0, [])
    assert statuses(path) == [
        ("viral-complaint", "sent", None),
        ("viral-complaint", "muted", "silenced by #1"),
    ]
    assert len(slack.messages) == 1 and "WARNING" in slack.messages[0]["text"]
    store = Store.open(load_config(path).database)
    try:  # nothing is owed for the muted one, on any later run
        assert store._rows("SELECT sink, status FROM deliveries ORDER BY status") == [
            {"sink": "slack", "status": "sent"}
        ]
    finally:
        store.close()
    assert run_once(load_config(path), now=utcnow(), env=ENV, sink_factories=NO_SLEEP).sent == 0


def test_brand_matching_ignores_case(
    workspace: Callable, make_record: Callable, slack: FakeSlack, tmp_path: Path
) -> None:
    path = slack_config(workspace, slack)
    assert main(["silence", "add", "brand=acme air", "--for", "1h", "--config", str(path)]) == 0
    write_jsonl(tmp_path / "mentions.jsonl", [complaint(make_record, 0)])
    run_once(load_config(path), now=utcnow(), env=ENV, sink_factories=NO_SLEEP)
    assert statuses(path) == [("viral-complaint", "muted", "silenced by #1")]
    assert slack.messages == []


@pytest.mark.parametrize(
    ("pair", "named"),
    [
        ("rule=viral-complaints", "rule='viral-complaints' can never match: no such rule"),
        ("rule=source-flatline", "rule='source-flatline' can never match"),  # disabled
        ("severity=urgent", "severity='urgent' can never match: no such severity (known: info,"),
        ("category=weather", "category='weather' can never match: no such category (known: leg"),
        ("route=#nowhere", "route='#nowhere' can never match: no such route (known: #rep-crit"),
        ("brand=Globex", "brand='Globex' can never match: no such brand (known: Acme Air)"),
    ],
)
def test_silence_add_refuses_matchers_that_can_never_match(
    workspace: Callable, capsys: pytest.CaptureFixture[str], pair: str, named: str
) -> None:
    path = workspace([], routes={"critical": "#rep-crit"})
    assert main(["silence", "add", pair, "--for", "1h", "--config", str(path)]) == 2
    assert named in capsys.readouterr().err
    assert main(["silence", "list", "--all", "--config", str(path)]) == 0
    assert "no active silences" in capsys.readouterr().out


def test_silence_add_takes_every_known_value(
    workspace: Callable, capsys: pytest.CaptureFixture[str]
) -> None:
    path = workspace([], routes={"critical": "#rep-crit"})
    pairs = ["brand=acme air", "rule=complaint-burst", "severity=critical",
             "category=pipeline", "route=#rep-crit"]  # fmt: skip
    assert main(["silence", "add", *pairs, "--for", "1h", "--config", str(path)]) == 0
    assert capsys.readouterr().out.startswith("silence #1 until ")
