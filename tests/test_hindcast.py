"""Hindcast scoring (sim/history/hindcast.py) and the calibrate/hindcast commands."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.data import regions as cal
from sim.history.hindcast import (
    COLUMNS,
    EXTRA_COLUMNS,
    FIVE,
    adopting_share,
    automation_errors,
    error_table,
    gdp_scaled,
    naive_forecasts,
    robot_columns,
)


def test_error_table_on_a_hand_made_example():
    # two countries, fitted ≤ 2001, tested 2002–2003; errors in pp:
    #   A: model +1, −3   persistence 0, +2   trend +2, +2
    #   B: model  0, +1   persistence +4, 0   trend −1, −1
    rows = [
        (2001, "A", 0.50, 0.90, 0.50, 0.50),   # in-sample: ignored whatever it says
        (2002, "A", 0.50, 0.51, 0.50, 0.52), (2003, "A", 0.48, 0.45, 0.50, 0.50),
        (2002, "B", 0.20, 0.20, 0.24, 0.19), (2003, "B", 0.24, 0.25, 0.24, 0.23),
    ]
    table = pd.DataFrame(rows, columns=["year", "country", "observed_share", "model_share_mean",
                                        "persistence_share", "trend_share"])
    e = error_table(table, until=2001).set_index("country")
    assert e.loc["A", "model_mae_pp"] == pytest.approx(2.0)
    assert e.loc["A", "model_rmse_pp"] == pytest.approx(math.sqrt(5.0))
    assert e.loc["B", "persistence_mae_pp"] == pytest.approx(2.0)
    assert e.loc["B", "trend_rmse_pp"] == pytest.approx(1.0)
    assert e.loc["overall", "model_mae_pp"] == pytest.approx((1 + 3 + 0 + 1) / 4)
    assert e.loc["overall", "model_rmse_pp"] == pytest.approx(math.sqrt((1 + 9 + 0 + 1) / 4))
    assert e.loc["overall", "persistence_mae_pp"] == pytest.approx((0 + 2 + 4 + 0) / 4)
    assert e.loc["overall", "trend_mae_pp"] == pytest.approx((2 + 2 + 1 + 1) / 4)
    assert list(e["years"]) == [2, 2, 2]


def test_naive_forecasts_use_only_the_fitting_window():
    years = np.arange(2000, 2011)
    observed = pd.DataFrame({"A": 0.1 + 0.01 * (years - 2000), "B": 0.9 - 0.01 * (years - 2000)}, index=years)
    observed.loc[2006:, "A"] = 99.0   # after the cutoff: must not matter
    persistence, trend = naive_forecasts(observed, 2000, 2005, range(2006, 2011))
    assert (persistence["A"] == observed.loc[2005, "A"]).all()
    assert trend.loc[2010, "A"] == pytest.approx(0.2)     # the exact line, extended
    assert trend.loc[2010, "B"] == pytest.approx(0.8)


def test_gdp_scaled_forecast_grows_each_share_with_its_gdp():
    observed = pd.DataFrame({"A": [0.5, 0.5], "B": [0.5, 0.5]}, index=[2000, 2001])
    gdp = pd.DataFrame({"A": [1.0, 3.0, 3.0], "B": [1.0, 1.0, 2.0]}, index=[2001, 2002, 2003])
    f = gdp_scaled(observed, gdp, 2001, [2002, 2003])
    assert f.loc[2002, "A"] == pytest.approx(0.75) and f.loc[2003, "A"] == pytest.approx(0.6)
    assert np.allclose(f.sum(axis=1), 1.0)


def test_calibrate_then_hindcast_from_the_command_line(tmp_path, capsys):
    overlay = tmp_path / "fit.toml"
    assert main(["calibrate", "--quick", "--params", "theta,adjustment_speed", "--maxiter", "2", "--workers", "1",
                 "--quiet", "--out", str(overlay)]) == 0
    assert "overlay written" in capsys.readouterr().out
    out = tmp_path / "hc"
    assert main(["hindcast", "--params", str(overlay), "--seeds", "3", "--out", str(out), "--no-plot"]) == 0
    printed = capsys.readouterr().out
    assert "overall" in printed and "2016–2024" in printed
    table = pd.read_csv(out / "hindcast.csv")
    assert list(table.columns) == COLUMNS
    assert len(table) == 20 * 11 and set(table["year"]) == set(range(2005, 2025))
    assert np.allclose(table.groupby("year")["observed_share"].sum(), 1.0)
    assert np.allclose(table.groupby("year")["model_share_mean"].sum(), 1.0)
    assert (table["model_share_p05"] <= table["model_share_mean"] + 1e-12).all()
    assert (table["model_share_mean"] <= table["model_share_p95"] + 1e-12).all()
    first = table[table["year"] == 2005]
    # the start is the data (as written in the scenario file: 6 decimals)
    assert np.allclose(first["model_share_mean"], first["observed_share"], atol=1e-6)
    fitted = table["year"] <= 2015                   # naive forecasts exist only after the cutoff
    assert table.loc[fitted, ["persistence_share", "trend_share"]].isna().all().all()
    assert table.loc[~fitted, ["persistence_share", "trend_share"]].notna().all().all()
    extra = pd.read_csv(out / "extra.csv")
    assert list(extra.columns) == EXTRA_COLUMNS and len(extra) == len(table)
    later = extra["year"] > 2015
    assert extra.loc[~later, "gdp_scaled_share"].isna().all()
    assert extra.loc[extra["year"] < 2015, "restart_share_mean"].isna().all()
    cutoff = extra["year"] == 2015                     # the restart starts from the data of the cutoff year
    assert np.allclose(extra.loc[cutoff, "restart_share_mean"], table.loc[table["year"] == 2015, "observed_share"],
                       atol=1e-6)
    assert np.allclose(extra[later].groupby("year")[["gdp_scaled_share", "restart_share_mean"]].sum(), 1.0)
    errors = pd.read_csv(out / "errors.csv")
    assert {"restart_mae_pp", "gdp_scaled_rmse_pp", "persistence_mae_pp"} <= set(errors.columns)
    assert errors["country"].iloc[-1] == "overall" and len(errors) == 12
    installs = pd.read_csv(out / "installations.csv")
    assert list(installs.columns) == robot_columns("installations")
    assert list(dict.fromkeys(installs.country)) == [*cal.ROBOT_COLUMNS]        # the five and the world
    by = installs.set_index(["year", "country"])
    assert list(pd.read_csv(out / "automation.csv").columns) == robot_columns("density")
    # naive forecasts of installations, made at 2015 from IFR's 2011-2015 figures only
    for code in FIVE:
        observed = [cal.robot_installations(2011, 2015)[y][code] for y in range(2011, 2016)]
        slope, level = np.polyfit(range(2011, 2016), np.log(observed), 1)
        assert by.loc[(2020, code), "persistence_installations"] == pytest.approx(observed[-1], rel=1e-5)
        assert by.loc[(2020, code), "trend_installations"] == pytest.approx(math.exp(level + slope * 2020), rel=1e-5)
        assert np.isnan(by.loc[(2015, code), "trend_installations"])
    robot_errors = pd.read_csv(out / "automation_errors.csv")
    assert set(robot_errors.measure) == {"density", "installations"}
    five = robot_errors.set_index(["measure", "country"]).loc[("installations", "five")]
    assert five["years"] == 9 and five[["model_male", "persistence_male", "trend_male"]].notna().all()
    using_ai = json.loads((out / "diagnostics.json").read_text())["share_of_firms_using_ai_2024"]
    assert set(using_ai) == {"DEU", "XEU", "EU"} and all(0.0 <= v <= 1.0 for v in using_ai.values())
    assert min(using_ai["DEU"], using_ai["XEU"]) <= using_ai["EU"] <= max(using_ai["DEU"], using_ai["XEU"])


def test_robot_errors_are_mean_absolute_log_errors_over_the_five():
    # IFR 100 and 200 after the cutoff; the model says 100·e and 200, persistence 100, no trend
    rows = [(2015, "CHN", 50.0, 1.0, np.nan, np.nan),              # in-sample: ignored
            (2016, "CHN", 100.0, 100 * math.e, 100.0, np.nan), (2017, "CHN", 200.0, 200.0, 100.0, np.nan),
            (2016, "WLD", 10.0, 1.0, 10.0, 10.0)]                   # not one of the five
    columns = robot_columns("installations")
    table = pd.DataFrame(rows, columns=[c for c in columns if not c.endswith(("_p05", "_p95"))])
    e = automation_errors(table, 2015, "installations").set_index("country")
    assert e.loc["CHN", "model_male"] == pytest.approx(0.5)
    assert e.loc["CHN", "persistence_male"] == pytest.approx(math.log(2) / 2)
    assert np.isnan(e.loc["CHN", "trend_male"])
    assert e.loc["WLD", "model_male"] == pytest.approx(math.log(10))
    assert e.loc["five", "model_male"] == pytest.approx(0.5) and e.loc["five", "years"] == 2


@pytest.mark.parametrize("argv, message", [
    (["hindcast", "--params", "{tmp}/nope.toml"], "no such file"),
    (["hindcast", "--params", "{tmp}/bad.toml"], "model.thetta: unknown parameter (did you mean 'theta'?)"),
    (["hindcast", "--params", "{tmp}/range.toml"], "theta"),
    (["hindcast", "--until", "2030"], "--params: no calibration ships for --until 2030"),
    (["calibrate", "--until", "2030"], "--until: 2030 must be after --from = 2005"),
    (["calibrate", "--params", "thetaa"], "'thetaa' is not a fitted parameter (did you mean 'theta'?)"),
    (["calibrate", "--seeds", "0"], "--seeds: must be at least 1"),
])
def test_bad_options_are_one_line_errors(tmp_path, capsys, argv, message):
    (tmp_path / "bad.toml").write_text("[model]\nthetta = 4.0\n")
    (tmp_path / "range.toml").write_text("[model]\ntheta = -1.0\n")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main([*argv, "--out", str(tmp_path / "out.toml" if argv[0] == "calibrate" else tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0], err


def test_share_of_firms_using_ai_counts_firms_with_any_automation():
    from types import SimpleNamespace

    firms = SimpleNamespace(location=np.array([0, 1, 0, 2, 0]), automation=np.array([0.0, 0.3, 0.1, 0.0, 0.2]))
    assert adopting_share(firms, [0]) == pytest.approx(2 / 3)
    assert adopting_share(firms, [1, 2]) == pytest.approx(0.5)
    assert np.isnan(adopting_share(firms, [5]))
