"""The FactoryShift model: country agents and a vectorised firm population, one step a year.

Step order (docs/ODD.md, "Process overview and scheduling"):

1. policy schedules   2. unit costs   3. market allocation   4. labor market and wages
5. AI adoption        6. relocation   7. entry and exit      8. record
"""

from __future__ import annotations

import mesa
import numpy as np
from scipy.special import ndtr, ndtri

from sim.model import adoption, labor, market, turnover
from sim.model import location as relocation
from sim.model.countries import Country, CountryState
from sim.model.draws import Draws
from sim.model.firms import FirmPopulation, FirmView
from sim.model.record import Recorder
from sim.scenarios.scenario import Scenario, load_scenario

#: Rounds of "calibrate capacities, then lift loss-making firms to break-even" at start.
SELECTION_ROUNDS = 10


def _secant_step(x: np.ndarray, g: np.ndarray, last) -> np.ndarray:
    """Step in x = log q towards g(x) = log r̄(q) = 0, one country at a time.

    The plain step Δx = g (q ← q·r̄) assumes ∂g/∂x = −1; with strong home bias a country's
    own prices make up most of its price index, the slope is much flatter and the plain
    iteration crawls. The secant slope s = Δg/Δx of the last two passes gives Δx = −g/s,
    used where it is a descent step (s < 0), at most 20 plain steps long and, where that is
    more than the plain step, at most 0.5 in log q (so a poor slope cannot throw q far off).
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


class FactoryShiftModel(mesa.Model):
    """World manufacturing as country agents and firms competing for market shares.

    Parameters
    ----------
    scenario : a `Scenario` or the name/path of one (default ``"baseline"``).
    seed : int or `numpy.random.SeedSequence`; default the scenario's ``run.seed``.
    firms : number of firms at the start; default the scenario's ``run.firms``.
    record_firms : also keep a per-firm panel every year (costly at large sizes).
    """

    def __init__(self, scenario: Scenario | str = "baseline", *, seed=None, firms: int | None = None,
                 record_firms: bool = False, draws: Draws | None = None):
        scenario = load_scenario(scenario) if not isinstance(scenario, Scenario) else scenario
        seed = scenario.run["seed"] if seed is None else seed
        super().__init__(rng=np.random.default_rng(seed))
        self.spec = scenario  # `scenario` is taken by mesa.Model (its own Scenario API)
        self.seed = seed
        self.draws = draws or Draws(self.rng)
        self.par = dict(scenario.model)
        self.start_year = scenario.run["start_year"]
        self.end_year = scenario.run["end_year"]
        self.year = self.start_year
        self.n0 = int(firms if firms is not None else scenario.run["firms"])

        self.state = CountryState(scenario, self.start_year)
        self.state.apply_schedules(self.start_year)
        self.countries = [Country(self, i) for i in range(len(self.state))]
        self.n = len(self.state)
        self.recorder = Recorder(self.state.codes, record_firms)
        self.firms = FirmPopulation(self.n)
        self._initialise_firms()
        self._calibrate()

    # ------------------------------------------------------------------ set-up
    def _initialise_firms(self) -> None:
        """Firms per country in proportion to MVA shares (largest remainder), drawn attributes."""
        p, s = self.par, self.state
        quota = s.mva_share * self.n0
        counts = np.floor(quota).astype(int)
        counts[np.argsort(counts - quota, kind="stable")[: self.n0 - counts.sum()]] += 1
        counts[(counts == 0) & (s.mva_share > 0)] = 1  # every producing country has a firm to calibrate
        loc = np.repeat(np.arange(self.n, dtype=np.int8), counts)
        n = loc.size
        alpha0 = np.minimum(p["alpha_max"], p["automation_per_robot_density"] * s.robot_density)
        z_phi, z_cap, z_alpha = self.draws.normal(n), self.draws.normal(n), self.draws.normal(n)
        self.firms.add(
            home=loc, location=loc,
            productivity=turnover.lognormal_mean_one(p["productivity_sigma"], z_phi),
            capacity=turnover.lognormal_mean_one(p["capacity_sigma"], z_cap),
            automation=np.clip(alpha0[loc] * turnover.lognormal_mean_one(p["automation_sigma"], z_alpha),
                               0.0, p["alpha_max"]),
            age=np.floor(40 * self.draws.uniform(n)),
        )
        self.demand_start_total = s.demand.sum()

    def _calibrate(self) -> None:
        """Capacity scales reproduce start-year shares; labor shares make tightness 1."""
        f, p, s = self.firms, self.par, self.state
        friction = self._friction()
        friction_theta = friction ** (-p["theta"])
        size = f.capacity.copy()  # k̃_i, the drawn size; k_i = K_c·k̃_i
        self.quality = None
        for selection_round in range(SELECTION_ROUNDS):
            uc = self._unit_cost()
            self.capacity_scale = market.calibrate_capacity(
                market.allocation_weights(size, uc, p["theta"]), f.location, friction_theta, self.demand,
                s.mva_share, self.n)
            f.capacity = size * self.capacity_scale[f.location]
            f.pi = market.target_shares(market.allocation_weights(f.capacity, uc, p["theta"]), f.location,
                                        friction_theta, self.n)
            f.output = f.pi @ self.demand
            rel = self._calibrate_quality(uc, friction)
            last = selection_round == SELECTION_ROUNDS - 1
            if last or not self._raise_to_break_even(uc, rel):
                break  # state is consistent: shares and output were computed from these costs
        self._update_losses(uc, friction, u_spread=self.draws.uniform(len(f)))
        hours = self._hours()
        emp = labor.employment(hours, f.location, p["annual_hours"], self.n)
        s.labor_share = np.divide(emp, s.working_age * 1e6, out=np.zeros(self.n), where=s.working_age > 0)
        supply = self._labor_supply()
        tightness = np.divide(emp, supply, out=np.ones(self.n), where=supply > 0)
        zeros = np.zeros(self.n, dtype=int)
        self._record(self._aggregates(uc, emp, supply, tightness, s.wage.copy()),
                     np.zeros((self.n, self.n), dtype=int), np.zeros(self.n), zeros, zeros)

    # ------------------------------------------------------------------ helpers
    @property
    def demand(self) -> np.ndarray:
        """D_m(t), US$/year: the markets' demand this year (one truth: `state.demand`)."""
        return self.state.demand

    def _declined(self, start_value: float) -> float:
        """x(t) = x(t0)·(1 − ai_cost_decline)^(t − t0): AI costs fall every year."""
        return start_value * (1 - self.par["ai_cost_decline"]) ** (self.year - self.start_year)

    @property
    def ai_cost(self) -> float:
        """κ(t), the running AI cost per unit of output at full automation."""
        return self._declined(self.par["ai_unit_cost"])

    @property
    def capex_per_output(self) -> float:
        """AI capital per US$ of annual output at full automation, this year."""
        return self._declined(self.par["ai_capex_per_output"])

    def _eff(self) -> np.ndarray:
        return market.effectiveness(self.par["e_max"], self.state.ai_readiness)

    def _ell(self) -> np.ndarray:
        return market.labor_cost_per_unit(self.state.wage, self.state.productivity, self.par["hours_per_unit"])

    def _friction(self) -> np.ndarray:
        return market.trade_factor(self.state.tariffs, self.state.regions,
                                   self.par["trade_cost_near"], self.par["trade_cost_far"])

    def _unit_cost(self) -> np.ndarray:
        f = self.firms
        return market.unit_cost(f.automation, f.productivity, f.location, self._ell(), self._eff(),
                                self.ai_cost, self.state.other_cost)

    def _hours(self) -> np.ndarray:
        f = self.firms
        return labor.labor_hours(f.automation, f.productivity, f.location, self._eff(), self.state.productivity,
                                 self.par["hours_per_unit"], f.output)

    def _labor_supply(self) -> np.ndarray:
        s = self.state
        return labor.labor_supply(s.working_age, s.labor_share, s.labor_supply_boost)

    # ------------------------------------------------------------------ the step
    def step(self) -> None:
        f, p, s, n = self.firms, self.par, self.state, self.n
        self.year += 1
        # exogenous drifts into the new year
        s.productivity *= 1.0 + s.productivity_growth
        s.ai_readiness = np.minimum(1.0, s.ai_readiness + s.literacy_program)
        s.working_age = s.working_age_at(self.year)
        # 1. policy schedules
        s.apply_schedules(self.year)
        s.demand = s.demand * (1.0 + s.demand_growth)
        # 2. unit costs
        uc = self._unit_cost()
        # 3. market allocation
        friction = self._friction()
        friction_theta = friction ** (-p["theta"])
        g = market.allocation_weights(f.capacity, uc, p["theta"])
        market.adjust(f.pi, g, f.location, friction_theta, p["adjustment_speed"], n, scratch=f.scratch())
        f.output = f.pi @ self.demand
        # 4. labor market and wages (this year's wage is recorded; the new one applies next year)
        hours = self._hours()
        supply = self._labor_supply()
        emp = labor.employment(hours, f.location, p["annual_hours"], n)
        tightness = np.divide(emp, supply, out=np.ones(n), where=supply > 0)
        wage_now = s.wage.copy()
        s.wage = labor.next_wage(s.wage, s.wage_growth, tightness, p["wage_response"])
        # 5. AI adoption
        peer = adoption.peer_adoption(f.automation, f.capacity, f.location, p["alpha_max"], n)
        hazard = adoption.hazard_rates(p["p0"], p["q0"], s.ai_subsidy_rate, s.coordination, s.acceptance, peer,
                                       p["subsidy_innovation_effect"], p["coordination_effect"],
                                       p["acceptance_effect"])
        adopted = adoption.adopt(
            alpha=f.automation, phi=f.productivity, loc=f.location, output=f.output, ell=self._ell(),
            eff=self._eff(), ai_cost=self.ai_cost, capex_per_output=self.capex_per_output,
            alpha_max=p["alpha_max"], d_alpha=p["adoption_step"], horizon=p["payback_horizon"], hazard=hazard,
            subsidy_rate=s.ai_subsidy_rate, fund=s.ai_fund, u=self.draws.keyed_uniform(f.id, self.year, "adopt"),
            n_countries=n)
        f.automation = f.automation + adopted.step
        values = self._aggregates(uc, emp, supply, tightness, wage_now, adopted)
        # 6. relocation
        u_review, u_choice, u_order = (self.draws.keyed_uniform(f.id, self.year, stream)
                                       for stream in ("review", "choice", "order"))
        moved = relocation.relocate(
            firms=f, reviewers=u_review < p["relocation_review_rate"], demand=self.demand, ell=self._ell(),
            eff=self._eff(), ai_cost=self.ai_cost, other_cost=s.other_cost, friction=friction,
            incentive=s.reshoring_incentive, home_only=s.reshoring_home_only, supply=supply,
            h=p["hours_per_unit"], annual_hours=p["annual_hours"], productivity=s.productivity,
            horizon=p["relocation_horizon"],
            move_cost=p["relocation_cost"], home_bias=p["home_bias"], beta=p["relocation_sharpness"],
            labor_cap=p["relocation_labor_cap"], u_choice=u_choice, u_order=u_order, n_countries=n)
        # 7a. losses are judged on this year's production, where it took place (before the moves)
        self._update_losses(uc, friction)
        f.location[moved.movers] = moved.destination
        # 7. entry and exit
        entries, exits = self._turnover()
        # 8. record
        self._record(values, moved.flows, moved.incentive_spent, entries, exits)
        if self.year >= self.end_year:
            self.running = False

    def _turnover(self):
        """Step 7b: exits after `exit_after` loss years (counted at next year's location), entrants."""
        f, p, s, n = self.firms, self.par, self.state, self.n
        f.alive = f.loss_years < p["exit_after"]
        exits = np.bincount(f.location[~f.alive], minlength=n)
        f.age += 1
        f.remove_dead()
        market.normalise_columns(f.pi)  # the survivors share the exited firms' customers
        target = turnover.target_firm_count(self.n0, self.demand.sum(), self.demand_start_total,
                                            p["firm_count_elasticity"])
        n_new = max(0, target - len(f))
        share = market.country_sums(f.location, f.output, n)
        share = share / share.sum() if share.sum() > 0 else s.mva_share
        mean_alpha = adoption.mean_automation(f.automation, f.capacity, f.location, n)
        entrant_cost = market.unit_cost(mean_alpha, np.ones(n), np.arange(n), self._ell(), self._eff(),
                                        self.ai_cost, s.other_cost) / self.quality
        prob = turnover.entry_probabilities(share, entrant_cost, p["entry_cost_sharpness"])
        k = np.arange(n_new)  # entrants are keyed by their number within the year
        u_loc = self.draws.keyed_uniform(k, self.year, "entry_location")
        z_phi = self.draws.keyed_normal(k, self.year, "entry_productivity")
        z_cap = self.draws.keyed_normal(k, self.year, "entry_capacity")
        loc = turnover.draw_categorical(prob, u_loc).astype(np.int8)
        f.add(home=loc, location=loc,
              productivity=turnover.lognormal_mean_one(p["productivity_sigma"], z_phi),
              capacity=self.capacity_scale[loc] * turnover.lognormal_mean_one(p["capacity_sigma"], z_cap),
              automation=mean_alpha[loc])
        return np.bincount(loc, minlength=n), exits

    def _calibrate_quality(self, uc, friction, tol=1e-10, max_iter=200) -> np.ndarray:
        """Quality q_c such that the average firm of every country has r = 1 in the start year.

        The start year is taken as an equilibrium in which each country's industry, on
        average, earns the normal margin: r̄_c(q) = 1, with r̄_c the output-weighted mean
        relative price of the firms headquartered in c, solved in x = log q by the steps of
        `_secant_step` until |r̄_c − 1| < tol. Like K_c for
        shares, q_c absorbs what the model does not represent (brand, product mix, market
        access). Returns the firms' relative prices at the calibrated q.
        """
        f = self.firms
        if getattr(self, "quality", None) is None:  # later selection rounds start from the last q
            self.quality = np.ones(self.n)
        weight = market.country_sums(f.home, f.output, self.n)
        last = None  # (log q, log r̄) of the previous pass, for the secant step
        for _ in range(max_iter):
            rel = self._relative_price(uc, friction)
            mean = np.divide(market.country_sums(f.home, f.output * rel, self.n), weight,
                             out=np.ones(self.n), where=weight > 0)
            if np.max(np.abs(mean - 1.0)) < tol:
                break
            x, g = np.log(self.quality), np.log(mean)
            self.quality = np.exp(x + _secant_step(x, g, last))
            last = (x, g)
        return rel

    def _raise_to_break_even(self, uc, rel) -> bool:
        """Selection at start: firms the exit rule would already have removed are not observed.

        A loss-making firm (r_i > 1 + μ) has a break-even productivity
        φ*_i = φ_i·(uc_i − o_c)/(uc*_i − o_c), uc*_i = uc_i·(1 + μ)/r_i. Its productivity is
        redrawn from the lognormal truncated at φ*_i, keeping its own quantile u_i = F(φ_i):
        φ_i ← F⁻¹(F(φ*_i) + u_i·(1 − F(φ*_i))) — a Melitz-style cut-off of the start-year
        productivity distribution, without new random numbers. Returns whether any firm changed.
        """
        f, p = self.firms, self.par
        other = self.state.other_cost[f.location]
        target = uc * (1.0 + p["profit_margin"]) / rel
        fix = np.flatnonzero((rel > 1.0 + p["profit_margin"]) & (target > other))
        if fix.size == 0:
            return False
        phi = f.productivity[fix]
        cutoff = phi * (uc[fix] - other[fix]) / (target[fix] - other[fix])
        sigma = p["productivity_sigma"]
        if sigma < 1e-9:  # degenerate: the z-transform would overflow; every firm is lifted to its cut-off
            f.productivity[fix] = cutoff
            return True
        below = ndtr(turnover.lognormal_mean_one_z(sigma, cutoff))
        quantile = np.minimum(below + ndtr(turnover.lognormal_mean_one_z(sigma, phi)) * (1.0 - below),
                              1.0 - 2.0 ** -53)
        f.productivity[fix] = np.maximum(cutoff, turnover.lognormal_mean_one(sigma, ndtri(quantile)))
        return True

    def _relative_price(self, uc, friction):
        f = self.firms
        uc_q = uc / self.quality[f.home]
        level = turnover.market_price_levels(f.pi, uc_q, f.location, friction, self.n)
        return turnover.relative_price(uc_q, f.pi, f.location, self.demand, f.output, friction, level,
                                       scratch=f.scratch())

    def _update_losses(self, uc, friction, u_spread=None):
        """Loss years: r_i > 1 + μ counts up, a profitable year resets (see `turnover.relative_price`).

        `u_spread` (start only) spreads the loss years of firms already loss-making in the
        start year over [0, exit_after), so they do not all exit in the same year.
        """
        f, p = self.firms, self.par
        rel = self._relative_price(uc, friction)
        losses = turnover.update_losses(f.loss_years, rel, p["profit_margin"])
        if u_spread is not None:
            losses = np.where(losses > 0, np.floor(u_spread * p["exit_after"]), 0)
        f.loss_years = losses.astype(f.loss_years.dtype)

    def _aggregates(self, uc, emp, supply, tightness, wage, adopted=None) -> dict[str, np.ndarray]:
        """Country aggregates of this year's production, before firms move, exit or enter."""
        f, p, s, n = self.firms, self.par, self.state, self.n
        loc = f.location
        output = market.country_sums(loc, f.output, n)
        automation = adoption.mean_automation(f.automation, f.capacity, loc, n)
        zeros = np.zeros(n)
        density = p["automation_per_robot_density"]
        return {
            "production_share": output / output.sum(),
            "output_usd": output,
            "automation": automation,
            "robot_density_index": automation / density if density > 0 else zeros,
            "wage": wage,
            "employment": emp,
            "labor_supply": supply,
            "tightness": tightness,
            "unit_cost": np.divide(market.country_sums(loc, uc * f.output, n), output, out=zeros.copy(),
                                   where=output > 0),
            "ai_readiness": s.ai_readiness.copy(),
            "adopters": zeros if adopted is None else np.bincount(loc[adopted.adopt], minlength=n),
            "subsidy_requested_usd": zeros if adopted is None else adopted.requested,
            "subsidy_spent_usd": zeros if adopted is None else adopted.spent,
            "ai_fund_usd": s.ai_fund.copy(),
        }

    def _record(self, values, flows, incentive_spent, entries, exits) -> None:
        """Step 8: store the year's row per country; `firms` counts firms located there at year end."""
        values.update({
            "firms": np.bincount(self.firms.location, minlength=self.n),
            "entries": entries, "exits": exits,
            "reshoring_spent_usd": incentive_spent,
            "relocations_in": flows.sum(axis=0), "relocations_out": flows.sum(axis=1),
        })
        self.recorder.add(self.year, values, flows, self.firms)

    # ------------------------------------------------------------------ user API
    def run(self, until: int | None = None) -> FactoryShiftModel:
        """Step until `until` (default: the scenario's end year)."""
        until = self.end_year if until is None else min(until, self.end_year)
        while self.year < until:
            self.step()
        return self

    def firm(self, firm_id: int) -> FirmView:
        """One firm by id (living or exited)."""
        return self.firms.firm(firm_id, self.state.codes)

    def market_shares(self) -> np.ndarray:
        """Origin × market matrix: the share of market m's demand supplied from country o."""
        f = self.firms
        return np.stack([np.bincount(f.location, f.pi[:, m], minlength=self.n) for m in range(self.n)], axis=1)

    def country(self, code: str) -> Country:
        return self.countries[self.state.index[code]]
