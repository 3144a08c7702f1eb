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

    _check_columns(path, text_column, label_column)
    reader = pd.read_csv(path, usecols=[text_column, label_column], dtype=str, chunksize=chunk)
    for frame in reader:
        frame = frame.dropna()
        yield (frame[text_column].tolist(), (frame[label_column] == positive).tolist())


def check_positive(path: Path, text_column: str, label_column: str, positive: str) -> None:
    """Raise LabelsError unless some row has `positive` in `label_column`, naming the values
    the column does hold (a typo there would measure or train nothing)."""
    import pandas as pd

    _check_columns(path, text_column, label_column)
    counts: dict[str, int] = {}
    for frame in pd.read_csv(path, usecols=[label_column], dtype=str, chunksize=50_000):
        for value, count in frame[label_column].dropna().value_counts().items():
            counts[str(value)] = counts.get(str(value), 0) + int(count)
    if counts.get(positive):
        return
    common = sorted(counts, key=lambda v: -counts[v])
    shown = ", ".join(repr(v) for v in common[:10]) + (", ..." if len(common) > 10 else "")
    raise LabelsError(
        f"{path}: no row has {positive!r} in column {label_column!r} "
        f"(it holds: {shown or 'nothing'}); --positive must be one of those values"
    )


def _check_columns(path: Path, *columns: str) -> None:
    """Raise LabelsError if `path` is not a readable CSV with every one of `columns`."""
    import pandas as pd

    try:
        header = pd.read_csv(path, nrows=0).columns
    except FileNotFoundError:
        raise LabelsError(f"{path}: no such file") from None
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise LabelsError(f"{path}: not a readable CSV ({exc})") from None
    missing = [c for c in columns if c not in header]
    if missing:
        raise LabelsError(f"{path}: no column {', '.join(map(repr, missing))} "
                          f"(columns: {', '.join(header)})")  # fmt: skip
