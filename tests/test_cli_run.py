"""`factoryshift run` end to end, and what it does with bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from sim.cli import main
from sim.scenarios.scenario import load_scenario


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_run_writes_all_outputs(tmp_path, capsys):
    out = tmp_path / "res"
    code, stdout, _ = run_cli(capsys, "run", "baseline", "--firms", "400", "--until", "2030", "--seed", "5",
                              "--out", str(out))
    assert code == 0
    for name in ("countries.csv", "flows.csv", "entrants.csv", "manifest.json", "shares.png", "automation.png"):
        assert (out / name).stat().st_size > 0, name
    df = pd.read_csv(out / "countries.csv")
    required = {"year", "country", "production_share", "output_usd", "automation", "wage", "employment", "firms",
                "subsidy_spent_usd", "relocations_in", "relocations_out"}
    assert required <= set(df.columns)
    assert df.year.min() == 2024 and df.year.max() == 2030
    assert df.groupby("year").production_share.sum().sub(1).abs().max() < 1e-9
    flows = pd.read_csv(out / "flows.csv")
    assert list(flows.columns) == ["year", "hq", "origin", "destination", "kind", "firms"]
    entrants = pd.read_csv(out / "entrants.csv")
    assert list(entrants.columns) == ["year", "hq", "location", "firms"]
    assert entrants.firms.sum() == df[df.year > 2024].entries.sum()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 5 and manifest["firms"] == 400 and manifest["scenario"] == "baseline"
    assert manifest["parameters"]["model"]["theta"] == load_scenario("baseline").model["theta"]
    assert {"python", "numpy", "mesa"} <= set(manifest["versions"])
    assert manifest["wall_seconds"] > 0 and manifest["started"]
    # the printed table lists every country's first- and last-year share
    assert "share_2024" in stdout and "share_2030" in stdout and "China (CHN)" in stdout


def test_python_m_sim_is_the_cli(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "sim", "run", "--firms", "200", "--until", "2026", "--no-plot",
                           "--out", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "countries.csv").exists() and not (tmp_path / "shares.png").exists()


@pytest.mark.parametrize("argv, fragment", [
    (["run", "no_such_scenario"], "no_such_scenario: no bundled scenario"),
    (["run", "basline"], "did you mean 'baseline'"),
    (["run", "missing/file.toml"], "missing/file.toml: no such file"),
    (["run", "--firms", "0"], "--firms: must be between"),
    (["run", "--until", "2010"], "--until: must be after run.start_year"),
    (["run", "--seed", "-3"], "--seed: must be ≥ 0"),
    (["run", "--firms", "many"], "invalid int value"),
])
def test_bad_input_is_one_line_exit_2(capsys, argv, fragment):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    assert fragment in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("body, location", [
    ("[run\nfirms = 3", "invalid TOML"),
    ('extends = "baseline"\n[run]\nfirmz = 10\n', "run.firmz: unknown parameter (did you mean 'firms'?)"),
    ('extends = "baseline"\n[countries.USA]\nwage = -3.0\n', "countries.USA.wage: out of range"),
    ('extends = "baseline"\n[countries.USA]\nai_subsidy_rate = 1.5\n', "countries.USA.ai_subsidy_rate: out of range"),
    ('extends = "baseline"\n[run]\nend_year = 2020\n', "run.end_year: 2020 must be after run.start_year"),
    ('extends = "baseline"\n[run]\nfirms = 0\n', "run.firms: out of range"),
    ('extends = "baseline"\n[model]\ntheta = "four"\n', "model.theta: must be a number"),
])
def test_bad_scenario_file_names_file_and_key(tmp_path, capsys, body, location):
    path = tmp_path / "bad.toml"
    path.write_text(body)
    code, _, err = run_cli(capsys, "run", str(path), "--out", str(tmp_path / "out"))
    assert code == 2
    assert str(path) in err and location in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_failed_run_leaves_existing_results_untouched(tmp_path, capsys):
    out = tmp_path / "res"
    assert run_cli(capsys, "run", "--firms", "200", "--until", "2026", "--no-plot", "--out", str(out))[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    bad = tmp_path / "bad.toml"
    bad.write_text('extends = "baseline"\n[countries.CHN]\ncoordination = 2\n')
    assert run_cli(capsys, "run", str(bad), "--out", str(out))[0] == 2
    assert run_cli(capsys, "run", "--firms", "0", "--out", str(out))[0] == 2
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_internal_error_exits_1_without_traceback(monkeypatch, capsys):
    import sim.cli.run

    def boom(*args, **kwargs):
        raise RuntimeError("kaput")

    monkeypatch.setattr(sim.cli.run, "run_scenario", boom)
    code, _, err = run_cli(capsys, "run", "--firms", "100")
    assert code == 1 and "internal error: RuntimeError: kaput" in err and "Traceback" not in err


def test_unusable_out_folder_fails_before_the_run(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    for argv in (["run", "--firms", "100", "--out", str(blocker)],
                 ["compare", "baseline", "--replicates", "1", "--firms", "100", "--out", str(blocker)]):
        code, _, err = run_cli(capsys, *argv)
        assert code == 2 and f"--out: {blocker}: exists and is not a folder" in err
    assert blocker.read_text() == "not a folder"


def test_non_utf8_scenario_is_a_user_error(tmp_path, capsys):
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'extends = "baseline"\n# caf\xe9\n')
    code, _, err = run_cli(capsys, "validate", str(path))
    assert code == 2 and f"{path}: not UTF-8 text" in err and "Traceback" not in err


def test_analyze_refuses_a_folder_that_is_not_a_sweep(tmp_path, capsys):
    out = tmp_path / "run"
    assert run_cli(capsys, "run", "--firms", "100", "--until", "2026", "--no-plot", "--out", str(out))[0] == 0
    code, _, err = run_cli(capsys, "analyze", str(out))
    assert code == 2 and "not a sweep folder" in err
