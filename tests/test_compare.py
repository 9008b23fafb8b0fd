"""`factoryshift compare`: parallel equals serial, common random numbers, outputs, bad input."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.experiments.compare import compare, replicate_seeds
from sim.model.model import FactoryShiftModel
from sim.scenarios.scenario import load_scenario

FIRMS = 1000


def test_parallel_equals_serial():
    kwargs = dict(replicates=3, firms=FIRMS, year=2035)
    serial = compare(["baseline", "no_ai_race"], workers=1, **kwargs)
    parallel = compare(["baseline", "no_ai_race"], workers=2, **kwargs)
    pd.testing.assert_frame_equal(serial.runs, parallel.runs, check_exact=True)
    pd.testing.assert_frame_equal(serial.table, parallel.table, check_exact=True)


def test_common_random_numbers(tmp_path):
    """Every scenario gets the same replicate seeds: SeedSequence(base).spawn(R)."""
    twin = tmp_path / "baseline_twin.toml"
    twin.write_text('extends = "baseline"\n[meta]\ntitle = "the baseline again"\n')
    result = compare(["baseline", twin, "west_reshoring"], replicates=3, firms=FIRMS, workers=1, base_seed=11)
    seeds = replicate_seeds(11, 3)
    assert [s["spawn_key"] for s in result.manifest["replicate_seeds"]] == [list(s.spawn_key) for s in seeds]
    # a scenario identical to the reference differs from it by exactly nothing, replicate by replicate
    runs = result.runs.set_index(["scenario", "replicate", "year", "country"])
    a, b = runs.loc["baseline"], runs.loc["baseline_twin"]
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    twin_rows = result.table[result.table["scenario"] == "baseline_twin"]
    assert (twin_rows[["diff_pp", "diff_pp_p5", "diff_pp_p95"]].to_numpy() == 0).all()
    # each replicate is the plain model run with that replicate's seed
    for name in ("baseline", "west_reshoring"):
        model = FactoryShiftModel(load_scenario(name), seed=seeds[2], firms=FIRMS).run()
        direct = model.recorder.countries().set_index(["year", "country"])["production_share"]
        got = runs.loc[(name, 2)]["production_share"]
        np.testing.assert_array_equal(got.to_numpy(), direct.loc[got.index].to_numpy())


def test_table_statistics():
    result = compare(["baseline", "no_ai_race"], replicates=4, firms=FIRMS, year=2040, workers=1)
    table = result.table.set_index(["scenario", "country"])
    assert set(table.columns) >= {"year", "share_mean", "share_p5", "share_p95", "diff_share", "diff_pp",
                                  "diff_pp_p5", "diff_pp_p95", "automation_mean"}
    assert (table.loc["baseline", "diff_pp"] == 0).all()
    at = result.runs[result.runs["year"] == 2040]
    chn = at[(at["scenario"] == "no_ai_race") & (at["country"] == "CHN")]["production_share"]
    row = table.loc[("no_ai_race", "CHN")]
    assert row["share_mean"] == pytest.approx(chn.mean())
    assert row["share_p5"] <= row["share_mean"] <= row["share_p95"]
    ref = table.loc[("baseline", "CHN"), "share_mean"]
    assert row["diff_pp"] == pytest.approx(100 * (chn.mean() - ref))
    assert row["diff_share"] == pytest.approx(chn.mean() - ref)
    assert np.allclose(table.groupby("scenario")["share_mean"].sum(), 1.0)


def test_cli_writes_table_csv_and_plot(tmp_path, capsys):
    out = tmp_path / "cmp"
    status = main(["compare", "baseline", "west_reshoring", "--replicates", "2", "--firms", str(FIRMS),
                   "--year", "2030", "--workers", "1", "--countries", "USA,CHN", "--out", str(out)])
    assert status == 0
    printed = capsys.readouterr().out
    assert "Production share in 2030" in printed and "west_reshoring" in printed
    # costs.csv: public spending per pp of share, when the scenarios' spending differs (sim.experiments.magnitudes)
    assert {p.name for p in out.iterdir()} - {"costs.csv"} == {"compare.csv", "replicates.csv", "flows.csv",
                                                               "manifest.json", "compare.png", "compare.svg",
                                                               "relocations.png", "relocations.svg"}
    csv = pd.read_csv(out / "compare.csv")
    assert set(csv["scenario"]) == {"baseline", "west_reshoring"}
    assert (csv["year"] == 2030).all()
    assert (out / "compare.png").stat().st_size > 10_000


BAD = [
    (["no_such_scenario"], "no_such_scenario: no bundled scenario"),
    (["baseline", "--year", "2100"], "--year: must be between 2024 and 2050"),
    (["baseline", "--year", "2000"], "--year: must be between 2024 and 2050"),
    (["baseline", "--replicates", "0"], "--replicates: must be an integer ≥ 1"),
    (["baseline", "--workers", "0"], "--workers: must be ≥ 1"),
    (["baseline", "--countries", "USA,XXX"], "--countries: unknown country 'XXX'"),
    (["baseline", "--firms", "0"], "--firms: must be between 10"),
    (["baseline", "baseline"], "scenario 'baseline' given more than once"),
    (["baseline", "--replicates", "two"], "invalid int value"),
]


@pytest.mark.parametrize("args,message", BAD, ids=[m for _, m in BAD])
def test_bad_input_exit_2_nothing_written(args, message, tmp_path, capsys):
    out = tmp_path / "never"
    assert main(["compare", *args, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], captured.err
    assert "Traceback" not in captured.err
    assert not out.exists()


def test_bad_input_real_process(tmp_path):
    out = tmp_path / "never"
    proc = subprocess.run([sys.executable, "-m", "sim", "compare", "baseline", "--year", "1999", "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "--year" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()
