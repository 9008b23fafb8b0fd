"""Initialisation (docs/ODD.md, section 5): the start-year firm population, calibrated on the observed world.

`populate` places and draws the firms; `calibrate` then fixes, on the country state of the
**observed** start year (`Scenario.observed` levers: a scenario's counterfactual levers apply
only after it), everything the data pin down:

* who owns the foreign-owned share of each country's production (`assign_foreign_owners`);
* the capacity scales K_c that reproduce the start-year shares by location;
* labor productivity A_c, so that employment equals the official count (`employment`);
* the non-labor value added per unit r_h, so that value added pays for labor and capital (`value_added_balance`);
* the firms' automation, so that the model's robot density equals IFR's (`robots.start_automation`);
* the qualities ξ_h that make the start year an equilibrium for the loss test;
* the selection of start-year survivors, and the workforce shares n_c (tightness 1).

These depend on one another through the firms' outputs, so they are solved in rounds until
none changes. Draws come from the model's sequential generator in a fixed order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

from sim.model import labor, location, market, robots, turnover
from sim.model.adoption import mean_automation
from sim.model.draws import lognormal_mean_one, lognormal_mean_one_z
from sim.model.market import Costs, pair_index

#: Rounds of "calibrate the start, then lift loss-making firms to break-even" (`calibrate`); the last one only
#: calibrates. Each round re-centres the qualities and lifts a tail; the firms still loss-making after it
#: start with spread loss years. (Measured before the start-selection cap, at 10,000 firms: neither the 2024
#: baseline nor the 2005 start stopped lifting before the cap; their 14th lift still moved 8 and 100 firms.)
SELECTION_ROUNDS = 15
#: A loss-making start firm is lifted only if it breaks even at a productivity its distribution reaches,
#: φ* ≤ the 99.9th percentile (z = 3.09; assumption): `raise_to_break_even`.
VIABLE_Z = 3.09
#: Most rounds of `solve_start` (it converges in far fewer).
INNER_ROUNDS = 50
#: Relative change of A_c and of mean automation below which a round counts as converged (employment
#: and robot stocks then match their targets to about this relative error; shares match to 1e-13).
TOLERANCE = 1e-8
#: The same, for the first solve and during the selection rounds (which move the start anyway; the last solve
#: uses TOLERANCE).
ROUGH_TOLERANCE = 1e-4


@dataclass(frozen=True)
class Start:
    """What the start-year calibration fixed, used by entry and the loss test every year.

    capacity_scale  K_c, the start's firms at c have k_i = K_c·k̃_i; an entrant headquartered in h draws k̃
                    the same way and gets k = K_h·k̃
    quality         ξ_h, the quality of firms headquartered in h (loss test)
    firms           N0, the number of firms at the start
    demand          Σ_m D_m(t0), world demand at the start (US$/year)
    price_level     P̄⁰_m, the markets' price levels in the start year, which the loss test and entry hold
    """

    capacity_scale: np.ndarray
    quality: np.ndarray
    firms: int
    demand: float
    price_level: np.ndarray


@dataclass
class Draws0:
    """The sequential draws of the start that `calibrate` still needs."""

    automation_spread: np.ndarray   # exp(σ_α·ζ − σ_α²/2) per firm
    foreign: np.ndarray             # u < foreign_share of its location: the firm is foreign-owned
    headquarters: np.ndarray        # uniforms for the foreign firms' headquarters


#: Firms per country ∝ MVA share^FIRM_COUNT_POWER: small producers get relatively more, smaller firms, so that
#: Viet Nam's 0.14% of 2005 is dozens of firms rather than four (granular noise), and average firm size rises
#: with country size, as it does in the data (assumption).
FIRM_COUNT_POWER = 0.5


def populate(firms, state, par, draws, n0: int) -> Draws0:
    """Firms per country ∝ MVA share^FIRM_COUNT_POWER (largest remainder), all at home, with drawn attributes."""
    n = len(state)
    weight = state.mva_share ** FIRM_COUNT_POWER
    quota = weight / weight.sum() * n0
    counts = np.floor(quota).astype(int)
    counts[np.argsort(counts - quota, kind="stable")[: n0 - counts.sum()]] += 1
    counts[(counts == 0) & (state.mva_share > 0)] = 1  # every producing country has a firm to calibrate
    loc = np.repeat(np.arange(n, dtype=np.int8), counts)
    size = loc.size
    z_phi, z_cap, z_alpha = draws.normal(size), draws.normal(size), draws.normal(size)
    firms.add(home=loc, location=loc,
              productivity=lognormal_mean_one(par["productivity_sigma"], z_phi),
              capacity=lognormal_mean_one(par["capacity_sigma"], z_cap),
              automation=np.zeros(size), age=np.floor(40 * draws.uniform(size)))
    foreign = draws.uniform(size) < state.foreign_share[loc]
    return Draws0(lognormal_mean_one(par["automation_sigma"], z_alpha), foreign, draws.uniform(size))


def calibrate(firms, state, par, draws, start_draws: Draws0, n0: int) -> tuple[Start, Costs, np.ndarray]:
    """The start-year calibration (module docstring). Returns it, the start year's costs and unit costs."""
    f, n, demand = firms, len(state), state.demand
    size = f.capacity.copy()  # k̃_i, the drawn size; k_i = K_c·k̃_i
    spread = robots.kinks(f.location, start_draws.automation_spread, n)   # sorted once: locations stay put
    # rough: the selection rounds move the start anyway (who owns foreign capacity needs output only roughly)
    costs, uc, scale = solve_start(f, state, par, size, spread, None, ROUGH_TOLERANCE)
    assign_foreign_owners(f, state, start_draws)
    quality = np.ones(n)      # later rounds start from the last ξ
    for selection_round in range(SELECTION_ROUNDS):
        costs, uc, scale = solve_start(f, state, par, size, spread, scale, ROUGH_TOLERANCE)
        quality, rel = calibrate_quality(f, uc, costs, demand, quality)
        if selection_round == SELECTION_ROUNDS - 1 or not raise_to_break_even(f, uc, rel, costs.capital, par):
            break
        normalise_productivity(f, n)
    # the selection done, the start solved to the full tolerance: shares and output from these very costs
    costs, uc, scale = solve_start(f, state, par, size, spread, scale, TOLERANCE)
    quality, _ = calibrate_quality(f, uc, costs, demand, quality)
    rel, level = market.relative_prices(f, uc, quality, costs, demand)
    turnover.update_losses(f, rel, par, draws.uniform(len(f)))
    employed = labor.employment(f, costs, state)
    boost = state.labor_supply_boost
    state.workforce_share = np.divide(employed, state.working_age * 1e6 * boost, out=np.zeros(n),
                                      where=state.working_age * boost > 0)
    state.robot_coverage = robots.coverage(state, employed)
    state.robot_stock = robots.stock(f, costs, state, par)
    f.unit_cost = uc.copy()
    level.setflags(write=False)               # held by the loss test and entry for the whole run
    return Start(scale[:n], quality, n0, demand.sum(), level), costs, uc


