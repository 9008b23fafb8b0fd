"""Shared fixtures: small, fast worlds built from the baseline."""

from __future__ import annotations

import numpy as np
import pytest

from sim import FactoryShiftModel, load_scenario


@pytest.fixture(scope="session")
def baseline():
    return load_scenario("baseline")


def small(scenario, end_year=2036, firms=600, **overrides):
    """The scenario shortened and shrunk for tests, with extra dotted-path overrides."""
    return scenario.with_overrides({"run.end_year": end_year, "run.firms": firms, **overrides}, source="test")


def run(scenario, seed, until=None):
    return FactoryShiftModel(scenario, seed=seed).run(until)


def mean_over_seeds(scenario, seeds, fn):
    return float(np.mean([fn(run(scenario, s)) for s in seeds]))
