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

from sim.model.model import FactoryShiftModel

__all__ = ["FactoryShiftModel"]
