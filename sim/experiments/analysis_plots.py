"""Figures of `factoryshift analyze` (PNG + SVG, in the style of `sim.plots.style`): fan charts,
tornado, heatmaps, indices and indices over time."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt  # noqa: F401  (pyplot with the Agg backend that sim.plots.style selects)
import numpy as np
import pandas as pd

from sim.plots import style
from sim.plots.style import styled

PERCENT = ("production_share", "hq_share", "automation")


def save(fig, path: Path) -> str:
    """Save as PNG and SVG; return the PNG's name relative to the sweep folder."""
    style.save(fig, path)
    plt.close(fig)          # a no-op for figures not made by pyplot
    return f"{path.parent.name}/{path.stem}.png"


def short(path: str) -> str:
    """countries.USA.ai_subsidy_rate -> USA.ai_subsidy_rate; model.theta -> theta."""
    parts = path.split(".")
    return ".".join(parts[1:]) if parts[0] in ("countries", "model") else path


def lever_name(factor) -> str:
    """The factor's full name, every path it sets: DEU+XEU.ai_subsidy_rate, or "a + b" when the
    paths differ beyond their country."""
    paths = [short(p) for p in (factor.path, *factor.also)]
    if len(paths) == 1:
        return paths[0]
    heads, tails = zip(*(p.split(".", 1) if "." in p else ("", p) for p in paths))
    if len(set(tails)) == 1 and all(heads):
        return "+".join(dict.fromkeys(heads)) + "." + tails[0]
    return " + ".join(paths)


def step(factor) -> float:
    """A round step of the factor for effects "per step": the power of ten below its range (0.5 → 0.1)."""
    span = (max(factor.values) - min(factor.values)) if factor.values is not None else (factor.hi - factor.lo)
    span = float(span)
    if not math.isfinite(span) or span <= 0:
        return 1.0
    return 10.0 ** math.floor(math.log10(span))


def outcome_unit(outcome) -> tuple[float, str]:
    """(scale, unit) of an outcome's effects: shares in percentage points."""
    if outcome.metric in PERCENT:
        return 100.0, "pp"
    label, unit, scale = style.metric(outcome.metric)
    return scale, unit or outcome.metric


def all_plots(data, effects, sens, timeline, fans, plotdir: Path) -> dict[str, str]:
    from sim.experiments.magnitudes import per_unit

    exp, figures = data.experiment, {}
    names = {f.path: lever_name(f) for f in exp.factors}
    units = per_unit(data)
    for o in exp.scalar_outcomes:
        part = effects[effects["outcome"] == o.name]
        if part["src"].notna().any():
            figures[f"tornado_{o.name}"] = tornado(units[units["outcome"] == o.name], o, exp.factors,
                                                   part["r2"].iloc[0], plotdir / f"tornado_{o.name}")
        if exp.design_kind == "grid" and len(exp.factors) >= 2:
            figures[f"heatmap_{o.name}"] = heatmap(data, part, o, plotdir / f"heatmap_{o.name}")
    if sens is not None:
        for name, part in sens.groupby("outcome", sort=False):
            figures[f"indices_{name}"] = indices(part, name, exp.design_kind, plotdir / f"indices_{name}", names)
    if timeline is not None:
        for name, part in timeline.groupby("outcome", sort=False):
            figures[f"time_{name}"] = indices_over_time(part, name, exp.design_kind, plotdir / f"time_{name}",
                                                        names)
    n_runs = int((data.runs["status"] == "ok").sum())
    figures["fan_production_share"] = fan_countries(fans, exp, plotdir / "fan_production_share", n_runs)
    if data.trajectories is not None:
        for o in exp.trajectory_outcomes:
            figures[f"fan_{o.name}"] = fan_outcome(data.trajectories, o, plotdir / f"fan_{o.name}", n_runs)
    return figures


RAISES, LOWERS = "#2471a3", "#c0392b"


def tornado_table(part: pd.DataFrame, outcome, factors) -> pd.DataFrame:
    """The tornado's bars: effect per step of each factor in the outcome's unit (pp for shares), with CI.

    `part`: one outcome's rows of `sim.experiments.magnitudes.per_unit` (per_unit, lo, hi per factor)."""
    by_path = {f.path: f for f in factors}
    scale, unit = outcome_unit(outcome)
    rows = []
    for r in part.itertuples():
        f = by_path[r.factor]
        k = scale * step(f)
        rows.append({"factor": r.factor, "label": f"{lever_name(f)}  (per +{step(f):g})", "role": r.role,
                     "effect": k * r.per_unit, "lo": k * r.lo, "hi": k * r.hi, "unit": unit})
    return pd.DataFrame(rows).assign(size=lambda t: t["effect"].abs()).sort_values("size", kind="stable")


