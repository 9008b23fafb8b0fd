"""What the sweep coordinator costs per run, and sweep speed-ups on this machine (issue 14, item 8).

    python benchmarks/coordinator.py [--runs 3000] [--real 24] [--repeats 3] [--tree DIR]

1. Coordinator throughput with null runs (FACTORYSHIFT_NULL_RUNS=1: no model, a one-row result,
   so each run costs the coordinator what a real one does — submit, receive, write its file,
   count it — and the workers almost nothing). Each configuration runs in a fresh process; the
   table gives runs per second of wall time and the coordinator's own CPU time per run
   (getrusage of the coordinator process: with a local Dask cluster that includes the
   scheduler, which runs in it). "runs/s the coordinator can absorb" = 1 / CPU per run. Target
   ≥ 1,000 runs/s. `--batch 1` columns show the cost without batching runs into tasks.
2. Speed-up on real runs: a sweep of `--real` runs of the baseline with 10,000 firms, 2024-2050,
   serial, on a 2-process pool and on a local Dask cluster of 2 workers, `--repeats` times each
   (median), with a check that the three give identical outcomes.

`--tree DIR` measures another checkout (a tree without the null-run aid is measured with its
`simulate` replaced in the coordinator, which forked pool workers inherit; Dask is then skipped).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sweep_throughput import EXPERIMENT  # noqa: E402 - the same sweep (US subsidy x theta, two outcomes)

CHILD = textwrap.dedent("""
    import json, os, resource, sys, time
    from pathlib import Path
    import sim.experiments.sweep as S
    from sim.experiments.experiment import load_experiment
    from sim.cli.sweep import make_executor
    exp_path, out, executor, workers, batch, null = sys.argv[1:7]
    if null == "1" and not hasattr(S, "NULL_ENV"):        # an older tree: replace simulate here (fork inherits)
        def simulate(task):                               # as sim.experiments.sweep.simulate does for null runs
            import pandas as pd
            years, codes = range(task.base.run["start_year"], task.base.run["end_year"] + 1), task.base.codes
            return pd.DataFrame({"year": [y for y in years for _ in codes], "country": list(codes) * len(years),
                                 **{o.metric: 0.0 for o in task.outcomes}})
        S.simulate = simulate
    exp = load_experiment(Path(exp_path))
    exp.design
    kw = {"batch": int(batch)} if batch != "0" and hasattr(S, "BatchSizer") else {}   # older trees: 1 run a task
    with make_executor(executor, int(workers), None) as (ex, n):
        if executor != "serial":                      # start the workers before timing
            ex.submit(int).result()
        r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        summary = S.run_sweep(exp, out, ex, workers=n, progress=False, **kw)
        wall, r1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    print(json.dumps({"runs": summary.ran, "ok": summary.ok, "wall": wall, "cpu": cpu}))
""")


def child(tree: Path, exp: Path, out: Path, executor: str, workers: int, batch: int, null: bool) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree), FACTORYSHIFT_NULL_RUNS="1" if null else "0")
    proc = subprocess.run([sys.executable, "-c", CHILD, str(exp), str(out), executor, str(workers), str(batch),
                           "1" if null else "0"], env=env, cwd=tree, capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def outcomes(out: Path):
    import pyarrow.parquet as pq

    return pq.read_table(out / "outcomes.parquet").to_pandas().sort_values("run_id").reset_index(drop=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3000, help="null runs per configuration")
    ap.add_argument("--real", type=int, default=24, help="real runs (10,000 firms) in the speed-up sweep")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--tree", type=Path, default=ROOT)
    args = ap.parse_args()
    tree = args.tree.resolve()
    new = "NULL_ENV" in (tree / "sim/experiments/sweep.py").read_text()
    print(f"tree {tree}; load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        null_exp = tmp / "null.toml"
        null_exp.write_text(EXPERIMENT.format(samples=args.runs // 2, replicates=2, firms=40, end_year=2026))
        print(f"1. coordinator, {args.runs} null runs (median of {args.repeats}; fresh process each)")
        print(f"   {'executor':<26}{'batch':>7}{'wall s':>9}{'runs/s':>9}{'CPU ms/run':>12}{'absorbs runs/s':>16}")
        configs = [("serial", 1, 1), ("process", 2, 1), ("process", 2, 0), ("dask", 2, 1), ("dask", 2, 0)]
        for executor, workers, batch in configs:
            if not new and (batch == 0 or executor == "dask"):
                continue
            rows = [child(tree, null_exp, tmp / f"n-{executor}-{batch}-{i}", executor, workers, batch, True)
                    for i in range(args.repeats)]
            if "error" in rows[0]:
                print(f"   {executor:<26} failed: {rows[0]['error']}")
                continue
            wall = statistics.median(r["wall"] for r in rows)
            cpu = statistics.median(r["cpu"] for r in rows) / args.runs
            label = f"{executor}" + (f", {workers} workers" if executor != "serial" else "")
            print(f"   {label:<26}{'1' if batch == 1 else 'auto':>7}{wall:>9.2f}{args.runs / wall:>9.0f}"
                  f"{1000 * cpu:>12.3f}{1 / cpu:>16.0f}")

        if args.real <= 0:
            return 0
        real_exp = tmp / "real.toml"
        real_exp.write_text(EXPERIMENT.format(samples=args.real // 2, replicates=2, firms=10_000, end_year=2050))
        print(f"2. speed-up, {args.real} runs x 10,000 firms, 2024-2050 (median of {args.repeats})")
        times, reference = {}, None
        for executor, workers in (("serial", 1), ("process", 2), ("dask", 2)):
            if executor == "dask" and not new:
                continue
            walls = []
            for i in range(args.repeats):
                out = tmp / f"r-{executor}-{i}"
                row = child(tree, real_exp, out, executor, workers, 0, False)
                walls.append(row["wall"])
                frame = outcomes(out)
                reference = frame if reference is None else reference
                assert frame.equals(reference), f"{executor} results differ"
            times[executor] = statistics.median(walls)
            print(f"   {executor:<10}{times[executor]:>8.2f} s  {args.real / times[executor]:>6.1f} runs/s  "
                  f"x{times['serial'] / times[executor]:.2f} vs serial   (" + ", ".join(f"{w:.2f}" for w in walls)
                  + ")")
        print("   results identical across executors")
        # The machine's own ceiling: the same work as independent processes, no coordinator at all
        part = tmp / "part.toml"
        part.write_text(EXPERIMENT.format(samples=max(1, args.real // 4), replicates=2, firms=10_000, end_year=2050))
        walls = []
        for i in range(args.repeats):
            env = dict(os.environ, PYTHONPATH=str(tree), FACTORYSHIFT_NULL_RUNS="0")
            procs = [subprocess.Popen([sys.executable, "-c", CHILD, str(part), str(tmp / f"c{i}-{k}"), "serial", "1",
                                       "0", "0"], env=env, cwd=tree, stdout=subprocess.PIPE, text=True)
                     for k in range(2)]
            walls.append(max(json.loads(p.communicate()[0].strip().splitlines()[-1])["wall"] for p in procs))
        ceiling, total = statistics.median(walls), 4 * max(1, args.real // 4)
        print(f"   2 independent processes, {total} runs, no coordinator: {ceiling:.2f} s = "
              f"x{times['serial'] / args.real * total / ceiling:.2f} vs serial (this machine's ceiling for 2)")
    print("load average at the end: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
