"""The model: the Mesa model and one module per ODD submodel (docs/ODD.md, section 7).

    model       FactoryShiftModel: the schedule of one year
    setup       initialisation: firms, capacity and quality calibration, start-year selection
    countries   country agents and the per-country state arrays
    firms       the vectorised firm population
    market      unit costs, market allocation and prices
    labor       labor market and wages
    adoption    AI adoption
    location    relocation
    turnover    entry and exit
    draws       all randomness
    record      the yearly record
"""

from sim.lazy import light_mesa

light_mesa()  # Mesa's Model and Agent without the rest of Mesa: 0.4 s less per process (sim/lazy.py)

__all__ = ["FactoryShiftModel"]


def __getattr__(name: str):
    # lazy, so that reading a table of a submodule (record.COUNTRY_COLUMNS) does not import the model
    if name == "FactoryShiftModel":
        from sim.model.model import FactoryShiftModel

        return FactoryShiftModel
    raise AttributeError(f"module 'sim.model' has no attribute {name!r}")
