"""Two versions of the model side by side: cost per firm-year of the baseline, 2024–2050.

Runs the baseline in this checkout and in another one (`--other`, e.g. a worktree of the
commit before Model v2), alternating the two so that machine load hits both alike. Every run
is a fresh subprocess whose `sys.path` starts with its checkout. Prints per size the median
time of the steps (construction apart: it is printed separately) and µs per firm-year of each
version, their ratio, and the marginal cost per firm-year between the two smallest sizes given.

    git worktree add /tmp/v1 9cf93ec            # the commit before Model v2
    .venv/bin/python benchmarks/versions.py --other /tmp/v1 [--sizes 10000 100000] [--repeats 5]

Target (Model v2 issue): the step's cost per firm-year at 100k firms within 1.5× of version 1.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from sim import FactoryShiftModel, load_scenario
firms = int(sys.argv[2])
scenario = load_scenario("baseline")
t0 = time.perf_counter()
model = FactoryShiftModel(scenario, firms=firms)
t1 = time.perf_counter()
model.run()
t2 = time.perf_counter()
per_year = model.recorder.countries().groupby("year").firms.sum()
print(json.dumps({"wall": t2 - t1, "setup": t1 - t0,
                  "firm_years": int(per_year.loc[model.start_year:model.year - 1].sum())}))
"""


def run_child(checkout: Path, firms: int) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, str(checkout), str(firms)], capture_output=True, text=True,
                          check=True, cwd=checkout)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--other", type=Path, required=True, help="checkout of the version to compare with")
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    versions = {"this": HERE, "other": args.other.resolve()}
    medians: dict[tuple[str, int], tuple[float, int]] = {}
    print(f"{'firms':>8} {'version':>6} {'steps s':>9} {'µs/firm-year':>13} {'firm-years':>11} {'set-up s':>9}")
    for n in args.sizes:
        walls: dict[str, list[float]] = {v: [] for v in versions}
        setups: dict[str, list[float]] = {v: [] for v in versions}
        years: dict[str, int] = {}
        for _ in range(args.repeats):
            for name, path in versions.items():   # alternate: the same load for both
                r = run_child(path, n)
                walls[name].append(r["wall"])
                setups[name].append(r["setup"])
                years[name] = r["firm_years"]
        for name in versions:
            med = statistics.median(walls[name])
            medians[(name, n)] = (med, years[name])
            print(f"{n:>8,} {name:>6} {med:>9.3f} {1e6 * med / years[name]:>13.3f} {years[name]:>11,} "
                  f"{statistics.median(setups[name]):>9.3f}")
        this, other = (medians[(v, n)][0] / medians[(v, n)][1] for v in ("this", "other"))
        print(f"{n:>8,}  ratio this/other per firm-year: {this / other:.2f}")
    if len(args.sizes) >= 2:
        lo, hi = sorted(args.sizes)[:2]
        for name in versions:
            (t0, y0), (t1, y1) = medians[(name, lo)], medians[(name, hi)]
            print(f"marginal µs per firm-year {lo:,} → {hi:,}, {name}: {1e6 * (t1 - t0) / (y1 - y0):.3f}")
    print("load average (1, 5, 15 min) at the end: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
