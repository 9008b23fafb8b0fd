"""Comparative statics: every lever moves its outcome in the direction the mechanism implies, by a
documented amount.

Each comparison runs both sides with the same seeds (common random numbers) and averages over
them. The thresholds are about half of what was measured with the shipped parameters (the
measured values are in the comments and in docs/validation.md); a mechanism that stopped moving
would fail them.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import run, small

SEEDS = (1, 2, 3)


def total(model, column, code, years=None):
    df = model.recorder.countries()
    rows = df[df.country == code]
    if years is not None:
        rows = rows[rows.year.between(*years)]
    return float(rows[column].sum())


def at(model, year, code, column):
    df = model.recorder.countries()
    return float(df[(df.year == year) & (df.country == code)][column].iloc[0])


def paired(low, high, fn, seeds=SEEDS):
    return (np.array([fn(run(low, s)) for s in seeds]), np.array([fn(run(high, s)) for s in seeds]))


def net_reshoring(model, code):
    """Moves of firms headquartered in `code` back home minus their moves away from home (offshoring)."""
    flows = model.recorder.flows()
    mine = flows[flows.hq == code]
    back = mine[(mine.destination == code) & (mine.origin != code)].firms.sum()
    away = mine[(mine.origin == code) & (mine.destination != code)].firms.sum()
    return float(back - away)


# ---------------------------------------------------------------------------------------- relocation
def test_reshoring_incentive_raises_relocations_into_the_country(baseline):
    """A reshoring incentive of 60% of the move cost into the US, against none (measured, seeds 1-3: 8.3 → 15.7
    moves into the US over 2025-2036, per seed 7, 11, 7 → 18, 21, 8; into Mexico 13.3 → 22.3 and into Germany
    6.3 → 7.7 with the same incentive there)."""
    low = small(baseline, firms=2000, end_year=2036, **{"countries.USA.reshoring_incentive": 0.0})
    high = small(baseline, firms=2000, end_year=2036, **{"countries.USA.reshoring_incentive": 0.6})
    i_low, i_high = paired(low, high, lambda m: total(m, "relocations_in", "USA"))
    assert i_high.mean() > i_low.mean() + 2.0
    assert (i_high >= i_low).all()


def test_automation_makes_the_home_location_worth_more():
    """Krenz, Prettner & Strulik (2021), at the firm: for a German firm producing in China, the value of moving
    home (docs/ODD.md 7.6) rises with its automation, since automation shrinks the labor cost in which Germany
    is dearer (measured at the 2024 start: V_DEU 2.87 at α = 0 → 4.58 at α = 0.6, in years of output; the
    unit-cost ratio uc_DEU/uc_CHN 1.63 → 1.32)."""
    from sim import FactoryShiftModel, load_scenario
    from sim.model import location, market

    model = FactoryShiftModel(load_scenario("baseline").with_overrides({"run.firms": 300}), seed=1)
    codes = list(model.state.codes)
    deu, chn = codes.index("DEU"), codes.index("CHN")
    costs, f = model.costs(), model.firms
    uc = costs.unit_cost(f.automation, f.productivity, f.home, f.location)
    g = market.allocation_weights(f.capacity, uc, model.par["theta"])
    den = market.denominators(g, market.pair_index(f.home, f.location, costs.n), costs.weight)
    access = location.market_access(costs, model.state.demand, den)
    home, cur = np.array([deu, deu]), np.array([chn, chn])
    value = location.location_values(costs, model.state, model.par, home, cur, np.array([0.0, 0.6]), access)
    assert value[deu, 1] > value[deu, 0] + 0.6


@pytest.mark.xfail(strict=True, reason="at the refit with volume inertia the model answers barely: German net "
                   "reshoring 6.7 → 7.0 a run (per seed 5, 3, 12 → 5, 3, 13) although German automation in 2040 "
                   "rises 0.390 → 0.547; the firm-level mechanism is tested above")
def test_automation_at_home_raises_reshoring(baseline):
    """Krenz, Prettner & Strulik (2021): robots at home make reshoring pay. A large German AI programme
    (an uncapped 50% subsidy, literacy and a mission) against none (measured, seeds 1-3, 2025-2040, at the refit
    with volume inertia: German automation in 2040 0.390 → 0.547, German firms' net reshoring 6.7 → 7.0 a run,
    per seed 5, 3, 12 → 5, 3, 13: the model answers barely, hence the strict xfail. At cal15 it answered yes,
    −1.0 → +5.0; at the calibration before, no, 8.0 → 8.0; the firm-level mechanism is tested above)."""
    push = {"countries.DEU.ai_subsidy_rate": 0.5, "countries.DEU.ai_fund": float("inf"),
            "countries.DEU.mission": 1.0, "countries.DEU.literacy_program": 0.02}
    low = small(baseline, firms=2000, end_year=2040)
    high = small(baseline, firms=2000, end_year=2040, **push)
    r_low, r_high = paired(low, high, lambda m: net_reshoring(m, "DEU"))
    a_low, a_high = paired(low, high, lambda m: at(m, 2040, "DEU", "automation"))
    assert a_high.mean() > a_low.mean() + 0.05
    assert r_high.mean() > r_low.mean() + 1.0


def test_tariff_moves_production_serving_that_market_out_of_the_origin(baseline):
    """A 60% US tariff on goods made in China lowers China's share of the US market (measured, seeds 1-3: 5.18% →
    3.16% in 2032)."""
    low = small(baseline, end_year=2032, firms=1000, **{"countries.USA.tariffs.CHN": 0.0})
    high = small(baseline, end_year=2032, firms=1000, **{"countries.USA.tariffs.CHN": 0.6})
    usa, chn = baseline.codes.index("USA"), baseline.codes.index("CHN")
    s_low, s_high = paired(low, high, lambda m: m.market_shares()[chn, usa])
    assert s_high.mean() < s_low.mean() - 0.004


def test_currency_appreciation_lowers_dollar_cost_competitiveness(baseline):
    """The yen 30% stronger from 2025: Japanese wages in US$ rise by that much at once, Japan's unit cost
    rises and its share falls (measured, seeds 1-3: 4.51% → 2.21% of world output in 2032, −2.3 pp; in 2025 it
    first rises, next test)."""
    yen = baseline.countries["JPN"]["exchange_rate"]
    low = small(baseline, end_year=2032, firms=1000)
    high = small(baseline, end_year=2032, firms=1000, **{"countries.JPN.exchange_rate": yen * 1.3})
    w_low, w_high = paired(low, high, lambda m: at(m, 2025, "JPN", "wage"))
    s_low, s_high = paired(low, high, lambda m: at(m, 2032, "JPN", "production_share"))
    assert w_high.mean() == pytest.approx(1.3 * w_low.mean(), rel=0.02)
    assert s_high.mean() < s_low.mean() - 0.002


@pytest.mark.parametrize("upsilon,effect", [(0.0, "lowers"), (1.0, "raises")])
def test_an_appreciation_first_raises_the_dollar_share_when_volumes_carry_over(baseline, upsilon, effect):
    """Last year's shares are revalued at this year's producer prices (υ `volume_inertia`, ODD 7.2). The yen
    20% stronger from 2025: with υ = 1 last year's volumes carry over and Japan's US$ share rises in 2025 (the
    valuation effect of the MVA data; measured, seeds 1-3, 1,000 firms: 4.72% → 5.02%, +0.30 pp); with υ = 0
    last year's US$ shares carry over and only the adjustment to costs acts, so it falls (4.71% → 4.66%,
    −0.05 pp)."""
    yen = baseline.countries["JPN"]["exchange_rate"]
    low = small(baseline, end_year=2025, firms=1000, **{"model.volume_inertia": upsilon})
    high = small(baseline, end_year=2025, firms=1000, **{"model.volume_inertia": upsilon,
                                                         "countries.JPN.exchange_rate": yen * 1.2})
    s_low, s_high = paired(low, high, lambda m: at(m, 2025, "JPN", "production_share"))
    change = s_high.mean() - s_low.mean()
    assert (change > 0.0015) if effect == "raises" else (change < -0.0002), change


def shrinking_us_workforce(baseline):
    """The baseline to 2045 and the same with the US working-age population falling 2% a year from 2024."""
    wa = baseline.countries["USA"]["working_age"]
    fast = {year: value * (1 - 0.02 * (int(year) - 2024)) for year, value in wa.items()}
    base = small(baseline, end_year=2045, firms=1000)
    shrinking = base.with_overrides({})
    shrinking.data["countries"]["USA"]["working_age"] = fast
    return base, shrinking


def test_shrinking_workforce_raises_wages(baseline):
    """The US working-age population falling 2% a year from 2024: the US labor market tightens and wages rise
    (measured, seeds 1-3, 2045: wage US$52.3/h → US$201.0/h, +284%, mostly through the working-age term
    η_WA = 2.39; tightness 1.14 → 1.25)."""
    base, shrinking = shrinking_us_workforce(baseline)
    w_low, w_high = paired(base, shrinking, lambda m: at(m, 2045, "USA", "wage"))
    assert w_high.mean() > w_low.mean() * (1 + 0.4)


def test_shrinking_workforce_raises_automation(baseline):
    """The same: US automation should rise with the wage (Acemoglu & Restrepo 2022). Measured, seeds 1-3, 2045:
    0.287 → 0.365 (+0.079; 0.286 → 0.375 at cal15). (At the calibration before, the model answered no: 0.122 →
    0.116.)"""
    base, shrinking = shrinking_us_workforce(baseline)
    a_low, a_high = paired(base, shrinking, lambda m: at(m, 2045, "USA", "automation"))
    assert a_high.mean() > a_low.mean() + 0.02


# -------------------------------------------------------------------------------------- entry
def foreign_entrants_in_india(model) -> float:
    return float(model.recorder.entrants().query("location == 'IND' and hq != 'IND'").firms.sum())


def test_entrants_go_where_location_values_send_them(baseline):
    """No start-year residual decides where entrants go (the location value of docs/ODD.md 7.6 does): in the
    baseline they spread over several countries (no country above half of them, at least six above 2%), and a
    rupee 30% cheaper brings more foreign-owned entrants to India.

    At the fitted MP penalties (1.26 within a region, 2.0 across) nearly every entrant produces at home, so the
    entrants located in India are Indian firms, whose number follows India's US$ output; a cheaper rupee lowers
    that output at first (volume inertia), and the baseline's India entrants go 19.0 → 18.3 a run (seeds 1-3,
    2025-2034). The location choice is therefore tested with the MP penalty removed (measured, seeds 1-3,
    2025-2034: foreign-owned entrants producing in India 4.3 → 8.7 a run, per seed 9, 2, 2 → 9, 13, 4)."""
    inr = baseline.countries["IND"]["exchange_rate"]
    base = small(baseline, firms=2000, end_year=2034)
    shares = []
    for seed in SEEDS:
        e = run(base, seed).recorder.entrants().groupby("location").firms.sum()
        shares.append(e / e.sum())
    assert all(s.max() < 0.5 and (s > 0.02).sum() >= 6 for s in shares)
    free = {"model.mp_penalty_near": 1.0, "model.mp_penalty_far": 1.0}
    low = small(baseline, firms=2000, end_year=2034, **free)
    high = small(baseline, firms=2000, end_year=2034, **free, **{"countries.IND.exchange_rate": inr * 0.7})
    low, high = paired(low, high, foreign_entrants_in_india)
    assert high.mean() > low.mean() + 2 and (high >= low).all()
