"""Everything the dashboard takes from the rest of `sim`, in one place."""

from __future__ import annotations

import sim
from sim.errors import UserError
from sim.experiments.compare import paired_bands, trajectory_bands
from sim.plots import compare as plot_compare
from sim.plots import flows as plot_flows
from sim.plots import lines as plot_lines
from sim.plots import style
from sim.plots.style import METRICS, country_colors
from sim.scenarios import bundled_names as _bundled_names
from sim.scenarios import parameters, schedule

Scenario = sim.Scenario
load_scenario = sim.load_scenario
FactoryShiftModel = sim.FactoryShiftModel


def bundled_scenarios() -> list[str]:
    return list(_bundled_names("scenarios"))


__all__ = ["country_colors", "Scenario", "load_scenario", "FactoryShiftModel", "UserError", "parameters",
           "bundled_scenarios", "schedule", "METRICS", "paired_bands", "trajectory_bands", "plot_compare", "plot_flows",
           "plot_lines", "style"]
