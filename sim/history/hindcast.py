"""Out-of-sample validation: run from the historical start and score the years after the cutoff.

For each region c and out-of-sample year t (until < t ≤ to) the error is e = ŝ_c(t) − s_c(t) in
percentage points of world MVA share, and for a set of pairs (t, c)

    MAE = mean |e|,     RMSE = sqrt(mean e²)

per region (over its years) and overall (over every year × region). ŝ is one of three forecasts:

* the model: the mean share over the replicate seeds run from `start` (the 5–95% band is
  reported too) — the test the issue of record asks for;
* persistence: ŝ_c(t) = s_c(until);
* trend: the least-squares line through s_c(start..until), extended;

and two more that see what the model sees after the cutoff (observed GDP drives its demand):

* gdp_scaled: ŝ_c(t) ∝ s_c(until) · GDP_c(t) / GDP_c(until), normalised to sum to 1 — each
  country's manufacturing grows with its dollar GDP;
* restart: the model again, but started at `until` from the observed shares of that year
  (a forecast from known initial conditions, with the same fitted parameters).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.data import regions as calibration
from sim.errors import UserError, did_you_mean
from sim.experiments.compare import replicate_seeds
from sim.history import start as history
from sim.history.fit import replicate_runs
from sim.inputs import load_toml
from sim.output import results_folder, to_json
from sim.provenance import git_commit, library_versions, now_iso
from sim.scenarios import parameters as P
from sim.scenarios.scenario import bundled_dir, check_path

#: forecast name → its column (the last two are in extra.csv; hindcast.csv has COLUMNS exactly)
FORECASTS = {"model": "model_share_mean", "persistence": "persistence_share", "trend": "trend_share",
             "gdp_scaled": "gdp_scaled_share", "restart": "restart_share_mean"}
COLUMNS = ["year", "country", "observed_share", "model_share_mean", "model_share_p05", "model_share_p95",
           "persistence_share", "trend_share"]
EXTRA_COLUMNS = ["year", "country", "gdp_scaled_share", "restart_share_mean", "restart_share_p05",
                 "restart_share_p95"]


def naive_forecasts(observed: pd.DataFrame, start: int, until: int, years) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(persistence, trend) forecasts for `years`, each year × region, from observations start..until only."""
    window = observed.loc[start:until]
    years = np.asarray(list(years))
    persistence = pd.DataFrame(np.tile(window.loc[until].to_numpy(), (len(years), 1)), index=years,
                               columns=observed.columns)
    slope, intercept = np.polyfit(window.index.to_numpy(dtype=float), window.to_numpy(), 1)
    trend = pd.DataFrame(intercept + np.outer(years, slope), index=years, columns=observed.columns)
    return persistence, trend


def gdp_scaled(observed: pd.DataFrame, gdp: pd.DataFrame, until: int, years) -> pd.DataFrame:
    """ŝ_c(t) ∝ s_c(until)·GDP_c(t)/GDP_c(until), normalised over c, for `years`."""
    years = list(years)
    raw = observed.loc[until].to_numpy() * (gdp.loc[years].to_numpy() / gdp.loc[until].to_numpy())
    return pd.DataFrame(raw / raw.sum(axis=1, keepdims=True), index=years, columns=observed.columns)


def error_table(table: pd.DataFrame, until: int) -> pd.DataFrame:
    """MAE and RMSE (pp) of each forecast in `table` per country and overall, over the years after `until`."""
    test = table[table["year"] > until]
    if test.empty:
        raise ValueError(f"no year after {until} in the table")
    columns = {name: col for name, col in FORECASTS.items() if col in table}
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


#: The two robot measures scored after the cutoff: IFR's density (robots per 10,000 manufacturing employees,
#: press figures; the EU-27 figure stands for XEU) and installations (robots installed in the year, IFR via
#: OWID, for the five countries with a series and the world, "WLD": the model's sum over all regions).
ROBOT_MEASURES = ("density", "installations")
#: The five countries with an IFR installations series, over which the issue's target is scored.
FIVE = tuple(c for c in calibration.ROBOT_COLUMNS if c != "WLD")


def robot_columns(measure: str) -> list[str]:
    """Columns of automation.csv (measure "density") and installations.csv ("installations")."""
    return ["year", "country", f"observed_{measure}", f"model_{measure}_mean", f"model_{measure}_p05",
            f"model_{measure}_p95", f"persistence_{measure}", f"trend_{measure}"]


#: IFR density is published for these (the EU-27 figure stands for XEU).
DENSITY_REGIONS = {v: k for k, v in calibration.IFR_ENTITY.items()}


