"""Analysis of a finished sweep: lever effects, sensitivity indices (also year by year), plots, analysis.md.

* Lever comparison (every design): standardised regression coefficients (SRC) of each
  lever and uncertainty on each scalar outcome, with bootstrap confidence intervals that
  resample whole samples (all replicates of a sample together, which keeps the common
  random numbers intact), and the R² that says how far a linear reading holds.
* Sensitivity: first-order and total Sobol indices with bootstrap CIs (`SALib.analyze.sobol`)
  for ``sobol`` designs; Morris μ*, its CI, and σ (`SALib.analyze.morris`) for ``morris``
  designs. Both are computed on the mean over replicates of each sample, for each scalar
  outcome and for each year of each trajectory outcome.
* Plots (PNG + SVG, `sim.experiments.analysis_plots`) and ``analysis.md`` tying them together.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import UserError
from sim.experiments.designs import Design
from sim.experiments.experiment import Experiment, target
from sim.experiments.magnitudes import section as magnitudes_section
from sim.experiments.store import load_sweep, read_table, run_path

CONF = 0.95


@dataclass
class SweepData:
    out: Path
    experiment: Experiment
    manifest: dict
    runs: pd.DataFrame           # runs.parquet
    outcomes: pd.DataFrame       # outcomes.parquet, ok runs only
    trajectories: pd.DataFrame | None

    @property
    def complete(self) -> bool:
        return len(self.runs) == self.experiment.n_runs


def load(out: str | Path) -> SweepData:
    out = Path(out)
    experiment, manifest = load_sweep(out)
    if not (out / "runs.parquet").is_file():
        from sim.experiments.store import build_tables

        build_tables(out, experiment)
    runs = read_table(out / "runs.parquet").to_pandas(use_threads=False)
    ok = runs.loc[runs["status"] == "ok", "run_id"]
    outcomes = read_table(out / "outcomes.parquet").to_pandas(use_threads=False)
    outcomes = outcomes[outcomes["run_id"].isin(ok)].reset_index(drop=True)
    traj = None
    if (out / "trajectories.parquet").is_file():
        traj = read_table(out / "trajectories.parquet").to_pandas(use_threads=False)
    return SweepData(out, experiment, manifest, runs, outcomes, traj)


# ---------------------------------------------------------------------------------- statistics
def src(X: np.ndarray, y: np.ndarray, groups: np.ndarray | None = None, n_boot: int = 1000,
        conf: float = CONF, seed: int = 0,
        standardize: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Standardised regression coefficients of `y` on the columns of `X`: (src, lo, hi, R²).

    The CI is a percentile bootstrap over `groups` (rows of one group are resampled together).
    With ``standardize=False`` the coefficients are per unit of each column (outcome units).
    """
    X, y = np.asarray(X, float), np.asarray(y, float)
    keep = np.isfinite(y) & np.isfinite(X).all(axis=1)
    X, y = X[keep], y[keep]
    groups = np.arange(len(y)) if groups is None else np.asarray(groups)[keep]
    d = X.shape[1]
    nan = np.full(d, np.nan)
    if len(y) <= d + 1 or negligible(y):
        return nan, nan, nan, np.nan

    def fit(Xs, ys):
        sx, sy = Xs.std(axis=0), ys.std()
        if sy == 0 or np.any(sx == 0):
            return nan
        A = np.column_stack([np.ones(len(ys)), Xs])
        beta = np.linalg.lstsq(A, ys, rcond=None)[0][1:]
        return beta * sx / sy if standardize else beta

    coef, r2 = fit(X, y), r_squared(X, y)
    uniq, inv = np.unique(groups, return_inverse=True)
    members = [np.flatnonzero(inv == g) for g in range(len(uniq))]
    rng = np.random.default_rng(seed)
    boots = np.empty((n_boot, d))
    for b in range(n_boot):
        rows = np.concatenate([members[g] for g in rng.integers(0, len(uniq), len(uniq))])
        boots[b] = fit(X[rows], y[rows])
    alpha = (1 - conf) / 2
    lo, hi = np.nanquantile(boots, [alpha, 1 - alpha], axis=0)
    return coef, lo, hi, r2


