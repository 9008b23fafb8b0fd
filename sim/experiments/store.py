"""Storage of a sweep folder: atomic per-run files, the manifest, the lock, and the derived tables.

    manifest.json               experiment file + sha256, resolved base scenario, versions, git commit
    runs/000042.parquet         run 42's yearly per-country trajectories; its record (seed, factor
                                values, outcomes) in the Parquet schema metadata under "factoryshift"
    runs/000043.failed.json     a run that raised: its record and the error
    runs.parquet                one row per finished run (derived from runs/)
    outcomes.parquet            one row per run, one column per scalar outcome (derived)
    trajectories.parquet        one row per run and year, one column per trajectory outcome (derived)

Every file is written to a temporary name and moved into place with `os.replace`, so a
killed sweep leaves whole files or none; the tables are rebuilt from runs/ a batch at a
time, so they can never disagree with it and memory does not grow with the sweep.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path

from sim.errors import UserError
from sim.experiments.experiment import Experiment, parse_experiment
from sim.output import SWEEP_FORMAT, locked, to_json
from sim.provenance import git_commit, library_versions, now_iso
from sim.scenarios.scenario import Scenario

FORMAT = SWEEP_FORMAT
META_KEY = b"factoryshift"
BATCH = 64          # runs per batch of rows when (re)building the tables


def run_path(out: str | Path, run_id: int, failed: bool = False) -> str:
    """The file of one run, as a plain string: `pathlib` would intern every run's file name
    (immortal strings since Python 3.12), so the coordinator's memory would grow with the sweep."""
    return os.path.join(out, "runs", f"{run_id:06d}.failed.json" if failed else f"{run_id:06d}.parquet")


def temp_path(path: str | Path) -> str:
    """Where `path` is written before its rename: hidden, and with a suffix of its own, so that a
    reader globbing `runs/*.parquet` mid-sweep never picks up a half-written file."""
    head, name = os.path.split(path)
    return os.path.join(head, f".tmp-{os.getpid()}-{name}.part")


def atomic_write(path: str | Path, data: bytes) -> None:
    tmp = temp_path(path)
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def run_status(out: str | Path, run_id: int) -> str | None:
    """"ok", "failed" or None (not run, or lost in flight)."""
    if os.path.isfile(run_path(out, run_id)):
        return "ok"
    return "failed" if os.path.isfile(run_path(out, run_id, failed=True)) else None


#: Values of a `scan` status array.
NOT_RUN, OK, FAILED = 0, 1, 2


def run_file(name: str, n_runs: int) -> tuple[int, bool] | None:
    """(run id, failed) of a file name in runs/ ("000042.parquet", "000043.failed.json"), else None."""
    stem, _, ext = name.partition(".")
    if not (stem.isascii() and stem.isdigit()) or ext not in ("parquet", "failed.json") or int(stem) >= n_runs:
        return None
    return int(stem), ext == "failed.json"


def scan(out: str | Path, n_runs: int) -> bytearray:
    """The status of every run (`NOT_RUN`, `OK`, `FAILED`), one byte each, from one listing of runs/.

    One directory listing instead of two file lookups per run: a sweep of 10 million runs spent
    minutes asking for each run's files before running its first (``--limit 1``); the listing costs
    what the folder holds. One byte per run keeps the coordinator's memory small (10 MB for 10
    million runs) where a set of run ids would not.
    """
    status = bytearray(n_runs)
    try:
        entries = os.scandir(os.path.join(out, "runs"))
    except FileNotFoundError:
        return status
    with entries:
        for entry in entries:
            found = run_file(entry.name, n_runs)
            if found is not None and status[found[0]] != OK:
                status[found[0]] = FAILED if found[1] else OK
    return status


def with_status(status: bytearray, *wanted: int):
    """Run ids whose status is one of `wanted`, in order, found at C speed (`bytearray.find`)."""
    nxt = {w: status.find(w) for w in wanted}
    while True:
        found = [i for i in nxt.values() if i >= 0]
        if not found:
            return
        i = min(found)
        yield i
        nxt[status[i]] = status.find(status[i], i + 1)


def count_runs(out: Path, n_runs: int) -> tuple[int, int]:
    """(ok, failed) runs in the folder."""
    status = scan(out, n_runs)
    return status.count(OK), status.count(FAILED)


