"""The scenario language: the parameter table, files, `extends`, checks, schedules and the reference page."""

from sim.scenarios.scenario import Scenario, bundled_names, load_scenario, locate

__all__ = ["Scenario", "load_scenario", "locate", "bundled_names"]