def r_squared(X: np.ndarray, y: np.ndarray) -> float:
    """Share of the variance of `y` a linear model of the columns of `X` explains."""
    keep = np.isfinite(y) & np.isfinite(X).all(axis=1)
    X, y = X[keep], y[keep]
    if len(y) <= X.shape[1] + 1 or negligible(y):
        return np.nan
    A = np.column_stack([np.ones(len(y)), X])
    resid = y - A @ np.linalg.lstsq(A, y, rcond=None)[0]
    return float(1 - resid.var() / y.var())


def sobol_indices(design: Design, Y: np.ndarray, conf: float = CONF, seed: int = 1) -> pd.DataFrame:
    """First-order and total Sobol indices (+ CI half-widths) from the design's Saltelli sample."""
    from SALib.analyze import sobol

    Y = np.asarray(Y, float)
    _check_complete(Y, "Sobol")
    names = design.problem()["names"]
    if negligible(Y):
        zero = np.zeros(len(names))
        return pd.DataFrame({"factor": names, "S1": zero, "S1_conf": zero, "ST": zero, "ST_conf": zero})
    res = sobol.analyze(design.problem(), Y, calc_second_order=design.second_order, conf_level=conf,
                        num_resamples=200, seed=seed)
    return pd.DataFrame({"factor": names, "S1": res["S1"], "S1_conf": res["S1_conf"],
                         "ST": res["ST"], "ST_conf": res["ST_conf"]})


def morris_indices(design: Design, Y: np.ndarray, conf: float = CONF, seed: int = 1) -> pd.DataFrame:
    """Morris μ*, its CI half-width, μ and σ, per unit of each factor's full range."""
    from SALib.analyze import morris

    Y = np.asarray(Y, float)
    _check_complete(Y, "Morris")
    if negligible(Y):
        zero = np.zeros(design.X.shape[1])
        return pd.DataFrame({"factor": design.problem()["names"], "mu_star": zero, "mu_star_conf": zero,
                             "mu": zero, "sigma": zero})
    res = morris.analyze(design.problem(), design.unit, Y, conf_level=conf, num_levels=design.levels,
                         num_resamples=200, seed=seed)
    return pd.DataFrame({"factor": design.problem()["names"], "mu_star": np.asarray(res["mu_star"]),
                         "mu_star_conf": np.asarray(res["mu_star_conf"]), "mu": np.asarray(res["mu"]),
                         "sigma": np.asarray(res["sigma"])})


def negligible(y: np.ndarray) -> bool:
    """No variance worth decomposing (e.g. a calibrated start year: only rounding differs)."""
    return bool(np.std(y) <= 1e-9 * max(1.0, float(np.abs(np.mean(y)))))


def _check_complete(Y: np.ndarray, what: str) -> None:
    if not np.isfinite(Y).all():
        raise ValueError(f"{what} indices need every sample: {int((~np.isfinite(Y)).sum())} samples have no result")


def sample_means(frame: pd.DataFrame, column: str, n_samples: int) -> np.ndarray:
    """Mean of `column` over the replicates of each sample (NaN where a sample has no ok run)."""
    means = frame.groupby("sample")[column].mean()
    return means.reindex(range(n_samples)).to_numpy(dtype=float)


def factor_matrix(data: SweepData, frame: pd.DataFrame) -> np.ndarray:
    """The factor values of the runs in `frame` (bools as 0/1)."""
    values = data.runs.set_index("run_id").loc[frame["run_id"], [f.path for f in data.experiment.factors]]
    return values.astype(float).to_numpy()


