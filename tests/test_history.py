"""The historical start and its no-peeking guarantee (sim/history/start.py, sim/history/fit.py)."""

import csv
import re
import shutil
import tomllib
from functools import partial

import numpy as np
import pytest

from sim.data import regions as cal
from sim.history import fit, patterns
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
    shares, employment, rates = cal.mva_shares(2005), cal.employment_in(2005), cal.exchange_rates(2005)
    assert scenario.run["start_year"] == 2005 and scenario.run["end_year"] == 2015
    for code, country in scenario.countries.items():
        assert country["mva_share"] == pytest.approx(shares[code], abs=5e-7)
        assert country["employment"] == pytest.approx(employment[code], rel=1e-3)
        assert country["exchange_rate"] == pytest.approx(rates[code], rel=1e-5)
        assert max(int(y) for y in country["working_age"]) == 2015
    schedule = scenario.data["schedule"]
    growth = [e for e in schedule if e["lever"] == "demand_growth"]
    assert len(growth) == 10 * len(cal.REGIONS) and max(e["from"] for e in growth) == 2015
    china_2006 = next(e for e in growth if e["country"] == "CHN" and e["from"] == 2006)["value"]
    gdp = (cal.gdp_usd(2006)["CHN"] / cal.gdp_usd(2005)["CHN"])
    kappa = [cal.world_mva(y) / cal._wdi("NY.GDP.MKTP.CD", y)["WLD"] for y in (2005, 2006)]
    assert china_2006 == pytest.approx(gdp * kappa[1] / kappa[0] - 1, abs=1e-6)
    # the yen of 2012 and 2015, and Japan's wages growing in yen by its trend and relative inflation
    yen = {e["from"]: e["value"] for e in schedule if e["lever"] == "exchange_rate" and e["country"] == "JPN"}
    assert 1 / yen[2012] == pytest.approx(79.79, abs=0.01) and 1 / yen[2015] == pytest.approx(121.04, abs=0.01)
    # the wage of year t is set in step t - 1, so the growth into 2010 is scheduled in 2009
    japan_2010 = next(e for e in schedule if e["lever"] == "wage_growth" and e["country"] == "JPN"
                      and e["from"] == 2009)["value"]
    assert japan_2010 == pytest.approx((1 + history.HISTORY["JPN"][1]) * (1 + cal.relative_inflation(2010)["JPN"]) - 1,
                                       abs=1e-6)


def test_robot_stocks_follow_installations_from_the_2005_assumption():
    start = history.robot_stock_in(2005)
    assert {c: start[c] for c in history.ROBOT_STOCK_2005 if c != "WLD"} == {
        c: v for c, v in history.ROBOT_STOCK_2005.items() if c != "WLD"}
    later = history.robot_stock_in(2015)
    assert later["CHN"] > 10 * start["CHN"]                       # China installed most after 2010
    assert later["JPN"] < start["JPN"] * 1.2                      # Japan mostly replaced robots
    # by 2023 the stock of the five is the sum of the installations of the last 12 years (IFR's rule)
    assert history.robot_stock_in(2023)["KOR"] == pytest.approx(cal.robot_stock(2023)["KOR"], rel=0.15)


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
    # four parameters are enough: every term of the objective reads every data file, whatever is fitted
    settings = fit.Settings.quick(until=UNTIL, params=("theta", "relocation_cost", "wage_response", "p0"))
    before = fit.fit(settings, progress=False)
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
    after = fit.fit(settings, progress=False)
    assert after.values == before.values
    assert after.objective == before.objective and after.errors == before.errors


