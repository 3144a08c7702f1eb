"""Command line: `reputation init | run | serve | digest | check-config | alerts | ...`.

Each command imports what it uses when it runs, so `reputation --help` loads no more than
argparse, and no command loads the store (sqlite-utils, pandas) or scikit-learn unless it
needs them (tests/test_startup.py; bench/startup.py times it).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reputation import __version__
from reputation.cli_archive import add_commands as add_archive_commands
from reputation.cli_database import add_commands as add_database_commands
from reputation.cli_ops import add_commands as add_ops_commands
from reputation.cli_ops import log_the_day, print_the_day
from reputation.cli_workflow import add_commands as add_workflow_commands
from reputation.cli_workflow import since_value
from reputation.db import database_errors
from reputation.errors import ModelError, StoreError
from reputation.labels import LabelsError
from reputation.lock import LockBusy, RunLock
from reputation.validate import ConfigError, parse_duration

if TYPE_CHECKING:
    from reputation.config import Config
    from reputation.interactivity import Interactivity
    from reputation.pipeline import RunSummary
    from reputation.store import Store

EXIT_OK, EXIT_FATAL, EXIT_CONFIG, EXIT_BUSY, EXIT_PIPE = 0, 1, 2, 75, 141
log = logging.getLogger("reputation")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `reputation` console script; returns the exit status."""
    from reputation.logs import configure

    args = _parser().parse_args(argv)
    configure(
        args.verbose, service=args.handler is cmd_serve, json_format=args.log_format == "json"
    )
    try:
        status = _dispatch(args)
        sys.stdout.flush()  # here, so a reader gone away is met inside the handler below
    except BrokenPipeError:
        # `reputation alerts | head -1`: the reader has what it wanted. Stop quietly, as a
        # Unix tool killed by SIGPIPE does (128 + 13), and let nothing write there again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PIPE
    return status


def _dispatch(args: argparse.Namespace) -> int:
    """Run the command; what it raises by name becomes one line on stderr and an exit status."""
    from reputation.logs import redact

    path = _config_path(args.config)
    try:
        return args.handler(args, path)
    except ConfigError as exc:
        for line in exc.errors:
            print(line, file=sys.stderr)
        return EXIT_CONFIG
    except LockBusy as exc:
        print(f"reputation: {exc}; not starting a second run", file=sys.stderr)
        return EXIT_BUSY
    except (StoreError, LabelsError) as exc:
        print(f"reputation: {redact(str(exc))}", file=sys.stderr)
        return EXIT_FATAL
    except ModelError as exc:
        print(f"reputation: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except database_errors() as exc:  # met after the store opened: damaged, locked, disk full
        print(f"reputation: {database_problem(exc)}", file=sys.stderr)
        return EXIT_FATAL
    except BrokenPipeError:
        raise
    except OSError as exc:  # a folder or file the command must write: one line, no traceback
        print(f"reputation: {_os_problem(exc)}", file=sys.stderr)
        return EXIT_FATAL


def database_problem(exc: Exception) -> str:
    """What a database error met during a command means for the user, in one line."""
    text = str(exc)
    if "malformed" in text or "not a database" in text:
        return (
            f"the database is damaged ({text}); restore it from a backup, or move it aside "
            "to start afresh"
        )
    if "locked" in text or "busy" in text:
        return f"the database stayed busy ({text}): another process is writing; try again"
    if "readonly" in text or "unable to open" in text:
        return f"the database cannot be written ({text}); check its folder's permissions"
    return f"the database cannot be used ({text})"


def _os_problem(exc: OSError) -> str:
    if exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror.lower()}"
    return str(exc)


def _config_path(given: str | None) -> Path:
    """`--config`, else `$REPUTATION_CONFIG`, else `./config.yaml` (config.resolve_config_path)."""
    from reputation.config import resolve_config_path

    return resolve_config_path(given)


def load_config(path: Path, *, inputs_must_exist: bool = False) -> Config:
    """The validated config at `path` (config.load_config, imported when a command needs it)."""
    from reputation.config import load_config as load

    return load(path, inputs_must_exist=inputs_must_exist)


