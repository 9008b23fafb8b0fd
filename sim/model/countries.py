"""Country agents and the per-country state arrays they view.

The vectorised submodels need country state as arrays indexed by country number
(`CountryState`); users and Mesa need one agent per country (`Country`). A
`Country` agent owns no copy of its state: its attributes read and write the
arrays, so there is one truth.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.scenarios.parameters import LEVERS
from sim.scenarios.schedule import LeverPaths

#: Scenario parameters read into per-country arrays (the levers among them can follow schedules).
SCENARIO_FIELDS = (
    "wage_growth", "exchange_rate", "productivity_growth", "ai_readiness", "demand", "demand_growth",
    "employment", "annual_hours", "foreign_share", "ai_subsidy_rate", "ai_fund", "mission", "coordination",
    "acceptance", "reshoring_incentive", "reshoring_home_only", "literacy_program", "labor_supply_boost",
)
#: State the model derives: the local-currency wage w̃_c, labor productivity A_c (set at start so that
#: employment matches), the non-labor value added per unit r_h of firms headquartered in c (set at start),
#: the working-age population WA_c(t) and the calibrated workforce share n_c.
DERIVED_FIELDS = ("wage_lcu", "productivity", "capital_cost", "working_age", "workforce_share")
#: Country state that the `Country` agent exposes as attributes (plus the US$ wage `wage`).
STATE_FIELDS = SCENARIO_FIELDS + DERIVED_FIELDS


class CountryState:
    """Per-country arrays (length C) and the tariff matrix.

    ``tariffs[o, m]`` is the ad-valorem tariff market m puts on goods made in origin o.
    `levers` (optional) replaces the scenario's lever values (code → {lever: value}, tariffs as a
    table): the start year is calibrated on the observed world's levers (`Scenario.observed`),
    and `use_levers` then installs the scenario's own.
    """

    def __init__(self, scenario, year: int, levers: dict | None = None):
        self.codes: list[str] = scenario.codes
        self.index = {code: i for i, code in enumerate(self.codes)}
        rows = [{**scenario.countries[c], **(levers or {}).get(c, {})} for c in self.codes]
        self.names = [r["name"] for r in rows]
        self.regions = [r["region"] for r in rows]
        for name in SCENARIO_FIELDS:
            dtype = bool if name == "reshoring_home_only" else float
            setattr(self, name, np.array([r[name] for r in rows], dtype=dtype))
        # the wage is given in US$ at the start year's exchange rate: w̃_c = w_c / x_c
        self.wage_lcu = np.array([r["wage"] for r in rows], dtype=float) / self.exchange_rate
        self.mva_share = np.array([r["mva_share"] for r in rows], dtype=float)
        self.mva_share /= self.mva_share.sum()
        self.robot_density = np.array([r["robot_density"] for r in rows], dtype=float)
        self.robot_stock = np.array([r["robot_stock"] for r in rows], dtype=float)
        self.robot_coverage = np.ones(len(rows))    # v_c, set by the start-year calibration
        self._set_tariffs(rows)
        self.paths = LeverPaths(scenario, year)
        self.working_age_table = [
            (np.array(sorted(int(y) for y in r["working_age"])),
             np.array([r["working_age"][k] for k in sorted(r["working_age"], key=int)], dtype=float))
            for r in rows]
        self.year = year
        self.working_age = self.working_age_at(year)
        self.productivity = np.ones(len(rows))      # A_c, set by the start-year calibration
        self.capital_cost = np.full(len(rows), 0.5)  # r_h, set by the start-year calibration
        self.workforce_share = np.zeros(len(rows))  # n_c, set by the start-year calibration
        self.same_region = np.equal.outer(np.asarray(self.regions), np.asarray(self.regions))
        self.start_subsidy()

    def _set_tariffs(self, rows) -> None:
        self.tariffs = np.array(
            [[rows[m]["tariffs"].get(o, rows[m]["tariffs"]["default"]) for m in range(len(rows))]
             for o in self.codes], dtype=float)
        np.fill_diagonal(self.tariffs, 0.0)
        # (market, origin) pairs named explicitly: a scheduled `tariffs.default` leaves them alone
        self.explicit_tariffs = {(c, o) for c, r in zip(self.codes, rows) for o in r["tariffs"] if o != "default"}

    def use_levers(self, scenario) -> None:
        """Install the scenario's own lever values (after the start was calibrated on the observed ones)."""
        rows = [scenario.countries[c] for c in self.codes]
        for name in LEVERS:
            setattr(self, name, np.array([r[name] for r in rows], dtype=float))
        self._set_tariffs(rows)

    def start_subsidy(self) -> None:
        """s̃_c before any request was made: the announced rate where a fund can pay it."""
        self.effective_subsidy = self.ai_subsidy_rate * (self.ai_fund >= 1.0)

    @property
    def wage(self) -> np.ndarray:
        """w_c = w̃_c·x_c: the wage in US$/hour."""
        return self.wage_lcu * self.exchange_rate

    def __len__(self) -> int:
        return len(self.codes)

    def working_age_at(self, year: int) -> np.ndarray:
        """Working-age population (million persons), linear between table years, flat outside."""
        return np.array([np.interp(year, years, values) for years, values in self.working_age_table])

    def advance(self, year: int) -> None:
        """Exogenous drifts into `year`: A_c grows, readiness rises by the literacy programme, WA_c(t)."""
        self.year = year
        self.productivity *= 1.0 + self.productivity_growth
        self.ai_readiness = np.minimum(1.0, self.ai_readiness + self.literacy_program)
        self.working_age = self.working_age_at(year)

    def grow_demand(self) -> None:
        """D_m ← D_m·(1 + demand_growth_m), at this year's (possibly scheduled) growth."""
        self.demand = self.demand * (1.0 + self.demand_growth)

    def apply_schedules(self, year: int) -> None:
        """Step 1: set every scheduled lever to its value in `year`."""
        for code, lever, value in self.paths.values(year):
            c = self.index[code]
            if lever.startswith("tariffs."):
                origin = lever[len("tariffs."):]
                rows = range(len(self)) if origin == "default" else [self.index[origin]]
                for o in rows:
                    origin_code = self.codes[o]
                    named = (code, origin_code) in self.explicit_tariffs or self.paths.sets_tariff(code, origin_code)
                    if o != c and (origin != "default" or not named):
                        self.tariffs[o, c] = value
            else:
                getattr(self, lever)[c] = value


