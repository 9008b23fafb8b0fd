"""Costs (step 2), Eaton–Kortum / CES market allocation (step 3) and the price comparisons of the loss test.

Symbols (docs/ODD.md, table of symbols): i firm, c = c_i its location, m market, o origin country.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import sparse

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


@dataclass(frozen=True)
class Costs:
    """What producing costs in every country this year: the one input of every submodel that prices.

    Built once a year from the country state (`Costs.of`); the decisions of steps 5–7 use
    the same costs at next year's wage (`Costs.at_wage`).

    labor         ℓ_c = w_c·h_u/A_c, US$ of labor per unit of output at φ = 1, α = 0
    effectiveness e_c = e_max·R_c, share of an automated task's labor cost saved in c
    ai_running    κ(t), running AI cost per unit of output at full automation (US$/US$)
    ai_capex      X(t), AI capital per US$ of annual output at full automation (US$/(US$/yr))
    other         O_c, other costs per unit of output (US$/US$)
    friction      F_{o,m} = (1 + τ_{o→m})·d_{o,m}, origin × market
    friction_theta F^(−θ), the same table raised to −θ (computed once: a C × C power)
    """

    labor: np.ndarray
    effectiveness: np.ndarray
    ai_running: float
    ai_capex: float
    other: np.ndarray
    friction: np.ndarray
    friction_theta: np.ndarray
    hours_per_unit: float
    productivity: np.ndarray

    @classmethod
    def of(cls, state, par, years_since_start: int) -> Costs:
        """This year's costs from the country state `state` and the model parameters `par`."""
        friction = trade_factor(state.tariffs, state.regions, par["trade_cost_near"], par["trade_cost_far"])
        decline = (1 - par["ai_cost_decline"]) ** years_since_start
        return cls(labor=labor_cost_per_unit(state.wage, state.productivity, par["hours_per_unit"]),
                   effectiveness=effectiveness(par["e_max"], state.ai_readiness),
                   ai_running=par["ai_unit_cost"] * decline, ai_capex=par["ai_capex_per_output"] * decline,
                   other=state.other_cost, friction=friction, friction_theta=friction ** (-par["theta"]),
                   hours_per_unit=par["hours_per_unit"], productivity=state.productivity)

    def at_wage(self, wage: np.ndarray) -> Costs:
        """The same costs with labor priced at `wage` (decisions look ahead to next year's wage)."""
        return replace(self, labor=labor_cost_per_unit(wage, self.productivity, self.hours_per_unit))

    def unit_cost(self, alpha, phi, loc) -> np.ndarray:
        """uc_i of firms with automation α_i and productivity φ_i producing at `loc` (see `unit_cost`)."""
        return unit_cost(alpha, phi, loc, self.labor, self.effectiveness, self.ai_running, self.other)


def effectiveness(e_max: float, readiness: np.ndarray) -> np.ndarray:
    """e_c = e_max · R_c: the share of an automated task's labor cost actually saved in c."""
    return e_max * readiness


def labor_cost_per_unit(wage, productivity, h_u):
    """ℓ_c = w_c · h_u / A_c: labor cost per unit of output at φ = 1 and α = 0 (per country)."""
    return wage * h_u / productivity