@styled
def tornado_figure(table: pd.DataFrame, outcome, r2: float):
    fig = style.figure(9.0, 1.6 + 0.42 * len(table))
    ax = fig.add_subplot()
    y = np.arange(len(table))
    colors = [LOWERS if v < 0 else RAISES for v in table["effect"]]
    hatches = ["///" if r == "uncertainty" else "" for r in table["role"]]
    err = np.vstack([table["effect"] - table["lo"], table["hi"] - table["effect"]]).clip(min=0)
    bars = ax.barh(y, table["effect"], color=colors, xerr=np.nan_to_num(err), capsize=3, ecolor="0.25",
                   edgecolor="white")
    for bar, hatch in zip(bars, hatches):
        bar.set_hatch(hatch)
    ax.set_yticks(y, [lbl + (" (uncertainty)" if r == "uncertainty" else "")
                      for lbl, r in zip(table["label"], table["role"])])
    ax.axvline(0, **style.ZERO)
    ax.grid(axis="y", visible=False)
    unit = table["unit"].iloc[0] if len(table) else ""
    ax.set_xlabel(f"change of {outcome.name} ({unit}) per step of the factor (the step is in its label)\n"
                  "all factors fitted together; whiskers: 95% bootstrap CI")
    ax.set_title(f"{outcome.name}: {outcome.describe()} — linear fit R² = {r2:.2f}", loc="left")
    handles = [style.patch_handle(RAISES), style.patch_handle(LOWERS),
               style.patch_handle("white", edgecolor="0.3", hatch="///")]
    style.legend_below(fig, handles, ["raises the outcome", "lowers the outcome", "an uncertainty, not a lever"])
    fig.fs_table = table
    return fig


def tornado(part: pd.DataFrame, outcome, factors, r2: float, path: Path) -> str:
    return save(tornado_figure(tornado_table(part, outcome, factors), outcome, r2), path)


@styled
def heatmap(data, part: pd.DataFrame, outcome, path: Path) -> str:
    """Mean outcome over the two factors with the largest |SRC| (averaged over everything else)."""
    top = part.assign(size=part["src"].abs().fillna(0)).sort_values("size", ascending=False)["factor"].tolist()[:2]
    names = {f.path: lever_name(f) for f in data.experiment.factors}
    frame = data.outcomes.merge(data.runs[["run_id", *top]], on="run_id")
    table = frame.pivot_table(index=top[0], columns=top[1], values=outcome.name, aggfunc="mean")
    scale = 100 if outcome.metric in PERCENT else 1
    fig = style.figure(2.4 + 0.9 * table.shape[1], 1.8 + 0.6 * table.shape[0])
    ax = fig.add_subplot()
    im = ax.imshow(table.to_numpy() * scale, origin="lower", cmap="viridis", aspect="auto")
    ax.set_xticks(range(table.shape[1]), [f"{v:g}" for v in table.columns])
    ax.set_yticks(range(table.shape[0]), [f"{v:g}" for v in table.index])
    ax.grid(False)
    ax.set_xlabel(names.get(top[1], short(top[1])))
    ax.set_ylabel(names.get(top[0], short(top[0])))
    values = table.to_numpy() * scale
    lo, hi = np.nanmin(values), np.nanmax(values)
    for (i, j), v in np.ndenumerate(values):
        bright = hi > lo and (v - lo) / (hi - lo) > 0.6
        ax.text(j, i, f"{v:.3g}", ha="center", va="center", fontsize=7, color="k" if bright else "w")
    fig.colorbar(im, ax=ax, label=outcome.metric + (" (%)" if scale == 100 else ""))
    others = len(data.experiment.factors) - 2
    over = {0: "replicates", 1: "the other factor and replicates"}.get(
        others, f"the other {others} factors and replicates")
    ax.set_title(f"{outcome.name}\n(mean over {over})", fontsize=9)
    return save(fig, path)


@styled
def indices(part: pd.DataFrame, name: str, kind: str, path: Path, names: dict[str, str] | None = None) -> str:
    names = names or {}
    fig = style.figure(8.5, 1.7 + 0.5 * len(part))
    ax = fig.add_subplot()
    y = np.arange(len(part))
    if kind == "sobol":
        ax.barh(y + 0.2, part["S1"], 0.4, xerr=part["S1_conf"], color="#2471a3", capsize=2)
        ax.barh(y - 0.2, part["ST"], 0.4, xerr=part["ST_conf"], color="#e67e22", capsize=2)
        ax.set_xlabel("Sobol index (95% CI)")
        labels = ["first order S1", "total ST"]
    else:
        ax.barh(y + 0.2, part["mu_star"], 0.4, xerr=part["mu_star_conf"], color="#2471a3", capsize=2)
        ax.barh(y - 0.2, part["sigma"], 0.4, color="#e67e22")
        ax.set_xlabel("elementary effect per full range (outcome units)")
        labels = ["μ* (mean |effect|)", "σ (spread: non-linearity, interactions)"]
    ax.set_yticks(y, [names.get(f, short(f)) for f in part["factor"]])
    ax.axvline(0, **style.ZERO)
    ax.grid(axis="y", visible=False)
    style.legend_below(fig, [style.patch_handle("#2471a3"), style.patch_handle("#e67e22")], labels)
    ax.set_title(name, loc="left")
    return save(fig, path)


