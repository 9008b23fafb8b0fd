"""The dashboard's pure parts: levers -> scenario, TOML export, errors per field, replicate batches."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import sim
from sim.app import config, runs
from sim.app.config import LeverEdit, build
from sim.app.links import parameters
from sim.cli import main
from sim.scenarios.schedule import lever_path

FIRMS = 300


@pytest.fixture(scope="module")
def west():
    return config.load_bundled("west_reshoring")


def test_levers_come_from_the_parameter_table(monkeypatch):
    assert [s.lever for s in config.lever_specs()] == list(parameters.LEVERS)
    spec = {s.lever: s for s in config.lever_specs()}["ai_subsidy_rate"]
    assert (spec.lo, spec.hi, spec.unit) == (0.0, 1.0, parameters.COUNTRY["ai_subsidy_rate"].unit)
    # a lever added to the table (as `mission` will be) appears without touching the dashboard
    monkeypatch.setattr(parameters, "LEVERS", (*parameters.LEVERS, "productivity_growth"))
    assert config.lever_specs()[-1].lever == "productivity_growth"


def test_a_lever_is_a_step_from_its_year_and_earlier_entries_keep_their_values(west):
    edits = [LeverEdit("USA", "tariffs.CHN", 0.6, 2030), LeverEdit("DEU", "tariffs.CHN", 0.3, 2027),
             LeverEdit("IND", "ai_fund", 2.0e9, 2026)]
    built = build(west, edits, firms=FIRMS)
    assert built.ok, built.errors
    years = range(2024, 2051)
    for edit in edits:
        old = lever_path(config.base_value(west, edit.country, edit.lever),
                           config.scheduled(west, edit.country, edit.lever), years)
        new = lever_path(config.base_value(built.scenario, edit.country, edit.lever),
                           config.scheduled(built.scenario, edit.country, edit.lever), years)
        for year in years:
            if year < edit.start:
                assert new.get(year, old.get(year)) == pytest.approx(old.get(year, new.get(year)), abs=1e-12)
            else:
                assert new[year] == edit.value
    # DEU's ramp 2025-2028 from 0.04 to 0.12 now ends in 2026, a third of the way up
    deu = config.scheduled(built.scenario, "DEU", "tariffs.CHN")
    assert deu[0]["to"] == 2026 and deu[0]["value"] == pytest.approx(0.04 + (0.12 - 0.04) / 3)
    assert built.scenario.run["firms"] == FIRMS and built.scenario.run["seed"] == 1


def test_messages_are_the_command_lines_and_sit_by_their_field(west, tmp_path, capsys):
    edits = [LeverEdit("CHN", "ai_subsidy_rate", 1.5, 2027), LeverEdit("USA", "acceptance", "lots", 2026),
             LeverEdit("KOR", "coordination", 0.5, 2070), LeverEdit("JPN", "acceptance", 0.5, "soon")]
    built = build(west, edits, firms=5, name="mine")
    assert built.scenario is None and not built.ok
    assert set(built.errors) == {"CHN.ai_subsidy_rate", "USA.acceptance", "KOR.coordination", "JPN.acceptance",
                                 "firms"}
    assert "from: must be a year (integer), got 'soon'" in built.errors["JPN.acceptance"][0]
    assert all(len(ms) == 1 and "\n" not in ms[0] for ms in built.errors.values())
    assert re.match(r"mine\.toml: schedule\[\d+\]\.value: out of range: 1\.5 not in \[0, 1\]",
                    built.errors["CHN.ai_subsidy_rate"][0])
    assert "got a string 'lots'" in built.errors["USA.acceptance"][0]
    assert "from: must be a year from run.start_year = 2024 to run.end_year = 2050, got 2070" in \
        built.errors["KOR.coordination"][0]
    # the same file given to `factoryshift validate` prints the same lines
    path = tmp_path / "mine.toml"
    path.write_text(built.toml)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.replace(str(tmp_path) + "/", "")
    for key in ("CHN.ai_subsidy_rate", "USA.acceptance", "firms"):
        assert built.errors[key][0] in err


def test_pasted_toml_errors_name_the_pasted_file():
    with pytest.raises(sim.errors.UserError) as bad:
        config.scenario_from_text('extends = "baseline"\n[countries.USA]\nwagee = 3\n', "my scenario")
    assert bad.value.messages == ["my_scenario.toml: countries.USA.wagee: unknown parameter (did you mean 'wage'?)"]
    with pytest.raises(sim.errors.UserError) as bad:
        config.scenario_from_text("a = [", "pasted")
    assert bad.value.messages[0].startswith("pasted.toml: invalid TOML")
    with pytest.raises(sim.errors.UserError) as bad:
        config.scenario_from_bytes(b"\xff\xfe", "x.toml")
    assert bad.value.messages == ["x.toml: not UTF-8 text (byte 0)"]
    ok = config.scenario_from_text('extends = "west_reshoring"\n[countries.USA]\nwage = 50.0\n', "mine")
    assert ok.countries["USA"]["wage"] == 50.0 and ok.name == "mine"


def test_exported_toml_reproduces_the_run_through_the_cli(west, tmp_path):
    built = build(west, [LeverEdit("USA", "ai_subsidy_rate", 0.5, 2026)], firms=FIRMS)
    batch = runs.run_batch({"current": built.scenario}, [1, 2], FIRMS, cache=None)
    path = tmp_path / "exported.toml"
    path.write_text(batch.scenarios["current"].to_toml())
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--no-plot"]) == 0
    cli = pd.read_csv(tmp_path / "out" / "countries.csv")
    mine = batch.countries[(batch.countries["seed"] == 1)].drop(columns=["config", "seed"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, cli, check_exact=True, check_dtype=False)
    other = batch.countries[(batch.countries["seed"] == 2)].drop(columns=["config", "seed"]).reset_index(drop=True)
    assert not np.array_equal(other["production_share"], cli["production_share"])


def test_replicates_are_paired_cached_and_stoppable(west, monkeypatch):
    calls = []
    real = runs.run_one
    monkeypatch.setattr(runs, "run_one", lambda s, seed, firms: calls.append(seed) or real(s, seed, firms))
    cache = runs.RunCache()
    done = []
    changed = build(west, [LeverEdit("USA", "tariffs.CHN", 1.0, 2025)], firms=FIRMS).scenario
    batch = runs.run_batch({"a": west, "b": west, "c": changed}, [1, 2, 3], FIRMS,
                           progress=lambda d, t: done.append((d, t)), cache=cache)
    assert done[-1] == (9, 9) and calls == [1, 2, 3, 1, 2, 3]  # "b" is "a" again: from the cache
    same = runs.paired_difference(batch, "production_share", "b", "a")
    assert (same[["mean", "p5", "p95"]] == 0).all().all()
    diff = runs.paired_difference(batch, "production_share", "c", "a")
    usa = diff[(diff["country"] == "USA") & (diff["year"] == 2050)].iloc[0]
    assert usa["p5"] <= usa["mean"] <= usa["p95"] and usa["mean"] != 0
    bands = runs.bands(batch, "production_share")
    assert bands.groupby(["config", "year"])["mean"].sum().sub(100).abs().max() < 1e-9
    with pytest.raises(runs.Cancelled):
        runs.run_batch({"a": west}, [7, 8], FIRMS, stop=lambda: len(calls) > 6, cache=cache)
    assert calls[-1] == 7


def test_flow_matrix_averages_replicates_and_splits_by_kind(west):
    batch = runs.run_batch({"a": west}, [1], FIRMS, cache=None)
    batch.flows = pd.DataFrame({"config": "a", "seed": [1, 1, 2], "year": 2030, "origin": ["CHN", "CHN", "CHN"],
                                "destination": ["VNM", "VNM", "USA"], "firms": [4, 2, 6],
                                "kind": ["relocation", "offshoring", "relocation"]})
    batch.seeds = [1, 2]
    all_kinds = runs.flow_matrix(batch, "a")
    assert all_kinds.loc["CHN", "VNM"] == 3 and all_kinds.loc["CHN", "USA"] == 3
    assert list(all_kinds.index) == batch.codes and all_kinds.loc["USA"].sum() == 0
    assert runs.flow_matrix(batch, "a", "offshoring").loc["CHN", "VNM"] == 1
    assert runs.flow_kinds(batch) == ["offshoring", "relocation"]
