"""Viral prediction on simulated cascades: derive the Szabo-Huberman table, then test it.

python bench/viral.py            # evaluate the shipped coefficients, print JSON
python bench/viral.py --derive   # refit the table (prints it as Python and as JSON)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reputation import hawkes, viral  # noqa: E402

AGES_HOURS = (1 / 12, 0.25, 0.5, 1, 2, 4, 8, 12, 18)
DERIVE_SEED, TEST_SEED = 7, 11


def derive(n: int) -> list[tuple[float, float, float]]:
    """Fit alpha and beta at each age on `n` cascades simulated from DERIVE_SEED."""
    cascades = hawkes.simulate_many(n, DERIVE_SEED)
    table = []
    for age in AGES_HOURS:
        alpha, beta = hawkes.fit_log_linear(cascades, age * 3600)
        table.append((round(age, 4), round(alpha, 4), round(beta, 4)))
    return [*table, (24.0, 0.0, 1.0)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--derive", action="store_true")
    parser.add_argument("-n", type=int, default=20_000)
    args = parser.parse_args()
    if args.derive:
        table = derive(args.n)
        print("SZABO_HUBERMAN = (", file=sys.stderr)
        for row in table:
            print(f"    {row},", file=sys.stderr)
        print(")", file=sys.stderr)
        print(json.dumps({"seed": DERIVE_SEED, "cascades": args.n, "table": table}))
        return
    cascades = hawkes.simulate_many(args.n // 4, TEST_SEED)
    result = {
        "cascades": len(cascades),
        "seed": TEST_SEED,
        "observed_at_hours": 1,
        "vs_24h": hawkes.evaluate(cascades, viral.predict_24h, 1.0, 86400),
        "vs_7d": hawkes.evaluate(cascades, viral.predict_24h, 1.0, 7 * 86400),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
