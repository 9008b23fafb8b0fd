"""The model: the Mesa model and one module per ODD submodel (docs/ODD.md, section 7).

    model       FactoryShiftModel: the schedule of one year
    setup       initialisation on the observed world: firms, foreign owners, capacity scales, labor
                productivity, automation, capital, quality, start-year selection
    countries   country agents and the per-country state arrays
    firms       the vectorised firm population
    market      costs by (headquarters, location) pair, market allocation and prices
    labor       labor market and wages
    adoption    AI adoption (the channels of mission, coordination, acceptance, funds, literacy)
    location    location choice by expected profit with market access: relocation and entry
    turnover    loss test, exit and Melitz-filtered entry
    robots      automation as IFR robot stocks, density and installations
    draws       all randomness
    record      the yearly record
    health      stop at the first non-finite value
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