# ---------------------------------------------------------------------------------- tables
def lever_effects(data: SweepData) -> pd.DataFrame:
    rows = []
    X = factor_matrix(data, data.outcomes)
    means = data.outcomes.groupby("sample").mean(numeric_only=True)
    Xm = factor_matrix(data, means.assign(run_id=data.outcomes.groupby("sample")["run_id"].first()))
    for o in data.experiment.scalar_outcomes:
        coef, lo, hi, r2 = src(X, data.outcomes[o.name].to_numpy(), data.outcomes["sample"].to_numpy())
        r2_means = r_squared(Xm, means[o.name].to_numpy())
        for f, c, a, b in zip(data.experiment.factors, coef, lo, hi):
            rows.append({"outcome": o.name, "factor": f.path, "role": f.role, "src": c, "lo": a, "hi": b, "r2": r2,
                         "r2_means": r2_means})
    return pd.DataFrame(rows)


def sensitivity(data: SweepData) -> tuple[pd.DataFrame | None, str]:
    """Sobol or Morris indices of every scalar outcome, or (None, why not)."""
    exp = data.experiment
    kind = exp.design_kind
    if kind not in ("sobol", "morris"):
        return None, f"the {kind} design has no variance-based or elementary-effect indices; see the SRC above"
    fn = sobol_indices if kind == "sobol" else morris_indices
    frames = []
    try:
        for o in exp.scalar_outcomes:
            table = fn(exp.design, sample_means(data.outcomes, o.name, exp.n_samples))
            frames.append(table.assign(outcome=o.name))
    except ValueError as exc:
        return None, str(exc)
    return (pd.concat(frames, ignore_index=True) if frames else None), ""


def over_time(data: SweepData) -> tuple[pd.DataFrame | None, str]:
    """Indices year by year for every trajectory outcome: Sobol, Morris, or SRC (lhs, grid)."""
    exp, traj = data.experiment, data.trajectories
    if traj is None or traj.empty:
        return None, "no trajectory outcomes (an outcome without `year` or `stat`)"
    traj = traj[traj["run_id"].isin(data.outcomes["run_id"])]
    kind = exp.design_kind
    frames = []
    for o in exp.trajectory_outcomes:
        for year, group in traj.groupby("year"):
            if kind in ("sobol", "morris"):
                fn = sobol_indices if kind == "sobol" else morris_indices
                try:
                    table = fn(exp.design, sample_means(group, o.name, exp.n_samples))
                except ValueError as exc:
                    return None, str(exc)
            else:
                coef, lo, hi, _ = src(factor_matrix(data, group), group[o.name].to_numpy(), group["sample"].to_numpy(),
                                      n_boot=200)
                table = pd.DataFrame({"factor": [f.path for f in exp.factors], "src": coef, "lo": lo, "hi": hi})
            frames.append(table.assign(outcome=o.name, year=int(year)))
    return pd.concat(frames, ignore_index=True), ""


def share_fans(data: SweepData, column: str = "production_share") -> pd.DataFrame:
    """5th, 50th and 95th percentile across ok runs of `column`, per country and year."""
    ok = data.runs.loc[data.runs["status"] == "ok", "run_id"]
    parts = [read_table(run_path(data.out, int(i)), columns=["year", "country", column]).to_pandas(use_threads=False)
             for i in ok]
    frame = pd.concat(parts, ignore_index=True)
    q = frame.groupby(["country", "year"])[column].quantile([0.05, 0.5, 0.95]).unstack()
    q.columns = ["p05", "p50", "p95"]
    return q.reset_index()


