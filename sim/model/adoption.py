"""AI adoption: generalised Bass diffusion with an economic trigger and a rationed fund (step 5)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model.market import country_sums

#: Safety factor on the rationing ratio so that floating-point rounding can never
#: make the sum of grants exceed the fund.
RATION_SAFETY = 1.0 - 1e-12
#: A firm closer to α_max than this share of Δα counts as fully automated (no sliver adoptions).
MIN_STEP = 1e-9


@dataclass
class AdoptionResult:
    adopt: np.ndarray           # bool per firm
    step: np.ndarray            # Δ_i actually taken (0 for non-adopters)
    requested: np.ndarray       # US$ of subsidy asked per country
    spent: np.ndarray           # US$ of subsidy paid per country
    granted_rate: np.ndarray    # effective subsidy rate per country after rationing


def mean_automation(alpha, capacity, loc, n_countries):
    """ᾱ_c = Σ_{i∈c} k_i·α_i / Σ_{i∈c} k_i: capacity-weighted automation of the firms in c."""
    num = country_sums(loc, capacity * alpha, n_countries)
    den = country_sums(loc, capacity, n_countries)
    return np.divide(num, den, out=np.zeros(n_countries), where=den > 0)


def peer_adoption(alpha, capacity, loc, alpha_max, n_countries):
    """ψ_c = ᾱ_c / α_max: capacity-weighted adoption level in c (the Bass peer effect)."""
    return mean_automation(alpha, capacity, loc, n_countries) / alpha_max


def hazard_rates(state, par, peer):
    """Country Bass hazard λ_c = p_c + q_c·ψ_c, capped at 1, where::

        p_c = p0 · (1 + λ_s · s_c)                 s_c = ai_subsidy_rate
        q_c = q0 · (1 + λ_ν·ν_c + λ_a·a_c)         ν_c = coordination, a_c = acceptance
    """
    p = par["p0"] * (1.0 + par["subsidy_innovation_effect"] * state.ai_subsidy_rate)
    q = par["q0"] * (1.0 + par["coordination_effect"] * state.coordination
                     + par["acceptance_effect"] * state.acceptance)
    return np.minimum(1.0, p + q * peer)


def adopt(firms, costs, state, par, u) -> AdoptionResult:
    """Which firms raise automation by Δα this year, and what the state pays (step 5).

    `costs` are the costs the firms look ahead to (next year's wage); `u` one uniform per firm.
    For each firm with α_i < α_max, Δ_i = min(Δα, α_max − α_i)::

        saving_i   = Δ_i · (e_c·ℓ_c − κ(t)) · Q_i / φ_i           per year
        capex_i    = Δ_i · X(t) · Q_i
        payback_ok = saving_i · H_a > capex_i · (1 − s_c)
        candidate  = Δ_i > 10⁻⁹·Δα and payback_ok and u_i < λ_c    (Bass hazard, `hazard_rates`)

    The fund (a fund under US$1 counts as 0) rations the subsidy pro rata: requested_c = Σ_candidates s_c·capex_i,
    f_c = min(1, fund_c / requested_c), granted rate s̃_c = s_c·f_c. A candidate adopts if
    the payback test still holds at s̃_c; spent_c = Σ_adopters s̃_c·capex_i ≤ fund_c.
    """
    n_countries = len(state)
    alpha_max, d_alpha = par["alpha_max"], par["adoption_step"]
    alpha, phi, output = firms.automation, firms.productivity, firms.output
    peer = peer_adoption(alpha, firms.capacity, firms.location, alpha_max, n_countries)
    hazard = hazard_rates(state, par, peer)
    subsidy_rate, fund = state.ai_subsidy_rate, state.ai_fund
    ai_cost, capex_per_output, horizon = costs.ai_running, costs.ai_capex, par["payback_horizon"]
    eff, ell = costs.effectiveness, costs.labor
    loc = firms.location.astype(np.intp)          # one conversion for the look-ups below
    step = np.minimum(d_alpha, alpha_max - alpha)
    eligible = step > MIN_STEP * d_alpha  # not a rounding error's worth below α_max
    saving = step * (eff * ell - ai_cost)[loc] * output / phi
    capex = step * capex_per_output * output
    value = saving * horizon
    candidate = eligible & (value > capex * (1.0 - subsidy_rate)[loc]) & (u < hazard[loc])
    # country sums over the candidates only (the other terms are zeros)
    c_idx = np.flatnonzero(candidate)
    c_loc, c_capex, c_value = loc[c_idx], capex[c_idx], value[c_idx]
    requested = np.bincount(c_loc, subsidy_rate[c_loc] * c_capex, minlength=n_countries)
    fund = np.where(fund < 1.0, 0.0, fund)  # under a dollar pays nothing (and avoids subnormal rounding)
    ratio = np.divide(fund, requested, out=np.ones(n_countries), where=requested > fund)
    granted_rate = subsidy_rate * np.where(ratio < 1.0, ratio * RATION_SAFETY, 1.0)
    granted = c_value > c_capex * (1.0 - granted_rate)[c_loc]
    spent = np.bincount(c_loc[granted], granted_rate[c_loc[granted]] * c_capex[granted], minlength=n_countries)
    adopters = np.zeros(len(alpha), dtype=bool)
    adopters[c_idx[granted]] = True
    return AdoptionResult(adopters, np.where(adopters, step, 0.0), requested, spent, granted_rate)
