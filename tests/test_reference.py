"""The vectorised model against the plain-Mesa reference (benchmarks/reference_model.py).

Both runs get the same random numbers (`RecordingDraws` → `ReplayDraws`); after ten years
every firm's state and every country aggregate must agree to 1e-9 (relative, values below
1e-6 of a quantity's largest value relative to that: `max_relative_difference`), with every
mechanism active: policy schedules, tariffs, adoption with a binding and an uncapped
subsidy fund, relocation with incentives (one limited to home firms), entry and exit.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

from sim import FactoryShiftModel, load_scenario

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from reference_model import RecordingDraws, ReferenceModel, compare  # noqa: E402

SCHEDULES = """
extends = "baseline"

[[schedule]]
country = "USA"
lever = "tariffs.CHN"
shape = "ramp"
from = 2026
to = 2030
value = 0.6

[[schedule]]
country = "XEU"
lever = "tariffs.default"
shape = "step"
from = 2027
value = 0.15

[[schedule]]
country = "KOR"
lever = "ai_subsidy_rate"
shape = "step"
from = 2026
to = 2029
value = 0.4

[[schedule]]
country = "VNM"
lever = "literacy_program"
shape = "step"
from = 2025
value = 0.03

[[schedule]]
country = "DEU"
lever = "labor_supply_boost"
shape = "ramp"
from = 2025
to = 2030
value = 1.3
"""

OVERRIDES = {
    "run.end_year": 2034,                      # ten steps after the 2024 calibration
    "run.firms": 300,
    # Low trade costs (the pre-calibration assumptions): with the calibrated ones (≈ 1.74, the
    # home bias of 2005-2015 data) serving a home market from abroad costs more than any labor
    # saving, so almost no firm would move and the relocation code would go untested.
    "model.trade_cost_near": 1.10,
    "model.trade_cost_far": 1.35,
    "model.relocation_review_rate": 0.8,       # many reviews, cheap moves: firms do move
    "model.relocation_cost": 0.05,
    "model.home_bias": 0.005,
    "model.relocation_labor_cap": 0.2,         # still binds for some moves (a firm is 1/300 of the world)
    "countries.CHN.ai_subsidy_rate": 0.3,
    "countries.CHN.ai_fund": 2.0e7,            # far below what CHN firms ask for: rationing binds
    "countries.USA.ai_subsidy_rate": 0.3,
    "countries.USA.ai_fund": math.inf,         # uncapped
    "countries.USA.reshoring_incentive": 0.6,
    "countries.MEX.reshoring_incentive": 0.5,
    "countries.MEX.reshoring_home_only": True,
    "countries.XEU.reshoring_incentive": 0.5,
    "countries.JPN.reshoring_incentive": 0.5,
    "countries.JPN.reshoring_home_only": True,
    "countries.IND.tariffs.CHN": 0.3,
}

FIRMS = OVERRIDES["run.firms"]
TOLERANCE = 1e-9


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    path = tmp_path_factory.mktemp("reference") / "all_mechanisms.toml"
    path.write_text(SCHEDULES)
    scenario = load_scenario(path).with_overrides(OVERRIDES, source="test_reference")
    draws = RecordingDraws(np.random.default_rng(7))
    fast = FactoryShiftModel(scenario, draws=draws).run()
    slow = ReferenceModel(scenario, draws.replay(), firms=FIRMS).run()
    return fast, slow


def test_every_mechanism_is_active(runs):
    fast, slow = runs
    table = fast.recorder.countries()
    years = table[table.year > 2024]
    chn, usa = years[years.country == "CHN"], years[years.country == "USA"]
    assert slow.draws.exhausted, "the reference consumed fewer draws than the model made"
    assert fast.year == 2034
    assert (chn.subsidy_requested_usd > chn.ai_fund_usd).any(), "CHN fund never rationed"
    assert (chn.subsidy_spent_usd <= chn.ai_fund_usd).all()
    assert (chn.subsidy_spent_usd > 0).any()
    assert (usa.subsidy_spent_usd > 0).any() and np.isinf(usa.ai_fund_usd).all()
    assert years.adopters.sum() > 0
    assert years.relocations_in.sum() > 0 and years.relocations_in.sum() == years.relocations_out.sum()
    assert years.reshoring_spent_usd.sum() > 0
    assert slow.moves_refused > 0, "the labor cap on inflows never bound"
    assert years.exits.sum() > 0 and years.entries.sum() > 0
    # the schedules took effect
    assert fast.country("USA").tariff_on("CHN") == pytest.approx(0.6)
    assert fast.country("XEU").tariff_on("CHN") == pytest.approx(0.15)
    assert fast.country("XEU").tariff_on("DEU") == 0.0           # named in the file: default leaves it
    assert (years[years.country == "VNM"].ai_readiness.diff().dropna() > 0.029).all()


def test_reference_agrees_with_vectorised_model(runs):
    fast, slow = runs
    differences = compare(fast, slow)
    assert len(differences) > 30
    worst = {k: v for k, v in differences.items() if not v <= TOLERANCE}
    assert not worst, f"vectorised and reference runs differ: {worst}"


def test_reference_has_one_agent_per_living_firm(runs):
    fast, slow = runs
    from reference_model import Firm

    assert len(slow.agents_by_type[Firm]) == len(slow.firms) == len(fast.firms)
    assert [f.firm_id for f in slow.firms] == fast.firms.id.tolist()
