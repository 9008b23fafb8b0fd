"""Automation ↔ industrial robots: the model's automation read as IFR robot density and installations.

A robot does the work of automated tasks. The robot stock of country c is proportional to the
worker-hours its automated tasks would take by hand::

    U_i      = h_u·Q_i / (A_hc·φ_i·h_yr,c)                 workers firm i would need at α = 0
    stock_c  = ρ_R · Σ_{i∈c} α_i·U_i                        robots
    E_c      = Σ_{i∈c} (1 − α_i·e_c)·U_i                    employees
    density_c = 10⁴ · stock_c / (v_c·E_c)                   robots per 10,000 employees (IFR's measure)
    installations_c(t) = max(0, stock_c(t) − stock_c(t−1)) + δ_R·stock_c(t−1)

ρ_R (`robots_per_automated_output`, robots per automated worker) is fitted to IFR data. v_c is
the share of the model's employment that IFR's density counts (its employee base: for China
about a third of all manufacturing workers), fixed at the start so that the start-year density
equals IFR's published figure; 1 where IFR publishes none. With uniform α in c, density ∝
α/(1 − α·e_c): it rises faster than automation, and a country close to α_max stops installing
more than it retires (Korea's plateau).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model.market import country_sums


def manual_workers(firms, costs, state) -> np.ndarray:
    """U_i: the workers each firm would need with no automation."""
    return costs.hours(0.0, firms.productivity, firms.home, firms.location, firms.output) / \
        state.annual_hours[firms.location]


def stock(firms, costs, state, par) -> np.ndarray:
    """stock_c = ρ_R·Σ_{i∈c} α_i·U_i (robots per country)."""
    return par["robots_per_automated_output"] * country_sums(
        firms.location, firms.automation * manual_workers(firms, costs, state), len(state))


def density(robots, employment, coverage) -> np.ndarray:
    """Robots per 10,000 employees of IFR's employee base (v_c·E_c)."""
    base = coverage * employment
    return np.divide(1e4 * robots, base, out=np.zeros_like(robots), where=base > 0)


def coverage(state, employment) -> np.ndarray:
    """v_c = 10⁴·stock_c / (density_c·E_c) at the start where IFR publishes a density, else 1."""
    known = (state.robot_density > 0) & (employment > 0)
    return np.divide(1e4 * state.robot_stock, state.robot_density * employment, out=np.ones(len(state)),
                     where=known)


def installations(stock_now, stock_before, depreciation) -> np.ndarray:
    """Robots installed in the year: the net increase of the stock plus the robots retired."""
    return np.maximum(0.0, stock_now - stock_before) + depreciation * stock_before


@dataclass(frozen=True)
class Kinks:
    """The firms by country, and within it by their kink α_max/spread_i ascending (`start_automation`): fixed
    while the start is solved (locations and spreads do not change), so sorted once (`kinks`)."""

    spread: np.ndarray         # spread_i, firm by firm
    order: np.ndarray          # firm indices: country by country, kinks ascending (spread descending)
    bounds: np.ndarray         # country c's firms are order[bounds[c]:bounds[c + 1]]
    widest: np.ndarray         # max spread_i in c (0 where c has no firm)
    sorted_spread: np.ndarray  # spread_i in kink order


def kinks(loc, spread, n) -> Kinks:
    """`Kinks` of firms at `loc` (n countries) with automation spreads `spread`."""
    order = np.lexsort((-spread, loc))
    bounds = np.searchsorted(loc[order], np.arange(n + 1))
    first = np.minimum(bounds[:-1], max(len(order) - 1, 0))
    widest = np.where(bounds[1:] > bounds[:-1], spread[order[first]] if len(order) else 0.0, 0.0)
    return Kinks(spread, order, bounds, widest, spread[order])


def start_automation(firms, costs, state, par, kinked: Kinks) -> None:
    """Set α_i = min(α_max, ᾱ⁰_c·spread_i) with ᾱ⁰_c such that the model's robot stock in c equals the
    start year's `robot_stock`. Without the cap the stock is linear in ᾱ⁰_c and ᾱ⁰_c is exact; where the
    cap binds it is piecewise linear in ᾱ⁰_c, with a kink at each firm's b_i = α_max/spread_i::

        stock_c(ᾱ⁰_c) = ρ_R·(α_max·Σ_{c_i=c, b_i ≤ ᾱ⁰_c} U_i + ᾱ⁰_c·Σ_{c_i=c, b_i > ᾱ⁰_c} spread_i·U_i)

    and is solved exactly on the segment where it reaches the target (`_capped_level`; `kinked` from
    `kinks`, which also holds spread_i). A stock beyond what α_max allows leaves c at α_max."""
    n, loc, spread = len(state), firms.location, kinked.spread
    rho, alpha_max, target = par["robots_per_automated_output"], par["alpha_max"], state.robot_stock
    workers = manual_workers(firms, costs, state)
    linear = rho * country_sums(loc, spread * workers, n)
    level = np.divide(target, linear, out=np.zeros(n), where=linear > 0)
    capped = level * kinked.widest > alpha_max
    if capped.any():
        level = np.where(capped, _capped_level(workers, target / rho, alpha_max, kinked, capped), level)
    firms.automation = np.minimum(alpha_max, level[loc] * spread)


def _capped_level(workers, need, alpha_max, kinked: Kinks, which=None) -> np.ndarray:
    """ᾱ⁰_c with Σ_{i: c_i=c} min(α_max, ᾱ⁰_c·spread_i)·U_i = need_c for each country c in `which` (default:
    all; 0 elsewhere). Within c the firms are taken in the order of their kinks b_i (`kinked`); the sum at the
    k-th kink is α_max·(U of the kinks before it) + b_k·(spread·U of it and those after); on the first segment
    whose end reaches need_c, ᾱ⁰_c is linear (clipped to the segment against rounding). Where even the last
    kink falls short, ᾱ⁰_c is that kink (every firm at α_max). The sums run within each country's own slice,
    so a small country's are not differences of the world's."""
    order, bounds, n = kinked.order, kinked.bounds, len(kinked.widest)
    level = np.zeros(n)
    for c in (range(n) if which is None else np.flatnonzero(which)):   # countries, not firms
        idx, s = order[bounds[c]:bounds[c + 1]], kinked.sorted_spread[bounds[c]:bounds[c + 1]]
        if idx.size == 0:
            continue
        b = alpha_max / np.maximum(s, 1e-300)
        u = workers[idx]
        su = s * u
        u_before = np.cumsum(u) - u                              # Σ U of the kinks before
        su_from = np.cumsum(su[::-1])[::-1]                      # Σ spread·U of this kink and those after
        k = int(np.count_nonzero(alpha_max * u_before + b * su_from < need[c]))   # first kink that reaches it
        if k == idx.size:
            level[c] = b[-1]
        elif su_from[k] > 0:
            low = b[k - 1] if k > 0 else 0.0
            level[c] = min(max((need[c] - alpha_max * u_before[k]) / su_from[k], low), b[k])
    return level
