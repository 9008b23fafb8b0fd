"""Costs (step 2), Eaton–Kortum / CES market allocation (step 3) and the price comparisons of the loss test.

Symbols (docs/ODD.md, table of symbols): i firm, h = h_i its headquarters, c = c_i its location,
m market, o origin. A firm's costs belong to its location and its technology partly to its
headquarters; its market access (brand) belongs to its headquarters. Firms are therefore grouped
by their (headquarters, location) **pair**, index h·C + c: every per-firm quantity that depends on
countries is a C² × C table looked up by the pair, and no power is taken over firms × markets.
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
    """What producing costs, where, and what it costs to sell from there: one object per year.

    Built from the country state and the parameters (`Costs.of`); the decisions of steps 5–7
    use the same costs at next year's wage (`Costs.at_wage`). C × C tables are indexed
    [headquarters h, location c]; C² × C tables [pair h·C + c, market m].

    technology     A_hc = A_h^ζ·A_c^(1−ζ), labor productivity of a firm from h producing in c (C × C)
    labor          ℓ_hc = w_c·h_u / A_hc, US$ of labor per unit at φ = 1, α = 0 (C × C)
    effectiveness  e_c = e_max·R_c, share of an automated task's labor cost saved in c
    capital        r_h, non-labor value added per unit at φ = 1 of firms headquartered in h: capital and
                   its return, which belong to the firm (US$ per US$ of value added)
    ai_running     κ(t), running AI cost per unit of output at full automation
    ai_capex       X(t), AI capital per US$ of annual output at full automation
    friction       F_cm = (1 + τ_{c→m})·d_cm, physical trade cost and tariff from where goods are made (C × C)
    mp             γ_hc, the multinational-production penalty (1 at home) (C × C)
    price_factor   W_{hc,m} = γ_hc·F_cm / B_hm, B_hm = 1 + β_B·[h = m] the brand's home bias (C² × C)
    weight         W^(−θ) (C² × C)
    """

    technology: np.ndarray
    labor: np.ndarray
    effectiveness: np.ndarray
    capital: np.ndarray
    ai_running: float
    ai_capex: float
    friction: np.ndarray
    mp: np.ndarray
    price_factor: np.ndarray
    weight: np.ndarray
    hours_per_unit: float

    @classmethod
    def of(cls, state, par, years_since_start: int) -> Costs:
        """This year's costs from the country state `state` and the model parameters `par`."""
        n, same_region = len(state), state.same_region
        friction = trade_factor(state.tariffs, same_region, par["trade_cost_near"], par["trade_cost_far"])
        mp = np.where(same_region, par["mp_penalty_near"], par["mp_penalty_far"])
        np.fill_diagonal(mp, 1.0)
        brand = 1.0 + par["brand_home_bias"] * np.eye(n)                          # B_hm
        price_factor = (mp[:, :, None] * friction[None, :, :] / brand[:, None, :]).reshape(n * n, n)
        decline = (1 - par["ai_cost_decline"]) ** years_since_start
        technology = technology_table(state.productivity, par["technology_portability"])
        return cls(technology=technology, labor=state.wage[None, :] * par["hours_per_unit"] / technology,
                   effectiveness=par["e_max"] * state.ai_readiness, capital=state.capital_cost,
                   ai_running=par["ai_unit_cost"] * decline, ai_capex=par["ai_capex_per_output"] * decline,
                   friction=friction, mp=mp, price_factor=price_factor, weight=price_factor ** (-par["theta"]),
                   hours_per_unit=par["hours_per_unit"])

    def at_wage(self, wage: np.ndarray) -> Costs:
        """The same costs with labor priced at `wage` (decisions look ahead to next year's wage)."""
        return replace(self, labor=wage[None, :] * self.hours_per_unit / self.technology)

    @property
    def n(self) -> int:
        return len(self.capital)

    def unit_cost(self, alpha, phi, home, loc) -> np.ndarray:
        """uc of firms with automation α, productivity φ and headquarters `home` producing at `loc`::

            uc_i = ((1 − α_i·e_c)·ℓ_hc + α_i·κ(t)) / φ_i + r_h

        with r_h the non-labor value added of the firm's headquarters: φ_i is the efficiency of
        the firm's tasks, done by workers or by AI, and its capital stands apart. Output is value
        added: labor, AI capital and other capital, no materials.
        """
        loc = np.asarray(loc, dtype=np.intp)     # look-ups by intp are faster than by int8
        home = np.asarray(home, dtype=np.intp)
        ell = self.labor.take(home * self.n + loc)
        return ((1.0 - alpha * self.effectiveness.take(loc)) * ell + alpha * self.ai_running) / phi \
            + self.capital.take(home)

    def hours(self, alpha, phi, home, loc, output) -> np.ndarray:
        """Λ_i = (1 − α_i·e_c)·h_u·Q_i / (A_hc·φ_i): hours worked by each firm (`task_hours` / A_hc·φ_i)."""
        return self.task_hours(alpha, loc, output) / (self.technology.take(pair_index(home, loc, self.n)) * phi)

    def task_hours(self, alpha, loc, output) -> np.ndarray:
        """(1 − α_i·e_c)·h_u·Q_i: the hours of the tasks a firm's workers do, at A_hc·φ_i = 1."""
        return (1.0 - alpha * self.effectiveness.take(np.asarray(loc, dtype=np.intp))) * (self.hours_per_unit * output)


