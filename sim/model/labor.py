"""Labor market and wages (step 4)."""

from __future__ import annotations

import numpy as np

from sim.model.market import country_sums


def labor_hours(alpha, phi, loc, eff, productivity, h, output):
    """Hours worked by each firm: H_i = (1 − α_i·e_c) · h · Q_i / (A_c · φ_i)."""
    loc = np.asarray(loc, dtype=np.intp)     # look-ups by intp are faster than by int8
    return (1.0 - alpha * eff.take(loc)) * (h / productivity).take(loc) * output / phi


def employment(hours, loc, annual_hours, n_countries):
    """Manufacturing employment per country (persons): E_c = Σ_{i∈c} H_i / annual_hours."""
    return country_sums(loc, hours, n_countries) / annual_hours


def labor_supply(working_age_millions, labor_share, boost):
    """Manufacturing labor supply (persons): L_c = working_age_c · s_c · boost_c.

    s_c (`labor_share`) is calibrated once so that tightness is 1 in the start year
    with boost 1; demographic change and the boost lever then move L_c.
    """
    return working_age_millions * 1e6 * labor_share * boost


def next_wage(wage, wage_growth, tightness, eta):
    """w_c(t+1) = w_c(t) · (1 + g_c + η·(tightness_c − 1)), the factor bounded to [0.5, 1.5].

    The bound only stops an absurd parameter draw from making wages negative.
    """
    return wage * np.clip(1.0 + wage_growth + eta * (tightness - 1.0), 0.5, 1.5)
