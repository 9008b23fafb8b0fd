"""Labor market and wages (step 4)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model.market import country_sums


@dataclass(frozen=True)
class LaborMarket:
    """This year's labor market per country (persons; tightness T_c = E_c/L_c; the wage w_c(t) paid)."""

    employment: np.ndarray
    supply: np.ndarray
    tightness: np.ndarray
    wage: np.ndarray


def clear(firms, costs, state, par) -> LaborMarket:
    """Hours worked by this year's production, employment, supply and tightness at this year's wage."""
    n = len(state)
    hours = labor_hours(firms.automation, firms.productivity, firms.location, costs.effectiveness,
                        state.productivity, par["hours_per_unit"], firms.output)
    employed = employment(hours, firms.location, par["annual_hours"], n)
    supply = labor_supply(state.working_age, state.labor_share, state.labor_supply_boost)
    tight = np.divide(employed, supply, out=np.ones(n), where=supply > 0)
    return LaborMarket(employed, supply, tight, state.wage.copy())


def labor_hours(alpha, phi, loc, eff, productivity, h_u, output):
    """Hours worked by each firm: Λ_i = (1 − α_i·e_c) · h_u · Q_i / (A_c · φ_i)."""
    loc = np.asarray(loc, dtype=np.intp)     # look-ups by intp are faster than by int8
    return (1.0 - alpha * eff.take(loc)) * (h_u / productivity).take(loc) * output / phi


def employment(hours, loc, annual_hours, n_countries):
    """Manufacturing employment per country (persons): E_c = Σ_{i∈c} Λ_i / h_yr."""
    return country_sums(loc, hours, n_countries) / annual_hours


def labor_supply(working_age_millions, labor_share, boost):
    """Manufacturing labor supply (persons): L_c = WA_c · 10⁶ · n_c · boost_c (WA_c in millions).

    n_c (`labor_share`) is calibrated once so that tightness is 1 in the start year
    with boost 1; demographic change and the boost lever then move L_c.
    """
    return working_age_millions * 1e6 * labor_share * boost


def next_wage(wage, wage_growth, tightness, eta):
    """w_c(t+1) = w_c(t) · (1 + g_c + η·(T_c − 1)), the factor bounded to [0.5, 1.5].

    The bound only stops an absurd parameter draw from making wages negative.
    """
    return wage * np.clip(1.0 + wage_growth + eta * (tightness - 1.0), 0.5, 1.5)
