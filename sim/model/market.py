"""Unit costs (step 2) and Eaton–Kortum / CES market allocation (step 3).

Symbols: i firm, c = c_i its location, m market, o origin country.
"""

from __future__ import annotations

import numpy as np

#: Partial sums per country in `country_sums`.
LANES = 4
_LANE_OFFSETS: dict[int, np.ndarray] = {}


def country_sums(loc, weights, n_countries):
    """Σ_{i: c_i = c} weights_i for every country c (what ``np.bincount(loc, weights)`` returns).

    Firms of one country mostly sit next to each other in the arrays, so a plain bincount
    adds into the same bin over and over and each addition waits for the previous one.
    Spreading consecutive firms over `LANES` copies of the bins and adding the copies up at
    the end makes it about twice as fast; the sums are the same up to the order of additions.
    """
    n = len(loc)
    offsets = _LANE_OFFSETS.get(n_countries)
    if offsets is None or len(offsets) < n:     # firm i goes to copy i mod LANES (room to grow)
        offsets = _LANE_OFFSETS[n_countries] = n_countries * (np.arange(max(n, 1024) * 5 // 4) % LANES)
    lanes = np.bincount(offsets[:n] + loc, weights, minlength=LANES * n_countries)
    return lanes.reshape(LANES, n_countries).sum(axis=0)


def effectiveness(e_max: float, readiness: np.ndarray) -> np.ndarray:
    """e_c = e_max · r_c: the share of an automated task's labor cost actually saved in c."""
    return e_max * readiness


def labor_cost_per_unit(wage, productivity, h):
    """ℓ_c = w_c · h / A_c: labor cost per unit of output at φ = 1 and α = 0 (per country)."""
    return wage * h / productivity


def unit_cost(alpha, phi, loc, ell, eff, ai_cost, other_cost):
    """Unit cost of each firm at its location (step 2)::

        uc_i = (1 − α_i·e_c) · ℓ_c / φ_i  +  α_i · κ(t) / φ_i  +  o_c

    with ℓ_c = w_c·h/A_c the labor cost per unit, κ(t) the running AI cost per unit
    of output at full automation and o_c the other costs.
    """
    loc = np.asarray(loc, dtype=np.intp)     # look-ups by intp are faster than by int8
    return ((1.0 - alpha * eff.take(loc)) * ell.take(loc) + alpha * ai_cost) / phi + other_cost.take(loc)


def trade_factor(tariffs, regions, near: float, far: float) -> np.ndarray:
    """(1 + τ_{o→m}) · d_{o,m} for every origin o and market m (C × C)::

        d_{o,m} = 1 if o = m, `near` inside a region, `far` across regions.
    """
    regions = np.asarray(regions)
    d = np.where(regions[:, None] == regions[None, :], near, far)
    np.fill_diagonal(d, 1.0)
    return (1.0 + tariffs) * d


def allocation_weights(capacity, uc, theta):
    """g_i = k_i · uc_i^(−θ): firm i's weight in every market before trade frictions."""
    return capacity * uc ** (-theta)


def target_shares(g, loc, friction_theta, n_countries, scale=1.0, out=None):
    """Target market shares π*_im (step 3), times `scale` (into `out` if given)::

        p_im   = uc_i · (1 + τ_{c→m}) · d_{c,m}
        π*_im  = k_i · p_im^(−θ) / Σ_j k_j · p_jm^(−θ)

    Because p_im^(−θ) = uc_i^(−θ) · T_{c,m} with T = ((1+τ)·d)^(−θ), the sum over
    firms is a per-country sum times T, and no power is taken over the firms × markets
    matrix: π*_im = g_i · (T_{c,m} / denominator_m), the bracket a C × M table looked up
    by the firm's location.
    """
    denominator = country_sums(loc, g, n_countries) @ friction_theta           # (M,)
    out = np.take(scale * friction_theta / denominator, loc, axis=0, out=out, mode="clip")  # firms × M
    out *= g[:, None]
    return out


def adjust(pi, g, loc, friction_theta, chi, n_countries, scratch=None):
    """Partial adjustment towards the target, in place: π_t = π_{t−1} + χ·(π*_t − π_{t−1}),
    computed as (1 − χ)·π_{t−1} + χ·π*_t with π* from `target_shares(g, …)`.

    A market whose suppliers all exited last year (no shares left) jumps to π*.
    `scratch` (optional) is a firms × markets array to compute χ·π* in.
    """
    empty = column_sums(pi) == 0
    pi *= 1.0 - chi
    pi += target_shares(g, loc, friction_theta, n_countries, scale=chi, out=scratch)
    if empty.any():
        pi[:, empty] = target_shares(g, loc, friction_theta, n_countries)[:, empty]
    return pi


def column_sums(pi):
    """Σ_i π_im per market, the same sums as ``pi.sum(axis=0)`` (einsum's loop is several times faster
    on a tall, narrow matrix)."""
    return np.einsum("im->m", pi)


def normalise_columns(pi):
    """Rescale each market's shares to sum to 1 (after exits removed some)."""
    total = column_sums(pi)
    total[total == 0] = 1.0
    pi /= total
    return pi


def calibrate_capacity(g_unit, loc, friction_theta, demand, target, n_countries, tol=1e-13, max_iter=10_000):
    """Country capacity scale K_c such that start-year production shares equal `target`.

    With k_i = K_c·k̃_i, the share of country c is
    s_c(K) = Σ_m D_m · K_c·S_c·T_{c,m} / Σ_o K_o·S_o·T_{o,m} / Σ_m D_m,  S_c = Σ_{i∈c} k̃_i·uc_i^(−θ).
    The fixed point K_c ← K_c · target_c / s_c(K) is the Eaton–Kortum "technology" T_c.
    """
    s_unit = np.bincount(loc, g_unit, minlength=n_countries)
    scale = np.where((target > 0) & (s_unit > 0), 1.0, 0.0)
    for _ in range(max_iter):
        weight = (scale * s_unit)[:, None] * friction_theta  # C × M
        share = (weight / weight.sum(axis=0)) @ demand / demand.sum()
        ratio = np.divide(target, share, out=np.zeros_like(target), where=share > 0)
        scale *= ratio
        scale /= scale.max()
        if np.max(np.abs(share - target)) < tol:
            break
    return scale
