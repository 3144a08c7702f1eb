"""The built-in complaint detector on held-out labeled data, beside the VADER baseline.

    python bench/detector.py [--csv ../shared/eval/airline-tweets/Tweets.csv]
        [--text-column text --label-column airline_sentiment --positive negative]
        [--threshold T]

Uses the shipped weights, prior and default threshold (fitted on data/dev, never on this
file) and prints JSON: precision, recall and F1 of the detector and of VADER (compound <=
-0.05), the always-positive F1 for scale, the false alarms (the share of the rows that are
not of the positive class which each flags), and, for information only, how F1 and precision
move with the threshold (the default is not chosen from this). `dev_chatter` repeats the
false alarms on data/dev/chatter.csv: text written here and fitted on, so it shows what the
development data says, never how the detector generalises.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from labeled import labeled_csv_parser, parse_with_csv  # noqa: E402

from reputation.brands import Brand  # noqa: E402
from reputation.complaint import DEFAULT_PREVALENCE, DEFAULT_THRESHOLD  # noqa: E402
from reputation.labels import read_labels  # noqa: E402
from reputation.metrics import measure_detector, prf  # noqa: E402
from reputation.scoring import Scorer  # noqa: E402
from reputation.signals import VADER_NEGATIVE  # noqa: E402

CHATTER = ROOT / "data/dev/chatter.csv"


def false_alarms(flagged: np.ndarray, labels: np.ndarray) -> float:
    """The share of the negative-class rows that are flagged."""
    return round(float(flagged[~labels].mean()), 4)


def dev_chatter(threshold: float) -> dict[str, float]:
    """False alarms and recall on data/dev/chatter.csv, each row with its brand's terms."""
    frame = pd.read_csv(CHATTER)
    names = [f"brand{i}" for i in range(len(frame))]
    brands = [
        Brand(name, tuple(str(terms).split(";")))
        for name, terms in zip(names, frame["brand_terms"], strict=True)
    ]
    analyses = Scorer(brands=brands).analyse(frame["text"].astype(str).tolist(), names)
    flagged = np.array([a.complaint >= threshold for a in analyses])
    vader = np.array([a.sentiment <= VADER_NEGATIVE for a in analyses])
    labels = (frame["label"] == "complaint").to_numpy()
    return {
        "rows": len(frame),
        "detector_false_alarms": false_alarms(flagged, labels),
        "vader_false_alarms": false_alarms(vader, labels),
        "detector_recall": round(float(flagged[labels].mean()), 4),
    }


def main() -> None:
    parser = labeled_csv_parser(__doc__)
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    args = parse_with_csv(parser)
    batches = list(read_labels(Path(args.csv), args.text_column, args.label_column, args.positive))
    scorer = Scorer()
    result = measure_detector(batches, scorer, args.threshold)
    labels = np.array([y for _, ys in batches for y in ys], dtype=bool)
    analyses = [a for texts, _ in batches for a in scorer.analyse(texts)]
    probabilities = np.array([a.complaint for a in analyses])
    vader = np.array([a.sentiment <= VADER_NEGATIVE for a in analyses])
    result["prevalence_assumed"] = DEFAULT_PREVALENCE
    result["always_positive"] = prf(labels, np.ones_like(labels))
    result["false_alarms"] = {
        "detector": false_alarms(probabilities >= args.threshold, labels),
        "vader": false_alarms(vader, labels),
    }
    result["sweep"] = {
        f"{t:.2f}": prf(labels, probabilities >= t) for t in np.arange(0.3, 0.91, 0.05)
    }
    result["dev_chatter"] = dev_chatter(args.threshold)
    print(json.dumps({"csv": Path(args.csv).name, **result}))


if __name__ == "__main__":
    main()
