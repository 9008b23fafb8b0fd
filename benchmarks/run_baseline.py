"""Baseline, 10,000 firms, 2024–2050: wall time per run and per firm-year (issue 2's benchmark).

A run is what `factoryshift run` times: building the model (initialisation and calibration)
plus every step to 2050, without recording firm panels or writing files. One warm-up run
is made first and not counted.

    .venv/bin/python benchmarks/run_baseline.py [--firms 10000] [--repeats 5]

Target: < 1 s per run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from sim import FactoryShiftModel, load_scenario

TARGET_SECONDS = 1.0


def firm_years(model) -> int:
    """Firm-years simulated: Σ over steps of the living firms at the start of the step."""
    table = model.recorder.countries()
    per_year = table.groupby("year").firms.sum()
    return int(per_year.loc[model.start_year:model.year - 1].sum())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--firms", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    scenario = load_scenario("baseline")
    FactoryShiftModel(scenario, firms=args.firms).run()                     # warm-up
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        model = FactoryShiftModel(scenario, firms=args.firms).run()
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    fy = firm_years(model)
    nominal = args.firms * (model.year - model.start_year)
    print(f"baseline, {args.firms:,} firms, {model.start_year}–{model.year}, {args.repeats} runs (after 1 warm-up)")
    print(f"  time per run      median {med:.3f} s   min {min(times):.3f} s   max {max(times):.3f} s")
    print(f"  firm-years        {fy:,} simulated ({nominal:,} = firms at start × years)")
    print(f"  per firm-year     {1e6 * med / fy:.3f} µs   ({1e6 * med / nominal:.3f} µs per nominal firm-year)")
    verdict = "met" if med < TARGET_SECONDS else "MISSED"
    print("load average (1, 5, 15 min) at the end: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"summary: run_baseline median {med:.3f} s per run ({1e6 * med / fy:.3f} µs/firm-year); "
          f"target < {TARGET_SECONDS:g} s {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
