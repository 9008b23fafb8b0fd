"""FactoryShift (Model v2) written the plain Mesa way: the yardstick for the vectorised `FactoryShiftModel`.

One `mesa.Agent` per firm, each doing its own scalar arithmetic (``math``, no numpy over
firms); countries are plain data (`CountryData`, one per country) and the year's cost
tables are nested Python lists (`CostTables`). Every country, pair or market sum that the
vectorised code takes with ``bincount``, ``einsum`` or a matrix product is a Python sum over
the agents here. Updates are synchronous: a submodel first computes its sums from the state
before it, then every firm updates itself from those sums and its own state (the firms are
visited in a shuffled order, `shuffle_do`, to show that the order does not matter).

The rules are those of `sim/model/` (each method names the function it mirrors and the
equation it implements; the symbols are those of docs/ODD.md):

* costs (`market.Costs`): ℓ_hc = w_c·h_u/A_hc with A_hc = A_h^ζ·A_c^(1−ζ);
  uc_i = ((1 − α_i·e_c)·ℓ_hc + α_i·κ(t))/φ_i + r_h; W_{hc,m} = γ_hc·F_cm/B_hm;
* allocation (`market.allocate`), labor and wages (`labor`), AI adoption with its five
  channels (`adoption`), location choice by expected profit with market access for movers
  and entrants (`location`), the loss test, exits and Melitz-filtered entry (`turnover`),
  robots (`robots`), the record (`record.country_values`);
* the start-year calibration (`setup`): capacity scales per location, A_c from employment,
  automation from robot stocks, r_h, foreign owners, quality ξ_h and the lifting of
  loss-making firms, solved with the same fixed points, round structure and stopping rules.

Randomness is replayed, not drawn: run the vectorised model with `RecordingDraws` and hand
`draws.replay()` to `ReferenceModel`. The vectorised model draws whole vectors, in this
order: at set-up normal×3 (φ, k̃, automation spread), uniform (age), uniform (foreign),
uniform (headquarters of the foreign), then uniform (loss-year spread); each year keyed
uniforms for adoption and review for every living firm (element i is the i-th living firm in
id order), choice for the reviewing firms with sales and order for the movers (both in id
order; neither if no firm reviews), then entry_hq, entry_location, entry_productivity (normal),
entry_capacity (normal) for the year's candidates and entry_order for the candidates abroad.
`ReplayDraws` hands them out in that order and fails loudly if the reference asks for a
different kind or number, which is also how a different number of exits, entrants or
candidates abroad shows up.

Scenario parsing and the schedule engine (`CountryState.apply_schedules`, which decides
which tariff a ``tariffs.default`` schedule may overwrite, and `CountryState.use_levers`)
are input handling, not step rules: the reference reads each year's lever values and tariff
matrix from its own `CountryState` instance and keeps every other country quantity (wages,
productivity, readiness, demand, working age, labor, robots, calibrated values) itself.
`Recorder` only stores the rows the reference computes (`RowRecorder`).

Usage::

    draws = RecordingDraws(np.random.default_rng(1))
    fast = FactoryShiftModel(scenario, firms=300, draws=draws).run()
    slow = ReferenceModel(scenario, draws.replay(), firms=300).run()
    compare(fast, slow)          # largest relative difference per quantity
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
from sim.model.record import COUNTRY_COLUMNS, Recorder
from sim.model.setup import FIRM_COUNT_POWER, INNER_ROUNDS, ROUGH_TOLERANCE, SELECTION_ROUNDS, TOLERANCE, VIABLE_Z
from sim.scenarios.parameters import LEVERS
from sim.scenarios.scenario import Scenario, load_scenario

#: Bisection steps for the start-year automation where α_max binds (the model solves the same equation exactly,
#: segment by segment: `robots.start_automation`); 2⁻⁶⁰ of the bracket.
BISECTION_STEPS = 60


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


# ---------------------------------------------------------------------------- small scalar helpers
_NORMAL = NormalDist()


def _upper(z: float) -> float:
    """P(Z > z) for a standard normal, without the cancellation of 1 − CDF in the upper tail."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def lognormal_mean_one(sigma: float, z: float) -> float:
    """exp(σ·z − σ²/2): lognormal with mean 1 from a standard normal z (`draws.lognormal_mean_one`)."""
    return math.exp(sigma * z - 0.5 * sigma ** 2)


def lognormal_mean_one_z(sigma: float, x: float) -> float:
    """z = (ln x + σ²/2)/σ, the inverse of `lognormal_mean_one`."""
    return (math.log(x) + 0.5 * sigma ** 2) / sigma


def interpolate(x: int, table: list[tuple[int, float]]) -> float:
    """Linear between table years, flat outside (the arithmetic of ``np.interp``)."""
    if x <= table[0][0]:
        return table[0][1]
    if x >= table[-1][0]:
        return table[-1][1]
    for (x0, y0), (x1, y1) in zip(table, table[1:]):
        if x0 <= x < x1:
            return y0 if x == x0 else (y1 - y0) / (x1 - x0) * (x - x0) + y0
    raise AssertionError("unreachable")


def pick_at_most(weights: list[float], u: float) -> int:
    """Inverse-CDF draw (`draws.categorical`): the number of cumulative weights ≤ u·total, at most C − 1."""
    cdf, total = [], 0.0
    for w in weights:
        total += w
        cdf.append(total)
    return min(sum(1 for x in cdf if x <= u * total), len(weights) - 1)


def pick_below(weights: list[float], u: float) -> int:
    """Inverse-CDF draw of `location.choose`: the number of cumulative weights < u·total, at most C − 1."""
    cdf, total = [], 0.0
    for w in weights:
        total += w
        cdf.append(total)
    return min(sum(1 for x in cdf if x < u * total), len(weights) - 1)


def within_room(queue: list[tuple[float, float]], room: float) -> list[bool]:
    """`location.within_room` for one destination: `queue` holds (u, jobs) per arrival; whole arrivals are
    taken in the order of u while their cumulative jobs stay within `room` (the first one that does not
    fit stops the queue behind it). Returns, per arrival in the given order, whether it fits."""
    order = sorted(range(len(queue)), key=lambda i: queue[i][0])
    fits, cumulative = [False] * len(queue), 0.0
    for i in order:
        cumulative += queue[i][1]
        fits[i] = cumulative <= room
    return fits


# ---------------------------------------------------------------------------- countries
@dataclass
class CountryData:
    """One country's state as plain Python numbers (the reference's copy of `CountryState`)."""

    code: str
    region: str
    mva_share: float                   # start-year share of world MVA (normalised)
    employment: float                  # start-year employment, million persons (target of A_c)
    annual_hours: float                # h_yr,c
    foreign_share: float               # share of the start's firms headquartered abroad
    robot_density: float               # IFR's start-year density (0: none published)
    robot_stock: float                 # robots: IFR's start stock, then the model's stock of last year
    productivity_growth: float
    working_age_table: list[tuple[int, float]]
    wage_lcu: float                    # w̃_c, local currency per hour
    ai_readiness: float                # R_c
    demand: float                      # D_m, this market's demand this year
    working_age: float = 0.0           # WA_c(t), million persons
    productivity: float = 1.0          # A_c (calibrated at start)
    capital_cost: float = 0.5          # r_h (calibrated at start)
    workforce_share: float = 0.0       # n_c (calibrated at start)
    robot_coverage: float = 1.0        # v_c (calibrated at start)
    capacity_scale: float = 0.0        # K_c (calibrated at start)
    quality: float = 1.0               # ξ_h (calibrated at start)
    effective_subsidy: float = 0.0     # s̃_c, the subsidy rate paid last year
    # policy levers and trends, read every year from the schedules
    ai_subsidy_rate: float = 0.0
    ai_fund: float = 0.0
    mission: float = 0.0
    coordination: float = 0.0
    acceptance: float = 0.0
    reshoring_incentive: float = 0.0
    reshoring_home_only: bool = False
    literacy_program: float = 0.0
    labor_supply_boost: float = 1.0
    exchange_rate: float = 1.0
    wage_growth: float = 0.0
    demand_growth: float = 0.0

    @property
    def wage(self) -> float:
        """w_c = w̃_c·x_c, US$/hour."""
        return self.wage_lcu * self.exchange_rate