def _common(default: object) -> argparse.ArgumentParser:
    """`--config` and `-v` with `default` when absent."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="PATH",
        default=default,
        help="config file (default: $REPUTATION_CONFIG, then ./config.yaml)",
    )
    common.add_argument(
        "-v", "--verbose", action="store_true", default=default, help="log debug detail"
    )
    common.add_argument(
        "--log-format",
        choices=("text", "json"),
        default=default,
        help="stderr log lines: text (default) or one JSON object per line",
    )
    return common


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reputation", parents=[_common(None)], description="Social-media reputation monitor."
    )
    parser.set_defaults(verbose=False, log_format="text")
    # The subcommands' copies leave a value given before the subcommand alone when they are
    # not given themselves: with a default of their own, `reputation --config prod.yaml run`
    # would run ./config.yaml (argparse copies a subparser's defaults over the parent's).
    common = _common(argparse.SUPPRESS)
    parser.add_argument("--version", action="version", version=f"reputation {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    init = commands.add_parser(
        "init", parents=[common], help="write the demo config, its rules and data to a folder"
    )
    init.add_argument("folder", nargs="?", type=Path, default=Path("."), metavar="FOLDER")
    init.set_defaults(handler=cmd_init)
    run = commands.add_parser("run", parents=[common], help="one batch run: fetch, score, alert")
    run.add_argument("--json", action="store_true", help="print one JSON summary on stdout")
    run.set_defaults(handler=cmd_run)
    serve = commands.add_parser("serve", parents=[common], help="run on a schedule until stopped")
    serve.set_defaults(handler=cmd_serve)
    digest = commands.add_parser("digest", parents=[common], help="write a day's CSV digest")
    digest.add_argument(
        "--date",
        type=_date,
        metavar="YYYY-MM-DD",
        help="UTC day to summarise (default: yesterday)",
    )
    digest.set_defaults(handler=cmd_digest)
    check = commands.add_parser("check-config", parents=[common], help="validate the config")
    check.set_defaults(handler=cmd_check_config)
    alerts = commands.add_parser("alerts", parents=[common], help="list or retry ledger alerts")
    alerts.add_argument("action", nargs="?", choices=("list", "retry"), default="list")
    alerts.add_argument("--status", choices=("pending", "sent", "failed", "muted"))
    alerts.add_argument("--limit", type=_whole(1), default=50, metavar="N")
    alerts.set_defaults(handler=cmd_alerts)
    silence = commands.add_parser("silence", parents=[common], help="mute matching alerts")
    silence_commands = silence.add_subparsers(dest="silence_command", required=True)
    add = silence_commands.add_parser("add", parents=[common], help="start a silence")
    add.add_argument(
        "matchers",
        nargs="+",
        metavar="KEY=VALUE",
        help="brand, rule, severity, category or route; all must match",
    )
    add.add_argument(
        "--for",
        dest="duration",
        type=_duration,
        required=True,
        metavar="DURATION",
        help="how long, e.g. 4h",
    )
    add.add_argument("--comment", help="why (shown with every muted alert)")
    add.set_defaults(handler=cmd_silence_add)
    listing = silence_commands.add_parser("list", parents=[common], help="active silences")
    listing.add_argument("--all", action="store_true", help="include ended ones")
    listing.set_defaults(handler=cmd_silence_list)
    expire = silence_commands.add_parser("expire", parents=[common], help="end a silence now")
    expire.add_argument("silence_id", type=_whole(1), metavar="ID")
    expire.set_defaults(handler=cmd_silence_expire)
    rules = commands.add_parser("rules", parents=[common], help="work with rules")
    rules_commands = rules.add_subparsers(dest="rules_command", required=True)
    test = rules_commands.add_parser(
        "test", parents=[common], help="replay rules over stored mentions, sending nothing"
    )
    test.add_argument(
        "files",
        nargs="*",
        type=Path,
        metavar="RULE_FILE",
        help="rule files to test (default: the configured rules)",
    )
    test.add_argument(
        "--since",
        type=since_value,
        default=parse_duration("7d"),
        metavar="DURATION|TIME",
        help="how far back to replay: a duration (default 7d) or a UTC date or time "
        "(2026-11-20, 2026-11-20T08:00Z)",
    )
    test.add_argument("--json", action="store_true", help="print one JSON object")
    test.set_defaults(handler=cmd_rules_test)
    add_workflow_commands(commands, common, load_config)
    add_ops_commands(commands, common, load_config)
    add_archive_commands(commands, common, load_config)
    add_database_commands(commands, common, load_config)
    for name, handler, text in (
        ("eval", cmd_eval, "measure the complaint detector on a labeled CSV"),
        ("train", cmd_train, "train a complaint model on a labeled CSV"),
    ):
        sub = commands.add_parser(name, parents=[common], help=text)
        sub.add_argument("labels", type=Path, metavar="LABELS.csv")
        sub.add_argument("--text-column", required=True, metavar="COL")
        sub.add_argument("--label-column", required=True, metavar="COL")
        sub.add_argument(
            "--positive",
            required=True,
            metavar="VALUE",
            help="label value of the positive class (a complaint)",
        )
        sub.set_defaults(handler=handler)
        if name == "eval":
            sub.add_argument(
                "--model",
                type=Path,
                metavar="PATH",
                help="a trained model (default: scoring.model from the config)",
            )
            sub.add_argument("--json", action="store_true", help="print one JSON object")
        else:
            sub.add_argument("--out", type=Path, required=True, metavar="PATH")
            sub.add_argument(
                "--cv",
                type=_whole(2),
                default=0,
                metavar="K",
                help="also report K-fold cross-validated F1 (takes K times longer)",
            )
    return parser


def cmd_init(args: argparse.Namespace, path: Path) -> int:
    """Copy the starter config, rules and demo mentions into a folder; overwrite nothing."""
    from reputation.starter import init

    try:
        written = init(args.folder)
    except FileExistsError as exc:
        print(f"reputation: already there: {exc}; nothing written", file=sys.stderr)
        return EXIT_FATAL
    for target in written:
        print(f"wrote {target}")
    config = args.folder / "config.yaml"
    print(f"next: reputation check-config --config {config}, then reputation run --config {config}")
    return EXIT_OK


def cmd_run(args: argparse.Namespace, path: Path) -> int:
    """One locked batch run; prints a summary (or one JSON object with --json)."""
    from rich.console import Console

    from reputation.logs import redact
    from reputation.pipeline import run_once
    from reputation.sinks import ConsoleSink

    config = load_config(path)
    console = Console(stderr=args.json)
    factories = {"console": lambda name, options, env: ConsoleSink(name, options, env, console)}
    try:
        with RunLock(config.database):
            summary = run_once(config, sink_factories=factories)
    except LockBusy as exc:
        if args.json:  # still the one object a script parses, saying why nothing ran
            print(json.dumps({"skipped": "another run holds the lock", **exc.details()}))
        raise
    for warning in summary.warnings:
        print(f"reputation: warning: {redact(warning)}", file=sys.stderr)
    log.info("run: %s", _summary_line(summary), extra={"summary": summary.as_dict()})
    if args.json:
        print(redact(json.dumps(summary.as_dict())))
        return EXIT_OK
    print(_summary_line(summary))
    for error in summary.errors:
        print(f"error: {redact(error)}")
    return EXIT_OK


def _summary_line(summary: RunSummary) -> str:
    return (
        f"fetched {summary.fetched} mention(s), {summary.new_mentions} new; scored "
        f"{summary.scored}; {summary.alerts} new alert(s), {summary.sent} sent; ledger: "
        f"{summary.pending} pending, {summary.failed} failed"
    )


def cmd_serve(args: argparse.Namespace, path: Path) -> int:
    """Run and digest on a schedule until stopped; answer Slack clicks beside them."""
    from reputation.schedule import serve

    clicks = _start_interactivity(load_config(path))
    try:
        serve(path, _scheduled_run, _scheduled_digest)
    finally:
        if clicks is not None:
            clicks.stop()
    return EXIT_OK


def _start_interactivity(config: Config) -> Interactivity | None:
    """The Slack click handler, if a slack sink names its secrets; a handler that cannot
    start is logged and the schedule runs without it."""
    import os

    from reputation.interactivity import Interactivity, InteractivityError, slack_sink_config

    if slack_sink_config(config) is None:
        return None
    try:
        handler = Interactivity(config, os.environ)
        handler.start()
    except (InteractivityError, OSError) as exc:
        log.error("Slack buttons will not be answered: %s", exc)
        return None
    except Exception:  # Slack unreachable at start (Socket Mode), say: the schedule goes on
        log.exception("Slack buttons will not be answered")
        return None
    return handler


def _scheduled_run(path: Path) -> None:
    """One run of `serve`: one INFO line with its summary, a WARNING per error."""
    from reputation.pipeline import run_once

    config = load_config(path)
    try:
        with RunLock(config.database):
            summary = run_once(config)
    except LockBusy as exc:
        log.info("run skipped: %s", exc)
        return
    for warning in summary.warnings:
        log.warning("run: %s", warning)
    for error in summary.errors:
        log.warning("run: error: %s", error)
    log.info("run: %s", _summary_line(summary), extra={"summary": summary.as_dict()})


def _scheduled_digest(path: Path) -> None:
    config = load_config(path)
    _write_digest(config, None)
    for line in _write_numbers(config, None)[1]:
        log.warning("summary: %s", line)
    log_the_day(config, None)


def cmd_digest(args: argparse.Namespace, path: Path) -> int:
    """Write the digest CSV of one UTC day, and its incident numbers."""
    config = load_config(path)
    out, rows = _write_digest(config, args.date)
    print(f"wrote {out} ({rows} mention(s))")
    numbers, summary = _write_numbers(config, args.date)
    print(f"wrote {numbers}")
    for line in summary:
        print(line)
    print_the_day(config, args.date)
    return EXIT_OK


def _write_numbers(config: Config, day: date | None) -> tuple[Path, list[str]]:
    """The day's workflow numbers per brand and category: a CSV beside the digest, and the
    daily summary's lines."""
    from reputation.digest import yesterday
    from reputation.report import day_numbers, summary_lines, write_numbers
    from reputation.store import Store
    from reputation.text import terminal_safe
    from reputation.timeutil import utcnow

    day = day or yesterday(utcnow())
    store = Store.open(config.database)
    try:
        rows = day_numbers(store, day)
    finally:
        store.close()
    path = write_numbers(rows, day, config.digest_dir)
    return path, [terminal_safe(line) for line in summary_lines(rows, day)]


