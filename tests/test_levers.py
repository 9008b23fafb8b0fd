"""A lever means the same however it is written, and the AI channels are distinct mechanisms.

The start year is calibrated on the observed world (`Scenario.observed`), so a lever written in a
country table, set through `with_overrides`, varied as an experiment factor or scheduled from the
start year gives the same run, byte for byte. Each of the essay's five AI channels (mission,
coordination, acceptance, funds, literacy) has its own place in the adoption rule: swapping the
values of any two changes the results, each raised alone raises automation, and a subsidy rate
without money behind it changes nothing.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from sim import FactoryShiftModel, load_scenario
from sim.experiments.experiment import apply_overrides
from tests.conftest import small

YEARS = dict(end_year=2030, firms=600)


def countries_csv(scenario, seed=4) -> str:
    return FactoryShiftModel(scenario, seed=seed).run().recorder.countries().to_csv(index=False, float_format="%.17g")


@pytest.mark.parametrize("lever,value", [("tariffs.CHN", 0.6), ("labor_supply_boost", 1.5),
                                         ("exchange_rate", None), ("ai_fund", 5.0e10)])
def test_a_lever_gives_the_same_run_however_it_is_written(tmp_path, baseline, lever, value):
    if value is None:
        value = baseline.countries["USA"]["exchange_rate"] * 0.8
    path = f"countries.USA.{lever}"
    body = (f"[countries.USA.tariffs]\nCHN = {value}\n" if lever.startswith("tariffs.")
            else f"[countries.USA]\n{lever} = {value}\n")
    files = {
        "table": f'extends = "baseline"\n[run]\nend_year = {YEARS["end_year"]}\nfirms = {YEARS["firms"]}\n{body}',
        "schedule": (f'extends = "baseline"\n[run]\nend_year = {YEARS["end_year"]}\nfirms = {YEARS["firms"]}\n'
                     f'[[schedule]]\ncountry = "USA"\nlever = "{lever}"\nfrom = 2024\nvalue = {value}\n'),
    }
    runs = {}
    for name, text in files.items():
        (tmp_path / f"{name}.toml").write_text(text)
        runs[name] = countries_csv(load_scenario(tmp_path / f"{name}.toml"))
    short = small(baseline, **YEARS)
    runs["with_overrides"] = countries_csv(short.with_overrides({path: value}))
    runs["experiment factor"] = countries_csv(apply_overrides(short, {path: value}, source="test"))
    reference = runs["table"]
    assert all(text == reference for text in runs.values()), [k for k, v in runs.items() if v != reference]
    assert reference != countries_csv(short)                # and the lever does something


def test_the_start_year_is_the_observed_world_whatever_the_levers(baseline):
    """The start row reproduces the observed shares whatever the counterfactual levers say."""
    plain = FactoryShiftModel(small(baseline, **YEARS), seed=2)
    shocked = FactoryShiftModel(small(baseline, **YEARS, **{"countries.USA.tariffs.CHN": 0.9,
                                                             "countries.CHN.exchange_rate": 0.3}), seed=2)
    first = [m.recorder.countries().query("year == 2024").production_share.to_numpy() for m in (plain, shocked)]
    assert np.array_equal(first[0], first[1])


# ------------------------------------------------------------------------------- the AI channels
CHANNELS = ("mission", "coordination", "acceptance", "ai_subsidy_rate", "literacy_program")
LOW_HIGH = {"mission": (0.0, 1.0), "coordination": (0.1, 0.9), "acceptance": (0.1, 0.9),
            "ai_subsidy_rate": (0.0, 0.5), "literacy_program": (0.0, 0.03)}


#: The channels are tested in China, where firms adopt although the average step does not pay in 2024
#: (output-weighted payback margin −1.11, −0.32 in 2035): the spread of payback thresholds lets some through, so
#: every channel moves adoption there (each channel's effect in China and Korea: docs/scenarios.md, "Each AI channel
#: on its own").
WHERE = "CHN"


def with_levers(baseline, where=WHERE, **levers):
    over = {f"countries.{where}.{k}": v for k, v in levers.items()}
    return small(baseline, end_year=2034, firms=800, **{f"countries.{where}.ai_fund": math.inf, **over})


def automation(scenario, seeds=(1, 2)) -> float:
    values = []
    for seed in seeds:
        frame = FactoryShiftModel(scenario, seed=seed).run().recorder.countries()
        values.append(float(frame.query(f"country == '{WHERE}' and year == 2034").automation.iloc[0]))
    return float(np.mean(values))


@pytest.mark.parametrize("a,b", list(itertools.combinations(CHANNELS, 2)))
def test_swapping_two_channels_changes_the_results(baseline, a, b):
    """Give channel a the high level and b the low one, then the other way round: different runs. In China
    (`WHERE`), where the spread of payback thresholds lets some firms' steps through although the average step
    does not pay, so that the thresholds are not all passed or all failed."""
    one = with_levers(baseline, "CHN", **{a: LOW_HIGH[a][1], b: LOW_HIGH[b][0]})
    two = with_levers(baseline, "CHN", **{a: LOW_HIGH[a][0], b: LOW_HIGH[b][1]})
    assert countries_csv(one) != countries_csv(two)


#: About half of each channel's measured effect on China's automation in 2034 (low → high, 2 seeds × 800 firms,
#: at the refit with volume inertia): mission +0.0031, coordination +0.0007, acceptance +0.0023, subsidy rate
#: +0.0131, literacy +0.0233 (at cal15: +0.0057, +0.0014, +0.0043, +0.018, +0.021).
MIN_EFFECT = {"mission": 0.0015, "coordination": 0.0003, "acceptance": 0.001, "ai_subsidy_rate": 0.006,
              "literacy_program": 0.01}


@pytest.mark.parametrize("channel", CHANNELS)
def test_each_channel_raised_alone_raises_automation(baseline, channel):
    """Each channel raised alone raises China's automation, by at least about half its measured effect
    (`MIN_EFFECT`)."""
    lo, hi = LOW_HIGH[channel]
    low, high = automation(with_levers(baseline, **{channel: lo})), automation(with_levers(baseline, **{channel: hi}))
    assert high > low + MIN_EFFECT[channel], (channel, low, high)


def test_a_subsidy_rate_without_money_changes_nothing(baseline):
    """s = 0.4 with a $0 fund pays nothing: the same adopters, shares and automation as s = 0."""
    none = small(baseline, **YEARS, **{"countries.KOR.ai_subsidy_rate": 0.0, "countries.KOR.ai_fund": 0.0})
    unpaid = small(baseline, **YEARS, **{"countries.KOR.ai_subsidy_rate": 0.4, "countries.KOR.ai_fund": 0.0})
    frames = [FactoryShiftModel(s, seed=5).run().recorder.countries() for s in (none, unpaid)]
    columns = [c for c in frames[0].columns if c != "subsidy_requested_usd"]   # requests are made, nothing is paid
    assert frames[0][columns].equals(frames[1][columns])
    korea = frames[1][frames[1].country == "KOR"]
    assert korea.subsidy_requested_usd.sum() > 0 and korea.subsidy_spent_usd.sum() == 0


def test_a_binding_fund_rations_pro_rata_and_is_never_overspent(baseline):
    fund = 2.0e8
    scenario = small(baseline, **YEARS, **{"countries.CHN.ai_subsidy_rate": 0.5, "countries.CHN.ai_fund": fund})
    frame = FactoryShiftModel(scenario, seed=6).run().recorder.countries().query("country == 'CHN' and year > 2024")
    rationed = frame[frame.subsidy_requested_usd > fund]
    assert len(rationed) > 0
    assert (frame.subsidy_spent_usd <= fund).all()
    # the rate actually paid is the announced one times fund / requested
    np.testing.assert_allclose(rationed.effective_subsidy_rate, 0.5 * fund / rationed.subsidy_requested_usd,
                               rtol=1e-9)


def test_the_robot_mapping_returns_the_density_it_was_seeded_with(baseline):
    """The start year's density from the automation ↔ robots mapping is IFR's published figure."""
    frame = FactoryShiftModel(small(baseline, **YEARS), seed=1).recorder.countries().query("year == 2024")
    density = dict(zip(frame.country, frame.robot_density))
    stock = dict(zip(frame.country, frame.robot_stock))
    for code in ("CHN", "KOR", "JPN", "USA", "DEU"):
        assert density[code] == pytest.approx(baseline.countries[code]["robot_density"], rel=1e-6), code
        assert stock[code] == pytest.approx(baseline.countries[code]["robot_stock"], rel=1e-6), code


def test_the_threshold_spread_turns_the_hard_payback_test_into_a_share():
    """F_i: half of the thresholds at break-even, 91% when a step pays twice over (σ_a = 0.3), none when
    it saves nothing, and the hard test saving·H > net capex at σ_a = 0."""
    from sim.model.adoption import threshold_share

    value = np.array([-1.0, 0.0, 1.0, 2.0, 1.0, 1.0])
    capex = np.array([1.0, 1.0, 1.0, 1.0, 0.0, 4.0])
    share = threshold_share(value, capex, np.zeros(6), 0.3)
    np.testing.assert_allclose(share[:4], [0.0, 0.0, 0.5, 1.0 / (1.0 + 0.5 ** (1 / 0.3))])
    assert share[4] == 1.0 and 0.0 < share[5] < 0.01
    assert np.array_equal(threshold_share(value, capex, np.zeros(6), 0.0), (value > capex).astype(float))
    # a subsidy lowers the net capex: more thresholds passed
    assert (threshold_share(value, capex, np.full(6, 0.5), 0.3)[2:] >= share[2:]).all()
    assert threshold_share(value, capex, np.full(6, 0.5), 0.3)[2] > share[2]