# ---------------------------------------------------------------------------------- the report
def analyze(out: str | Path) -> Path:
    """Write analysis/*.csv, plots/*.png|svg and analysis.md into the sweep folder; return analysis.md."""
    from sim.experiments import analysis_plots as plots

    data = load(out)
    exp = data.experiment
    if data.outcomes.empty:
        raise UserError(f"{data.out}: no successful runs to analyse")
    tables, plotdir = data.out / "analysis", data.out / "plots"
    tables.mkdir(exist_ok=True)
    plotdir.mkdir(exist_ok=True)
    effects = lever_effects(data)
    effects.to_csv(tables / "src.csv", index=False, float_format="%.6g")
    sens, sens_note = sensitivity(data) if data.complete else (None, "the sweep is incomplete")
    if sens is not None:
        sens.to_csv(tables / f"{exp.design_kind}.csv", index=False, float_format="%.6g")
    timeline, time_note = over_time(data) if data.complete or exp.design_kind not in ("sobol", "morris") \
        else (None, "the sweep is incomplete")
    if timeline is not None:
        timeline.to_csv(tables / "over_time.csv", index=False, float_format="%.6g")
    fans = share_fans(data)
    fans.to_csv(tables / "share_fans.csv", index=False, float_format="%.6g")
    figures = plots.all_plots(data, effects, sens, timeline, fans, plotdir)
    text = report(data, effects, sens, sens_note, timeline, time_note, figures)
    text += "\n".join(magnitudes_section(data, tables)) + "\n"
    if exp.policy_design is not None:
        from sim.experiments import policies

        text += "\n".join(policies.section(data, tables)) + "\n"
    path = data.out / "analysis.md"
    path.write_text(text)
    return path


def targets(data: dict, paths) -> str:
    """What the factor's paths set, e.g. "value of schedule[7], schedule[9] (ramp from 2025 to 2030)"."""
    found = [target(data, p) for p in paths]
    if len(set(t.split(" (", 1)[-1] for t in found)) == 1 and all(t.startswith("value of schedule[") for t in found):
        return "value of " + ", ".join(t.split(" ", 3)[2] for t in found) + " (" + found[0].split(" (", 1)[1]
    return "; ".join(dict.fromkeys(found))


def _fmt(x: float) -> str:
    return "–" if not np.isfinite(x) else f"{x:.3g}"


