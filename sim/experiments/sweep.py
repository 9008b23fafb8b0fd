"""Running an experiment's runs on any `concurrent.futures.Executor`, streaming each finished run to disk.

The coordinator keeps at most `in_flight` runs submitted; each result is written
(atomically, `sim.experiments.store`) as soon as it arrives and then dropped, so memory does not
grow with the number of runs. Running the same sweep again skips complete runs.
Workers only compute: they get a picklable `Task` and return the run's record and its
Parquet bytes, so they need no shared file system (dask workers on other machines).
"""

from __future__ import annotations

import concurrent.futures as cf
import io
import json
import os
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.errors import UserError
from sim.experiments.experiment import Experiment, Outcome, apply_overrides
from sim.experiments.parallel import single_threaded_blas
from sim.experiments.store import (
    META_KEY,
    Lock,
    build_tables,
    count_runs,
    load_sweep,
    prepare,
    quarantine_damaged,
    read_record,
    read_table,
    run_path,
    run_status,
    store,
)
from sim.provenance import git_commit, now_iso
from sim.scenarios.scenario import Scenario

FAIL_ENV = "FACTORYSHIFT_FAIL_RUNS"


# ---------------------------------------------------------------------------------- one run
@dataclass(frozen=True)
class Task:
    """Everything a worker needs for one run (picklable, no file system access)."""

    run_id: int
    sample: int
    replicate: int
    values: dict            # factor path -> value
    overrides: dict         # scenario path -> value (values plus linked `also` paths)
    entropy: int
    spawn_key: tuple
    firms: int
    base: Scenario
    outcomes: tuple[Outcome, ...]
    fail: bool = False      # testing aid: raise instead of running (FACTORYSHIFT_FAIL_RUNS)

    def record(self) -> dict:
        return {"run_id": self.run_id, "sample": self.sample, "replicate": self.replicate,
                "seed_entropy": self.entropy, "spawn_key": list(self.spawn_key), "firms": self.firms,
                "values": self.values}


def simulate(task: Task):
    """The run's countries table (year × country), as `factoryshift run` records it."""
    from sim.model.model import FactoryShiftModel

    if task.fail:
        raise RuntimeError(f"injected failure of run {task.run_id} ({FAIL_ENV}, a testing aid)")
    scenario = apply_overrides(task.base, task.overrides, source=f"run {task.run_id}")
    seed = np.random.SeedSequence(task.entropy, spawn_key=task.spawn_key)
    with single_threaded_blas(), np.errstate(all="ignore"):   # sim.model.health reports non-finite values
        model = FactoryShiftModel(scenario, seed=seed, firms=task.firms)
        model.run()
    return model.recorder.countries()


def to_table(frame, run_id: int, meta: dict | None = None):
    import pyarrow as pa

    frame = frame.copy()
    frame.insert(0, "run_id", np.int64(run_id))
    table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    return table.replace_schema_metadata({META_KEY: json.dumps(meta)}) if meta is not None else table


def run_task(task: Task) -> dict:
    """Run one task in a worker; never raises. Returns the record and the Parquet file's bytes."""
    import pyarrow.parquet as pq

    t0 = time.perf_counter()
    record = task.record()
    try:
        frame = simulate(task)
        record["outcomes"], trajectories = {}, {}
        for outcome in task.outcomes:
            value = outcome.evaluate(frame)
            if outcome.scalar:
                record["outcomes"][outcome.name] = value
            else:
                trajectories[outcome.name] = [float(v) for v in value]
        if trajectories:
            trajectories["year"] = [int(y) for y in np.unique(frame["year"])]
        record.update(trajectories=trajectories, status="ok", seconds=round(time.perf_counter() - t0, 4))
        buf = io.BytesIO()
        pq.write_table(to_table(frame, task.run_id, record), buf)
        return {"record": record, "data": buf.getvalue()}
    except Exception as exc:  # a failing run is data, not a crash of the sweep
        message = "; ".join(exc.messages) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
        record.update(status="failed", error=message, traceback=traceback.format_exc(),
                      seconds=round(time.perf_counter() - t0, 4))
        return {"record": record, "data": None}


