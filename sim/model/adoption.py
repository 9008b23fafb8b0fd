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
    step: np.ndarray            # Δα_i actually taken (0 for non-adopters)
    requested: np.ndarray       # US$ of subsidy asked per country
    spent: np.ndarray           # US$ of subsidy paid per country
    granted_rate: np.ndarray    # effective subsidy rate per country after rationing


def mean_automation(alpha, capacity, loc, n_countries, den=None):
    """ᾱ_c = Σ_{i∈c} k_i·α_i / Σ_{i∈c} k_i: capacity-weighted automation of the firms in c (`den`: the
    Σ_{i∈c} k_i if already known)."""
    num = country_sums(loc, capacity * alpha, n_countries)
    den = country_sums(loc, capacity, n_countries) if den is None else den
    return np.divide(num, den, out=np.zeros(n_countries), where=den > 0)


def peer_adoption(alpha, capacity, loc, alpha_max, n_countries):
    """ψ_c = ᾱ_c / α_max: capacity-weighted adoption level in c (the Bass peer effect)."""
    return mean_automation(alpha, capacity, loc, n_countries) / alpha_max


def hazard_rates(state, par, peer):
    """Country hazard λ_c = R_c^λ_R · min(1, p_c + q_c·ψ_c): the Bass diffusion behind the skill barrier::

        p_c = p0 · (1 + λ_s · s̃_c)        s̃_c = the subsidy rate actually paid last year (funds)
        q_c = q0 · (1 + λ_ν · ν_c)        ν_c = coordination: information and imitation
        R_c = AI readiness (literacy)     λ_R = readiness_barrier
    """
    p = par["p0"] * (1.0 + par["subsidy_innovation_effect"] * state.effective_subsidy)
    q = par["q0"] * (1.0 + par["coordination_effect"] * state.coordination)
    return state.ai_readiness ** par["readiness_barrier"] * np.minimum(1.0, p + q * peer)


def next_step(alpha, par):
    """Δ_i = min(Δα, α_max − α_i): the next automation step of a firm at automation α_i."""
    return np.minimum(par["adoption_step"], par["alpha_max"] - alpha)


