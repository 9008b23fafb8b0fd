"""Sweeps: executors agree, kill -9 and resume, failures, re-running one run, refusing a changed file, analysis."""

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.experiments.experiment import load_experiment
from sim.experiments.sweep import read_table, run_sweep, verify_rerun

ROOT = Path(__file__).resolve().parent.parent


def experiment_file(tmp_path: Path, name="tiny", design="lhs", size="samples = 6", replicates=2, firms=300,
                    end_year=2030, levers=None) -> Path:
    levers = levers or ('"countries.USA.ai_subsidy_rate" = { min = 0.0, max = 0.5 }\n'
                        '"countries.USA.tariffs.CHN" = { values = [0.0, 0.25, 0.6] }\n'
                        '[uncertainties]\n"model.theta" = { min = 3.0, max = 8.0 }\n')
    path = tmp_path / f"{name}.toml"
    path.write_text(f"""
[experiment]
title = "tiny test sweep"
scenario = "baseline"
design = "{design}"
{size}
replicates = {replicates}
seed = 99
firms = {firms}
[fixed]
"run.end_year" = {end_year}
"countries.USA.ai_fund" = 1e11
[levers]
{levers}
[outcomes]
us_end = {{ metric = "production_share", country = "USA", year = {end_year} }}
asia_mean = {{ metric = "production_share", country = ["CHN", "KOR", "JPN"], stat = "mean" }}
us = {{ metric = "production_share", country = "USA" }}
""")
    return path


def outcomes(out: Path) -> pd.DataFrame:
    return read_table(out / "outcomes.parquet").to_pandas()


def run_tables(out: Path) -> dict:
    return {p.name: read_table(p) for p in sorted((out / "runs").glob("*.parquet"))}


def test_serial_process_and_dask_executors_agree(tmp_path):
    exp = load_experiment(experiment_file(tmp_path))
    serial = run_sweep(exp, tmp_path / "serial", progress=False)
    assert (serial.ok, serial.failed, serial.total) == (12, 0, 12)
    with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:   # as on macOS and Windows
        run_sweep(exp, tmp_path / "process", pool, progress=False)
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        run_sweep(exp, tmp_path / "dask", client.get_executor(pure=False), workers=2, progress=False)
    reference = outcomes(tmp_path / "serial")
    assert len(reference) == 12 and reference["us_end"].notna().all()
    for name in ("process", "dask"):
        pd.testing.assert_frame_equal(outcomes(tmp_path / name), reference, check_exact=True)
        other = run_tables(tmp_path / name)
        assert other.keys() == run_tables(tmp_path / "serial").keys()
        assert all(other[k].equals(v) for k, v in run_tables(tmp_path / "serial").items())
    # any single run re-runs alone, bit for bit, from its recorded seed and values
    assert verify_rerun(tmp_path / "dask", 7)[0]
    runs = read_table(tmp_path / "serial" / "runs.parquet").to_pandas()
    assert list(runs["spawn_key"][:4]) == ["[0]", "[1]", "[0]", "[1]"]
    assert (runs["seed_entropy"] == 99).all() and (runs["status"] == "ok").all()


@pytest.mark.parametrize("whom", ["group", "coordinator"])
def test_kill_9_mid_sweep_then_resume(tmp_path, whom):
    """kill -9 of the whole process group, or of the coordinator alone (as the OOM killer does):
    then its workers die with it and the lock goes with it, so the resume is not refused."""
    from test_kill import alive, children

    path = experiment_file(tmp_path, size="samples = 15", firms=400, end_year=2040)
    exp = load_experiment(path)
    reference = tmp_path / "reference"
    run_sweep(exp, reference, progress=False)
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "sim", "sweep", str(path), "--out", str(out), "--workers", "2", "--no-analyze",
           "--quiet"]
    proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if (out / "runs").is_dir() and len(list((out / "runs").glob("*.parquet"))) >= 6:
            break
        time.sleep(0.01)
    workers = children(proc.pid)
    if whom == "group":
        os.killpg(proc.pid, signal.SIGKILL)      # the coordinator and its workers, mid-run
    else:
        assert len(workers) >= 2, "the pool's workers should be running"
        os.kill(proc.pid, signal.SIGKILL)        # the coordinator only
    proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(w) for w in workers):
        time.sleep(0.02)
    assert not any(alive(w) for w in workers), "workers outlived their coordinator"
    done = list((out / "runs").glob("*.parquet"))
    assert 6 <= len(done) < exp.n_runs, "the sweep should have been killed mid-run"
    for p in done:                               # no truncated run file
        assert read_table(p).num_rows > 0
    resumed = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(done)} already done" in resumed.stdout
    runs = read_table(out / "runs.parquet").to_pandas()
    assert sorted(runs["run_id"]) == list(range(exp.n_runs))          # every run exactly once
    assert not list(out.glob("**/.tmp-*"))
    pd.testing.assert_frame_equal(outcomes(out), outcomes(reference), check_exact=True)