def _write_digest(config: Config, day: date | None) -> tuple[Path, int]:
    from reputation.digest import write_digest, yesterday
    from reputation.store import Store
    from reputation.timeutil import utcnow

    store = Store.open(config.database)
    try:
        return write_digest(store, day or yesterday(utcnow()), config.digest_dir)
    finally:
        store.close()


def cmd_check_config(args: argparse.Namespace, path: Path) -> int:
    """Exit 0 if the config is valid; otherwise ConfigError prints each problem, exit 2."""
    from reputation.starter import default_rules

    config = load_config(path, inputs_must_exist=True)
    shipped = " shipped" if config.rules_dir == default_rules() else ""
    print(
        f"{path}: ok ({len(config.brands)} brand(s), {len(config.connectors)} connector(s), "
        f"{len(config.rules)}{shipped} rule(s), {len(config.sinks)} sink(s))"
    )
    return EXIT_OK


def cmd_alerts(args: argparse.Namespace, path: Path) -> int:
    """List ledger alerts, or put permanently failed deliveries back in the queue."""
    from reputation.store import Store
    from reputation.text import terminal_safe
    from reputation.timeutil import utcnow

    config = load_config(path)
    store = Store.open(config.database)
    try:
        if args.action == "retry":
            print(f"requeued {store.ledger.retry_failed(utcnow())} failed delivery(ies)")
            return EXIT_OK
        for row in store.ledger.alerts(args.status, args.limit):
            line = f"{row['created_at'][:19]}  {row['status']:<7}  {row['severity']:<8}  "
            print(line + terminal_safe(f"{row['rule']}: {row['summary']}"))
    finally:
        store.close()
    return EXIT_OK


