"""Location choice: where reviewing firms produce (step 6) and where entrants set up (step 7b).

One rule serves both, and it is the market allocation's own notion of profit. A firm from h
producing at j with unit cost uc_hj earns, in the Eaton–Kortum / CES allocation of step 3, sales
of g·Σ_m D_m·W_{hj,m}^(−θ)/Den_m with g = k·uc_hj^(−θ): its expected profit at j relative to
where it is (`location_values`) combines its unit cost there (wages, technology, automation,
capital), the multinational-production penalty, tariffs and the distance to every market,
weighted by the markets' size. It picks j by a logit over those values and moves only if the pick
is worth more than staying. No residual of the start-year calibration that is tied to a location
decides: a firm's capacity and quality are its own wherever it produces; what a location offers is
observed — its wage, its labor productivity (set from employment), its tariffs, its distance to the
markets and their size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model.draws import categorical

#: Kinds of a move by a firm headquartered in h from origin o to destination d (flows.csv `kind`).
KINDS = ("reshoring", "nearshoring", "offshoring", "third_country")


def move_kind(home, origin, dest, same_region) -> np.ndarray:
    """0 reshoring (d = h), 1 nearshoring (d ≠ h in h's region), 2 offshoring (d outside h's region,
    from h or its region), 3 third_country (between two locations outside h's region, e.g. China+1)."""
    near_dest = same_region[home, dest]
    near_origin = same_region[home, origin]
    return np.select([dest == home, near_dest, near_origin], [0, 1, 2], default=3)


@dataclass
class RelocationResult:
    movers: np.ndarray           # indices of firms that move
    destination: np.ndarray      # their new location
    flows: np.ndarray            # C × C counts, origin × destination
    incentive_spent: np.ndarray  # US$ per destination country
    moves: np.ndarray            # per move: h·C² + o·C + d (see `Recorder.flows`)
    room: np.ndarray             # jobs each country can still take in this year (entrants from abroad use it)

    @classmethod
    def nobody(cls, n_countries: int, room=None) -> RelocationResult:
        """No move (the start year, or a year without reviewers)."""
        none = np.zeros(0, dtype=np.intp)
        return cls(none, none.astype(np.int8), np.zeros((n_countries, n_countries), int), np.zeros(n_countries),
                   none, np.zeros(n_countries) if room is None else room)

    def apply(self, firms) -> None:
        """The movers produce at their destination from next year on."""
        firms.location[self.movers] = self.destination


def market_access(costs, demand, den) -> np.ndarray:
    """MA_hj = Σ_m D_m·W_{hj,m}^(−θ) / Den_m: the sales a unit weight g earns from (h, j) at this year's
    competition, Den_m = Σ_i g_i·W_{pair_i,m}^(−θ) the allocation's denominators (`market.denominators`, as
    `market.allocate` returns them; h × j, C × C)."""
    n = costs.n
    share = np.divide(demand, den, out=np.zeros_like(demand), where=den > 0)
    return (costs.weight @ share).reshape(n, n)


def location_values(costs, state, par, home, cur, alpha, access, phi=1.0, incentive=True):
    """V_j for deciders (columns) and every candidate location j (rows), C × n::

        uc_hj   = ((1 − α·e_j)·ℓ_hj + α·κ(t))/φ + r_h
        Π_j/Π_cur = (uc_hj/uc_h,cur)^(−θ) · MA_hj/MA_h,cur                expected profit, relative
        V_j     = H_r·ln(Π_j/Π_cur)/θ − M·(1 − I_j·elig_hj)·[j ≠ cur]
                = H_r·(−ln(uc_hj/uc_h,cur) + ln(MA_hj/MA_h,cur)/θ) − M·(…)

    ln(Π_j/Π_cur)/θ is the profit gain in its cost equivalent: the relative cost cut that would
    earn it at the current location (for a small cut x it is x), H_r years of it weighed against
    the move cost M. The location choice is a conditional logit in log profit (Head & Mayer 2004;
    Head, Ries & Swenson 1995): with the profit ratio itself, (Π_j/Π_cur − 1)/θ, a 30% cheaper
    location is worth 0.7^(−θ) ≈ 17 times the profit at θ = 8, and every reviewing firm of a
    high-wage country would leave whatever it pays to move. `alpha` is the
    deciders' automation (n,) or, for entrants, a C × n table (the automation they would have at
    each j); `access` the MA table of `market_access`. elig_hj = 1 unless j limits its incentive to
    firms headquartered there; with `incentive` false (entrants: the reshoring incentive pays firms
    that move) I_j = 0. The firm's capacity k scales every Π_j alike and drops out; its productivity φ
    does not (r_h is not divided by φ), so reviewers use their own φ and entrants, not yet drawn, φ = 1.
    """
    n, theta = costs.n, par["theta"]
    alpha = np.asarray(alpha)
    alpha = alpha[None, :] if alpha.ndim == 1 else alpha
    # what depends on countries only is a table over j and (h) or (h, cur), looked up by the deciders' columns
    # (C × n arrays are updated in place: a fresh one for every operation costs more than the arithmetic)
    ell = np.ascontiguousarray(costs.labor.T).take(home, axis=1)                    # ℓ_hj, C × n
    uc = np.multiply(alpha, costs.effectiveness[:, None])
    np.subtract(1.0, uc, out=uc)
    uc *= ell
    uc += alpha * costs.ai_running
    uc /= phi
    uc += costs.capital[home][None, :]                       # uc_hj
    cols = np.arange(len(home))
    ratio = np.divide(uc, uc[cur, cols], out=uc)             # uc_hj/uc_h,cur
    with np.errstate(divide="ignore"):
        value = reach_gains(access, theta).take(home * n + cur, axis=1)              # ln(MA_hj/MA_h,cur)/θ
        value -= np.log(ratio, out=ratio)
    value *= par["relocation_horizon"]
    value -= move_fees(state, par, incentive).take(home, axis=1)
    value[cur, cols] = 0.0
    return value


def reach_gains(access, theta) -> np.ndarray:
    """ln(MA_hj/MA_hc)/θ for every location j (rows) and pair (h, c) (columns h·C + c), C × C²: the market
    access term of `location_values` for a firm from h producing at c. No access at j: ln 0 = −∞, never
    chosen; none at c: no gain anywhere (0 for every j)."""
    n = len(access)
    here = access.reshape(n * n, 1)                                      # MA_hc
    there = np.repeat(access, n, axis=0)                                 # MA_hj in row h·C + c
    reach = np.divide(there, here, out=np.zeros_like(there), where=here > 0)
    with np.errstate(divide="ignore"):
        return np.ascontiguousarray((np.log(reach) / theta).T)


def move_fees(state, par, incentive=True) -> np.ndarray:
    """M·(1 − I_j·elig_hj) for every location j (rows) and headquarters h (columns), C × C: the cost of a
    move to j, net of j's reshoring incentive where a firm from h qualifies (`location_values`)."""
    n = len(state)
    j, h = np.arange(n)[:, None], np.arange(n)[None, :]
    qualifies = incentive & (~state.reshoring_home_only[:, None] | (h == j))
    return par["relocation_cost"] * np.where(qualifies, 1.0 - state.reshoring_incentive[:, None], 1.0)


def logit_weights(value, beta) -> np.ndarray:
    """exp(β_r·V_j) per column of `value` (countries × deciders), shifted by the column's best so it cannot
    overflow."""
    weight = value - value.max(axis=0)
    weight *= beta
    return np.exp(weight, out=weight)


def choose(value, cur, u, beta) -> np.ndarray:
    """Logit pick P(j) ∝ exp(β_r·V_j) by inverse CDF from uniforms `u`; the decider moves to its pick only
    if V_pick > 0, else it stays at `cur`. Returns the chosen location of every decider."""
    cdf = logit_weights(value, beta)
    for j in range(1, len(cdf)):     # a loop over countries: np.cumsum(axis=0) over a short first axis is 3× slower
        cdf[j] += cdf[j - 1]
    pick = np.minimum((cdf < u * cdf[-1]).sum(axis=0), len(cdf) - 1)
    worth = value[pick, np.arange(len(cur))] > 0
    return np.where(worth, pick, cur)


def within_room(dest, jobs, u, room) -> np.ndarray:
    """Which arrivals fit: whole firms in the random order of `u`, each destination's arrivals taken while
    their cumulative jobs stay within its `room` (a firm that does not fit stops the queue behind it)."""
    order = np.lexsort((u, dest))
    dest_sorted = dest[order]
    cum = np.cumsum(jobs[order])
    group_start = np.searchsorted(dest_sorted, dest_sorted, side="left")
    before_group = np.where(group_start > 0, cum[group_start - 1], 0.0)
    accepted = np.zeros(dest.size, dtype=bool)
    accepted[order] = cum - before_group <= room[dest_sorted]
    return accepted


def relocate(firms, costs, state, supply, access, par, draws, year) -> RelocationResult:
    """Step 6: a share ρ of firms reviews where it produces (keyed uniform u_i < ρ) and moves by `choose`.

    `costs` are the costs the firms look ahead to (next year's wage), `supply` this year's labor
    supply L_j, `access` this year's market access (`market_access`). A firm without sales this year
    does not move. Inflows into j are capped at `relocation_labor_cap`·L_j jobs (whole firms, in random
    order); the room left is returned for entrants from abroad. Automation, capacity and market shares
    move with the firm; the state of j pays I_j·elig·M·Q_i for each qualifying move.
    """
    n = len(state)
    # the draws are keyed by firm id: a reviewer's choice and a mover's place in the queue are the same
    # numbers whoever else draws (the reference model, benchmarks/reference_model.py, replays them in order)
    u_review = draws.keyed_uniform(firms.id, year, "review")
    idx = np.flatnonzero((u_review < par["relocation_review_rate"]) & (firms.output > 0))
    if idx.size == 0:
        return RelocationResult.nobody(n, par["relocation_labor_cap"] * supply)
    # arrays are countries × reviewers, so that the reductions over countries run along the long axis
    cur, home = firms.location[idx].astype(np.intp), firms.home[idx].astype(np.intp)
    value = location_values(costs, state, par, home, cur, firms.automation[idx], access, firms.productivity[idx])
    choice = choose(value, cur, draws.keyed_uniform(firms.id[idx], year, "choice"), par["relocation_sharpness"])
    moving = choice != cur
    movers, dest = idx[moving], choice[moving]
    jobs = costs.hours(firms.automation[movers], firms.productivity[movers], firms.home[movers], dest,
                       firms.output[movers]) / state.annual_hours[dest]
    room = par["relocation_labor_cap"] * supply
    accepted = within_room(dest, jobs, draws.keyed_uniform(firms.id[movers], year, "order"), room)
    room -= np.bincount(dest[accepted], jobs[accepted], minlength=n)
    movers, dest = movers[accepted], dest[accepted]
    origin, hq = firms.location[movers].astype(np.intp), firms.home[movers].astype(np.intp)
    flows = np.bincount(origin * n + dest, minlength=n * n).reshape(n, n)
    qualifies = ~state.reshoring_home_only[dest] | (hq == dest)
    paid = state.reshoring_incentive[dest] * qualifies * par["relocation_cost"] * firms.output[movers]
    spent = np.bincount(dest, paid, minlength=n)
    return RelocationResult(movers, dest.astype(np.int8), flows, spent, (hq * n + origin) * n + dest, room)


def entry_table(costs, state, par, automation, access) -> np.ndarray:
    """P(j | h): where an entrant headquartered in h sets up (C × C, rows sum to 1).

    The entrant decides like a reviewing firm (`location_values`, `choose`) whose default is its
    headquarters country and which pays M to set up elsewhere (no reshoring incentive: that pays
    firms that move), with the automation ᾱ_j it would have at j: P(j | h) ∝ exp(β_r·V_hj) for the
    j worth more than home, the rest of the mass stays at home.
    """
    n = costs.n
    hq = np.arange(n)
    value = location_values(costs, state, par, hq, hq, np.repeat(automation[:, None], n, axis=1), access,
                            incentive=False)
    weight = logit_weights(value, par["relocation_sharpness"])
    prob = (weight / weight.sum(axis=0)).T                              # h × j
    worth = value.T > 0
    stay = np.where(worth, 0.0, prob).sum(axis=1)
    prob = np.where(worth, prob, 0.0)
    prob[hq, hq] += stay
    return prob


def draw_locations(prob, hq, u) -> np.ndarray:
    """Locations of entrants with headquarters `hq` from P(j | h) by inverse CDF of uniforms `u`."""
    return categorical(prob, u, rows=hq)
