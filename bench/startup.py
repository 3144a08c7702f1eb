"""Start-up time of the command line: `reputation --help` and `reputation check-config`
against `python -c pass`, in one run of this script.

    python bench/startup.py [--runs 9] [--config config.yaml]

Each command runs `--runs` times in a fresh process (after one unmeasured run, so the file
cache is warm for all three alike), interleaved so that a burst of load on the shared machine
hits every command; the median wall time of each is reported, and its ratio to
`python -c pass` measured in the same run. `check-config` reads the shipped config.yaml
(its connectors' client libraries included) and opens no database. `loads` says whether the
command left the store, sqlite-utils, pandas or scikit-learn in `sys.modules`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCRIPT = str(Path(sys.executable).with_name("reputation"))
HEAVY = ("reputation.store", "sqlite_utils", "pandas", "sklearn")
_PROBE = (
    "import json, sys\n"
    "from reputation.cli import main\n"
    "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
    f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]), file=sys.stderr)\n"
)


def timed(command: list[str]) -> float:
    """Wall seconds of one run of `command`, its output discarded."""
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def heavy_modules(args: list[str]) -> list[str]:
    """Which of HEAVY the command line leaves loaded after `reputation ARGS`."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, check=True
    )
    return json.loads(done.stderr.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--config", type=Path, default=REPO / "config.yaml")
    args = parser.parse_args()
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "reputation --help": [SCRIPT, "--help"],
        "reputation check-config": [SCRIPT, "check-config", "--config", str(args.config)],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for command in commands.values():
        timed(command)
    for _ in range(args.runs):
        for name, command in commands.items():
            times[name].append(timed(command))
    median = {name: statistics.median(values) for name, values in times.items()}
    base = median["python -c pass"]
    print(
        json.dumps(
            {
                "runs": args.runs,
                "config": str(args.config),
                "median_s": {name: round(value, 4) for name, value in median.items()},
                "ratio_to_python": {name: round(value / base, 1) for name, value in median.items()},
                "loads": {
                    "reputation --help": heavy_modules(["--help"]),
                    "reputation check-config": heavy_modules(
                        ["check-config", "--config", str(args.config)]
                    ),
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