def scenario_from_manifest(manifest: dict) -> Scenario:
    import tomllib

    s = manifest["scenario"]
    return Scenario(s["name"], tomllib.loads(s["toml"]))


def read_manifest(out: Path) -> dict:
    """The sweep manifest of `out`, or a one-line `UserError` if it is missing, unreadable or not a sweep's."""
    try:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{out}: not a sweep folder (no manifest.json)") from None
    except (OSError, ValueError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise UserError(f"{out}/manifest.json: unreadable ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise UserError(f"{out}: not a sweep folder (its manifest.json was written by something else, "
                        f"e.g. `factoryshift run` or `compare`)")
    return manifest


def load_sweep(out: str | Path) -> tuple[Experiment, dict]:
    """The experiment and manifest of a sweep folder (the base scenario as recorded, not re-read)."""
    out = Path(out)
    manifest = read_manifest(out)
    e = manifest["experiment"]
    experiment = parse_experiment(e["content"], source=e["file"], name=e["name"],
                                  scenario=scenario_from_manifest(manifest))
    return experiment, manifest


def make_manifest(experiment: Experiment, commit: str | None) -> dict:
    toml = experiment.scenario.to_toml()
    return {
        "format": FORMAT,
        "experiment": {"name": experiment.name, "file": experiment.source, "title": experiment.title,
                       "sha256": experiment.sha256, "content": experiment.text},
        "design": {"kind": experiment.design_kind, "samples": experiment.samples,
                   "n_samples": experiment.n_samples, "replicates": experiment.replicates,
                   "n_runs": experiment.n_runs, "seed": experiment.seed, "firms": experiment.firms,
                   "factors": [f.path for f in experiment.factors],
                   "seeds": "replicate r of every sample: numpy.random.SeedSequence(seed).spawn(replicates)[r]"},
        "scenario": {"name": experiment.scenario.name, "ref": experiment.scenario_ref,
                     "sha256": _sha(toml), "toml": toml, "fixed": experiment.fixed},
        "versions": library_versions(),
        "git_commit": commit,
        "created": now_iso(),
        "sessions": [],
    }


def _sha(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()


def prepare(out: Path, experiment: Experiment, session: dict) -> dict:
    """Create or reopen a sweep folder; refuse one that holds a different experiment."""
    manifest_path = out / "manifest.json"
    fresh = make_manifest(experiment, session.get("git_commit") or git_commit())
    if manifest_path.is_file():
        manifest = read_manifest(out)
        old, new = manifest["experiment"]["sha256"], experiment.sha256
        if old != new:
            raise UserError(f"{out}: holds a sweep of a different version of {manifest['experiment']['file']} "
                            f"(sha256 {old[:12]}… there, {new[:12]}… now); use another --out or delete {out}")
        if manifest["scenario"]["sha256"] != fresh["scenario"]["sha256"]:
            raise UserError(f"{out}: scenario {manifest['scenario']['ref']!r} has changed since this sweep began; "
                            f"use another --out or delete {out}")
        if manifest.get("git_commit") != fresh["git_commit"]:
            print(f"warning: {out}: sweep began at commit {manifest.get('git_commit')}, resuming at "
                  f"{fresh['git_commit']}", file=sys.stderr)
    else:
        if out.is_dir() and any(p.name != ".lock" for p in out.iterdir()):
            raise UserError(f"{out}: exists and is not a sweep folder (no manifest.json); choose another --out")
        manifest = fresh
    (out / "runs").mkdir(parents=True, exist_ok=True)
    manifest["sessions"] = [*manifest.get("sessions", []), session]
    atomic_write(manifest_path, to_json(manifest).encode())
    for stale in [*out.glob(".tmp-*"), *(out / "runs").glob(".tmp-*")]:  # a coordinator killed mid-write
        stale.unlink(missing_ok=True)
    return manifest


def mark_checked(out: Path, manifest: dict, began: float) -> None:
    """Record in this session's manifest entry that every run file older than `began` (a `time.time()`)
    has been read (`quarantine_damaged`): the next session need only read newer ones. Written after
    the check, so a session killed while checking leaves no mark, and the next one reads everything."""
    manifest["sessions"][-1]["files_checked"] = began
    atomic_write(out / "manifest.json", to_json(manifest).encode())


class Lock:
    """An exclusive lock on the sweep folder (`sim.output.locked`: dropped by the kernel when the
    coordinator dies, never inherited by its forked workers, so orphans cannot block a resume)."""

    def __init__(self, out: Path):
        self.path, self._held = out / ".lock", None

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._held = locked(self.path, str(self.path.parent))
        try:
            self._held.__enter__()
        except UserError:
            raise UserError(f"{self.path.parent}: another sweep is writing to this folder") from None
        return self

    def __exit__(self, *exc):
        return self._held.__exit__(*exc)


def store(out: Path, result: dict) -> None:
    """Write one finished run (atomically); a success replaces an earlier failure record."""
    record = result["record"]
    run_id = record["run_id"]
    if result["data"] is not None:
        atomic_write(run_path(out, run_id), result["data"])
        with contextlib.suppress(FileNotFoundError):
            os.remove(run_path(out, run_id, failed=True))
    else:
        atomic_write(run_path(out, run_id, failed=True), (json.dumps(record, indent=1) + "\n").encode())


def damage(out: Path, run_id: int, failed: bool = False) -> str | None:
    """Why run `run_id`'s file cannot be used (a power loss can leave it empty or torn), or None."""
    path = run_path(out, run_id, failed)
    try:
        if os.path.getsize(path) == 0:
            return "empty file"
        record = read_record(out, run_id, failed)
    except Exception as exc:  # any reader failure means the file is unusable; say which
        return f"unreadable: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")
    if not isinstance(record, dict) or record.get("run_id") != run_id or \
            record.get("status") != ("failed" if failed else "ok"):
        return "its record does not describe this run"
    return None


def quarantine_damaged(out: Path, n_runs: int, checked_before: float | None = None) -> list[str]:
    """Move unusable run files to DIR/quarantine/ (so the resume runs them again); one warning each.

    Files last changed before `checked_before` (a `time.time()`: when an earlier session began reading
    them all, `mark_checked`) are only checked for being empty; the others — everything a kill or a power
    loss during the previous session can have torn, and any file put there by hand — are read. A
    resume of a sweep with a million finished runs then spends seconds here, not minutes.
    """
    runs_dir = os.path.join(out, "runs")
    found = []
    try:
        with os.scandir(runs_dir) as entries:
            for entry in entries:
                found_file = run_file(entry.name, n_runs)
                if found_file is None:
                    continue
                run_id, failed = found_file
                if checked_before is not None:
                    info = entry.stat()
                    if info.st_mtime < checked_before:
                        if info.st_size == 0:
                            found.append((entry.name, run_id, failed, "empty file"))
                        continue
                problem = damage(out, run_id, failed)
                if problem is not None:
                    found.append((entry.name, run_id, failed, problem))
    except FileNotFoundError:
        return []
    warnings = []
    for name, run_id, failed, problem in sorted(found):
        dest = os.path.join(out, "quarantine", name)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        suffix = 1
        while os.path.exists(dest):
            dest, suffix = os.path.join(out, "quarantine", f"{name}.{suffix}"), suffix + 1
        os.replace(run_path(out, run_id, failed), dest)
        warnings.append(f"warning: {run_path(out, run_id, failed)}: damaged ({problem}); moved to {dest}, "
                        f"run {run_id} runs again")
    return warnings


def read_record(out: Path, run_id: int, failed: bool = False) -> dict:
    path = run_path(out, run_id, failed)
    if failed:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    import pyarrow.parquet as pq

    return json.loads(pq.read_metadata(path).metadata[META_KEY])   # the footer only: 30% less than read_schema


def build_tables(out: Path, experiment: Experiment, csv: bool = False) -> None:
    """(Re)build runs.parquet, outcomes.parquet and trajectories.parquet from runs/, a batch at a time;
    with `csv`, or if the folder already has them (so they never fall behind), also their CSV copies."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    factor_types = {f.path: (pa.bool_() if f.values is not None and isinstance(f.values[0], bool)
                             else pa.int64() if f.integer else pa.float64()) for f in experiment.factors}
    keys = [("run_id", pa.int64()), ("sample", pa.int64()), ("replicate", pa.int64())]
    schemas = {
        "runs": pa.schema([*keys, ("seed_entropy", pa.int64()), ("spawn_key", pa.string()),
                           *factor_types.items(), ("status", pa.string()), ("error", pa.string()),
                           ("seconds", pa.float64())]),
        "outcomes": pa.schema([*keys, *[(o.name, pa.float64()) for o in experiment.scalar_outcomes]]),
    }
    if experiment.trajectory_outcomes:
        schemas["trajectories"] = pa.schema([*keys, ("year", pa.int64()),
                                             *[(o.name, pa.float64()) for o in experiment.trajectory_outcomes]])
    tmp = {name: temp_path(out / f"{name}.parquet") for name in schemas}
    writers = {name: pq.ParquetWriter(tmp[name], schema) for name, schema in schemas.items()}
    rows: dict[str, list[dict]] = {name: [] for name in schemas}

    def flush():
        for name, batch in rows.items():
            if batch:
                writers[name].write_table(pa.Table.from_pylist(batch, schema=schemas[name]))
                batch.clear()

    status_of = scan(out, experiment.n_runs)
    try:
        for run_id in with_status(status_of, OK, FAILED):
            status = "ok" if status_of[run_id] == OK else "failed"
            try:
                rec = read_record(out, run_id, failed=status == "failed")
            except Exception:  # unreadable: say which file, and how to repair it
                problem = damage(out, run_id, status == "failed")
                with contextlib.suppress(OSError):   # changed now: the next session's check reads it
                    os.utime(run_path(out, run_id, status == "failed"))
                raise UserError(f"{run_path(out, run_id, status == 'failed')}: damaged ({problem}); run the same "
                                f"`factoryshift sweep` command again to quarantine and re-run it") from None
            key = {"run_id": run_id, "sample": rec["sample"], "replicate": rec["replicate"]}
            rows["runs"].append({**key, "seed_entropy": rec["seed_entropy"],
                                 "spawn_key": json.dumps(rec["spawn_key"]), **rec["values"], "status": rec["status"],
                                 "error": rec.get("error"), "seconds": rec["seconds"]})
            outcomes = rec.get("outcomes", {})
            rows["outcomes"].append({**key, **{o.name: outcomes.get(o.name, float("nan"))
                                               for o in experiment.scalar_outcomes}})
            traj = rec.get("trajectories") or {}
            if "trajectories" in rows and traj:
                for i, year in enumerate(traj["year"]):
                    rows["trajectories"].append({**key, "year": year, **{o.name: traj[o.name][i]
                                                                         for o in experiment.trajectory_outcomes}})
            if len(rows["runs"]) >= BATCH:
                flush()
        flush()
    finally:
        for writer in writers.values():
            writer.close()
    for name, path in tmp.items():
        os.replace(path, out / f"{name}.parquet")
    if csv or any((out / f"{name}.csv").exists() for name in TABLES):
        write_csv(out, list(tmp))


def write_csv(out: Path, names: list[str]) -> None:
    """`NAME.csv` next to each `NAME.parquet`: the same columns and rows, for spreadsheets and for users of
    NetLogo BehaviorSpace's table output. Floats are written exactly (%.17g), a missing value (NaN: the
    outcomes of a failed run) as an empty cell; written a row group at a time, atomically."""
    import pyarrow.parquet as pq

    for name in names:
        path = out / f"{name}.csv"
        tmp = temp_path(path)
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            first = True
            for batch in pq.ParquetFile(out / f"{name}.parquet").iter_batches(batch_size=BATCH * 64):
                batch.to_pandas().to_csv(fh, index=False, header=first, float_format="%.17g")
                first = False
            if first:  # no row: the header alone
                pq.read_schema(out / f"{name}.parquet").empty_table().to_pandas().to_csv(fh, index=False)
        os.replace(tmp, path)


TABLES = ("runs", "outcomes", "trajectories")


def repair_tables(out: Path) -> None:
    """Rebuild the derived tables if one is damaged (they are derived: runs/ holds the truth)."""
    import pyarrow.parquet as pq

    for name in TABLES:
        path = out / f"{name}.parquet"
        if not path.exists():
            continue
        try:
            pq.read_schema(path)
        except Exception:  # any reader failure: the table is unusable, and rebuilt below
            experiment, _ = load_sweep(out)
            with Lock(out):
                build_tables(out, experiment)
            return


def read_table(source, columns=None):
    """A Parquet file as an Arrow table, without its metadata, read without Arrow's thread pools.

    (pyarrow's pools can abort the interpreter at exit, apache/arrow#34314.)
    """
    import pyarrow.parquet as pq

    return pq.read_table(source, columns=columns, use_threads=False, pre_buffer=False).replace_schema_metadata(None)
