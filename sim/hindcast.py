"""Out-of-sample validation: run from the historical start and score the years after the cutoff.

For each region c and out-of-sample year t (until < t ≤ to) the error is e = ŝ_c(t) − s_c(t) in
percentage points of world MVA share, and for a set of pairs (t, c)

    MAE = mean |e|,     RMSE = sqrt(mean e²)

per region (over its years) and overall (over every year × region). ŝ is one of three forecasts:

* the model: the mean share over the replicate seeds (the 5–95% band is reported too);
* persistence: ŝ_c(t) = s_c(until);
* trend: the least-squares line through s_c(start..until), extended.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim import history
from sim import parameters as P
from sim.api import run_scenario
from sim.compare import replicate_seeds
from sim.errors import UserError
from sim.output import staged_files, to_json
from sim.provenance import git_commit, library_versions, now_iso
from sim.scenario import bundled_dir, check_path

FORECASTS = ("model", "persistence", "trend")
COLUMNS = ["year", "country", "observed_share", "model_share_mean", "model_share_p05", "model_share_p95",
           "persistence_share", "trend_share"]


def naive_forecasts(observed: pd.DataFrame, start: int, until: int, years) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(persistence, trend) forecasts for `years`, each year × region, from observations start..until only."""
    window = observed.loc[start:until]
    years = np.asarray(list(years))
    persistence = pd.DataFrame(np.tile(window.loc[until].to_numpy(), (len(years), 1)), index=years,
                               columns=observed.columns)
    slope, intercept = np.polyfit(window.index.to_numpy(dtype=float), window.to_numpy(), 1)
    trend = pd.DataFrame(intercept + np.outer(years, slope), index=years, columns=observed.columns)
    return persistence, trend


def error_table(table: pd.DataFrame, until: int) -> pd.DataFrame:
    """MAE and RMSE (pp) of each forecast per country and overall, over the years after `until`."""
    test = table[table["year"] > until]
    if test.empty:
        raise ValueError(f"no year after {until} in the table")
    columns = {"model": "model_share_mean", "persistence": "persistence_share", "trend": "trend_share"}
    rows = []
    groups = [*((c, g) for c, g in test.groupby("country", sort=False)), ("overall", test)]
    for country, group in groups:
        row = {"country": country, "years": int(group["year"].nunique())}
        for name, column in columns.items():
            err = 100.0 * (group[column] - group["observed_share"])
            row[f"{name}_mae_pp"] = float(err.abs().mean())
            row[f"{name}_rmse_pp"] = float(np.sqrt((err ** 2).mean()))
        rows.append(row)
    return pd.DataFrame(rows)


def shipped_params_path(until: int) -> Path:
    return bundled_dir("scenarios") / f"calibrated_{until}.toml"


def load_params(path: str | Path | None, until: int) -> tuple[dict[str, float], Path]:
    """The `[model]` values of a calibration overlay (default: the shipped one for `until`)."""
    if path is None:
        path = shipped_params_path(until)
        if not path.is_file():
            raise UserError(f"--params: no calibration ships for --until {until}; run `factoryshift calibrate "
                            f"--until {until} --out FILE` and pass --params FILE")
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"--params: {path}: no such file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not valid TOML: {exc}") from None
    model = data.get("model")
    if not isinstance(model, dict) or not model:
        raise UserError(f"{path}: model: missing (a calibration overlay sets [model] parameters)")
    template = {"model": dict.fromkeys(P.MODEL)}
    errors = [f"{path}: model.{key}: {problem}" for key in model
              if (problem := check_path(template, f"model.{key}"))]
    if errors:
        raise UserError(errors)
    return dict(model), path


@dataclass
class HindcastResult:
    table: pd.DataFrame      # COLUMNS, one row per year × country
    errors: pd.DataFrame     # error_table
    manifest: dict

    def format_errors(self) -> str:
        e = self.errors
        head = (f"{'country':<10}{'model MAE':>11}{'persist.':>10}{'trend':>9}   "
                f"{'model RMSE':>11}{'persist.':>10}{'trend':>9}")
        lines = [f"Out-of-sample error, percentage points of world MVA share ({self.manifest['test_years']})", head]
        for _, r in e.iterrows():
            lines.append(f"{r['country']:<10}{r['model_mae_pp']:>11.2f}{r['persistence_mae_pp']:>10.2f}"
                         f"{r['trend_mae_pp']:>9.2f}   {r['model_rmse_pp']:>11.2f}{r['persistence_rmse_pp']:>10.2f}"
                         f"{r['trend_rmse_pp']:>9.2f}")
        return "\n".join(lines)

    def write(self, out_dir: str | Path, plot: bool = True) -> Path:
        from sim import plots

        with staged_files(out_dir) as tmp:
            self.table.to_csv(tmp / "hindcast.csv", index=False, float_format="%.8g")
            self.errors.to_csv(tmp / "errors.csv", index=False, float_format="%.6g")
            if plot:
                plots.hindcast(self.table, self.manifest["until"], tmp / "hindcast.png")
            (tmp / "manifest.json").write_text(to_json(self.manifest))
        return Path(out_dir)


def hindcast(params: dict[str, float] | None = None, *, start: int = history.FIRST_YEAR, until: int = 2015,
             to: int = history.LAST_YEAR, seeds: int = 20, firms: int = 2000, seed: int = 20261125,
             observed: pd.DataFrame | None = None, params_file: str | None = None) -> HindcastResult:
    """Run `seeds` replicates from `start` to `to` with `params` and score them after `until`."""
    history.check_years(start, to)
    if not start < until < to:
        raise UserError(f"--until: {until} must lie between --from {start} and --to {to}")
    if seeds < 1 or firms < 10:
        raise UserError("--seeds must be ≥ 1 and --firms ≥ 10")
    scenario = history.starting_scenario(start, to)
    if params:
        scenario = scenario.with_overrides({f"model.{k}": v for k, v in params.items()},
                                           source=params_file or "params")
    observed = history.observed_shares(start, to) if observed is None else observed.loc[start:to]
    runs = np.stack([run_scenario(scenario, seed=s, firms=firms).shares().to_numpy()
                     for s in replicate_seeds(seed, seeds)])
    years = np.arange(start, to + 1)
    persistence, trend = naive_forecasts(observed, start, until, years)
    persistence.loc[:until], trend.loc[:until] = np.nan, np.nan   # forecasts exist only after the cutoff
    codes = scenario.codes
    mean, p05, p95 = runs.mean(axis=0), np.quantile(runs, 0.05, axis=0), np.quantile(runs, 0.95, axis=0)
    table = pd.DataFrame({
        "year": np.repeat(years, len(codes)),
        "country": np.tile(codes, len(years)),
        "observed_share": observed[codes].to_numpy().ravel(),
        "model_share_mean": mean.ravel(), "model_share_p05": p05.ravel(), "model_share_p95": p95.ravel(),
        "persistence_share": persistence[codes].to_numpy().ravel(), "trend_share": trend[codes].to_numpy().ravel(),
    })[COLUMNS]
    manifest = {
        "from": start, "until": until, "to": to, "test_years": f"{until + 1}–{to}",
        "seeds": seeds, "base_seed": seed, "firms": firms, "params": params or {}, "params_file": params_file,
        "versions": library_versions(), "git_commit": git_commit(), "created": now_iso(),
    }
    return HindcastResult(table, error_table(table, until), manifest)