def step_economics(firms, costs, state, par, which=slice(None)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The next automation step of the firms `which` (default every firm) and what it is worth: (Δ_i,
    saving_i·H_c, capex_i) of `adopt`."""
    n_countries = len(state)
    loc = firms.location[which].astype(np.intp)
    ell = costs.labor.take(firms.home[which].astype(np.intp) * n_countries + loc)
    horizon = par["payback_horizon"] * (1.0 + par["mission_effect"] * state.mission)
    friction = 1.0 + par["acceptance_effect"] * (1.0 - state.acceptance)
    step, output = next_step(firms.automation[which], par), firms.output[which]
    saving = step * (costs.effectiveness[loc] * ell - costs.ai_running) * output / firms.productivity[which]
    capex = step * costs.ai_capex * output * friction[loc]
    return step, saving * horizon[loc], capex


def threshold_share(value, capex, rate, spread):
    """F_i = share of firms like i whose payback threshold the step passes at subsidy rate s::

        F_i = 1 / (1 + (capex_i·(1 − s) / (saving_i·H_c))^(1/σ_a))     (0 if saving_i ≤ 0)

    Firms' payback thresholds are spread around H_c: ln(threshold) is logistic with scale σ_a
    (a probit/threshold diffusion model: David 1969, Davies 1979). σ_a → 0 is the hard test
    saving_i·H_c > capex_i·(1 − s). Written as (1 + tanh(z/2))/2, z = ln(value/net)/σ_a, so that
    extreme ratios cannot overflow.
    """
    net = capex * (1.0 - rate)
    pays = value > 0
    if spread <= 0.0:
        return (pays & (value > net)).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (np.log(np.where(pays, value, 1.0)) - np.log(net)) / spread
    return np.where(pays, 0.5 * (1.0 + np.tanh(0.5 * z)), 0.0)


def payback_margins(firms, costs, state, par) -> np.ndarray:
    """Per country: the output-weighted mean of value/capex − 1 of the next step, without subsidy (where it is
    positive the step pays; how far below zero says how far automation is from paying)."""
    step, value, capex = step_economics(firms, costs, state, par)
    ok = capex > 0
    margin = np.where(ok, value / np.where(ok, capex, 1.0) - 1.0, 0.0)
    weight = np.where(ok, firms.output, 0.0)
    total = country_sums(firms.location, weight, len(state))
    return np.divide(country_sums(firms.location, margin * weight, len(state)), total, out=np.full(len(state), np.nan),
                     where=total > 0)


def adopt(firms, costs, state, par, u) -> AdoptionResult:
    """Which firms raise automation by Δα this year, and what the state pays (step 5).

    `costs` are the costs the firms look ahead to (next year's wage); `u` one uniform per firm.
    For each firm with α_i < α_max, Δ_i = min(Δα, α_max − α_i), at its location c with
    headquarters h::

        saving_i   = Δ_i · (e_c·ℓ_hc − κ(t)) · Q_i / φ_i                   per year
        capex_i    = Δ_i · X(t) · Q_i · (1 + λ_a·(1 − a_c))                acceptance: frictions
        H_c        = H_a · (1 + λ_m·m_c)                                  mission: patient capital
        candidate  = u_i < λ_c · F_i(s_c)            (`hazard_rates`, `threshold_share`)

    Candidates apply for the subsidy at the announced rate s_c; the fund (under US$1 counts as 0)
    pays pro rata: requested_c = Σ_candidates s_c·capex_i, f_c = min(1, fund_c/requested_c), and the
    rate paid is s̃_c = s_c·f_c (s_c·[fund_c ≥ 1] without requests). A candidate adopts if
    u_i < λ_c·F_i(s̃_c) still holds; spent_c = Σ_adopters s̃_c·capex_i ≤ fund_c. A rate without money
    to pay it changes nothing: the adopters are those that pass at s̃_c = 0, and s̃_c feeds next
    year's p_c.
    """
    n_countries = len(state)
    alpha = firms.automation
    peer = peer_adoption(alpha, firms.capacity, firms.location, par["alpha_max"], n_countries)
    hazard = hazard_rates(state, par, peer)
    subsidy_rate = state.ai_subsidy_rate
    loc = firms.location.astype(np.intp)          # one conversion for the look-ups below
    step = next_step(alpha, par)
    eligible = step > MIN_STEP * par["adoption_step"]  # not a rounding error's worth below α_max
    spread = par["adoption_threshold_spread"]
    chance = hazard[loc]          # one uniform decides both: the hazard fires and the threshold is passed
    # F_i ≤ 1, so a firm whose hazard does not fire (u_i ≥ λ_c) is no candidate whatever its F_i: what the
    # step is worth, and F, are computed for the others only
    fired = np.flatnonzero(eligible & (u < chance))
    _, value, capex = step_economics(firms, costs, state, par, fired)
    passes = u[fired] < chance[fired] * threshold_share(value, capex, subsidy_rate[loc[fired]], spread)
    c_idx = fired[passes]
    # country sums over the candidates only (the other terms are zeros)
    c_loc, c_capex, c_value, c_chance = loc[c_idx], capex[passes], value[passes], chance[c_idx]
    requested = np.bincount(c_loc, subsidy_rate[c_loc] * c_capex, minlength=n_countries)
    fund = np.where(state.ai_fund < 1.0, 0.0, state.ai_fund)  # under a dollar pays nothing
    rationed = requested > fund                 # the ratio only where it is used: elsewhere it can overflow
    funded = np.where(rationed, np.divide(fund, requested, out=np.zeros_like(fund), where=rationed) * RATION_SAFETY,
                      np.where(requested > 0, 1.0, (fund > 0).astype(float)))
    granted_rate = subsidy_rate * funded
    granted = u[c_idx] < c_chance * threshold_share(c_value, c_capex, granted_rate[c_loc], spread)
    spent = np.bincount(c_loc[granted], granted_rate[c_loc[granted]] * c_capex[granted], minlength=n_countries)
    adopters = np.zeros(len(alpha), dtype=bool)
    adopters[c_idx[granted]] = True
    return AdoptionResult(adopters, np.where(adopters, step, 0.0), requested, spent, granted_rate)
