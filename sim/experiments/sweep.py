"""Running an experiment's runs on any `concurrent.futures.Executor`, streaming each finished run to disk.

The coordinator submits runs in batches (`BatchSizer`) and keeps at most `in_flight` batches
submitted; each run is written (atomically, `sim.experiments.store`) as soon as its batch
returns and then dropped, so memory does not grow with the number of runs. Running the same
sweep again skips complete runs. Workers only compute: they get picklable `Task`s and return
each run's record and its Parquet bytes, so they need no shared file system (dask workers on
other machines).
"""

from __future__ import annotations

import concurrent.futures as cf
import io
import itertools
import json
import os
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.blas import single_threaded_blas
from sim.errors import UserError
from sim.experiments.experiment import Experiment, Outcome, apply_overrides
from sim.experiments.store import (
    FAILED,
    META_KEY,
    NOT_RUN,
    OK,
    Lock,
    build_tables,
    load_sweep,
    mark_checked,
    prepare,
    quarantine_damaged,
    read_record,
    read_table,
    run_path,
    scan,
    store,
    with_status,
)
from sim.progress import Progress
from sim.provenance import git_commit, now_iso
from sim.scenarios.scenario import Scenario

FAIL_ENV = "FACTORYSHIFT_FAIL_RUNS"
#: Benchmark aid: "1" makes every run a null run (no model; a table of zeros), so that
#: benchmarks/coordinator.py measures what the coordinator costs per run, on any executor.
NULL_ENV = "FACTORYSHIFT_NULL_RUNS"
#: Runs are sent to workers in batches that take about this long (the batch grows to it as run times
#: become known): a task's fixed cost — its round trip, pickling the base scenario, a Dask scheduler's
#: bookkeeping — is then paid once per batch, not once per run.
BATCH_SECONDS = 1.0
MAX_BATCH = 256


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
    null: bool = False      # benchmark aid: no model, a table of zeros (FACTORYSHIFT_NULL_RUNS)

    def record(self) -> dict:
        return {"run_id": self.run_id, "sample": self.sample, "replicate": self.replicate,
                "seed_entropy": self.entropy, "spawn_key": list(self.spawn_key), "firms": self.firms,
                "values": self.values}


def simulate(task: Task):
    """The run's countries table (year × country), as `factoryshift run` records it."""
    from sim.model.model import FactoryShiftModel

    if task.fail:
        raise RuntimeError(f"injected failure of run {task.run_id} ({FAIL_ENV}, a testing aid)")
    if task.null:
        import pandas as pd

        years, codes = range(task.base.run["start_year"], task.base.run["end_year"] + 1), task.base.codes
        return pd.DataFrame({"year": [y for y in years for _ in codes], "country": list(codes) * len(years),
                             **{o.metric: 0.0 for o in task.outcomes}})
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


def run_batch(batch: tuple[Task, ...]) -> list[dict]:
    """Several runs in one task (`run_task` each). The runs share one base scenario object, which
    pickle therefore sends once per batch."""
    return [run_task(task) for task in batch]


def failing_runs() -> set[int]:
    """Run ids listed in FACTORYSHIFT_FAIL_RUNS ("3" or "3,17"): a testing aid that makes them fail."""
    raw = os.environ.get(FAIL_ENV, "").replace(",", " ").split()
    try:
        return {int(x) for x in raw}
    except ValueError:
        raise UserError(f"{FAIL_ENV}: must be run ids separated by commas, got {os.environ[FAIL_ENV]!r}") from None


def tasks(experiment: Experiment, run_ids, fail: set[int] = frozenset(), null: bool = False):
    """Tasks of the given run ids, generated lazily."""
    design, seeds = experiment.design, experiment.seeds()
    outcomes = experiment.outcomes
    for run_id in run_ids:
        sample, rep = experiment.run_index(run_id)
        seed = seeds[rep]
        yield Task(run_id, sample, rep, design.values(sample), design.point(sample), int(seed.entropy),
                   tuple(seed.spawn_key), experiment.firms, experiment.base, outcomes, run_id in fail, null)


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


def checked_since(sessions: list[dict]) -> float | None:
    """When the last earlier session that read every run file began reading them (`mark_checked`),
    less a margin for file-system timestamps; None if none did (the files are then all read)."""
    times = [entry["files_checked"] for entry in sessions if isinstance(entry.get("files_checked"), (int, float))]
    return times[-1] - 120.0 if times else None


