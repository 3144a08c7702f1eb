"""Shared by the benchmarks that read a labeled CSV: the eval data's path and its columns."""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Read by path from ../shared/eval, never copied into the project (see its README).
DEFAULT_CSV = ROOT.parent / "shared/eval/airline-tweets/Tweets.csv"


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