class CostTables:
    """This year's costs as nested lists (`market.Costs.of`; ODD 7.1–7.2). [h][c] headquarters × location,
    [c][m] origin × market, [h][c][m] pair × market.

        A_hc = A_h^ζ·A_c^(1−ζ)            ℓ_hc = w_c·h_u/A_hc           e_c = e_max·R_c
        κ(t) = κ0·(1 − δ_AI)^t             X(t) = X0·(1 − δ_AI)^t         r_h (calibrated)
        F_cm = (1 + τ_{c→m})·d_cm          γ_hc (1 at home)              B_hm = 1 + β_B·[h = m]
        W_{hc,m} = γ_hc·F_cm/B_hm          weight = W^(−θ)
    """

    def __init__(self, countries: list[CountryData], tariffs: list[list[float]], par: dict, years_since_start: int):
        n, p = len(countries), par
        same = [[a.region == b.region for b in countries] for a in countries]
        zeta = p["technology_portability"]
        self.n, self.hours_per_unit = n, p["hours_per_unit"]
        self.technology = [[a.productivity ** zeta * b.productivity ** (1.0 - zeta) for b in countries]
                           for a in countries]
        self.labor = self._labor([c.wage for c in countries])
        self.effectiveness = [p["e_max"] * c.ai_readiness for c in countries]
        self.capital = [c.capital_cost for c in countries]
        decline = (1 - p["ai_cost_decline"]) ** years_since_start
        self.ai_running = p["ai_unit_cost"] * decline
        self.ai_capex = p["ai_capex_per_output"] * decline
        self.friction = [[(1.0 + tariffs[o][m]) * (1.0 if o == m else p["trade_cost_near"] if same[o][m]
                                                   else p["trade_cost_far"]) for m in range(n)] for o in range(n)]
        self.mp = [[1.0 if h == c else p["mp_penalty_near"] if same[h][c] else p["mp_penalty_far"]
                    for c in range(n)] for h in range(n)]
        brand = [[1.0 + p["brand_home_bias"] * (1.0 if h == m else 0.0) for m in range(n)] for h in range(n)]
        self.price_factor = [[[self.mp[h][c] * self.friction[c][m] / brand[h][m] for m in range(n)]
                              for c in range(n)] for h in range(n)]
        self.weight = [[[w ** (-p["theta"]) for w in row] for row in table] for table in self.price_factor]

    def _labor(self, wage: list[float]) -> list[list[float]]:
        return [[wage[c] * self.hours_per_unit / self.technology[h][c] for c in range(self.n)] for h in range(self.n)]

    def at_wage(self, wage: list[float]) -> CostTables:
        """The same costs with labor priced at `wage` (`Costs.at_wage`: decisions look ahead to next year's wage)."""
        ahead = object.__new__(CostTables)
        ahead.__dict__.update(self.__dict__)
        ahead.labor = self._labor(wage)
        return ahead


def unit_cost(costs: CostTables, alpha: float, phi: float, h: int, c: int) -> float:
    """uc = ((1 − α·e_c)·ℓ_hc + α·κ(t))/φ + r_h (ODD 7.1, `Costs.unit_cost`)."""
    return ((1.0 - alpha * costs.effectiveness[c]) * costs.labor[h][c] + alpha * costs.ai_running) / phi \
        + costs.capital[h]


def hours(costs: CostTables, alpha: float, phi: float, h: int, c: int, output: float) -> float:
    """Λ = (1 − α·e_c)·h_u·Q/(A_hc·φ): hours worked (ODD 7.3, `Costs.hours`)."""
    return (1.0 - alpha * costs.effectiveness[c]) * (costs.hours_per_unit * output) \
        / (costs.technology[h][c] * phi)


@dataclass
class LaborMarket:
    """Per country: employment E_c, supply L_c (persons), tightness T_c and the wage w_c(t) paid."""

    employment: list[float]
    supply: list[float]
    tightness: list[float]
    wage: list[float]


# ---------------------------------------------------------------------------- firms
class Firm(mesa.Agent):
    """One firm: headquarters `home`, production `location`, market shares `pi` (one per market)."""

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
        self.pi = [0.0] * model.n
        self.alive = True
        self.uc = 0.0
        self.last_uc = 1.0        # uc_i(t−1), of the last allocation (entrants have no shares to revalue)

    # -- 7.1 unit cost
    def set_unit_cost(self):
        """uc_i at this year's costs (`model.costs`), at the firm's own location and headquarters."""
        self.uc = unit_cost(self.model.costs, self.automation, self.productivity, self.home, self.location)

    def weight(self) -> float:
        """g_i = k_i·uc_i^(−θ) (`market.allocation_weights`)."""
        return self.capacity * self.uc ** (-self.model.par["theta"])

    def hours(self, costs, alpha=None, at=None) -> float:
        """Λ_i at its location (or `at`), with its automation (or `alpha`)."""
        return hours(costs, self.automation if alpha is None else alpha, self.productivity, self.home,
                     self.location if at is None else at, self.output)

    # -- 7.2 market allocation
    def take_target_shares(self):
        """Start year: π_im = π*_im = g_i·W_{hc,m}^(−θ)/Den_m; Q_i = Σ_m π_im·D_m (`market.target_shares`)."""
        m, g = self.model, self.weight()
        w = m.costs.weight[self.home][self.location]
        self.pi = [w[k] / m.denominator[k] * g for k in m.markets]
        self.output = sum(s * m.countries[k].demand for k, s in zip(m.markets, self.pi))

    def revalue_shares(self):
        """π_im ← π_im·(uc_i(t)/uc_i(t−1))^υ, before the market's sum is rescaled to 1 (`market.revalue`)."""
        ratio = (self.uc / self.last_uc) ** self.model.par["volume_inertia"]
        self.pi = [s * ratio for s in self.pi]

    def adjust_shares(self):
        """π_im ← (1 − χ)·π_im + χ·π*_im; a market whose suppliers all exited jumps to π* (`market.adjust`)."""
        m, g, chi = self.model, self.weight(), self.model.par["adjustment_speed"]
        w = m.costs.weight[self.home][self.location]
        self.pi = [w[k] / m.denominator[k] * g if m.empty_market[k]
                   else s * (1.0 - chi) + chi * w[k] / m.denominator[k] * g
                   for k, s in zip(m.markets, self.pi)]
        self.output = sum(s * m.countries[k].demand for k, s in zip(m.markets, self.pi))

    def rescale_shares(self):
        """After exits: the survivors share the exited firms' customers (`market.normalise_columns`)."""
        self.pi = [s / total for s, total in zip(self.pi, self.model.pi_total)]

    # -- 7.4 AI adoption
    def decide_adoption(self):
        """Δ_i = min(Δα, α_max − α_i) at its location c and headquarters h, with next year's wage (`adoption.adopt`):

            saving_i = Δ_i·(e_c·ℓ_hc − κ(t))·Q_i/φ_i         capex_i = Δ_i·X(t)·Q_i·(1 + λ_a·(1 − a_c))
            F_i(s) = 1/(1 + (capex_i·(1 − s)/(saving_i·H_c))^(1/σ_a))   (0 if saving_i ≤ 0)
            candidate: Δ_i > 10⁻⁹·Δα and u_i < λ_c·F_i(s_c)
        """
        m, p, c = self.model, self.model.par, self.location
        country, costs = m.countries[c], m.ahead
        self.adopt_step = min(p["adoption_step"], p["alpha_max"] - self.automation)
        saving = (self.adopt_step * (costs.effectiveness[c] * costs.labor[self.home][c] - costs.ai_running)
                  * self.output / self.productivity)
        self.capex = self.adopt_step * costs.ai_capex * self.output * m.adoption_friction[c]
        self.adopt_value = saving * m.horizon[c]
        self.candidate = (self.adopt_step > MIN_STEP * p["adoption_step"]
                          and self.u_adopt < m.hazard[c] * self.threshold_share(country.ai_subsidy_rate))

    def threshold_share(self, rate):
        """F_i at subsidy rate s: the share of firms like this one whose payback threshold the step passes."""
        spread, net = self.model.par["adoption_threshold_spread"], self.capex * (1.0 - rate)
        if self.adopt_value <= 0:
            return 0.0
        if spread <= 0:
            return 1.0 if self.adopt_value > net else 0.0
        z = (math.log(self.adopt_value) - (math.log(net) if net > 0 else -math.inf)) / spread
        return 0.5 * (1.0 + math.tanh(0.5 * z))

    def apply_adoption(self):
        """A candidate adopts if u_i < λ_c·F_i(s̃_c) still holds at the granted rate s̃_c; α_i ← α_i + Δ_i."""
        m = self.model
        self.adopts = self.candidate and self.u_adopt < m.hazard[self.location] * self.threshold_share(
            m.granted[self.location])
        if self.adopts:
            self.automation += self.adopt_step

    # -- 7.5 relocation
    def choose_location(self):
        """A reviewing firm with sales (u_review < ρ, Q_i > 0) draws j with P(j) ∝ exp(β_r·V_j) by inverse CDF
        of u_choice and moves there if V_j > 0 (`location.relocate`, `location.choose`; V_j from
        `ReferenceModel.location_values`, with its own α and φ). `move_to` is None if it stays."""
        m = self.model
        self.move_to = None
        if not self.reviews or not self.output > 0:
            return
        value = m.location_values(self.home, self.location, [self.automation] * m.n, self.productivity,
                                  incentive=True)
        beta, top = m.par["relocation_sharpness"], max(value)
        pick = pick_below([math.exp(beta * (v - top)) for v in value], self.u_choice)
        if pick != self.location and value[pick] > 0:
            self.move_to = pick

    # -- 7.6 loss test
    def relative_price(self, inv_price: list[float]) -> float:
        """r_i = uc_i/(ξ_h·Q_i)·Σ_m π_im·D_m·W_{hc,m}/P̄_m; without sales uc_i/ξ_h·W_{hc,h}/P̄_h
        (`market.relative_price`)."""
        m = self.model
        uc_q = self.uc / m.countries[self.home].quality
        w = m.costs.price_factor[self.home][self.location]
        if self.output > 0:
            weighted = sum(self.pi[k] * (w[k] * (m.countries[k].demand * inv_price[k])) for k in m.markets)
            return uc_q * weighted / self.output
        return uc_q * (w[self.home] * inv_price[self.home])

    def count_losses(self):
        """loss_i: r_i > 1 + μ; loss years count up, and reset after a profitable year (`turnover.update_losses`)."""
        loss = self.rel > 1.0 + self.model.par["profit_margin"]
        self.loss_years = self.loss_years + 1 if loss else 0


