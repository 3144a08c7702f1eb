"""The figures of the last `make mutate` (docs/mutation.md), per module, as JSON: mutants,
killed (a test failed, or a timeout: the mutant hung the tests), survived, not yet run, and
the share killed of those run. Reads what mutmut left in mutants/; runs nothing.
`--sample N MODULE` prints instead the names of N of the module's mutants drawn at random
(seeded), for `mutmut run` when the whole module takes too long. `--check MODULE --tests
FILES [--sample N]` runs mutmut's mutants of MODULE (all, or a sample), each in its own
pytest (MUTANT_UNDER_TEST selects it, as mutmut does) on the tests of FILES that reach its
function (a first pass records which), in a scratch copy of mutants/: the quick way to see
whether new tests kill what survived. Each verdict goes to stderr as it comes; `--only
NAMES` checks those mutants alone. `--generate` first writes mutants/ as `mutmut run` would,
without running any test (a fresh checkout has none)."""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
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


# A pytest plugin for the stats pass: which tests reach which mutated function (mutmut's
# trampolines record each call while MUTANT_UNDER_TEST is "stats"), written out as JSON.
STATS_PLUGIN = """
import json, os
from mutmut.state import state

HITS = {}

def pytest_runtest_teardown(item, nextitem):
    for function in state()._stats:
        HITS.setdefault(function, []).append(item.nodeid)
    state()._stats.clear()

def pytest_sessionfinish(session, exitstatus):
    with open(os.environ["MUTATION_STATS"], "w", encoding="utf-8") as out:
        json.dump(HITS, out)
"""


def check(
    mutants: Path, module: str, tests: list[str], names: list[str], timeout: float = 300
) -> dict[str, object]:
    """Run each named mutant in a scratch copy against the tests (of `tests`) that reach its
    function, as mutmut does: a first pass with no mutant records which those are (and must
    pass). A hung run (`timeout` seconds) counts as killed; a mutant no test reaches, as
    surviving. The survivors and the tally."""
    scratch = Path(tempfile.mkdtemp(prefix="mutation-check-"))
    try:
        shutil.copytree(mutants / "reputation", scratch / "reputation", symlinks=False)
        for name in ("tests", "rules", "data", "slack", "docs"):
            shutil.copytree(ROOT / name, scratch / name)
        for name in ("config.yaml", "pyproject.toml", "README.md"):
            shutil.copy(ROOT / name, scratch / name)
        (scratch / "_mutation_stats.py").write_text(STATS_PLUGIN, encoding="utf-8")
        pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        env = {**os.environ, "MUTANT_UNDER_TEST": "stats", "MUTATION_STATS": "stats.json"}
        try:
            done = subprocess.run(
                [*pytest, "-p", "_mutation_stats", *tests], cwd=scratch, env=env,
                capture_output=True, check=False, timeout=timeout * 4,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise SystemExit(f"the tests took over {timeout * 4:.0f}s with no mutant") from None
        if done.returncode != 0:
            raise SystemExit(f"the tests fail without a mutant:\n{done.stdout.decode()[-2000:]}")
        reached = json.loads((scratch / "stats.json").read_text(encoding="utf-8"))
        survived, untested = [], []
        for name in names:
            selected = reached.get(name.partition("__mutmut_")[0], [])
            if not selected:  # mutmut's "no tests": not killed
                survived.append(name)
                untested.append(name)
                print(name, "survived (no test reaches it)", file=sys.stderr)
                continue
            env = {**os.environ, "MUTANT_UNDER_TEST": name}
            try:
                done = subprocess.run(
                    [*pytest, "-x", *selected], cwd=scratch, env=env, capture_output=True,
                    check=False, timeout=timeout,
                )  # fmt: skip
            except subprocess.TimeoutExpired:  # the mutant hung the tests: detected, as in mutmut
                print(name, "killed (timeout)", file=sys.stderr)
                continue
            if done.returncode == 0:
                survived.append(name)
            # progress, for a long sample: each verdict as it comes
            print(name, "survived" if done.returncode == 0 else "killed", file=sys.stderr)
        return {
            "module": module, "tests": tests, "checked": len(names),
            "killed": len(names) - len(survived), "survived": survived, "no tests": untested,
        }  # fmt: skip
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def generate() -> None:
    """Write mutants/ (the mutated copy and each module's .meta) as `mutmut run` does before
    it runs anything, without its clean run and coverage pass over the whole selection."""
    from mutmut.__main__ import create_mutants
    from mutmut.mutation.trampoline import set_mutant_under_test
    from mutmut.utils.file_utils import copy_also_copy_files, copy_src_dir, setup_source_paths

    os.chdir(ROOT)  # mutmut reads [tool.mutmut] and writes mutants/ in the working directory
    set_mutant_under_test("mutant_generation")
    copy_src_dir()
    copy_also_copy_files()
    setup_source_paths()
    print(create_mutants(1), file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mutants", type=Path, default=ROOT / "mutants")
    parser.add_argument("--sample", type=int, help="print N mutant names of MODULE")
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--check", action="store_true", help="run MODULE's mutants on --tests")
    parser.add_argument("--tests", nargs="+", default=[], help="test files for --check")
    parser.add_argument("--only", nargs="+", default=[], help="--check these mutants only")
    parser.add_argument(
        "--generate", action="store_true", help="first write mutants/ (no tests run)"
    )
    parser.add_argument("module", nargs="?", help="e.g. reputation/store.py")
    args, extra = parser.parse_known_args()  # --deselect=... and the like go to pytest
    args.tests += extra
    if args.generate:
        generate()
    if args.module:
        meta = args.mutants / f"{args.module}.meta"
        names = sorted(json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"])
        if args.sample:
            names = sorted(random.Random(args.seed).sample(names, min(args.sample, len(names))))
        if args.only:  # the survivors of an earlier check, say
            unknown = sorted(set(args.only) - set(names))
            if unknown:
                raise SystemExit(f"not mutants of {args.module}: {' '.join(unknown)}")
            names = sorted(args.only)
        if args.check:
            print(json.dumps(check(args.mutants, args.module, args.tests, names), indent=2))
        else:
            print(" ".join(names))
        return
    modules = {
        str(meta.relative_to(args.mutants)).removesuffix(".meta"): tally(meta)
        for meta in sorted(args.mutants.rglob("*.py.meta"))
    }
    print(json.dumps(modules, indent=2))


if __name__ == "__main__":
    main()
