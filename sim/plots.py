"""Plots of run results (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LABELS = {
    "production_share": ("Share of world manufacturing output", True),
    "automation": ("Automation (share of tasks, capacity-weighted)", False),
    "wage": ("Manufacturing labor cost (US$/hour)", False),
}

#: One colour per country code, stable across plots (tab20 order), unknown codes cycle.
PALETTE = plt.get_cmap("tab20").colors


def country_colors(codes: list[str]) -> dict[str, tuple]:
    return {code: PALETTE[(2 * i) % 20 if i < 10 else (2 * i + 1) % 20] for i, code in enumerate(codes)}


def trajectories(result, column: str, path: str | Path, title: str | None = None) -> Path:
    """One labelled line per country of `column` over the years."""
    codes = result.model.state.codes
    names = dict(zip(codes, result.model.state.names))
    table = result.countries.pivot(index="year", columns="country", values=column)[codes]
    label, percent = LABELS.get(column, (column, False))
    colors = country_colors(codes)
    fig, ax = plt.subplots(figsize=(10, 6), dpi=110)
    last = table.iloc[-1].sort_values(ascending=False)
    for code in last.index:
        series = table[code] * (100 if percent else 1)
        ax.plot(table.index, series, color=colors[code], lw=2, label=f"{names[code]} ({code})")
    _label_line_ends(ax, table, last.index, colors, 100 if percent else 1)
    ax.set_xlabel("Year")
    ax.set_ylabel(label + (" (%)" if percent else ""))
    scenario = result.manifest.get("title", result.manifest.get("scenario", ""))
    ax.set_title(title or f"{label}\n{scenario} — seed {result.manifest.get('seed')}, "
                 f"{result.manifest.get('firms'):,} firms", fontsize=11)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.07, 1.0), fontsize=9, frameon=False)
    ax.set_xlim(table.index[0], table.index[-1])
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


def _label_line_ends(ax, table, order, colors, scale) -> None:
    """Country codes at the right end of each line, spread apart and kept inside the axes."""
    ends = sorted(((table[code].iloc[-1] * scale, code) for code in order), reverse=True)
    ymin, ymax = ax.get_ylim()
    gap = 0.035 * (ymax - ymin)
    ys = [y for y, _ in ends]
    for i in range(1, len(ys)):  # top-down: keep each label a gap below the previous
        ys[i] = min(ys[i], ys[i - 1] - gap)
    floor = ymin + gap / 2
    for i in range(len(ys) - 1, -1, -1):  # bottom-up: push back inside the axes
        lower = floor if i == len(ys) - 1 else ys[i + 1] + gap
        ys[i] = max(ys[i], lower)
    for y, (_, code) in zip(ys, ends):
        ax.annotate(code, xy=(table.index[-1], y), xytext=(4, 0), textcoords="offset points",
                    va="center", fontsize=8, color=colors[code], annotation_clip=False)
