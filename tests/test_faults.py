"""A corpus of malformed inputs and faults: every case ends as it should, nothing written is lost.

One case = a command line, the input files it reads, what exists before it runs, the
expected exit status and fragments of its message. The classes are those of issue 12:

1. a lock left by a dead coordinator, or held by a live one
2. one command's output folder replaced by another's
3. a results folder mixing two runs, stale stages, leftovers of earlier runs
4. non-finite numbers, numpy warnings
5. user input ending as an "internal error"
6. nonsense accepted silently
7. damaged sweep files on resume
8. option typos

Every exit-2 case must print exactly one line, ``error: ...``, no traceback, and leave every
file that existed before it untouched. Kills with real processes and real signals are in
tests/test_kill.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.scenarios import parameters as P

BASE = 'extends = "baseline"\n'
LONG = "r" * 300


# ---------------------------------------------------------------------------------- templates
def tiny_experiment(design="grid", seed=7, extra="") -> str:
    return textwrap.dedent(f"""
        [experiment]
        scenario = "baseline"
        design = "{design}"
        replicates = 1
        seed = {seed}
        firms = 40
        {extra}
        [fixed]
        "run.end_year" = 2026
        "countries.USA.ai_fund" = 1e11      # a subsidy rate needs a fund (else a warning line)
        [levers]
        "countries.USA.ai_subsidy_rate" = {{ values = [0.0, 0.5] }}
        [outcomes]
        us = {{ metric = "production_share", country = "USA", year = 2026 }}
        """)


@pytest.fixture(scope="session")
def templates(tmp_path_factory) -> Path:
    """A run folder, a compare folder and a (complete, unanalysed) sweep folder, built once."""
    root = tmp_path_factory.mktemp("templates")
    (root / "tiny.toml").write_text(tiny_experiment())
    (root / "lhs.toml").write_text(tiny_experiment("lhs", extra="samples = 16").replace(
        "{ values = [0.0, 0.5] }",
        "{ min = 0.0, max = 0.5 }\n\"countries.USA.tariffs.CHN\" = { min = 0.0, max = 0.5 }"))
    for argv in (["run", "--firms", "40", "--until", "2026", "--no-plot", "--out", str(root / "run")],
                 ["compare", "baseline", "--replicates", "1", "--firms", "40", "--workers", "1", "--no-plot",
                  "--out", str(root / "compare")],
                 ["sweep", str(root / "tiny.toml"), "--out", str(root / "sweep"), "--executor", "serial",
                  "--quiet", "--no-analyze"],
                 ["sweep", str(root / "lhs.toml"), "--out", str(root / "lhs"), "--executor", "serial", "--quiet",
                  "--no-analyze"]):
        assert main(argv) in (0,), argv
    return root


def copy(template: str, to: str = None):
    def setup(tmp: Path, templates: Path) -> None:
        shutil.copytree(templates / template, tmp / (to or template))
    return setup


def write(name: str, data: str | bytes):
    def setup(tmp: Path, templates: Path) -> None:
        path = tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return setup


def chain(*steps):
    def setup(tmp: Path, templates: Path) -> None:
        for step in steps:
            step(tmp, templates)
    return setup


def hold_lock(path: str):
    """A live process holding the lock (a real POSIX lock in another process)."""
    def setup(tmp: Path, templates: Path) -> None:
        code = ("import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); "
                "fcntl.lockf(fd, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)")
        proc = subprocess.Popen([sys.executable, "-c", code, str(tmp / path)], stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "locked"
        HELD.append(proc)
    return setup


HELD: list[subprocess.Popen] = []


def damage(name: str, data: bytes = b""):
    """A file of a sweep truncated or overwritten, as a power loss leaves it."""
    def setup(tmp: Path, templates: Path) -> None:
        (tmp / name).write_bytes(data)
    return setup


@dataclass
class Case:
    id: str
    cls: int
    argv: list[str]
    setup: Callable | None = None
    status: int = 2
    expect: tuple[str, ...] = ()
    check: Callable[[Path], None] | None = None
    files: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------------------------- checks after a case
def manifest(path: Path) -> dict:
    return json.loads(path.read_text())


def sweep_intact(name: str) -> Callable[[Path], None]:
    def check(tmp: Path) -> None:
        assert manifest(tmp / name / "manifest.json")["format"] == "factoryshift-sweep/1"
    return check


def run_whole(name: str, seed: int | None = None, files: set[str] | None = None) -> Callable[[Path], None]:
    """The folder is one run: its manifest lists exactly the files present and describes countries.csv."""
    def check(tmp: Path) -> None:
        folder = tmp / name
        m = manifest(folder / "manifest.json")
        assert m["command"] == "run"
        present = {p.name for p in folder.iterdir() if not p.name.startswith(".")}
        assert set(m["files"]) <= present
        if files is not None:
            assert present == files, present
        rows = pd.read_csv(folder / "countries.csv")
        assert rows["year"].max() == m["years"][1]
        if seed is not None:
            assert m["seed"] == seed
        assert not [p for p in tmp.iterdir() if ".stage-" in p.name or ".old-" in p.name]
    return check


def no_stage_left(tmp: Path) -> None:
    assert not [p for p in tmp.rglob("*") if ".stage-" in p.name or ".old-" in p.name]


def sweep_complete(name: str, runs: int = 2) -> Callable[[Path], None]:
    def check(tmp: Path) -> None:
        from sim.experiments.store import read_table

        table = read_table(tmp / name / "runs.parquet").to_pandas()
        assert sorted(table["run_id"]) == list(range(runs)) and (table["status"] == "ok").all()
        assert list((tmp / name / "quarantine").iterdir())
    return check


def all_finite_stderr_empty(name: str) -> Callable[[Path], None]:
    def check(tmp: Path) -> None:
        frame = pd.read_csv(tmp / name / "countries.csv")
        assert frame.notna().all().all()
    return check


def nothing_written(name: str) -> Callable[[Path], None]:
    def check(tmp: Path) -> None:
        assert not (tmp / name).exists()
    return check


SMALL = ["--firms", "40", "--until", "2026", "--no-plot"]
COMPARE = ["--replicates", "1", "--firms", "40", "--workers", "1", "--no-plot"]
HINDCAST = ["--seeds", "1", "--firms", "40", "--no-plot", "--no-restart"]
CODES = ("CHN", "KOR", "JPN", "USA", "DEU", "IND", "VNM", "MEX", "XEU", "XAS", "ROW")
# θ = 12 (in range): the shrinking productivity's unit costs, raised to −θ, underflow to 0 and the shares to 0/0
NAN_SCENARIO = BASE + "[run]\nend_year = 2200\nfirms = 40\n[model]\ntheta = 12.0\n" + "".join(
    f"[countries.{c}]\nproductivity_growth = -0.5\n" for c in CODES)

CASES = [
    # 1. locks: a dead holder never blocks, a live one is named
    Case("stale lock file of a dead coordinator", 1, ["sweep", "tiny.toml", "--out", "sw", "--executor", "serial",
         "--quiet", "--no-analyze"], write("sw/.lock", ""), 0, ("2/2 runs done",),
         files={"tiny.toml": tiny_experiment()}),
    Case("sweep locked by a live process", 1, ["sweep", "tiny.toml", "--out", "sw", "--executor", "serial"],
         chain(write("sw/.lock", ""), hold_lock("sw/.lock")), 2, ("sw: another sweep is writing to this folder",),
         files={"tiny.toml": tiny_experiment()}),
    Case("run folder locked by a live writer", 1, ["run", *SMALL, "--out", "r"],
         chain(copy("run", "r"), hold_lock(".r.lock")), 2, ("--out: r: another factoryshift process is writing",),
         env={"FACTORYSHIFT_LOCK_WAIT": "0.3"}),
    Case("resume of a complete sweep after its coordinator died", 1,
         ["sweep", "tiny.toml", "--out", "sw", "--executor", "serial", "--no-analyze"],
         chain(copy("sweep", "sw"), write("sw/.lock", "")), 0, ("2 already done",),
         files={"tiny.toml": tiny_experiment()}),
    # 2. one command's folder is never silently replaced by another's
    Case("run --out a sweep folder", 2, ["run", *SMALL, "--out", "sw"], copy("sweep", "sw"), 2,
         ("--out: sw: holds results of `factoryshift sweep`", "--force"), sweep_intact("sw")),
    Case("compare --out a sweep folder", 2, ["compare", "baseline", *COMPARE, "--out", "sw"], copy("sweep", "sw"), 2,
         ("--out: sw: holds results of `factoryshift sweep`",), sweep_intact("sw")),
    Case("hindcast --out a sweep folder", 2, ["hindcast", *HINDCAST, "--out", "sw"], copy("sweep", "sw"), 2,
         ("--out: sw: holds results of `factoryshift sweep`",)),
    Case("run --out a compare folder", 2, ["run", *SMALL, "--out", "c"], copy("compare", "c"), 2,
         ("holds results of `factoryshift compare`",)),
    Case("compare --out a run folder", 2, ["compare", "baseline", *COMPARE, "--out", "r"], copy("run", "r"), 2,
         ("holds results of `factoryshift run`",)),
    Case("hindcast --out a run folder", 2, ["hindcast", *HINDCAST, "--out", "r"], copy("run", "r"), 2,
         ("holds results of `factoryshift run`",)),
    Case("run --out a folder of the user's files", 2, ["run", *SMALL, "--out", "mine"], write("mine/notes.txt", "x"),
         2, ("--out: mine: holds files that are not FactoryShift results",)),
    Case("run --out a folder whose manifest is damaged", 2, ["run", *SMALL, "--out", "r"],
         chain(copy("run", "r"), damage("r/manifest.json")), 2, ("--out: r: holds an unreadable manifest.json",)),
    Case("run --out a sweep folder with --force replaces it whole", 2, ["run", *SMALL, "--out", "sw", "--force"],
         copy("sweep", "sw"), 0, ("results written to sw/",), run_whole("sw", files={
             "countries.csv", "flows.csv", "entrants.csv", "trade.csv", "manifest.json"})),
    Case("sweep --out a run folder", 2, ["sweep", "tiny.toml", "--out", "r", "--executor", "serial"],
         copy("run", "r"), 2, ("r: not a sweep folder",), files={"tiny.toml": tiny_experiment()}),
    Case("sweep --out a sweep of another experiment", 2, ["sweep", "other.toml", "--out", "sw", "--executor",
         "serial"], copy("sweep", "sw"), 2, ("holds a sweep of a different version",),
         files={"other.toml": tiny_experiment(seed=8)}),
    Case("calibrate --out a scenario file", 2, ["calibrate", "--quick", "--out", "mine.toml"],
         write("mine.toml", BASE), 2, ("--out: mine.toml: exists and is not a calibration overlay",)),
    Case("calibrate --out a folder", 2, ["calibrate", "--quick", "--out", "r"], copy("run", "r"), 2,
         ("--out: r: is a folder; give a file name",)),
    Case("discover --out a run folder", 2, ["discover", "lhs", "--outcome", "us", "--top", "0.3", "--out", "r"],
         chain(copy("lhs"), copy("run", "r")), 2, ("--out: r: holds results of `factoryshift run`",)),
    Case("analyze a run folder", 2, ["analyze", "r"], copy("run", "r"), 2, ("r: not a sweep folder",)),
    Case("run --out the current folder", 2, ["run", *SMALL, "--out", "."], None, 2,
         ("is the current folder, one of its parents or the root",)),
    # 3. a folder holds one whole result; stale stages go
    Case("second run replaces the first whole, keeps the user's notes", 3,
         ["run", "--firms", "40", "--until", "2025", "--no-plot", "--seed", "5", "--out", "r"],
         chain(copy("run", "r"), write("r/notes.txt", "mine"), write("r/shares.png", "from an earlier run")), 0,
         ("results written to r/",),
         lambda tmp: (run_whole("r", seed=5, files={"countries.csv", "flows.csv", "entrants.csv", "trade.csv",
                                                    "manifest.json", "notes.txt"})(tmp),
                      (tmp / "r" / "notes.txt").read_text() == "mine" or pytest.fail("notes lost"))),
    Case("stale stage of a killed run is removed", 3, ["run", *SMALL, "--out", "r"],
         chain(copy("run", "r"), write(".r.stage-dead1234/countries.csv", "half")), 0, (), run_whole("r")),
    Case("old version set aside by a killed swap is put back, then replaced", 3, ["run", *SMALL, "--out", "r"],
         copy("run", ".r.old-99999"), 0, (), run_whole("r")),
    Case("a previous run's leftover temporary folder inside the results is dropped", 3, ["run", *SMALL, "--out", "r"],
         chain(copy("run", "r"), write("r/.tmp-abc/countries.csv", "half")), 0, (),
         lambda tmp: not (tmp / "r" / ".tmp-abc").exists() or pytest.fail(".tmp left")),
    Case("discover into its own folder again", 3, ["discover", "lhs", "--outcome", "us", "--top", "0.3"],
         lambda tmp, t: (copy("lhs")(tmp, t), main(["discover", "lhs", "--outcome", "us", "--top", "0.5"])), 0,
         ("discovery written to lhs/discovery/us/discovery.md",), lambda tmp: (
             no_stage_left(tmp), "top 30%" in (tmp / "lhs/discovery/us/discovery.md").read_text()
             or pytest.fail("not replaced"))),
    Case("compare into its own folder again", 3, ["compare", "baseline", *COMPARE, "--out", "c"], copy("compare", "c"),
         0, ("results written to c/",), lambda tmp: manifest(tmp / "c" / "manifest.json")["command"] == "compare"),
    Case("analyze leaves no stage and writes a whole analysis", 3, ["analyze", "sw"],
         chain(copy("sweep", "sw"), write("sw/.view.stage-dead/analysis.md", "half")), 0, ("analysis written to",),
         lambda tmp: (no_stage_left(tmp), (tmp / "sw" / "analysis.md").read_text().startswith("#")
                      or pytest.fail("analysis.md"))),
    Case("run with a bad scenario leaves the folder untouched", 3, ["run", "bad.toml", "--out", "r"], copy("run", "r"),
         2, ("bad.toml: countries.CHN.coordination: out of range",), files={"bad.toml": BASE + "[countries.CHN]\n"
                                                                                   "coordination = 2\n"}),
    # 4. numeric health
    Case("in-range extremes that go non-finite stop with the parameters named", 4,
         ["run", "nan.toml", "--no-plot", "--out", "n"], None, 2,
         ("nan.toml: the run became non-finite in", "productivity_growth = -0.5"), nothing_written("n"),
         files={"nan.toml": NAN_SCENARIO}),
    Case("compare of a non-finite scenario", 4, ["compare", "nan.toml", *COMPARE, "--out", "c"], None, 2,
         ("became non-finite",), nothing_written("c"), files={"nan.toml": NAN_SCENARIO}),
    Case("extremes that once warned now run quietly", 4, ["run", "edge.toml", *SMALL, "--out", "e"], None, 0,
         ("results written to e/",), all_finite_stderr_empty("e"),
         files={"edge.toml": BASE + "[model]\nrelocation_sharpness = 1000.0\nai_capex_per_output = 100.0\n"
                                    "payback_horizon = 100.0\n"}),
    Case("hours_per_unit beyond its new bound", 4, ["run", "h.toml", "--out", "h"], None, 2,
         ("h.toml: model.hours_per_unit: out of range: 1e+300 not in (0, 1]",),
         files={"h.toml": BASE + "[model]\nhours_per_unit = 1e300\n"}),
    Case("a worthless currency is refused", 4, ["run", "o.toml", "--out", "o"], None, 2,
         ("countries.CHN.exchange_rate: out of range: 0.0 not in [1e-06, 100]",),
         files={"o.toml": BASE + "[countries.CHN]\nexchange_rate = 0.0\nwage = 0.02\n"}),
    Case("no demand anywhere", 4, ["validate", "d.toml"], None, 2, ("d.toml: countries: demand is 0 in every country",),
         files={"d.toml": BASE + "".join(f"[countries.{c}]\ndemand = 0.0\n" for c in CODES)}),
    Case("demand compounding grows the firm population without bound", 4, ["run", "g.toml", "--no-plot", "--out", "g"],
         None, 2, ("the firm population would grow to",), nothing_written("g"), files={"g.toml": BASE.replace(
             '"\n', '"\n[run]\nend_year = 2200\nfirms = 200\n') + "".join(
             f"[countries.{c}]\ndemand_growth = 0.5\n" for c in CODES)}),
    # 5. user input, not internal errors
    Case("deeply nested arrays", 5, ["validate", "deep.toml"], None, 2, ("deep.toml: nested too deeply",),
         files={"deep.toml": "x = " + "[" * 3000 + "]" * 3000 + "\n"}),
    Case("deeply nested tables", 5, ["validate", "deep.toml"], None, 2, ("deep.toml: ", "nested too deeply"),
         files={"deep.toml": "[" + ".".join(f"t{i}" for i in range(40)) + "]\nx = 1\n"}),
    Case("deeply nested experiment", 5, ["sweep", "deep.toml"], None, 2, ("deep.toml: nested too deeply",),
         files={"deep.toml": "[experiment]\nx = " + "[" * 3000 + "]" * 3000 + "\n"}),
    Case("year key with superscript digits", 5, ["validate", "y.toml"], None, 2,
         ("countries.KOR.working_age.²⁰³⁰: keys must be years",),
         files={"y.toml": BASE + '[countries.KOR.working_age]\n"²⁰³⁰" = 30.0\n'}),
    Case("year key with a sign", 5, ["validate", "y.toml"], None, 2, ("working_age.+2030: keys must be years",),
         files={"y.toml": BASE + '[countries.KOR.working_age]\n"+2030" = 30.0\n'}),
    Case("year key with a fraction", 5, ["validate", "y.toml"], None, 2, ("working_age.2030.5: keys must be years",),
         files={"y.toml": BASE + '[countries.KOR.working_age]\n"2030.5" = 30.0\n'}),
    Case("--out name longer than the file system allows", 5, ["run", *SMALL, "--out", LONG], None, 2,
         ("--out: " + LONG[:20], "is too long")),
    Case("compare --out name too long", 5, ["compare", "baseline", *COMPARE, "--out", LONG], None, 2, ("is too long",)),
    Case("hindcast --out name too long", 5, ["hindcast", *HINDCAST, "--out", f"a/{LONG}"], None, 2, ("is too long",)),
    Case("calibrate --out name too long", 5, ["calibrate", "--quick", "--out", LONG + ".toml"], None, 2,
         ("is too long",)),
    Case("sweep --out name too long", 5, ["sweep", "tiny.toml", "--out", LONG], None, 2, ("is too long",),
         files={"tiny.toml": tiny_experiment()}),
    Case("--out under a file", 5, ["run", *SMALL, "--out", "plain.txt/r"], write("plain.txt", "x"), 2,
         ("--out: plain.txt/r: cannot create the folder",)),
    Case("--out where nothing can be written", 5, ["run", *SMALL, "--out", "/proc/results"], None, 2,
         ("--out: /proc/results: cannot create the folder in /proc",)),
    Case("calibrate --out where nothing can be written, before the fit", 5,
         ["calibrate", "--quick", "--out", "/proc/x.toml"], None, 2, ("--out: /proc/x.toml: cannot create the file",)),
    Case("calibrate with an empty --params", 5, ["calibrate", "--quick", "--params", ""], None, 2,
         ("--params: give at least one parameter to fit",)),
    Case("hindcast --params a folder", 5, ["hindcast", *HINDCAST, "--params", "r"], copy("run", "r"), 2,
         ("argument --params: r: is a folder, not a file",)),
    Case("hindcast --params empty file", 5, ["hindcast", *HINDCAST, "--params", "e.toml"], write("e.toml", ""), 2,
         ("e.toml: model: missing",)),
    Case("hindcast --params not UTF-8", 5, ["hindcast", *HINDCAST, "--params", "l.toml"],
         write("l.toml", b"[model]\n# caf\xe9\n"), 2, ("--params: l.toml: not UTF-8 text",)),
    Case("hindcast negative --seed", 5, ["hindcast", *HINDCAST, "--seed", "-1"], None, 2,
         ("argument --seed: must be ≥ 0", "got -1")),
    Case("hindcast --seed beyond 2**63", 5, ["hindcast", *HINDCAST, "--seed", str(2**64)], None, 2,
         ("argument --seed: must be ≥ 0 and ≤ 9,223,372,036,854,775,807",)),
    Case("calibrate negative --seed", 5, ["calibrate", "--quick", "--seed", "-5"], None, 2, ("argument --seed",)),
    Case("compare negative --seed", 5, ["compare", "baseline", "--seed", "-2"], None, 2, ("argument --seed",)),
    Case("scenario is a folder", 5, ["run", "r"], copy("run", "r"), 2, ("r: is a folder, not a .toml file",)),
    Case("validate a folder", 5, ["validate", "r/"], copy("run", "r"), 2, ("r/: is a folder",)),
    Case("experiment is a folder", 5, ["sweep", "r/"], copy("run", "r"), 2, ("r/: is a folder",)),
    Case("experiment's scenario is a folder", 5, ["sweep", "x.toml"], copy("run", "r"), 2,
         ("experiment.scenario: r/: is a folder",), files={"x.toml": tiny_experiment().replace('"baseline"', '"r/"')}),
    Case("scenario file larger than any input", 5, ["validate", "big.toml"], None, 2, ("big.toml: larger than 4 MiB",),
         files={"big.toml": "# " + "x" * (5 * 1024 * 1024) + "\n"}),
    # 6. nonsense refused
    Case("the same year twice", 6, ["validate", "y.toml"], None, 2,
         ("countries.KOR.working_age.02030: keys must be years",),
         files={"y.toml": BASE + '[countries.KOR.working_age]\n"2030" = 30.0\n"02030" = 31.0\n'}),
    Case("schedule from before year 0", 6, ["validate", "s.toml"], None, 2,
         ("schedule[0].from: must be a year from 1900 to 2200, got -5",),
         files={"s.toml": BASE + '[[schedule]]\ncountry = "USA"\nlever = "coordination"\nfrom = -5\nvalue = 0.5\n'}),
    Case("schedule far after the run", 6, ["validate", "s.toml"], None, 2, ("schedule[0].from: must be a year",),
         files={"s.toml": BASE + '[[schedule]]\ncountry = "USA"\nlever = "coordination"\nfrom = 99999\nvalue = 0.5\n'}),
    Case("schedule ramp ending at year 0", 6, ["validate", "s.toml"], None, 2, ("schedule[0].to: must be a year",),
         files={"s.toml": BASE + '[[schedule]]\ncountry = "USA"\nlever = "coordination"\nfrom = 2030\nto = 0\n'
                                 'shape = "ramp"\nvalue = 0.5\n'}),
    Case("country code with a trailing newline", 6, ["validate", "c.toml"], None, 2,
         ("countries.USA\\n: country codes are 3 capital letters",),
         files={"c.toml": BASE + '[countries."USA\\n"]\nwage = 3.0\n'}),
    Case("country name with a trailing newline", 6, ["validate", "c.toml"], None, 2,
         ("countries.CHN.name: must be one line of text",),
         files={"c.toml": BASE + '[countries.CHN]\nname = "China\\n"\n'}),
    Case("empty country name", 6, ["validate", "c.toml"], None, 2, ("countries.CHN.name: must be one line",),
         files={"c.toml": BASE + '[countries.CHN]\nname = ""\n'}),
    Case("title on two lines", 6, ["validate", "c.toml"], None, 2, ("meta.title: must be one line of text",),
         files={"c.toml": BASE + '[meta]\ntitle = "a\\nb"\n'}),
    Case("tariff origin with a trailing newline", 6, ["validate", "c.toml"], None, 2,
         ("countries.USA.tariffs.CHN\\n: must be `default` or a 3-letter country code",),
         files={"c.toml": BASE + '[countries.USA.tariffs]\n"CHN\\n" = 0.1\n'}),
    Case("a tariff a country levies on itself", 6, ["validate", "t.toml"], None, 2,
         ("countries.USA.tariffs.USA: a country's tariff on its own goods is never applied",),
         files={"t.toml": BASE + "[countries.USA.tariffs]\nUSA = 0.5\n"}),
    Case("a scheduled tariff on itself", 6, ["validate", "t.toml"], None, 2, ("schedule[0].lever: a country's tariff",),
         files={"t.toml": BASE + '[[schedule]]\ncountry = "USA"\nlever = "tariffs.USA"\nfrom = 2030\nvalue = 0.5\n'}),
    Case("an experiment lever that is a tariff on itself", 6, ["sweep", "x.toml"], None, 2,
         ("levers.countries.USA.tariffs.USA: a country's tariff on its own goods",),
         files={"x.toml": tiny_experiment().replace('"countries.USA.ai_subsidy_rate" = { values = [0.0, 0.5] }',
                                                    '"countries.USA.tariffs.USA" = { values = [0.0, 0.5] }')}),
    Case("a country listed twice in an outcome", 6, ["sweep", "x.toml"], None, 2,
         ("outcomes.us.country: lists USA twice",),
         files={"x.toml": tiny_experiment().replace('country = "USA"', 'country = ["USA", "USA"]')}),
    Case("outcome name with a trailing newline", 6, ["sweep", "x.toml"], None, 2,
         ("outcomes.us\\n: outcome names are identifiers",),
         files={"x.toml": tiny_experiment().replace("us = {", '"us\\n" = {')}),
    Case("experiment title on two lines", 6, ["sweep", "x.toml"], None, 2, ("experiment.title: must be one line",),
         files={"x.toml": tiny_experiment(extra='title = "a\\nb"')}),
    Case("a factor linked to itself", 6, ["sweep", "x.toml"], None, 2,
         ("also: lists countries.USA.ai_subsidy_rate twice",),
         files={"x.toml": tiny_experiment().replace("values = [0.0, 0.5] }", 'values = [0.0, 0.5], also = '
                                                    '["countries.USA.ai_subsidy_rate"] }')}),
    Case("compare --countries with a duplicate", 6, ["compare", "baseline", "--countries", "USA,USA"], None, 2,
         ("--countries: lists USA twice",)),
    Case("calibrate --params with a duplicate", 6, ["calibrate", "--quick", "--params", "theta,theta"], None, 2,
         ("--params: 'theta' is given twice",)),
    # 7. damaged sweep files on resume: named, quarantined, re-run
    Case("zero-length run file", 7, ["sweep", "x.toml", "--out", "sw", "--executor", "serial", "--no-analyze"],
         chain(copy("sweep", "sw"), damage("sw/runs/000001.parquet")), 0,
         ("sw/runs/000001.parquet: damaged (empty file); moved to sw/quarantine/000001.parquet, run 1 runs again",
          "1 already done"), sweep_complete("sw"), files={"x.toml": tiny_experiment()}),
    Case("run file of random bytes", 7, ["sweep", "x.toml", "--out", "sw", "--executor", "serial", "--no-analyze"],
         chain(copy("sweep", "sw"), damage("sw/runs/000000.parquet", os.urandom(3000))), 0,
         ("sw/runs/000000.parquet: damaged (unreadable",), sweep_complete("sw"), files={"x.toml": tiny_experiment()}),
    Case("zero-length failure record", 7, ["sweep", "x.toml", "--out", "sw", "--executor", "serial", "--no-analyze"],
         chain(copy("sweep", "sw"), damage("sw/runs/000001.failed.json")), 0,
         ("sw/runs/000001.failed.json: damaged (empty file)",), sweep_complete("sw"),
         files={"x.toml": tiny_experiment()}),
    Case("run file holding another run", 7, ["sweep", "x.toml", "--out", "sw", "--executor", "serial",
         "--no-analyze"], lambda tmp, t: (copy("sweep", "sw")(tmp, t), shutil.copy(
             tmp / "sw/runs/000000.parquet", tmp / "sw/runs/000001.parquet")), 0,
         ("000001.parquet: damaged (its record does not describe this run)",), sweep_complete("sw"),
         files={"x.toml": tiny_experiment()}),
    Case("zero-length derived table is rebuilt by analyze", 7, ["analyze", "sw"],
         chain(copy("sweep", "sw"), damage("sw/runs.parquet")), 0, ("analysis written to",)),
    Case("zero-length sweep manifest", 7, ["sweep", "x.toml", "--out", "sw", "--executor", "serial"],
         chain(copy("sweep", "sw"), damage("sw/manifest.json")), 2, ("sw/manifest.json: unreadable",),
         files={"x.toml": tiny_experiment()}),
    Case("analyze with a damaged run and no tables", 7, ["analyze", "sw"],
         chain(copy("sweep", "sw"), damage("sw/runs/000000.parquet"), lambda tmp, t: [
             (tmp / "sw" / f"{n}.parquet").unlink() for n in ("runs", "outcomes")]), 2,
         ("sw/runs/000000.parquet: damaged (empty file); run the same `factoryshift sweep` command again",)),
    # 8. typos in options
    Case("--frims", 8, ["run", "--frims", "100"], None, 2, ("factoryshift run: unknown option --frims (did you mean "
                                                            "'--firms'?)",)),
    Case("--replicate", 8, ["compare", "baseline", "--replicate", "3"], None, 2, ("did you mean '--replicates'?",)),
    Case("--exector", 8, ["sweep", "x", "--exector", "serial"], None, 2, ("did you mean '--executor'?",)),
    Case("--sedd", 8, ["hindcast", "--sedd", "3"], None, 2, ("did you mean '--seed'?",)),
    Case("--quik", 8, ["calibrate", "--quik"], None, 2, ("did you mean '--quick'?",)),
    Case("--no-plots", 8, ["run", "--no-plots"], None, 2, ("did you mean '--no-plot'?",)),
    Case("an abbreviation is a typo too", 8, ["run", "--fir", "100"], None, 2, ("did you mean '--firms'?",)),
    Case("command typo", 8, ["rnu"], None, 2, ("invalid choice: 'rnu'", "did you mean 'run'?")),
    Case("choice typo", 8, ["sweep", "x", "--executor", "dsk"], None, 2, ("did you mean 'dask'?",)),
    Case("top-level option typo", 8, ["--verison"], None, 2, ("did you mean '--version'?",)),
    Case("sweep --formt", 8, ["sweep", "x", "--formt", "csv"], None, 2, ("did you mean '--format'?",)),
    Case("sweep --format typo", 8, ["sweep", "x", "--format", "cvs"], None, 2,
         ("argument --format: invalid choice: 'cvs'", "did you mean 'csv'?")),
    Case("compare --progres", 8, ["compare", "baseline", "--progres"], None, 2, ("did you mean '--progress'?",)),
    # 6 (issue 14). levers that would mislead
    Case("a tariff written as a percentage", 6, ["validate", "t.toml"], None, 2,
         ("countries.USA.tariffs.CHN: out of range: 5 not in [0, 2]", "(did you mean 0.05?",),
         files={"t.toml": BASE + "[countries.USA.tariffs]\nCHN = 5\n"}),
    Case("an experiment factor on a tariff written as a percentage", 6, ["sweep", "x.toml", "--dry-run"], None, 2,
         ("levers.countries.USA.tariffs.CHN.values[1]: out of range: 25 not in [0, 2]", "(did you mean 0.25?"),
         files={"x.toml": tiny_experiment().replace('"countries.USA.ai_subsidy_rate" = { values = [0.0, 0.5] }',
                                                    '"countries.USA.tariffs.CHN" = { values = [0, 25] }')}),
]


def snapshot(root: Path) -> dict[str, str]:
    """Every file under `root` with its content hash (lock files and empty folders aside)."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.name.endswith(".lock")}