def failing_runs() -> set[int]:
    """Run ids listed in FACTORYSHIFT_FAIL_RUNS ("3" or "3,17"): a testing aid that makes them fail."""
    raw = os.environ.get(FAIL_ENV, "").replace(",", " ").split()
    try:
        return {int(x) for x in raw}
    except ValueError:
        raise UserError(f"{FAIL_ENV}: must be run ids separated by commas, got {os.environ[FAIL_ENV]!r}") from None


def tasks(experiment: Experiment, run_ids, fail: set[int] = frozenset()):
    """Tasks of the given run ids, generated lazily."""
    design, seeds = experiment.design, experiment.seeds()
    outcomes = experiment.outcomes
    for run_id in run_ids:
        sample, rep = experiment.run_index(run_id)
        seed = seeds[rep]
        yield Task(run_id, sample, rep, design.values(sample), design.point(sample), int(seed.entropy),
                   tuple(seed.spawn_key), experiment.firms, experiment.base, outcomes, run_id in fail)


# ---------------------------------------------------------------------------------- executors
class SerialExecutor(cf.Executor):
    """Runs each call at submit time in this process (the ``serial`` executor)."""

    def submit(self, fn, /, *args, **kwargs):
        future: cf.Future = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


class Progress:
    """A tqdm bar (rate, ETA) on a terminal; a plain line every `every` seconds otherwise."""

    def __init__(self, total: int, label: str, enabled: bool = True, every: float = 10.0):
        self.total, self.label, self.enabled, self.every = total, label, enabled, every
        self.done = self.failed = 0
        self.t0 = self.last = time.monotonic()
        self.bar = None
        if enabled and total and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=label, unit="run", file=sys.stderr, smoothing=0.1)

    def update(self, ok: bool) -> None:
        self.done += 1
        self.failed += not ok
        if self.bar is not None:
            self.bar.update(1)
            if not ok:
                self.bar.set_postfix(failed=self.failed)
        elif self.enabled and (time.monotonic() - self.last >= self.every or self.done == self.total):
            self.last = time.monotonic()
            rate = self.done / max(self.last - self.t0, 1e-9)
            eta = (self.total - self.done) / rate if rate else float("inf")
            print(f"{self.label}: {self.done}/{self.total} runs, {self.failed} failed, {rate:.1f} runs/s, "
                  f"ETA {eta:.0f} s", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# ---------------------------------------------------------------------------------- the sweep
@dataclass
class SweepSummary:
    out: Path
    total: int              # runs in the experiment
    ran: int                # runs executed by this call
    skipped: int            # runs already complete before this call
    ok: int                 # complete runs in the folder now
    failed: int             # failed runs in the folder now
    seconds: float

    @property
    def remaining(self) -> int:
        return self.total - self.ok - self.failed

    def line(self, name: str) -> str:
        rate = self.ran / self.seconds if self.seconds > 0 else 0.0
        text = (f"{name}: {self.ok + self.failed}/{self.total} runs done ({self.ok} ok, {self.failed} failed); "
                f"this session ran {self.ran} in {self.seconds:.1f} s ({rate:.1f} runs/s), "
                f"{self.skipped} already done")
        return text + (f"; {self.remaining} remain — run again to continue" if self.remaining else "")


def run_sweep(experiment: Experiment, out: str | Path, executor: cf.Executor | None = None, *,
              workers: int | None = None, limit: int | None = None, progress: bool = True,
              in_flight: int | None = None, session: dict | None = None) -> SweepSummary:
    """Run every run of `experiment` not yet complete in `out` on `executor` (default: serial, here).

    `executor` may be any `concurrent.futures.Executor` (a process pool, a dask
    ``Client.get_executor()``); it is not shut down. At most `in_flight` runs (default
    2 × `workers`) are submitted at once; each finished run is written to disk at once.
    """
    out = Path(out)
    executor = executor or SerialExecutor()
    workers = workers or getattr(executor, "_max_workers", None) or os.cpu_count() or 1
    in_flight = in_flight or 2 * workers
    fail = failing_runs()
    session = {"started": now_iso(), "executor": type(executor).__name__, "workers": workers, "limit": limit,
               "git_commit": git_commit(), **(session or {})}
    t0 = time.perf_counter()
    with Lock(out):
        prepare(out, experiment, session)
        for warning in quarantine_damaged(out, experiment.n_runs):
            print(warning, file=sys.stderr)
        skipped, _ = count_runs(out, experiment.n_runs)
        todo_n = experiment.n_runs - skipped
        if limit is not None:
            todo_n = min(todo_n, limit)
        todo = (i for i in range(experiment.n_runs) if run_status(out, i) != "ok")
        stream = tasks(experiment, (i for _, i in zip(range(todo_n), todo)), fail)
        bar = None  # created after the first submissions: a forking pool starts its workers before tqdm's thread
        pending: dict[cf.Future, int] = {}
        ran, broken = 0, None
        try:
            while True:
                while broken is None and len(pending) < in_flight:
                    task = next(stream, None)
                    if task is None:
                        break
                    pending[executor.submit(run_task, task)] = task.run_id
                bar = bar or Progress(todo_n, experiment.name, progress)
                if not pending:
                    break
                done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                for future in done:
                    pending.pop(future)
                    try:
                        result = future.result()
                    except Exception as exc:  # the executor lost the run (a worker died)
                        broken = broken or exc
                        continue
                    store(out, result)
                    ran += 1
                    bar.update(result["data"] is not None)
        finally:
            if bar is not None:
                bar.close()
            for future in pending:
                future.cancel()
        if broken is not None:
            raise RuntimeError(f"the executor lost runs ({type(broken).__name__}: {broken}); finished runs are "
                               f"saved in {out} — run the same command again to resume")
        build_tables(out, experiment)
        ok, failed = count_runs(out, experiment.n_runs)
    return SweepSummary(out, experiment.n_runs, ran, skipped, ok, failed, time.perf_counter() - t0)


# ---------------------------------------------------------------------------------- re-running one run
def rerun(out: str | Path, run_id: int):
    """Re-run one run of a sweep alone, from its recorded seed and values; returns its Arrow table."""
    out = Path(out)
    experiment, _ = load_sweep(out)
    if not 0 <= run_id < experiment.n_runs:
        raise UserError(f"{out}: run {run_id} does not exist (runs are 0–{experiment.n_runs - 1})")
    task = next(tasks(experiment, [run_id]))
    for path, failed in ((run_path(out, run_id), False), (run_path(out, run_id, True), True)):
        if os.path.isfile(path):  # use the seed and values as recorded, not as re-derived
            rec = read_record(out, run_id, failed)
            task = Task(run_id, rec["sample"], rec["replicate"], rec["values"], {
                **{p: rec["values"][f.path] for f in experiment.factors for p in f.paths}},
                rec["seed_entropy"], tuple(rec["spawn_key"]), rec["firms"], experiment.base, experiment.outcomes)
            break
    return to_table(simulate(task), run_id)


def verify_rerun(out: str | Path, run_id: int) -> tuple[bool, str]:
    """Re-run one run and compare it with the stored file, value for value."""
    import pyarrow.parquet as pq

    path = run_path(out, run_id)
    if not os.path.isfile(path):
        raise UserError(f"{out}: run {run_id} has no stored result to compare with")
    fresh = rerun(out, run_id)
    stored = read_table(path)
    buf = io.BytesIO()
    pq.write_table(fresh, buf)
    fresh = read_table(io.BytesIO(buf.getvalue()))
    if stored.equals(fresh):
        return True, f"run {run_id} reproduced bit for bit ({stored.num_rows} rows × {stored.num_columns} columns)"
    diff = [c for c in stored.column_names if c not in fresh.column_names or not stored[c].equals(fresh[c])]
    return False, f"run {run_id} differs from the stored result in columns: {', '.join(diff) or 'schema'}"
