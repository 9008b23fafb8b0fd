"""FactoryShift written the plain Mesa way: the yardstick for the vectorised `FactoryShiftModel`.

One `mesa.Agent` per firm, each doing its own scalar arithmetic (``math``, no numpy over
firms); countries are plain data (`CountryData`, one per country). Every country or market
sum the vectorised code takes with ``bincount`` or a matrix product is a Python sum over
the agents here. Updates are synchronous: a submodel first computes its sums from the
state before it, then every firm updates itself from those sums and its own state (the
firms are visited in a shuffled order to show that the order does not matter).

Randomness is replayed, not drawn: run the vectorised model with `RecordingDraws` and
hand `draws.replay()` to `ReferenceModel`. The vectorised model draws whole vectors; firm
i (the i-th living firm in id order) uses element i.

Scenario parsing and the schedule engine (`CountryState.apply_schedules`, which decides
which tariff a ``tariffs.default`` schedule may overwrite) are input handling, not step
rules: the reference reads each year's lever values and tariff matrix from its own
`CountryState` instance and keeps every other country quantity (wages, productivity,
readiness, demand, labor) itself. `Recorder` only stores rows.

Usage::

    draws = RecordingDraws(np.random.default_rng(1))
    fast = FactoryShiftModel(scenario, firms=300, draws=draws).run()
    slow = ReferenceModel(scenario, draws.replay(), firms=300).run()
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import mesa
import numpy as np

from sim.model.adoption import MIN_STEP, RATION_SAFETY
from sim.model.countries import CountryState
from sim.model.draws import Draws
from sim.model.record import Recorder
from sim.model.setup import SELECTION_ROUNDS
from sim.scenarios.parameters import LEVERS
from sim.scenarios.scenario import Scenario, load_scenario


# ---------------------------------------------------------------------------- random numbers
class RecordingDraws(Draws):
    """`Draws` that also keep a copy of every array handed out, in order."""

    def __init__(self, rng: np.random.Generator):
        super().__init__(rng)
        self.log: list[tuple[str, np.ndarray]] = []

    def uniform(self, n: int) -> np.ndarray:
        x = super().uniform(n)
        self.log.append(("uniform", x.copy()))
        return x

    def normal(self, n: int) -> np.ndarray:
        x = super().normal(n)
        self.log.append(("normal", x.copy()))
        return x

    def keyed_uniform(self, keys, year, stream) -> np.ndarray:
        x = super().keyed_uniform(keys, year, stream)
        self.log.append(("uniform", x.copy()))
        return x

    def keyed_normal(self, keys, year, stream) -> np.ndarray:
        x = super().keyed_normal(keys, year, stream)
        self.log.append(("normal", x.copy()))
        return x

    def replay(self) -> ReplayDraws:
        return ReplayDraws(self.log)


class ReplayDraws:
    """Hands the recorded arrays out again, in the same order, as lists of Python floats."""

    def __init__(self, log: list[tuple[str, np.ndarray]]):
        self._log = log
        self.used = 0

    def uniform(self, n: int) -> list[float]:
        return self._next("uniform", n)

    def normal(self, n: int) -> list[float]:
        return self._next("normal", n)

    def _next(self, kind: str, n: int) -> list[float]:
        if self.used >= len(self._log):
            raise RuntimeError(f"draw {self.used}: the reference asks for {kind}({n}); the model drew no more")
        drawn_kind, x = self._log[self.used]
        if drawn_kind != kind or len(x) != n:
            raise RuntimeError(f"draw {self.used}: the reference asks for {kind}({n}); "
                               f"the model drew {drawn_kind}({len(x)})")
        self.used += 1
        return x.tolist()

    @property
    def exhausted(self) -> bool:
        return self.used == len(self._log)


# ---------------------------------------------------------------------------- countries
@dataclass
class CountryData:
    """One country's state as plain Python numbers."""

    code: str
    region: str
    mva_share: float
    robot_density: float
    wage: float
    productivity: float
    productivity_growth: float
    ai_readiness: float
    other_cost: float
    demand: float                      # D_m, this market's demand this year
    working_age_table: list[tuple[int, float]]
    working_age: float = 0.0
    labor_share: float = 0.0
    capacity_scale: float = 0.0        # K_c (calibrated)
    quality: float = 0.0               # q_c (calibrated: the average firm of c has r = 1 at start)
    # policy levers and trends, set every year from the schedules
    ai_subsidy_rate: float = 0.0
    ai_fund: float = 0.0
    coordination: float = 0.0
    acceptance: float = 0.0
    reshoring_incentive: float = 0.0
    reshoring_home_only: bool = False
    literacy_program: float = 0.0
    labor_supply_boost: float = 1.0
    wage_growth: float = 0.0
    demand_growth: float = 0.0


