"""Comparison figures: scenarios side by side per country, and their paired differences.

For each country a level panel (each scenario's mean and 5–95% band over replicates; the
reference dashed black on top, so it stays visible where scenarios coincide) above a
difference panel (each scenario minus the reference, replicate by replicate with the same
seeds: mean and 5–95% band of those differences; the reference is the zero line). At the
table's year a marker sits on each difference: filled where the paired range excludes
zero, hollow (○, as in the table) where it includes zero. These are the statistics of the
printed table and compare.csv.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.plots import style
from sim.plots.style import styled


def _draw(ax, rows: pd.DataFrame, k: float, color, *, reference: bool = False) -> None:
    rows = rows.sort_values("year")
    if not reference:
        ax.fill_between(rows["year"], k * rows["p5"], k * rows["p95"], color=color, alpha=style.BAND_ALPHA, lw=0)
        ax.plot(rows["year"], k * rows["mean"], color=color, lw=1.8, zorder=3)
    else:
        ax.fill_between(rows["year"], k * rows["p5"], k * rows["p95"], facecolor="none", edgecolor="0.35",
                        hatch="////", lw=0, alpha=0.5)
        ax.plot(rows["year"], k * rows["mean"], **style.REFERENCE)


@styled
def compare_figure(bands: pd.DataFrame, diffs: pd.DataFrame, names: list[str], countries: list[str], *,
                   year: int | None = None, column: str = "production_share", key: str = "scenario",
                   unit_scale: float | None = None, shared_y: bool = False,
                   country_names: dict[str, str] | None = None, title: str = "", note: str = ""):
    """Level and difference panels per country; `names[0]` is the reference.

    bands : key, year, country, mean, p5, p95 per scenario (the plotted statistic).
    diffs : the same for names[1:] minus names[0], paired by replicate.
    shared_y : one y range for all level panels and one for all difference panels.
    """
    label, unit, default = style.metric(column)
    k = default if unit_scale is None else unit_scale
    country_names = country_names or {}
    colors = style.scenario_colors(names)
    ncols = min(4, len(countries))
    nrows = -(-len(countries) // ncols)
    fig = style.figure(3.7 * ncols + 0.6, 3.9 * nrows + 1.1)
    grid = fig.add_gridspec(2 * nrows, ncols, height_ratios=[2.1, 1.0] * nrows)
    levels, differences = [], []
    for i, code in enumerate(countries):
        r, c = divmod(i, ncols)
        top = fig.add_subplot(grid[2 * r, c])
        bottom = fig.add_subplot(grid[2 * r + 1, c], sharex=top)
        for name in names[1:]:
            _draw(top, bands[(bands[key] == name) & (bands["country"] == code)], k, colors[name])
        _draw(top, bands[(bands[key] == names[0]) & (bands["country"] == code)], k, None, reference=True)
        bottom.axhline(0, **style.REFERENCE)
        for name in names[1:]:
            rows = diffs[(diffs[key] == name) & (diffs["country"] == code)]
            _draw(bottom, rows, k, colors[name])
            at = rows[rows["year"] == year]
            if len(at):
                a = at.iloc[0]
                has_zero = a["p5"] <= 0 <= a["p95"]
                bottom.plot([year], [k * a["mean"]], marker="o", ms=5, color=colors[name], zorder=7,
                            markerfacecolor="white" if has_zero else colors[name])
        if year is not None:
            for ax in (top, bottom):
                ax.axvline(year, color="0.5", lw=0.8, ls=":")
        top.set_title(f"{country_names.get(code, code)} ({code})", loc="left")
        top.tick_params(labelbottom=False)
        top.set_ylabel(f"{unit or label}", fontsize=8)
        bottom.set_ylabel(f"− {names[0][:14]}" + (" (pp)" if unit == "%" else ""), fontsize=8)
        levels.append(top)
        differences.append(bottom)
    if shared_y:
        for group in (levels, differences):
            lo = min(ax.get_ylim()[0] for ax in group)
            hi = max(ax.get_ylim()[1] for ax in group)
            for ax in group:
                ax.set_ylim(lo, hi)
    handles = [style.line_handle(style.REFERENCE["color"], ls=style.REFERENCE["ls"], lw=1.5)]
    handles += [style.line_handle(colors[n]) for n in names[1:]]
    labels = [f"{names[0]} (reference; zero line below)"] + list(names[1:])
    if year is not None and len(names) > 1:
        handles += [style.line_handle("0.3", marker="o", lw=0, markerfacecolor="0.3"),
                    style.line_handle("0.3", marker="o", lw=0, markerfacecolor="white")]
        labels += [f"{year}: paired 5–95% range excludes 0", f"{year}: range includes 0 (○ in the table)"]
    style.legend_below(fig, handles, labels, ncols=min(4, len(labels)))
    fig.suptitle(title or f"{style.axis_label(column)}: mean and 5–95% band over replicates (upper panels); "
                          f"paired difference from {names[0]} (lower panels){note}", x=0.01, ha="left", fontsize=10)
    fig.fs_levels, fig.fs_differences = levels, differences
    return fig


def compare_figures(result, out_dir: str | Path, shared_y: bool = False) -> list[Path]:
    """compare.png/.svg and relocations.png/.svg of a `CompareResult` into `out_dir`."""
    from sim.experiments.compare import paired_bands
    from sim.plots.flows import relocation_figure

    out = Path(out_dir)
    firms = ", ".join(f"{f:,}" for f in sorted(set(result.firms.values())))
    fig = compare_figure(result.bands, paired_bands(result.runs, result.scenarios), result.scenarios,
                         result.countries, year=result.year, shared_y=shared_y, country_names=result.country_names,
                         note=f"; {result.replicates} replicates with common seeds, {firms} firms"
                              + ("; one y scale for all countries" if shared_y else ""))
    paths = [style.save(fig, out / "compare.png")]
    flows = result.flows
    panels = {name: flows[flows["scenario"] == name] if len(flows) else flows for name in result.scenarios}
    codes = list(dict.fromkeys(result.runs["country"]))
    kind_note = "" if "kind" in flows.columns else " (the model records no kind of move)"
    fig = relocation_figure(panels, codes, result.country_names, {n: result.replicates for n in result.scenarios},
                            f"Relocated firms over the run, mean per replicate{kind_note}")
    paths.append(style.save(fig, out / "relocations.png"))
    return paths