def cmd_eval(args: argparse.Namespace, path: Path) -> int:
    """Precision, recall and F1 of the detector beside VADER at the configured threshold."""
    from dataclasses import replace

    from reputation.labels import check_positive, read_labels
    from reputation.metrics import measure_detector
    from reputation.scoring import Scorer, ScoringSettings

    settings = load_config(path).scoring if path.exists() else ScoringSettings()
    if args.model is not None:
        settings = replace(settings, model=args.model)
    scorer = Scorer(settings)
    check_positive(args.labels, args.text_column, args.label_column, args.positive)
    batches = read_labels(args.labels, args.text_column, args.label_column, args.positive)
    result = measure_detector(batches, scorer, settings.threshold)
    if args.json:
        print(json.dumps(result))
        return EXIT_OK
    print(f"{result['n']} rows, positive class {args.positive!r}, threshold {settings.threshold}")
    print(f"{'':10}{'precision':>10}{'recall':>10}{'f1':>10}")
    for name in ("detector", "vader"):
        row = result[name]
        print(f"{name:10}{row['precision']:>10.3f}{row['recall']:>10.3f}{row['f1']:>10.3f}")
    return EXIT_OK


def cmd_train(args: argparse.Namespace, path: Path) -> int:
    """Fit a complaint model on a labeled CSV and save it."""
    from reputation.labels import check_positive, read_labels
    from reputation.progress import Reporter

    check_positive(args.labels, args.text_column, args.label_column, args.positive)
    texts: list[str] = []
    labels: list[bool] = []
    with Reporter() as report:  # a bar on a terminal, plain lines otherwise
        report.start("train", detail=f"reading {args.labels}")
        for batch_texts, batch_labels in read_labels(
            args.labels, args.text_column, args.label_column, args.positive
        ):
            texts.extend(batch_texts)
            labels.extend(batch_labels)
            report.update("train", len(texts), f"reading {args.labels}: {len(texts)} rows")
        _fit(args, path, texts, labels, report)
    return EXIT_OK


