"""The dashboard's figures: the figures of `sim.plots` (one style, one piece of code for each kind
of figure), drawn from the page's tables (`sim.app.runs`, already in display units).

Each function returns a `Figure`; the page shows the same table under the figure, so every
plotted value can be read exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.app.links import plot_compare, plot_lines, style
from sim.app.runs import HIGH, LOW, METRICS

SIZE = (10.5, 5.0)


def bands_figure(table: pd.DataFrame, metric: str, countries: list[str], all_codes: list[str],
                 config: str, reference: str | None = None, title: str | None = None, names=None):
    """Mean and 5-95% band per country for `config`; `reference` as thin dashed lines."""
    other = reference is not None and reference != config
    note = f"; dashed: {reference}" if other else ""
    return plot_lines.lines_figure(
        table[table["config"] == config], countries, column=metric, center="mean", band=(f"p{LOW}", f"p{HIGH}"),
        unit_scale=1.0, names=names, colors=style.country_colors(all_codes), size=SIZE,
        reference=table[table["config"] == reference] if other else None,
        title=title or f"{METRICS.get(metric, (metric,))[0]}: {config}, mean and {LOW}–{HIGH}% band{note}")


def difference_figure(table: pd.DataFrame, metric: str, countries: list[str], all_codes: list[str],
                      config: str, reference: str, names=None):
    """Paired difference `config` minus `reference`: mean and 5-95% band of the per-seed differences."""
    return plot_lines.lines_figure(
        table, countries, column=metric, center="mean", band=(f"p{LOW}", f"p{HIGH}"), unit_scale=1.0, diff=True,
        names=names, colors=style.country_colors(all_codes), size=SIZE,
        title=f"{METRICS.get(metric, (metric,))[0]}: {config} minus {reference}, same seeds, "
              f"mean and {LOW}–{HIGH}% band")


def compare_figure(bands: pd.DataFrame, diffs: pd.DataFrame, metric: str, countries: list[str],
                   configs: list[str], year: int, names=None):
    """Every configuration per country (configs[0] the reference) over their paired differences."""
    return plot_compare.compare_figure(bands, diffs, configs, countries, year=year, column=metric, key="config",
                                       unit_scale=1.0, country_names=names)


@style.styled
def heatmap_figure(matrix: pd.DataFrame, title: str):
    """Origin x destination counts, each cell labelled with its value."""
    fig = style.figure(7.5, 6.0)
    ax = fig.add_subplot()
    values = matrix.to_numpy(dtype=float)
    image = ax.imshow(values, cmap="Blues", vmin=0, vmax=max(1.0, float(values.max()) if values.size else 1.0))
    ax.set_xticks(range(len(matrix.columns)), matrix.columns, rotation=45)
    ax.set_yticks(range(len(matrix.index)), matrix.index)
    ax.grid(False)
    ax.set_xlabel("destination")
    ax.set_ylabel("origin")
    top = values.max() if values.size else 0
    for (i, j), v in np.ndenumerate(values):
        if v > 0:
            ax.text(j, i, f"{v:.3g}", ha="center", va="center", fontsize=7,
                    color="white" if v > 0.6 * top else "black")
    fig.colorbar(image, ax=ax, shrink=0.8, label="firms (mean per replicate, all years)")
    ax.set_title(title, loc="left")
    return fig
