"""The historical start and its no-peeking guarantee (sim/history/start.py, sim/history/fit.py)."""

import csv
import re
import shutil
import tomllib

import numpy as np
import pytest

from sim.data import regions as cal
from sim.history import fit
from sim.history import start as history
from sim.scenarios.scenario import bundled_dir

UNTIL = 2015


def test_shipped_hindcast_start_is_the_generator_output():
    text = (bundled_dir("scenarios") / "hindcast_2005.toml").read_text(encoding="utf-8")
    assert text == history.scenario_text(2005, 2024), "run `python -m sim.history.start > scenarios/hindcast_2005.toml`"


def test_observed_shares_are_shares_and_show_the_shift():
    obs = history.observed_shares()
    assert list(obs.index) == list(range(2005, 2025))
    assert np.allclose(obs.sum(axis=1), 1.0, atol=1e-12)
    assert (obs > 0).all().all()
    assert obs.loc[2005, "CHN"] < 0.10 < 0.25 < obs.loc[2015, "CHN"]      # the shift the model must explain
    assert obs.loc[2024, "JPN"] < obs.loc[2005, "JPN"] / 2


def test_start_matches_the_data_of_its_year():
    scenario = history.starting_scenario(2005, 2015)
    shares = cal.mva_shares(2005)
    assert scenario.run["start_year"] == 2005 and scenario.run["end_year"] == 2015
    for code, country in scenario.countries.items():
        assert country["mva_share"] == pytest.approx(shares[code], abs=5e-7)
        assert max(int(y) for y in country["working_age"]) == 2015
    growth = [e for e in scenario.data["schedule"] if e["lever"] == "demand_growth"]
    assert len(growth) == 10 * len(cal.REGIONS) and max(e["from"] for e in growth) == 2015
    china_2006 = next(e for e in growth if e["country"] == "CHN" and e["from"] == 2006)["value"]
    gdp = (cal.gdp_usd(2006)["CHN"] / cal.gdp_usd(2005)["CHN"])
    kappa = [cal.world_mva(y) / cal._wdi("NY.GDP.MKTP.CD", y)["WLD"] for y in (2005, 2006)]
    assert china_2006 == pytest.approx(gdp * kappa[1] / kappa[0] - 1, abs=1e-6)


def test_robot_proxy_orders_countries_by_installations_per_output():
    robots = history.robot_density_proxy()
    assert robots["KOR"] > robots["JPN"] > robots["CHN"] > 0   # 2012: Korea installs most per unit of MVA
    assert all(v > 0 for v in robots.values())


