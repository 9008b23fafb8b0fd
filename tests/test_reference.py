"""The vectorised model against the plain-Mesa reference (benchmarks/reference_model.py).

Both runs get the same random numbers (`RecordingDraws` → `ReplayDraws`). Two worlds of 300
firms: the baseline for ten years and the 2005 historical start (`hindcast_2005`, with its
exchange-rate, wage and demand paths) for five, each with schedules and overrides that make
every mechanism of Model v2 fire — tariffs (a ramp, a `tariffs.default` step that must not
overwrite a named tariff, an override), adoption with a rationed and an uncapped subsidy fund,
relocation with incentives (two limited to home firms) and a binding labor cap, entrants
abroad (some sent home for lack of room, some turned away by the Melitz filter), exits, and
the start's foreign owners, lifted firms, firms too far below break-even to be lifted, and firms
at the automation ceiling. Every firm's state (living and exited), every
countries.csv column, the relocation flows and the entrants must agree to 1e-9 (1e-7 for the 2005 start,
`START_TOLERANCE`; relative;
values below 1e-6 of a quantity's largest value relative to that: `max_relative_difference`).
Observed: ≤ 3e-14 for the baseline world; 1.6e-8 for the 2005 start (set at the start, see `START_TOLERANCE`).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

from sim import FactoryShiftModel, load_scenario

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from reference_model import Firm, RecordingDraws, ReferenceModel, compare  # noqa: E402

BASELINE_SCHEDULES = """
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

HINDCAST_SCHEDULES = """
extends = "hindcast_2005"

[[schedule]]
country = "USA"
lever = "tariffs.CHN"
shape = "ramp"
from = 2006
to = 2009
value = 0.5

[[schedule]]
country = "XEU"
lever = "tariffs.default"
shape = "step"
from = 2007
value = 0.15
"""

OVERRIDES = {
    "run.firms": 300,
    # Cheap trade and multinational production, many reviews, cheap moves: firms do move, and
    # entrants set up abroad. The cap on inflows still binds (a firm is 1/300 of the world).
    "model.trade_cost_near": 1.05,
    "model.trade_cost_far": 1.15,
    "model.mp_penalty_near": 1.02,
    "model.mp_penalty_far": 1.05,
    "model.relocation_review_rate": 0.8,
    "model.relocation_cost": 0.05,
    "model.relocation_labor_cap": 0.2,
    "model.volume_inertia": 0.7,               # last year's shares revalued at this year's costs (neither 0 nor 1)
    "model.ai_capex_per_output": 0.4,          # the baseline's AI costs also in 2005: adoption pays in both worlds
    "model.ai_unit_cost": 0.05,
    "countries.CHN.ai_subsidy_rate": 0.3,
    "countries.CHN.ai_fund": 2.0e7,            # far below what CHN firms ask for: rationing binds
    "countries.USA.ai_subsidy_rate": 0.3,
    "countries.USA.ai_fund": math.inf,         # uncapped
    "countries.USA.reshoring_incentive": 0.6,
    "countries.IND.reshoring_incentive": 0.4,
    "countries.MEX.reshoring_incentive": 0.5,
    "countries.MEX.reshoring_home_only": True,
    "countries.XEU.reshoring_incentive": 0.5,
    "countries.JPN.reshoring_incentive": 0.5,
    "countries.JPN.reshoring_home_only": True,
    "countries.IND.tariffs.CHN": 0.3,          # from the first step on (the start is the observed world)
}

CASES = {"baseline": (BASELINE_SCHEDULES, 2034), "hindcast_2005": (HINDCAST_SCHEDULES, 2010)}
FIRMS = OVERRIDES["run.firms"]
TOLERANCE = 1e-9
#: The 2005 start at the calibrated parameters: the two models' start-year fixed points (iterated until
#: the changes fall below a tolerance) end 3.5e-9 apart in φ, 1.6e-8 in π; the difference is set at the
#: start and does not grow over the steps (π: 1.58e-8 after one year, 1.55e-8 after five; measured).
START_TOLERANCE = {"hindcast_2005": 1e-7}


