"""The figures of the last `make mutate` (docs/mutation.md), per module, as JSON: mutants,
killed (a test failed, or a timeout: the mutant hung the tests), survived, not yet run, and
the share killed of those run. Reads what mutmut left in mutants/; runs nothing."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# mutmut 3.8's exit codes (mutmut/stats.py): a failing test run kills; a timeout counts too.
KILLED = {1, 3, 24, -24, 36, 37, 152, 255}
SURVIVED = {0}
NO_TESTS = {5, 33}


def tally(meta: Path) -> dict[str, object]:
    """The counts of one module's .meta file."""
    codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
    counts: Counter[str] = Counter()
    for code in codes.values():
        if code is None:
            counts["not run"] += 1
        elif code in KILLED:
            counts["killed"] += 1
        elif code in SURVIVED:
            counts["survived"] += 1
        elif code in NO_TESTS:
            counts["no tests"] += 1
        else:
            counts["other"] += 1
    run = len(codes) - counts["not run"]
    return {
        "mutants": len(codes),
        **{k: counts[k] for k in ("killed", "survived", "no tests", "other", "not run")},
        "killed of run": f"{counts['killed']}/{run}" if run else "0/0",
        "score": round(counts["killed"] / run, 4) if run else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mutants", type=Path, default=ROOT / "mutants")
    args = parser.parse_args()
    modules = {
        str(meta.relative_to(args.mutants)).removesuffix(".meta"): tally(meta)
        for meta in sorted(args.mutants.rglob("*.py.meta"))
    }
    print(json.dumps(modules, indent=2))


if __name__ == "__main__":
    main()
