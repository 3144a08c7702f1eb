"""A test hook, inert unless the environment variable REPUTATION_CRASH_AT is set: the process
kills itself with SIGKILL at a named point of a run, as `kill -9` would, so the fault suite
(tests/test_faults.py) can stop a real run at each stage deterministically (decision 140).
Only the environment is read: no config key, record or message can reach it."""

from __future__ import annotations

import os
import signal
from collections import Counter

ENV = "REPUTATION_CRASH_AT"
# ingest: a batch committed; ingest-record: one record written (or staged) inside a batch's
# transaction, not yet committed; scoring: a chunk of scores committed; rules: a chunk of mentions
# evaluated and its alerts committed; delivery: Slack answered a post, not yet recorded.
POINTS = frozenset({"ingest", "ingest-record", "scoring", "rules", "post", "delivery"})
_reached: Counter[str] = Counter()


def crash_point(point: str) -> None:
    """SIGKILL this process the n-th time it reaches `point`, when REPUTATION_CRASH_AT is
    `point` or `point:n` (n defaults to 1); otherwise return at once."""
    assert point in POINTS, point
    wanted = os.environ.get(ENV)
    if not wanted:
        return
    name, _, nth = wanted.partition(":")
    if name != point:
        return
    _reached[point] += 1
    if _reached[point] == (int(nth) if nth.isdigit() else 1):
        os.kill(os.getpid(), signal.SIGKILL)
