"""Location choice: where reviewing firms produce (step 6) and where entrants set up (step 7)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model.labor import labor_hours


@dataclass
class RelocationResult:
    movers: np.ndarray        # indices of firms that move
    destination: np.ndarray   # their new location
    flows: np.ndarray         # C × C counts, origin × destination
    incentive_spent: np.ndarray  # US$ per destination country

    @classmethod
    def nobody(cls, n_countries: int) -> RelocationResult:
        """No move (the start year, or a year without reviewers)."""
        none = np.zeros(0, dtype=np.intp)
        return cls(none, none.astype(np.int8), np.zeros((n_countries, n_countries), int), np.zeros(n_countries))

    def apply(self, firms) -> None:
        """The movers produce at their destination from next year on."""
        firms.location[self.movers] = self.destination


def sales_weights(pi, demand, output):
    """ω_im = π_im·D_m / Q_i: where a firm sells (rows sum to 1; a firm without sales sells nowhere)."""
    sales = pi * demand
    return sales / np.where(output > 0, output, 1.0)[:, None]


def relocate(firms, costs, state, supply, par, draws, year) -> RelocationResult:
    """Where reviewing firms choose to produce.

    `costs` are the costs the firms look ahead to (next year's wage), `supply` this year's
    labor supply L_j. A share ρ of firms reviews (keyed uniform u_i < ρ). For reviewing
    firm i and every candidate country j::

        uc_ij   = ((1 − α_i·e_j)·ℓ_j + α_i·κ(t)) / φ_i + O_j
        LC_ij   = uc_ij · Σ_m ω_im·(1 + τ_{j→m})·d_{j,m}          landed cost of its sales
        V_ij    = H_r·(LC_i,cur − LC_ij)/LC_i,cur
                  − M·(1 − I_j·elig_ij)·[j ≠ cur]                move cost net of incentive
                  − H_r·b·([j ≠ home_i] − [cur ≠ home_i])         home bias
        P(j)    ∝ exp(β_r·V_ij)                                  logit choice (stay: V = 0)

    elig_ij = 1 unless j limits its incentive to firms headquartered there. A firm moves
    when its chosen j ≠ cur has V_ij > 0. Automation moves with the firm; its savings
    now depend on e_j. Inflows into j are capped at `relocation_labor_cap`·L_j jobs
    (whole firms, in random order).
    """
    n_countries = len(state)
    eff = costs.effectiveness
    friction, demand, productivity = costs.friction, state.demand, state.productivity
    incentive, home_only = state.reshoring_incentive, state.reshoring_home_only
    horizon, move_cost, home_bias = par["relocation_horizon"], par["relocation_cost"], par["home_bias"]
    beta, labor_cap, h, annual_hours = (par["relocation_sharpness"], par["relocation_labor_cap"],
                                        par["hours_per_unit"], par["annual_hours"])
    # every firm draws all three numbers, reviewing or not: the draws are keyed, the cost is small,
    # and the reference model (benchmarks/reference_model.py) replays them in this order
    u_review, u_choice, u_order = (draws.keyed_uniform(firms.id, year, s) for s in ("review", "choice", "order"))
    idx = np.flatnonzero(u_review < par["relocation_review_rate"])
    if idx.size == 0:
        return RelocationResult.nobody(n_countries)
    # arrays are countries × reviewers, so that the reductions over countries run along the long axis
    alpha, phi = firms.automation[idx], firms.productivity[idx]
    cur, home, output = firms.location[idx].astype(np.intp), firms.home[idx].astype(np.intp), firms.output[idx]
    uc = costs.unit_cost(alpha, phi, np.arange(n_countries)[:, None])   # C × n
    weights = sales_weights(np.take(firms.pi, idx, axis=0), demand, output)
    landed = uc * (weights @ friction.T).T
    rows = np.arange(idx.size)
    current = landed[cur, rows]
    j = np.arange(n_countries)[:, None]
    qualifies = ~home_only[:, None] | (home == j)
    fee = np.where(qualifies, move_cost * (1.0 - incentive[:, None]), move_cost)   # [j ≠ cur]: cur is reset below
    value = (horizon * (current - landed) / current
             - fee
             - horizon * home_bias * ((j != home).astype(float) - (cur != home)))
    value[cur, rows] = 0.0
    weight = np.exp(beta * (value - value.max(axis=0)))
    cdf = weight                                   # cumulative sum over countries, in place
    for k in range(1, n_countries):
        cdf[k] += cdf[k - 1]
    choice = np.minimum((cdf < u_choice[idx] * cdf[-1]).sum(axis=0), n_countries - 1)
    moving = (choice != cur) & (value[choice, rows] > 0) & (output > 0)
    movers, dest = idx[moving], choice[moving]
    # labor-capacity cap on inflows, whole firms in random order
    jobs = labor_hours(firms.automation[movers], firms.productivity[movers], dest, eff, productivity, h,
                       firms.output[movers]) / annual_hours
    order = np.lexsort((u_order[movers], dest))
    dest_sorted = dest[order]
    cum = np.cumsum(jobs[order])
    group_start = np.searchsorted(dest_sorted, dest_sorted, side="left")
    before_group = np.where(group_start > 0, cum[group_start - 1], 0.0)
    within = cum - before_group
    accepted = np.zeros(movers.size, dtype=bool)
    accepted[order] = within <= labor_cap * supply[dest_sorted]
    movers, dest = movers[accepted], dest[accepted]
    origin = firms.location[movers].astype(np.intp)
    flows = np.bincount(origin * n_countries + dest, minlength=n_countries ** 2).reshape(n_countries, n_countries)
    paid = incentive[dest] * (~home_only[dest] | (firms.home[movers] == dest)) * move_cost * firms.output[movers]
    spent = np.bincount(dest, paid, minlength=n_countries)
    return RelocationResult(movers, dest.astype(np.int8), flows, spent)


def entry_probabilities(share, entrant_cost, sharpness):
    """P(c) ∝ S_c · exp(−β_e·(uc^e_c/uc^e − 1)): entrants go where industry is and costs are low.

    uc^e_c (`entrant_cost`) is the quality-adjusted unit cost uc/ξ_c of a φ = 1 entrant with the
    country's capacity-weighted mean automation ᾱ_c, uc^e = Σ_c S_c·uc^e_c the production-share-weighted
    mean; S_c (`share`) is the production share.
    """
    mean = share @ entrant_cost
    weight = share * np.exp(-sharpness * (entrant_cost / mean - 1.0))
    return weight / weight.sum()