class BatchSizer:
    """Runs per task: one until run times are known, then as many as take about `BATCH_SECONDS` (at most
    `MAX_BATCH`), and never so many that some worker would wait idle at the end of the sweep."""

    def __init__(self, workers: int, fixed: int | None = None):
        self.workers, self.fixed, self.mean = workers, fixed, None

    def observe(self, seconds: float) -> None:
        self.mean = seconds if self.mean is None else 0.9 * self.mean + 0.1 * seconds

    def size(self, unsubmitted: int) -> int:
        if self.fixed:
            return self.fixed
        if self.mean is None:
            return 1
        fair = -(-unsubmitted // (2 * self.workers))
        return max(1, min(int(BATCH_SECONDS / max(self.mean, 1e-6)), MAX_BATCH, fair))


def run_sweep(experiment: Experiment, out: str | Path, executor: cf.Executor | None = None, *,
              workers: int | None = None, limit: int | None = None, progress: bool = True,
              in_flight: int | None = None, session: dict | None = None, batch: int | None = None,
              csv: bool = False) -> SweepSummary:
    """Run every run of `experiment` not yet complete in `out` on `executor` (default: serial, here).

    `executor` may be any `concurrent.futures.Executor` (a process pool, a dask
    ``Client.get_executor()``); it is not shut down. Runs are submitted in batches (`batch` runs per
    task; default: `BatchSizer`), at most `in_flight` batches at once (default 2 × `workers`); each
    finished run is written to disk as its batch returns. `csv`: also write the tables as CSV
    (`sim.experiments.store.write_csv`).
    """
    out = Path(out)
    executor = executor or SerialExecutor()
    workers = workers or getattr(executor, "_max_workers", None) or os.cpu_count() or 1
    in_flight = in_flight or 2 * workers
    fail, null = failing_runs(), os.environ.get(NULL_ENV) == "1"
    session = {"started": now_iso(), "executor": type(executor).__name__, "workers": workers, "limit": limit,
               "git_commit": git_commit(), **(session or {})}
    t0 = time.perf_counter()
    with Lock(out):
        manifest = prepare(out, experiment, session)
        began = time.time()
        for warning in quarantine_damaged(out, experiment.n_runs, checked_since(manifest["sessions"][:-1])):
            print(warning, file=sys.stderr)
        mark_checked(out, manifest, began)
        status = scan(out, experiment.n_runs)
        skipped = status.count(OK)
        todo_n = experiment.n_runs - skipped if limit is None else min(experiment.n_runs - skipped, limit)
        stream = tasks(experiment, itertools.islice(with_status(status, NOT_RUN, FAILED), todo_n), fail, null)
        sizer = BatchSizer(workers, batch)
        bar = None  # created after the first submissions: a forking pool starts its workers before tqdm's thread
        pending: dict[cf.Future, int] = {}
        ran, unsubmitted, broken = 0, todo_n, None
        try:
            while True:
                while broken is None and len(pending) < in_flight:
                    chunk = tuple(itertools.islice(stream, sizer.size(unsubmitted)))
                    if not chunk:
                        break
                    pending[executor.submit(run_batch, chunk)] = len(chunk)
                    unsubmitted -= len(chunk)
                bar = bar or Progress(todo_n, experiment.name, progress)
                if not pending:
                    break
                done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                for future in done:
                    pending.pop(future)
                    try:
                        results = future.result()
                    except Exception as exc:  # the executor lost the runs (a worker died)
                        broken = broken or exc
                        continue
                    for result in results:
                        store(out, result)
                        ran += 1
                        bar.update(result["data"] is not None)
                        sizer.observe(result["record"]["seconds"])
        finally:
            if bar is not None:
                bar.close()
            for future in pending:
                future.cancel()
        if broken is not None:
            raise RuntimeError(f"the executor lost runs ({type(broken).__name__}: {broken}); finished runs are "
                               f"saved in {out} — run the same command again to resume")
        build_tables(out, experiment, csv=csv)
        status = scan(out, experiment.n_runs)
    return SweepSummary(out, experiment.n_runs, ran, skipped, status.count(OK), status.count(FAILED),
                        time.perf_counter() - t0)


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
