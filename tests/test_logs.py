"""Logs never show a credential: URLs' passwords and secret query parameters are redacted in
every line the command line writes, libraries' debug lines and tracebacks included."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from reputation.logs import RedactFilter, configure, redact

SECRET = "s3cr3t-Pa55"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            f"proxy: http://user:{SECRET}@proxy.example:3128",
            "proxy: http://user:***@proxy.example:3128",
        ),
        (f"{{'https': 'http://u:{SECRET}@h:1'}}", "{'https': 'http://u:***@h:1'}"),
        (f"https://{SECRET}@hooks.example/x", "https://***@hooks.example/x"),
        (f"http://user:p@{SECRET}@host/path", "http://user:***@host/path"),  # unencoded @
        (f"GET https://h/feed?x=1&token={SECRET}&y=2", "GET https://h/feed?x=1&token=***&y=2"),
        (f"https://h/a?api_key={SECRET}", "https://h/a?api_key=***"),
        ("https://news.example/story?id=5 by ann@example.com", None),  # nothing secret
    ],
)
def test_redact(text: str, shown: str | None) -> None:
    assert redact(text) == (shown or text)
    assert SECRET not in redact(text)


def test_the_filter_redacts_arguments_merged_into_the_message() -> None:
    record = logging.LogRecord(
        "urllib3", logging.DEBUG, __file__, 1, "proxy %s", (f"http://a:{SECRET}@h",), None
    )
    assert RedactFilter().filter(record)
    assert record.getMessage() == "proxy http://a:***@h"


def test_a_traceback_is_redacted_too(capsys: pytest.CaptureFixture[str]) -> None:
    configure(verbose=True)
    try:
        raise ConnectionError(f"cannot reach http://user:{SECRET}@proxy.example")
    except ConnectionError:
        logging.getLogger("requests").exception("request failed")
    err = capsys.readouterr().err
    assert "Traceback" in err and "http://user:***@proxy.example" in err
    assert SECRET not in err
    configure()  # back to warnings only


@pytest.mark.parametrize("where", ["before", "after"])
def test_verbose_runs_never_print_the_proxy_password(
    workspace: Callable, tmp_path: Path, where: str
) -> None:
    # slack-sdk logs the proxy URL it read from the environment, password and all, at debug.
    path = workspace([], sinks=[{"type": "slack", "channel": "#c"}])
    argv = ["-v", "run"] if where == "before" else ["run", "-v"]
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "HTTPS_PROXY": f"http://ops:{SECRET}@127.0.0.1:9",
    }
    done = subprocess.run(
        [sys.executable, "-m", "reputation", *argv, "--config", str(path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "DEBUG" in done.stderr  # -v took effect, wherever it was given
    assert "http://ops:***@127.0.0.1:9" in done.stderr  # the line is there, redacted
    assert SECRET not in done.stderr and SECRET not in done.stdout


def test_json_logs_are_one_redacted_object_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    configure(json_format=True)
    log = logging.getLogger("reputation")
    summary = {"fetched": 3, "errors": [f"https://h/x?token={SECRET}"]}
    log.info("run: fetched %d via http://ops:%s@proxy.example:3128", 3, SECRET,
             extra={"summary": summary})  # fmt: skip
    try:
        raise ConnectionError(f"cannot reach http://user:{SECRET}@proxy.example\nsecond line")
    except ConnectionError:
        log.exception("request failed")
    logging.getLogger("reputation").debug("not at INFO")
    configure()
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 and SECRET not in "".join(lines)
    first, second = (json.loads(line) for line in lines)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["time"])
    assert (first["level"], first["logger"]) == ("INFO", "reputation")
    assert first["message"] == "run: fetched 3 via http://ops:***@proxy.example:3128"
    assert first["summary"] == {"fetched": 3, "errors": ["https://h/x?token=***"]}
    assert second["level"] == "ERROR" and "Traceback" in second["exception"]
    assert "http://user:***@proxy.example" in second["exception"]


def test_text_logs_carry_a_utc_timestamp_and_level(capsys: pytest.CaptureFixture[str]) -> None:
    configure()
    logging.getLogger("reputation").warning("a source failed")
    logging.getLogger("reputation").info("routine, not shown by one-shot commands")
    err = capsys.readouterr().err
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
    assert re.fullmatch(stamp + r" WARNING reputation: a source failed\n", err)


@pytest.mark.parametrize("where", ["before", "after"])
def test_a_run_with_json_logs_writes_its_summary_line(
    workspace: Callable, make_record: Callable, tmp_path: Path, where: str
) -> None:
    path = workspace([make_record("Acme Air was fine")])
    option = ["--log-format", "json"]
    argv = [*option, "run"] if where == "before" else ["run", *option]
    done = subprocess.run(
        [sys.executable, "-m", "reputation", *argv, "--config", str(path)],
        capture_output=True, text=True, cwd=tmp_path, timeout=120, check=False,
        env={**os.environ, "NO_PROXY": "127.0.0.1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    entries = [json.loads(line) for line in done.stderr.splitlines()]  # every line is JSON
    [summary] = [e for e in entries if e["message"].startswith("run: fetched 1 mention(s)")]
    assert summary["level"] == "INFO" and summary["summary"]["fetched"] == 1
    assert "fetched 1 mention(s)" in done.stdout  # the terminal's summary is unchanged
