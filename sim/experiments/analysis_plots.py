"""Figures of `factoryshift analyze` (PNG + SVG): fan charts, tornado, heatmaps, indices and indices over time."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.plots import country_colors  # noqa: E402

PERCENT = ("production_share",)


def save(fig, path: Path) -> str:
    """Save as PNG and SVG; return the PNG's name relative to the sweep folder."""
    fig.tight_layout()
    fig.savefig(path.with_suffix(".png"), dpi=110)
    fig.savefig(path.with_suffix(".svg"))
    plt.close(fig)
    return f"{path.parent.name}/{path.stem}.png"


def short(path: str) -> str:
    """countries.USA.ai_subsidy_rate -> USA.ai_subsidy_rate; model.theta -> theta."""
    parts = path.split(".")
    return ".".join(parts[1:]) if parts[0] in ("countries", "model") else path


def all_plots(data, effects, sens, timeline, fans, plotdir: Path) -> dict[str, str]:
    exp, figures = data.experiment, {}
    for o in exp.scalar_outcomes:
        part = effects[effects["outcome"] == o.name]
        if part["src"].notna().any():
            figures[f"tornado_{o.name}"] = tornado(part, o, plotdir / f"tornado_{o.name}")
        if exp.design_kind == "grid" and len(exp.factors) >= 2:
            figures[f"heatmap_{o.name}"] = heatmap(data, part, o, plotdir / f"heatmap_{o.name}")
    if sens is not None:
        for name, part in sens.groupby("outcome", sort=False):
            figures[f"indices_{name}"] = indices(part, name, exp.design_kind, plotdir / f"indices_{name}")
    if timeline is not None:
        for name, part in timeline.groupby("outcome", sort=False):
            figures[f"time_{name}"] = indices_over_time(part, name, exp.design_kind, plotdir / f"time_{name}")
    figures["fan_production_share"] = fan_countries(fans, exp, plotdir / "fan_production_share")
    if data.trajectories is not None:
        for o in exp.trajectory_outcomes:
            figures[f"fan_{o.name}"] = fan_outcome(data.trajectories, o, plotdir / f"fan_{o.name}")
    return figures


