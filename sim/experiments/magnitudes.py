"""Magnitudes and costs of a sweep, in the outcomes' own units: what rankings leave out.

* **Effect per unit** of each factor: the regression coefficient of the outcome on the
  factors (all fitted together, as the SRC are), in outcome units per unit of the factor —
  percentage points of share for shares — with a 95% bootstrap CI over samples, and the
  same over the factor's whole range.
* **Means by level**: the outcome's mean at each level of a factor (each value of a
  discrete factor, four equal-width bins of a continuous one), averaged over everything
  else.
* **Cost-effectiveness**: where the experiment measures public spending (an outcome of
  ``subsidy_spent_usd`` or ``reshoring_spent_usd``) and a production share of the same
  countries (or some of them), US$ of extra spending per percentage point of share gained
  by raising a lever from its lowest level (or, in a policies × uncertainties experiment,
  by choosing a policy over the first one), with a 5–95% bootstrap range. Where the share
  gain is not clearly positive (its 5–95% range reaches zero) the ratio is not reported:
  it would divide by a number indistinguishable from nothing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SPENDING = ("subsidy_spent_usd", "reshoring_spent_usd")
SHARE = "production_share"
MAX_LEVELS = 10          # a factor with at most this many distinct values is read level by level
BINS = 4                 # a continuous factor is read in this many equal-width bins
N_BOOT = 1000
BAND = (0.05, 0.95)


def unit(metric: str) -> tuple[float, str]:
    """(scale, unit) an outcome is reported in: shares in percentage points, US$ in billions."""
    if metric == SHARE:
        return 100.0, "pp"
    if metric.endswith("_usd"):
        return 1e-9, "US$ bn"
    return 1.0, metric


def show(value: float, metric: str, level: bool = False) -> str:
    """A value in its outcome's unit: "14.5%" for a share level, "+0.32 pp" for a change, "US$ 8.1 bn"."""
    if not np.isfinite(value):
        return "–"
    scale, name = unit(metric)
    if metric == SHARE:
        return f"{scale * value:.2f}%" if level else f"{scale * value:+.3g} pp"
    if name == "US$ bn":
        return f"US$ {scale * value:.3g} bn" if level else f"{scale * value:+.3g} US$ bn"
    return f"{value:.4g}" if level else f"{value:+.3g}"


def factor_levels(factor, x: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """A level code for each value of `x` and the levels' labels (lowest first)."""
    x = np.asarray(x, dtype=float)
    values = np.unique(x[np.isfinite(x)])
    if len(values) <= MAX_LEVELS:
        return np.searchsorted(values, x), [f"{v:g}" for v in values]
    lo = factor.lo if factor.lo is not None else values[0]
    hi = factor.hi if factor.hi is not None else values[-1]
    edges = np.linspace(lo, hi, BINS + 1)
    codes = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, BINS - 1)
    return codes, [f"{a:.3g}–{b:.3g}" for a, b in zip(edges[:-1], edges[1:])]


# ---------------------------------------------------------------------------------- bootstrap
def resample_weights(units: np.ndarray, n_boot: int = N_BOOT, seed: int = 0) -> np.ndarray:
    """Bootstrap weights (n_boot × rows): each row weighs as often as its unit (a sample, a future)
    is drawn when the units are resampled with replacement — all rows of a unit go together."""
    uniq, inv = np.unique(units, return_inverse=True)
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(len(uniq), np.full(len(uniq), 1 / len(uniq)), size=n_boot)
    return counts[:, inv].astype(float)


def group_means(values: np.ndarray, codes: np.ndarray, n_levels: int, weights: np.ndarray) -> np.ndarray:
    """Weighted mean of `values` in each level, for each row of weights (→ n_boot × n_levels)."""
    onehot = np.zeros((len(values), n_levels))
    onehot[np.arange(len(values)), codes] = 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        return (weights @ (onehot * values[:, None])) / (weights @ onehot)


