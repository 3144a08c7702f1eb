"""Cross-validated quality of the trainable complaint model on a labeled CSV.

    python bench/model_cv.py [--csv ../shared/eval/airline-tweets/Tweets.csv]
        [--text-column text --label-column airline_sentiment --positive negative] [--folds 5]

Fits `reputation.classifier.build_pipeline()` on k-1 folds and scores the held-out fold, for each
fold (`reputation.metrics.cross_validate`, as `reputation train --cv` does); prints JSON with
the pooled precision, recall and F1 at probability 0.5.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from labeled import labeled_csv_parser, parse_with_csv  # noqa: E402

from reputation.labels import read_labels  # noqa: E402
from reputation.metrics import cross_validate  # noqa: E402


def main() -> None:
    parser = labeled_csv_parser(__doc__)
    parser.add_argument("--folds", type=int, default=5)
    args = parse_with_csv(parser)
    texts, labels = [], []
    for batch_texts, batch_labels in read_labels(
        Path(args.csv), args.text_column, args.label_column, args.positive
    ):
        texts.extend(batch_texts)
        labels.extend(batch_labels)
    started = time.perf_counter()
    pooled = cross_validate(texts, labels, args.folds)
    print(
        json.dumps(
            {
                "csv": Path(args.csv).name,
                "rows": len(texts),
                "positive": args.positive,
                "folds": args.folds,
                "threshold": 0.5,
                "pooled": pooled,
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
