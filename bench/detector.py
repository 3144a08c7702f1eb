"""The built-in complaint detector on held-out labeled data, beside the VADER baseline.

    python bench/detector.py [--csv ../shared/eval/airline-tweets/Tweets.csv]
        [--text-column text --label-column airline_sentiment --positive negative]
        [--threshold T]

Uses the shipped weights and default threshold (fitted on data/dev, never on this file) and
prints JSON: precision, recall and F1 of the detector and of VADER (compound <= -0.05), the
always-positive F1 for scale, and, for information only, how F1 and precision move with the
threshold (the default is not chosen from this).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from labeled import labeled_csv_parser, parse_with_csv  # noqa: E402

from reputation.complaint import DEFAULT_THRESHOLD  # noqa: E402
from reputation.labels import read_labels  # noqa: E402
from reputation.metrics import measure_detector, prf  # noqa: E402
from reputation.scoring import Scorer  # noqa: E402


def main() -> None:
    parser = labeled_csv_parser(__doc__)
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    args = parse_with_csv(parser)
    batches = list(read_labels(Path(args.csv), args.text_column, args.label_column, args.positive))
    scorer = Scorer()
    result = measure_detector(batches, scorer, args.threshold)
    labels = np.array([y for _, ys in batches for y in ys])
    probabilities = np.array([a.complaint for texts, _ in batches for a in scorer.analyse(texts)])
    result["always_positive"] = prf(labels, np.ones_like(labels))
    result["sweep"] = {
        f"{t:.2f}": prf(labels, probabilities >= t) for t in np.arange(0.3, 0.91, 0.05)
    }
    print(json.dumps({"csv": Path(args.csv).name, **result}))


if __name__ == "__main__":
    main()