def technology_table(productivity, zeta):
    """A_hc = A_h^ζ · A_c^(1−ζ): labor productivity of a firm from h producing in c (C × C)."""
    return (productivity ** zeta)[:, None] * (productivity ** (1.0 - zeta))[None, :]


def trade_factor(tariffs, same_region, near: float, far: float) -> np.ndarray:
    """F_om = (1 + τ_{o→m}) · d_om for every origin o and market m (C × C)::

        d_om = 1 if o = m, `near` inside a region, `far` across regions.
    """
    d = np.where(same_region, near, far)
    np.fill_diagonal(d, 1.0)
    return (1.0 + tariffs) * d


def pair_index(home, loc, n_countries) -> np.ndarray:
    """h·C + c for every firm: the row of its (headquarters, location) pair in the C² × C tables."""
    return np.asarray(home, dtype=np.intp) * n_countries + np.asarray(loc, dtype=np.intp)


def allocation_weights(capacity, uc, theta):
    """g_i = k_i · uc_i^(−θ): firm i's weight in every market before trade frictions and brand."""
    return capacity * uc ** (-theta)


def target_shares(g, pair, weight, scale=1.0, out=None, den=None):
    """Target market shares π*_im (step 3), times `scale` (into `out` if given; `den` the denominators if
    already known)::

        p_im   = uc_i · γ_hc · (1 + τ_{c→m}) · d_cm / B_hm
        π*_im  = k_i · p_im^(−θ) / Σ_i' k_i' · p_i'm^(−θ)

    Because p_im^(−θ) = uc_i^(−θ)·W_{hc,m}^(−θ), the sum over firms is a per-pair sum times
    W^(−θ) and no power is taken over the firms × markets matrix: π*_im = g_i·(W^(−θ)_{pair,m} /
    denominator_m), the bracket a C² × M table looked up by the firm's pair.
    """
    den = denominators(g, pair, weight) if den is None else den
    out = np.take(scale * weight / den, pair, axis=0, out=out, mode="clip")  # firms × M
    out *= g[:, None]
    return out


def denominators(g, pair, weight):
    """Den_m = Σ_i g_i·W_{pair_i,m}^(−θ), the CES denominator of every market (M,): a per-pair sum of the
    weights g times W^(−θ)."""
    return country_sums(pair, g, len(weight)) @ weight


def adjust(pi, g, pair, weight, chi, den, scratch=None):
    """Partial adjustment towards the target, in place: π_t = π_{t−1} + χ·(π*_t − π_{t−1}),
    computed as (1 − χ)·π_{t−1} + χ·π*_t with π* from `target_shares(g, …)` (`den` its denominators).

    A market whose suppliers all exited last year (no shares left) jumps to π*.
    `scratch` (optional) is a firms × markets array to compute χ·π* in.
    """
    empty = empty_markets(pi)
    pi *= 1.0 - chi
    pi += target_shares(g, pair, weight, scale=chi, out=scratch, den=den)
    if empty.any():
        pi[:, empty] = target_shares(g, pair, weight, den=den)[:, empty]
    return pi


def empty_markets(pi):
    """The markets without shares left (Σ_i π_im = 0; shares are never negative). Nearly every firm sells in
    every market, so a market where the first firm has a share is not empty and only the others are summed."""
    if len(pi) == 0:
        return np.ones(pi.shape[1], dtype=bool)
    empty = pi[0] == 0
    empty[empty] = column_sums(pi[:, empty]) == 0
    return empty


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


