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
    """The start's ᾱ_c solves ρ·Σ_{i∈c} min(α_max, ᾱ_c·spread_i)·U_i = stock_c exactly (segment by segment),
    also where α_max binds for some firms and where the stock is beyond what α_max allows (then α = α_max)."""
    from sim.model.robots import _capped_level, kink_order

    rng = np.random.default_rng(seed)
    n, size, alpha_max = 4, 300, 0.6
    loc = np.sort(rng.integers(0, n - 1, size))           # the last country has no firm
    spread, workers = rng.lognormal(0.0, 1.0, size), rng.uniform(1.0, 100.0, size)
    full = np.bincount(loc, weights=alpha_max * workers, minlength=n)
    need = full * np.array([0.3, 0.9, 1.5, 0.5])            # partly capped, nearly all capped, beyond, no firm
    level = _capped_level(loc, spread, workers, need, alpha_max, n, kink_order(loc, spread))
    got = np.bincount(loc, weights=np.minimum(alpha_max, level[loc] * spread) * workers, minlength=n)
    np.testing.assert_allclose(got[:2], need[:2], rtol=1e-12)
    assert got[2] == pytest.approx(full[2]) and (level[2] * spread[loc == 2] >= alpha_max - 1e-12).all()
    assert level[3] == 0.0
    assert (np.minimum(alpha_max, level[loc] * spread) < alpha_max).any()  # the cap does not bind everywhere