def test_corpus_covers_every_class():
    counts = {k: sum(c.cls == k for c in CASES) for k in range(1, 9)}
    assert len(CASES) >= 60 and all(n >= 3 for n in counts.values()), counts
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[f"{c.cls}-{c.id}" for c in CASES])
def test_case(case: Case, tmp_path, templates, monkeypatch, capsys):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for name, text in case.files.items():
        (work / name).write_text(text)
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    try:
        if case.setup:
            case.setup(work, templates)
        before = snapshot(work)
        status = main(case.argv)
    finally:
        while HELD:
            proc = HELD.pop()
            proc.kill()
            proc.wait()
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "internal error" not in err, err
    assert "RuntimeWarning" not in err and "Warning:" not in err, err
    assert status == case.status, (status, out, err)
    if case.status == 2:
        assert len(err.splitlines()) == 1 and err.startswith("error: "), err
        assert snapshot(work) == before, "a refused command changed files"
    for fragment in case.expect:
        assert fragment in out + err, (fragment, out, err)
    if case.check:
        case.check(work)


@pytest.mark.parametrize("param", [p for p in (*P.MODEL_PARAMS, *P.COUNTRY_PARAMS) if p.kind in ("float", "int")
                                   and p.name not in ("mva_share", "tariffs")], ids=lambda p: p.name)
def test_each_parameter_alone_at_the_ends_of_its_range_runs_finite(param, baseline):
    """Ranges admit only what the model digests: each parameter at each end, alone, gives finite results."""
    import numpy as np

    from sim.model.model import FactoryShiftModel

    lo = param.lo + (1e-9 if param.lo == 0 else abs(param.lo) * 1e-9) if param.lo_open else param.lo
    hi = param.hi if param.hi is not None else 1e300
    prefix = "model" if param in P.MODEL_PARAMS else "countries.CHN"
    for value in (lo, hi):
        if param.kind == "int":
            value = int(value)
        scenario = baseline.with_overrides({"run.end_year": 2029, "run.firms": 60, f"{prefix}.{param.name}": value},
                                           source="test")
        with np.errstate(all="raise", under="ignore"):   # overflow, 0/0 and x/0 are errors here
            try:
                frame = FactoryShiftModel(scenario, seed=3).run().recorder.countries()
            except FloatingPointError as exc:
                pytest.fail(f"{prefix}.{param.name} = {value}: {exc}")
        numbers = frame.drop(columns=["country", "ai_fund_usd"])
        assert np.isfinite(numbers.to_numpy(dtype=float)).all(), f"{prefix}.{param.name} = {value}"