def tornado(part: pd.DataFrame, outcome, path: Path) -> str:
    part = part.assign(size=part["src"].abs()).sort_values("size")
    fig, ax = plt.subplots(figsize=(8, 1.0 + 0.45 * len(part)))
    colors = ["#c0392b" if v < 0 else "#2471a3" for v in part["src"]]
    y = np.arange(len(part))
    err = np.vstack([part["src"] - part["lo"], part["hi"] - part["src"]]).clip(min=0)
    ax.barh(y, part["src"], color=colors, xerr=err, capsize=3, ecolor="0.25")
    labels = [short(f) + (" (unc.)" if r == "uncertainty" else "") for f, r in zip(part["factor"], part["role"])]
    ax.set_yticks(y, labels)
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_xlabel("standardised regression coefficient (95% CI)")
    ax.set_title(f"{outcome.name}: {outcome.describe()}\nR² = {part['r2'].iloc[0]:.2f}", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return save(fig, path)


def heatmap(data, part: pd.DataFrame, outcome, path: Path) -> str:
    """Mean outcome over the two factors with the largest |SRC| (averaged over everything else)."""
    top = part.assign(size=part["src"].abs().fillna(0)).sort_values("size", ascending=False)["factor"].tolist()[:2]
    frame = data.outcomes.merge(data.runs[["run_id", *top]], on="run_id")
    table = frame.pivot_table(index=top[0], columns=top[1], values=outcome.name, aggfunc="mean")
    scale = 100 if outcome.metric in PERCENT else 1
    fig, ax = plt.subplots(figsize=(1.6 + 0.9 * table.shape[1], 1.4 + 0.6 * table.shape[0]))
    im = ax.imshow(table.to_numpy() * scale, origin="lower", cmap="viridis", aspect="auto")
    ax.set_xticks(range(table.shape[1]), [f"{v:g}" for v in table.columns])
    ax.set_yticks(range(table.shape[0]), [f"{v:g}" for v in table.index])
    ax.set_xlabel(short(top[1]))
    ax.set_ylabel(short(top[0]))
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


def indices(part: pd.DataFrame, name: str, kind: str, path: Path) -> str:
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.5 * len(part)))
    y = np.arange(len(part))
    labels = [short(f) for f in part["factor"]]
    if kind == "sobol":
        ax.barh(y + 0.2, part["S1"], 0.4, xerr=part["S1_conf"], label="first order S1", color="#2471a3", capsize=2)
        ax.barh(y - 0.2, part["ST"], 0.4, xerr=part["ST_conf"], label="total ST", color="#e67e22", capsize=2)
        ax.set_xlabel("Sobol index (95% CI)")
    else:
        ax.barh(y + 0.2, part["mu_star"], 0.4, xerr=part["mu_star_conf"], label="μ*", color="#2471a3", capsize=2)
        ax.barh(y - 0.2, part["sigma"], 0.4, label="σ", color="#e67e22")
        ax.set_xlabel("elementary effect per full range (outcome units)")
    ax.set_yticks(y, labels)
    ax.axvline(0, color="0.3", lw=0.8)
    ax.legend(fontsize=8)
    ax.set_title(name, fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return save(fig, path)


def indices_over_time(part: pd.DataFrame, name: str, kind: str, path: Path) -> str:
    factors = list(dict.fromkeys(part["factor"]))
    cols = [("S1", "S1_conf"), ("ST", "ST_conf")] if kind == "sobol" else \
        [("mu_star", "mu_star_conf"), ("sigma", None)] if kind == "morris" else [("src", None)]
    fig, axes = plt.subplots(1, len(cols), figsize=(6 * len(cols), 4.2), squeeze=False, sharey=kind == "sobol")
    colors = plt.get_cmap("tab10").colors
    for ax, (col, conf) in zip(axes[0], cols):
        for k, f in enumerate(factors):
            s = part[part["factor"] == f].sort_values("year")
            ax.plot(s["year"], s[col], color=colors[k % 10], lw=2, label=short(f))
            if conf:
                ax.fill_between(s["year"], s[col] - s[conf], s[col] + s[conf], color=colors[k % 10], alpha=0.15)
            elif col == "src":
                ax.fill_between(s["year"], s["lo"], s["hi"], color=colors[k % 10], alpha=0.15)
        ax.set_title({"S1": "first-order Sobol index", "ST": "total Sobol index", "mu_star": "Morris μ*",
                      "sigma": "Morris σ", "src": "standardised regression coefficient"}[col], fontsize=10)
        ax.set_xlabel("year")
        ax.axhline(0, color="0.3", lw=0.8)
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.suptitle(f"{name}: sensitivity year by year (bands: 95% CI)", fontsize=11)
    return save(fig, path)


def fan_countries(fans: pd.DataFrame, exp, path: Path) -> str:
    codes = list(dict.fromkeys(exp.base.codes))
    names = {c: exp.base.countries[c].get("name", c) for c in codes}
    colors = country_colors(codes)
    ncol = 4
    nrow = -(-len(codes) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.4 * ncol, 2.5 * nrow), sharex=True, squeeze=False)
    for ax, code in zip(axes.flat, codes):
        s = fans[fans["country"] == code].sort_values("year")
        ax.fill_between(s["year"], 100 * s["p05"], 100 * s["p95"], color=colors[code], alpha=0.25, lw=0)
        ax.plot(s["year"], 100 * s["p50"], color=colors[code], lw=2)
        ax.set_title(f"{names[code]} ({code})", fontsize=9)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(codes):]:
        ax.axis("off")
    for ax in axes[:, 0]:
        ax.set_ylabel("share (%)")
    fig.suptitle(f"{exp.title}: share of world manufacturing output — median and 5–95% across runs", fontsize=11)
    return save(fig, path)


def fan_outcome(traj: pd.DataFrame, outcome, path: Path) -> str:
    q = traj.groupby("year")[outcome.name].quantile([0.05, 0.5, 0.95]).unstack()
    scale = 100 if outcome.metric in PERCENT else 1
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.fill_between(q.index, scale * q[0.05], scale * q[0.95], alpha=0.25, color="#2471a3", lw=0, label="5–95%")
    ax.plot(q.index, scale * q[0.5], color="#2471a3", lw=2, label="median")
    ax.set_xlabel("year")
    ax.set_ylabel(outcome.metric + (" (%)" if scale == 100 else ""))
    ax.set_title(f"{outcome.name}: {outcome.describe()}", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return save(fig, path)
