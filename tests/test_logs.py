"""Logs never show a credential: URLs' passwords and secret query parameters are redacted in
every line the command line writes, libraries' debug lines and tracebacks included."""

from __future__ import annotations

import logging
import os
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