def calibrate_capacity(g_unit, pair, weight, demand, target, group_of_pair, initial=None, tol=1e-13,
                       max_iter=10_000):
    """Capacity scale K_g of every group g of firms such that start-year production shares equal `target`.

    A group is a set of (headquarters, location) pairs (`group_of_pair`, C² entries): the start uses
    two per location c, the firms of c's own headquarters and the foreign-owned ones
    (`ownership_groups`). With k_i = K_g·k̃_i for the firms of g and G_hc = Σ_{i∈(h,c)} k̃_i·uc_i^(−θ),
    the share of group g is S_g(K) = Σ_m D_m · K_g·Σ_{(h,c)∈g} G_hc·W_{hc,m}^(−θ) / Σ_g' K_g'·(…) / Σ_m D_m.
    Each K_g scales only its own group, and the root of f(x) = log(target/S(K)), x = log K, is found
    from `initial` (e.g. the last solution) by `secant_step` (the plain step K ← K·target/S(K) crawls
    when home bias is strong). K is returned scaled to max K_g = 1. K_g plays the role of the
    Eaton–Kortum technology level at the start; a firm keeps its capacity wherever it later produces,
    and entrants headquartered in h draw theirs with the K of h's own firms (a property of where they
    come from, not of where they go).
    """
    by_pair = country_sums(pair, g_unit, len(group_of_pair))[:, None] * weight                   # C² × M
    by_group = np.zeros((len(target), weight.shape[1]))
    np.add.at(by_group, group_of_pair, by_pair)
    active = (target > 0) & (by_group.sum(axis=1) > 0)
    known = active if initial is None else active & (initial > 0)     # a group new since `initial` starts at 1
    x = np.log(np.where(known, 1.0 if initial is None else initial, 1.0))
    last = None
    for _ in range(max_iter):
        scale = np.where(active, np.exp(x - x[active].max()), 0.0)
        spend = scale[:, None] * by_group
        share = (spend / spend.sum(axis=0)) @ demand / demand.sum()
        if np.max(np.abs(share - target)) < tol:
            break
        # a share that underflowed to 0 must pull its scale up, not trap it at 0
        f = np.where(active, np.log(np.where(active, target, 1.0) / np.maximum(share, 1e-300)), 0.0)
        step = secant_step(x, f, last)
        last = (x, f)
        x = x + step
    return scale


def ownership_groups(pair, foreign_share, n):
    """The start's capacity groups: g = c for the firms of c's own headquarters producing at c, g = C + c for
    the foreign-owned firms at c. Returns `group_of_pair` (C², pair h·C + c → its group; a firm's group is
    group_of_pair[pair_i]) and the target share of each group: S_c·(1 − f_c) and S_c·f_c with f_c the
    foreign-owned share of c's output (`foreign_share`, 0 where no foreign-owned firm produces at c), given
    S_c = 1 (scaled by the caller)."""
    h, c = np.divmod(np.arange(n * n), n)
    group_of_pair = c + n * (h != c)
    firms_in = np.bincount(group_of_pair[pair], minlength=2 * n)
    f = np.where(firms_in[n:] > 0, foreign_share, 0.0)
    return group_of_pair, np.concatenate([1.0 - f, f])