def cost_per_gain(spend: np.ndarray, share: np.ndarray, codes: np.ndarray, labels: list[str], units: np.ndarray,
                  n_boot: int = N_BOOT, seed: int = 0) -> pd.DataFrame:
    """US$ of extra spending per pp of share gained at each level, against level 0 (the reference).

    Means per level over all rows, 5–95% bands from resampling `units`. Returns one row per
    level ≥ 1: d_spend (US$), d_share_pp, usd_per_pp and its band, or a note why there is none.
    """
    spend, share = np.asarray(spend, float), 100.0 * np.asarray(share, float)
    n = len(labels)
    ones = np.ones((1, len(spend)))
    point_s, point_y = group_means(spend, codes, n, ones)[0], group_means(share, codes, n, ones)[0]
    w = resample_weights(units, n_boot, seed)
    boot_s, boot_y = group_means(spend, codes, n, w), group_means(share, codes, n, w)
    rows = []
    for k in range(1, n):
        ds, dy = point_s[k] - point_s[0], point_y[k] - point_y[0]
        bs, by = boot_s[:, k] - boot_s[:, 0], boot_y[:, k] - boot_y[:, 0]
        y_lo, y_hi = np.nanquantile(by, BAND)
        s_lo, s_hi = np.nanquantile(bs, BAND)
        row = {"level": labels[k], "reference": labels[0], "d_spend_usd": ds, "d_spend_lo": s_lo, "d_spend_hi": s_hi,
               "d_share_pp": dy, "d_share_lo": y_lo, "d_share_hi": y_hi,
               "usd_per_pp": np.nan, "usd_per_pp_lo": np.nan, "usd_per_pp_hi": np.nan, "note": ""}
        if y_hi < 0:
            row["note"] = f"the share falls (5–95%: {y_lo:+.3g} to {y_hi:+.3g} pp): no gain to pay for"
        elif not y_lo > 0:
            row["note"] = (f"no clear share gain (5–95%: {y_lo:+.3g} to {y_hi:+.3g} pp): the ratio would divide "
                           "by a gain indistinguishable from zero")
        else:
            row["usd_per_pp"] = ds / dy
            row["usd_per_pp_lo"], row["usd_per_pp_hi"] = np.nanquantile(bs / by, BAND)
        rows.append(row)
    return pd.DataFrame(rows)


def cost_pairs(outcomes) -> list[tuple]:
    """(spending outcome, share outcome) pairs: the share's countries are among the spenders."""
    scalar = [o for o in outcomes if o.scalar]
    return [(s, y) for s in scalar if s.metric in SPENDING for y in scalar
            if y.metric == SHARE and set(y.countries) <= set(s.countries)]


def describe_cost(r) -> str:
    """"US$ 12.3 bn per pp (5–95%: 8.1–20.4)", "no extra public spending", "saves US$ 3 bn" or the note."""
    if not np.isfinite(r.usd_per_pp):
        return r.note
    if abs(r.d_spend_usd) < 1e6 and abs(r.d_spend_lo) < 1e6 and abs(r.d_spend_hi) < 1e6:
        return "no extra public spending: the gain costs nothing from this budget"
    if r.d_spend_hi < 0:
        return f"gains share and spends US$ {-r.d_spend_usd / 1e9:.3g} bn less"
    return f"US$ {r.usd_per_pp / 1e9:.3g} bn per pp (5–95%: {r.usd_per_pp_lo / 1e9:.3g}–{r.usd_per_pp_hi / 1e9:.3g})"


# ---------------------------------------------------------------------------------- sweep tables
def read_factors(exp) -> list:
    """The factors read one by one: all, except the levers of named policies, which move together
    (a lever set by one policy only is that policy) and are compared as policies instead."""
    return [f for f in exp.factors if not (exp.policy_design == "list" and f.role == "lever")]


def matrix(data) -> tuple[list, np.ndarray]:
    """The factors read one by one and their values in the runs of `data.outcomes` (runs × factors)."""
    from sim.experiments.analysis import factor_matrix

    factors = read_factors(data.experiment)
    cols = [data.experiment.factors.index(f) for f in factors]
    return factors, factor_matrix(data, data.outcomes)[:, cols]


def levels_by_factor(data):
    """(factor, level code of each run, level labels) for each factor read one by one."""
    factors, X = matrix(data)
    for j, f in enumerate(factors):
        yield (f, *factor_levels(f, X[:, j]))


