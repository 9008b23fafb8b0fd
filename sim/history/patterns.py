"""The patterns the calibration fits (pattern-oriented modelling, Grimm et al. 2005, Science 310:987).

One parameter set is asked to reproduce several observed patterns at once, each a term of the
objective with its data, its source, a scale and a weight::

    J = Σ_k w_k · (E_k / s_k)²

E_k is the term's root-mean-square error in its own unit, s_k the error that counts as "one unit
of misfit" (a deliberate, stated tolerance) and w_k its weight. Every observation is read for
years up to the cutoff `until` only.

===========  ==================================================================  =================
term         error E_k                                                           scale s_k
===========  ==================================================================  =================
shares       RMSE of mean simulated vs observed shares of world MVA, pp          0.5 pp
relocation   RMS log error of European firms' backshoring and offshoring rates   0.5 (a factor 1.6)
fdi          RMSE of the destinations of new foreign capacity vs FDI inflows,    3 pp
             pp of the total (nine regions: XEU and ROW hold conduit flows)
labor        RMS log error of wages at their anchors and of employment at the    0.2 (20 %)
             cutoff
robots       RMS log error of robot installations (five countries, world), the   0.3
             world's robot stock and China's density
===========  ==================================================================  =================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.data import regions as cal


@dataclass(frozen=True)
class Term:
    name: str
    weight: float
    scale: float
    unit: str
    source: str


TERMS: dict[str, Term] = {t.name: t for t in (
    Term("shares", 2.0, 0.5, "pp", "World Bank WDI NV.IND.MANF.CD"),
    Term("relocation", 1.0, 0.5, "log rate", "European Manufacturing Survey: Dachs & Zanker (2014), Dachs, Kinkel "
         "& Jäger (2019)"),
    Term("fdi", 1.0, 3.0, "pp", "World Bank WDI BX.KLT.DINV.CD.WD"),
    Term("labor", 1.0, 0.2, "log", "BLS International Labor Comparisons, The Conference Board ILC, Destatis; WDI "
         "industry employment (sim.data.regions.employment_in)"),
    Term("robots", 1.0, 0.3, "log", "IFR World Robotics via OWID (installations, world stock), IFR press figures "
         "(density)"),
)}

#: European Manufacturing Survey: about 4% of firms backshored production in 2.5 years (2010–mid-2012, and again
#: 2013–mid-2015), with more than three offshoring firms for every backshoring one (Dachs & Zanker 2014;
#: Dachs, Kinkel & Jäger 2019). Read as yearly rates among firms headquartered in Europe (DEU, XEU).
BACKSHORING_RATE = 0.04 / 2.5
OFFSHORING_RATE = 3.0 * BACKSHORING_RATE
EMS_YEARS = (2010, 2015)
EUROPE = ("DEU", "XEU")
#: FDI destinations compared (XEU and ROW excluded: their inflows are dominated by conduit flows).
FDI_REGIONS = ("CHN", "KOR", "JPN", "USA", "DEU", "IND", "VNM", "MEX", "XAS")
#: Manufacturing labor cost per hour, US$ (country, year, value, source).
WAGE_ANCHORS = (
    ("CHN", 2008, 1.36, "BLS International Labor Comparisons (2011)"),
    ("JPN", 2008, 27.80, "BLS International Labor Comparisons (2011)"),
    ("USA", 2008, 32.26, "BLS International Labor Comparisons (2010)"),
    ("USA", 2012, 35.67, "BLS International Labor Comparisons (2013)"),
    ("CHN", 2013, 4.12, "The Conference Board International Labor Comparisons"),
    ("USA", 2013, 36.34, "The Conference Board International Labor Comparisons"),
    ("DEU", 2015, 42.42, "The Conference Board International Labor Comparisons"),
    ("DEU", 2023, 49.74, "Destatis 2023: EUR 46.00 at the 2023 exchange rate"),
)
ROBOT_COUNTRIES = ("CHN", "JPN", "KOR", "USA", "DEU")


@dataclass
class Observations:
    """Everything the patterns compare with, for start < year ≤ until (nothing later is read)."""

    start: int
    until: int
    shares: pd.DataFrame                # year × region, start..until
    fdi: pd.Series                      # destination shares among FDI_REGIONS, start+1..until
    wages: list[tuple[str, int, float]]
    employment: dict[str, float]        # persons at `until`
    installations: dict[int, dict[str, float]]
    world_stock: dict[int, float]
    density: dict[int, dict[str, float]]   # IFR density by year, China
    backshoring: float = BACKSHORING_RATE  # yearly rates among European firms (EMS)
    offshoring: float = OFFSHORING_RATE

    @classmethod
    def up_to(cls, start: int, until: int) -> Observations:
        from sim.history import start as history

        years = range(start + 1, until + 1)
        inflows = {y: cal._aggregate(cal._wdi("BX.KLT.DINV.CD.WD", y)) for y in years}
        summed = pd.Series({r: max(sum(inflows[y].get(r, 0.0) for y in years), 0.0) for r in FDI_REGIONS})
        installs = cal.robot_installations(2011, until) if until >= 2011 else {}
        stock = {y: cal.world_robot_stock(y) for y in range(max(start + 1, 2012), until + 1)}
        china = {y: {"CHN": v["China"]} for y in range(start + 1, until + 1) if "China" in (v := cal._ifr(y))}
        return cls(start, until, history.observed_shares(start, until), summed / summed.sum(),
                   [(c, y, w) for c, y, w, _ in WAGE_ANCHORS if start < y <= until],
                   {r: v * 1e6 for r, v in cal.employment_in(until).items()},
                   {y: v for y, v in installs.items() if y > start}, stock, china)


    @classmethod
    def from_statistics(cls, stats: dict, start: int, until: int, like: Observations) -> Observations:
        """Observations made by the model itself (`statistics` of a run), for the years and anchors of
        `like`: every term is 0 at the parameters that made them (tests of identification)."""
        return cls(start, until, stats["shares"].loc[start:until], stats["fdi"],
                   [(c, y, float(stats["wage"].loc[y, c])) for c, y, _ in like.wages],
                   {r: float(stats["employment"].loc[until, r]) for r in like.employment},
                   {y: {c: float(stats["installations"].loc[y, c]) for c in v if c != "WLD"}
                    | ({"WLD": float(stats["installations"].loc[y].sum())} if "WLD" in v else {})
                    for y, v in like.installations.items()},
                   {y: float(stats["stock"].loc[y]) for y in like.world_stock},
                   {y: {c: float(stats["density"].loc[y, c]) for c in v} for y, v in like.density.items()},
                   float(stats["backshoring"]), float(stats["offshoring"]))


def statistics(countries: pd.DataFrame, flows: pd.DataFrame, entrants: pd.DataFrame, until: int) -> dict:
    """The model's side of every pattern, from one run's countries.csv, flows.csv and entrants.csv."""
    years = countries[countries.year <= until]
    table = {col: years.pivot(index="year", columns="country", values=col)
             for col in ("production_share", "wage", "employment", "robot_installations", "robot_stock",
                         "robot_density", "firms_hq")}
    lo, hi = EMS_YEARS
    window = flows[(flows.year >= lo) & (flows.year <= hi) & flows.hq.isin(EUROPE)]
    european = table["firms_hq"].loc[lo - 1:hi - 1, list(EUROPE)].sum(axis=1).sum()   # firms at risk, year starts
    back = window[(window.destination == window.hq) & (window.origin != window.hq)].firms.sum()
    off = window[(window.origin == window.hq) & (window.destination != window.hq)].firms.sum()
    fitted = lambda frame: frame[(frame.year > countries.year.min()) & (frame.year <= until)]  # noqa: E731
    moves = fitted(flows)
    foreign = pd.concat([moves[moves.destination != moves.hq].rename(columns={"destination": "where"}),
                         fitted(entrants)[entrants.hq != entrants.location].rename(columns={"location": "where"})])
    destinations = foreign.groupby("where").firms.sum().reindex(list(FDI_REGIONS), fill_value=0)
    return {"shares": table["production_share"], "wage": table["wage"], "employment": table["employment"],
            "installations": table["robot_installations"], "stock": table["robot_stock"].sum(axis=1),
            "density": table["robot_density"],
            "backshoring": back / max(european, 1), "offshoring": off / max(european, 1),
            "fdi": destinations / max(destinations.sum(), 1)}


def mean_statistics(runs: list[dict]) -> dict:
    """The replicate mean of every statistic (tables element by element)."""
    return {key: sum(run[key] for run in runs) / len(runs) for key in runs[0]}


def _log_error(model, data, floor: float) -> float:
    """ln(model/data) with both at least `floor` (a count or rate below which differences do not matter), and
    the model at least 1/100 of the data: a pattern the model misses entirely costs a large but finite error
    (ln 0.01 ≈ −4.6), so the objective stays informative far from the fit."""
    data = max(float(data), floor)
    return float(np.log(max(float(model), 0.01 * data, floor) / data))


def errors(stats: dict, obs: Observations) -> dict[str, float]:
    """E_k for every term (see the module docstring), from replicate-mean statistics."""
    shares = stats["shares"].loc[obs.start + 1:obs.until, obs.shares.columns]
    out = {"shares": float(np.sqrt(np.mean((shares.to_numpy() - obs.shares.loc[obs.start + 1:].to_numpy()) ** 2)))
           * 100.0}
    relocation = [_log_error(stats["backshoring"], obs.backshoring, 1e-4),
                  _log_error(stats["offshoring"], obs.offshoring, 1e-4)]
    out["relocation"] = float(np.sqrt(np.mean(np.square(relocation))))
    out["fdi"] = float(np.sqrt(np.mean((stats["fdi"][list(FDI_REGIONS)] - obs.fdi[list(FDI_REGIONS)]) ** 2))) * 100
    labor = [_log_error(stats["wage"].loc[y, c], w, 0.01) for c, y, w in obs.wages]
    labor += [_log_error(stats["employment"].loc[obs.until, r], obs.employment[r], 1.0) for r in obs.employment]
    out["labor"] = float(np.sqrt(np.mean(np.square(labor))))
    robots = [_log_error(stats["installations"].loc[y, c], v[c], 1.0) for y, v in obs.installations.items()
              for c in ROBOT_COUNTRIES if c in v]
    robots += [_log_error(stats["installations"].loc[y].sum(), v["WLD"], 1.0) for y, v in obs.installations.items()
               if "WLD" in v]
    robots += [_log_error(stats["stock"].loc[y], v, 1.0) for y, v in obs.world_stock.items()]
    robots += [_log_error(stats["density"].loc[y, c], v[c], 0.01) for y, v in obs.density.items() for c in v]
    out["robots"] = float(np.sqrt(np.mean(np.square(robots)))) if robots else 0.0
    return out


def objective(errs: dict[str, float], terms: dict[str, Term] = TERMS) -> float:
    """J = Σ_k w_k·(E_k/s_k)² over the terms in `terms`."""
    return float(sum(t.weight * (errs[name] / t.scale) ** 2 for name, t in terms.items()))
