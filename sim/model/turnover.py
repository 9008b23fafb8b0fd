"""Entry and exit (step 7)."""

from __future__ import annotations

import numpy as np
from scipy import sparse


def market_price_levels(pi, uc_quality, loc, friction, n_countries):
    """P̄_m = Σ_i π_im · uc_i·F_{c,m}/q_i: the sales-weighted mean quality-adjusted landed price in m.

    q_i = q_{home_i} is the quality of the firm's headquarters country, calibrated at start so
    that the average firm of every country has r = 1 (`FactoryShiftModel._calibrate_quality`):
    a German firm that holds its share at a high cost is not loss-making for that cost alone.

    Computed as Σ_c F_{c,m} · Σ_{i∈c} (uc_i/q_i)·π_im; the inner sums are one sparse product
    (a countries × firms matrix with uc_i/q_i at (c_i, i)) with π, which reads π once.
    """
    n = len(loc)
    by_country = sparse.csc_matrix((uc_quality, loc, np.arange(n + 1)), shape=(n_countries, n)) @ pi   # C × M
    return (by_country * friction).sum(axis=0)


def relative_price(uc_quality, pi, loc, demand, output, friction, price_level, scratch=None):
    """r_i = Σ_m ω_im · (uc_i·F_{c,m}/q_i) / P̄_m: quality-adjusted landed price relative to its markets.

    With ω_im = π_im·D_m/Q_i this is r_i = uc_i/(q_i·Q_i) · Σ_m π_im·D_m·F_{c,m}/P̄_m. A firm
    without sales is compared with its home market only. `scratch` (optional) is a firms ×
    markets array to look the C × M factors up into.
    """
    inv = np.divide(1.0, price_level, out=np.zeros_like(price_level), where=price_level > 0)
    x = friction * (demand * inv)[None, :]                                    # C × M
    weighted = np.einsum("ij,ij->i", pi, np.take(x, loc, axis=0, out=scratch, mode="clip"))
    own = (np.diagonal(friction) * inv)[loc]          # F_{c,c}/P̄_c per country, looked up
    has_sales = output > 0
    return np.where(has_sales, uc_quality * weighted / np.where(has_sales, output, 1.0), uc_quality * own)


def update_losses(loss_years, rel_price, margin):
    """loss_i: r_i > 1 + μ. Consecutive loss years count up, and reset after a profitable year."""
    return np.where(rel_price > 1.0 + margin, loss_years + 1, 0)


def target_firm_count(n0, demand_now, demand_start, elasticity):
    """N*(t) = N0 · (Σ_m D_m(t) / Σ_m D_m(t0))^ε."""
    return int(round(n0 * (demand_now / demand_start) ** elasticity))


def entry_probabilities(share, entrant_cost, sharpness):
    """P(c) ∝ s_c · exp(−β_e·(ū_c/ū − 1)): entrants go where industry is and costs are low.

    ū_c is the quality-adjusted unit cost (uc/q_c) of a φ = 1 entrant with the country's
    average automation, ū the production-share-weighted mean of ū_c.
    """
    mean = share @ entrant_cost
    weight = share * np.exp(-sharpness * (entrant_cost / mean - 1.0))
    return weight / weight.sum()


def draw_categorical(prob, u):
    """Inverse-CDF draw of categories from uniforms `u` (vectorised, reproducible)."""
    cdf = np.cumsum(prob)
    return np.minimum(np.searchsorted(cdf, u * cdf[-1], side="right"), len(prob) - 1)


def lognormal_mean_one(sigma, z):
    """exp(σ·z − σ²/2): lognormal with mean 1 from standard normal draws z."""
    return np.exp(sigma * z - 0.5 * sigma ** 2)


def lognormal_mean_one_z(sigma, x):
    """The inverse of `lognormal_mean_one`: z = (ln x + σ²/2)/σ."""
    return (np.log(x) + 0.5 * sigma ** 2) / sigma
