"""FactoryShift: an agent-based model of where the world's manufacturing goes as AI spreads.

``import sim`` is light (no NumPy, pandas or Mesa) so that the command line starts at once;
`FactoryShiftModel` and `__version__` are imported on first use.
"""

from sim.api import RunResult, run_scenario
from sim.scenarios import Scenario, load_scenario

__all__ = ["FactoryShiftModel", "RunResult", "Scenario", "load_scenario", "run_scenario", "__version__"]


def __getattr__(name: str):
    if name == "FactoryShiftModel":
        from sim.model import FactoryShiftModel

        return FactoryShiftModel
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("factoryshift")
        except PackageNotFoundError:  # running from a source tree without installing
            return "0.0.0+source"
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
