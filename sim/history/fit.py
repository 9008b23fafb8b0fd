"""Calibration: behavioural parameters fitted to observed shares of world MVA.

The parameters the data cannot pin down directly (`FIT_PARAMS`) are chosen to minimise

    J(x) = sqrt( mean_{t, c} ( s̄_c(t; x) − s_c^obs(t) )² ) · 100         [percentage points]

over the fitting years start < t ≤ until and all regions c, where s̄ is the mean share over
`seeds` replicate runs. The seeds are the same for every x (common random numbers), so J is
a deterministic function of x and differences between candidates are not noise.
The optimiser is SciPy's differential evolution (a seeded population search: global, no
gradients, and bit-reproducible for a given seed), without the final gradient polish.

Nothing after `until` is read: the starting scenario is built from data up to `until`
(`sim.history.start.starting_scenario(start, until)`) and the observations are cut at `until`.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import LinearConstraint, differential_evolution

from sim.api import run_scenario
from sim.errors import UserError, did_you_mean
from sim.experiments.compare import replicate_seeds
from sim.experiments.parallel import process_pool, single_threaded_blas
from sim.history import start as history
from sim.inputs import duplicates


@dataclass(frozen=True)
class FitParam:
    name: str
    lo: float
    hi: float
    source: str


#: The fitted parameters, their bounds and where the bounds come from (docs/validation.md).
FIT_PARAMS: tuple[FitParam, ...] = (
    FitParam("theta", 2.0, 13.0, "trade elasticity: Simonovska & Waugh (2014) ≈ 4; Eaton & Kortum (2002) 8.28, "
             "their estimates range 3.6–12.9"),
    FitParam("adjustment_speed", 0.05, 0.9, "design assumption 0.3–0.5, widened both ways"),
    FitParam("relocation_review_rate", 0.0, 0.2, "design assumption 5–10%, widened to 0–20%"),
    FitParam("wage_response", 0.0, 1.0, "assumption 0.3; 0–1 covers no to strong wage pressure"),
    FitParam("relocation_cost", 0.05, 1.0, "assumption 0.3 years of output; 0.05–1 spans cheap to costly moves"),
    FitParam("entry_cost_sharpness", 0.0, 60.0, "assumption 5; 0: costs ignored, 60: entrants crowd the cheapest"),
    FitParam("firm_count_elasticity", 0.0, 1.5, "assumption 0.5; firm numbers grow less or more than demand"),
    FitParam("trade_cost_near", 1.0, 2.0, "design assumption 1.1–1.5, widened; constrained to ≤ trade_cost_far"),
    FitParam("trade_cost_far", 1.1, 2.0,
             "design assumption 1.1–1.5, widened (estimated iceberg costs are often higher)"),
    FitParam("q0", 0.1, 0.8, "Sultan, Farley & Lehmann (1990) meta-analysis: mean 0.38, most 0.2–0.6"),
)
#: Fitted by default (q0 is available but AI adoption leaves little trace in 2005–2015 shares).
DEFAULT_PARAMS = ("theta", "adjustment_speed", "relocation_review_rate", "wage_response", "relocation_cost",
                  "entry_cost_sharpness", "firm_count_elasticity", "trade_cost_near", "trade_cost_far")
FIT = {p.name: p for p in FIT_PARAMS}


@dataclass
class Settings:
    """Everything that determines a fit (written into the overlay, so it can be repeated)."""

    start: int = history.FIRST_YEAR
    until: int = 2015
    seeds: int = 4
    firms: int = 3000
    params: tuple[str, ...] = DEFAULT_PARAMS
    popsize: int = 6          # population = popsize × number of parameters
    maxiter: int = 40         # generations
    tol: float = 1e-3
    seed: int = 20261125      # seed of the optimiser and of the replicate runs
    workers: int = 1

    @classmethod
    def quick(cls, **kw) -> Settings:
        """A fit that finishes in well under a minute (tests, trying things out)."""
        return cls(**{"seeds": 1, "firms": 500, "popsize": 4, "maxiter": 5, **kw})


@dataclass
class Fit:
    values: dict[str, float]
    objective: float                 # J at `values`, percentage points
    settings: Settings
    evaluations: int
    seconds: float
    generations: list[float] = field(default_factory=list)   # best J after each generation


def check_params(names) -> None:
    """Every name is a fittable parameter (one line per unknown name, with a suggestion)."""
    errors = [f"--params: {n!r} is not a fitted parameter" + did_you_mean(n, FIT) for n in names if n not in FIT]
    errors += [f"--params: {n!r} is given twice" for n in duplicates(names)]
    if not names:
        errors.append("--params: give at least one parameter to fit")
    if errors:
        raise UserError(errors)


def replicate_shares(scenario, seeds, firms: int) -> np.ndarray:
    """Production shares of one run per seed, (replicates × years × regions), start year included."""
    return np.stack([run_scenario(scenario, seed=seed, firms=firms).shares.to_numpy() for seed in seeds])


def simulate_shares(scenario, seeds, firms: int) -> np.ndarray:
    """Mean production share over the replicate seeds, (years × regions), start year included."""
    return replicate_shares(scenario, seeds, firms).mean(axis=0)


def rmse_pp(simulated: np.ndarray, observed: np.ndarray) -> float:
    """J: root mean squared error of shares, in percentage points."""
    return float(np.sqrt(np.mean((simulated - observed) ** 2)) * 100.0)


def with_values(scenario, names, x):
    return scenario.with_overrides({f"model.{n}": float(v) for n, v in zip(names, x)}, source="calibration")


def objective(x, scenario, names, observed, seeds, firms) -> float:
    """J(x) over the fitting years (the start year is reproduced exactly by construction)."""
    shares = simulate_shares(with_values(scenario, names, x), seeds, firms)
    return rmse_pp(shares[1:], observed[1:])


def fit(observed: pd.DataFrame, settings: Settings, scenario=None, progress: bool = True) -> Fit:
    """Fit `settings.params` to `observed` (year × region shares) over start..until.

    `scenario` defaults to the historical start built from data up to `until`; the synthetic-
    data tests hand in their own observations and scenario.
    """
    s = settings
    check_params(s.params)
    scenario = scenario if scenario is not None else history.starting_scenario(s.start, s.until)
    scenario = scenario.with_overrides({"run.end_year": s.until}, source="calibration")
    obs = observed.loc[s.start:s.until, scenario.codes].to_numpy()   # never a year after `until`
    if len(obs) != s.until - s.start + 1:
        raise ValueError(f"observations must cover {s.start}–{s.until}")
    seeds = replicate_seeds(s.seed, s.seeds)
    bounds = [(FIT[n].lo, FIT[n].hi) for n in s.params]
    generations: list[float] = []
    t0 = time.perf_counter()
    constraints = ()
    if {"trade_cost_near", "trade_cost_far"} <= set(s.params):  # trade inside a region costs no more than across
        row = np.zeros(len(s.params))
        row[s.params.index("trade_cost_near")], row[s.params.index("trade_cost_far")] = -1.0, 1.0
        constraints = (LinearConstraint(row[None, :], 0.0, np.inf),)

    def report(intermediate_result):
        generations.append(float(intermediate_result.fun))
        if progress:
            values = ", ".join(f"{n}={v:.4g}" for n, v in zip(s.params, intermediate_result.x))
            print(f"generation {len(generations):>3}/{s.maxiter}: J = {intermediate_result.fun:.4f} pp  ({values})  "
                  f"{time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)

    args = (scenario, s.params, obs, seeds, s.firms)
    with single_threaded_blas():
        pool = process_pool(s.workers) if s.workers > 1 else None
        try:
            result = differential_evolution(
                objective, bounds, args=args, popsize=s.popsize, maxiter=s.maxiter, tol=s.tol, seed=s.seed,
                polish=False, updating="deferred", constraints=constraints, workers=pool.map if pool else 1,
                callback=report)
        finally:
            if pool:
                pool.shutdown(cancel_futures=True)
    values = {n: float(v) for n, v in zip(s.params, result.x)}
    return Fit(values, float(result.fun), s, int(result.nfev), time.perf_counter() - t0, generations)


def overlay_text(result: Fit, command: str | None = None) -> str:
    """The fitted values as a scenario overlay: `[model]` values plus `[meta.calibration]`, the record of
    how they were found. With the 2005 start it extends `hindcast_2005`, so it runs as it is."""
    import tomli_w

    from sim.provenance import git_commit, now_iso

    s = result.settings
    record = {
        "from": s.start, "until": s.until, "objective": "rmse_pp of mean simulated vs observed MVA shares",
        "objective_value": result.objective, "fit_years": f"{s.start + 1}-{s.until}", "seeds": s.seeds,
        "base_seed": s.seed, "firms": s.firms, "optimiser": "scipy.optimize.differential_evolution",
        "popsize": s.popsize, "maxiter": s.maxiter, "tol": s.tol, "polish": False, "evaluations": result.evaluations,
        "seconds": round(result.seconds, 1), "generations_best": result.generations,
        "bounds": {n: [FIT[n].lo, FIT[n].hi] for n in s.params},
        "created": now_iso(), "git_commit": git_commit() or "unknown",
    }
    meta = {
        "title": f"Calibrated to observed shares {s.start}-{s.until}",
        "description": f"Behavioural parameters fitted to WDI shares of world MVA, {s.start + 1}-{s.until}, "
                       "from the historical start.",
        "claim": "The parameter values under which the model best reproduces the observed shift of world "
                 "manufacturing up to the cutoff (no claim of its own).",
        "sources": ["World Bank WDI NV.IND.MANF.CD (CC BY 4.0): the observations; sim/history/fit.py: the method"],
        "calibration": record,
    }
    head = [f"# Written by `{command or 'sim.history.fit.overlay_text'}`.",
            f"# J = {result.objective:.4f} pp: RMSE of the mean share over {s.seeds} seeds x {s.firms} firms vs the",
            f"# observed shares, {s.start + 1}-{s.until}. No observation after {s.until} was read.",
            "# `factoryshift hindcast --params FILE` uses the [model] table; the baseline copies it."]
    if s.start == history.FIRST_YEAR:
        head.append(f'extends = "hindcast_{s.start}"')
    model = ["[model]"] + [f"{n} = {v!r}  # fitted; bounds [{FIT[n].lo:g}, {FIT[n].hi:g}]; {FIT[n].source}"
                           for n, v in result.values.items()]
    return "\n".join(head) + "\n\n" + tomli_w.dumps({"meta": meta}) + "\n" + "\n".join(model) + "\n"