def solve_start(firms, state, par, size, spread, scale, tolerance) -> tuple[Costs, np.ndarray, np.ndarray]:
    """Capacity scales, shares, labor productivity, automation and capital shares of the start year, solved
    together: K_c reproduces the shares at the current costs; A_c, α and r_h then match employment, robot
    stocks and value added, which moves the costs; repeated until A_c, mean automation and r_h change by
    less than `tolerance` (relative)
    (a few rounds: each change is a fraction of the last). `spread` holds the firms' automation spread and
    their kinks (`robots.Kinks`). Returns the costs, unit costs and K."""
    f, n, demand = firms, len(state), state.demand
    pair = pair_index(f.home, f.location, n)
    group_of_pair, split = market.ownership_groups(pair, state.foreign_share, n)
    for _ in range(INNER_ROUNDS):
        costs = Costs.of(state, par, 0)
        uc = costs.unit_cost(f.automation, f.productivity, f.home, f.location)
        g_unit = market.allocation_weights(size, uc, par["theta"])
        scale = market.calibrate_capacity(g_unit, pair, costs.weight, demand, np.tile(state.mva_share, 2) * split,
                                          group_of_pair, initial=scale)
        k = scale[group_of_pair[pair]]
        f.capacity, g = size * k, g_unit * k
        den = market.denominators(g, pair, costs.weight)
        # Q_i = Σ_m π*_im·D_m = g_i·Σ_m W_{pair,m}/Den_m·D_m: a C² table, so π (firms × markets) is built once, below
        f.output = g * ((costs.weight / den) @ demand)[pair]
        capacity = market.country_sums(f.location, f.capacity, n)   # ᾱ_c's denominator in both checks
        before = (state.productivity.copy(), mean_automation(f.automation, f.capacity, f.location, n, capacity),
                  state.capital_cost.copy())
        match_employment(f, state, par)
        matched = Costs.of(state, par, 0)        # at the new A_c; setting automation leaves them as they are
        robots.start_automation(f, matched, state, par, spread)
        state.capital_cost = value_added_balance(f, matched, n)
        after = (state.productivity, mean_automation(f.automation, f.capacity, f.location, n, capacity),
                 state.capital_cost)
        if not any(_moved(a, b, tolerance) for a, b in zip(before, after)):
            break
    f.pi = market.target_shares(g, pair, costs.weight, den=den)
    return costs, uc, scale