def observed_robots(measure: str, first: int, last: int) -> dict[tuple[int, str], float]:
    """IFR's figure by (year, region) where published, first ≤ year ≤ last: density (latest edition) or
    installations (the five countries and "WLD")."""
    out = {}
    if measure == "installations":
        for year, row in calibration.robot_installations(max(first, 2011), last).items():
            out.update({(year, code): value for code, value in row.items()})
        return out
    for year in range(first, last + 1):
        published = calibration._ifr(year)
        out.update({(year, region): published[entity] for region, entity in DENSITY_REGIONS.items()
                    if entity in published})
    return out


def model_robots(results, measure: str) -> tuple[np.ndarray, list[str]]:
    """The replicates' robot_density or robot_installations, replicates × years × regions, and the regions
    (installations: the five and "WLD", the model's world sum)."""
    codes = list(results[0].model.state.codes)
    values = np.stack([r.countries.pivot(index="year", columns="country", values=f"robot_{measure}")
                       .loc[:, codes].to_numpy() for r in results])
    if measure == "density":
        return values, codes
    five = [codes.index(c) for c in FIVE]
    return np.concatenate([values[:, :, five], values.sum(axis=2, keepdims=True)], axis=2), [*FIVE, "WLD"]


def robot_table(results, until: int, measure: str = "density") -> pd.DataFrame:
    """The model (replicate mean and 5–95%) against IFR's figures, with the naive forecasts made at `until`:

        persistence  ŷ(t) = y(t₀),  t₀ the last year ≤ until with a published figure
        trend        ln ŷ(t) = a + b·t,  least squares through the published ln y of the five years up to
                     `until` (none where fewer than two are published)."""
    values, codes = model_robots(results, measure)
    years = np.array(sorted(set(results[0].countries.year)))
    observed = observed_robots(measure, int(years[0]), int(years[-1]))
    rows = []
    for c, code in enumerate(codes):
        known = sorted((y, v) for (y, r), v in observed.items() if r == code and y <= until)
        recent = [(y, v) for y, v in known if y > until - 5]
        slope = np.polyfit([y for y, _ in recent], np.log([v for _, v in recent]), 1) if len(recent) >= 2 else None
        for i, year in enumerate(years):
            later = year > until
            rows.append(dict(zip(robot_columns(measure), (
                int(year), code, observed.get((int(year), code), np.nan), values[:, i, c].mean(),
                np.quantile(values[:, i, c], 0.05), np.quantile(values[:, i, c], 0.95),
                known[-1][1] if later and known else np.nan,
                float(np.exp(np.polyval(slope, year))) if later and slope is not None else np.nan))))
    return pd.DataFrame(rows)