def interpolate(year: int, table: list[tuple[int, float]]) -> float:
    """Linear between table years, flat outside."""
    if year <= table[0][0]:
        return table[0][1]
    for (y0, v0), (y1, v1) in zip(table, table[1:]):
        if year <= y1:
            return v0 + (v1 - v0) * (year - y0) / (y1 - y0)
    return table[-1][1]


def lognormal_mean_one(sigma: float, z: float) -> float:
    return math.exp(sigma * z - 0.5 * sigma ** 2)


# ---------------------------------------------------------------------------- firms
class Firm(mesa.Agent):
    """One firm. `pi` holds its market shares, one per market (country)."""

    def __init__(self, model, firm_id, home, location, productivity, capacity, automation, age=0):
        super().__init__(model)
        self.firm_id = firm_id
        self.home = home
        self.location = location
        self.productivity = productivity
        self.capacity = capacity
        self.automation = automation
        self.age = age
        self.loss_years = 0
        self.output = 0.0
        self.pi = [0.0] * len(model.countries)
        self.alive = True

    # -- rules that only read this firm and the country data
    def unit_cost_at(self, j: int) -> float:
        """uc = ((1 − α·e_j)·ℓ_j + α·κ(t)) / φ + o_j."""
        m, a = self.model, self.automation
        return ((1.0 - a * m.eff[j]) * m.ell[j] + a * m.ai_cost) / self.productivity + m.countries[j].other_cost

    def set_hours(self):
        """H = (1 − α·e_c)·h·Q / (A_c·φ)."""
        m, c = self.model, self.location
        self.hours = (1.0 - self.automation * m.eff[c]) * (m.par["hours_per_unit"] / m.countries[c].productivity) \
            * self.output / self.productivity

    def quality_adjusted_cost(self) -> float:
        return self.uc / self.model.countries[self.home].quality

    # -- step 2 and 3: unit cost and market shares
    def set_unit_cost(self):
        self.uc = self.unit_cost_at(self.location)
        self.g = self.capacity * self.uc ** (-self.model.par["theta"])

    def set_target_shares(self):
        """Start year: π_im = π*_im = g_i·T_{c,m} / Σ_j g_j·T_{c_j,m}."""
        m = self.model
        self.pi = [self.g * m.friction_theta[self.location][k] / m.denominator[k] for k in m.markets]
        self.output = sum(s * m.demand[k] for k, s in zip(m.markets, self.pi))

    def adjust_shares(self):
        """π ← (1 − χ)·π + χ·π*; a market whose suppliers all exited jumps to π*."""
        m = self.model
        chi = m.par["adjustment_speed"]
        target = [self.g * m.friction_theta[self.location][k] / m.denominator[k] for k in m.markets]
        self.pi = [t if m.empty_market[k] else (1.0 - chi) * s + chi * t
                   for k, s, t in zip(m.markets, self.pi, target)]
        self.output = sum(s * m.demand[k] for k, s in zip(m.markets, self.pi))

    def rescale_shares(self):
        """After exits: the survivors share the exited firms' customers (markets without one stay empty)."""
        self.pi = [s / total for s, total in zip(self.pi, self.model.pi_total)]

    # -- step 5: adoption
    def decide_adoption(self):
        """Δ = min(Δα, α_max − α); candidate if the payback test holds and u < h_c."""
        m, p, c = self.model, self.model.par, self.location
        country = m.countries[c]
        self.adopt_step = min(p["adoption_step"], p["alpha_max"] - self.automation)
        saving = self.adopt_step * (m.eff[c] * m.ell[c] - m.ai_cost) * self.output / self.productivity
        self.capex = self.adopt_step * m.capex_per_output * self.output
        self.adopt_value = saving * p["payback_horizon"]
        self.candidate = (self.adopt_step > MIN_STEP * p["adoption_step"]
                          and self.adopt_value > self.capex * (1.0 - country.ai_subsidy_rate)
                          and self.u_adopt < m.hazard[c])

    def apply_adoption(self):
        """A candidate adopts if the payback test holds at the rationed subsidy rate."""
        self.adopts = self.candidate and self.adopt_value > self.capex * (1.0 - self.model.granted[self.location])
        if self.adopts:
            self.automation += self.adopt_step

    # -- step 6: relocation
    def choose_location(self):
        """Logit choice over countries of V_ij (see `sim.model.location.relocate`); None = stay."""
        m, p = self.model, self.model.par
        self.move_to = None
        if not self.reviews or self.output <= 0:
            return
        cur, home, C = self.location, self.home, len(m.countries)
        weights = [self.pi[k] * m.demand[k] / self.output for k in m.markets]        # ω_im
        landed = [self.unit_cost_at(j) * sum(w * m.friction[j][k] for k, w in zip(m.markets, weights))
                  for j in range(C)]
        value = []
        for j in range(C):
            if j == cur:
                value.append(0.0)
                continue
            country = m.countries[j]
            qualifies = (not country.reshoring_home_only) or home == j
            value.append(p["relocation_horizon"] * (landed[cur] - landed[j]) / landed[cur]
                         - p["relocation_cost"] * (1.0 - country.reshoring_incentive * qualifies)
                         - p["relocation_horizon"] * p["home_bias"] * ((j != home) - (cur != home)))
        top = max(value)
        cdf, total = [], 0.0
        for v in value:
            total += math.exp(p["relocation_sharpness"] * (v - top))
            cdf.append(total)
        choice = min(sum(1 for x in cdf if x < self.u_choice * total), C - 1)
        if choice != cur and value[choice] > 0:
            self.move_to = choice

    def jobs_at(self, j: int) -> float:
        m = self.model
        return (1.0 - self.automation * m.eff[j]) * (m.par["hours_per_unit"] / m.countries[j].productivity) \
            * self.output / self.productivity / m.par["annual_hours"]

    # -- step 7: losses
    def relative_price(self) -> float:
        """r = uc/(q·Q) · Σ_m π_m·D_m·F_{c,m}/P̄_m; without sales uc/q · F_{c,c}/P̄_c."""
        m, c = self.model, self.location
        if self.output > 0:
            weighted = sum(self.pi[k] * (m.friction[c][k] * (m.demand[k] * m.inv_price[k])) for k in m.markets)
            return self.quality_adjusted_cost() * weighted / self.output
        return self.quality_adjusted_cost() * (m.friction[c][c] * m.inv_price[c])

    def count_losses(self):
        loss = self.relative_price() > 1.0 + self.model.par["profit_margin"]
        self.loss_years = self.loss_years + 1 if loss else 0


