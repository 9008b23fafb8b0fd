"""Initialisation (docs/ODD.md, section 5): the start-year firm population and its calibration.

`populate` places and draws the firms; `calibrate` fixes the capacity scales K_c that
reproduce the start-year shares, the qualities ξ_c that make the start year an equilibrium,
the selection of start-year survivors, and the labor shares n_c. Both draw from the
model's sequential generator in a fixed order (the firms' normals and ages, then the
loss-year spread), so the same seed gives the same start.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

from sim.model import labor, market, turnover
from sim.model.draws import lognormal_mean_one, lognormal_mean_one_z

#: Rounds of "calibrate capacities, then lift loss-making firms to break-even" at start.
SELECTION_ROUNDS = 10


@dataclass(frozen=True)
class Start:
    """What the start-year calibration fixed, used by entry and the loss test every year.

    capacity_scale  K_c, a firm's capacity is k_i = K_c·k̃_i (entrants draw k̃ the same way)
    quality         ξ_c, the quality of firms headquartered in c (loss test, entrants' cost)
    firms           N0, the number of firms at the start
    demand          Σ_m D_m(t0), world demand at the start (US$/year)
    """

    capacity_scale: np.ndarray
    quality: np.ndarray
    firms: int
    demand: float


def populate(firms, state, par, draws, n0: int) -> None:
    """Firms per country in proportion to MVA shares (largest remainder), drawn attributes."""
    n = len(state)
    quota = state.mva_share * n0
    counts = np.floor(quota).astype(int)
    counts[np.argsort(counts - quota, kind="stable")[: n0 - counts.sum()]] += 1
    counts[(counts == 0) & (state.mva_share > 0)] = 1  # every producing country has a firm to calibrate
    loc = np.repeat(np.arange(n, dtype=np.int8), counts)
    size = loc.size
    alpha0 = np.minimum(par["alpha_max"], par["automation_per_robot_density"] * state.robot_density)
    z_phi, z_cap, z_alpha = draws.normal(size), draws.normal(size), draws.normal(size)
    firms.add(
        home=loc, location=loc,
        productivity=lognormal_mean_one(par["productivity_sigma"], z_phi),
        capacity=lognormal_mean_one(par["capacity_sigma"], z_cap),
        automation=np.clip(alpha0[loc] * lognormal_mean_one(par["automation_sigma"], z_alpha), 0.0, par["alpha_max"]),
        age=np.floor(40 * draws.uniform(size)),
    )


def calibrate(firms, state, par, draws, costs, n0: int) -> tuple[Start, np.ndarray]:
    """Capacity scales reproduce start-year shares, qualities make r̄_c = 1, survivors break even,
    labor shares make tightness 1. Returns the calibration and the firms' start-year unit costs."""
    f, n, demand = firms, len(state), state.demand
    size = f.capacity.copy()  # k̃_i, the drawn size; k_i = K_c·k̃_i
    quality = np.ones(n)      # later selection rounds start from the last ξ
    for selection_round in range(SELECTION_ROUNDS):
        uc = costs.unit_cost(f.automation, f.productivity, f.location)
        scale = market.calibrate_capacity(
            market.allocation_weights(size, uc, par["theta"]), f.location, costs.friction_theta, demand,
            state.mva_share, n)
        f.capacity = size * scale[f.location]
        f.pi = market.target_shares(market.allocation_weights(f.capacity, uc, par["theta"]), f.location,
                                    costs.friction_theta, n)
        f.output = f.pi @ demand
        quality, rel = calibrate_quality(f, uc, costs.friction, demand, quality)
        last = selection_round == SELECTION_ROUNDS - 1
        if last or not raise_to_break_even(f, uc, rel, costs.other, par):
            break  # state is consistent: shares and output were computed from these costs
    u_spread = draws.uniform(len(f))
    turnover.update_losses(f, market.relative_prices(f, uc, quality, costs.friction, demand), par, u_spread)
    hours = labor.labor_hours(f.automation, f.productivity, f.location, costs.effectiveness, state.productivity,
                              par["hours_per_unit"], f.output)
    employed = labor.employment(hours, f.location, par["annual_hours"], n)
    state.labor_share = np.divide(employed, state.working_age * 1e6, out=np.zeros(n), where=state.working_age > 0)
    return Start(scale, quality, n0, demand.sum()), uc


def secant_step(x: np.ndarray, g: np.ndarray, last) -> np.ndarray:
    """Step in `x` = ln ξ towards ln r̄(ξ) = 0 (`g` = ln r̄ at `x`), one country at a time.

    The plain step Δ ln ξ = ln r̄ (ξ ← ξ·r̄) assumes ∂ ln r̄/∂ ln ξ = −1; with strong home bias a
    country's own prices make up most of its price level, the slope is much flatter and the plain
    iteration crawls. The secant slope Δ ln r̄/Δ ln ξ of the last two passes gives
    Δ ln ξ = −ln r̄/slope, used where it is a descent step (slope < 0), at most 20 plain steps long
    and, where that is more than the plain step, at most 0.5 in ln ξ (so a poor slope cannot throw
    ξ far off).
    """
    if last is None:
        return g
    dx, dg = x - last[0], g - last[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = dg / dx
    usable = np.isfinite(slope) & (slope < 0) & (dx != 0)
    step = np.where(usable, -g / np.where(usable, slope, -1.0), g)
    bound = np.maximum(np.abs(g), np.minimum(20 * np.abs(g), 0.5))  # never a jump of more than e^0.5 beyond plain
    return np.clip(step, -bound, bound)


def calibrate_quality(firms, uc, friction, demand, quality, tol=1e-10, max_iter=200):
    """Quality ξ_c such that the average firm of every country has r = 1 in the start year.

    The start year is taken as an equilibrium in which each country's industry, on
    average, earns the normal margin: r̄_c(ξ) = 1, with r̄_c the output-weighted mean
    relative price of the firms headquartered in c, solved in ln ξ by the steps of
    `secant_step` from the given `quality` until |r̄_c − 1| < tol. Like K_c for shares,
    ξ_c absorbs what the model does not represent (brand, product mix, market access).
    Returns ξ and the firms' relative prices at ξ.
    """
    f, n = firms, len(quality)
    weight = market.country_sums(f.home, f.output, n)
    last = None  # (ln ξ, ln r̄) of the previous pass, for the secant step
    for _ in range(max_iter):
        rel = market.relative_prices(f, uc, quality, friction, demand)
        mean = np.divide(market.country_sums(f.home, f.output * rel, n), weight, out=np.ones(n), where=weight > 0)
        if np.max(np.abs(mean - 1.0)) < tol:
            break
        x, g = np.log(quality), np.log(mean)
        quality = np.exp(x + secant_step(x, g, last))
        last = (x, g)
    return quality, rel


def raise_to_break_even(firms, uc, rel, other, par) -> bool:
    """Selection at start: firms the exit rule would already have removed are not observed.

    A loss-making firm (r_i > 1 + μ) has a break-even productivity
    φ*_i = φ_i·(uc_i − O_c)/(uc*_i − O_c), uc*_i = uc_i·(1 + μ)/r_i. Its productivity is
    redrawn from the lognormal truncated at φ*_i, keeping its own quantile CDF_φ(φ_i), where
    CDF_φ(x) = Φ(z_σφ(x)) is the lognormal's CDF (Φ standard normal, z_σφ = `lognormal_mean_one_z`):
    φ_i ← CDF_φ⁻¹(CDF_φ(φ*_i) + CDF_φ(φ_i)·(1 − CDF_φ(φ*_i))) — a Melitz-style cut-off of the start-year
    productivity distribution, without new random numbers. Returns whether any firm changed.
    """
    f = firms
    other = other[f.location]
    target = uc * (1.0 + par["profit_margin"]) / rel
    fix = np.flatnonzero((rel > 1.0 + par["profit_margin"]) & (target > other))
    if fix.size == 0:
        return False
    phi = f.productivity[fix]
    cutoff = phi * (uc[fix] - other[fix]) / (target[fix] - other[fix])
    sigma = par["productivity_sigma"]
    if sigma < 1e-9:  # degenerate: the z-transform would overflow; every firm is lifted to its cut-off
        f.productivity[fix] = cutoff
        return True
    below = ndtr(lognormal_mean_one_z(sigma, cutoff))
    quantile = np.minimum(below + ndtr(lognormal_mean_one_z(sigma, phi)) * (1.0 - below), 1.0 - 2.0 ** -53)
    f.productivity[fix] = np.maximum(cutoff, lognormal_mean_one(sigma, ndtri(quantile)))
    return True