def report(data: SweepData, effects, sens, sens_note, timeline, time_note, figures: dict) -> str:
    exp, m = data.experiment, data.manifest
    n_ok, n_failed = int((data.runs["status"] == "ok").sum()), int((data.runs["status"] == "failed").sum())
    L = [f"# {exp.title}", "", f"Sweep analysis of experiment `{exp.name}` ({m['experiment']['file']}, "
         f"sha256 `{exp.sha256[:12]}`), written by `factoryshift analyze`.", ""]
    if exp.description:
        L += [exp.description, ""]
    L += ["| | |", "|---|---|",
          f"| base scenario | `{exp.scenario.name}`" + (f" with [fixed] {exp.fixed}" if exp.fixed else "") + " |",
          f"| design | {exp.design_text} × {exp.replicates} replicates = {exp.n_runs} runs |",
          f"| runs | {n_ok} ok, {n_failed} failed, {exp.n_runs - len(data.runs)} not run |",
          f"| firms per run | {exp.firms:,} |", f"| seed | {exp.seed} (replicate r: SeedSequence(seed).spawn(R)[r]) |",
          f"| code | commit {m.get('git_commit')}, factoryshift {m['versions'].get('factoryshift')} |", ""]
    L += ["## Factors", "", "| factor | role | values | sets |", "|---|---|---|---|"]
    for f in exp.factors:
        vals = (", ".join(map(str, f.values)) if f.values is not None else f"{f.lo} – {f.hi}")
        L.append(f"| `{f.path}`" + (f" (also {', '.join(f.also)})" if f.also else "") + f" | {f.role} | {vals} | "
                 + targets(exp.base.data, f.paths) + " |")
    L += ["", "## Outcomes across runs", "", "| outcome | definition | 5% | median | 95% |", "|---|---|---|---|---|"]
    for o in exp.scalar_outcomes:
        q = data.outcomes[o.name].quantile([0.05, 0.5, 0.95]).to_numpy()
        L.append(f"| `{o.name}` | {o.describe()} | {_fmt(q[0])} | {_fmt(q[1])} | {_fmt(q[2])} |")
    for o in exp.trajectory_outcomes:
        L.append(f"| `{o.name}` | {o.describe()} | (trajectory) | | |")
    L += ["", "## Lever comparison: standardised regression coefficients", "",
          "SRC = the change in the outcome, in standard deviations, per standard deviation of the factor, "
          "all factors fitted together. 95% CIs resample whole samples (all replicates together). "
          "R² is the share of outcome variance across runs a linear model of the factors explains, R² (means) the "
          "same for the means over replicates: low R² with high R² (means) is replicate noise (which the common "
          "random numbers keep out of the comparison); low R² (means) points to non-linear effects and "
          "interactions the SRC understate.", ""]
    for o in exp.scalar_outcomes:
        part = effects[effects["outcome"] == o.name].sort_values("src", key=np.abs, ascending=False)
        L += [f"### `{o.name}` — {o.describe()} (R² = {_fmt(part['r2'].iloc[0])}, "
              f"R² (means) = {_fmt(part['r2_means'].iloc[0])})", "",
              "| factor | role | SRC | 95% CI |", "|---|---|---|---|"]
        L += [f"| `{r.factor}` | {r.role} | {_fmt(r.src)} | [{_fmt(r.lo)}, {_fmt(r.hi)}] |" for r in part.itertuples()]
        L += [""] + [f"![{k}]({v})" for k, v in figures.items() if k in (f"tornado_{o.name}", f"heatmap_{o.name}")]
        L.append("")
    L += [f"## Sensitivity ({exp.design_kind})", ""]
    if sens is None:
        L += [f"No sensitivity indices: {sens_note}.", ""]
    elif exp.design_kind == "sobol":
        L += ["S1: share of outcome variance due to the factor alone; ST: including all its interactions "
              "(ST − S1 large → interactions). ± are 95% bootstrap half-widths; indices are computed on the "
              "mean over replicates of each sample.", "", "| outcome | factor | S1 | ST |", "|---|---|---|---|"]
        L += [f"| `{r.outcome}` | `{r.factor}` | {_fmt(r.S1)} ± {_fmt(r.S1_conf)} | {_fmt(r.ST)} ± {_fmt(r.ST_conf)} |"
              for r in sens.itertuples()]
    else:
        L += ["μ*: mean absolute elementary effect of moving the factor across its whole range (outcome units); "
              "σ: their spread (large σ → non-linearity or interactions).", "",
              "| outcome | factor | μ* | σ |", "|---|---|---|---|"]
        L += [f"| `{r.outcome}` | `{r.factor}` | {_fmt(r.mu_star)} ± {_fmt(r.mu_star_conf)} | {_fmt(r.sigma)} |"
              for r in sens.itertuples()]
    L += [""] + [f"![{k}]({v})" for k, v in figures.items() if k.startswith("indices_")]
    L += ["", "## Over time", ""]
    if timeline is None:
        L += [f"No indices over time: {time_note}.", ""]
    else:
        L += ["Indices for each year of each trajectory outcome (analysis/over_time.csv):", ""]
        L += [f"![{k}]({v})" for k, v in figures.items() if k.startswith("time_")]
    L += ["", "## Trajectories across runs", "", "Median and 5–95% band across all successful runs "
          "(samples and replicates together; analysis/share_fans.csv).", ""]
    L += [f"![{k}]({v})" for k, v in figures.items() if k.startswith("fan_")]
    L += ["", "Every figure is also saved as SVG next to its PNG. Tables: analysis/src.csv"
          + (f", analysis/{exp.design_kind}.csv" if sens is not None else "")
          + (", analysis/over_time.csv" if timeline is not None else "") + ", analysis/share_fans.csv.", ""]
    return "\n".join(L)
