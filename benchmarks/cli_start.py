"""How fast the command line starts, and a 10,000-firm run as a whole process (issue 14, item 7).

    python benchmarks/cli_start.py [--repeats 7] [--tree DIR]

Each command runs as a fresh process (`python -m sim ...`, what `factoryshift` runs), `--repeats`
times; the table gives the median and the range of the wall times. `--tree DIR` measures another
checkout of the code with this interpreter (e.g. `git worktree add /tmp/before <commit>`), so
two versions can be compared side by side on the same machine and load.

Targets: `--help`, `list`, `validate` and `show` under 0.4 s; a 10,000-firm run of the baseline,
2024-2050, under 0.8 s as a whole process. The run is measured with `--no-plot` (the model, its
imports and the CSV files) and with the figures (Matplotlib and three figures as PNG + SVG); the
model alone (building and stepping it, in this process after a warm-up) is printed for reference.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

COMMANDS = [  # (label, arguments, target in seconds)
    ("--help", ["--help"], 0.4),
    ("list", ["list"], 0.4),
    ("validate a scenario", ["validate", "scenarios/west_reshoring.toml"], 0.4),
    ("validate an experiment", ["validate", "experiments/us_reshoring_levers.toml"], 0.4),
    ("show baseline", ["show", "baseline"], 0.4),
    ("run, 10,000 firms, --no-plot", ["run", "--firms", "10000", "--no-plot", "--force", "--out", "{out}"], 0.8),
    ("run, 10,000 firms, with figures", ["run", "--firms", "10000", "--force", "--out", "{out}"], 0.8),
]


def wall_times(args: list[str], repeats: int, env: dict, cwd: Path) -> list[float]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return times


def model_seconds(tree: Path, repeats: int, env: dict) -> float:
    code = ("import statistics, time; from sim import FactoryShiftModel, load_scenario\n"
            "s = load_scenario('baseline'); FactoryShiftModel(s, firms=10000).run(); t = []\n"
            f"for _ in range({repeats}):\n"
            "    t0 = time.perf_counter(); FactoryShiftModel(s, firms=10000).run()\n"
            "    t.append(time.perf_counter() - t0)\n"
            "print(statistics.median(t))")
    out = subprocess.run([sys.executable, "-c", code], cwd=tree, env=env, check=True, capture_output=True, text=True)
    return float(out.stdout.strip())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--tree", type=Path, default=ROOT, help="source tree to measure (default: this one)")
    args = ap.parse_args()
    tree = args.tree.resolve()
    env = dict(os.environ, PYTHONPATH=str(tree))
    print(f"command line start-up, {tree}, {args.repeats} runs each (median, min-max), load average "
          + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"  {'command':<34}{'median':>8}{'min':>8}{'max':>8}  target")
    medians = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, argv, target in COMMANDS:
            argv = [a.replace("{out}", str(Path(tmp) / "run")) for a in argv]
            wall_times(argv, 1, env, tree)                         # warm the file cache
            times = wall_times(argv, args.repeats, env, tree)
            med = medians[label] = statistics.median(times)
            print(f"  {label:<34}{med:>8.3f}{min(times):>8.3f}{max(times):>8.3f}  < {target:g} s "
                  f"{'met' if med < target else 'MISSED'}")
    model = model_seconds(tree, args.repeats, env)
    print(f"  {'(the model alone: build + 26 steps)':<34}{model:>8.3f}")
    print("load average at the end: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    print("summary: " + "; ".join(f"{label} {med:.2f} s" for label, med in medians.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