def secant_step(x: np.ndarray, g: np.ndarray, last) -> np.ndarray:
    """One step in x (a log scale) towards g(x) = 0, country by country, where the plain step is Δx = g.

    Used for the start's qualities (x = log ξ, g = log r̄) and capacity scales (x = log K,
    g = log target/share). The plain step assumes ∂g/∂x = −1; with strong home bias a
    country's own firms make up most of its market, the slope is much flatter and the plain
    iteration crawls. The secant slope s = Δg/Δx of the last two passes gives Δx = −g/s,
    used where it is a descent step (s < 0), at most 20 plain steps long and, where that is
    more than the plain step, at most 0.5 in x (so a poor slope cannot throw it far off).
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


def market_price_levels(pi, uc, pair, price_factor):
    """P̄_m = Σ_i π_im · uc_i·W_{hc,m}: the sales-weighted mean delivered unit cost in m.

    The firm's quality ξ_h enters its own relative price (`relative_price`), not the level it is
    compared with: with ξ inside P̄, a shift of m's sales towards the firms of a high-ξ
    headquarters lowered P̄_m by composition alone, and whole headquarters populations became
    loss-making together (docs/ODD.md 7.7, change (f)).

    Computed as Σ_pair W_{pair,m} · Σ_{i∈pair} uc_i·π_im; the inner sums are one sparse product
    (a pairs × firms matrix with uc_i at (pair_i, i)) with π, which reads π once.
    """
    by_pair = row_sums_matrix(pair, uc, len(price_factor)) @ pi
    return (by_pair * price_factor).sum(axis=0)


def row_sums_matrix(rows, values, n_rows):
    """The n_rows × firms sparse matrix with values_i at (rows_i, i). Its product with a firms × markets matrix
    X is Σ_{i: rows_i = r} values_i·X_im for every r and m, added firm by firm, and reads X once, row by row.
    (32-bit indices, which scipy would otherwise convert to: populations stay far below 2³¹ firms.)"""
    n = len(rows)
    return sparse.csc_matrix((values, np.asarray(rows, dtype=np.int32), np.arange(n + 1, dtype=np.int32)),
                             shape=(n_rows, n))


def relative_price(uc_quality, pi, pair, home, demand, output, price_factor, price_level, scratch=None):
    """r_i = Σ_m ω_im · (uc_i·W_{hc,m}/ξ_h) / P̄_m: quality-adjusted price relative to its markets.

    With ω_im = π_im·D_m/Q_i this is r_i = uc_i/(ξ_h·Q_i) · Σ_m π_im·D_m·W_{hc,m}/P̄_m. A firm
    without sales is compared with its headquarters' market only. `scratch` (optional) is a
    firms × markets array to look the C² × M factors up into.
    """
    inv = np.divide(1.0, price_level, out=np.zeros_like(price_level), where=price_level > 0)
    x = price_factor * (demand * inv)[None, :]                                # C² × M
    weighted = np.einsum("ij,ij->i", pi, np.take(x, pair, axis=0, out=scratch, mode="clip"))
    home = np.asarray(home, dtype=np.intp)
    own = price_factor[pair, home] * inv[home]
    has_sales = output > 0
    return np.where(has_sales, uc_quality * weighted / np.where(has_sales, output, 1.0), uc_quality * own)


def relative_prices(firms, uc, quality, costs, demand, level=None) -> tuple[np.ndarray, np.ndarray]:
    """r_i of every firm at this year's unit costs `uc` and headquarters qualities ξ (`relative_price`),
    against the price levels `level` (default: this year's, `market_price_levels`); returns r and the levels."""
    pair = pair_index(firms.home, firms.location, costs.n)
    uc_q = uc / quality[firms.home]
    if level is None:
        level = market_price_levels(firms.pi, uc, pair, costs.price_factor)
    return relative_price(uc_q, firms.pi, pair, firms.home, demand, firms.output, costs.price_factor, level,
                          scratch=firms.scratch()), level


def revalue(pi, uc, last_uc, upsilon):
    """Last year's shares at this year's producer prices, in place::

        π̂_im = π_im(t−1)·(uc_i(t)/uc_i(t−1))^υ / Σ_i' π_i'm(t−1)·(uc_i'(t)/uc_i'(t−1))^υ

    υ = 1: last year's volumes carry over, so a firm whose costs (and price) rose 10% sells 10% more
    in US$ before any buyer switches; υ = 0: last year's expenditure shares carry over. Only the
    producer's own cost counts: a tariff or trade cost raises what buyers pay, not what the producer
    earns. A firm that moved is revalued at its new location's costs.
    """
    if upsilon == 0 or len(pi) == 0:
        return pi
    pi *= ((uc / last_uc) ** upsilon)[:, None]
    return normalise_columns(pi)


def allocate(firms, uc, costs, demand, par) -> np.ndarray:
    """Step 3: last year's shares at this year's prices (`revalue`) move towards the target (`adjust`);
    output Q_i = Σ_m π_im·D_m. Returns the markets' denominators Den_m (`denominators`), which market
    access is computed from."""
    revalue(firms.pi, uc, firms.unit_cost, par["volume_inertia"])
    firms.unit_cost = uc.copy()
    g = allocation_weights(firms.capacity, uc, par["theta"])
    pair = pair_index(firms.home, firms.location, costs.n)
    den = denominators(g, pair, costs.weight)
    adjust(firms.pi, g, pair, costs.weight, par["adjustment_speed"], den, scratch=firms.scratch())
    firms.output = firms.pi @ demand
    return den