def test_fit_recovers_parameters_from_synthetic_data():
    """Shares made by the model itself with known θ and χ: the fit finds them again."""
    truth = {"theta": 6.0, "adjustment_speed": 0.5}
    settings = fit.Settings(params=tuple(truth), terms=("shares",), seeds=1, firms=600, popsize=6, maxiter=10,
                            until=2012, refine=0)     # the optimiser alone (the steps have their own test)
    scenario, like = fit.prepared(settings)
    seeds = fit.replicate_seeds(settings.seed, settings.seeds)
    runs = fit.replicate_runs(fit.with_values(scenario, truth, truth.values()), seeds, settings.firms)
    stats = patterns.mean_statistics([patterns.statistics(r.countries, r.flows, r.entrants, 2012) for r in runs])
    synthetic = patterns.Observations.from_statistics(stats, 2005, 2012, like)
    result = fit.fit(settings, scenario=scenario, obs=synthetic, progress=False)
    assert result.values["theta"] == pytest.approx(truth["theta"], abs=0.6)
    assert result.values["adjustment_speed"] == pytest.approx(truth["adjustment_speed"], abs=0.08)
    # exactly 0 at the truth (common random numbers); J sums squared errors in units of each term's scale,
    # so 0.25 is a fit within half a scale unit; the priors start at J > 5
    assert result.objective < 0.25


def test_overlay_records_the_fit_and_loads_as_a_scenario(tmp_path):
    settings = fit.Settings(params=("theta", "adjustment_speed"))
    result = fit.Fit({"theta": 5.5, "adjustment_speed": 0.35}, 1.234, {"shares": 0.4}, settings, 100, 12.3,
                     [2.0, 1.5, 1.234])
    path = tmp_path / "overlay.toml"
    path.write_text(fit.overlay_text(result, "factoryshift calibrate --test"), encoding="utf-8")
    data = tomllib.loads(path.read_text())
    record = data["meta"]["calibration"]
    assert (record["from"], record["until"], record["seeds"], record["firms"]) == (2005, 2015, 2, fit.Settings.firms)
    assert record["errors"] == {"shares": 0.4} and set(record["terms"]) == set(patterns.TERMS)
    assert record["objective_value"] == 1.234 and record["optimiser"].endswith("differential_evolution")
    assert record["bounds"]["theta"] == [fit.FIT["theta"].lo, fit.FIT["theta"].hi]
    from sim.scenarios.scenario import load_scenario
    scenario = load_scenario(path)            # extends hindcast_2005: runnable as it is
    assert scenario.run["start_year"] == 2005
    assert scenario.model["theta"] == 5.5 and scenario.model["adjustment_speed"] == 0.35


def test_baseline_carries_the_shipped_calibration():
    """The forward scenarios use the fitted values (4 significant digits; AI costs declined from 2005 to 2024 at
    the held rate, `fit.HELD`), and say so."""
    from sim.scenarios import parameters as P
    from sim.scenarios.scenario import load_scenario

    shipped = tomllib.loads((bundled_dir("scenarios") / "calibrated_2015.toml").read_text())
    record, fitted = shipped["meta"]["calibration"], shipped["model"]
    assert (record["from"], record["until"]) == (2005, UNTIL) and set(fitted) == set(fit.DEFAULT_PARAMS)
    baseline_file = tomllib.loads((bundled_dir("scenarios") / "baseline.toml").read_text())
    assert baseline_file["meta"]["calibrated_by"] == "calibrated_2015"
    baseline = load_scenario("baseline")
    decline = fitted.get("ai_cost_decline", baseline.model["ai_cost_decline"])   # held unless fitted (fit.HELD)
    for name, value in fitted.items():
        if name in ("ai_unit_cost", "ai_capex_per_output"):
            value *= (1 - decline) ** (2024 - 2005)
        rounded = float(f"{value:.4g}")
        assert baseline.model[name] == rounded, name
        assert P.MODEL[name].default == rounded, name
        assert P.MODEL[name].source.startswith("calibrated"), name
    # and the shipped file is the hindcast start with exactly these values
    hindcast_scenario = load_scenario("calibrated_2015")
    assert hindcast_scenario.run["start_year"] == 2005
    assert {k: hindcast_scenario.model[k] for k in fitted} == fitted


def _squared_distance(target, x) -> float:
    return float(np.sum((np.asarray(x) - target) ** 2))


