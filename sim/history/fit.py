"""Calibration: one parameter set fitted to several observed patterns at once (`sim.history.patterns`).

The parameters the data cannot pin down directly (`FIT_PARAMS`) are chosen to minimise the
pattern objective J(x) = Σ_k w_k·(E_k(x)/s_k)² of `patterns.objective`, with E_k computed from
the mean statistics of `seeds` replicate runs from the historical start. The seeds are the same
for every x (common random numbers), so J is a deterministic function of x and differences
between candidates are not noise. The optimiser is SciPy's differential evolution (a seeded
population search: global, no gradients, bit-reproducible for a given seed), without its
gradient polish, followed by greedy coordinate steps (`refine`). `profile` then evaluates J
along each fitted parameter with the others at their fitted values.

Nothing after `until` is read: the starting scenario is built from data up to `until`
(`sim.history.start.starting_scenario(start, until)`) and every observation is cut at `until`.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd
from scipy.optimize import LinearConstraint, differential_evolution

from sim.api import run_scenario
from sim.blas import single_threaded_blas
from sim.errors import UserError, did_you_mean
from sim.experiments.compare import replicate_seeds
from sim.experiments.parallel import process_pool
from sim.history import patterns
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
    FitParam("theta", 2.0, 12.0, "trade elasticity: Simonovska & Waugh (2014) ≈ 4; Eaton & Kortum (2002) 8.28, "
             "their estimates range 3.6–12.9"),
    FitParam("adjustment_speed", 0.05, 0.9, "design prior 0.3–0.5, widened both ways"),
    FitParam("volume_inertia", 0.0, 1.0, "0: US$ shares carry over a year, 1: volumes do"),
    FitParam("trade_cost_near", 1.0, 2.0, "Anderson & van Wincoop (2004); constrained to ≤ trade_cost_far"),
    FitParam("trade_cost_far", 1.0, 2.5, "Anderson & van Wincoop (2004): transport ≈ 1.21, border ≈ 1.44"),
    FitParam("brand_home_bias", 0.0, 3.0, "0: no preference for home brands; 3: a home brand worth a fourfold price"),
    FitParam("mp_penalty_near", 1.0, 2.0, "Ramondo & Rodríguez-Clare (2013); constrained to ≤ mp_penalty_far"),
    FitParam("mp_penalty_far", 1.0, 2.5, "Ramondo & Rodríguez-Clare (2013), Arkolakis et al. (2018)"),
    FitParam("technology_portability", 0.0, 1.0, "0: all productivity is the location's, 1: all moves with the firm"),
    FitParam("relocation_review_rate", 0.0, 0.3, "design prior 5–10%, widened to 0–30%"),
    FitParam("relocation_cost", 0.05, 3.0, "0.05–3 years of output: cheap to prohibitive moves"),
    FitParam("relocation_sharpness", 0.5, 20.0, "logit sharpness: near random to near deterministic choice"),
    FitParam("wage_response", 0.0, 0.1, "the wage curve: wages move about 0.1% per 1% of local unemployment "
             "(Blanchflower & Oswald 1994); manufacturing wages follow the whole economy's labor market"),
    FitParam("demographic_wage_effect", 0.0, 3.0, "inverse labor-demand elasticity 0–3 (Lichter et al. 2015)"),
    FitParam("firm_count_elasticity", 0.0, 1.5, "firm numbers grow less or more than demand"),
    FitParam("p0", 0.001, 0.1, "Sultan, Farley & Lehmann (1990): 0.01–0.03, widened"),
    FitParam("q0", 0.05, 1.0, "Sultan, Farley & Lehmann (1990) meta-analysis: mean 0.38, most 0.2–0.6"),
    FitParam("ai_unit_cost", 0.01, 1.0, "running AI cost per unit of output at full automation, start year"),
    FitParam("ai_capex_per_output", 0.1, 10.0, "AI capital per US$ of yearly output at full automation, start year"),
    FitParam("ai_cost_decline", 0.0, 0.15, "robot prices fell ≈ 5%/yr (IFR); 0–15%"),
    FitParam("robots_per_automated_output", 0.01, 3.0, "robots per worker that automated tasks replace"),
    FitParam("alpha_max", 0.3, 1.0, "saturation: the share of tasks that can be automated"),
)
#: Fittable on request (`--params`) but held at their sourced defaults: fitted to 2006–2015, the AI cost decline
#: went to its lower bound (0.003/yr) and no firm found automation worth its cost (docs/validation.md).
HELD = ("ai_cost_decline",)
#: Fitted by default: all the others.
DEFAULT_PARAMS = tuple(p.name for p in FIT_PARAMS if p.name not in HELD)
FIT = {p.name: p for p in FIT_PARAMS}
#: Pairs (near, far) constrained to near ≤ far.
ORDERED = (("trade_cost_near", "trade_cost_far"), ("mp_penalty_near", "mp_penalty_far"))


@dataclass
class Settings:
    """Everything that determines a fit (written into the overlay, so it can be repeated)."""

    start: int = history.FIRST_YEAR
    until: int = 2015
    seeds: int = 2
    firms: int = 1500         # with maxiter 12 and --workers 2: under 30 minutes on a 2-core machine
    params: tuple[str, ...] = DEFAULT_PARAMS
    terms: tuple[str, ...] = tuple(patterns.TERMS)   # the patterns the objective includes
    popsize: int = 5          # population = popsize × number of parameters
    maxiter: int = 12         # generations
    tol: float = 1e-3
    seed: int = 20261125      # seed of the optimiser and of the replicate runs
    workers: int = 1
    x0: tuple[float, ...] | None = None   # a starting point among the first population (e.g. an earlier fit)
    refine: int = 2           # passes of coordinate steps after the optimiser (`refine`)

    @classmethod
    def quick(cls, **kw) -> Settings:
        """A fit that finishes in well under a minute (tests, trying things out)."""
        return cls(**{"seeds": 1, "firms": 200, "popsize": 2, "maxiter": 1, "refine": 0, **kw})


@dataclass
class Fit:
    values: dict[str, float]
    objective: float                 # J at `values`
    errors: dict[str, float]         # E_k at `values`
    settings: Settings
    evaluations: int
    seconds: float
    generations: list[float] = field(default_factory=list)   # best J after each generation


def check_terms(names) -> None:
    """Every name is a pattern term of `patterns.TERMS`."""
    errors = [f"--terms: {n!r} is not a pattern" + did_you_mean(n, patterns.TERMS) for n in names
              if n not in patterns.TERMS]
    if not names:
        errors.append("--terms: give at least one pattern")
    if errors:
        raise UserError(errors)


def check_params(names) -> None:
    """Every name is a fittable parameter (one line per unknown name, with a suggestion)."""
    errors = [f"--params: {n!r} is not a fitted parameter" + did_you_mean(n, FIT) for n in names if n not in FIT]
    errors += [f"--params: {n!r} is given twice" for n in duplicates(names)]
    if not names:
        errors.append("--params: give at least one parameter to fit")
    if errors:
        raise UserError(errors)


def start_point(earlier: dict[str, float], names) -> tuple[float, ...]:
    """x0 for `names` from an earlier fit's [model] values, clipped to the bounds; a parameter the earlier fit
    did not set starts at its default, the value the earlier fit ran it at."""
    from sim.scenarios import parameters as P

    return tuple(min(max(float(earlier.get(n, P.MODEL[n].default)), FIT[n].lo), FIT[n].hi) for n in names)


def replicate_runs(scenario, seeds, firms: int) -> list:
    """One `RunResult` per replicate seed."""
    return [run_scenario(scenario, seed=seed, firms=firms) for seed in seeds]


def replicate_shares(scenario, seeds, firms: int) -> np.ndarray:
    """Production shares of one run per seed, (replicates × years × regions), start year included."""
    return np.stack([run.shares.to_numpy() for run in replicate_runs(scenario, seeds, firms)])


def with_values(scenario, names, x):
    return scenario.with_overrides({f"model.{n}": float(v) for n, v in zip(names, x)}, source="calibration")


def evaluate(x, scenario, names, obs: patterns.Observations, seeds, firms,
             terms=tuple(patterns.TERMS)) -> tuple[float, dict[str, float]]:
    """J(x) over `terms` and every term error E_k(x) (the start year is reproduced exactly by construction)."""
    runs = replicate_runs(with_values(scenario, names, x), seeds, firms)
    stats = patterns.mean_statistics([patterns.statistics(r.countries, r.flows, r.entrants, obs.until) for r in runs])
    errs = patterns.errors(stats, obs)
    return patterns.objective(errs, {k: patterns.TERMS[k] for k in terms}), errs


def objective(x, scenario, names, obs, seeds, firms, terms) -> float:
    return evaluate(x, scenario, names, obs, seeds, firms, terms)[0]


#: The coordinate steps of `refine`, as fractions of each parameter's bound range.
REFINE_STEPS = (-0.2, -0.1, -0.05, -0.025, 0.025, 0.05, 0.1, 0.2)


def _objective_of(args, x) -> float:
    return objective(x, *args)


def _ordered(x, names) -> bool:
    """near ≤ far for every constrained pair among `names`."""
    return all(x[names.index(near)] <= x[names.index(far)] for near, far in ORDERED if near in names and far in names)


def refine(fun, x, names, passes: int, map_=map, report=None) -> tuple[np.ndarray, float, int]:
    """Greedy coordinate steps from `x` on J = `fun`(x); returns the point, its J and the number of evaluations.

    For each parameter in turn, J at x_k + step·(hi_k − lo_k) for every step in `REFINE_STEPS`
    (clipped to the bounds, near ≤ far kept), the others held; the best trial replaces x_k if
    it lowers J. `passes` rounds over all parameters, fewer if a round changes nothing. Why:
    after 20 generations differential evolution's best is still one point among few near it,
    and the profile of the shipped fit showed lower J one parameter away (docs/validation.md).
    Deterministic (common random numbers) and the same serially and in parallel: `map_`
    evaluates one parameter's trials as a batch.
    """
    names = list(names)
    x = np.asarray(x, dtype=float).copy()
    best, evaluations = fun(x), 1
    for _ in range(passes):
        moved = False
        for k, name in enumerate(names):
            lo, hi = FIT[name].lo, FIT[name].hi
            trials = []
            for step in REFINE_STEPS:
                trial = x.copy()
                trial[k] = min(max(x[k] + step * (hi - lo), lo), hi)
                if trial[k] != x[k] and _ordered(trial, names):
                    trials.append(trial)
            values = list(map_(fun, trials))
            evaluations += len(trials)
            if values and min(values) < best:
                best, x, moved = min(values), trials[int(np.argmin(values))], True
                if report:
                    report(name, float(x[k]), best)
        if not moved:
            break
    return x, best, evaluations


def _constraints(names) -> tuple:
    rows = []
    for near, far in ORDERED:
        if near in names and far in names:
            row = np.zeros(len(names))
            row[names.index(near)], row[names.index(far)] = -1.0, 1.0
            rows.append(row)
    return (LinearConstraint(np.array(rows), 0.0, np.inf),) if rows else ()


def prepared(settings: Settings, scenario=None):
    """The historical start (data up to `until`) cut at `until`, and the observations up to `until`."""
    s = settings
    scenario = scenario if scenario is not None else history.starting_scenario(s.start, s.until)
    return (scenario.with_overrides({"run.end_year": s.until}, source="calibration"),
            patterns.Observations.up_to(s.start, s.until))


def fit(settings: Settings, scenario=None, obs: patterns.Observations | None = None, progress: bool = True) -> Fit:
    """Fit `settings.params` to the patterns up to `settings.until`.

    `scenario` defaults to the historical start built from data up to `until` and `obs` to the
    observations up to `until`; the synthetic-data tests hand in their own.
    """
    s = settings
    check_params(s.params)
    check_terms(s.terms)
    scenario, observed = prepared(s, scenario)
    obs = obs or observed
    seeds = replicate_seeds(s.seed, s.seeds)
    bounds = [(FIT[n].lo, FIT[n].hi) for n in s.params]
    generations: list[float] = []
    t0 = time.perf_counter()

    def report(intermediate_result):
        generations.append(float(intermediate_result.fun))
        if progress:
            values = ", ".join(f"{n}={v:.4g}" for n, v in zip(s.params, intermediate_result.x))
            print(f"generation {len(generations):>3}/{s.maxiter}: J = {intermediate_result.fun:.4f}  ({values})  "
                  f"{time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)

    args = (scenario, s.params, obs, seeds, s.firms, s.terms)
    with single_threaded_blas():
        pool = process_pool(s.workers) if s.workers > 1 else None
        try:
            result = differential_evolution(
                objective, bounds, args=args, popsize=s.popsize, maxiter=s.maxiter, tol=s.tol, seed=s.seed,
                polish=False, updating="deferred", constraints=_constraints(list(s.params)), x0=s.x0,
                workers=pool.map if pool else 1, callback=report)
            x, evaluations = result.x, int(result.nfev)
            if s.refine:
                def step(name, value, j):
                    print(f"refine: {name} = {value:.4g}, J = {j:.4f}  {time.perf_counter() - t0:.0f} s",
                          file=sys.stderr, flush=True)
                x, _, more = refine(partial(_objective_of, args), x, s.params, s.refine, pool.map if pool else map,
                                    step if progress else None)
                evaluations += more
        finally:
            if pool:
                pool.shutdown(cancel_futures=True)
    values = {n: float(v) for n, v in zip(s.params, x)}
    value, errs = evaluate(x, *args)
    return Fit(values, value, errs, s, evaluations, time.perf_counter() - t0, generations)


def profile(result: Fit, points: int = 9, scenario=None, obs=None) -> pd.DataFrame:
    """J and every E_k along each fitted parameter (`points` values across its bounds, the fitted value among
    them), the others held at their fitted values. One row per (parameter, value)."""
    s = result.settings
    scenario, observed = prepared(s, scenario)
    obs = obs or observed
    seeds = replicate_seeds(s.seed, s.seeds)
    names = list(result.values)
    rows = []
    for name in names:
        grid = np.unique(np.append(np.linspace(FIT[name].lo, FIT[name].hi, points), result.values[name]))
        for value in grid:
            x = [value if n == name else result.values[n] for n in names]
            for near, far in ORDERED:           # keep near ≤ far along the profile
                if near in names and far in names and x[names.index(near)] > x[names.index(far)]:
                    x[names.index(near if name == far else far)] = value
            j, errs = evaluate(x, scenario, names, obs, seeds, s.firms, s.terms)
            rows.append({"parameter": name, "value": float(value), "fitted": bool(value == result.values[name]),
                         "objective": j, **errs})
    return pd.DataFrame(rows)


def identification(table: pd.DataFrame, flat: float = 0.01, near: float = 0.05) -> pd.DataFrame:
    """Per parameter: the relative range of J along its profile and whether the fitted value sits at a bound
    (within `near` of the range from it: the optimiser pushes against it) or the profile is flat (J varies by
    less than `flat` of its fitted value)."""
    rows = []
    for name, group in table.groupby("parameter", sort=False):
        best = float(group.loc[group.fitted, "objective"].iloc[0])
        spread = float(group.objective.max() - group.objective.min()) / max(best, 1e-12)
        value = float(group.loc[group.fitted, "value"].iloc[0])
        margin = near * (FIT[name].hi - FIT[name].lo)
        at_bound = value <= FIT[name].lo + margin or value >= FIT[name].hi - margin
        rows.append({"parameter": name, "fitted": value, "lo": FIT[name].lo, "hi": FIT[name].hi,
                     "objective_range_rel": spread, "flat": spread < flat, "at_bound": bool(at_bound)})
    return pd.DataFrame(rows)


def overlay_text(result: Fit, command: str | None = None) -> str:
    """The fitted values as a scenario overlay: `[model]` values plus `[meta.calibration]`, the record of
    how they were found. With the 2005 start it extends `hindcast_2005`, so it runs as it is."""
    import tomli_w

    from sim.provenance import git_commit, now_iso

    s = result.settings
    record = {
        "from": s.start, "until": s.until,
        "objective": "pattern objective J = sum_k w_k (E_k / s_k)^2 (sim/history/patterns.py)",
        "terms_fitted": list(s.terms),
        "objective_value": result.objective, "errors": result.errors,
        "terms": {k: {"weight": t.weight, "scale": t.scale, "unit": t.unit, "source": t.source}
                  for k, t in patterns.TERMS.items()},
        "fit_years": f"{s.start + 1}-{s.until}", "seeds": s.seeds,
        "base_seed": s.seed, "firms": s.firms, "optimiser": "scipy.optimize.differential_evolution",
        "popsize": s.popsize, "maxiter": s.maxiter, "tol": s.tol, "polish": False,
        "refine_passes": s.refine, "refine_steps": list(REFINE_STEPS), "evaluations": result.evaluations,
        "x0": list(s.x0) if s.x0 else "none",
        "seconds": round(result.seconds, 1), "generations_best": result.generations,
        "bounds": {n: [FIT[n].lo, FIT[n].hi] for n in s.params},
        "created": now_iso(), "git_commit": git_commit() or "unknown",
    }
    meta = {
        "title": f"Calibrated to observed patterns {s.start}-{s.until}",
        "description": f"Behavioural parameters fitted to shares of world MVA, relocation rates, FDI destinations, "
                       f"wages, employment and robots, {s.start + 1}-{s.until}, from the historical start.",
        "claim": "The parameter values under which the model best reproduces the observed patterns up to the "
                 "cutoff (no claim of its own).",
        "sources": [t.source for t in patterns.TERMS.values()] + ["sim/history/fit.py: the method"],
        "calibration": record,
    }
    head = [f"# Written by `{command or 'sim.history.fit.overlay_text'}`.",
            f"# J = {result.objective:.4f}: pattern objective over {s.seeds} seeds x {s.firms} firms, "
            f"{s.start + 1}-{s.until}.",
            f"# No observation after {s.until} was read.",
            "# `factoryshift hindcast --params FILE` uses the [model] table; the baseline copies it."]
    if s.start == history.FIRST_YEAR:
        head.append(f'extends = "hindcast_{s.start}"')
    model = ["[model]"] + [f"{n} = {v!r}  # fitted; bounds [{FIT[n].lo:g}, {FIT[n].hi:g}]; {FIT[n].source}"
                           for n, v in result.values.items()]
    return "\n".join(head) + "\n\n" + tomli_w.dumps({"meta": meta}) + "\n" + "\n".join(model) + "\n"