@styled
def indices_over_time(part: pd.DataFrame, name: str, kind: str, path: Path,
                      names: dict[str, str] | None = None) -> str:
    names = names or {}
    factors = list(dict.fromkeys(part["factor"]))
    cols = [("S1", "S1_conf"), ("ST", "ST_conf")] if kind == "sobol" else \
        [("mu_star", "mu_star_conf"), ("sigma", None)] if kind == "morris" else [("src", None)]
    fig = style.figure(6 * len(cols), 4.6)
    axes = fig.subplots(1, len(cols), squeeze=False, sharey=kind == "sobol")
    colors = [style.SCENARIO_COLORS[k % len(style.SCENARIO_COLORS)] for k in range(len(factors))]
    for ax, (col, conf) in zip(axes[0], cols):
        for k, f in enumerate(factors):
            s = part[part["factor"] == f].sort_values("year")
            ax.plot(s["year"], s[col], color=colors[k], lw=2)
            if conf:
                ax.fill_between(s["year"], s[col] - s[conf], s[col] + s[conf], color=colors[k], alpha=0.15)
            elif col == "src":
                ax.fill_between(s["year"], s["lo"], s["hi"], color=colors[k], alpha=0.15)
        ax.set_title({"S1": "first-order Sobol index", "ST": "total Sobol index", "mu_star": "Morris μ*",
                      "sigma": "Morris σ", "src": "standardised regression coefficient"}[col], loc="left")
        ax.set_xlabel("year")
        ax.axhline(0, **style.ZERO)
    style.legend_below(fig, [style.line_handle(c) for c in colors], [names.get(f, short(f)) for f in factors])
    fig.suptitle(f"{name}: sensitivity year by year (bands: 95% CI)", x=0.01, ha="left")
    return save(fig, path)


def band_text(n_runs: int) -> str:
    return f"band: 5–95% of the {n_runs} successful runs (all samples and replicates); line: their median"


@styled
def fan_countries(fans: pd.DataFrame, exp, path: Path, n_runs: int = 0) -> str:
    codes = list(dict.fromkeys(exp.base.codes))
    names = {c: exp.base.countries[c].get("name", c) for c in codes}
    colors = style.country_colors(codes)
    ncol = 4
    nrow = -(-len(codes) // ncol)
    fig = style.figure(3.4 * ncol, 2.5 * nrow + 0.8)
    axes = fig.subplots(nrow, ncol, sharex=True, squeeze=False)
    for ax, code in zip(axes.flat, codes):
        s = fans[fans["country"] == code].sort_values("year")
        ax.fill_between(s["year"], 100 * s["p05"], 100 * s["p95"], color=colors[code], alpha=0.25, lw=0)
        ax.plot(s["year"], 100 * s["p50"], color=colors[code], lw=2)
        ax.set_title(f"{names[code]} ({code})", loc="left", fontsize=9)
    for ax in axes.flat[len(codes):]:
        ax.axis("off")
    for ax in axes[:, 0]:
        ax.set_ylabel("share (%)")
    style.legend_below(fig, [style.line_handle("0.3"), style.patch_handle("0.3", alpha=0.25)],
                       ["median across runs", f"5–95% of the {n_runs} runs (samples × replicates)"])
    fig.suptitle(f"{exp.title}: share of world manufacturing output; {band_text(n_runs)}", x=0.01, ha="left")
    return save(fig, path)


@styled
def fan_outcome(traj: pd.DataFrame, outcome, path: Path, n_runs: int = 0) -> str:
    q = traj.groupby("year")[outcome.name].quantile([0.05, 0.5, 0.95]).unstack()
    scale = 100 if outcome.metric in PERCENT else 1
    fig = style.figure(8, 4.8)
    ax = fig.add_subplot()
    ax.fill_between(q.index, scale * q[0.05], scale * q[0.95], alpha=0.25, color="#2471a3", lw=0)
    ax.plot(q.index, scale * q[0.5], color="#2471a3", lw=2)
    ax.set_xlabel("year")
    ax.set_ylabel(outcome.metric + (" (%)" if scale == 100 else ""))
    ax.set_title(f"{outcome.name}: {outcome.describe()}", loc="left")
    style.legend_below(fig, [style.line_handle("#2471a3"), style.patch_handle("#2471a3", alpha=0.25)],
                       ["median across runs", f"5–95% of the {n_runs} runs (samples × replicates)"])
    return save(fig, path)