def automation_errors(table: pd.DataFrame, until: int, measure: str = "density") -> pd.DataFrame:
    """Mean absolute log error after `until` of the model and the naive forecasts, per country and over the
    five countries (`FIVE`), each over the years where it and IFR's figure exist:

        MALE = mean |ln(ŷ(t)/y(t))|"""
    observed = f"observed_{measure}"
    test = table[(table.year > until) & table[observed].notna()]
    rows = []
    for country, group in [*test.groupby("country", sort=False), ("five", test[test.country.isin(FIVE)])]:
        row = {"measure": measure, "country": country, "years": int(group.year.nunique())}
        for name in ("model", "persistence", "trend"):
            col = f"model_{measure}_mean" if name == "model" else f"{name}_{measure}"
            ok = group[col].notna() & (group[col] > 0)
            row[f"{name}_male"] = (float(np.abs(np.log(group.loc[ok, col] / group.loc[ok, observed])).mean())
                                   if ok.any() else np.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def adopting_share(firms, locations) -> float:
    """The share of the firms producing in `locations` with any automation (α > 0): the model's counterpart of
    Eurostat's share of enterprises using any AI technology (isoc_eb_ai)."""
    here = np.isin(firms.location, locations)
    return float((firms.automation[here] > 0).mean()) if here.any() else float("nan")


def diagnostics(results, until: int) -> dict:
    """Replicate means of: relocations per year by kind; China's, Viet Nam's and Mexico's shares of the US
    market (the China+1 signature); China's share of world robot installations; the share of firms in
    Germany, the rest of the EU and both that use AI in the last year (`adopting_share`)."""
    moves = pd.concat([r.flows.assign(replicate=i) for i, r in enumerate(results)])
    per_year = (moves.groupby(["year", "kind"]).firms.sum() / len(results)).unstack(fill_value=0.0)
    trade = pd.concat([r.trade for r in results]).groupby(["year", "origin", "market"]).share.mean()
    us = {code: trade.xs((code, "USA"), level=("origin", "market")).round(5).to_dict()
          for code in ("CHN", "VNM", "MEX")}
    codes = list(results[0].model.state.codes)
    europe = {"DEU": [codes.index("DEU")], "XEU": [codes.index("XEU")],
              "EU": [codes.index("DEU"), codes.index("XEU")]}
    adopting = {name: float(np.mean([adopting_share(r.model.firms, where) for r in results]))
                for name, where in europe.items()}
    installs = pd.concat([r.countries for r in results]).groupby(["year", "country"]).robot_installations.mean()
    world = installs.groupby(level="year").sum()
    china = (installs.xs("CHN", level="country") / world.where(world > 0)).round(4).to_dict()
    return {"relocations_per_year_by_kind": {int(y): {k: float(v) for k, v in row.items()}
                                             for y, row in per_year.iterrows()},
            "share_of_us_market_supplied_from": {c: {int(y): v for y, v in d.items()} for c, d in us.items()},
            "china_share_of_world_robot_installations": {int(y): v for y, v in china.items()},
            f"share_of_firms_using_ai_{int(results[0].model.year)}": adopting,
            "cutoff": until}


def held(scenario, levers):
    """The scenario without its schedule entries for `levers` (they keep their start-year values)."""
    if not levers:
        return scenario
    from sim.scenarios.scenario import Scenario

    data = dict(scenario.data, schedule=[e for e in scenario.data["schedule"] if e["lever"] not in levers])
    return Scenario(scenario.name, data, scenario.path, scenario.overrides, scenario.observed)


def shipped_params_path(until: int) -> Path:
    return bundled_dir("scenarios") / f"calibrated_{until}.toml"


def load_params(path: str | Path | None, until: int) -> tuple[dict[str, float], dict, Path]:
    """The `[model]` values of a calibration overlay (default: the shipped one for `until`), the
    record of its fit (`[meta.calibration]`, empty if none) and its path."""
    if path is None:
        path = shipped_params_path(until)
        if not path.is_file():
            raise UserError(f"--params: no calibration ships for --until {until}; run `factoryshift calibrate "
                            f"--until {until} --out FILE` and pass --params FILE")
    path = Path(path)
    data = load_toml(path, "--params")
    model = data.get("model")
    if not isinstance(model, dict) or not model:
        raise UserError(f"{path}: model: missing (a calibration overlay sets [model] parameters)")
    template = {"model": dict.fromkeys(P.MODEL)}
    errors = [f"{path}: model.{key}: {problem}" for key in model
              if (problem := check_path(template, f"model.{key}"))]
    if errors:
        raise UserError(errors)
    record = data.get("meta", {}).get("calibration", {})
    return dict(model), record if isinstance(record, dict) else {}, path


@dataclass
class HindcastResult:
    table: pd.DataFrame      # COLUMNS and EXTRA_COLUMNS, one row per year × country
    errors: pd.DataFrame     # error_table
    manifest: dict
    automation: pd.DataFrame | None = None          # robot_columns("density")
    automation_errors: pd.DataFrame | None = None   # automation_errors of both ROBOT_MEASURES
    diagnostics: dict | None = None                 # diagnostics: relocations by kind, China+1, installations
    installations: pd.DataFrame | None = None       # robot_columns("installations")

    def format_errors(self) -> str:
        names = [n for n in FORECASTS if f"{n}_mae_pp" in self.errors]
        label = {"persistence": "persist.", "gdp_scaled": "GDP-scaled"}
        lines = [f"Out-of-sample error, percentage points of world MVA share ({self.manifest['test_years']})"]
        for stat in ("mae", "rmse"):
            lines.append(f"{stat.upper():<10}" + "".join(f"{label.get(n, n):>12}" for n in names))
            for _, r in self.errors.iterrows():
                lines.append(f"{r['country']:<10}" + "".join(f"{r[f'{n}_{stat}_pp']:>12.2f}" for n in names))
        lines.append("model: run from the start year; restart: run from the observed shares at the cutoff; "
                     "GDP-scaled and restart use observed GDP after the cutoff, as the model does.")
        return "\n".join(lines)

    def write(self, out_dir: str | Path, plot: bool = True, force: bool = False) -> Path:
        from sim import plots

        extra = [c for c in EXTRA_COLUMNS if c in self.table]
        names = ("hindcast.csv", "extra.csv", "errors.csv", "hindcast.png", "hindcast.svg", "automation.csv",
                 "automation_errors.csv", "automation.png", "automation.svg", "installations.csv",
                 "installations.png", "installations.svg", "diagnostics.json")
        with results_folder(out_dir, "hindcast", outputs=names, force=force) as tmp:
            self.table[COLUMNS].to_csv(tmp / "hindcast.csv", index=False, float_format="%.8g")
            self.table[extra].to_csv(tmp / "extra.csv", index=False, float_format="%.8g")
            self.errors.to_csv(tmp / "errors.csv", index=False, float_format="%.6g")
            robots = {"automation": ("density", self.automation),          # file stem: (measure, table)
                      "installations": ("installations", self.installations)}
            for stem, (measure, robot) in robots.items():
                if robot is not None:
                    robot[robot_columns(measure)].to_csv(tmp / f"{stem}.csv", index=False, float_format="%.6g")
                    if plot:
                        plots.automation_hindcast(robot, self.manifest["until"], tmp / f"{stem}.png", measure=measure)
            if self.automation_errors is not None:
                self.automation_errors.to_csv(tmp / "automation_errors.csv", index=False, float_format="%.6g")
                (tmp / "diagnostics.json").write_text(to_json(self.diagnostics))
            if plot:
                plots.hindcast(self.table, self.manifest["until"], tmp / "hindcast.png")
            files = sorted(p.name for p in tmp.iterdir()) + ["manifest.json"]
            (tmp / "manifest.json").write_text(to_json(dict(self.manifest, files=files)))
        return Path(out_dir)


def hindcast(params: dict[str, float] | None = None, *, start: int = history.FIRST_YEAR, until: int = 2015,
             to: int = history.LAST_YEAR, seeds: int = 20, firms: int = 2000, seed: int = 20261125,
             restart: bool = True, params_file: str | None = None, hold: tuple[str, ...] = ()) -> HindcastResult:
    """Run `seeds` replicates from `start` to `to` with `params` and score them after `until`.

    `hold` names scheduled levers (e.g. ``exchange_rate``) to keep at their start-year values: the
    difference to the full hindcast is what their observed paths are worth."""
    history.check_years(start, to)
    if not start < until < to:
        raise UserError(f"--until: {until} must lie between --from {start} and --to {to}")
    if seeds < 1 or firms < 10:
        raise UserError("--seeds must be ≥ 1 and --firms ≥ 10")
    overrides = {f"model.{k}": v for k, v in (params or {}).items()}
    source = params_file or "params"
    levers = {e["lever"] for e in history.starting_scenario(start, to).data["schedule"]}
    unknown = [n for n in hold if n not in levers]
    if unknown:
        raise UserError([f"--hold: {n!r} is not a lever the historical start schedules" + did_you_mean(n, levers)
                         for n in unknown])
    scenario = held(history.starting_scenario(start, to), hold).with_overrides(overrides, source=source)
    observed = history.observed_shares(start, to)
    codes, years = scenario.codes, np.arange(start, to + 1)
    replicate = replicate_seeds(seed, seeds)
    results = replicate_runs(scenario, replicate, firms)
    runs = np.stack([r.shares.to_numpy() for r in results])
    persistence, trend = naive_forecasts(observed, start, until, years)
    gdp = pd.DataFrame({y: calibration.gdp_usd(y) for y in years}).T[codes]
    scaled = gdp_scaled(observed[codes], gdp, until, years)
    for forecast in (persistence, trend, scaled):
        forecast.loc[:until] = np.nan    # forecasts exist only after the cutoff
    columns = {
        "year": np.repeat(years, len(codes)), "country": np.tile(codes, len(years)),
        "observed_share": observed[codes].to_numpy().ravel(),
        "model_share_mean": runs.mean(axis=0).ravel(), "model_share_p05": np.quantile(runs, 0.05, axis=0).ravel(),
        "model_share_p95": np.quantile(runs, 0.95, axis=0).ravel(),
        "persistence_share": persistence[codes].to_numpy().ravel(), "trend_share": trend[codes].to_numpy().ravel(),
        "gdp_scaled_share": scaled[codes].to_numpy().ravel(),
    }
    if restart:
        later = np.stack([r.shares.to_numpy() for r in replicate_runs(
            held(history.starting_scenario(until, to), hold).with_overrides(overrides, source=source), replicate,
            firms)])
        pad = np.full((until - start, len(codes)), np.nan)
        for name, stat in (("mean", later.mean(axis=0)), ("p05", np.quantile(later, 0.05, axis=0)),
                           ("p95", np.quantile(later, 0.95, axis=0))):
            columns[f"restart_share_{name}"] = np.vstack([pad, stat]).ravel()
    table = pd.DataFrame(columns)
    manifest = {
        "command": "hindcast", "from": start, "until": until, "to": to, "test_years": f"{until + 1}–{to}",
        "seeds": seeds, "base_seed": seed, "firms": firms, "restart": restart, "params": params or {},
        "held": list(hold),
        "params_file": params_file, "versions": library_versions(), "git_commit": git_commit(), "created": now_iso(),
    }
    robots = {m: robot_table(results, until, m) for m in ROBOT_MEASURES}
    errors = pd.concat([automation_errors(robots[m], until, m) for m in ROBOT_MEASURES], ignore_index=True)
    return HindcastResult(table, error_table(table, until), manifest, robots["density"], errors,
                          diagnostics(results, until), robots["installations"])
