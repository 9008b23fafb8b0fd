"""The calibration's profiles: the objective along each fitted parameter, the others at their fitted values."""

from __future__ import annotations

from pathlib import Path

from sim.plots import style


@style.styled
def profiles(table, path: str | Path) -> Path:
    """One small panel per fitted parameter: J at each profiled value, the fitted value starred."""
    names = list(dict.fromkeys(table["parameter"]))
    fig, axes = style.panel_grid(len(names), 4, 3.2, 2.4)
    for ax, name in zip(axes.flat, names):
        part = table[table.parameter == name].sort_values("value")
        ax.plot(part.value, part.objective, marker="o", ms=3, color="tab:blue")
        best = part[part.fitted]
        ax.plot(best.value, best.objective, marker="*", ms=10, color="tab:red", ls="none")
        ax.set_yscale("log")
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
    style.finish_grid(fig, axes, len(names), "Calibration objective J (log scale) along each parameter, the others "
                      "at their fitted values (★ fitted)", fontsize=10, legend=False)
    return style.save(fig, path)
