"""The FactoryShift model: country agents and a vectorised firm population, one step a year.

`step()` is the schedule of docs/ODD.md, section 3, one call per submodel (after the exogenous
drifts of `CountryState.advance`):

1. policy schedules   2. costs   3. market allocation (then market access)   4. labor market and wages
5. AI adoption        6. relocation   7. loss test, exit and entry   8. record (then a health check)

The start is calibrated on the observed world's levers; the scenario's own levers apply after it.
"""

from __future__ import annotations

import numbers

import mesa
import numpy as np

from sim.api import check_run_options
from sim.blas import single_threaded_blas
from sim.model import adoption, health, labor, location, market, record, setup, turnover
from sim.model.countries import Country, CountryState
from sim.model.draws import Draws
from sim.model.firms import FirmPopulation, FirmView
from sim.model.market import Costs
from sim.scenarios import Scenario, load_scenario


class FactoryShiftModel(mesa.Model):
    """World manufacturing as country agents and firms competing for market shares.

    Parameters
    ----------
    scenario : a `Scenario` or the name/path of one (default ``"baseline"``).
    seed : int or `numpy.random.SeedSequence`; default the scenario's ``run.seed``.
    firms : number of firms at the start; default the scenario's ``run.firms``.
    record_firms : also keep a per-firm panel every year (costly at large sizes).
    draws : the run's random numbers (default: drawn from ``model.rng``; a reference
        implementation can share them).
    """

    @single_threaded_blas()      # set-up and steps: the matrix products are small (sim/blas.py)
    def __init__(self, scenario: Scenario | str = "baseline", *, seed=None, firms: int | None = None,
                 record_firms: bool = False, draws: Draws | None = None):
        scenario = load_scenario(scenario) if not isinstance(scenario, Scenario) else scenario
        check_run_options(scenario, seed=seed, firms=firms)   # one-line UserError, in Python's terms (firms=5)
        seed = scenario.run["seed"] if seed is None else seed
        super().__init__(rng=np.random.default_rng(seed))
        self.spec = scenario  # `scenario` is taken by mesa.Model (its own Scenario API)
        self.seed = seed
        self.draws = draws or Draws(self.rng)
        self.par = dict(scenario.model)
        self.start_year, self.end_year = scenario.run["start_year"], scenario.run["end_year"]
        self.year = self.start_year
        self.n0 = int(firms if firms is not None else scenario.run["firms"])
        # Initialisation (ODD section 5): calibrated on the observed world, then the scenario's levers apply
        self.state = CountryState(scenario, self.start_year, levers=scenario.observed)
        self.countries = [Country(self, i) for i in range(len(self.state))]
        self.recorder = record.Recorder(self.state.codes, self.state.same_region, record_firms)
        self.firms = FirmPopulation(len(self.state))
        start_draws = setup.populate(self.firms, self.state, self.par, self.draws, self.n0)
        self.start, costs, uc = setup.calibrate(self.firms, self.state, self.par, self.draws, start_draws, self.n0)
        n = len(self.state)
        self.state.start_subsidy()
        start_labor = labor.clear(self.firms, costs, self.state)
        start_values = record.country_values(self.firms, uc, start_labor, costs, self.state, self.par)
        self.recorder.add_year(self.year, start_values,
                               location.RelocationResult.nobody(n), np.zeros((n, n), dtype=int),
                               np.zeros(n, dtype=int), self.firms)
        self.state.use_levers(scenario)
        self.state.apply_schedules(self.start_year)
        self.state.start_subsidy()

    def costs(self) -> Costs:
        """This year's costs in every country (`market.Costs`)."""
        return Costs.of(self.state, self.par, self.year - self.start_year)

    # ------------------------------------------------------------------ the schedule
    @single_threaded_blas()
    def step(self) -> None:
        """One year, in the order of docs/ODD.md, section 3."""
        f, s, p, draws = self.firms, self.state, self.par, self.draws
        self.year += 1
        s.advance(self.year)
        s.apply_schedules(self.year)                                               # 1. policy schedules
        s.grow_demand()
        costs = self.costs()                                                       # 2. costs
        uc = costs.unit_cost(f.automation, f.productivity, f.home, f.location)
        den = market.allocate(f, uc, costs, s.demand, p)                           # 3. market allocation
        access = location.market_access(costs, s.demand, den)
        labor_market = labor.clear(f, costs, s)                                    # 4. labor market
        s.wage_lcu = labor.next_wage(s, labor_market.tightness, p)
        ahead = costs.at_wage(s.wage)            # decisions look ahead to the wage they will pay
        adopted = adoption.adopt(f, ahead, s, p, draws.keyed_uniform(f.id, self.year, "adopt"))  # 5. AI adoption
        f.automation = f.automation + adopted.step
        s.effective_subsidy = adopted.granted_rate
        values = record.country_values(f, uc, labor_market, costs, s, p, adopted)
        moved = location.relocate(f, ahead, s, labor_market.supply, access, p, draws, self.year)  # 6. relocation
        # against the start year's levels: against this year's, the survivors' own, the cut-off chased them
        rel, _ = market.relative_prices(f, uc, self.start.quality, costs, s.demand, self.start.price_level)
        turnover.update_losses(f, rel, p)
        moved.apply(f)                           # losses were judged where this year's production took place
        entries, exits = turnover.exit_and_enter(f, ahead, s, self.start, p, draws, self.year,   # 7. entry, exit
                                                 access, moved.room)
        self.recorder.add_year(self.year, values, moved, entries, exits, f)       # 8. record
        health.check(self)                       # stop at the first non-finite country value (sim/model/health.py)
        if self.year >= self.end_year:
            self.running = False

    # ------------------------------------------------------------------ user API
    def run(self, until: int | None = None) -> FactoryShiftModel:
        """Step to the end of year `until` (default: the scenario's ``run.end_year``); returns the model.

        A model only runs forward: `until` before its current year, or after ``run.end_year``, raises
        `sim.errors.BadValueError` (a ValueError) saying so.
        """
        from sim.errors import BadValueError

        if until is None:
            until = self.end_year
        elif isinstance(until, bool) or not isinstance(until, numbers.Integral):
            raise BadValueError(f"run(until={until!r}): must be a year (an integer)")
        elif until < self.year:
            raise BadValueError(f"run(until={until}): the model is already in {self.year} and cannot go back; "
                                f"build a new FactoryShiftModel to stop in {until}")
        elif until > self.end_year:
            raise BadValueError(f"run(until={until}): after the scenario's run.end_year = {self.end_year}; "
                                f"run a scenario with a later end: "
                                f"scenario.with_overrides({{'run.end_year': {until}}})")
        while self.year < until:
            self.step()
        return self

    def results(self):
        """The run so far as a `sim.RunResult`: the data frames ``countries``, ``flows`` and ``firms``,
        ``shares`` and ``summary()`` — the documented way to get a model's data after `run`."""
        from sim.api import result_of

        return result_of(self)

    def firm(self, firm_id: int) -> FirmView:
        """One firm by id (living or exited); `sim.errors.UnknownNameError` (a KeyError) if there is none."""
        from sim.errors import UnknownNameError

        try:
            return self.firms.firm(firm_id, self.state.codes)
        except KeyError:
            raise UnknownNameError(f"firm({firm_id!r}): no firm with that id (ids run from 0 to "
                                   f"{self.firms.next_id - 1})") from None

    def market_shares(self) -> np.ndarray:
        """Origin × market matrix: the share of market m's demand supplied from country o."""
        return record.trade_matrix(self.firms, len(self.state))

    def country(self, code: str) -> Country:
        """The country agent with this code (``"KOR"``); `sim.errors.UnknownNameError` (a KeyError) names
        the codes there are."""
        if code not in self.state.index:
            from sim.errors import UnknownNameError, unknown_country

            raise UnknownNameError(f"country({code!r}): {unknown_country(code, self.state.codes)}")
        return self.countries[self.state.index[code]]
