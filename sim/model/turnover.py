"""Entry and exit (step 7): loss years, exits, and entrants (located by `location.entry_table`)."""

from __future__ import annotations

import numpy as np

from sim.model import adoption, health, labor, location, market
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
    """N*(t) = N0 · (Σ_m D_m(t) / Σ_m D_m(t0))^ε_N (held below 2^62 so that it stays an integer)."""
    return int(round(min(n0 * (demand_now / demand_start) ** elasticity, 2.0 ** 62)))


def exit_and_enter(firms, costs, state, start, par, draws, year, access, room) -> tuple[np.ndarray,
                                                                                                     np.ndarray]:
    """Step 7b: exits after `n_exit` loss years (counted at next year's location), then entrants.

    Entrants' headquarters are drawn in proportion to the output of the firms headquartered in
    each country (industry is where its firms come from); where they produce is their choice
    (`location.entry_table`). They draw φ and k̃ as at the start, k = K_h·k̃, and take the mean
    automation ᾱ_j of the location they choose. As in Melitz (2003), a candidate whose drawn
    productivity would make it loss-making from the start (r > 1 + μ against its headquarters'
    market at the start year's price level P̄⁰, `start.price_level`, the test a firm without sales faces)
    does not enter.
    An entrant producing abroad needs workers there: jobs_e = k_e·E_j/Σ_{i at j} k_i (the jobs per unit
    of capacity of the survivors at j; Σ k_i, not the capacity scale K_j), taken from the year's `room`
    left by the movers (`location.within_room`); one that does not fit produces at home instead, if it
    passes the test there. (Entrants at home hire the workers the exits free.) `costs` are the costs
    entrants look ahead to (next year's wage), `access` this year's market access
    (`location.market_access`); `start` the start-year calibration (`setup.Start`). Returns the
    entrants as a headquarters × location count matrix and the exits per country.
    """
    f, n = firms, len(state)
    f.alive = f.loss_years < par["exit_after"]
    exits = np.bincount(f.location[~f.alive], minlength=n)
    f.age += 1
    f.remove_dead()
    market.normalise_columns(f.pi)  # the survivors share the exited firms' customers
    target = target_firm_count(start.firms, state.demand.sum(), start.demand, par["firm_count_elasticity"])
    # at most one past the population `health.check` stops a run at: the check then names the cause
    n_new = max(0, min(target, max(health.GROWTH_CAP * start.firms, health.GROWTH_FLOOR) + 1) - len(f))
    by_hq = market.country_sums(f.home, f.output, n)
    hq_share = by_hq / by_hq.sum() if by_hq.sum() > 0 else state.mva_share
    alpha = adoption.mean_automation(f.automation, f.capacity, f.location, n)
    prob = location.entry_table(costs, state, par, alpha, access)
    k = np.arange(n_new)  # candidates are keyed by their number within the year
    hq = categorical(hq_share, draws.keyed_uniform(k, year, "entry_hq"))
    loc = location.draw_locations(prob, hq, draws.keyed_uniform(k, year, "entry_location"))
    phi = lognormal_mean_one(par["productivity_sigma"], draws.keyed_normal(k, year, "entry_productivity"))
    size = start.capacity_scale[hq] * lognormal_mean_one(par["capacity_sigma"], draws.keyed_normal(k, year,
                                                                                                  "entry_capacity"))
    def loss_making(h, c, productivity):     # Melitz: a candidate that would make a loss does not enter
        uc = costs.unit_cost(alpha[c], productivity, h, c)
        rel = uc * costs.price_factor[market.pair_index(h, c, n), h] / (start.quality[h] * start.price_level[h])
        return rel > 1.0 + par["profit_margin"]

    keep = ~loss_making(hq, loc, phi)          # judged before candidates abroad queue for workers
    hq, loc, phi, size, k = hq[keep], loc[keep], phi[keep], size[keep], k[keep]
    employed = labor.employment(f, costs, state)
    per_capacity = np.divide(employed, market.country_sums(f.location, f.capacity, n), out=np.zeros(n),
                             where=employed > 0)
    abroad = np.flatnonzero(loc != hq)
    fits = location.within_room(loc[abroad], size[abroad] * per_capacity[loc[abroad]],
                                draws.keyed_uniform(k[abroad], year, "entry_order"), room)
    home = abroad[~fits]
    loc[home] = hq[home]                       # no workers there: it produces at home, if that pays
    enter = np.ones(len(hq), dtype=bool)
    enter[home] = ~loss_making(hq[home], loc[home], phi[home])
    hq, loc = hq[enter], loc[enter]
    f.add(home=hq.astype(np.int8), location=loc.astype(np.int8), productivity=phi[enter], capacity=size[enter],
          automation=alpha[loc])
    return np.bincount(hq * n + loc, minlength=n * n).reshape(n, n), exits