def test_refine_steps_downhill_inside_the_bounds_and_the_order():
    """The coordinate steps after the optimiser lower J, stay inside the bounds and keep near ≤ far, and stop
    when a round changes nothing."""
    names = ("theta", "mp_penalty_near", "mp_penalty_far")
    target = np.array([5.3, 1.9, 1.4])                  # near > far there: the order must stop it
    fun = partial(_squared_distance, target)
    x, j, evaluations = fit.refine(fun, [2.0, 1.0, 2.5], names, passes=50)
    assert j == fun(x) < fun([2.0, 1.0, 2.5])
    assert abs(x[0] - 5.3) <= 0.25                      # the smallest steps, 2.5% of θ's range, are 0.25
    assert x[1] <= x[2] and all(fit.FIT[n].lo <= v <= fit.FIT[n].hi for n, v in zip(names, x))
    assert evaluations < 50 * 3 * len(fit.REFINE_STEPS)  # stopped before the 50 rounds
    assert fit.refine(fun, x, names, passes=3)[0].tolist() == x.tolist()   # a minimum stays put


def test_fit_is_the_same_serial_and_in_parallel():
    """Deferred updating evaluates each generation as one batch, and `refine` one parameter's steps: the
    process pool changes the speed only."""
    settings = dict(params=("mp_penalty_near", "mp_penalty_far"), maxiter=2, refine=1)
    serial = fit.fit(fit.Settings.quick(workers=1, **settings), progress=False)
    parallel = fit.fit(fit.Settings.quick(workers=2, **settings), progress=False)
    assert serial.values == parallel.values and serial.generations == parallel.generations
    population = fit.Settings.quick().popsize * len(settings["params"])
    assert serial.evaluations == parallel.evaluations > population * (settings["maxiter"] + 1)   # the steps ran
    assert serial.values["mp_penalty_near"] <= serial.values["mp_penalty_far"]   # the constraint holds


def test_a_later_start_carries_the_policy_events_before_it():
    """Starting in 2015 (the hindcast's restart), the events of 2014–2015 are already in force."""
    s2015 = history.starting_scenario(2015, 2024)
    chn, kor, usa = (s2015.countries[c] for c in ("CHN", "KOR", "USA"))
    assert (chn["ai_subsidy_rate"], chn["ai_fund"]) == (0.10, 4.0e9)
    assert (kor["ai_subsidy_rate"], kor["ai_fund"]) == (0.10, 1.0e9)
    assert usa["tariffs"]["CHN"] == 0.03 and usa["reshoring_incentive"] == 0.0      # 2018, 2019, 2022 to come
    assert history.trend_in(2013, "CHN") == 0.10 and history.trend_in(2014, "CHN") == 0.08
    later = [(e["lever"], e["from"]) for e in s2015.data["schedule"]
             if e["lever"] not in ("demand_growth", "wage_growth", "exchange_rate")]
    assert later == [("mission", 2016), ("tariffs.CHN", 2018), ("tariffs.CHN", 2019), ("reshoring_incentive", 2022)]
    assert history.starting_scenario(2019, 2024).countries["USA"]["tariffs"]["CHN"] == 0.19
    # the US$ wage of a later start is the 2005 one grown in local currency and converted
    grown = float((1 + history.wage_growth_path(2005, 2015)["JPN"]).prod())
    rates = cal.exchange_rates(2015)["JPN"] / cal.exchange_rates(2005)["JPN"]
    assert s2015.countries["JPN"]["wage"] == pytest.approx(history.HISTORY["JPN"][0] * grown * rates, rel=1e-3)


def test_a_fit_started_from_an_earlier_one_starts_where_it_ran():
    from sim.scenarios import parameters as P

    earlier = {"theta": 99.0, "adjustment_speed": 0.2}               # theta beyond its bound; the rest not fitted
    names = ("theta", "adjustment_speed", "relocation_cost")
    x0 = fit.start_point(earlier, names)
    assert x0 == (fit.FIT["theta"].hi, 0.2, P.MODEL["relocation_cost"].default)
    assert x0[2] != fit.FIT["relocation_cost"].lo        # not the lower bound: the value the earlier run used
