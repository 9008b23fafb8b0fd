"""Everything the dashboard takes from the rest of `sim`, in one place."""

from __future__ import annotations

import sim
from sim.errors import UserError
from sim.plots import country_colors
from sim.scenarios import bundled_names as _bundled_names
from sim.scenarios import parameters

Scenario = sim.Scenario
load_scenario = sim.load_scenario
FactoryShiftModel = sim.FactoryShiftModel


def bundled_scenarios() -> list[str]:
    return list(_bundled_names("scenarios"))


__all__ = ["country_colors", "Scenario", "load_scenario", "FactoryShiftModel", "UserError", "parameters",
           "bundled_scenarios"]