def unit_cost(alpha, phi, loc, ell, eff, ai_running, other):
    """Unit cost of each firm at its location (step 2)::

        uc_i = (1 − α_i·e_c) · ℓ_c / φ_i  +  α_i · κ(t) / φ_i  +  O_c

    with ℓ_c = w_c·h_u/A_c the labor cost per unit, κ(t) the running AI cost per unit
    of output at full automation and O_c the other costs.
    """
    loc = np.asarray(loc, dtype=np.intp)     # look-ups by intp are faster than by int8
    return ((1.0 - alpha * eff.take(loc)) * ell.take(loc) + alpha * ai_running) / phi + other.take(loc)


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

        π*_im  = k_i · (uc_i·F_{c,m})^(−θ) / Σ_i' k_i' · (uc_i'·F_{c_i',m})^(−θ),   F_{c,m} = (1 + τ_{c→m}) · d_{c,m}

    Because (uc_i·F_{c,m})^(−θ) = uc_i^(−θ) · F_{c,m}^(−θ), the sum over firms is a per-country sum
    times F^(−θ), and no power is taken over the firms × markets matrix:
    π*_im = g_i · (F_{c,m}^(−θ) / denominator_m), the bracket a C × M table looked up by
    the firm's location.
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
    S_c(K) = Σ_m D_m · K_c·G_c·F_{c,m}^(−θ) / Σ_o K_o·G_o·F_{o,m}^(−θ) / Σ_m D_m,  G_c = Σ_{i∈c} k̃_i·uc_i^(−θ).
    The fixed point K_c ← K_c · target_c / S_c(K) plays the role of the Eaton–Kortum technology level.
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


def market_price_levels(pi, uc_quality, loc, friction, n_countries):
    """P̄_m = Σ_i π_im · uc_i·F_{c,m}/ξ_i: the sales-weighted mean quality-adjusted landed price in m.

    ξ_i = ξ_{home_i} is the quality of the firm's headquarters country, calibrated at start so
    that the average firm of every country has r = 1 (`setup.calibrate_quality`):
    a German firm that holds its share at a high cost is not loss-making for that cost alone.

    Computed as Σ_c F_{c,m} · Σ_{i∈c} (uc_i/ξ_i)·π_im; the inner sums are one sparse product
    (a countries × firms matrix with uc_i/ξ_i at (c_i, i)) with π, which reads π once.
    """
    n = len(loc)
    by_country = sparse.csc_matrix((uc_quality, loc, np.arange(n + 1)), shape=(n_countries, n)) @ pi   # C × M
    return (by_country * friction).sum(axis=0)


def relative_price(uc_quality, pi, loc, demand, output, friction, price_level, scratch=None):
    """r_i = Σ_m ω_im · (uc_i·F_{c,m}/ξ_i) / P̄_m: quality-adjusted landed price relative to its markets.

    With ω_im = π_im·D_m/Q_i this is r_i = uc_i/(ξ_i·Q_i) · Σ_m π_im·D_m·F_{c,m}/P̄_m. A firm
    without sales is compared with the market of its location c only (F_{c,c}/P̄_c). `scratch` (optional) is a firms ×
    markets array to look the C × M factors up into.
    """
    inv = np.divide(1.0, price_level, out=np.zeros_like(price_level), where=price_level > 0)
    x = friction * (demand * inv)[None, :]                                    # C × M
    weighted = np.einsum("ij,ij->i", pi, np.take(x, loc, axis=0, out=scratch, mode="clip"))
    own = (np.diagonal(friction) * inv)[loc]          # F_{c,c}/P̄_c per country, looked up
    has_sales = output > 0
    return np.where(has_sales, uc_quality * weighted / np.where(has_sales, output, 1.0), uc_quality * own)


def relative_prices(firms, uc, quality, friction, demand) -> np.ndarray:
    """r_i of every firm at this year's unit costs `uc` and headquarters qualities ξ (`relative_price`)."""
    uc_q = uc / quality[firms.home]
    level = market_price_levels(firms.pi, uc_q, firms.location, friction, len(quality))
    return relative_price(uc_q, firms.pi, firms.location, demand, firms.output, friction, level,
                          scratch=firms.scratch())


def allocate(firms, uc, costs, demand, par) -> None:
    """Step 3: market shares move towards the target (`adjust`); output Q_i = Σ_m π_im·D_m."""
    g = allocation_weights(firms.capacity, uc, par["theta"])
    adjust(firms.pi, g, firms.location, costs.friction_theta, par["adjustment_speed"], len(demand),
           scratch=firms.scratch())
    firms.output = firms.pi @ demand
