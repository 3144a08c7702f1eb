"""Reading labeled CSV files for `train` and `eval`, in chunks, with clear errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path


class LabelsError(Exception):
    """The labels file or its columns cannot be used."""


def read_labels(
    path: Path, text_column: str, label_column: str, positive: str, chunk: int = 5000
) -> Iterator[tuple[list[str], list[bool]]]:
    """Yield (texts, is_positive) batches; rows without text or label are skipped."""
    import pandas as pd  # here: the command line imports this module for LabelsError

    try:
        header = pd.read_csv(path, nrows=0).columns
    except FileNotFoundError:
        raise LabelsError(f"{path}: no such file") from None
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise LabelsError(f"{path}: not a readable CSV ({exc})") from None
    missing = [c for c in (text_column, label_column) if c not in header]
    if missing:
        raise LabelsError(f"{path}: no column {', '.join(map(repr, missing))} "
                          f"(columns: {', '.join(header)})")  # fmt: skip
    reader = pd.read_csv(path, usecols=[text_column, label_column], dtype=str, chunksize=chunk)
    for frame in reader:
        frame = frame.dropna()
        yield (frame[text_column].tolist(), (frame[label_column] == positive).tolist())
