"""Sweep throughput (serial vs 2 worker processes) and coordinator memory (200 vs 2,000 runs).

    python benchmarks/sweep_throughput.py [--repeats 3] [--quick]

1. Throughput: a 200-run sweep of the baseline at 2,000 firms, 2024–2050 (Latin hypercube
   over θ and the US AI subsidy, 50 samples × 4 replicates), run `--repeats` times on the
   serial executor and on a 2-process pool; medians side by side. Target: ≥ 1.8×.
2. Coordinator memory: sweeps of 200 and of 2,000 runs, each in a fresh process on a
   2-process pool, measuring the coordinator only — its peak of traced Python/NumPy
   allocations during `run_sweep` (tracemalloc) and its peak resident set (ru_maxrss of
   the process itself, not its workers). To keep the 2,000-run sweep to about a minute
   both use 300 firms and stop in 2030 (the runs' size does not reach the coordinator).
   Both sweeps send 16 runs per task, so that the comparison shows memory per finished run, not
   the batch size (which grows with a sweep up to its cap). Target: flat (the coordinator holds at
   most 2 × workers batches of results at a time, and one byte of status per run).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EXPERIMENT = """
[experiment]
title = "benchmark"
scenario = "baseline"
design = "lhs"
samples = {samples}
replicates = {replicates}
seed = 7
firms = {firms}
[fixed]
"run.end_year" = {end_year}
"countries.USA.ai_fund" = 1e11
[levers]
"countries.USA.ai_subsidy_rate" = {{ min = 0.0, max = 0.5 }}
[uncertainties]
"model.theta" = {{ min = 3.5, max = 5.0 }}
[outcomes]
us_end = {{ metric = "production_share", country = "USA", year = {end_year} }}
us = {{ metric = "production_share", country = "USA" }}
"""


def experiment(tmp: Path, runs: int, firms: int, end_year: int):
    from sim.experiments.experiment import load_experiment

    path = tmp / f"bench_{runs}_{firms}_{end_year}.toml"
    path.write_text(EXPERIMENT.format(samples=runs // 4, replicates=4, firms=firms, end_year=end_year))
    return load_experiment(path)


def timed_sweep(exp, out: Path, executor_name: str, workers: int = 2) -> float:
    from sim.experiments.parallel import process_pool
    from sim.experiments.sweep import SerialExecutor, run_sweep

    executor = SerialExecutor() if executor_name == "serial" else process_pool(workers)
    try:
        t0 = time.perf_counter()
        summary = run_sweep(exp, out, executor, workers=workers, progress=False)
        seconds = time.perf_counter() - t0
    finally:
        executor.shutdown()
    assert summary.ok == exp.n_runs, summary
    return seconds


def child_memory(runs: int, firms: int, end_year: int) -> None:
    """In a fresh process: one sweep on 2 workers; print the coordinator's peaks as JSON."""
    from sim.experiments.parallel import process_pool
    from sim.experiments.sweep import run_sweep

    with tempfile.TemporaryDirectory() as tmp:
        exp = experiment(Path(tmp), runs, firms, end_year)
        exp.design  # noqa: B018 - draw the design before measuring (it is O(samples × factors) floats)
        pool = process_pool(2)
        pool.submit(int).result()  # start the workers now, so they do not inherit tracemalloc
        import pandas  # noqa: F401 - libraries the coordinator imports once (pyarrow imports pandas) are not
        import pyarrow.parquet  # noqa: F401 - what this measures: the coordinator's memory per run
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        tracemalloc.start()
        t0 = time.perf_counter()
        # one batch size for both sweeps: left to itself it grows with the sweep up to its cap (runs in flight
        # are bounded by 2 x workers x MAX_BATCH), which is not what this compares: memory per finished run
        summary = run_sweep(exp, Path(tmp) / "out", pool, workers=2, progress=False, batch=16)
        seconds = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        pool.shutdown()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"runs": summary.ok, "seconds": seconds, "traced_peak_kb": peak / 1024,
                      "rss_before_kb": rss_before, "rss_peak_kb": rss}))


def memory(runs: int, firms: int, end_year: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child-memory", str(runs), str(firms), str(end_year)],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="smaller sweeps, for a smoke test")
    parser.add_argument("--child-memory", nargs=3, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_memory:
        child_memory(*args.child_memory)
        return 0
    runs, big = (40, 400) if args.quick else (200, 2000)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        exp = experiment(tmp, runs, 2000, 2050)
        timed_sweep(exp, tmp / "warm", "serial")            # imports, caches
        times: dict[str, list[float]] = {"serial": [], "process": []}
        for i in range(args.repeats):
            for name in times:
                times[name].append(timed_sweep(exp, tmp / f"{name}{i}", name))
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"throughput: {runs}-run sweep of the baseline, 2,000 firms, 2024-2050, {args.repeats} repeats (median)")
    print(f"  {'executor':<22}{'seconds':>9}{'runs/s':>9}   all seconds")
    for name, label in (("serial", "serial"), ("process", "process, 2 workers")):
        print(f"  {label:<22}{med[name]:>9.2f}{runs / med[name]:>9.1f}   "
              + ", ".join(f"{t:.2f}" for t in times[name]))
    ratio = med["serial"] / med["process"]
    print(f"  speed-up {ratio:.2f}x (target >= 1.8x)")

    print(f"coordinator memory: {runs} vs {big} runs, 300 firms, 2024-2030, process pool of 2 (fresh process each)")
    mem = {n: memory(n, 300, 2030) for n in (runs, big)}
    print(f"  {'runs':>6}{'seconds':>9}{'traced peak (KiB)':>19}{'RSS peak (MiB)':>16}{'RSS at start (MiB)':>20}")
    for n, m in mem.items():
        print(f"  {n:>6}{m['seconds']:>9.1f}{m['traced_peak_kb']:>19.0f}{m['rss_peak_kb'] / 1024:>16.1f}"
              f"{m['rss_before_kb'] / 1024:>20.1f}")
    traced = mem[big]["traced_peak_kb"] / mem[runs]["traced_peak_kb"]
    rss = mem[big]["rss_peak_kb"] / mem[runs]["rss_peak_kb"]
    print(f"summary: {ratio:.2f}x faster on 2 processes than serial ({'meets' if ratio >= 1.8 else 'misses'} 1.8x); "
          f"coordinator peak {big} vs {runs} runs: traced x{traced:.2f}, RSS x{rss:.2f} "
          f"({'flat' if traced < 1.25 and rss < 1.1 else 'NOT flat'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