class Country(mesa.Agent):
    """A country or region: a Mesa agent whose attributes are views on `CountryState`.

    ``country.wage`` is ``model.state.wage[country.index]``; setting it writes there.
    """

    def __init__(self, model, index: int):
        super().__init__(model)
        self.index = index
        self.code = model.state.codes[index]
        self.name = model.state.names[index]
        self.region = model.state.regions[index]

    def tariff_on(self, origin: str) -> float:
        """The tariff this market puts on goods from `origin`."""
        state = self.model.state
        return float(state.tariffs[state.index[origin], self.index])

    def __repr__(self) -> str:
        return f"Country({self.code}, wage={self.wage:.2f}, readiness={self.ai_readiness:.2f})"


def _view(name: str) -> property:
    def get(self):
        value = getattr(self.model.state, name)[self.index]
        return value.item() if hasattr(value, "item") else value

    def set_(self, value):
        getattr(self.model.state, name)[self.index] = value

    return property(get, set_, doc=f"View on `model.state.{name}[index]`.")


for _name in STATE_FIELDS:
    setattr(Country, _name, _view(_name))


def _wage_get(self):
    return float(self.model.state.wage[self.index])


def _wage_set(self, value):
    state = self.model.state
    state.wage_lcu[self.index] = value / state.exchange_rate[self.index]


Country.wage = property(_wage_get, _wage_set, doc="The wage in US$/hour (w̃_c·x_c); setting it sets w̃_c.")