def per_unit(data) -> pd.DataFrame:
    """Effect per unit of each factor on each scalar outcome (regression coefficients with 95% CIs)."""
    from sim.experiments.analysis import src

    exp, frame = data.experiment, data.outcomes
    factors, X = matrix(data)
    varies = np.array([len(np.unique(X[:, j])) > 1 for j in range(X.shape[1])], dtype=bool)
    rows = []
    for o in exp.scalar_outcomes:
        coef, lo, hi = (np.full(X.shape[1], np.nan) for _ in range(3))
        coef[varies], lo[varies], hi[varies], _ = src(X[:, varies], frame[o.name].to_numpy(),
                                                      frame["sample"].to_numpy(), n_boot=300, standardize=False)
        for j, f in enumerate(factors):
            span = np.nanmax(X[:, j]) - np.nanmin(X[:, j]) if len(X) else np.nan
            rows.append({"outcome": o.name, "metric": o.metric, "factor": f.path, "role": f.role,
                         "per_unit": coef[j], "lo": lo[j], "hi": hi[j], "range_lo": np.nanmin(X[:, j]),
                         "range_hi": np.nanmax(X[:, j]), "over_range": coef[j] * span})
    return pd.DataFrame(rows)


def level_means(data) -> pd.DataFrame:
    """The mean of each scalar outcome at each level of each factor (over the other factors and replicates)."""
    exp, frame = data.experiment, data.outcomes
    rows = []
    for f, codes, labels in levels_by_factor(data):
        for o in exp.scalar_outcomes:
            means = frame.groupby(codes)[o.name].agg(["mean", "size"])
            for k, label in enumerate(labels):
                if k in means.index:
                    rows.append({"outcome": o.name, "factor": f.path, "level": k, "label": label,
                                 "runs": int(means.loc[k, "size"]), "mean": means.loc[k, "mean"]})
    return pd.DataFrame(rows)


def lever_costs(data) -> pd.DataFrame:
    """Cost-effectiveness of raising each lever from its lowest level, for every spending/share pair."""
    exp, frame = data.experiment, data.outcomes
    frames = []
    for spend, share in cost_pairs(exp.outcomes):
        for f, codes, labels in levels_by_factor(data):
            if f.role != "lever":
                continue
            table = cost_per_gain(frame[spend.name].to_numpy(), frame[share.name].to_numpy(), codes, labels,
                                  frame["sample"].to_numpy())
            frames.append(table.assign(lever=f.path, spending=spend.name, share=share.name))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def section(data, tables) -> list[str]:
    """The "Magnitudes" part of analysis.md; writes analysis/per_unit.csv, level_means.csv, costs.csv."""
    from sim.experiments.analysis_plots import short

    exp = data.experiment
    effects, means, costs = per_unit(data), level_means(data), lever_costs(data)
    effects.to_csv(tables / "per_unit.csv", index=False, float_format="%.6g")
    means.to_csv(tables / "level_means.csv", index=False, float_format="%.6g")
    L = ["## Magnitudes", "",
         "Effects in the outcomes' own units (shares in percentage points, money in US$ billions): the "
         "regression coefficient per unit of each factor, all factors fitted together, with a 95% bootstrap CI "
         "over samples, and the same over the factor's whole range; then the outcome's mean at each level of each "
         "factor (continuous factors in four equal-width bins), averaged over everything else "
         "(analysis/per_unit.csv, analysis/level_means.csv)."
         + (" The levers of the named policies move together and are compared as policies below." if
            exp.policy_design == "list" else ""), ""]
    for o in exp.scalar_outcomes:
        scale, name = unit(o.metric)
        part = effects[effects["outcome"] == o.name]
        L += [f"### `{o.name}` — {o.describe()}", "",
              f"| factor | per unit ({name}) | 95% CI | over the range | means by level |", "|---|---|---|---|---|"]
        for r in part.itertuples():
            m = means[(means["outcome"] == o.name) & (means["factor"] == r.factor)]
            levels = ", ".join(f"{x.label}: {show(x.mean, o.metric, level=True)}" for x in m.itertuples())
            L.append(f"| `{short(r.factor)}` | {scale * r.per_unit:+.3g} | [{scale * r.lo:+.3g}, {scale * r.hi:+.3g}] "
                     f"| {show(r.over_range, o.metric)} ({r.range_lo:.3g} → {r.range_hi:.3g}) | {levels} |")
        L.append("")
    if costs.empty:
        if exp.policy_design != "list":
            L += ["No cost-effectiveness: the experiment measures no public spending (an outcome of "
                  f"{' or '.join(SPENDING)}) together with a production share of the same countries.", ""]
        return L
    costs.to_csv(tables / "costs.csv", index=False, float_format="%.6g")
    L += ["### Cost-effectiveness", "",
          "Extra public spending per percentage point of share gained when a lever is raised from its lowest "
          "to its highest level, both as means over everything else; 5–95% ranges resample whole samples "
          "(analysis/costs.csv has every level). Where the share gain's range reaches zero, no ratio is given.", "",
          "| lever | level (vs lowest) | spending | Δ spending | Δ share | cost per pp |", "|---|---|---|---|---|---|"]
    highest = costs.groupby(["lever", "spending", "share"], sort=False).tail(1)
    for r in highest.itertuples():
        L.append(f"| `{short(r.lever)}` | {r.level} (vs {r.reference}) | `{r.spending}` → `{r.share}` | "
                 f"{r.d_spend_usd / 1e9:+.3g} US$ bn | {r.d_share_pp:+.3g} pp "
                 f"[{r.d_share_lo:+.3g}, {r.d_share_hi:+.3g}] | {describe_cost(r)} |")
    L.append("")
    return L


