"""Entry and exit (step 7): loss years, exits, and entrants (located by `location.entry_probabilities`)."""

from __future__ import annotations

import numpy as np

from sim.model import adoption, location, market
from sim.model.draws import categorical, lognormal_mean_one


def update_losses(firms, rel_price, par, u_spread=None) -> None:
    """loss_i: r_i > 1 + μ. Consecutive loss years count up, and reset after a profitable year.

    `u_spread` (start only) spreads the loss years of firms already loss-making in the
    start year over [0, n_exit), so they do not all exit in the same year.
    """
    losses = np.where(rel_price > 1.0 + par["profit_margin"], firms.loss_years + 1, 0)
    if u_spread is not None:
        losses = np.where(losses > 0, np.floor(u_spread * par["exit_after"]), 0)
    firms.loss_years = losses.astype(firms.loss_years.dtype)


def target_firm_count(n0, demand_now, demand_start, elasticity):
    """N*(t) = N0 · (Σ_m D_m(t) / Σ_m D_m(t0))^ε_N."""
    return int(round(n0 * (demand_now / demand_start) ** elasticity))


def exit_and_enter(firms, costs, state, start, par, draws, year) -> tuple[np.ndarray, np.ndarray]:
    """Step 7b: exits after `exit_after` loss years (counted at next year's location), then entrants.

    `costs` are the costs entrants look ahead to (next year's wage); `start` the start-year
    calibration (`setup.Start`: capacity scales, qualities, N0, start demand). Returns the
    entrants and the exits per country.
    """
    f, n = firms, len(state)
    f.alive = f.loss_years < par["exit_after"]
    exits = np.bincount(f.location[~f.alive], minlength=n)
    f.age += 1
    f.remove_dead()
    market.normalise_columns(f.pi)  # the survivors share the exited firms' customers
    target = target_firm_count(start.firms, state.demand.sum(), start.demand, par["firm_count_elasticity"])
    n_new = max(0, target - len(f))
    share = market.country_sums(f.location, f.output, n)
    share = share / share.sum() if share.sum() > 0 else state.mva_share
    mean_alpha = adoption.mean_automation(f.automation, f.capacity, f.location, n)
    entrant_cost = costs.unit_cost(mean_alpha, np.ones(n), np.arange(n)) / start.quality
    prob = location.entry_probabilities(share, entrant_cost, par["entry_cost_sharpness"])
    k = np.arange(n_new)  # entrants are keyed by their number within the year
    loc = categorical(prob, draws.keyed_uniform(k, year, "entry_location")).astype(np.int8)
    f.add(home=loc, location=loc,
          productivity=lognormal_mean_one(par["productivity_sigma"], draws.keyed_normal(k, year, "entry_productivity")),
          capacity=start.capacity_scale[loc] * lognormal_mean_one(par["capacity_sigma"],
                                                                  draws.keyed_normal(k, year, "entry_capacity")),
          automation=mean_alpha[loc])
    return np.bincount(loc, minlength=n), exits