def _moved(before, after, tolerance) -> bool:
    return bool(np.max(np.abs(after - before) / np.maximum(np.abs(before), 1e-300)) > tolerance)


def value_added_balance(firms, costs, n, floor: float = 0.05) -> np.ndarray:
    """r_h such that the firms headquartered in h and producing there cost, on average, one US$ per US$ of
    value added: Σ uc_i·Q_i = Σ Q_i, i.e. r_h = (Σ Q_i − Σ (labor + AI)_i·Q_i/φ_i) / Σ Q_i. Output is value
    added, so what labor and AI running costs leave of it is capital's share (with its normal return);
    it belongs to the firm and travels with it. At least `floor`, should labor take all of it."""
    f = firms
    # the accounts of the headquarters' own country: Σ (labor + AI)_i·Q_i/φ_i over i with h_i = c_i = h is
    # ℓ_hh·Σ Q/φ − ℓ_hh·e_h·Σ α·Q/φ + κ·Σ α·Q/φ, three sums per country
    q = np.where(f.home == f.location, f.output, 0.0)
    per_phi = q / f.productivity
    total = market.country_sums(f.location, q, n)
    plain = market.country_sums(f.location, per_phi, n)
    automated = market.country_sums(f.location, per_phi * f.automation, n)
    own = np.diagonal(costs.labor)
    spent = own * plain + (costs.ai_running - own * costs.effectiveness) * automated
    rest = total - spent
    return np.maximum(floor, np.divide(rest, total, out=np.full(n, 0.5), where=total > 0))


def match_employment(firms, state, par, max_iter: int = 200) -> None:
    """Set A_c so that the start year's employment equals `employment` (million persons).

    E_c ∝ A_c^(−1) for firms at home and ∝ A_c^(−(1−ζ)) for foreign firms, so the step
    A_c ← A_c·E_c/E*_c converges; it is exact in one step when every firm in c is at home. A step
    is at most a factor 2 and A_c stays within [1e-8, 1e8]: where c's employment hardly responds
    to A_c (few firms of its own, ζ near 1) the step would otherwise run away.
    """
    target = state.employment * 1e6
    f, n = firms, len(state)
    # only A_c changes from pass to pass: Λ_i = task hours / (A_hc·φ_i) (`Costs.hours`), so the firms' task
    # hours per unit of φ are summed once per (h, c) pair and each pass divides the n × n sums by A_hc
    tasks = Costs.of(state, par, 0).task_hours(f.automation, f.location, f.output)
    by_pair = np.bincount(pair_index(f.home, f.location, n), weights=tasks / f.productivity,
                          minlength=n * n).reshape(n, n)
    for _ in range(max_iter):
        hours = by_pair / market.technology_table(state.productivity, par["technology_portability"])
        got = hours.sum(axis=0) / state.annual_hours
        ratio = np.divide(got, target, out=np.ones_like(got), where=(got > 0) & (target > 0))
        state.productivity = np.clip(state.productivity * np.clip(ratio, 0.5, 2.0), 1e-8, 1e8)
        if np.max(np.abs(ratio - 1.0)) < 1e-13:
            break


def assign_foreign_owners(firms, state, start_draws: Draws0) -> None:
    """The firms drawn as foreign-owned get a headquarters h ≠ c, drawn with probability ∝ S_h, the output of
    h's firms (as entrants' headquarters are drawn: industry is where its firms come from). Who owns foreign
    capacity where is not in the project's data (FDI stocks by origin and destination), so it is not derived
    from the location choice either: with owners ∝ S_h·P(c | h), P the choice's logit weights, the
    highest-cost headquarters owned nearly everything abroad (Germany all foreign capacity in the US, the
    rest of the EU and the rest of the world) and Mexico the foreign capacity in the US (assumption, docs/ODD.md
    Initialisation 5). Where production is stays as observed; only who owns it changes, so the start still
    reproduces the shares by location."""
    n = len(state)
    size = market.country_sums(firms.home, firms.output, n)
    owners = np.repeat(size[None, :], n, axis=0)          # location c × headquarters h
    np.fill_diagonal(owners, 0.0)
    foreign = start_draws.foreign.copy()
    first = np.unique(firms.location, return_index=True)[1]
    foreign[first] = False          # every location keeps a firm of its own, so its K_h can reach its share
    chosen = np.flatnonzero(foreign)
    loc = firms.location[chosen].astype(np.intp)
    has = owners.sum(axis=1)[loc] > 0
    chosen, loc = chosen[has], loc[has]
    firms.home[chosen] = location.draw_locations(owners, loc, start_draws.headquarters[chosen]).astype(np.int8)