# ---------------------------------------------------------------------------- recording
class RowRecorder(Recorder):
    """A `Recorder` that stores rows the reference computed itself (every countries.csv column)."""

    def add_row(self, year: int, values: dict[str, list], moves: list[int], entries: list[list[int]]) -> None:
        n = len(self.codes)
        self._rows["year"].append(np.full(n, year))
        self._rows["country"].append(np.array(self.codes))
        for name in list(COUNTRY_COLUMNS)[2:]:
            self._rows[name].append(np.asarray(values[name], dtype=float))
        self._moves.append((year, np.asarray(moves, dtype=np.int64)))
        self._entries.append((year, np.asarray(entries, dtype=np.int64)))


# ---------------------------------------------------------------------------- the model
class ReferenceModel(mesa.Model):
    """Same rules as `sim.model.FactoryShiftModel` (Model v2), one agent per firm, scalar arithmetic."""

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
        self.n = len(self.codes)
        self.markets = range(self.n)
        # lever values and tariffs only: the start is calibrated on the observed world's levers
        self.schedules = CountryState(scenario, self.start_year, levers=scenario.observed)
        self.countries = self._read_countries(scenario)
        self._read_levers()
        self.recorder = RowRecorder(self.codes, np.array([[a.region == b.region for b in self.countries]
                                                          for a in self.countries]))
        self.firms: list[Firm] = []       # living firms in id order (= the vectorised arrays' order)
        self.exited: list[Firm] = []
        self.next_id = 0
        # diagnostics (not recorded): mechanisms the countries.csv columns do not show
        self.moves_refused = 0            # would-be movers the labor cap turned down
        self.entrants_abroad = 0          # entrants producing outside their headquarters country
        self.entrants_sent_home = 0       # candidates abroad that found no room and produce at home
        self.candidates_rejected = 0      # candidates loss-making at entry (Melitz filter)
        self.start_lifted = 0             # start firms lifted to break-even
        self.start_unliftable = 0         # loss-making start firms beyond φ_max (VIABLE_Z), not lifted (per round)
        self.start_capped = 0             # start firms at α_max, the cap binding in the start's robot match
        self.entrants_home_later = 0      # entrants sent home to a country later in the loop over destinations
        self.start_foreign = 0            # start firms given a foreign headquarters
        self._initialise()
        # from now on the scenario's own levers, with this year's schedules
        self.schedules.use_levers(scenario)
        self.schedules.apply_schedules(self.start_year)
        self._read_levers()
        self._start_subsidy()

    # ------------------------------------------------------------------ country-level helpers
    def _read_countries(self, scenario) -> list[CountryData]:
        observed = scenario.observed or {}
        rows = [{**scenario.countries[c], **observed.get(c, {})} for c in self.codes]
        total_mva = sum(r["mva_share"] for r in rows)
        out = []
        for code, row in zip(self.codes, rows):
            table = sorted((int(y), float(v)) for y, v in row["working_age"].items())
            out.append(CountryData(
                code=code, region=row["region"], mva_share=row["mva_share"] / total_mva,
                employment=float(row["employment"]), annual_hours=float(row["annual_hours"]),
                foreign_share=float(row["foreign_share"]), robot_density=float(row["robot_density"]),
                robot_stock=float(row["robot_stock"]), productivity_growth=float(row["productivity_growth"]),
                working_age_table=table, wage_lcu=row["wage"] / row["exchange_rate"],
                ai_readiness=float(row["ai_readiness"]), demand=float(row["demand"]),
                working_age=interpolate(self.start_year, table)))
        return out

    def _read_levers(self):
        """This year's lever values and tariffs from the schedule engine (input handling, not a rule)."""
        for i, country in enumerate(self.countries):
            for name in (*LEVERS, "reshoring_home_only"):
                setattr(country, name, getattr(self.schedules, name)[i].item())
        self.tariffs = self.schedules.tariffs.tolist()

    def _start_subsidy(self):
        """s̃_c before any request: the announced rate where a fund can pay it (`CountryState.start_subsidy`)."""
        for c in self.countries:
            c.effective_subsidy = c.ai_subsidy_rate * (1.0 if c.ai_fund >= 1.0 else 0.0)

    def _cost_tables(self, years_since_start: int) -> CostTables:
        return CostTables(self.countries, self.tariffs, self.par, years_since_start)

    def _by_location(self, value) -> list[float]:
        out = [0.0] * self.n
        for f in self.firms:
            out[f.location] += value(f)
        return out

    def _by_home(self, value) -> list[float]:
        out = [0.0] * self.n
        for f in self.firms:
            out[f.home] += value(f)
        return out

    def _mean_automation(self) -> list[float]:
        """ᾱ_c = Σ_{i∈c} k_i·α_i / Σ_{i∈c} k_i (0 where no firm; `adoption.mean_automation`)."""
        num = self._by_location(lambda f: f.capacity * f.automation)
        den = self._by_location(lambda f: f.capacity)
        return [a / b if b > 0 else 0.0 for a, b in zip(num, den)]

    def _visit(self, method: str):
        """Call `method` on every firm, in a shuffled order (the rules are synchronous)."""
        self.agents_by_type[Firm].shuffle_do(method)

    def _add_firm(self, **kw) -> Firm:
        firm = Firm(self, self.next_id, **kw)
        self.next_id += 1
        self.firms.append(firm)
        return firm

    # ------------------------------------------------------------------ 7.1-7.2 costs and allocation
    def _set_costs(self, costs: CostTables):
        """Step 2: this year's cost tables and every firm's unit cost uc_i."""
        self.costs = costs
        self._visit("set_unit_cost")

    def _share_denominators(self):
        """Den_m = Σ_i g_i·W_{h_i c_i, m}^(−θ), the allocation's denominator."""
        w = self.costs.weight
        den = [0.0] * self.n
        for f in self.firms:
            g, row = f.weight(), w[f.home][f.location]
            for k in self.markets:
                den[k] += g * row[k]
        self.denominator = den

    def _allocate(self):
        """Step 3 (ODD 7.2, `market.allocate`): π ← (1 − χ)·π + χ·π*, π*_im = g_i·W_{hc,m}^(−θ)/Den_m;
        Q_i = Σ_m π_im·D_m; before it, π_im ← π_im·(uc_i(t)/uc_i(t−1))^υ / Σ_i' π_i'm·(uc_i'(t)/uc_i'(t−1))^υ
        (`market.revalue`)."""
        if self.par["volume_inertia"] != 0:
            self._visit("revalue_shares")
            self._normalise_shares()
        for f in self.firms:
            f.last_uc = f.uc
        self.empty_market = [sum(f.pi[k] for f in self.firms) == 0 for k in self.markets]
        self._share_denominators()
        self._visit("adjust_shares")

    def _normalise_shares(self):
        """Every market's shares rescaled to sum to 1 (a market without shares stays at 0;
        `market.normalise_columns`)."""
        totals = [sum(f.pi[k] for f in self.firms) for k in self.markets]
        self.pi_total = [t if t != 0 else 1.0 for t in totals]
        self._visit("rescale_shares")

    def _market_access(self) -> list[list[float]]:
        """MA_hj = Σ_m D_m·W_{hj,m}^(−θ)/Den_m at this year's competition (`location.market_access`)."""
        self._share_denominators()
        share = [c.demand / d if d > 0 else 0.0 for c, d in zip(self.countries, self.denominator)]
        w = self.costs.weight
        return [[sum(w[h][j][k] * share[k] for k in self.markets) for j in self.markets] for h in self.markets]

    # ------------------------------------------------------------------ 7.3 labor and wages
    def _employment(self, costs: CostTables) -> list[float]:
        """E_c = Σ_{i∈c} Λ_i / h_yr,c (persons; `labor.employment`)."""
        total = self._by_location(lambda f: f.hours(costs))
        return [h / c.annual_hours for h, c in zip(total, self.countries)]

    def _labor_market(self, costs: CostTables) -> LaborMarket:
        """E_c, L_c = WA_c·10⁶·n_c·boost_c and T_c = E_c/L_c (1 where L_c = 0) at this year's wage (`labor.clear`)."""
        employed = self._employment(costs)
        supply = [c.working_age * 1e6 * c.workforce_share * c.labor_supply_boost for c in self.countries]
        tight = [e / s if s > 0 else 1.0 for e, s in zip(employed, supply)]
        return LaborMarket(employed, supply, tight, [c.wage for c in self.countries])

    def _next_wages(self, tightness: list[float]):
        """w̃_c ← w̃_c·clip(1 + g_c + η·(T_c − 1) − η_WA·(WA_c(t+1)/WA_c(t) − 1), 0.8, 1.25) (`labor.next_wage`)."""
        p = self.par
        for c, t in zip(self.countries, tightness):
            growth = interpolate(self.year + 1, c.working_age_table) / c.working_age - 1.0
            factor = 1.0 + c.wage_growth + p["wage_response"] * (t - 1.0) - p["demographic_wage_effect"] * growth
            c.wage_lcu = c.wage_lcu * min(max(factor, 0.8), 1.25)

    # ------------------------------------------------------------------ 7.4 adoption
    def _adopt(self) -> dict:
        """Step 5 (`adoption.adopt`), at next year's wage (`self.ahead`):

            ψ_c = ᾱ_c/α_max                 λ_c = R_c^λ_R·min(1, p_c + q_c·ψ_c)
            p_c = p0·(1 + λ_s·s̃_c)          q_c = q0·(1 + λ_ν·ν_c)            H_c = H_a·(1 + λ_m·m_c)
            requested_c = Σ_candidates s_c·capex_i,  f_c = min(1, fund_c/requested_c) (fund < US$1 counts 0),
            s̃_c = s_c·f_c (× (1 − 10⁻¹²) when rationed; s_c·[fund_c > 0] without requests),
            spent_c = Σ_adopters s̃_c·capex_i
        """
        p, C = self.par, self.countries
        peer = [a / p["alpha_max"] for a in self._mean_automation()]
        self.hazard = [c.ai_readiness ** p["readiness_barrier"]
                       * min(1.0, p["p0"] * (1.0 + p["subsidy_innovation_effect"] * c.effective_subsidy)
                             + p["q0"] * (1.0 + p["coordination_effect"] * c.coordination) * psi)
                       for c, psi in zip(C, peer)]
        self.horizon = [p["payback_horizon"] * (1.0 + p["mission_effect"] * c.mission) for c in C]
        self.adoption_friction = [1.0 + p["acceptance_effect"] * (1.0 - c.acceptance) for c in C]
        for f, u in zip(self.firms, self.draws.uniform(len(self.firms))):
            f.u_adopt = u
        self._visit("decide_adoption")
        requested = self._by_location(lambda f: C[f.location].ai_subsidy_rate * f.capex if f.candidate else 0.0)
        self.granted = []
        for c, r in zip(C, requested):
            fund = 0.0 if c.ai_fund < 1.0 else c.ai_fund            # under a dollar pays nothing
            if r > fund:
                funded = fund / r * RATION_SAFETY
            else:
                funded = 1.0 if r > 0 else (1.0 if fund > 0 else 0.0)
            self.granted.append(c.ai_subsidy_rate * funded)
        self._visit("apply_adoption")
        spent = self._by_location(lambda f: self.granted[f.location] * f.capex if f.adopts else 0.0)
        for c, rate in zip(C, self.granted):
            c.effective_subsidy = rate
        return {"adopters": self._by_location(lambda f: 1.0 if f.adopts else 0.0),
                "requested": requested, "spent": spent}

    # ------------------------------------------------------------------ 7.5 location choice
    def location_values(self, home: int, cur: int, alpha: list[float], phi: float, incentive: bool) -> list[float]:
        """V_j of a firm from `home` producing at `cur` for every location j (`location.location_values`)::

            uc_hj     = ((1 − α_j·e_j)·ℓ_hj + α_j·κ(t))/φ + r_h         (α_j: its automation at j)
            Π_j/Π_cur = (uc_hj/uc_h,cur)^(−θ)·MA_hj/MA_h,cur
            V_j       = H_r·ln(Π_j/Π_cur)/θ − M·(1 − I_j·elig_hj),   V_cur = 0

        elig_hj = [h = j] where j limits its incentive to its own firms, else 1; I_j = 0 without
        `incentive` (entrants). Costs at next year's wage, MA this year's.
        """
        p, costs, C = self.par, self.ahead, self.countries
        theta = p["theta"]
        uc = [unit_cost(costs, alpha[j], phi, home, j) for j in self.markets]
        access = self.access[home]
        value = []
        for j in self.markets:
            if j == cur:
                value.append(0.0)
                continue
            reach = access[j] / access[cur]
            log_gain = (math.log(reach) / theta if reach > 0 else -math.inf) - math.log(uc[j] / uc[cur])
            qualifies = incentive and (not C[j].reshoring_home_only or home == j)
            fee = p["relocation_cost"] * (1.0 - C[j].reshoring_incentive if qualifies else 1.0)
            value.append(p["relocation_horizon"] * log_gain - fee)
        return value

    def _relocate(self, supply: list[float]) -> dict:
        """Step 6 (ODD 7.5, `location.relocate`): a share ρ reviews (u_i < ρ, with sales), chooses by
        `Firm.choose_location`; arrivals into j are accepted in the order of a third uniform while their
        jobs Λ_i(at j)/h_yr,j stay within cap_L·L_j; j pays I_j·elig·M·Q_i per accepted move. Moves apply
        after the loss test. Returns the accepted moves and the room left for entrants abroad."""
        p, C = self.par, self.countries
        for f, u in zip(self.firms, self.draws.uniform(len(self.firms))):
            f.reviews = u < p["relocation_review_rate"]
        reviewers = [f for f in self.firms if f.reviews and f.output > 0]
        for f, u in zip(reviewers, self.draws.uniform(len(reviewers)) if reviewers else []):
            f.u_choice = u                     # drawn for the reviewers with sales, in id order
        self._visit("choose_location")
        room = [p["relocation_labor_cap"] * s for s in supply]
        movers = [f for f in self.firms if f.move_to is not None]
        for f, u in zip(movers, self.draws.uniform(len(movers)) if reviewers else []):
            f.u_order = u                      # and for the movers, in id order
        accepted: list[Firm] = []
        for j in self.markets:
            arriving = [f for f in movers if f.move_to == j]
            jobs = [f.hours(self.ahead, at=j) / C[j].annual_hours for f in arriving]
            fits = within_room([(f.u_order, x) for f, x in zip(arriving, jobs)], room[j])
            accepted += [f for f, ok in zip(arriving, fits) if ok]
            room[j] -= sum(x for x, ok in zip(jobs, fits) if ok)
        self.moves_refused += len(movers) - len(accepted)
        accepted.sort(key=lambda f: f.firm_id)
        flows = [[0] * self.n for _ in self.markets]
        spent = [0.0] * self.n
        moves = []
        for f in accepted:
            j, o, h = f.move_to, f.location, f.home
            flows[o][j] += 1
            qualifies = (not C[j].reshoring_home_only) or h == j
            spent[j] += C[j].reshoring_incentive * (1.0 if qualifies else 0.0) * p["relocation_cost"] * f.output
            moves.append((h * self.n + o) * self.n + j)
        return {"movers": accepted, "flows": flows, "spent": spent, "moves": moves, "room": room}

    # ------------------------------------------------------------------ 7.6 loss test, exit and entry
    def _price_levels(self) -> list[float]:
        """P̄_m = Σ_i π_im·uc_i·W_{hc,m} (`market.market_price_levels`) at this year's costs."""
        level = [0.0] * self.n
        for f in self.firms:
            w = self.costs.price_factor[f.home][f.location]
            for k in self.markets:
                level[k] += f.pi[k] * f.uc * w[k]
        return level

    def _relative_prices(self, level: list[float] | None = None) -> list[float]:
        """r_i of every firm (`Firm.relative_price`, stored as `f.rel`) against the price levels `level` (default:
        this year's, `_price_levels`); returns the levels."""
        if level is None:
            level = self._price_levels()
        inv = [1.0 / x if x > 0 else 0.0 for x in level]
        for f in self.firms:
            f.rel = f.relative_price(inv)
        return level

    def entry_table(self, alpha: list[float]) -> list[list[float]]:
        """P(j | h) (`location.entry_table`): an entrant from h decides like a reviewing firm at home with
        φ = 1, the automation ᾱ_j it would have at j and no incentive; P(j) ∝ exp(β_r·V_hj) over the j with
        V_hj > 0, the rest of the mass stays at h. Rows h, columns j."""
        beta, prob = self.par["relocation_sharpness"], []
        for h in self.markets:
            value = self.location_values(h, h, alpha, 1.0, incentive=False)
            top = max(value)
            weight = [math.exp(beta * (v - top)) for v in value]
            total = sum(weight)
            row = [w / total for w in weight]
            stay = sum(x for x, v in zip(row, value) if not v > 0)
            row = [x if v > 0 else 0.0 for x, v in zip(row, value)]
            row[h] += stay
            prob.append(row)
        return prob

    def _exit_and_enter(self, price_level: list[float], room: list[float]) -> tuple[list[list[int]], list[int]]:
        """Step 7b (ODD 7.6, `turnover.exit_and_enter`).

        Exit after n_exit loss years (counted at next year's location); every firm ages a year; the
        survivors' shares are renormalised. N*(t) = round(N0·(Σ D(t)/Σ D(t0))^ε_N); max(0, N* − N)
        candidates: headquarters h by the survivors' output per headquarters, location j from P(j | h),
        φ and k = K_h·k̃ lognormal, α = ᾱ_j. A candidate abroad needs jobs k·E_j/K_j (jobs per unit of
        capacity at j) from the room the movers left (queue by a keyed uniform), else it produces at home.
        Melitz: it enters only if r = uc·W_{hj,h}/(ξ_h·P̄⁰_h) ≤ 1 + μ where it produces, judged before
        the queue and again at home for those sent home.
        """
        p, C, costs = self.par, self.countries, self.ahead
        exits = [0] * self.n
        survivors = []
        for f in self.firms:
            f.age += 1
            if f.loss_years >= p["exit_after"]:
                exits[f.location] += 1
                f.alive = False
                self.exited.append(f)
                f.remove()
            else:
                survivors.append(f)
        self.firms = survivors
        self._normalise_shares()
        target = int(round(self.n0 * (sum(c.demand for c in C) / self.demand_start) ** p["firm_count_elasticity"]))
        n_new = max(0, target - len(self.firms))
        by_hq = self._by_home(lambda f: f.output)
        hq_share = [q / sum(by_hq) for q in by_hq] if sum(by_hq) > 0 else [c.mva_share for c in C]
        alpha = self._mean_automation()
        prob = self.entry_table(alpha)
        u_hq, u_loc = self.draws.uniform(n_new), self.draws.uniform(n_new)
        z_phi, z_cap = self.draws.normal(n_new), self.draws.normal(n_new)
        candidates = []
        for k in range(n_new):
            h = pick_at_most(hq_share, u_hq[k])
            candidates.append({"hq": h, "loc": pick_at_most(prob[h], u_loc[k]),
                               "phi": lognormal_mean_one(p["productivity_sigma"], z_phi[k]),
                               "size": C[h].capacity_scale * lognormal_mean_one(p["capacity_sigma"], z_cap[k])})
        def loss_making(e) -> bool:
            h, j = e["hq"], e["loc"]
            uc = unit_cost(costs, alpha[j], e["phi"], h, j)
            level = C[h].quality * price_level[h]
            rel = uc * costs.price_factor[h][j][h] / level if level > 0 else math.inf
            return not rel <= 1.0 + p["profit_margin"]

        kept = []
        for e in candidates:                 # Melitz, before the candidates abroad queue for workers
            if loss_making(e):
                self.candidates_rejected += 1
            else:
                kept.append(e)
        employed = self._employment(costs)
        capacity = self._by_location(lambda f: f.capacity)
        per_capacity = [e / k if e > 0 else 0.0 for e, k in zip(employed, capacity)]
        abroad = [e for e in kept if e["loc"] != e["hq"]]
        for e, u in zip(abroad, self.draws.uniform(len(abroad))):
            e["u_order"] = u
        queues = [[e for e in abroad if e["loc"] == j] for j in self.markets]   # before anyone is sent home
        for j, arriving in zip(self.markets, queues):
            fits = within_room([(e["u_order"], e["size"] * per_capacity[j]) for e in arriving], room[j])
            for e, ok in zip(arriving, fits):
                if not ok:
                    e["loc"] = e["hq"]
                    self.entrants_sent_home += 1
                    self.entrants_home_later += e["hq"] > j      # must not queue again at home
                    if loss_making(e):       # at home it must pay too
                        self.candidates_rejected += 1
                        e["rejected"] = True
        entries = [[0] * self.n for _ in self.markets]
        for e in (e for e in kept if not e.get("rejected")):
            h, j = e["hq"], e["loc"]
            entries[h][j] += 1
            self.entrants_abroad += h != j
            self._add_firm(home=h, location=j, productivity=e["phi"], capacity=e["size"], automation=alpha[j])
        return entries, exits

    # ------------------------------------------------------------------ 7.7 record, robots
    def _manual_workers(self, f: Firm, costs: CostTables) -> float:
        """X_i = h_u·Q_i/(A_hc·φ_i·h_yr,c): the workers firm i would need at α = 0 (`robots.manual_workers`)."""
        return f.hours(costs, alpha=0.0) / self.countries[f.location].annual_hours

    def _robot_stock(self, costs: CostTables) -> list[float]:
        """stock_c = ρ_R·Σ_{i∈c} α_i·X_i (`robots.stock`)."""
        rho = self.par["robots_per_automated_output"]
        return [rho * s for s in self._by_location(lambda f: f.automation * self._manual_workers(f, costs))]

    def _country_values(self, labor: LaborMarket, adoption: dict | None) -> dict[str, list]:
        """Country aggregates of this year's production, before firms move, exit or enter
        (`record.country_values`); updates each country's robot stock."""
        p, C = self.par, self.countries
        output = self._by_location(lambda f: f.output)
        by_hq = self._by_home(lambda f: f.output)
        stock = self._robot_stock(self.costs)
        installed = [max(0.0, s - c.robot_stock) + p["robot_depreciation"] * c.robot_stock for s, c in zip(stock, C)]
        density = []
        for s, e, c in zip(stock, labor.employment, C):
            base = c.robot_coverage * e
            density.append(1e4 * s / base if base > 0 else 0.0)
        for c, s in zip(C, stock):
            c.robot_stock = s
        cost = self._by_location(lambda f: f.uc * f.output)
        zero = [0.0] * self.n
        return {
            "production_share": [q / sum(output) for q in output],
            "hq_share": [q / sum(by_hq) for q in by_hq],
            "output_usd": output,
            "automation": self._mean_automation(),
            "robot_density": density,
            "robot_stock": stock,
            "robot_installations": zero if adoption is None else installed,
            "wage": labor.wage,
            "exchange_rate": [c.exchange_rate for c in C],
            "employment": labor.employment,
            "labor_supply": labor.supply,
            "tightness": labor.tightness,
            "unit_cost": [x / q if q > 0 else 0.0 for x, q in zip(cost, output)],
            "ai_readiness": [c.ai_readiness for c in C],
            "adopters": zero if adoption is None else adoption["adopters"],
            "subsidy_requested_usd": zero if adoption is None else adoption["requested"],
            "subsidy_spent_usd": zero if adoption is None else adoption["spent"],
            "effective_subsidy_rate": [c.effective_subsidy for c in C],
            "ai_fund_usd": [c.ai_fund for c in C],
        }

    def _record(self, values: dict, moved: dict, entries: list[list[int]], exits: list[int]):
        """Step 8 (`record.Recorder.add_year`): firms counted where they are at year end, moves by kind."""
        n = self.n
        firms, firms_hq = [0] * n, [0] * n
        for f in self.firms:
            firms[f.location] += 1
            firms_hq[f.home] += 1
        reshored_in, offshored_out = [0] * n, [0] * n
        for key in moved["moves"]:
            h, rest = divmod(key, n * n)
            o, d = divmod(rest, n)
            reshored_in[d] += d == h and o != h
            offshored_out[o] += o == h and d != h
        flows = moved["flows"]
        values = {**values, "firms": firms, "firms_hq": firms_hq,
                  "entries": [sum(row[j] for row in entries) for j in self.markets],
                  "entries_hq": [sum(row) for row in entries], "exits": exits,
                  "reshoring_spent_usd": moved["spent"],
                  "relocations_in": [sum(row[j] for row in flows) for j in self.markets],
                  "relocations_out": [sum(row) for row in flows],
                  "reshored_in": reshored_in, "offshored_out": offshored_out}
        self.recorder.add_row(self.year, values, moved["moves"], entries)

    # ------------------------------------------------------------------ section 5: initialisation
    def _initialise(self):
        """`FactoryShiftModel.__init__`: populate, calibrate on the observed levers, record the start year."""
        start = self._populate()
        self._calibrate(*start)
        self._start_subsidy()
        labor = self._labor_market(self.costs)
        nobody = {"movers": [], "flows": [[0] * self.n for _ in self.markets], "spent": [0.0] * self.n,
                  "moves": []}
        self._record(self._country_values(labor, None), nobody, [[0] * self.n for _ in self.markets], [0] * self.n)

    def _populate(self):
        """`setup.populate`: firms per country ∝ mva_share^½ (largest remainder, at least one per producing
        country), all at home; φ, k̃ lognormal, α = 0, age ⌊40u⌋. Returns the draws the calibration needs:
        the automation spread exp(σ_α·z − σ_α²/2), the foreign flags u < foreign_share_c and the uniforms for
        the foreign firms' headquarters."""
        p, C = self.par, self.countries
        weight = [c.mva_share ** FIRM_COUNT_POWER for c in C]
        total = sum(weight)
        quota = [w / total * self.n0 for w in weight]
        counts = [math.floor(q) for q in quota]
        for i in sorted(self.markets, key=lambda i: counts[i] - quota[i])[: self.n0 - sum(counts)]:
            counts[i] += 1
        counts = [1 if k == 0 and c.mva_share > 0 else k for k, c in zip(counts, C)]
        loc = [c for c in self.markets for _ in range(counts[c])]
        size = len(loc)
        z_phi, z_cap, z_alpha = self.draws.normal(size), self.draws.normal(size), self.draws.normal(size)
        u_age = self.draws.uniform(size)
        for i, c in enumerate(loc):
            self._add_firm(home=c, location=c, productivity=lognormal_mean_one(p["productivity_sigma"], z_phi[i]),
                           capacity=lognormal_mean_one(p["capacity_sigma"], z_cap[i]), automation=0.0,
                           age=math.floor(40 * u_age[i]))
        foreign = [u < C[c].foreign_share for u, c in zip(self.draws.uniform(size), loc)]
        spread = [lognormal_mean_one(p["automation_sigma"], z) for z in z_alpha]
        return spread, foreign, self.draws.uniform(size)

    def _calibrate(self, spread: list[float], foreign: list[bool], u_headquarters: list[float]):
        """`setup.calibrate`: solve the start (`_solve_start`), assign foreign owners, then rounds of
        "solve the start, calibrate ξ, lift loss-making firms" until none is lifted (at most SELECTION_ROUNDS);
        spread the loss years of firms still loss-making; n_c (tightness 1), v_c and the model's robot stock."""
        p, C = self.par, self.countries
        size = [f.capacity for f in self.firms]
        scale = self._solve_start(size, spread, None, ROUGH_TOLERANCE)
        self._assign_foreign_owners(foreign, u_headquarters)
        for c in C:
            c.quality = 1.0
        for selection_round in range(SELECTION_ROUNDS):
            scale = self._solve_start(size, spread, scale, ROUGH_TOLERANCE)
            self._calibrate_quality()
            if selection_round == SELECTION_ROUNDS - 1 or not self._raise_to_break_even():
                break
            self._normalise_productivity()
        scale = self._solve_start(size, spread, scale, TOLERANCE)     # the full tolerance at the end
        self.start_capped = sum(f.automation >= self.par["alpha_max"] for f in self.firms)
        self._calibrate_quality()
        for c, k in zip(C, scale):          # the first C groups: each country's own firms at home
            c.capacity_scale = k
        self.start_price_level = self._relative_prices()      # P̄⁰_m, held by the loss test and entry
        for f, u in zip(self.firms, self.draws.uniform(len(self.firms))):
            loss = f.rel > 1.0 + p["profit_margin"]
            f.loss_years = math.floor(u * p["exit_after"]) if loss else 0
        employed = self._employment(self.costs)
        for c, e in zip(C, employed):
            c.workforce_share = e / (c.working_age * 1e6 * c.labor_supply_boost) \
                if c.working_age * c.labor_supply_boost > 0 else 0.0
            known = c.robot_density > 0 and e > 0      # v_c = 10⁴·stock_c/(density_c·E_c) (`robots.coverage`)
            c.robot_coverage = 1e4 * c.robot_stock / (c.robot_density * e) if known else 1.0
        for c, s in zip(C, self._robot_stock(self.costs)):
            c.robot_stock = s
        self.demand_start = sum(c.demand for c in C)
        for f in self.firms:
            f.last_uc = f.uc

    def _solve_start(self, size: list[float], spread: list[float], scale: list[float] | None,
                     tolerance: float) -> list[float]:
        """`setup.solve_start`: K_c reproduces the shares at the current costs (`_calibrate_capacity`),
        π = π*, then A_c matches employment, α matches robot stocks and r_h balances value added, which moves
        the costs; repeated (at most INNER_ROUNDS) until A_c, ᾱ_c and r_h change by at most `tolerance`
        (relative). Leaves `self.costs` and every uc_i as computed at the start of the last round."""
        C, theta = self.countries, self.par["theta"]
        for _ in range(INNER_ROUNDS):
            self._set_costs(self._cost_tables(0))
            g_unit = [k * f.uc ** (-theta) for f, k in zip(self.firms, size)]
            scale = self._calibrate_capacity(g_unit, scale)
            for f, k in zip(self.firms, size):
                f.capacity = k * scale[self._group(f)]
            self._share_denominators()
            self._visit("take_target_shares")
            before = [c.productivity for c in C] + self._mean_automation() + [c.capital_cost for c in C]
            self._match_employment()
            self._start_automation(spread)
            self._value_added_balance()
            after = [c.productivity for c in C] + self._mean_automation() + [c.capital_cost for c in C]
            if not any(abs(a - b) / max(abs(b), 1e-300) > tolerance for a, b in zip(after, before)):
                break
        return scale

    def _group(self, f) -> int:
        """The firm's capacity group at the start: c for c's own firms at c, C + c for foreign-owned ones."""
        return f.location + self.n * (f.home != f.location)

    def _calibrate_capacity(self, g_unit: list[float], initial: list[float] | None, tol=1e-13,
                            max_iter=10_000) -> list[float]:
        """K_g with start-year production shares S_g(K) equal to their targets (`market.calibrate_capacity`,
        `market.ownership_groups`): group c holds c's own firms at c, group C + c the foreign-owned firms
        at c, with targets mva_share_c·(1 − f_c) and mva_share_c·f_c (f_c the foreign share, 0 where no
        foreign-owned firm produces at c)::

            G_hc = Σ_{i∈(h,c)} k̃_i·uc_i^(−θ)      by_g,m = Σ_{(h,c)∈g} G_hc·W_{hc,m}^(−θ)
            S_g(K) = Σ_m D_m·K_g·by_g,m / Σ_g' K_g'·by_g',m / Σ_m D_m
            K_g ← K_g·target_g/S_g(K), rescaled to max K = 1, until max |S − target| < tol
        """
        n, C, w = self.n, self.countries, self.costs.weight
        G = [[0.0] * n for _ in range(n)]
        for f, g in zip(self.firms, g_unit):
            G[f.home][f.location] += g
        by_group = [[0.0] * n for _ in range(2 * n)]
        for h in range(n):
            for c in range(n):
                g = c + n * (h != c)
                for m in range(n):
                    by_group[g][m] += G[h][c] * w[h][c][m]
        has_foreign = [any(f.location == c and f.home != c for f in self.firms) for c in range(n)]
        foreign = [c.foreign_share if has_foreign[i] else 0.0 for i, c in enumerate(C)]
        target = [c.mva_share * (1.0 - x) for c, x in zip(C, foreign)] + [c.mva_share * x for c, x in zip(C, foreign)]
        use = [t > 0 and sum(row) > 0 for t, row in zip(target, by_group)]
        scale = [(initial[g] if initial is not None and initial[g] > 0 else 1.0) if use[g] else 0.0
                 for g in range(2 * n)]
        demand = [c.demand for c in C]
        world = sum(demand)
        for _ in range(max_iter):
            spend = [[scale[g] * by_group[g][m] for m in range(n)] for g in range(2 * n)]
            column = [sum(spend[g][m] for g in range(2 * n)) for m in range(n)]
            share = [sum(spend[g][m] / column[m] * demand[m] for m in range(n)) / world for g in range(2 * n)]
            # a share that underflowed to 0 must pull its scale up, not trap it at 0
            scale = [k * (target[g] / max(share[g], 1e-300) if use[g] else 0.0) for g, k in enumerate(scale)]
            top = max(scale)
            scale = [k / top for k in scale]
            if max(abs(s - t) for s, t in zip(share, target)) < tol:
                break
        return scale

    def _match_employment(self, max_iter: int = 200):
        """A_c ← A_c·E_c/E*_c until |E_c/E*_c − 1| < 10⁻¹³ everywhere (`setup.match_employment`)."""
        C = self.countries
        for _ in range(max_iter):
            got = self._employment(self._cost_tables(0))
            ratio = [e / (c.employment * 1e6) if e > 0 and c.employment * 1e6 > 0 else 1.0 for e, c in zip(got, C)]
            for c, r in zip(C, ratio):
                c.productivity = c.productivity * r
            if max(abs(r - 1.0) for r in ratio) < 1e-13:
                break

    def _start_automation(self, spread: list[float]):
        """α_i = min(α_max, ᾱ_c·spread_i) with ᾱ_c such that ρ_R·Σ_{i∈c} α_i·X_i equals the start's robot stock:
        exact without the cap, by bisection where it binds (`robots.start_automation`)."""
        p, C, n = self.par, self.countries, self.n
        rho, alpha_max = p["robots_per_automated_output"], p["alpha_max"]
        costs = self._cost_tables(0)
        workers = [self._manual_workers(f, costs) for f in self.firms]
        linear = [0.0] * n
        widest = [0.0] * n
        for f, s, x in zip(self.firms, spread, workers):
            linear[f.location] += s * x
            widest[f.location] = max(widest[f.location], s)
        linear = [rho * x for x in linear]
        level = [c.robot_stock / x if x > 0 else 0.0 for c, x in zip(C, linear)]
        capped = [a * s > alpha_max for a, s in zip(level, widest)]
        if any(capped):
            lo = [0.0] * n
            hi = [alpha_max / max(min(spread), 1e-12) if k else a for k, a in zip(capped, level)]
            for _ in range(BISECTION_STEPS):
                mid = [0.5 * (a + b) for a, b in zip(lo, hi)]
                got = [0.0] * n
                for f, s, x in zip(self.firms, spread, workers):
                    got[f.location] += min(alpha_max, mid[f.location] * s) * x
                low = [rho * g < c.robot_stock for g, c in zip(got, C)]
                lo = [m if k else a for k, m, a in zip(low, mid, lo)]
                hi = [b if k else m for k, m, b in zip(low, mid, hi)]
            level = [0.5 * (a + b) if k else x for k, a, b, x in zip(capped, lo, hi, level)]
        for f, s in zip(self.firms, spread):
            f.automation = min(alpha_max, level[f.location] * s)

    def _value_added_balance(self, floor: float = 0.05):
        """r_h = (Σ Q_i − Σ ((1 − α_i·e_h)·ℓ_hh + α_i·κ)·Q_i/φ_i)/Σ Q_i over the firms headquartered in h and
        producing there, at least `floor` (0.5 where h has none; `setup.value_added_balance`)."""
        costs = self._cost_tables(0)
        total, labor = [0.0] * self.n, [0.0] * self.n
        for f in self.firms:
            if f.home == f.location:
                c = f.location
                a = f.automation
                unit = (1.0 - a * costs.effectiveness[c]) * costs.labor[c][c] + a * costs.ai_running
                total[c] += f.output
                labor[c] += unit * f.output / f.productivity
        for country, q, x in zip(self.countries, total, labor):
            country.capital_cost = max(floor, (q - x) / q if q > 0 else 0.5)

    def _assign_foreign_owners(self, foreign: list[bool], u_headquarters: list[float]):
        """`setup.assign_foreign_owners`: a firm drawn foreign (not the first firm of its location) gets a
        headquarters h ≠ c with probability ∝ S_h, the output of h's firms. Where production is stays as
        observed."""
        n = self.n
        size = self._by_home(lambda f: f.output)
        owners = [[size[h] if h != c else 0.0 for h in range(n)] for c in range(n)]
        first = set()
        chosen = []
        for f, is_foreign, u in zip(self.firms, foreign, u_headquarters):
            if f.location not in first:
                first.add(f.location)      # every location keeps a firm of its own
                continue
            if is_foreign and sum(owners[f.location]) > 0:
                chosen.append((f, u))
        for f, u in chosen:
            f.home = pick_at_most(owners[f.location], u)
        self.start_foreign = len(chosen)

    def _calibrate_quality(self, tol: float = 1e-10, max_iter: int = 200):
        """ξ_h such that r̄_h = Σ_{home=h} Q_i·r_i / Σ_{home=h} Q_i = 1 (`setup.calibrate_quality`), solved in
        x = ln ξ from the last ξ by `setup.secant_step`: the plain step g = ln r̄, or the secant step −g/s where
        the slope s of the last two passes is negative, bounded to max(|g|, min(20|g|, 0.5)). Leaves every
        firm's r_i at the last evaluation in `f.rel`."""
        C = self.countries
        weight = self._by_home(lambda f: f.output)
        last = None
        for _ in range(max_iter):
            self._relative_prices()
            total = self._by_home(lambda f: f.output * f.rel)
            mean = [t / w if w > 0 else 1.0 for t, w in zip(total, weight)]
            if max(abs(r - 1.0) for r in mean) < tol:
                break
            x = [math.log(c.quality) for c in C]
            g = [math.log(r) for r in mean]
            for i, c in enumerate(C):
                step = g[i]
                if last is not None:
                    dx, dg = x[i] - last[0][i], g[i] - last[1][i]
                    slope = dg / dx if dx != 0 else math.nan
                    if math.isfinite(slope) and slope < 0:
                        step = -g[i] / slope
                bound = max(abs(g[i]), min(20 * abs(g[i]), 0.5))
                c.quality = math.exp(x[i] + min(max(step, -bound), bound))
            last = (x, g)

    def _raise_to_break_even(self) -> bool:
        """`setup.raise_to_break_even`: a firm with r_i > 1 + μ whose break-even cost uc*_i = uc_i·(1 + μ)/r_i
        exceeds r_h and whose φ* = φ·(uc − r_h)/(uc* − r_h) is at most the lognormal's quantile at z = VIABLE_Z
        gets φ ← max(φ*, CDF⁻¹(min(CDF(φ*) + CDF(φ)·(1 − CDF(φ*)), 1 − 2⁻⁵³))) (CDF of the lognormal φ; with
        0 < σ_φ < 10⁻⁹ φ ← φ*; σ_φ = 0 lifts none). Returns whether any firm changed."""
        p, sigma = self.par, self.par["productivity_sigma"]
        lifted = []
        for f in self.firms:                              # all decided before any change
            fixed = self.costs.capital[f.home]
            target = f.uc * (1.0 + p["profit_margin"]) / f.rel
            if f.rel > 1.0 + p["profit_margin"] and target > fixed:
                cutoff = f.productivity * (f.uc - fixed) / (target - fixed)
                if cutoff <= lognormal_mean_one(sigma, VIABLE_Z):
                    lifted.append((f, cutoff))
                else:
                    self.start_unliftable += 1
        for f, cutoff in lifted:
            if sigma < 1e-9:
                f.productivity = cutoff
                continue
            tail = max(_upper(lognormal_mean_one_z(sigma, cutoff))     # 1 − quantile, exact in the upper tail
                       * _upper(lognormal_mean_one_z(sigma, f.productivity)), 2.0 ** -53)
            z = -_NORMAL.inv_cdf(tail) if tail < 1.0 else -math.inf    # ndtri(1) = ∞ in the model
            f.productivity = max(cutoff, lognormal_mean_one(sigma, z))
        self.start_lifted += len(lifted)
        return bool(lifted)

    def _normalise_productivity(self):
        """`setup.normalise_productivity`: φ_i ← φ_i/φ̄_h, φ̄_h = Σ Q_i / Σ (Q_i/φ_i) over the firms headquartered
        in h (all decided before any change)."""
        n = len(self.countries)
        total, hours = [0.0] * n, [0.0] * n
        for f in self.firms:
            total[f.home] += f.output
            hours[f.home] += f.output / f.productivity
        level = [t / h if h > 0 else 1.0 for t, h in zip(total, hours)]
        for f in self.firms:
            f.productivity = f.productivity / level[f.home]

    # ------------------------------------------------------------------ the step
    def _advance(self):
        """Exogenous drifts (`CountryState.advance`): A_c ← A_c·(1 + g_A), R_c ← min(1, R_c + literacy)
        (last year's programme), WA_c ← WA_c(t)."""
        for c in self.countries:
            c.productivity = c.productivity * (1.0 + c.productivity_growth)
            c.ai_readiness = min(1.0, c.ai_readiness + c.literacy_program)
            c.working_age = interpolate(self.year, c.working_age_table)

    def step(self):
        """One year in the order of `FactoryShiftModel.step` (ODD section 3)."""
        self.year += 1
        self._advance()
        self.schedules.apply_schedules(self.year)                  # 1. policy schedules
        self._read_levers()
        for c in self.countries:
            c.demand = c.demand * (1.0 + c.demand_growth)
        self._set_costs(self._cost_tables(self.year - self.start_year))   # 2. costs
        self._allocate()                                            # 3. market allocation
        self.access = self._market_access()
        labor = self._labor_market(self.costs)                      # 4. labor market and wages
        self._next_wages(labor.tightness)
        self.ahead = self.costs.at_wage([c.wage for c in self.countries])
        adoption = self._adopt()                                    # 5. AI adoption
        values = self._country_values(labor, adoption)
        moved = self._relocate(labor.supply)                        # 6. relocation
        price_level = self._relative_prices(self.start_price_level)  # 7a. losses where this year's production was
        self._visit("count_losses")
        for f in moved["movers"]:
            f.location = f.move_to
        entries, exits = self._exit_and_enter(price_level, moved["room"])   # 7b. exit and entry
        self._record(values, moved, entries, exits)                 # 8. record
        if self.year >= self.end_year:
            self.running = False

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
    column of ``recorder.countries()``; the relocation flows (hq × origin × destination × kind) and the
    entrants (hq × location) must be equal. Integer quantities (ids, countries, ages, counts) agree only
    if the difference is 0.
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
    out["flows"] = 0.0 if fast.recorder.flows().equals(slow.recorder.flows()) else math.inf
    out["entrants"] = 0.0 if fast.recorder.entrants().equals(slow.recorder.entrants()) else math.inf
    return out


