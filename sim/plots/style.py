"""The one style of every FactoryShift figure: colours, fonts, units, label placement, saving.

Figures are built with matplotlib's object API (`matplotlib.figure.Figure`, no pyplot
state), so the same code serves the command line, the notebook and the dashboard's server
threads. Every figure function in `sim.plots` and `sim.experiments.analysis_plots` takes its
colours, units and helpers from here.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

#: Fonts and lines shared by all figures (applied with `matplotlib.rc_context` in `figure`).
RC = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "svg.fonttype": "none",        # SVG text stays text (searchable, editable)
    "savefig.dpi": 110,
}
LABEL_FONT = 8          # points: end-of-line labels
BAND_ALPHA = 0.18
REFERENCE = {"color": "black", "lw": 1.5, "ls": (0, (4, 2)), "zorder": 6}   # the reference: always on top
ZERO = {"color": "black", "lw": 0.9, "zorder": 1}

#: Fixed colours of the model's countries (the same in every figure); other codes cycle `EXTRA`.
COUNTRY_COLORS = {
    "CHN": "#d62728", "USA": "#1f77b4", "XEU": "#ff7f0e", "DEU": "#4d4d4d", "JPN": "#e377c2",
    "KOR": "#9467bd", "IND": "#2ca02c", "VNM": "#17becf", "MEX": "#8c564b", "XAS": "#bcbd22",
    "ROW": "#a6a6a6",
}
EXTRA = ("#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d", "#31a354")
#: Scenarios in comparisons: the reference is black (`REFERENCE`), the others these.
SCENARIO_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf")
#: Kinds of relocation (flows.csv ``kind``); ``relocations`` when the flows carry no kind.
KIND_COLORS = {"reshoring": "#2ca02c", "nearshoring": "#17becf", "offshoring": "#d62728",
               "third_country": "#9467bd", "relocations": "#1f77b4"}

#: Columns of countries.csv that figures show: (label, unit, factor from the column to the unit).
METRICS: dict[str, tuple[str, str, float]] = {
    "production_share": ("Share of world manufacturing output", "%", 100.0),
    "hq_share": ("Share of world output by headquarters", "%", 100.0),
    "automation": ("Automation (share of tasks)", "%", 100.0),
    "robot_density": ("Robot density", "robots per 10,000 employees", 1.0),
    "robot_density_index": ("Robot density", "robots per 10,000 employees", 1.0),
    "robot_stock": ("Robot stock", "thousand robots", 1e-3),
    "robot_installations": ("Robot installations", "thousand robots/year", 1e-3),
    "wage": ("Manufacturing labor cost", "US$/hour", 1.0),
    "exchange_rate": ("Exchange rate", "US$ per local currency unit", 1.0),
    "employment": ("Manufacturing employment", "million persons", 1e-6),
    "entries": ("Entrant firms", "firms per year", 1.0),
    "entries_hq": ("Entrants by headquarters", "firms per year", 1.0),
    "exits": ("Exiting firms", "firms per year", 1.0),
    "relocations_in": ("Firms relocating in", "firms per year", 1.0),
    "relocations_out": ("Firms relocating out", "firms per year", 1.0),
    "reshored_in": ("Firms reshored home", "firms per year", 1.0),
    "offshored_out": ("Firms offshored from home", "firms per year", 1.0),
    "output_usd": ("Manufacturing output", "US$ billion/year", 1e-9),
    "unit_cost": ("Unit cost", "US$ per US$ of output", 1.0),
    "effective_subsidy_rate": ("Effective AI subsidy rate", "%", 100.0),
}


def metric(column: str) -> tuple[str, str, float]:
    """(label, unit, scale) of a countries.csv column; unknown columns as they are."""
    return METRICS.get(column, (column, "", 1.0))


def axis_label(column: str, diff: bool = False) -> str:
    """"Share of world manufacturing output (%)"; with `diff` the unit of a difference ("pp" for %)."""
    label, unit, _ = metric(column)
    if diff:
        return f"Difference ({'pp' if unit == '%' else unit})" if unit else "Difference"
    return f"{label} ({unit})" if unit else label


def robot_column(columns) -> str:
    """The robot density column of a countries table: ``robot_density`` (model v2) or the older index."""
    return "robot_density" if "robot_density" in columns else "robot_density_index"


def country_colors(codes) -> dict[str, str]:
    """A colour per country code: fixed for the model's countries, `EXTRA` in turn for others."""
    extra = iter(EXTRA * (1 + len(codes) // len(EXTRA)))
    return {code: COUNTRY_COLORS.get(code) or next(extra) for code in codes}


def scenario_colors(names) -> dict[str, object]:
    """The first name (the reference) black, the others `SCENARIO_COLORS` in turn."""
    return {name: REFERENCE["color"] if i == 0 else SCENARIO_COLORS[(i - 1) % len(SCENARIO_COLORS)]
            for i, name in enumerate(names)}


# --------------------------------------------------------------------------- figures and files
def figure(width: float, height: float, *, layout: str | None = "constrained") -> Figure:
    """A new figure in the house style (fonts from `RC` are fixed when artists are created)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(width, height), layout=layout)
    FigureCanvasAgg(fig)            # a renderer for measuring text (and drawing) without pyplot
    return fig


def panel_grid(n: int, cols: int, width: float, height: float):
    """A figure of `n` small panels, `cols` per row, each `width` × `height` inches; the axes in reading order."""
    rows = max(1, -(-n // cols))
    fig = figure(width * cols, height * rows + 0.5)
    return fig, fig.subplots(rows, cols, squeeze=False)


def finish_grid(fig: Figure, axes, n: int, title: str, fontsize: float = 12, legend: bool = True) -> None:
    """Hide the panels after the first `n`, put the first panel's legend below and the title above."""
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    if legend:
        legend_below(fig, *axes.flat[0].get_legend_handles_labels())
    fig.suptitle(title, fontsize=fontsize)


def styled(fn):
    """Run a figure-building function under `RC`, so every artist it creates has the house fonts."""
    def wrapper(*args, **kwargs):
        with matplotlib.rc_context(RC):
            return fn(*args, **kwargs)
    wrapper.__name__, wrapper.__doc__, wrapper.__wrapped__ = fn.__name__, fn.__doc__, fn
    return wrapper


def save(fig: Figure, path: str | Path) -> Path:
    """Write `path` as PNG and the same figure as SVG next to it; return the PNG's path."""
    png = Path(path).with_suffix(".png")
    with matplotlib.rc_context(RC):
        fig.savefig(png)
        fig.savefig(png.with_suffix(".svg"))
    return png


# --------------------------------------------------------------------------- axes
def set_scale(ax, scale: str, percent: bool = False) -> None:
    """``linear`` or ``log`` y axis; a log axis gets plain-number ticks at 1, 2, 5 × 10^k."""
    if scale not in ("linear", "log"):
        raise ValueError(f"scale must be 'linear' or 'log', got {scale!r}")
    if scale == "log":
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(matplotlib.ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))


def data_limits(values, scale: str = "linear", margin: float = 0.05) -> tuple[float, float]:
    """y limits that hold every finite value with a margin (multiplicative on a log axis)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & ((v > 0) if scale == "log" else True)]
    if v.size == 0:
        return (0.1, 1.0) if scale == "log" else (0.0, 1.0)
    lo, hi = float(v.min()), float(v.max())
    if scale == "log":
        span = np.log10(hi / lo) if hi > lo else 1.0
        return lo / 10 ** (margin * span), hi * 10 ** (margin * span)
    span = hi - lo if hi > lo else max(abs(hi), 1e-12)
    return lo - margin * span, hi + margin * span


# --------------------------------------------------------------------------- labels at line ends
def spread(targets, gap: float, lo: float, hi: float) -> np.ndarray | None:
    """Label positions nearest (least squares) to `targets`, at least `gap` apart, within [lo, hi].

    The order of the labels is the order of their targets. Subtracting ``i * gap`` from the
    i-th smallest target turns the gap condition into "non-decreasing", solved exactly by
    pool-adjacent-violators; clipping that solution to the bounds keeps it optimal. Returns
    None when the labels do not fit between `lo` and `hi`.
    """
    t = np.asarray(targets, dtype=float)
    n = len(t)
    if n == 0:
        return t
    if (n - 1) * gap > hi - lo:
        return None
    order = np.argsort(t, kind="stable")
    z = t[order] - gap * np.arange(n)
    blocks: list[list[float]] = []          # [mean, weight]
    for value in z:
        blocks.append([value, 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            (m2, w2), (m1, w1) = blocks.pop(), blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2])
    fitted = np.concatenate([np.full(int(w), m) for m, w in blocks])
    fitted = np.clip(fitted, lo, hi - (n - 1) * gap) + gap * np.arange(n)
    out = np.empty(n)
    out[order] = fitted
    return out


def label_line_ends(ax, ends: dict[str, tuple[float, float]], texts: dict[str, str], colors: dict,
                    fontsize: float = LABEL_FONT) -> list | None:
    """Label each line at its right end; labels that had to move get a leader line to their line.

    `ends` maps a key to the data point (x, y) where its line ends. The axes' limits and
    position must be final. Labels are placed in display space (so log axes work), kept
    inside the axes' height and at least one line of text apart. Returns the annotations,
    or None (nothing drawn) when they do not fit: the caller then uses `legend_by_last`.
    """
    keys = [k for k, (_, y) in ends.items() if np.isfinite(y)]
    if not keys:
        return []
    to_px = ax.transData.transform
    pts = np.array([to_px(ends[k]) for k in keys])
    box = ax.get_window_extent()
    gap = 1.2 * fontsize * ax.figure.dpi / 72
    ys = spread(pts[:, 1], gap, box.y0 + gap / 2, box.y1 - gap / 2)
    if ys is None:
        return None
    back = ax.transData.inverted().transform
    dx = 16 * ax.figure.dpi / 72          # from the line's end to its label, in pixels
    notes = []
    for k, (x_px, y_px), y_label in zip(keys, pts, ys):
        color = colors.get(k, "black")
        if abs(y_label - y_px) > 0.25 * gap:     # moved: an elbow leader from the line's end to the label
            path = back([(x_px, y_px), (x_px + 0.3 * dx, y_px), (x_px + 0.8 * dx, y_label),
                         (x_px + 0.95 * dx, y_label)])
            ax.plot(path[:, 0], path[:, 1], color=color, lw=0.7, alpha=0.8, clip_on=False, scalex=False,
                    scaley=False)
        note = ax.annotate(texts.get(k, k), xy=back((x_px + dx, y_label)), xycoords="data", va="center", ha="left",
                           fontsize=fontsize, color=color, annotation_clip=False)
        note.fs_key, note.fs_end = k, ends[k]
        notes.append(note)
    return notes


def legend_by_last(ax, handles: dict, last: dict[str, float], texts: dict[str, str], **kwargs):
    """A legend outside the axes on the right, in the order of the lines' last values (highest first)."""
    keys = sorted((k for k in handles if k in last), key=lambda k: -np.nan_to_num(last[k], nan=-np.inf))
    return ax.legend([handles[k] for k in keys], [texts.get(k, k) for k in keys], loc="upper left",
                     bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, **kwargs)


def legend_below(fig: Figure, handles, labels, ncols: int | None = None):
    """A figure legend under the axes (constrained layout keeps it clear of every curve)."""
    return fig.legend(handles, labels, loc="outside lower center", ncols=ncols or min(4, max(1, len(labels))))


def line_handle(color, **kwargs):
    from matplotlib.lines import Line2D

    return Line2D([], [], color=color, lw=kwargs.pop("lw", 2), **kwargs)


def patch_handle(color, **kwargs):
    from matplotlib.patches import Patch

    return Patch(facecolor=color, **kwargs)


def overlaps(artists, renderer=None, tolerance: float = 0.5) -> list[tuple[int, int]]:
    """Pairs of artists (by index) whose drawn boxes intersect by more than `tolerance` pixels."""
    if not artists:
        return []
    renderer = renderer or artists[0].figure.canvas.get_renderer()
    boxes = [a.get_window_extent(renderer) for a in artists]
    return [(i, j) for i in range(len(boxes)) for j in range(i + 1, len(boxes))
            if min(boxes[i].x1, boxes[j].x1) - max(boxes[i].x0, boxes[j].x0) > tolerance
            and min(boxes[i].y1, boxes[j].y1) - max(boxes[i].y0, boxes[j].y0) > tolerance]
