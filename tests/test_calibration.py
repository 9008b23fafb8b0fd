"""Tests for sim.data.regions against the copied data in sim/data/raw."""
import tomllib

import pytest

from sim.data import regions as cal


def test_mva_shares_sum_to_one_and_positive():
    shares = cal.mva_shares(2024)
    assert list(shares) == list(cal.REGIONS)
    assert sum(shares.values()) == pytest.approx(1.0, abs=1e-12)
    assert all(s > 0 for s in shares.values())


def test_china_share_2024():
    assert 0.26 < cal.mva_shares(2024)["CHN"] < 0.30


def test_world_mva_2024():
    assert cal.world_mva(2024) == pytest.approx(16.62e12, rel=0.01)


def test_deu_plus_xeu_is_eu():
    mva = cal.mva_by_region(2024)
    eu = cal._mva_economy(2024)["EUU"]
    assert mva["DEU"] + mva["XEU"] == pytest.approx(eu, rel=1e-12)
    assert eu == pytest.approx(2796.136e9)


def test_usa_extrapolated_after_2021():
    assert cal.usa_mva(2021) == pytest.approx(2497.132e9)
    gdp_growth = (cal._wdi("NY.GDP.MKTP.CD", 2024)["USA"]
                  / cal._wdi("NY.GDP.MKTP.CD", 2021)["USA"])
    assert cal.usa_mva(2024) == pytest.approx(2497.132e9 * gdp_growth)


def test_working_age_paths():
    paths = cal.working_age_paths()
    for r in ("CHN", "KOR", "JPN"):
        assert paths[r][2050] < paths[r][2024], r
    assert paths["IND"][2050] > paths["IND"][2024]
    assert 950 < paths["CHN"][2024] < 1010
    level = cal.working_age_millions(2024)
    for r in cal.REGIONS:
        assert paths[r][2024] == pytest.approx(level[r]), r


def test_working_age_regions_add_up_to_world_level():
    level = cal.working_age_millions(2024)
    pop = cal._wdi("SP.POP.TOTL", 2024)["WLD"]
    pct = cal._wdi("SP.POP.1564.TO.ZS", 2024)["WLD"]
    assert sum(level.values()) == pytest.approx(pop * pct / 100 / 1e6)


def test_demand_sums_to_world_mva():
    demand = cal.demand_usd(2024)
    assert sum(demand.values()) == pytest.approx(cal.world_mva(2024), rel=1e-6)
    assert all(d > 0 for d in demand.values())


def test_robot_density():
    rd = cal.robot_density_2023()
    assert rd["KOR"] == 1012 and rd["CHN"] == 470 and rd["XEU"] == 219
    assert rd["XAS"] is None and rd["IND"] is None
    assert cal.robot_density_world() == 162


def test_toml_fragment_parses():
    countries = tomllib.loads(cal.toml_fragment())["countries"]
    assert list(countries) == list(cal.REGIONS)
    assert "robot_density" not in countries["VNM"]
    assert set(countries["CHN"]["working_age"]) == {str(y) for y in cal.PATH_YEARS}


def test_baseline_scenario_matches_calibration():
    """Every data-derived number in scenarios/baseline.toml is what sim.data.regions computes."""
    from sim import load_scenario

    countries = load_scenario("baseline").countries
    shares, demand = cal.mva_shares(2024), cal.demand_usd(2024)
    paths, density = cal.working_age_paths(), cal.robot_density_2023()
    assert list(countries) == list(cal.REGIONS)
    for code, row in countries.items():
        assert row["mva_share"] == pytest.approx(shares[code], abs=1e-6), code
        assert row["demand"] == pytest.approx(demand[code], rel=1e-3), code
        for year, value in row["working_age"].items():
            assert value == pytest.approx(paths[code][int(year)], abs=0.051), (code, year)
        if density.get(code) is not None and code != "XEU":
            assert row["robot_density"] == density[code], code


def test_employment_ratio_reproduces_the_2024_counts():
    """The constant ratios of sim.data.regions turn the 2024 proxy back into the official counts."""
    got = cal.employment_in(2024)
    for code, (count, _) in cal.EMPLOYMENT.items():
        assert got[code] == pytest.approx(count, rel=2e-3), code
