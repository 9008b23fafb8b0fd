"""Sweeps that scale (issue 14, item 8): a huge design starts at once, runs travel in batches with the
same results, Ctrl-C says what is kept and how to go on, results as CSV, compare's progress."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from test_experiment_sweep import experiment_file, outcomes, run_tables

from sim.cli import main
from sim.experiments.experiment import load_experiment
from sim.experiments.store import read_table, with_status
from sim.experiments.sweep import run_sweep

ROOT = Path(__file__).resolve().parent.parent


def test_with_status_finds_runs_in_order():
    status = bytearray([0, 1, 2, 0, 1, 1, 2, 0])
    assert list(with_status(status, 0, 2)) == [0, 2, 3, 6, 7]
    assert list(with_status(status, 1, 2)) == [1, 2, 4, 5, 6]
    assert list(with_status(bytearray(3), 1)) == []


def test_limit_1_on_a_design_of_millions_starts_at_once(tmp_path):
    levers = "".join(f'"{p}" = {{ min = 0.0, max = 0.5, levels = 39 }}\n' for p in (
        "countries.USA.ai_subsidy_rate", "countries.USA.tariffs.CHN", "countries.USA.coordination",
        "countries.USA.acceptance"))
    exp = load_experiment(experiment_file(tmp_path, design="grid", size="", replicates=4, firms=40, end_year=2025,
                                          levers=levers))
    assert exp.n_runs == 39**4 * 4 == 9_253_764
    t0 = time.perf_counter()
    summary = run_sweep(exp, tmp_path / "out", limit=1, progress=False)
    seconds = time.perf_counter() - t0
    assert (summary.ran, summary.ok) == (1, 1)
    assert exp.design.matrix is None, "the grid was built whole for one run"
    assert seconds < 20, f"{seconds:.1f} s before and after one run"   # minutes before issue 14 (2 s here)
    assert exp.design.row(exp.design.n - 1) == (0.5, 0.5, 0.5, 0.5)
    assert exp.design.values(1) == {"countries.USA.ai_subsidy_rate": 0.0, "countries.USA.tariffs.CHN": 0.0,
                                    "countries.USA.coordination": 0.0,
                                    "countries.USA.acceptance": pytest.approx(0.5 / 38)}


def test_lazy_grid_rows_equal_the_built_grid(tmp_path):
    exp = load_experiment(experiment_file(tmp_path, design="grid", size="", replicates=1, levers=(
        '"countries.USA.ai_subsidy_rate" = { values = [0.0, 0.5] }\n'
        '"countries.USA.tariffs.CHN" = { min = 0.0, max = 0.6, levels = 3 }\n'
        '"countries.USA.reshoring_home_only" = { values = [false, true] }\n')))
    lazy = [exp.design.row(s) for s in range(exp.design.n)]
    assert [tuple(r) for r in exp.design.X] == lazy and exp.design.n == 12


def test_batches_give_the_same_runs_as_one_run_per_task(tmp_path, monkeypatch):
    exp = load_experiment(experiment_file(tmp_path, size="samples = 5", replicates=2, firms=200, end_year=2028))
    run_sweep(exp, tmp_path / "single", batch=1, progress=False)
    run_sweep(exp, tmp_path / "batched", batch=4, progress=False)
    run_sweep(exp, tmp_path / "auto", progress=False)
    reference = run_tables(tmp_path / "single")
    for name in ("batched", "auto"):
        other = run_tables(tmp_path / name)
        assert other.keys() == reference.keys() and all(other[k].equals(v) for k, v in reference.items())
    monkeypatch.setenv("FACTORYSHIFT_NULL_RUNS", "1")           # the benchmark aid: no model, whole bookkeeping
    null = run_sweep(exp, tmp_path / "null", progress=False)
    assert null.ok == exp.n_runs and len(outcomes(tmp_path / "null")) == exp.n_runs


def test_ctrl_c_says_what_is_kept_and_how_to_resume(tmp_path):
    # a sweep long enough that the interrupt always lands in the middle, whatever the machine's load:
    # 400 runs, and the signal goes as soon as the first runs are on disk
    path = experiment_file(tmp_path, size="samples = 200", replicates=2, firms=300, end_year=2050)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "sim", "sweep", str(path), "--out", str(out), "--executor", "serial", "--quiet",
           "--no-analyze"]
    # a shell's background job ignores SIGINT and its children inherit that: restore the default in the child,
    # so that Python installs its handler whatever launched the tests
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list((out / "runs").glob("*.parquet"))) < 1:
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    kept = len(list((out / "runs").glob("*.parquet")))
    assert 1 <= kept < 400
    assert stderr.strip().splitlines()[-1] == (
        f"interrupted: {kept} of 400 runs are kept in {out}/ ({kept} ok, 0 failed); resume with: factoryshift "
        f"sweep {path} --out {out} --executor serial"), stderr
    assert "Traceback" not in stderr
    assert main(["sweep", str(path), "--out", str(out), "--executor", "serial", "--quiet", "--no-analyze",
                 "--limit", "2"]) == 0                        # the resume goes on from there
    assert len(list((out / "runs").glob("*.parquet"))) == kept + 2


def test_results_as_csv_equal_the_parquet_tables(tmp_path, capsys, monkeypatch):
    path = experiment_file(tmp_path, size="samples = 3", replicates=2, firms=60, end_year=2027)
    out = tmp_path / "out"
    monkeypatch.setenv("FACTORYSHIFT_FAIL_RUNS", "2")           # a failed run: NaN outcomes, an error message
    args = ["sweep", str(path), "--out", str(out), "--executor", "serial", "--quiet", "--no-analyze"]
    assert main([*args, "--format", "csv", "--limit", "4"]) == 1
    for name in ("runs", "outcomes", "trajectories"):
        parquet = read_table(out / f"{name}.parquet").to_pandas()
        csv = pd.read_csv(out / f"{name}.csv")
        pd.testing.assert_frame_equal(csv, parquet, check_dtype=False, check_exact=True)
    assert pd.read_csv(out / "outcomes.csv")["us_end"].isna().tolist() == [False, False, True, False]
    monkeypatch.delenv("FACTORYSHIFT_FAIL_RUNS")
    assert main(args) == 0                                        # resumed without --format: the CSVs follow
    assert len(pd.read_csv(out / "outcomes.csv")) == 6


def test_format_typo_is_one_line_with_a_suggestion(capsys):
    assert main(["sweep", "us_reshoring_levers", "--format", "cvs"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "argument --format: invalid choice: 'cvs'" in err[0] and "did you mean 'csv'?" in err[0]


def test_compare_shows_progress_with_the_flag_and_not_without(tmp_path, capsys):
    argv = ["compare", "baseline", "--replicates", "2", "--firms", "40", "--workers", "1", "--no-plot"]
    assert main([*argv, "--out", str(tmp_path / "a"), "--progress"]) == 0
    assert "compare: 2/2 runs, 0 failed" in capsys.readouterr().err
    assert main([*argv, "--out", str(tmp_path / "b")]) == 0
    assert capsys.readouterr().err == ""


def test_a_resume_reads_only_the_run_files_changed_since_the_last_check(tmp_path, capsys):
    path = experiment_file(tmp_path, size="samples = 3", replicates=2, firms=40, end_year=2026)
    out = tmp_path / "out"
    args = ["sweep", str(path), "--out", str(out), "--executor", "serial", "--quiet", "--no-analyze"]
    assert main([*args, "--limit", "4"]) == 0
    runs = out / "runs"
    old = time.time() - 3600                              # written and checked long ago
    (runs / "000000.parquet").write_bytes(b"torn long ago")   # (a disk changing a file behind our back)
    (runs / "000001.parquet").write_bytes(b"")
    for name in ("000000.parquet", "000001.parquet", "000002.parquet", "000003.parquet"):
        os.utime(runs / name, (old, old))
    (runs / "000002.parquet").write_bytes(b"torn just now")      # changed since: read
    capsys.readouterr()
    assert main(args) == 2                                # the old, non-empty file is only read by the tables
    err = capsys.readouterr().err
    assert "000001.parquet: damaged (empty file)" in err and "000002.parquet: damaged (unreadable" in err
    assert err.strip().splitlines()[-1].endswith("000000.parquet: damaged (unreadable: ArrowInvalid: Parquet magic "
                                                 "bytes not found in footer. Either the file is corrupted or this is "
                                                 "not a parquet file.); run the same `factoryshift sweep` command "
                                                 "again to quarantine and re-run it")
    assert main(args) == 0                                # as it says: the next session reads it and re-runs it
    assert "000000.parquet: damaged (unreadable" in capsys.readouterr().err
    assert len(read_table(out / "runs.parquet")) == 6
    assert main(["sweep", str(path), "--out", str(tmp_path / "fresh"), "--executor", "serial", "--quiet",
                 "--no-analyze"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert all(isinstance(s["files_checked"], float) for s in manifest["sessions"])
