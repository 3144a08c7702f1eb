"""Shared by the benchmarks that read a labeled CSV: the eval data's path and its columns."""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def eval_path(relative: str) -> Path:
    """A file of the shared evaluation data, read by path and never copied into the project
    (see its README): `shared/eval/` beside the checkout or a folder above it (a worktree),
    else the first of those, so an error can name it."""
    candidates = [parent / "shared/eval" / relative for parent in ROOT.parents]
    return next((path for path in candidates if path.is_file()), candidates[0])


DEFAULT_CSV = eval_path("airline-tweets/Tweets.csv")


def parse_with_csv(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Parsed arguments; exits with a usage error naming the path when --csv is not a file."""
    args = parser.parse_args()
    if not Path(args.csv).is_file():
        parser.error(f"{args.csv}: no such file (give a labeled CSV with --csv PATH)")
    return args


def labeled_csv_parser(description: str | None) -> argparse.ArgumentParser:
    """An argument parser with --csv, --text-column, --label-column and --positive."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--csv", default=str(DEFAULT_CSV))
    parser.add_argument("--text-column", default="text")
    parser.add_argument("--label-column", default="airline_sentiment")
    parser.add_argument("--positive", default="negative")
    return parser
