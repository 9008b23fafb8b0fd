"""What revaluing last year's shares at this year's prices costs a step (`market.revalue`, ODD 7.2).

The baseline's steps 2025–2034 at 100,000 firms with `volume_inertia` 0 (no revaluation) and at its
shipped value, interleaved in one session so the ratio is measured side by side; medians of the runs.

    .venv/bin/python benchmarks/volume_inertia.py [--firms 100000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

from sim import FactoryShiftModel, load_scenario
from sim.scenarios import parameters as P


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    baseline = load_scenario("baseline")
    values = (0.0, P.MODEL["volume_inertia"].default)
    seconds: dict[float, list[float]] = {v: [] for v in values}
    for _ in range(args.repeats):
        for v in values:
            model = FactoryShiftModel(baseline.with_overrides({"run.firms": args.firms, "model.volume_inertia": v}),
                                      seed=1)
            t0 = time.perf_counter()
            model.run(2034)
            seconds[v].append(time.perf_counter() - t0)
    per_firm_year = {v: statistics.median(s) / 10 / args.firms * 1e6 for v, s in seconds.items()}
    for v in values:
        print(f"volume_inertia {v:g}: steps 2025-2034 {statistics.median(seconds[v]):.3f} s "
              f"(runs {', '.join(f'{s:.3f}' for s in seconds[v])}), {per_firm_year[v]:.3f} µs per firm-year")
    print(f"ratio {per_firm_year[values[1]] / per_firm_year[values[0]]:.3f}")


if __name__ == "__main__":
    main()