# ---------------------------------------------------------------------------- the model
class ReferenceModel(mesa.Model):
    """Same rules as `sim.model.FactoryShiftModel`, one agent per firm, scalar arithmetic."""

    def __init__(self, scenario: Scenario | str, draws: ReplayDraws, *, firms: int | None = None,
                 shuffle_seed: int = 0):
        super().__init__(rng=np.random.default_rng(shuffle_seed))   # only shuffles the visiting order
        scenario = load_scenario(scenario) if not isinstance(scenario, Scenario) else scenario
        self.par = dict(scenario.model)
        self.draws = draws
        self.start_year = self.year = scenario.run["start_year"]
        self.end_year = scenario.run["end_year"]
        self.n0 = int(firms if firms is not None else scenario.run["firms"])
        self.codes = scenario.codes
        self.schedules = CountryState(scenario, self.start_year)   # lever values and tariffs only
        total_mva = sum(scenario.countries[c]["mva_share"] for c in self.codes)
        self.countries = []
        for code in self.codes:
            row = scenario.countries[code]
            table = sorted((int(y), float(v)) for y, v in row["working_age"].items())
            self.countries.append(CountryData(
                code=code, region=row["region"], mva_share=row["mva_share"] / total_mva,
                robot_density=row["robot_density"], wage=row["wage"], productivity=row["productivity"],
                productivity_growth=row["productivity_growth"], ai_readiness=row["ai_readiness"],
                other_cost=row["other_cost"], demand=row["demand"], working_age_table=table,
                working_age=interpolate(self.start_year, table)))
        self.markets = range(len(self.countries))
        self._apply_schedules()
        self.recorder = Recorder(self.codes)
        self.firms: list[Firm] = []       # living firms in id order (= the vectorised arrays' order)
        self.exited: list[Firm] = []
        self.moves_refused = 0            # moves the labor cap turned down (a diagnostic, not recorded)
        self.next_id = 0
        self._initialise_firms()
        self._calibrate()

    # ------------------------------------------------------------------ country-level helpers
    def _apply_schedules(self):
        self.schedules.apply_schedules(self.year)
        for i, country in enumerate(self.countries):
            for name in (*LEVERS, "reshoring_home_only"):
                setattr(country, name, getattr(self.schedules, name)[i].item())
        self.tariffs = self.schedules.tariffs.tolist()

    def _country_terms(self):
        """ℓ_c, e_c, κ(t), capex per output, trade factors F and T = F^(−θ) for this year."""
        p, t = self.par, self.year - self.start_year
        self.ell = [c.wage * p["hours_per_unit"] / c.productivity for c in self.countries]
        self.eff = [p["e_max"] * c.ai_readiness for c in self.countries]
        self.ai_cost = p["ai_unit_cost"] * (1 - p["ai_cost_decline"]) ** t
        self.capex_per_output = p["ai_capex_per_output"] * (1 - p["ai_cost_decline"]) ** t
        C = self.countries
        self.friction = [[(1.0 + self.tariffs[o][m]) * (1.0 if o == m else p["trade_cost_near"]
                          if C[o].region == C[m].region else p["trade_cost_far"]) for m in self.markets]
                         for o in self.markets]
        self.friction_theta = [[x ** (-p["theta"]) for x in row] for row in self.friction]

    def _sum_by_location(self, value) -> list[float]:
        out = [0.0] * len(self.countries)
        for f in self.firms:
            out[f.location] += value(f)
        return out

    def _mean_automation(self) -> list[float]:
        """Capacity-weighted mean α per location (0 where no firm)."""
        num = self._sum_by_location(lambda f: f.capacity * f.automation)
        den = self._sum_by_location(lambda f: f.capacity)
        return [a / b if b > 0 else 0.0 for a, b in zip(num, den)]

    def _labor_supply(self) -> list[float]:
        return [c.working_age * 1e6 * c.labor_share * c.labor_supply_boost for c in self.countries]

    def _visit(self, method: str):
        """Call `method` on every firm, in a shuffled order (the rules are synchronous)."""
        self.agents_by_type[Firm].shuffle_do(method)

    def _share_denominators(self):
        self.denominator = [sum(f.g * self.friction_theta[f.location][k] for f in self.firms) for k in self.markets]

    # ------------------------------------------------------------------ set-up
    def _add_firm(self, **kw) -> Firm:
        firm = Firm(self, self.next_id, **kw)
        self.next_id += 1
        self.firms.append(firm)
        return firm

    def _initialise_firms(self):
        p, C = self.par, self.countries
        quota = [c.mva_share * self.n0 for c in C]
        counts = [math.floor(q) for q in quota]
        for i in sorted(self.markets, key=lambda i: counts[i] - quota[i])[: self.n0 - sum(counts)]:
            counts[i] += 1
        counts = [1 if n == 0 and c.mva_share > 0 else n for n, c in zip(counts, C)]
        loc = [i for i in self.markets for _ in range(counts[i])]
        n = len(loc)
        z_phi, z_cap, z_alpha, u_age = (self.draws.normal(n), self.draws.normal(n), self.draws.normal(n),
                                        self.draws.uniform(n))
        for i, c in enumerate(loc):
            alpha0 = min(p["alpha_max"], p["automation_per_robot_density"] * C[c].robot_density)
            self._add_firm(home=c, location=c,
                           productivity=lognormal_mean_one(p["productivity_sigma"], z_phi[i]),
                           capacity=lognormal_mean_one(p["capacity_sigma"], z_cap[i]),
                           automation=min(max(alpha0 * lognormal_mean_one(p["automation_sigma"], z_alpha[i]), 0.0),
                                          p["alpha_max"]),
                           age=math.floor(40 * u_age[i]))
        self.demand = [c.demand for c in C]
        self.demand_start_total = sum(self.demand)

    def _calibrate(self, tol=1e-13, max_iter=10_000):
        """Country capacity scales K_c reproduce the start-year shares (fixed point), loss-making
        firms are lifted above their break-even productivity, and labor shares make the
        start-year tightness 1."""
        p, C = self.par, self.countries
        size = [f.capacity for f in self.firms]
        for selection_round in range(SELECTION_ROUNDS):
            for f, k in zip(self.firms, size):
                f.capacity = k
            self._country_terms()
            self._visit("set_unit_cost")                               # g_i at unit capacity scale
            s_unit = self._sum_by_location(lambda f: f.g)
            scale = [1.0 if c.mva_share > 0 and s > 0 else 0.0 for c, s in zip(C, s_unit)]
            world = sum(self.demand)
            for _ in range(max_iter):
                weight = [[scale[o] * s_unit[o] * self.friction_theta[o][m] for m in self.markets]
                          for o in self.markets]
                column = [sum(weight[o][m] for o in self.markets) for m in self.markets]
                share = [sum(weight[o][m] / column[m] * self.demand[m] for m in self.markets) / world
                         for o in self.markets]
                scale = [s * (c.mva_share / sh if sh > 0 else 0.0) for s, c, sh in zip(scale, C, share)]
                top = max(scale)
                scale = [s / top for s in scale]
                if max(abs(sh - c.mva_share) for sh, c in zip(share, C)) < tol:
                    break
            for c, s in zip(C, scale):
                c.capacity_scale = s
            for f in self.firms:
                f.capacity *= C[f.location].capacity_scale
            self._visit("set_unit_cost")
            self._share_denominators()
            self._visit("set_target_shares")
            self._calibrate_quality(first=selection_round == 0)
            if selection_round == SELECTION_ROUNDS - 1 or not self._raise_to_break_even():
                break
        # loss years of firms still loss-making are spread over [0, exit_after)
        for f, u in zip(self.firms, self.draws.uniform(len(self.firms))):
            loss = f.relative_price() > 1.0 + p["profit_margin"]
            f.loss_years = math.floor(u * p["exit_after"]) if loss else 0
        self._visit("set_hours")
        emp = [h / p["annual_hours"] for h in self._sum_by_location(lambda f: f.hours)]
        for c, e in zip(C, emp):
            c.labor_share = e / (c.working_age * 1e6) if c.working_age > 0 else 0.0
        supply = self._labor_supply()
        tightness = [e / s if s > 0 else 1.0 for e, s in zip(emp, supply)]
        zero = [0.0] * len(C)
        self._record(self._aggregates(supply, tightness, [c.wage for c in C], None),
                     [[0] * len(C) for _ in C], zero, zero, zero)

    def _calibrate_quality(self, first: bool, tol=1e-10, max_iter=200):
        """Solve r̄_c(q) = 1 (output-weighted mean relative price of the firms headquartered in c)
        in x = ln q_c, country by country, with the steps of `sim.model.setup.secant_step`."""
        C = self.countries
        if first:
            for c in C:
                c.quality = 1.0
        weight = [0.0] * len(C)
        for f in self.firms:
            weight[f.home] += f.output
        last = [None] * len(C)  # (ln q, ln r̄) of the previous pass
        for _ in range(max_iter):
            self._price_levels()
            total = [0.0] * len(C)
            for f in self.firms:
                total[f.home] += f.output * f.relative_price()
            mean = [t / w if w > 0 else 1.0 for t, w in zip(total, weight)]
            if max(abs(x - 1.0) for x in mean) < tol:
                break
            for i, (c, r) in enumerate(zip(C, mean)):
                x, g = math.log(c.quality), math.log(r)
                step = g                                   # the plain step q ← q·r̄
                if last[i] is not None and x != last[i][0]:
                    slope = (g - last[i][1]) / (x - last[i][0])
                    if math.isfinite(slope) and slope < 0:
                        step = -g / slope                  # the secant step
                bound = max(abs(g), min(20 * abs(g), 0.5))
                c.quality = math.exp(x + min(max(step, -bound), bound))
                last[i] = (x, g)

    def _raise_to_break_even(self) -> bool:
        """Loss-making firms get a productivity from the lognormal truncated at break-even,
        keeping their own quantile (see `sim.model.setup.raise_to_break_even`)."""
        p, sigma, changed = self.par, self.par["productivity_sigma"], False
        normal = NormalDist()

        def z_of(x):
            return (math.log(x) + 0.5 * sigma ** 2) / sigma

        decisions = [(f, f.relative_price()) for f in self.firms]  # all decided before any changes
        for f, rel in decisions:
            other = self.countries[f.location].other_cost
            target = f.uc * (1.0 + p["profit_margin"]) / rel
            if rel > 1.0 + p["profit_margin"] and target > other:
                cutoff = f.productivity * (f.uc - other) / (target - other)
                if sigma == 0:
                    f.productivity = cutoff
                else:
                    below = normal.cdf(z_of(cutoff))
                    quantile = min(below + normal.cdf(z_of(f.productivity)) * (1.0 - below), 1.0 - 2.0 ** -53)
                    f.productivity = max(cutoff, math.exp(sigma * normal.inv_cdf(quantile) - 0.5 * sigma ** 2))
                changed = True
        return changed

    # ------------------------------------------------------------------ the step
    def step(self):
        p, C = self.par, self.countries
        self.year += 1
        for c in C:
            c.productivity *= 1.0 + c.productivity_growth
            c.ai_readiness = min(1.0, c.ai_readiness + c.literacy_program)
            c.working_age = interpolate(self.year, c.working_age_table)
        # 1. policy schedules
        self._apply_schedules()
        self.demand = [d * (1.0 + c.demand_growth) for d, c in zip(self.demand, C)]
        # 2. unit costs
        self._country_terms()
        self._visit("set_unit_cost")
        # 3. market allocation
        self.empty_market = [sum(f.pi[k] for f in self.firms) == 0 for k in self.markets]
        self._share_denominators()
        self._visit("adjust_shares")
        # 4. labor market and wages
        self._visit("set_hours")
        supply = self._labor_supply()
        emp = [h / p["annual_hours"] for h in self._sum_by_location(lambda f: f.hours)]
        tightness = [e / s if s > 0 else 1.0 for e, s in zip(emp, supply)]
        wage_now = [c.wage for c in C]
        for c, t in zip(C, tightness):
            c.wage *= min(1.5, max(0.5, 1.0 + c.wage_growth + p["wage_response"] * (t - 1.0)))
        self._country_terms()                                      # ℓ_c with next year's wage
        # 5. AI adoption
        peer = [a / p["alpha_max"] for a in self._mean_automation()]
        self.hazard = [min(1.0, p["p0"] * (1.0 + p["subsidy_innovation_effect"] * c.ai_subsidy_rate)
                           + p["q0"] * (1.0 + p["coordination_effect"] * c.coordination
                                        + p["acceptance_effect"] * c.acceptance) * a)
                       for c, a in zip(C, peer)]
        for f, u in zip(self.firms, self.draws.uniform(len(self.firms))):
            f.u_adopt = u
        self._visit("decide_adoption")
        requested = self._sum_by_location(lambda f: C[f.location].ai_subsidy_rate * f.capex if f.candidate else 0.0)
        self.granted = []
        for c, r in zip(C, requested):
            fund = c.ai_fund if c.ai_fund >= 1.0 else 0.0  # under a dollar pays nothing
            ratio = min(1.0, fund / r) if r > 0 else 1.0
            self.granted.append(c.ai_subsidy_rate * (ratio * RATION_SAFETY if ratio < 1.0 else 1.0))
        self._visit("apply_adoption")
        spent = self._sum_by_location(lambda f: self.granted[f.location] * f.capex if f.adopts else 0.0)
        adoption = {"adopters": self._sum_by_location(lambda f: float(f.adopts)),
                    "requested": requested, "spent": spent}
        values = self._aggregates(supply, tightness, wage_now, adoption)
        # 6. relocation
        u_review, u_choice, u_order = (self.draws.uniform(len(self.firms)) for _ in range(3))
        for f, a, b, c in zip(self.firms, u_review, u_choice, u_order):
            f.reviews, f.u_choice, f.u_order = a < p["relocation_review_rate"], b, c
        self._visit("choose_location")
        # 7a. losses are judged where the firm produced this year, before the moves apply
        self._price_levels()
        self._visit("count_losses")
        flows, incentive = self._relocate(supply)
        # 7. entry and exit
        entries, exits = self._turnover()
        # 8. record
        self._record(values, flows, incentive, entries, exits)
        if self.year >= self.end_year:
            self.running = False

    def _relocate(self, supply):
        """Inflows into j are capped at labor_cap·L_j jobs: whole firms in `u_order` order."""
        p, C = self.par, self.countries
        flows = [[0] * len(C) for _ in C]
        spent = [0.0] * len(C)
        for j in self.markets:
            jobs = 0.0
            for f in sorted((f for f in self.firms if f.move_to == j), key=lambda f: f.u_order):
                jobs += f.jobs_at(j)
                f.move_accepted = jobs <= p["relocation_labor_cap"] * supply[j]
        self.moves_refused += sum(1 for f in self.firms if f.move_to is not None and not f.move_accepted)
        for f in self.firms:
            if f.move_to is not None and f.move_accepted:
                j = f.move_to
                flows[f.location][j] += 1
                qualifies = (not C[j].reshoring_home_only) or f.home == j
                spent[j] += C[j].reshoring_incentive * qualifies * p["relocation_cost"] * f.output
                f.location = j
        return flows, spent

    def _price_levels(self):
        """P̄_m = Σ_i π_im·uc_i·F_{c,m}/q_i over firms at their current location."""
        level = [sum(f.pi[k] * (f.quality_adjusted_cost() * self.friction[f.location][k]) for f in self.firms)
                 for k in self.markets]
        self.inv_price = [1.0 / x if x > 0 else 0.0 for x in level]

    def _turnover(self):
        p, C = self.par, self.countries
        exits = [0] * len(C)
        for f in self.firms:
            f.age += 1
            if f.loss_years >= p["exit_after"]:
                exits[f.location] += 1
                f.alive = False
                self.exited.append(f)
                f.remove()
        self.firms = [f for f in self.firms if f.loss_years < p["exit_after"]]
        totals = [sum(f.pi[k] for f in self.firms) for k in self.markets]
        self.pi_total = [t if t != 0 else 1.0 for t in totals]
        self._visit("rescale_shares")
        target = int(round(self.n0 * (sum(self.demand) / self.demand_start_total) ** p["firm_count_elasticity"]))
        n_new = max(0, target - len(self.firms))
        output = self._sum_by_location(lambda f: f.output)
        share = [q / sum(output) for q in output] if sum(output) > 0 else [c.mva_share for c in C]
        mean_alpha = self._mean_automation()
        cost = [(((1.0 - a * self.eff[c]) * self.ell[c] + a * self.ai_cost) / 1.0 + C[c].other_cost) / C[c].quality
                for c, a in zip(self.markets, mean_alpha)]
        mean = sum(s * x for s, x in zip(share, cost))
        weight = [s * math.exp(-p["entry_cost_sharpness"] * (x / mean - 1.0)) for s, x in zip(share, cost)]
        cdf, total = [], 0.0
        for w in weight:
            total += w / sum(weight)
            cdf.append(total)
        u_loc, z_phi, z_cap = self.draws.uniform(n_new), self.draws.normal(n_new), self.draws.normal(n_new)
        entries = [0] * len(C)
        for u, zp, zc in zip(u_loc, z_phi, z_cap):
            c = min(sum(1 for x in cdf if x <= u * cdf[-1]), len(C) - 1)
            entries[c] += 1
            self._add_firm(home=c, location=c, productivity=lognormal_mean_one(p["productivity_sigma"], zp),
                           capacity=C[c].capacity_scale * lognormal_mean_one(p["capacity_sigma"], zc),
                           automation=mean_alpha[c])
        return entries, exits

    def _aggregates(self, supply, tightness, wage, adoption):
        """Country aggregates of this year's production, before firms move, exit or enter."""
        p, C = self.par, self.countries
        output = self._sum_by_location(lambda f: f.output)
        automation = self._mean_automation()
        cost = self._sum_by_location(lambda f: f.uc * f.output)
        zero = [0.0] * len(C)
        density = p["automation_per_robot_density"]
        return {
            "production_share": [q / sum(output) for q in output],
            "output_usd": output,
            "automation": automation,
            "robot_density_index": [a / density for a in automation] if density > 0 else zero,
            "wage": wage,
            "employment": [h / p["annual_hours"] for h in self._sum_by_location(lambda f: f.hours)],
            "labor_supply": supply,
            "tightness": tightness,
            "unit_cost": [x / q if q > 0 else 0.0 for x, q in zip(cost, output)],
            "ai_readiness": [c.ai_readiness for c in C],
            "adopters": zero if adoption is None else adoption["adopters"],
            "subsidy_requested_usd": zero if adoption is None else adoption["requested"],
            "subsidy_spent_usd": zero if adoption is None else adoption["spent"],
            "ai_fund_usd": [c.ai_fund for c in C],
        }

    def _record(self, values, flows, incentive, entries, exits):
        values.update({
            "firms": self._sum_by_location(lambda f: 1),
            "entries": entries, "exits": exits, "reshoring_spent_usd": incentive,
            "relocations_in": [sum(row[j] for row in flows) for j in self.markets],
            "relocations_out": [sum(row) for row in flows],
        })
        self.recorder.add(self.year, values, np.array(flows))

    # ------------------------------------------------------------------ user API
    def run(self, until: int | None = None) -> ReferenceModel:
        until = self.end_year if until is None else min(until, self.end_year)
        while self.year < until:
            self.step()
        return self

    def firm_table(self, include_exited: bool = False) -> list[dict]:
        """One dict per firm (id order), with the same fields as `FirmPopulation.to_frame`."""
        firms = self.firms + (self.exited if include_exited else [])
        return sorted(({"id": f.firm_id, "home": self.codes[f.home], "location": self.codes[f.location],
                        "productivity": f.productivity, "capacity": f.capacity, "automation": f.automation,
                        "age": f.age, "loss_years": f.loss_years, "alive": f.alive,
                        "output": f.output, "pi": list(f.pi)} for f in firms), key=lambda r: r["id"])