def main(argv=None) -> int:
    """Quick check (also what `make bench` runs for this file): baseline, 1,000 firms, 2024–2034."""
    import argparse
    import time

    from sim import FactoryShiftModel

    ap = argparse.ArgumentParser(description="Run the vectorised model and the reference on the same draws.")
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--firms", type=int, default=1000)
    ap.add_argument("--until", type=int, default=None, help="last year (default: start year + 10)")
    args = ap.parse_args(argv)
    scenario = load_scenario(args.scenario)
    until = args.until or scenario.run["start_year"] + 10
    draws = RecordingDraws(np.random.default_rng(scenario.run["seed"]))
    t0 = time.perf_counter()
    fast = FactoryShiftModel(scenario, firms=args.firms, draws=draws).run(until)
    t1 = time.perf_counter()
    slow = ReferenceModel(scenario, draws.replay(), firms=args.firms).run(until)
    t2 = time.perf_counter()
    differences = compare(fast, slow)
    worst_key = max(differences, key=differences.get)
    worst = differences[worst_key]
    print(f"{args.scenario}, {args.firms:,} firms, {fast.start_year}–{fast.year}: vectorised {t1 - t0:.3f} s "
          f"(recording draws), reference {t2 - t1:.3f} s")
    print(f"summary: reference_model largest relative difference {worst:.1e} ({worst_key}; "
          f"{'agree' if worst <= 1e-9 else 'DISAGREE'} to 1e-9)")
    return 0 if worst <= 1e-9 else 1


if __name__ == "__main__":
    raise SystemExit(main())
