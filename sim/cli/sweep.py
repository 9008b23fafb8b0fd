"""`factoryshift sweep` and `factoryshift analyze`: run an experiment file, analyse a sweep folder."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

from sim.cli.scenarios import print_warnings
from sim.errors import UserError
from sim.output import ensure_out_dir, staged_outputs

EXECUTORS = ("serial", "process", "dask")
FORMATS = ("parquet", "csv")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "sweep", help="run an experiment (many runs of a scenario) and analyse it",
        description="Run every run of EXPERIMENT (a bundled name or a path to an experiment .toml), streaming "
                    "each finished run to DIR. Running the same command again resumes. Exit status: 0 all runs "
                    "ok, 1 some run failed, 2 bad input. See docs/experiments.md.")
    p.add_argument("experiment", metavar="EXPERIMENT")
    p.add_argument("--out", type=Path, metavar="DIR", help="sweep folder (default results/sweeps/<name>/)")
    p.add_argument("--workers", type=int, metavar="N", help="worker processes (default: the number of CPUs)")
    p.add_argument("--executor", choices=EXECUTORS, help="serial, process (default) or dask")
    p.add_argument("--scheduler", metavar="ADDRESS", help="dask scheduler to connect to (tcp://host:8786); "
                   "implies --executor dask")
    p.add_argument("--limit", type=int, metavar="N", help="run at most N more runs, then stop (resume later)")
    p.add_argument("--rerun", type=int, metavar="RUN_ID", help="re-run one stored run alone and check that it "
                   "reproduces bit for bit (nothing is written)")
    p.add_argument("--dry-run", action="store_true", help="print the design's size and its first runs (--limit "
                   "of them, default 10) and exit; nothing is run or written")
    p.add_argument("--no-analyze", action="store_true", help="skip the analysis at the end")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument("--format", choices=FORMATS, default="parquet",
                   help="tables of the results: parquet (default), or csv to write runs.csv, outcomes.csv and "
                        "trajectories.csv next to the Parquet tables (for spreadsheets and BehaviorSpace users)")
    p.set_defaults(func=sweep)

    a = sub.add_parser("analyze", help="analyse a sweep folder (lever effects, sensitivity, plots, analysis.md)",
                       description="Write analysis.md, analysis/*.csv and plots/*.png|svg into DIR.")
    a.add_argument("dir", type=Path, metavar="DIR")
    a.set_defaults(func=analyze)


def sweep(args) -> int:
    from sim.experiments.experiment import load_experiment
    from sim.experiments.sweep import run_sweep, verify_rerun

    executor_name = args.executor or ("dask" if args.scheduler else "process")
    if args.scheduler and executor_name != "dask":
        raise UserError(f"sweep: --scheduler needs --executor dask, got --executor {executor_name}")
    if args.workers is not None and args.workers < 1:
        raise UserError(f"sweep: --workers: must be at least 1, got {args.workers}")
    if args.limit is not None and args.limit < 0:
        raise UserError(f"sweep: --limit: must be ≥ 0, got {args.limit}")
    experiment = load_experiment(args.experiment)
    print_warnings(experiment.warnings)
    out = args.out or Path("results") / "sweeps" / experiment.name
    if args.dry_run:
        return dry_run(experiment, out, args.limit)
    if args.rerun is not None:
        same, message = verify_rerun(out, args.rerun)
        print(message)
        return 0 if same else 1
    ensure_out_dir(out)  # a bad folder fails now, not after the runs
    workers = args.workers or os.cpu_count() or 1
    print(f"{experiment.title}: {experiment.design_text} × "
          f"{experiment.replicates} replicates = {experiment.n_runs} runs of {experiment.firms:,} firms "
          f"({executor_name}, {workers if executor_name != 'serial' else 1} worker(s)) → {out}/",
          file=sys.stderr if args.quiet else sys.stdout)
    try:
        with make_executor(executor_name, workers, args.scheduler) as (executor, n):
            summary = run_sweep(experiment, out, executor, workers=n, limit=args.limit, progress=not args.quiet,
                                session={"executor": executor_name, "scheduler": args.scheduler},
                                csv=args.format == "csv")
    except KeyboardInterrupt:
        return interrupted(experiment, out, args)
    print(summary.line(experiment.name))
    if summary.failed:
        print(f"{summary.failed} run(s) failed; their errors are in {out}/runs.parquet (column error) and "
              f"{out}/runs/*.failed.json. Running the same command again retries them.")
    if not summary.remaining and not args.no_analyze:
        if summary.ok:
            print(f"analysis written to {write_analysis(out)}")
        else:
            print("no analysis: no run succeeded")
    return 1 if summary.failed else 0


def interrupted(experiment, out: Path, args) -> int:
    """Ctrl-C: every finished run is on disk; say how many, and the command that goes on from there."""
    import shlex

    from sim.experiments.store import FAILED, OK, scan

    status = scan(out, experiment.n_runs)
    ok, failed = status.count(OK), status.count(FAILED)
    again = ["factoryshift", "sweep", args.experiment, "--out", str(out)]
    for option in ("executor", "workers", "scheduler", "limit"):
        if getattr(args, option) is not None:
            again += [f"--{option}", str(getattr(args, option))]
    again += ["--format", "csv"] if args.format == "csv" else []
    print(f"interrupted: {ok + failed:,} of {experiment.n_runs:,} runs are kept in {out}/ ({ok:,} ok, {failed:,} "
          f"failed); resume with: {shlex.join(again)}", file=sys.stderr)
    return 130


def dry_run(experiment, out: Path, rows: int | None) -> int:
    import pandas as pd

    from sim.experiments.preview import describe, run_table

    print(describe(experiment) + f" → {out}/ (dry run: nothing run or written)")
    with pd.option_context("display.max_columns", None, "display.width", 200):
        print(run_table(experiment, 10 if rows is None else rows).to_string(index=False))
    return 0


@contextlib.contextmanager
def make_executor(name: str, workers: int, scheduler: str | None):
    """(executor, number of workers) for `name`; shuts down what it started."""
    from sim.experiments.parallel import process_pool
    from sim.experiments.sweep import SerialExecutor

    if name == "serial":
        yield SerialExecutor(), 1
    elif name == "process":
        pool = process_pool(workers)
        try:
            yield pool, workers
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    else:
        yield from _dask(workers, scheduler)


def _dask(workers: int, scheduler: str | None):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise UserError("sweep: --executor dask needs dask[distributed] (pip install 'dask[distributed]')") from None
    cluster = None
    try:
        if scheduler:
            try:
                client = Client(scheduler, timeout="20s")
            except OSError as exc:
                raise UserError(f"sweep: --scheduler {scheduler}: cannot connect ({exc})") from None
        else:
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            client = Client(cluster)
        n = sum(client.nthreads().values()) or workers
        try:
            yield client.get_executor(pure=False), n
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()


def analyze(args) -> int:
    if not (args.dir / "manifest.json").is_file():
        raise UserError(f"{args.dir}: not a sweep folder (no manifest.json)")
    print(f"analysis written to {write_analysis(args.dir)}")
    return 0


#: What `sim.experiments.analysis.analyze` writes into a sweep folder.
ANALYSIS_OUTPUTS = ("analysis.md", "analysis", "plots")


def write_analysis(out: Path) -> Path:
    """The analysis, written aside and swapped in (`sim.output.staged_outputs`): a kill or a full
    disk leaves the previous analysis whole, never a truncated figure."""
    from sim.experiments.analysis import analyze as analyse_into
    from sim.experiments.store import load_sweep, repair_tables

    load_sweep(out)                     # a one-line error for a folder that is not a sweep
    repair_tables(out)
    with staged_outputs(out, ANALYSIS_OUTPUTS, option="analyze") as view:
        try:
            analyse_into(view)
        except UserError as exc:   # name the sweep folder, not the hidden view
            raise UserError([m.replace(str(view), str(out)) for m in exc.messages]) from None
    return out / "analysis.md"