# ---------------------------------------------------------------------------- comparison
FIRM_FIELDS = ("id", "home", "location", "productivity", "capacity", "automation", "age", "loss_years", "alive",
               "output")


#: Entries smaller than this fraction of a quantity's largest value are compared with that
#: fraction of the largest value instead of their own size (relative where values are large).
FLOOR = 1e-6


def max_relative_difference(x, y) -> float:
    """max |x − y| / max(|x|, |y|, FLOOR · max|x|) over the entries (equal entries, also equal
    infinities, count 0).

    The floor matters where a quantity is pure rounding noise: a firm whose automation is
    1e-16 below α_max "adopts" a step of 1e-16 and asks for a subsidy of 1e-8 US$, which
    both models compute, but not to 1e-9 relative.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape:
        return math.inf
    same = (x == y) | (np.isnan(x) & np.isnan(y))
    if same.all():
        return 0.0
    finite = np.abs(x[np.isfinite(x)])
    floor = FLOOR * (finite.max() if finite.size else 0.0)
    scale = np.maximum(np.maximum(np.abs(x), np.abs(y)), floor)
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(np.max(np.where(same, 0.0, np.abs(x - y) / scale)))


def compare(fast, slow: ReferenceModel) -> dict[str, float]:
    """Largest relative difference (`max_relative_difference`) between the vectorised `fast` and the
    reference `slow` run, per quantity.

    Firms (living and exited, in id order): every field of `FIRM_FIELDS` plus ``pi``; countries: every
    column of ``recorder.countries()``, plus the origin × destination relocation flows. Integer
    quantities (ids, countries, ages, counts) agree only if the difference is 0.
    """
    out: dict[str, float] = {}
    frame = fast.firms.to_frame(fast.state.codes, include_exited=True)
    table = slow.firm_table(include_exited=True)
    index = {code: i for i, code in enumerate(slow.codes)}
    for name in FIRM_FIELDS:
        x = frame[name].to_numpy()
        y = [row[name] for row in table]
        if name in ("home", "location"):
            x, y = [index[c] for c in x], [index[c] for c in y]
        out[f"firm.{name}"] = max_relative_difference(x, y)
    if len(frame) == len(table):
        pi_fast = [list(fast.firm(int(i)).market_shares.values()) for i in frame["id"]]
        out["firm.pi"] = max_relative_difference(pi_fast, [row["pi"] for row in table])
    else:
        out["firm.pi"] = math.inf
    a, b = fast.recorder.countries(), slow.recorder.countries()
    for col in a.columns:
        if col == "country":
            out["country.country"] = 0.0 if list(a[col]) == list(b[col]) else math.inf
        else:
            out[f"country.{col}"] = max_relative_difference(a[col], b[col])
    fa, fb = fast.recorder.flows(), slow.recorder.flows()
    out["flows"] = 0.0 if fa.equals(fb) else math.inf
    return out



def main(argv=None) -> int:
    """Quick check (also what `make bench` runs for this file): baseline, 1,000 firms, 2024–2034."""
    import argparse
    import time

    from sim import FactoryShiftModel

    ap = argparse.ArgumentParser(description="Run the vectorised model and the reference on the same draws.")
    ap.add_argument("--firms", type=int, default=1000)
    ap.add_argument("--until", type=int, default=2034)
    args = ap.parse_args(argv)
    scenario = load_scenario("baseline")
    draws = RecordingDraws(np.random.default_rng(scenario.run["seed"]))
    t0 = time.perf_counter()
    fast = FactoryShiftModel(scenario, firms=args.firms, draws=draws).run(args.until)
    t1 = time.perf_counter()
    slow = ReferenceModel(scenario, draws.replay(), firms=args.firms).run(args.until)
    t2 = time.perf_counter()
    worst = max(compare(fast, slow).values())
    print(f"baseline, {args.firms:,} firms, {fast.start_year}–{fast.year}: vectorised {t1 - t0:.3f} s "
          f"(recording draws), reference {t2 - t1:.3f} s")
    print(f"summary: reference_model largest relative difference {worst:.1e} "
          f"({'agree' if worst <= 1e-9 else 'DISAGREE'} to 1e-9)")
    return 0 if worst <= 1e-9 else 1


if __name__ == "__main__":
    raise SystemExit(main())
