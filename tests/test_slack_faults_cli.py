"""The real command line, in subprocesses, against a Slack that takes a post and then fails
to say so (dropped connection, 500, slower than the timeout): at most one message per
incident once history can be read. Its figures join the fault suite's (tests/test_faults.py),
printed at the end with `-s`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any

from tests.fakes import TOKEN, FakeSlack

FAULTS = ("drop", "error_after", "slow")


def test_each_fault_after_a_processed_post_leaves_one_message_per_incident(
    workspace: Callable, make_record: Callable, slack: FakeSlack, fault_figures: dict[str, Any]
) -> None:
    records = [
        make_record(f"Acme Air lost my bag and nobody answers, terrible #{i}", minutes=i * 300,
                    author=f"big{i}", author_followers=50_000)
        for i in range(len(FAULTS))
    ]  # fmt: skip
    sink = {"type": "slack", "channel": "#rep", "base_url": slack.base_url, "timeout": "2s"}
    path = workspace(records, sinks=[sink])
    for kind in FAULTS:  # one per post, in order: each incident's first post meets one
        slack.fail(kind, delay=2.5)
    env = {**os.environ, "SLACK_BOT_TOKEN": TOKEN, "NO_PROXY": "127.0.0.1,localhost"}
    runs = []
    for _ in range(len(FAULTS) + 1):
        done = subprocess.run(
            [sys.executable, "-m", "reputation", "run", "--json", "--config", str(path)],
            capture_output=True, text=True, env=env, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        runs.append(json.loads(done.stdout))
    per_incident = Counter(m["metadata"]["event_payload"]["incident"] for m in slack.messages)
    duplicates = sum(n - 1 for n in per_incident.values())
    reads = len(slack.calls_of("conversations.history"))
    print(
        f"\nslack faults via the CLI: {len(FAULTS)} incidents, one fault each"
        f" ({', '.join(FAULTS)}): {slack.attempts} posts, {reads} history reads,"
        f" messages per incident {dict(per_incident)}, duplicates {duplicates}"
    )
    fault_figures[f"Slack takes a post, then {', '.join(FAULTS)} (one incident each)"] = {
        "incidents": len(FAULTS), "runs": len(runs), "posts attempted": slack.attempts,
        "history reads": reads, "messages": len(slack.messages), "duplicates": duplicates,
        "incidents without a message": len(FAULTS) - len(per_incident),
    }  # fmt: skip
    assert [c["outcome"] for c in slack.calls_of("chat.postMessage")] == [
        f"ok, then {kind}" for kind in FAULTS
    ]
    assert dict(per_incident) == {1: 1, 2: 1, 3: 1} and duplicates == 0
    assert [(r["sent"], r["pending"]) for r in runs] == [(0, 3), (1, 2), (1, 1), (1, 0)]
    assert all("Slack may have posted it" in r["errors"][0] for r in runs[:3])
    assert runs[3]["errors"] == [] and runs[3]["warnings"] == []
