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


def clear(firms, costs, state) -> LaborMarket:
    """Employment of this year's production, labor supply and tightness at this year's wage."""
    n = len(state)
    employed = employment(firms, costs, state)
    supply = labor_supply(state.working_age, state.workforce_share, state.labor_supply_boost)
    tight = np.divide(employed, supply, out=np.ones(n), where=supply > 0)
    return LaborMarket(employed, supply, tight, state.wage.copy())


def employment(firms, costs, state) -> np.ndarray:
    """Manufacturing employment per country (persons): E_c = Σ_{i∈c} Λ_i / h_yr,c (`Costs.hours`)."""
    hours = costs.hours(firms.automation, firms.productivity, firms.home, firms.location, firms.output)
    return country_sums(firms.location, hours, len(state)) / state.annual_hours


def labor_supply(working_age_millions, workforce_share, boost):
    """Manufacturing labor supply (persons): L_c = WA_c · 10⁶ · n_c · boost_c (WA_c in millions).

    n_c (`workforce_share`) is calibrated once so that tightness is 1 in the start year of
    the observed world; demographic change and the boost lever then move L_c.
    """
    return working_age_millions * 1e6 * workforce_share * boost


def next_wage(state, tightness, par):
    """The local-currency wage of next year::

        w̃_c(t+1) = w̃_c(t) · (1 + g_c + η·(T_c − 1) − η_WA·(WA_c(t+1)/WA_c(t) − 1))

    g_c the trend, η the response to the manufacturing labor market's tightness, η_WA the
    response to the working-age population's growth: a shrinking workforce is scarcer labor for
    every sector, manufacturing included (the demographic channel). The factor is bounded to
    [0.8, 1.25]: wages seldom fall or rise by more in a year, and an absurd parameter draw cannot
    make them negative.
    """
    growth = state.working_age_at(state.year + 1) / state.working_age - 1.0
    factor = (1.0 + state.wage_growth + par["wage_response"] * (tightness - 1.0)
              - par["demographic_wage_effect"] * growth)
    return state.wage_lcu * np.clip(factor, 0.8, 1.25)