def _perturb_after(raw_dir, until: int) -> int:
    """Multiply every data point of a year after `until` by a factor between 0.6 and 1.6 that differs
    from cell to cell (a common factor would leave shares unchanged), in place. Returns how many
    values were changed."""
    changed = 0
    year_columns = ("year", "Year", "data_year")
    for path in raw_dir.glob("*.csv"):
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
        header, body = rows[0], rows[1:]
        ycol = next((header.index(c) for c in year_columns if c in header), None)
        for i, row in enumerate(body):
            for j, cell in enumerate(row):
                in_later_year = (ycol is not None and row[ycol].isdigit() and int(row[ycol]) > until
                                 and j != ycol and re.fullmatch(r"-?[0-9.eE+]+", cell or "x"))
                wide_later_year = ycol is None and header[j].isdigit() and int(header[j]) > until and cell
                if in_later_year or wide_later_year:
                    row[j] = repr(float(cell) * (0.6 + 0.1 * ((7 * i + 3 * j) % 11)))
                    changed += 1
        with open(path, "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows([header, *body])
    return changed


def test_no_peeking_fit_ignores_every_observation_after_the_cutoff(tmp_path, monkeypatch):
    settings = fit.Settings.quick(until=UNTIL)
    before = fit.fit(history.observed_shares(2005, UNTIL), settings, progress=False)
    later_before = history.observed_shares(2016, 2024)
    start_before = history.scenario_text(2005, UNTIL)

    raw = tmp_path / "raw"
    shutil.copytree(cal.RAW, raw)
    changed = _perturb_after(raw, UNTIL)
    monkeypatch.setattr(cal, "RAW", raw)
    # the perturbation reaches the data: later shares and the full hindcast start both change ...
    assert changed > 1000
    assert not np.allclose(history.observed_shares(2016, 2024).to_numpy(), later_before.to_numpy())
    assert history.scenario_text(2005, 2024) != (bundled_dir("scenarios") / "hindcast_2005.toml").read_text()
    # ... but not the start the fit uses, nor the fit
    assert history.scenario_text(2005, UNTIL) == start_before
    after = fit.fit(history.observed_shares(2005, UNTIL), settings, progress=False)
    assert after.values == before.values
    assert after.objective == before.objective


def test_fit_recovers_parameters_from_synthetic_data():
    """Data made by the model itself with known θ and χ: the fit finds them again."""
    truth = {"theta": 6.0, "adjustment_speed": 0.5}
    settings = fit.Settings(params=tuple(truth), seeds=1, firms=500, popsize=8, maxiter=15, until=2012)
    scenario = history.starting_scenario(2005, 2012)
    seeds = fit.replicate_seeds(settings.seed, settings.seeds)
    synthetic = fit.simulate_shares(fit.with_values(scenario, truth, truth.values()), seeds, settings.firms)
    observed = history.observed_shares(2005, 2012) * 0 + synthetic
    result = fit.fit(observed, settings, scenario=scenario, progress=False)
    assert result.values["theta"] == pytest.approx(truth["theta"], abs=0.6)
    assert result.values["adjustment_speed"] == pytest.approx(truth["adjustment_speed"], abs=0.08)
    assert result.objective < 0.05      # pp; exactly 0 at the truth (common random numbers)


def test_overlay_records_the_fit_and_loads_as_a_scenario(tmp_path):
    settings = fit.Settings(params=("theta", "adjustment_speed"))
    result = fit.Fit({"theta": 5.5, "adjustment_speed": 0.35}, 1.234, settings, 100, 12.3, [2.0, 1.5, 1.234])
    path = tmp_path / "overlay.toml"
    path.write_text(fit.overlay_text(result, "factoryshift calibrate --test"), encoding="utf-8")
    data = tomllib.loads(path.read_text())
    record = data["meta"]["calibration"]
    assert (record["from"], record["until"], record["seeds"], record["firms"]) == (2005, 2015, 4, 3000)
    assert record["objective_value"] == 1.234 and record["optimiser"].endswith("differential_evolution")
    assert record["bounds"]["theta"] == [fit.FIT["theta"].lo, fit.FIT["theta"].hi]
    from sim.scenarios.scenario import load_scenario
    scenario = load_scenario(path)            # extends hindcast_2005: runnable as it is
    assert scenario.run["start_year"] == 2005
    assert scenario.model["theta"] == 5.5 and scenario.model["adjustment_speed"] == 0.35


def test_baseline_carries_the_shipped_calibration():
    """The forward scenarios use the fitted values (4 significant digits), and say so."""
    from sim.scenarios import parameters as P
    from sim.scenarios.scenario import load_scenario

    shipped = tomllib.loads((bundled_dir("scenarios") / "calibrated_2015.toml").read_text())
    record, fitted = shipped["meta"]["calibration"], shipped["model"]
    assert (record["from"], record["until"]) == (2005, UNTIL) and set(fitted) == set(fit.DEFAULT_PARAMS)
    baseline_file = tomllib.loads((bundled_dir("scenarios") / "baseline.toml").read_text())
    assert baseline_file["meta"]["calibrated_by"] == "calibrated_2015"
    baseline = load_scenario("baseline")
    for name, value in fitted.items():
        rounded = float(f"{value:.4g}")
        assert baseline.model[name] == rounded, name
        assert P.MODEL[name].default == rounded, name
        assert P.MODEL[name].source.startswith("calibrated"), name
    # and the shipped file is the hindcast start with exactly these values
    hindcast_scenario = load_scenario("calibrated_2015")
    assert hindcast_scenario.run["start_year"] == 2005
    assert {k: hindcast_scenario.model[k] for k in fitted} == fitted


def test_fit_is_the_same_serial_and_in_parallel():
    """Deferred updating evaluates each generation as one batch: the process pool changes the speed only."""
    observed = history.observed_shares(2005, UNTIL)
    settings = dict(params=("theta", "adjustment_speed", "trade_cost_near", "trade_cost_far"), maxiter=3)
    serial = fit.fit(observed, fit.Settings.quick(workers=1, **settings), progress=False)
    parallel = fit.fit(observed, fit.Settings.quick(workers=2, **settings), progress=False)
    assert serial.values == parallel.values and serial.generations == parallel.generations
    assert serial.values["trade_cost_near"] <= serial.values["trade_cost_far"]   # the constraint holds


def test_a_later_start_carries_the_policy_events_before_it():
    """Starting in 2015 (the hindcast's restart), the events of 2014–2015 are already in force."""
    s2015 = history.starting_scenario(2015, 2024)
    chn, kor, usa = (s2015.countries[c] for c in ("CHN", "KOR", "USA"))
    assert (chn["ai_subsidy_rate"], chn["ai_fund"], chn["wage_growth"]) == (0.10, 4.0e9, 0.07)
    assert (kor["ai_subsidy_rate"], kor["ai_fund"]) == (0.10, 1.0e9)
    assert usa["tariffs"]["CHN"] == 0.03 and usa["reshoring_incentive"] == 0.0      # 2018, 2019, 2022 to come
    assert chn["wage"] == pytest.approx(1.0 * 1.12 ** 8 * 1.07 ** 2, rel=1e-3)      # 12%/yr to 2013, then 7%
    later = [(e["lever"], e["from"]) for e in s2015.data["schedule"] if e["lever"] != "demand_growth"]
    assert later == [("tariffs.CHN", 2018), ("tariffs.CHN", 2019), ("reshoring_incentive", 2022)]
    assert history.starting_scenario(2019, 2024).countries["USA"]["tariffs"]["CHN"] == 0.19
    # the world robot level: the assumed 50 in 2005, IFR's 66 for a 2015 start
    assert history.world_robot_density(2005, 2024) == 50.0 and history.world_robot_density(2015, 2024) == 66.0
    assert history.world_robot_density(2010, 2012) == 50.0                          # no IFR figure up to 2012
