"""Vectorised model vs the plain-Mesa reference (benchmarks/reference_model.py), side by side.

Baseline, 2024–2050, at 1,000 and 10,000 firms, in one process. The reference replays the
vectorised run's random numbers, so both do the same work (Model v2 rules); the script also
checks that they agree (largest relative difference over every firm and country quantity). The vectorised
time is a whole run (construction + steps, after a warm-up); the reference time is its
construction + steps from the recorded draws (recording them is not timed).

    .venv/bin/python benchmarks/vs_reference.py [--sizes 1000 10000] [--ref-repeats 3 1]

Target: the vectorised model at least 50× faster at 10,000 firms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from sim import FactoryShiftModel, load_scenario

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference_model import RecordingDraws, ReferenceModel, compare  # noqa: E402

TARGET_RATIO = 50.0
SEED = 20240101


def timed(fn, repeats):
    """Wall times of `repeats` calls of fn(), and the last call's result."""
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return times, result


def fmt(times):
    return (f"median {statistics.median(times):8.3f} s  min {min(times):8.3f} s  max {max(times):8.3f} s  "
            f"({len(times)} run{'s' if len(times) > 1 else ''})")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000])
    ap.add_argument("--fast-repeats", type=int, default=5)
    ap.add_argument("--ref-repeats", type=int, nargs="+", default=[3, 1],
                    help="reference runs per size (the last value is reused for further sizes)")
    args = ap.parse_args(argv)
    scenario = load_scenario("baseline")
    FactoryShiftModel(scenario, firms=1000).run()                         # warm-up
    ratios = {}
    for k, n in enumerate(args.sizes):
        fast, _ = timed(lambda n=n: FactoryShiftModel(scenario, firms=n, seed=SEED).run(), args.fast_repeats)
        draws = RecordingDraws(np.random.default_rng(SEED))
        fast_model = FactoryShiftModel(scenario, firms=n, draws=draws).run()
        repeats = args.ref_repeats[min(k, len(args.ref_repeats) - 1)]
        slow, slow_model = timed(lambda n=n, d=draws: ReferenceModel(scenario, d.replay(), firms=n).run(), repeats)
        differences = compare(fast_model, slow_model)
        worst_key = max(differences, key=differences.get)
        worst = differences[worst_key]
        ratio = statistics.median(slow) / statistics.median(fast)
        ratios[n] = ratio
        print(f"{n:,} firms, baseline {fast_model.start_year}–{fast_model.year} "
              f"({len(fast_model.firms):,} firms at the end)")
        print(f"  vectorised  {fmt(fast)}")
        print(f"  reference   {fmt(slow)}")
        print(f"  ratio       {ratio:.0f}×   (largest relative difference between the runs: {worst:.1e}, "
              f"{worst_key})")
        del slow_model
    n_big = max(ratios)
    verdict = "met" if ratios[n_big] >= TARGET_RATIO else "MISSED"
    print("load average (1, 5, 15 min) at the end: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    print("summary: vectorised vs reference " + ", ".join(f"{r:.0f}× at {n:,} firms" for n, r in ratios.items())
          + f"; target ≥ {TARGET_RATIO:g}× at {n_big:,} {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