def calibrate_quality(firms, uc, costs, demand, quality, tol=1e-10, max_iter=200):
    """Quality ξ_h such that the average firm headquartered in h has r = 1 in the start year.

    The start year is taken as an equilibrium in which each country's industry, on
    average, earns the normal margin: r̄_h(ξ) = 1, with r̄_h the output-weighted mean
    relative price of the firms headquartered in h, solved in x = log ξ by the steps of
    `market.secant_step` from the given `quality` until |r̄_h − 1| < tol. Like K_h for shares,
    ξ_h absorbs what the model does not represent (product mix, reputation); it belongs to
    the headquarters and moves with its firms. Returns ξ and the firms' relative prices at ξ.
    """
    f, n = firms, len(quality)
    weight = market.country_sums(f.home, f.output, n)
    last = None  # (log ξ, log r̄) of the previous pass, for the secant step
    for _ in range(max_iter):
        rel, _ = market.relative_prices(f, uc, quality, costs, demand)
        mean = np.divide(market.country_sums(f.home, f.output * rel, n), weight, out=np.ones(n), where=weight > 0)
        if np.max(np.abs(mean - 1.0)) < tol:
            break
        x, g = np.log(quality), np.log(mean)
        quality = np.exp(x + market.secant_step(x, g, last))
        last = (x, g)
    else:                           # out of passes: the prices at the ξ returned
        rel, _ = market.relative_prices(f, uc, quality, costs, demand)
    return quality, rel


def normalise_productivity(firms, n) -> None:
    """φ_i ← φ_i / φ̄_h with φ̄_h = Σ Q_i / Σ (Q_i/φ_i) over the firms headquartered in h: firm efficiency keeps
    its spread but not its level, which belongs to A_h (re-solved from employment next)."""
    f = firms
    total = market.country_sums(f.home, f.output, n)
    hours = market.country_sums(f.home, f.output / f.productivity, n)
    level = np.divide(total, hours, out=np.ones(n), where=hours > 0)
    f.productivity = f.productivity / level[f.home]


def raise_to_break_even(firms, uc, rel, capital, par) -> bool:
    """Selection at start: firms the exit rule would already have removed are not observed.

    A loss-making firm (r_i > 1 + μ) has a break-even productivity
    φ*_i = φ_i·(uc_i − r_h)/(uc*_i − r_h), uc*_i = uc_i·(1 + μ)/r_i (only the tasks' cost scales with 1/φ).
    Its productivity is redrawn from the lognormal truncated at φ*_i, keeping its own quantile
    u_i = CDF_φ(φ_i): φ_i ← CDF_φ⁻¹(CDF_φ(φ*_i) + u_i·(1 − CDF_φ(φ*_i))) — a Melitz-style cut-off of the
    start-year productivity distribution, without new random numbers. Only a firm whose φ*_i its distribution
    reaches, φ*_i ≤ φ_max = CDF_φ⁻¹(Φ(`VIABLE_Z`)) (the 99.9th percentile), is lifted; beyond, no firm like it
    is observed, and it stays loss-making and exits in its first years (`turnover.update_losses` spreads
    them). Lifting those too made a few firms of the 2005 start 10 to 10,000 times as efficient as the
    mean (up to φ = 9,664 in Japan), and the loss test's ratchet (docs/validation.md) later let them take
    whole markets. Returns whether any firm changed.
    """
    f = firms
    fixed = capital[f.home]
    target = uc * (1.0 + par["profit_margin"]) / rel
    loss = np.flatnonzero((rel > 1.0 + par["profit_margin"]) & (target > fixed))
    cutoff = f.productivity[loss] * (uc[loss] - fixed[loss]) / (target[loss] - fixed[loss])
    viable = cutoff <= lognormal_mean_one(par["productivity_sigma"], VIABLE_Z)
    fix, cutoff = loss[viable], cutoff[viable]
    if fix.size == 0:
        return False
    phi = f.productivity[fix]
    sigma = par["productivity_sigma"]
    if sigma < 1e-9:  # nearly degenerate (σ = 0 lifts none: φ_max = 1): the z-transform would overflow
        f.productivity[fix] = cutoff
        return True
    # in upper tails, 1 − quantile = P(φ > φ*)·(1 − u_i): a cut-off far in the tail keeps its precision there
    tail = np.maximum(ndtr(-lognormal_mean_one_z(sigma, cutoff)) * ndtr(-lognormal_mean_one_z(sigma, phi)),
                      2.0 ** -53)
    f.productivity[fix] = np.maximum(cutoff, lognormal_mean_one(sigma, -ndtri(tail)))
    return True
