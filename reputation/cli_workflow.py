"""Command line of the answering workflow: `reputation incidents [ACTION ID]` and
`reputation labels export OUT.csv`. Parsers only here; each command imports the store
when it runs (the start-up promise of reputation/cli.py)."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from reputation.models import WORKFLOW_STATES
from reputation.validate import parse_duration

ACTIONS = ("list", "acknowledge", "assign", "respond", "snooze", "dismiss", "close", "reopen")
EXIT_OK, EXIT_FATAL, EXIT_USAGE = 0, 1, 2


def add_commands(
    commands: Any, common: argparse.ArgumentParser, load: Callable[[Path], Any]
) -> None:
    """Add `incidents` and `labels` to the command line (`load` reads the config)."""
    incidents = commands.add_parser(
        "incidents", parents=[common], help="list incidents, or move one through the workflow"
    )
    incidents.add_argument("action", nargs="?", choices=ACTIONS, default="list")
    incidents.add_argument("incident_id", nargs="?", type=int, metavar="ID")
    incidents.add_argument("--json", action="store_true", help="print one JSON object")
    incidents.add_argument("--state", choices=WORKFLOW_STATES, help="only incidents in it")
    incidents.add_argument("--since", type=since, metavar="DURATION|DATE",
                           help="only incidents opened since (7d, 2026-11-20)")  # fmt: skip
    incidents.add_argument("--limit", type=int, default=100)
    incidents.add_argument("--as", dest="actor", default=None, metavar="NAME",
                           help="who acts (default: your login name)")  # fmt: skip
    incidents.add_argument("--to", dest="assignee", metavar="NAME", help="assign: to whom")
    incidents.add_argument("--for", dest="snooze", metavar="1h|4h|tomorrow|DURATION",
                           help="snooze: how long")  # fmt: skip
    incidents.set_defaults(handler=lambda args, path: cmd_incidents(args, load(path)))
    labels = commands.add_parser("labels", parents=[common], help="labels from clicks")
    sub = labels.add_subparsers(dest="labels_command", required=True)
    export = sub.add_parser("export", parents=[common], help="write them as a labeled CSV")
    export.add_argument("out", type=Path, metavar="OUT.csv")
    export.set_defaults(handler=lambda args, path: cmd_labels_export(args, load(path)))


def since_value(text: str) -> timedelta | datetime:
    """A --since value: a duration back from now, or a UTC date or time."""
    from reputation.timeutil import parse_time

    try:
        return parse_duration(text)
    except ValueError:
        pass
    try:
        return parse_time(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a duration (7d, 12h) nor a date or time (2026-11-20)"
        ) from None


def since(text: str) -> datetime:
    """A --since value as the moment it names: a duration is counted back from now."""
    from reputation.timeutil import utcnow

    value = since_value(text)
    return utcnow() - value if isinstance(value, timedelta) else value


def cmd_incidents(args: argparse.Namespace, config: Any) -> int:
    """List incidents, or apply one action to one (source: command)."""
    from reputation.store import Store

    store = Store.open(config.database)
    try:
        if args.action == "list":
            return _list(store, args)
        if args.incident_id is None:
            print(f"reputation: incidents {args.action} needs an incident ID", file=sys.stderr)
            return EXIT_USAGE
        return _act(store, args, config)
    finally:
        store.close()


def _list(store: Any, args: argparse.Namespace) -> int:
    from reputation.text import terminal_safe

    rows = store.ledger.incident_listing(args.state, args.since, args.limit)
    if args.json:
        print(json.dumps({"incidents": rows}))
        return EXIT_OK
    for row in rows:
        acked, answered = row["acknowledged_at"] or "-", row["first_response_at"] or "-"
        who = (row["assignee"] or "-")[:16]
        line = (f"#{row['id']:<5} {row['state']:<12} {row['severity']:<8} {who:<16}"
                f" opened {row['opened_at'][:16]}  ack {acked[:16]:<16}"
                f"  answered {answered[:16]:<16}  {row['headline']}")  # fmt: skip
        print(terminal_safe(line))
    if not rows:
        print("no incidents")
    return EXIT_OK


def _act(store: Any, args: argparse.Namespace, config: Any) -> int:
    from reputation.timeutil import utcnow
    from reputation.workflow import Actor, act, describe_state, snooze_until

    ledger = store.ledger
    if not ledger.has_incident(args.incident_id):
        print(f"reputation: no incident #{args.incident_id}", file=sys.stderr)
        return EXIT_FATAL
    name = args.actor or getpass.getuser() or "command line"
    actor = Actor(name, name, "command")
    now = utcnow()
    kwargs: dict[str, Any] = {}
    try:
        if args.action == "assign":
            who = args.assignee or name
            kwargs["assignee"] = (who, who)
        elif args.action == "snooze":
            choice = args.snooze or "1h"
            named = choice in ("1h", "4h", "tomorrow")
            kwargs["until"] = (snooze_until(choice, now, config.sla) if named
                               else now + parse_duration(choice))  # fmt: skip
    except ValueError as exc:
        print(f"reputation: {exc}", file=sys.stderr)
        return EXIT_USAGE
    outcome = act(ledger, args.incident_id, args.action, actor, now, **kwargs)
    state = describe_state(outcome.current["state"])
    if not outcome.won:
        by = outcome.by
        who = f" (last by {by['actor_name']} at {by['at'][:16]}, {by['source']})" if by else ""
        print(f"reputation: nothing changed: incident #{args.incident_id} is {state}{who}",
              file=sys.stderr)  # fmt: skip
        return EXIT_FATAL
    print(f"incident #{args.incident_id} is now {state}; Slack shows it on the next run")
    return EXIT_OK


def cmd_labels_export(args: argparse.Namespace, config: Any) -> int:
    """Write the labels people gave with their clicks, for `reputation train`."""
    from reputation.report import export_labels
    from reputation.store import Store

    store = Store.open(config.database)
    try:
        count = export_labels(store, args.out)
    finally:
        store.close()
    print(f"wrote {args.out} ({count} labeled mention(s))")
    print(f"train on it: reputation train {args.out} --text-column text --label-column label"
          " --positive relevant --out models/team.joblib")  # fmt: skip
    return EXIT_OK