@pytest.fixture(scope="module", params=list(CASES))
def runs(request, tmp_path_factory):
    text, end_year = CASES[request.param]
    path = tmp_path_factory.mktemp("reference") / f"{request.param}_all_mechanisms.toml"
    path.write_text(text)
    scenario = load_scenario(path).with_overrides({**OVERRIDES, "run.end_year": end_year}, source="test_reference")
    draws = RecordingDraws(np.random.default_rng(7))
    fast = FactoryShiftModel(scenario, draws=draws).run()
    slow = ReferenceModel(scenario, draws.replay(), firms=FIRMS).run()
    return request.param, scenario, draws, fast, slow


def test_reference_agrees_with_vectorised_model(runs):
    case, _, _, fast, slow = runs
    assert slow.draws.exhausted, "the reference consumed fewer draws than the model made"
    differences = compare(fast, slow)
    assert len(differences) > 40
    worst = {k: v for k, v in differences.items() if not v <= START_TOLERANCE.get(case, TOLERANCE)}
    assert not worst, f"vectorised and reference runs differ: {worst}"


def test_reference_has_one_agent_per_living_firm(runs):
    _, _, _, fast, slow = runs
    assert len(slow.agents_by_type[Firm]) == len(slow.firms) == len(fast.firms)
    assert [f.firm_id for f in slow.firms] == fast.firms.id.tolist()
    assert all(f.alive for f in slow.firms) and not any(f.alive for f in slow.exited)


def test_every_mechanism_is_active(runs):
    case, scenario, _, fast, slow = runs
    table = fast.recorder.countries()
    start, years = table[table.year == scenario.run["start_year"]], table[table.year > scenario.run["start_year"]]
    assert fast.year == scenario.run["end_year"]
    # the start: foreign-owned production, firms lifted to break-even
    assert slow.start_foreign > 0 and (start.firms_hq != start.firms).any()
    assert slow.start_lifted > 0
    # ... some left as they are, beyond the distribution's reach (VIABLE_Z); the robot match capped at α_max
    assert slow.start_unliftable > 0 and slow.start_capped > 0
    # AI adoption, subsidies rationed where the fund is short, paid in full where it is uncapped
    chn, usa = years[years.country == "CHN"], years[years.country == "USA"]
    assert years.adopters.sum() > 0
    assert (chn.subsidy_requested_usd > chn.ai_fund_usd).any(), "CHN fund never rationed"
    assert (chn.subsidy_spent_usd <= chn.ai_fund_usd).all()
    assert (usa.subsidy_spent_usd > 0).any() and np.isinf(usa.ai_fund_usd).all()
    # relocation, capped by labor
    assert years.relocations_in.sum() > 0 and years.relocations_in.sum() == years.relocations_out.sum()
    assert slow.moves_refused > 0, "the labor cap on inflows never bound"
    # exits and entry: abroad, sent home for lack of room, turned away by the Melitz filter
    entrants = fast.recorder.entrants()
    assert years.exits.sum() > 0 and years.entries.sum() > 0
    assert entrants[entrants.hq != entrants.location].firms.sum() == slow.entrants_abroad > 0
    assert slow.entrants_sent_home > 0 and slow.candidates_rejected > 0
    assert slow.entrants_home_later > 0      # sent home to a country whose own queue comes later: not re-queued
    # tariffs and other schedules took effect
    assert fast.country("IND").tariff_on("CHN") == pytest.approx(0.3)
    assert fast.country("XEU").tariff_on("CHN") == pytest.approx(0.15)
    assert fast.country("XEU").tariff_on("DEU") == 0.0           # named in the file: default leaves it
    if case == "baseline":
        assert years.reshoring_spent_usd.sum() > 0
        assert fast.country("USA").tariff_on("CHN") == pytest.approx(0.6)
        assert (years[years.country == "VNM"].ai_readiness.diff().dropna() > 0.029).all()
    else:
        assert fast.country("USA").tariff_on("CHN") == pytest.approx(0.5)
        assert table[table.country == "CHN"].exchange_rate.nunique() > 3    # the historical paths apply


def test_reference_does_not_depend_on_the_visiting_order(runs):
    _, scenario, draws, _, slow = runs
    other = ReferenceModel(scenario, draws.replay(), firms=FIRMS, shuffle_seed=1).run()
    assert other.recorder.countries().equals(slow.recorder.countries())
    assert other.firm_table(include_exited=True) == slow.firm_table(include_exited=True)
