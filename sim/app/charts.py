"""Matplotlib figures of the dashboard's summaries (object API only: safe in server threads).

Each function takes a table from `sim.app.runs` and returns a `Figure`; the page shows the
same table under the figure, so every plotted value can be read exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.app.links import country_colors
from sim.app.runs import HIGH, LOW, METRICS

#: Line styles of the configurations in comparison plots (the current one solid).
STYLES = ("-", "--", ":", "-.")


def _axis_label(metric: str, diff: bool = False) -> str:
    label, unit, _ = METRICS.get(metric, (metric, "", 1.0))
    if diff:
        return f"Difference ({'pp' if unit == '%' else unit})"
    return f"{label} ({unit})" if unit else label


def _figure(width=9.5, height=4.6) -> tuple[Figure, object]:
    fig = Figure(figsize=(width, height), dpi=90, layout="constrained")
    return fig, fig.add_subplot()


def bands_figure(table: pd.DataFrame, metric: str, countries: list[str], all_codes: list[str],
                 config: str, reference: str | None = None, title: str | None = None) -> Figure:
    """Mean and 5-95% band per country for `config`; `reference` as thin dashed lines."""
    colors = country_colors(all_codes)
    fig, ax = _figure()
    for code in countries:
        rows = table[(table["config"] == config) & (table["country"] == code)]
        if rows.empty:
            continue
        ax.fill_between(rows["year"], rows[f"p{LOW}"], rows[f"p{HIGH}"], color=colors[code], alpha=0.18, lw=0)
        ax.plot(rows["year"], rows["mean"], color=colors[code], lw=2, label=code)
        if reference is not None and reference != config:
            ref = table[(table["config"] == reference) & (table["country"] == code)]
            ax.plot(ref["year"], ref["mean"], color=colors[code], lw=1, ls="--")
    ax.set_ylabel(_axis_label(metric))
    ax.set_xlabel("year")
    note = f"; dashed: {reference}" if reference is not None and reference != config else ""
    ax.set_title(title or f"{METRICS.get(metric, (metric,))[0]}: {config}, mean and {LOW}–{HIGH}% band{note}",
                 fontsize=10)
    _finish(ax)
    return fig


def difference_figure(table: pd.DataFrame, metric: str, countries: list[str], all_codes: list[str],
                      config: str, reference: str) -> Figure:
    """Paired difference `config` minus `reference`: mean and 5-95% band of the per-seed differences."""
    colors = country_colors(all_codes)
    fig, ax = _figure()
    ax.axhline(0, color="black", lw=0.8)
    for code in countries:
        rows = table[table["country"] == code]
        if rows.empty:
            continue
        ax.fill_between(rows["year"], rows[f"p{LOW}"], rows[f"p{HIGH}"], color=colors[code], alpha=0.18, lw=0)
        ax.plot(rows["year"], rows["mean"], color=colors[code], lw=2, label=code)
    ax.set_ylabel(_axis_label(metric, diff=True))
    ax.set_xlabel("year")
    ax.set_title(f"{METRICS.get(metric, (metric,))[0]}: {config} minus {reference}, same seeds, "
                 f"mean and {LOW}–{HIGH}% band", fontsize=10)
    _finish(ax)
    return fig


def compare_figure(table: pd.DataFrame, metric: str, countries: list[str], all_codes: list[str],
                   configs: list[str]) -> Figure:
    """One panel per country, one line (and band) per configuration: configurations side by side."""
    colors = country_colors(all_codes)
    cols = min(4, max(1, len(countries)))
    rows_n = -(-len(countries) // cols)
    fig = Figure(figsize=(2.9 * cols + 0.5, 2.2 * rows_n + 0.6), dpi=90, layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows_n, cols, squeeze=False)).ravel()
    for ax, code in zip(axes, countries):
        for k, config in enumerate(configs):
            rows = table[(table["config"] == config) & (table["country"] == code)]
            style = STYLES[k % len(STYLES)]
            ax.fill_between(rows["year"], rows[f"p{LOW}"], rows[f"p{HIGH}"], color=colors[code], alpha=0.10, lw=0)
            ax.plot(rows["year"], rows["mean"], color=colors[code] if k == 0 else "0.25", ls=style,
                    lw=1.8 if k == 0 else 1.2, label=config)
        ax.set_title(code, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in axes[len(countries):]:
        ax.axis("off")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(4, len(configs)), fontsize=8, frameon=False)
    fig.suptitle(f"{_axis_label(metric)}: mean and {LOW}–{HIGH}% band per configuration", fontsize=10)
    return fig


def heatmap_figure(matrix: pd.DataFrame, title: str) -> Figure:
    """Origin x destination counts, each cell labelled with its value."""
    fig, ax = _figure(7.5, 6.0)
    values = matrix.to_numpy(dtype=float)
    image = ax.imshow(values, cmap="Blues", vmin=0, vmax=max(1.0, float(values.max()) if values.size else 1.0))
    ax.set_xticks(range(len(matrix.columns)), matrix.columns, rotation=45, fontsize=8)
    ax.set_yticks(range(len(matrix.index)), matrix.index, fontsize=8)
    ax.set_xlabel("destination")
    ax.set_ylabel("origin")
    top = values.max() if values.size else 0
    for (i, j), v in np.ndenumerate(values):
        if v > 0:
            ax.text(j, i, f"{v:.3g}", ha="center", va="center", fontsize=7,
                    color="white" if v > 0.6 * top else "black")
    fig.colorbar(image, ax=ax, shrink=0.8, label="firms (mean per replicate, all years)")
    ax.set_title(title, fontsize=10)
    return fig


def _finish(ax) -> None:
    ax.grid(alpha=0.3)
    ax.margins(x=0)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
