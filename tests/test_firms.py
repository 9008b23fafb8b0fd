"""Firms are agents to the user: inspectable by id, exportable, with deliberate dtypes."""

from __future__ import annotations

import numpy as np
import pytest

from sim import FactoryShiftModel
from sim.model.firms import FIELDS


def test_firm_view_and_export(baseline):
    model = FactoryShiftModel(baseline.with_overrides({"run.firms": 300, "run.end_year": 2034}), seed=2,
                              record_firms=True)
    model.run()
    frame = model.firms.to_frame(model.state.codes)
    assert len(frame) == len(model.firms) and frame.id.is_unique
    first = int(frame.id.iloc[0])
    view = model.firm(first)
    row = frame.set_index("id").loc[first]
    assert view.location == row.location and view.automation == pytest.approx(row.automation)
    assert sum(view.market_shares.values()) == pytest.approx(float(model.firms.pi[0].sum()))
    # exited firms stay inspectable
    everyone = model.firms.to_frame(model.state.codes, include_exited=True)
    exited = everyone[~everyone.alive]
    assert len(exited) > 0
    assert model.firm(int(exited.id.iloc[0])).alive is False
    with pytest.raises(KeyError):
        model.firm(10**9)
    # the optional per-firm panel has one row per firm and year
    panel = model.recorder.firms()
    assert set(panel.year) == set(range(2024, 2035))


def test_dtypes_are_deliberate(baseline):
    model = FactoryShiftModel(baseline.with_overrides({"run.firms": 100}), seed=1)
    for name, dtype in FIELDS.items():
        assert getattr(model.firms, name).dtype == dtype, name
    assert model.firms.location.dtype == np.int8
    assert not any(getattr(model.firms, n).dtype == object for n in FIELDS)


def test_country_agents_are_views_on_state(baseline):
    model = FactoryShiftModel(baseline.with_overrides({"run.firms": 100}), seed=1)
    usa = model.country("USA")
    assert usa.wage == baseline.countries["USA"]["wage"]
    usa.ai_subsidy_rate = 0.3
    assert model.state.ai_subsidy_rate[usa.index] == 0.3
    assert usa.tariff_on("CHN") == baseline.countries["USA"]["tariffs"]["CHN"]
    assert len(model.agents) == len(baseline.codes)  # firms are not Python objects


@pytest.mark.parametrize("seed", range(5))
def test_start_automation_meets_the_robot_stock_where_alpha_max_binds(seed):
    """The start's ᾱ⁰_c solves ρ·Σ_{i: c_i=c} min(α_max, ᾱ⁰_c·spread_i)·U_i = stock_c exactly (segment by segment),
    also with very unequal spreads (σ_α = 3, the top of its range), tied spreads, countries of very different
    sizes in any order, where the stock is beyond what α_max allows (then α = α_max) and where c has no firm."""
    from sim.model.robots import _capped_level, kinks

    rng = np.random.default_rng(seed)
    n, alpha_max = 5, 0.6
    loc = rng.permutation(np.repeat(np.arange(n - 1), [3, 40, 400, 40_000])).astype(np.int8)  # the last: none
    spread = rng.lognormal(-4.5, 3.0, loc.size)
    spread[:50] = spread[50]                                  # ties
    workers = rng.uniform(1.0, 3e8 / loc.size, loc.size)
    full = np.bincount(loc, weights=alpha_max * workers, minlength=n)
    need = full * np.array([0.3, 0.9, 0.5, 1.5, 0.5])      # partly capped, nearly all, beyond, no firm
    level = _capped_level(workers, need, alpha_max, kinks(loc, spread, n))
    got = np.bincount(loc, weights=np.minimum(alpha_max, level[loc] * spread) * workers, minlength=n)
    np.testing.assert_allclose(got[:3], need[:3], rtol=1e-10)
    assert got[3] == pytest.approx(full[3]) and (level[3] * spread[loc == 3] >= alpha_max * (1 - 1e-12)).all()
    assert level[4] == 0.0
    for c in (1, 2):                                        # the cap binds for some firms of c, not for all
        alpha = np.minimum(alpha_max, level[c] * spread[loc == c])
        assert (alpha == alpha_max).any() and (alpha < alpha_max).any()
