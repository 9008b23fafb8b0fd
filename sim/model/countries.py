"""Country agents and the per-country state arrays they view.

The vectorised submodels need country state as arrays indexed by country number
(`CountryState`); users and Mesa need one agent per country (`Country`). A
`Country` agent owns no copy of its state: its attributes read and write the
arrays, so there is one truth.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.scenarios.schedule import LeverPaths

#: Country state that the `Country` agent exposes as attributes.
STATE_FIELDS = (
    "wage", "wage_growth", "productivity", "productivity_growth", "ai_readiness", "demand",
    "demand_growth", "other_cost", "ai_subsidy_rate", "ai_fund", "coordination", "acceptance",
    "reshoring_incentive", "reshoring_home_only", "literacy_program", "labor_supply_boost",
    "working_age", "labor_share",
)


class CountryState:
    """Per-country arrays (length C) and the tariff matrix.

    ``tariffs[o, m]`` is the ad-valorem tariff market m puts on goods from origin o.
    """

    def __init__(self, scenario, year: int):
        self.codes: list[str] = scenario.codes
        self.index = {code: i for i, code in enumerate(self.codes)}
        rows = [scenario.countries[c] for c in self.codes]
        self.names = [r["name"] for r in rows]
        self.regions = [r["region"] for r in rows]
        for name in STATE_FIELDS:
            if name in ("working_age", "labor_share"):
                continue
            dtype = bool if name == "reshoring_home_only" else float
            setattr(self, name, np.array([r[name] for r in rows], dtype=dtype))
        self.mva_share = np.array([r["mva_share"] for r in rows], dtype=float)
        self.mva_share /= self.mva_share.sum()
        self.robot_density = np.array([r["robot_density"] for r in rows], dtype=float)
        self.tariffs = np.array(
            [[rows[m]["tariffs"].get(o, rows[m]["tariffs"]["default"]) for m in range(len(rows))]
             for o in self.codes], dtype=float)
        np.fill_diagonal(self.tariffs, 0.0)
        # (market, origin) pairs named explicitly: a scheduled `tariffs.default` leaves them alone
        self.explicit_tariffs = {(c, o) for c, r in zip(self.codes, rows) for o in r["tariffs"] if o != "default"}
        self.paths = LeverPaths(scenario, year)
        self.working_age_table = [
            (np.array(sorted(int(y) for y in r["working_age"])),
             np.array([r["working_age"][k] for k in sorted(r["working_age"], key=int)], dtype=float))
            for r in rows]
        self.working_age = self.working_age_at(year)
        self.labor_share = np.zeros(len(rows))  # calibrated by the model at start

    def __len__(self) -> int:
        return len(self.codes)

    def working_age_at(self, year: int) -> np.ndarray:
        """Working-age population (million persons), linear between table years, flat outside."""
        return np.array([np.interp(year, years, values) for years, values in self.working_age_table])

    def advance(self, year: int) -> None:
        """Exogenous drifts into `year`: A_c grows, readiness rises by the literacy programme, WA_c(t)."""
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