def _fit(
    args: argparse.Namespace, path: Path, texts: list[str], labels: list[bool], report: Any
) -> None:
    """Cross-validate (with --cv), fit and save the model, reporting each step."""
    from reputation.classifier import save_model, train

    if len(set(labels)) < 2:
        raise LabelsError(
            f"{args.labels}: needs rows of both classes (positive: {args.positive!r})"
        )
    meta = {
        "trained_on": str(args.labels),
        "rows": len(texts),
        "positives": sum(labels),
        "positive": args.positive,
        "text_column": args.text_column,
        "label_column": args.label_column,
    }
    if args.cv:
        from reputation.metrics import cross_validate

        meta["cv"] = cross_validate(texts, labels, args.cv, on_fold=lambda k, n: report.update(
            "train", len(texts), f"cross-validation fold {k}/{n}"))  # fmt: skip
    report.update("train", len(texts), f"fitting the model on {len(texts)} rows")
    model = train(texts, labels, meta)
    save_model(model, args.out)
    report.finish("train", f"saved {args.out}")
    print(f"trained on {len(texts)} rows ({sum(labels)} positive); saved {args.out}")
    if args.cv:
        cv = meta["cv"]
        print(
            f"{args.cv}-fold CV: precision {cv['precision']:.3f}, recall {cv['recall']:.3f}, "
            f"f1 {cv['f1']:.3f}"
        )
    print(f"use it: add `scoring: {{model: {_as_seen_from(path, args.out)}}}` to {path}")


def _as_seen_from(config: Path, target: Path) -> str:
    """`target` as the config at `config` must name it: relative paths there are read from
    the config's folder, not from where the command ran. Inside that folder, relative."""
    target, folder = target.resolve(), config.resolve().parent
    return str(target.relative_to(folder)) if target.is_relative_to(folder) else str(target)


def _open_store(path: Path) -> Store:
    from reputation.store import Store

    return Store.open(load_config(path).database)