def test_failed_run_is_recorded_and_the_rest_complete(tmp_path, capsys, monkeypatch):
    path = experiment_file(tmp_path)
    out = tmp_path / "out"
    args = ["sweep", str(path), "--out", str(out), "--executor", "serial", "--no-analyze"]
    assert main([*args, "--limit", "5"]) == 0
    assert "7 remain" in capsys.readouterr().out
    monkeypatch.setenv("FACTORYSHIFT_FAIL_RUNS", "3,8,10")   # run 3 is already done
    assert main(args) == 1
    printed = capsys.readouterr().out
    assert "10 ok, 2 failed" in printed and "5 already done" in printed
    runs = read_table(out / "runs.parquet").to_pandas().set_index("run_id")
    assert list(runs.index) == list(range(12))
    assert list(runs.index[runs["status"] == "failed"]) == [8, 10]
    assert "injected failure of run 8" in runs.loc[8, "error"]
    assert (out / "runs" / "000008.failed.json").is_file()
    assert outcomes(out).set_index("run_id")["us_end"].isna().tolist() == [i in (8, 10) for i in range(12)]
    # re-running one run alone reproduces it bit for bit
    assert main([*args, "--rerun", "4"]) == 0
    assert "bit for bit" in capsys.readouterr().out
    # resuming retries the failed runs
    monkeypatch.delenv("FACTORYSHIFT_FAIL_RUNS")
    assert main(args) == 0
    assert "12 ok, 0 failed" in capsys.readouterr().out
    assert not list((out / "runs").glob("*.failed.json"))


def test_changed_experiment_file_is_refused(tmp_path, capsys):
    path = experiment_file(tmp_path, size="samples = 2", replicates=1)
    out = tmp_path / "out"
    args = ["sweep", str(path), "--out", str(out), "--executor", "serial", "--no-analyze"]
    assert main(args) == 0
    capsys.readouterr()
    path.write_text(path.read_text().replace("seed = 99", "seed = 98"))
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "different version" in err[0] and "sha256" in err[0]
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    assert main(["sweep", str(path), "--out", str(tmp_path / "other"), "--executor", "serial"]) == 2
    assert "not a sweep folder" in capsys.readouterr().err


def test_analysis_of_sobol_and_grid_sweeps(tmp_path, capsys):
    sobol = experiment_file(tmp_path, "sob", design="sobol", size="samples = 8", replicates=1, end_year=2027,
                            levers='"countries.USA.ai_subsidy_rate" = { min = 0.0, max = 0.5 }\n'
                                   '[uncertainties]\n"model.theta" = { min = 3.0, max = 8.0 }\n')
    assert main(["sweep", str(sobol), "--out", str(tmp_path / "sob"), "--executor", "serial", "--quiet"]) == 0
    out = tmp_path / "sob"
    sens = pd.read_csv(out / "analysis" / "sobol.csv")
    assert set(sens["outcome"]) == {"us_end", "asia_mean"} and {"S1", "ST", "S1_conf", "ST_conf"} <= set(sens)
    timeline = pd.read_csv(out / "analysis" / "over_time.csv")
    assert sorted(set(timeline["year"])) == list(range(2024, 2028)) and "ST" in timeline
    for stem in ("tornado_us_end", "indices_us_end", "time_us", "fan_production_share", "fan_us"):
        assert (out / "plots" / f"{stem}.png").is_file() and (out / "plots" / f"{stem}.svg").is_file()
    md = (out / "analysis.md").read_text()
    assert "## Sensitivity (sobol)" in md and "plots/indices_us_end.png" in md and "R² =" in md

    grid = experiment_file(tmp_path, "grid", design="grid", size="", replicates=1, end_year=2026,
                           levers='"countries.USA.ai_subsidy_rate" = { values = [0.0, 0.5] }\n'
                                  '"countries.USA.tariffs.CHN" = { min = 0.0, max = 0.6, levels = 3 }\n')
    assert main(["sweep", str(grid), "--out", str(tmp_path / "grid"), "--executor", "serial", "--quiet",
                 "--no-analyze"]) == 0
    assert main(["analyze", str(tmp_path / "grid")]) == 0
    assert (tmp_path / "grid" / "plots" / "heatmap_us_end.svg").is_file()
    assert "plots/heatmap_us_end.png" in (tmp_path / "grid" / "analysis.md").read_text()
    assert main(["analyze", str(tmp_path / "nowhere")]) == 2


def test_a_file_being_written_is_never_mistaken_for_a_finished_run(tmp_path):
    """Readers glob `runs/*.parquet` while a sweep runs (the SIGKILL test above does); the
    temporary name of a run being written must not match, or they read a torn file."""
    from sim.experiments.store import atomic_write, run_path, temp_path

    (tmp_path / "runs").mkdir()
    final = run_path(tmp_path, 5)
    assert not Path(temp_path(final)).match("*.parquet")
    assert Path(temp_path(final)).name.startswith(".tmp-")
    atomic_write(final, b"whole")
    assert [p.name for p in (tmp_path / "runs").iterdir()] == ["000005.parquet"]
    assert Path(final).read_bytes() == b"whole"
