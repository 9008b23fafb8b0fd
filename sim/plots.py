"""Plots of run results (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.ticker

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


def hindcast(table, until: int, path: str | Path) -> Path:
    """Per country: observed share, the model's mean and 5–95% band, the naive forecasts, the cutoff."""
    codes = list(dict.fromkeys(table["country"]))
    cols = 4
    rows = -(-len(codes) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.9 * rows), dpi=100, squeeze=False)
    for ax, code in zip(axes.flat, codes):
        t = table[table["country"] == code]
        years = t["year"].to_numpy()
        ax.fill_between(years, 100 * t["model_share_p05"], 100 * t["model_share_p95"], color="tab:blue", alpha=0.25,
                        lw=0, label="model 5–95%")
        ax.plot(years, 100 * t["model_share_mean"], color="tab:blue", lw=1.8, label="model mean")
        ax.plot(years, 100 * t["observed_share"], color="black", lw=1.8, label="observed (WDI)")
        test = t["year"] > until
        ax.plot(years[test], 100 * t["persistence_share"][test], color="tab:gray", ls="--", lw=1.2,
                label="persistence")
        ax.plot(years[test], 100 * t["trend_share"][test], color="tab:orange", ls=":", lw=1.5, label="trend")
        if "restart_share_mean" in t:
            ax.fill_between(years[test], 100 * t["restart_share_p05"][test], 100 * t["restart_share_p95"][test],
                            color="tab:green", alpha=0.2, lw=0)
            ax.plot(years[test], 100 * t["restart_share_mean"][test], color="tab:green", lw=1.5,
                    label=f"model restarted from {until} data")
        ax.axvline(until + 0.5, color="tab:red", lw=1, alpha=0.7)
        ax.set_title(code, fontsize=10)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True, nbins=5))
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
    for ax in list(axes.flat)[len(codes):]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower right", fontsize=9, frameon=False)
    fig.suptitle(f"Share of world MVA (%): hindcast fitted to ≤ {until} (red line), tested after", fontsize=12)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)
