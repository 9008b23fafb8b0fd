"""Relocation figures: where relocated firms went and came from, by kind of move when known.

flows.csv has one row per year, origin and destination (``firms``); model v2 adds ``hq``
and ``kind`` (reshoring, nearshoring, offshoring, third_country). Without ``kind`` every
move counts as "relocations".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.plots import style
from sim.plots.style import styled

KIND_ORDER = ("reshoring", "nearshoring", "offshoring", "third_country", "relocations")


def kinds_of(flows: pd.DataFrame) -> pd.Series:
    return flows["kind"].astype(str) if "kind" in flows.columns else pd.Series("relocations", index=flows.index)


def gross_by_kind(flows: pd.DataFrame, codes: list[str], runs: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(firms moving in, firms moving out): country × kind, summed over years, mean per run."""
    kind = kinds_of(flows)
    kinds = [k for k in KIND_ORDER if k in set(kind)] + sorted(set(kind) - set(KIND_ORDER))

    def table(side: str) -> pd.DataFrame:
        if flows.empty:
            return pd.DataFrame(0.0, index=codes, columns=kinds)
        sums = flows.assign(kind=kind).groupby([side, "kind"])["firms"].sum().unstack("kind")
        return sums.reindex(index=codes, columns=kinds).fillna(0.0) / max(1, runs)

    return table("destination"), table("origin")


def flow_matrix(flows: pd.DataFrame, codes: list[str], runs: int = 1, kind: str | None = None) -> pd.DataFrame:
    """Relocated firms origin × destination, summed over years, mean per run (one `kind` if given)."""
    if kind is not None and "kind" in flows.columns:
        flows = flows[flows["kind"] == kind]
    total = flows.groupby(["origin", "destination"])["firms"].sum() / max(1, runs)
    matrix = total.unstack("destination").reindex(index=codes, columns=codes).fillna(0.0)
    matrix.index.name, matrix.columns.name = "origin", "destination"
    return matrix


def _balance(ax, flows: pd.DataFrame, codes: list[str], labels: list[str], runs: int) -> list[str]:
    """Stacked bars: moves in to the right, moves out to the left, by kind; a diamond at the net."""
    inflow, outflow = gross_by_kind(flows, codes, runs)
    y = np.arange(len(codes))[::-1]
    ax.set_yticks(y, labels)
    ax.grid(axis="y", visible=False)
    if not len(flows):
        ax.text(0.5, 0.5, "no relocations", transform=ax.transAxes, ha="center", va="center", color="0.4")
        ax.set_ylim(-0.5, len(codes) - 0.5)
        ax.set_xticks([])
        return []
    right, left = np.zeros(len(codes)), np.zeros(len(codes))
    for kind in inflow.columns:
        color = style.KIND_COLORS.get(kind, "0.5")
        ax.barh(y, inflow[kind], left=right, color=color, height=0.7, lw=0)
        ax.barh(y, -outflow[kind], left=-left, color=color, height=0.7, lw=0, alpha=0.55)
        right += inflow[kind].to_numpy()
        left += outflow[kind].to_numpy()
    ax.scatter(right - left, y, marker="D", s=18, color="black", zorder=5)
    ax.axvline(0, **style.ZERO)
    return list(inflow.columns)


@styled
def relocation_figure(panels: dict[str, pd.DataFrame], codes: list[str], names: dict[str, str],
                      runs: dict[str, int], title: str, yearly: pd.DataFrame | None = None):
    """One balance panel per entry of `panels` (a run, or each scenario of a comparison), the same
    x scale in all; with `yearly` (a run's flows) also the moves per year by kind."""
    n = len(panels) + (yearly is not None)
    fig = style.figure(min(4.6 * n + 1.0, 16), 0.28 * len(codes) + 2.2)
    axes = fig.subplots(1, n, squeeze=False)[0]
    labels = [f"{names.get(c, c)} ({c})" for c in codes]
    kinds: list[str] = []
    for i, (ax, (name, flows)) in enumerate(zip(axes, panels.items())):
        kinds += _balance(ax, flows, codes, labels if i == 0 else [""] * len(codes), runs.get(name, 1))
        ax.set_title(name, loc="left")
        ax.set_xlabel("firms: ← moved out | moved in →" + (" (mean per replicate)" if runs.get(name, 1) > 1 else ""))
    if len(panels) > 1:
        lim = max(max(abs(v) for v in ax.get_xlim()) for ax in axes[:len(panels)])
        for ax in axes[:len(panels)]:
            ax.set_xlim(-lim, lim)
    if yearly is not None:
        ax = axes[-1]
        per_year = yearly.assign(kind=kinds_of(yearly)).groupby(["year", "kind"])["firms"].sum()
        per_year = per_year.unstack("kind").fillna(0)
        bottom = None
        for kind in [k for k in KIND_ORDER if k in per_year.columns]:
            ax.bar(per_year.index, per_year[kind], bottom=bottom, color=style.KIND_COLORS.get(kind, "0.5"), width=0.8)
            bottom = per_year[kind] if bottom is None else bottom + per_year[kind]
        ax.set_title("relocations per year", loc="left")
        ax.set_xlabel("Year")
        ax.set_ylabel("firms")
        if per_year.empty:
            ax.text(0.5, 0.5, "no relocations", transform=ax.transAxes, ha="center", va="center", color="0.4")
            ax.set_xticks([])
            ax.set_yticks([])
    unique = list(dict.fromkeys(kinds))
    if unique:
        handles = [style.patch_handle(style.KIND_COLORS.get(k, "0.5")) for k in unique]
        handles.append(style.line_handle("black", marker="D", lw=0, markersize=5))
        style.legend_below(fig, handles, [k.replace("_", " ") for k in unique] + ["net (in − out)"],
                           ncols=len(handles))
    fig.suptitle(title, x=0.01, ha="left", fontsize=10)
    return fig


def run_relocations(result, path: str | Path, countries: list[str] | None = None) -> Path:
    """relocations.png/.svg of one run: balance by country and kind, and moves per year."""
    codes = list(result.model.state.codes)
    shown = [c for c in (countries or codes) if c in codes]
    names = dict(zip(codes, result.model.state.names))
    m = result.manifest
    years = m.get("years", ["", ""])
    title = (f"Relocated firms, {years[0]}–{years[-1]}: {m.get('title', m.get('scenario', ''))}, seed {m.get('seed')}"
             + ("" if "kind" in result.flows.columns else " (the model records no kind of move)"))
    fig = relocation_figure({m.get("scenario", "run"): result.flows}, shown, names, {}, title, yearly=result.flows)
    return style.save(fig, path)
