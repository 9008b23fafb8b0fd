"""FactoryShift: an agent-based model of where the world's manufacturing goes as AI spreads."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("factoryshift")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+source"

from sim.model import FactoryShiftModel  # noqa: E402
from sim.scenarios import Scenario, load_scenario  # noqa: E402

__all__ = ["FactoryShiftModel", "Scenario", "load_scenario", "run_scenario", "__version__"]


def run_scenario(*args, **kwargs):
    """Run a scenario and return a `RunResult` (see `sim.api.run_scenario`)."""
    from sim.api import run_scenario as _run

    return _run(*args, **kwargs)
