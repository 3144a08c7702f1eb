"""The day in Slack (issue 14 item 2): `reputation digest` posts the day's message once, its
chart through Slack's external upload (the real slack-sdk calls against the fake), and
writes a summary CSV beside the digest."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from reputation.cli import main
from reputation.config import load_config
from reputation.pipeline import run_once
from tests.conftest import NOW
from tests.fakes import TOKEN, FakeSlack

DAY = "2026-11-22"
PNG = b"\x89PNG\r\n\x1a\n"


def day_posts(slack: FakeSlack) -> list[dict[str, Any]]:
    return [m for m in slack.messages
            if (m.get("metadata") or {}).get("event_payload", {}).get("day") == DAY]  # fmt: skip


@pytest.fixture
def day_config(
    workspace: Callable, make_record: Callable, slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:  # fmt: skip
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    records = [
        make_record("Acme Air was lovely, great crew", minutes=0),
        make_record(
            "Acme Air lost my bag, terrible and awful service",
            minutes=30,
            id="9001",
            author="angry",
            author_followers=80_000,
            url="https://x.com/angry/status/9001",
        ),
        make_record(
            "Acme Air <!channel> *worst* airline, awful",
            minutes=60,
            id="9002",
            url="https://evil.example/phish",
        ),  # not x's link for this post: no link
        make_record("Acme Air delayed again, awful", minutes=90, source="reddit", url=None),
        make_record("Acme Air fine yesterday", minutes=-10 * 60),  # 2026-11-21
        make_record("Acme Air awful last week", minutes=-3 * 24 * 60),  # 2026-11-19
    ]
    sink = {"type": "slack", "channel": "#rep", "base_url": slack.base_url}
    path = workspace(records, sinks=[sink])  # writes the records, then again with a name
    mentions = str(path.parent / "mentions.jsonl")
    connector = {"type": "file", "name": "+feed", "path": mentions}  # a name a sheet would run
    path = workspace(records, sinks=[sink], connectors=[connector])
    run_once(load_config(path), now=NOW)
    return path


def test_the_day_reaches_slack_once_with_its_chart(
    day_config: Path, slack: FakeSlack, tmp_path: Path
) -> None:
    assert main(["digest", "--date", DAY, "--config", str(day_config)]) == 0
    [post] = day_posts(slack)
    assert post["channel_id"] == "C0REP"
    body = "\n".join(b["text"]["text"] for b in post["blocks"] if b["type"] == "section")
    assert "*4 mention(s)* (+3) vs 2026-11-21" in body
    assert "negative 3 (+3)" in body
    assert "<https://x.com/angry/status/9001|open>" in body
    assert "evil.example" not in body  # a link only where it is the post's own
    assert slack.pings == []  # `<!channel>` arrived as text
    assert "&lt;!channel&gt;" in body and "*worst*" not in body
    assert "*Incidents:*" in body and "*Coverage:*" in body and "+feed: 6 new" in body
    # issue 13's numbers a social-care lead reports, per brand and category
    answering = body.split("*Answering*", 1)[1].split("*Coverage:*", 1)[0]
    assert "Acme Air / " in answering and "responded 0%" in answering, answering
    assert "to acknowledge -" in answering and "SLA breach(es)" in answering

    methods = [c["method"] for c in slack.calls if c["method"].startswith(("files.", "upload"))]
    assert methods == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    [shared] = slack.files
    assert (shared["channel_id"], shared["thread_ts"]) == ("C0REP", post["ts"])
    assert shared["filename"] == f"mentions-{DAY}.png"
    assert shared["data"].startswith(PNG)
    with Image.open(io.BytesIO(shared["data"])) as image:
        assert image.format == "PNG" and image.size == (900, 500)

    calls = len(slack.calls)
    assert main(["digest", "--date", DAY, "--config", str(day_config)]) == 0  # a rerun
    assert len(day_posts(slack)) == 1 and len(slack.files) == 1
    assert not [c for c in slack.calls[calls:] if c["method"] != "conversations.list"]


def test_the_summary_csv_is_beside_the_digest_and_safe(day_config: Path, tmp_path: Path) -> None:
    assert main(["digest", "--date", DAY, "--config", str(day_config)]) == 0
    path = tmp_path / "digests" / f"{DAY}.summary.csv"
    assert (tmp_path / "digests" / f"{DAY}.csv").exists()
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    found = {(r["section"], r["name"]): r for r in rows}
    assert found["total", "mentions"]["count"] == "4"
    assert found["total", "mentions"]["day_before"] == "1"
    assert found["sentiment", "negative"]["change"] == "3"
    assert found["source", "reddit"]["count"] == "1"
    assert found["coverage", "'+feed: runs ok"]["count"] == "1"  # shown, never run
    for row in rows:
        assert not any(v.startswith(("=", "+", "@")) for v in row.values())


def test_an_upload_whose_outcome_is_unknown_is_not_made_again(
    day_config: Path, slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    slack.fail("error_after", method="files.completeUploadExternal")  # shared, then a 500
    assert main(["digest", "--date", DAY, "--config", str(day_config)]) == 0
    assert "the day's message" in capsys.readouterr().out
    assert len(slack.files) == 1
    assert main(["digest", "--date", DAY, "--config", str(day_config)]) == 0
    assert "may have been shared already" in capsys.readouterr().err
    assert len(slack.files) == 1 and len(day_posts(slack)) == 1
    assert len(slack.calls_of("files.completeUploadExternal")) == 1


def test_an_upload_slack_says_may_be_half_done_is_not_made_again(
    day_config: Path, slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    # HTTP 200 with internal_error: Slack's word that some of the call may have been done.
    slack.answer(200, error="internal_error", method="files.completeUploadExternal")
    assert main(["digest", "--date", DAY, "--config", str(day_config)]) == 0
    assert "internal_error" in capsys.readouterr().out
    assert main(["digest", "--date", DAY, "--config", str(day_config)]) == 0
    assert "may have been shared already" in capsys.readouterr().err
    assert len(slack.calls_of("files.completeUploadExternal")) == 1


def test_digest_channel_and_no_chart_without_matplotlib(
    day_config: Path, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    import yaml

    config = yaml.safe_load(day_config.read_text())
    config["digest"]["channel"] = "#rep-warn"
    day_config.write_text(yaml.safe_dump(config))
    monkeypatch.setattr("reputation.daily.chart_png", lambda facts: None)  # the extra missing
    assert main(["digest", "--date", DAY, "--config", str(day_config)]) == 0
    [post] = day_posts(slack)
    assert post["channel_id"] == "C0WARN"
    assert slack.files == [] and not slack.calls_of("files.getUploadURLExternal")
    assert "install the chart extra" in capsys.readouterr().err
