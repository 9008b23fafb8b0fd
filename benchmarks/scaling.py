"""How the vectorised model scales: 1k, 10k, 100k and 1M firms, baseline 2024–2050.

Every run is made in a fresh subprocess (so peak memory is that run's own): the child builds
and runs the model, then reports its wall time (construction + steps), the firm-years it
simulated and its peak resident set size (``ru_maxrss`` of the child itself, which includes
the Python interpreter and the imported libraries, about 150 MB). The largest size also
checks the run's invariants: production shares sum to 1 in every year (±1e-9), every
market's shares π sum to 1 at the end, no subsidy above its fund, no NaN anywhere.

    .venv/bin/python benchmarks/scaling.py [--sizes 1000 10000 100000 1000000] [--repeats 5 5 5 3]

Targets: ≤ 0.5 µs per firm-year at 100k; 1M firms in < 30 s and < 4 GB; log–log slope of
time vs firms ≤ 1.1 between 10k and 1M.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time
import numpy as np
from sim import FactoryShiftModel
from sim import load_scenario
firms, check = int(sys.argv[1]), sys.argv[2] == "1"
scenario = load_scenario("baseline")
t0 = time.perf_counter()
model = FactoryShiftModel(scenario, firms=firms).run()
wall = time.perf_counter() - t0
table = model.recorder.countries()
per_year = table.groupby("year").firms.sum()
out = {"wall": wall, "firm_years": int(per_year.loc[model.start_year:model.year - 1].sum()),
       "firms_end": len(model.firms), "years": model.year - model.start_year,
       "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
if check:
    f = model.firms
    numbers = table.select_dtypes("number").to_numpy(float)
    out["invariants"] = {
        "production shares sum to 1 (max |sum-1| over years)":
            float((table.groupby("year").production_share.sum() - 1).abs().max()),
        "market shares pi sum to 1 per market at the end (max |sum-1|)": float(np.abs(f.pi.sum(axis=0) - 1).max()),
        "years with subsidy_spent_usd > ai_fund_usd": int((table.subsidy_spent_usd > table.ai_fund_usd).sum()),
        "NaN in countries table": int(np.isnan(numbers).sum()),
        "NaN in firm arrays": int(sum(np.isnan(getattr(f, a)).sum() for a in
                                      ("productivity", "capacity", "automation", "output", "pi"))),
    }
    inv = out["invariants"]
    keys = list(inv)
    out["invariants_ok"] = bool(inv[keys[0]] <= 1e-9 and inv[keys[1]] <= 1e-9 and inv[keys[2]] == 0
                                and inv[keys[3]] == 0 and inv[keys[4]] == 0)
print(json.dumps(out))
"""

TARGET_PER_FIRM_YEAR_100K = 0.5e-6
TARGET_1M_SECONDS = 30.0
TARGET_1M_MB = 4096.0
TARGET_SLOPE = 1.1


def run_child(firms: int, check: bool) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, str(firms), "1" if check else "0"],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000, 1_000_000])
    ap.add_argument("--repeats", type=int, nargs="+", default=[5, 5, 5, 3],
                    help="runs per size (the last value is reused for further sizes)")
    args = ap.parse_args(argv)
    results = {}
    print(f"{'firms':>10} {'runs':>4} {'median s':>9} {'min s':>8} {'max s':>8} {'µs/firm-year':>13} "
          f"{'firm-years':>12} {'firms end':>10} {'peak RSS MB':>12}")
    for k, n in enumerate(args.sizes):
        repeats = args.repeats[min(k, len(args.repeats) - 1)]
        check_here = n == max(args.sizes)
        runs = [run_child(n, check_here and i == 0) for i in range(repeats)]
        wall = [r["wall"] for r in runs]
        med = statistics.median(wall)
        fy = runs[0]["firm_years"]
        rss = max(r["maxrss_mb"] for r in runs)
        results[n] = {"median": med, "per_firm_year": med / fy, "rss": rss, "first": runs[0]}
        print(f"{n:>10,} {repeats:>4} {med:>9.3f} {min(wall):>8.3f} {max(wall):>8.3f} {1e6 * med / fy:>13.3f} "
              f"{fy:>12,} {runs[0]['firms_end']:>10,} {rss:>12.0f}")
    sizes = sorted(results)
    lo = 10_000 if 10_000 in results else sizes[0]
    hi = sizes[-1]
    slope = (math.log(results[hi]["median"]) - math.log(results[lo]["median"])) / (math.log(hi) - math.log(lo)) \
        if hi > lo else float("nan")
    print(f"log–log slope of time vs firms, {lo:,} → {hi:,}: {slope:.3f}")
    inv = results[hi]["first"].get("invariants", {})
    print(f"invariants of one {hi:,}-firm run:")
    for name, value in inv.items():
        print(f"  {name}: {value:.3g}" if isinstance(value, float) else f"  {name}: {value}")
    parts, verdicts = [], []
    if 100_000 in results:
        pfy = results[100_000]["per_firm_year"]
        parts.append(f"100k {1e6 * pfy:.3f} µs/firm-year")
        verdicts.append(pfy <= TARGET_PER_FIRM_YEAR_100K)
    if 1_000_000 in results:
        r = results[1_000_000]
        parts.append(f"1M {r['median']:.1f} s, {r['rss']:.0f} MB")
        verdicts += [r["median"] < TARGET_1M_SECONDS, r["rss"] < TARGET_1M_MB]
    parts.append(f"slope {slope:.2f}")
    verdicts.append(slope <= TARGET_SLOPE)
    if inv:
        ok = results[hi]["first"]["invariants_ok"]
        parts.append(f"invariants {'ok' if ok else 'VIOLATED'}")
        verdicts.append(ok)
    print("load average (1, 5, 15 min) at the end: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"summary: scaling {'; '.join(parts)}; "
          f"{'all targets met' if all(verdicts) else 'SOME TARGET MISSED'} "
          f"(≤0.5 µs at 100k, 1M <30 s and <4 GB, slope ≤1.1)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
