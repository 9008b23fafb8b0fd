"""Kills, concurrent writers and full disks, with real processes and real signals.

* kill -9 of a sweep's coordinator alone (tests/test_experiment_sweep.py): its workers die
  with it, the lock goes with it, and the resume runs every run exactly once, with the
  outcomes of an uninterrupted sweep; here, that a fork()ed child never holds the lock;
* kill -9 of `run` at each step of its folder swap: the folder is the whole old result or
  the whole new one, and the next writer clears what the killed one left;
* two `run`s into one folder at once: both succeed and the folder is one of them, whole;
* a full disk (RLIMIT_FSIZE) while writing: the earlier result stays as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUN = [sys.executable, "-m", "sim", "run", "--firms", "40", "--until", "2026", "--no-plot"]


def run_here(*args) -> None:
    """The same command in this process (the steps around a kill need no process of their own)."""
    from sim.cli import main

    assert main([*RUN[3:], *args]) == 0


def start(args, env=None, **kw) -> subprocess.Popen:
    return subprocess.Popen(args, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def wait_for_hold(proc: subprocess.Popen, point: str) -> None:
    line = proc.stderr.readline()
    assert line.strip() == f"holding at {point}", line + proc.stderr.read()


def kill(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    proc.stderr.close()


def children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry))
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def leftovers(parent: Path) -> list[str]:
    return [p.name for p in parent.iterdir() if ".stage-" in p.name or ".old-" in p.name]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork semantics of POSIX locks")
def test_a_forked_child_does_not_inherit_the_lock(tmp_path):
    """The lock goes with the process that took it, even while a fork()ed child of it lives on."""
    lock = tmp_path / ".lock"
    code = (f"import os, sys, time\nfrom sim.output import locked\nwith locked({str(lock)!r}, 'x'):\n"
            "    if os.fork() == 0:\n        time.sleep(30); os._exit(0)\n"
            "    print('held', flush=True); time.sleep(30)\n")
    holder = start([sys.executable, "-c", code])
    assert holder.stdout.readline().strip() == "held"
    child = children(holder.pid)
    assert child and alive(child[0])
    from sim.errors import UserError
    from sim.output import locked

    with pytest.raises(UserError, match="another factoryshift process"):
        with locked(lock, "x"):
            pass
    kill(holder)
    assert alive(child[0])                         # the orphan lives on ...
    with locked(lock, "x"):                        # ... and does not hold the lock
        pass
    os.kill(child[0], signal.SIGKILL)


@pytest.mark.parametrize("point, exchange, whole", [
    ("staged", True, "old"), ("published", True, "new"), ("aside", False, None), ("published", False, "new")])
def test_kill_9_during_the_swap_leaves_a_whole_result(tmp_path, point, exchange, whole):
    out = tmp_path / "res"
    run_here("--seed", "1", "--out", str(out))
    old = digest(out)
    env = {"FACTORYSHIFT_TEST_HOLD": point, **({} if exchange else {"FACTORYSHIFT_TEST_NO_EXCHANGE": "1"})}
    proc = start([*RUN, "--seed", "2", "--out", str(out)], env)
    wait_for_hold(proc, point)
    kill(proc)
    if whole == "old":
        assert digest(out) == old
    elif whole == "new":
        assert json.loads((out / "manifest.json").read_text())["seed"] == 2 and digest(out) != old
    else:   # between the two renames of the fallback swap: the old result waits aside, whole
        assert not out.exists()
        aside = [p for p in tmp_path.iterdir() if ".old-" in p.name]
        assert len(aside) == 1 and digest(aside[0]) == old
    assert leftovers(tmp_path)                    # the killed writer's stage or old version, for the next one
    run_here("--seed", "3", "--out", str(out))
    assert json.loads((out / "manifest.json").read_text())["seed"] == 3
    assert leftovers(tmp_path) == []


def test_two_runs_into_one_folder_at_once(tmp_path):
    out = tmp_path / "shared"
    procs = [start([*RUN, "--seed", str(seed), "--out", str(out)]) for seed in (11, 12)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    manifest = json.loads((out / "manifest.json").read_text())
    reference = tmp_path / "reference"
    run_here("--seed", str(manifest["seed"]), "--out", str(reference))
    assert (out / "countries.csv").read_bytes() == (reference / "countries.csv").read_bytes()
    assert leftovers(tmp_path) == []


def limit_file_size(size: int):
    def preexec():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)     # a write past the limit fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    return preexec


def test_full_disk_leaves_the_earlier_result_whole(tmp_path):
    out = tmp_path / "res"
    run_here("--out", str(out))
    before = digest(out)
    proc = subprocess.run([*RUN[:-1], "--seed", "9", "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                          preexec_fn=limit_file_size(20_000))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [f"error: --out: {out}: cannot write the results (File too large); "
                                                f"nothing was changed"]
    assert digest(out) == before and leftovers(tmp_path) == []


def test_analysis_on_a_full_disk_or_killed_keeps_the_previous_analysis(tmp_path):
    from test_experiment_sweep import experiment_file

    path = experiment_file(tmp_path, design="grid", size="", replicates=1, end_year=2026, firms=100,
                           levers='"countries.USA.ai_subsidy_rate" = { values = [0.0, 0.5] }\n')
    out = tmp_path / "sweep"
    from sim.cli import main

    assert main(["sweep", str(path), "--out", str(out), "--executor", "serial", "--quiet"]) == 0
    tree = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    analyze = [sys.executable, "-m", "sim", "analyze", str(out)]
    full = subprocess.run(analyze, cwd=ROOT, capture_output=True, text=True, preexec_fn=limit_file_size(30_000))
    assert full.returncode == 2 and "the earlier outputs are unchanged" in full.stderr, full.stderr
    proc = start(analyze, {"FACTORYSHIFT_TEST_HOLD": "staged"})
    wait_for_hold(proc, "staged")
    kill(proc)
    assert {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()
            and ".stage-" not in str(p)} == tree
    assert main(analyze[3:]) == 0
    assert not [p for p in out.iterdir() if ".stage-" in p.name]


def test_warnings_never_reach_the_user(tmp_path):
    """Parameters at the ends of their ranges used to print numpy's RuntimeWarnings; now stderr is empty."""
    scenario = tmp_path / "edge.toml"
    scenario.write_text('extends = "baseline"\n[model]\nrelocation_sharpness = 1000.0\nai_capex_per_output = 100.0\n'
                        "payback_horizon = 100.0\n")
    proc = subprocess.run([*RUN, str(scenario), "--out", str(tmp_path / "e")], cwd=ROOT, capture_output=True,
                          text=True)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
