"""One line per country over the years, with an optional band and labels at the line ends.

`lines_figure` draws any tidy table (year, country, a centre column, optional band columns):
a single run's ``countries.csv`` column, the mean and 5–95% band of replicates, or a paired
difference. The run outputs (`run_figures`) and the dashboard use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.plots import style
from sim.plots.style import styled

#: The axes' place in a lines figure (figure fractions); the right part holds the end labels.
AXES_RECT = (0.07, 0.1, 0.70, 0.76)


def end_text(name: str, value: float, unit: str, diff: bool = False) -> str:
    """"India 4.31%", "Vietnam +0.02 pp", "Germany 38.2"."""
    if not np.isfinite(value):
        return name
    if unit == "%":
        return f"{name} {value:+.2f} pp" if diff else f"{name} {value:.2f}%"
    return f"{name} {value:+.3g}" if diff else f"{name} {value:.3g}"


@styled
def lines_figure(table: pd.DataFrame, codes: list[str], *, column: str, center: str = "value",
                 band: tuple[str, str] | None = None, names: dict[str, str] | None = None,
                 unit_scale: float | None = None, scale: str = "linear", title: str = "", diff: bool = False,
                 reference: pd.DataFrame | None = None, colors: dict | None = None,
                 size: tuple[float, float] = (10.0, 5.8)):
    """A line (and band) per country in `codes`, labelled at its end; returns the `Figure`.

    table      : year, country, `center` and, with `band`, its low and high columns.
    unit_scale : factor from the table's values to the plotted unit (default: `style.METRICS`).
    scale      : ``linear`` or ``log`` (small countries stay visible).
    diff       : the values are differences: a zero line is drawn, labels read "+0.12 pp".
    reference  : a second table of the same shape drawn as thin dashed lines (no labels).

    Labels sit at the lines' last values; where they would collide they are moved apart and
    joined to their line by a leader line. When more labels than fit, a legend sorted by
    the last value replaces them.
    """
    label, unit, default_scale = style.metric(column)
    k = default_scale if unit_scale is None else unit_scale
    names = names or {}
    colors = colors or style.country_colors(codes)
    fig = style.figure(*size, layout=None)
    ax = fig.add_axes(AXES_RECT)
    drawn, values, handles = {}, [], {}
    for code in codes:
        rows = table[table["country"] == code].sort_values("year")
        if rows.empty:
            continue
        years = rows["year"].to_numpy()
        y = k * rows[center].to_numpy(dtype=float)
        if band is not None:
            lo, hi = (k * rows[c].to_numpy(dtype=float) for c in band)
            ax.fill_between(years, lo, hi, color=colors[code], alpha=style.BAND_ALPHA, lw=0)
            values += [lo, hi]
        (handles[code],) = ax.plot(years, y, color=colors[code], lw=2)
        if reference is not None:
            ref = reference[reference["country"] == code].sort_values("year")
            ref_y = k * ref[center].to_numpy(dtype=float)
            ax.plot(ref["year"], ref_y, color=colors[code], lw=1, ls="--")
            values.append(ref_y)
        values.append(y)
        drawn[code] = (years[-1], y[-1])
    if diff:
        ax.axhline(0, **style.ZERO)
        values.append(np.zeros(1))
    flat = np.concatenate(values) if values else np.zeros(1)
    lo, hi = style.data_limits(flat, scale)
    if scale == "linear" and not diff and np.nanmin(flat) >= 0:
        lo = max(lo, 0.0)
    ax.set_ylim(lo, hi)
    style.set_scale(ax, scale)
    if drawn:
        first = min(float(table["year"].min()), *(x for x, _ in drawn.values()))
        ax.set_xlim(first, max(x for x, _ in drawn.values()))
    ax.set_xlabel("Year")
    ax.set_ylabel(style.axis_label(column, diff) + (", log scale" if scale == "log" else ""))
    ax.set_title(title or label, loc="left")
    texts = {c: end_text(names.get(c, c), v, unit, diff) for c, (_, v) in drawn.items()}
    notes = style.label_line_ends(ax, drawn, texts, colors)
    if notes is None:
        style.legend_by_last(ax, handles, {c: v for c, (_, v) in drawn.items()}, texts)
    fig.fs_labels = notes or []
    return fig


# --------------------------------------------------------------------------- the run's figures
@dataclass
class RunPlots:
    """Options of the figures `factoryshift run` writes.

    countries  : codes to draw (default: all).
    scale      : ``linear`` or ``log`` y axes.
    replicates : per-replicate rows (replicate, year, country and the plotted columns, as
                 `sim.experiments.compare` makes them): the lines become the mean and a
                 5–95% band over replicates.
    """

    countries: list[str] | None = None
    scale: str = "linear"
    replicates: pd.DataFrame | None = None


def run_table(result, column: str, options: RunPlots) -> tuple[pd.DataFrame, str, tuple[str, str] | None, str]:
    """(table, centre column, band columns, what the lines are) for one column of a run."""
    if options.replicates is not None and column in options.replicates.columns:
        from sim.experiments.compare import trajectory_bands

        reps = options.replicates
        n = reps["replicate"].nunique()
        bands = trajectory_bands(reps.assign(scenario="run"), ["run"], column)
        seed = result.manifest.get("seed")
        return bands, "mean", ("p5", "p95"), f"mean and 5–95% band of {n} replicates (seeds spawned from {seed})"
    frame = result.countries.rename(columns={column: "value"})
    return frame, "value", None, f"seed {result.manifest.get('seed')}"


def trajectories(result, column: str, path: str | Path, options: RunPlots | None = None,
                 title: str | None = None) -> Path:
    """The figure of one countries.csv column of a run (`RunResult`), as PNG and SVG."""
    options = options or RunPlots()
    codes = list(result.model.state.codes)
    names = dict(zip(codes, result.model.state.names))
    shown = [c for c in (options.countries or codes) if c in codes]
    table, center, band, what = run_table(result, column, options)
    m = result.manifest
    label = style.metric(column)[0]
    heading = title or (f"{label}: {m.get('title', m.get('scenario', ''))}\n{what}, "
                        f"{m.get('firms'):,} firms per run")
    fig = lines_figure(table, shown, column=column, center=center, band=band, names=names, scale=options.scale,
                       title=heading, colors=style.country_colors(codes))
    return style.save(fig, path)


def run_figures(result, out_dir: str | Path, options: RunPlots | None = None) -> list[Path]:
    """shares, automation and relocations (PNG + SVG) of a run into `out_dir`."""
    from sim.plots.flows import run_relocations

    out = Path(out_dir)
    options = options or RunPlots()
    return [trajectories(result, "production_share", out / "shares.png", options),
            trajectories(result, "automation", out / "automation.png", options),
            run_relocations(result, out / "relocations.png", options.countries)]