# ---------------------------------------------------------------------------------- compare
def scenario_costs(runs: pd.DataFrame, names: list[str], year: int) -> pd.DataFrame:
    """For each scenario against the first and each country whose public spending differs: extra
    spending (subsidies and reshoring incentives paid, summed up to `year`) per pp of share in `year`.

    `runs` holds one row per scenario × replicate × year × country (compare's runs). Replicates
    share seeds across scenarios, so the 5–95% ranges resample replicates, keeping the pairs.
    """
    upto = runs[runs["year"] <= year]
    spend = upto.assign(public=upto[list(SPENDING)].sum(axis=1)).groupby(
        ["scenario", "country", "replicate"])["public"].sum()
    share = runs[runs["year"] == year].set_index(["scenario", "country", "replicate"])[SHARE].sort_index()
    frames = []
    for name in names[1:]:
        for code in dict.fromkeys(runs["country"]):
            s0, s1 = spend.loc[(names[0], code)], spend.loc[(name, code)]
            if np.allclose(s0.to_numpy(), s1.to_numpy(), rtol=0, atol=1.0):     # no spending difference
                continue
            y0, y1 = share.loc[(names[0], code)], share.loc[(name, code)]
            reps = s0.index.to_numpy()
            table = cost_per_gain(np.concatenate([s0.to_numpy(), s1.reindex(reps).to_numpy()]),
                                  np.concatenate([y0.reindex(reps).to_numpy(), y1.reindex(reps).to_numpy()]),
                                  np.repeat([0, 1], len(reps)), [names[0], name], np.tile(reps, 2))
            frames.append(table.assign(scenario=name, country=code, year=year))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def format_scenario_costs(costs: pd.DataFrame, year: int) -> str:
    """The text block `factoryshift compare` prints under its share table."""
    if costs.empty:
        return ""
    lines = [f"Public spending (subsidies + reshoring incentives paid, summed to {year}) per pp of {year} share, "
             "against the first scenario; 5-95% over replicates",
             f"{'country':<8}{'scenario':<34}{'extra spending':>18}{'share gain':>12}  cost per pp"]
    for r in costs.itertuples():
        lines.append(f"{r.country:<8}{r.level[:33]:<34}{r.d_spend_usd / 1e9:>+11.3g} US$ bn{r.d_share_pp:>+9.3g} pp  "
                     f"{describe_cost(r)}")
    return "\n".join(lines)
