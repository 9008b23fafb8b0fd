"""Where a step's time goes, and a step against one np.power over the firms × markets price matrix.

1. Shares by submodel (cProfile, baseline at 100,000 firms, steps 2025–2050): the time of
   every function `FactoryShiftModel.step` calls, summed by the submodel it belongs to;
   what `step` computes inline (array expressions between the calls) is its own line, so
   the shares add up to the profiled step time. The profiler sees ~30 Python calls per
   step, so its overhead is small (the unprofiled time is printed for comparison).
2. Ratio: each step of an unprofiled 100,000-firm run against `np.power` of a price matrix
   p_im = uc_i·(1 + τ_{c,m})·d_{c,m} of the same size (living firms × markets) to the power
   −θ — the one operation a naive CES implementation cannot avoid. Median over steps of
   (step time / median of 7 power timings).

    .venv/bin/python benchmarks/profile_step.py [--firms 100000]

Target: step ≤ 5 × np.power.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import time

import numpy as np

from sim import FactoryShiftModel, load_scenario

TARGET_RATIO = 5.0

#: function called by `step` → submodel (anything else counts as "other")
GROUPS = {
    "advance": "1 drifts and schedules", "apply_schedules": "1 drifts and schedules",
    "grow_demand": "1 drifts and schedules",
    "costs": "2 costs", "at_wage": "2 costs", "unit_cost": "2 costs",
    "allocate": "3 market allocation", "market_access": "3 market allocation",
    "clear": "4 labor", "next_wage": "4 labor",
    "adopt": "5 adoption", "keyed_uniform": "5 adoption",  # the adoption draw (step calls it directly)
    "relocate": "6 relocation", "apply": "6 relocation",
    "update_losses": "7 entry and exit", "relative_prices": "7 entry and exit",  # 7a loss test
    "exit_and_enter": "7 entry and exit",
    "country_values": "8 recording", "add_year": "8 recording", "check": "8 recording",
}


def profile_shares(scenario, firms):
    model = FactoryShiftModel(scenario, firms=firms)
    profiler = cProfile.Profile()
    profiler.enable()
    model.run()
    profiler.disable()
    stats = pstats.Stats(profiler).stats
    step_key = next(k for k in stats if k[2] == "step" and k[0].endswith("model.py"))
    step_total = stats[step_key][3]
    groups: dict[str, float] = {}
    for key, (_, _, _, _, callers) in stats.items():
        if step_key in callers:
            name = GROUPS.get(key[2], "other")
            groups[name] = groups.get(name, 0.0) + callers[step_key][3]
    groups["inline array expressions in step()"] = stats[step_key][2]
    return step_total, groups


def price_matrix(model) -> np.ndarray:
    f, costs = model.firms, model.costs()
    return costs.unit_cost(f.automation, f.productivity, f.home, f.location)[:, None] * costs.friction[f.location]


def step_vs_power(scenario, firms):
    model = FactoryShiftModel(scenario, firms=firms)
    theta = model.par["theta"]
    rows = []
    while model.year < model.end_year:
        n = len(model.firms)
        prices = price_matrix(model)
        power = []
        for _ in range(7):
            t0 = time.perf_counter()
            np.power(prices, -theta)
            power.append(time.perf_counter() - t0)
        del prices
        t0 = time.perf_counter()
        model.step()
        rows.append((model.year, n, time.perf_counter() - t0, statistics.median(power)))
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--firms", type=int, default=100_000)
    args = ap.parse_args(argv)
    scenario = load_scenario("baseline")
    FactoryShiftModel(scenario, firms=1000).run()                                 # warm-up

    rows = step_vs_power(scenario, args.firms)
    plain = sum(r[2] for r in rows)
    step_total, groups = profile_shares(scenario, args.firms)
    print(f"baseline, {args.firms:,} firms, {len(rows)} steps: {plain:.2f} s of steps unprofiled, "
          f"{step_total:.2f} s profiled")
    print("share of step time by submodel (cProfile, cumulative time of the functions step() calls):")
    for name, t in sorted(groups.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<40} {100 * t / step_total:5.1f} %   {1e3 * t / len(rows):7.2f} ms/step")
    ratios = [step / power for _, _, step, power in rows]
    print("step vs np.power(p, −θ) over the (living firms × markets) price matrix:")
    for year, n, step, power in rows[:: max(1, len(rows) // 6)] + [rows[-1]]:
        print(f"  {year}  {n:>9,} firms   step {1e3 * step:7.2f} ms   power {1e3 * power:6.2f} ms   "
              f"ratio {step / power:5.2f}")
    med = statistics.median(ratios)
    first = rows[0][2] / rows[0][3]
    verdict = "met" if med <= TARGET_RATIO else "MISSED"
    top = max(groups.items(), key=lambda kv: kv[1])
    print("load average (1, 5, 15 min) at the end: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"summary: profile_step at {args.firms:,} firms: step/np.power median {med:.2f} "
          f"(first step {first:.2f}); target ≤ {TARGET_RATIO:g} {verdict}; largest share "
          f"{top[0]} {100 * top[1] / step_total:.0f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