def cmd_silence_add(args: argparse.Namespace, path: Path) -> int:
    """Mute alerts matching every KEY=VALUE for a while."""
    from reputation.muting import check_matchers, parse_matchers
    from reputation.store import Store
    from reputation.timeutil import utcnow

    try:
        matchers = parse_matchers(args.matchers)
    except ValueError as exc:
        print(f"reputation: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    config = load_config(path)
    routes = config.policy.routes
    problems = check_matchers(
        matchers,
        brands=[b.name for b in config.brands],
        rules=[r.name for r in config.rules],
        routes=[*(r.route for r in config.rules if r.route), *routes.by_severity.values(),
                *routes.quiet],
    )  # fmt: skip
    if problems:
        for problem in problems:
            print(f"reputation: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    store = Store.open(config.database)
    try:
        now = utcnow()
        silence_id = store.ledger.add_silence(matchers, args.duration, args.comment, now)
    finally:
        store.close()
    ends = (now + args.duration).strftime("%Y-%m-%d %H:%M UTC")
    print(f"silence #{silence_id} until {ends}: {_describe(matchers)}")
    return EXIT_OK


def cmd_silence_list(args: argparse.Namespace, path: Path) -> int:
    """Print silences, active ones first."""
    from reputation.text import terminal_safe
    from reputation.timeutil import utcnow

    store = _open_store(path)
    try:
        rows = store.ledger.silences(utcnow(), everything=args.all)
    finally:
        store.close()
    for row in rows:
        ended = f" (ended {row['expired_at'][:16]})" if row["expired_at"] else ""
        comment = f"  # {row['comment']}" if row["comment"] else ""
        print(
            terminal_safe(
                f"#{row['id']}  until {row['ends_at'][:16]}{ended}  "
                f"{_describe(row['matchers'])}{comment}"
            )
        )
    if not rows:
        print("no active silences")
    return EXIT_OK


def cmd_silence_expire(args: argparse.Namespace, path: Path) -> int:
    """End a silence now."""
    from reputation.timeutil import utcnow

    store = _open_store(path)
    try:
        done = store.ledger.expire_silence(args.silence_id, utcnow())
    finally:
        store.close()
    if not done:
        print(f"reputation: no active silence #{args.silence_id}", file=sys.stderr)
        return EXIT_FATAL
    print(f"silence #{args.silence_id} expired")
    return EXIT_OK


def _describe(matchers: dict[str, str]) -> str:
    return " ".join(f"{k}={json.dumps(v)}" for k, v in sorted(matchers.items()))


# Argument types: argparse names the function in its message when one raises ValueError
# ("invalid fromisoformat value"), so each raises ArgumentTypeError in the user's terms.


def _date(text: str) -> date:
    """A --date value: a calendar day written YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-21") from None


def _duration(text: str) -> timedelta:
    """A --for value: a duration such as 4h or 1h30m."""
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _whole(minimum: int) -> Callable[[str], int]:
    """An argument type for whole numbers from `minimum` up."""

    def whole(text: str) -> int:
        if not text.strip().isdigit() or int(text) < minimum:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a whole number of at least {minimum}"
            )
        return int(text)

    return whole


def cmd_rules_test(args: argparse.Namespace, path: Path) -> int:
    """Replay rules over stored mentions and report what they would have sent."""
    from reputation.backtest import backtest
    from reputation.ruleset import load_rule_files
    from reputation.text import terminal_safe
    from reputation.timeutil import utcnow
    from reputation.validate import Checker

    config = load_config(path)
    rules = list(config.rules)
    if args.files:
        check = Checker()
        rules = load_rule_files(args.files, check, config.brands)
        check.raise_if_errors()
        for rule in rules:
            if not rule.enabled:  # named on purpose: test it, and say it does not run
                print(
                    f"reputation: note: {rule.path} is disabled (enabled: false); tested "
                    "anyway, but runs do not use it",
                    file=sys.stderr,
                )
    now = utcnow()
    since = args.since if isinstance(args.since, timedelta) else now - args.since
    if since <= timedelta(0):
        print(f"reputation: --since {args.since.isoformat()} is in the future", file=sys.stderr)
        return EXIT_CONFIG
    report = backtest(config.database, rules, since, now, config.policy)
    if args.json:
        print(json.dumps(report))
        return EXIT_OK
    for name, result in report.items():
        print(f"{name}: {result['alerts']} alert(s) in {result['incidents']} incident(s)")
        for day, counts in result["per_day"].items():
            print(f"  {day}: {counts['alerts']} alert(s), {counts['incidents']} incident(s)")
        for example in result["examples"]:
            line = f"  e.g. {example['event_at'][:16]} {example['severity']}: {example['summary']}"
            print(terminal_safe(line))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
