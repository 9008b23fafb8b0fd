"""Invariants that must hold for any valid parameters (property tests)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import FactoryShiftModel, load_scenario
from sim.scenarios import parameters as P

BASE = load_scenario("baseline")
CODES = BASE.codes

unit = st.floats(0.0, 1.0)
params = st.fixed_dictionaries({
    "model.theta": st.floats(1.5, 10.0),
    "model.adjustment_speed": st.floats(0.05, 1.0),
    "model.volume_inertia": unit,
    "model.wage_response": st.floats(0.0, 2.0),
    "model.p0": st.floats(0.0, 0.2),
    "model.q0": st.floats(0.0, 2.0),
    "model.relocation_review_rate": unit,
    "model.relocation_cost": st.floats(0.0, 2.0),
    "model.relocation_labor_cap": st.floats(0.0, 0.2),
    "model.profit_margin": st.floats(0.0, 0.5),
    "model.exit_after": st.integers(1, 5),
    "model.ai_cost_decline": st.floats(0.0, 0.3),
    "model.firm_count_elasticity": st.floats(0.0, 2.0),
    "model.capacity_sigma": st.floats(0.0, 2.5),
    "model.productivity_sigma": st.floats(0.0, 1.0),
})

country_levers = st.tuples(
    st.sampled_from(CODES),
    st.fixed_dictionaries({
        "ai_subsidy_rate": unit, "ai_fund": st.floats(0.0, 5e10), "coordination": unit, "acceptance": unit,
        "reshoring_incentive": unit, "literacy_program": st.floats(0.0, 0.05),
        "labor_supply_boost": st.floats(0.3, 3.0), "wage_growth": st.floats(-0.1, 0.2),
        "demand_growth": st.floats(-0.1, 0.2),
    }),
    st.sampled_from(CODES), st.floats(0.0, P.COUNTRY["tariffs"].hi),
)


# derandomize: the same 25 examples in every run. Random runs on the first v2 calibration found joint extremes
# (θ 1.5, profit_margin 0, exit_after 1, firm_count_elasticity 0, p0 = q0 = 0) under which every firm exited
# by 2034. Since the loss test's price level no longer carries quality, 40 random examples passed and that case
# keeps 3-96 firms of 30-400 (9 runs), but a population can still shrink to a handful under such extremes
# (docs/validation.md, "What the model misses")
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(params=params, levers=st.lists(country_levers, min_size=1, max_size=3),
       firms=st.integers(30, 400), seed=st.integers(0, 2**32))
def test_invariants_hold_for_random_valid_parameters(params, levers, firms, seed):
    overrides = {"run.end_year": 2034, "run.firms": firms, **params}
    for code, values, origin, tariff in levers:
        overrides |= {f"countries.{code}.{k}": v for k, v in values.items()}
        if origin != code:
            overrides[f"countries.{code}.tariffs.{origin}"] = tariff
    scenario = BASE.with_overrides(overrides, source="hypothesis")
    model = FactoryShiftModel(scenario, seed=seed).run()
    df = model.recorder.countries()
    numeric = df.drop(columns=["country", "ai_fund_usd"]).to_numpy(dtype=float)
    assert np.isfinite(numeric).all(), "NaN or inf in countries output"
    shares = df.pivot(index="year", columns="country", values="production_share")
    assert (shares.to_numpy() >= 0).all()
    np.testing.assert_allclose(shares.sum(axis=1), 1.0, atol=1e-9)
    alpha_max = scenario.model["alpha_max"]
    assert (model.firms.automation >= 0).all() and (model.firms.automation <= alpha_max + 1e-12).all()
    assert df["automation"].between(0, alpha_max + 1e-12).all()
    assert (df["subsidy_spent_usd"] <= df["ai_fund_usd"]).all(), "AI fund overspent"
    assert (df["subsidy_spent_usd"] <= df["subsidy_requested_usd"] * (1 + 1e-12) + 1e-6).all()
    # market shares of every market sum to 1 over firms (0 only if every incumbent exited this year)
    if (model.firms.age > 0).any():
        np.testing.assert_allclose(model.firms.pi.sum(axis=0), 1.0, atol=1e-9)
    assert len(model.firms) > 0 and not math.isnan(model.firms.output.sum())


@settings(max_examples=15, deadline=None)
@given(fund=st.floats(0.0, 2e10), rate=st.floats(0.01, 1.0), seed=st.integers(0, 2**32))
def test_binding_fund_is_never_overspent(fund, rate, seed):
    scenario = BASE.with_overrides({"run.end_year": 2032, "run.firms": 500, "countries.CHN.ai_fund": fund,
                                    "countries.CHN.ai_subsidy_rate": rate}, source="hypothesis")
    df = FactoryShiftModel(scenario, seed=seed).run().recorder.countries()
    chn = df[df.country == "CHN"]
    assert (chn.subsidy_spent_usd <= fund).all()


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32), firms=st.integers(3, 40), upsilon=unit)
def test_revaluation_keeps_shares_and_moves_them_with_relative_prices(seed, firms, upsilon):
    """`market.revalue` (ODD 7.2): shares stay ≥ 0 and sum to 1 in every market, and two firms' shares move
    relative to each other by their cost ratios to the power υ (υ = 0: unchanged)."""
    from sim.model import market

    rng = np.random.default_rng(seed)
    pi = rng.random((firms, 3))
    pi[0, 2] = 0.0                                    # a firm without sales in one market
    pi /= pi.sum(axis=0)
    last, uc = rng.uniform(0.5, 2.0, firms), rng.uniform(0.5, 2.0, firms)
    out = market.revalue(pi.copy(), uc, last, upsilon)
    assert (out >= 0).all() and np.allclose(out.sum(axis=0), 1.0)
    assert out[0, 2] == 0.0
    ratio = (uc / last) ** upsilon
    assert np.allclose(out[1] / out[2], pi[1] / pi[2] * ratio[1] / ratio[2])
