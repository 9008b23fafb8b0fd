"""The hindcast figure: observed shares against the model fitted to the years before a cutoff."""

from __future__ import annotations

from pathlib import Path

import matplotlib.ticker

from sim.plots import style


@style.styled
def hindcast(table, until: int, path: str | Path) -> Path:
    """Per country: observed share, the model's mean and 5–95% band, the naive forecasts, the cutoff."""
    codes = list(dict.fromkeys(table["country"]))
    fig, axes = style.panel_grid(len(codes), 4, 4, 2.9)
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
    style.finish_grid(fig, axes, len(codes), f"Share of world MVA (%): hindcast fitted to ≤ {until} (red line), "
                      "tested after")
    return style.save(fig, path)


#: Panel titles of the robot measures (`sim.history.hindcast.ROBOT_MEASURES`).
ROBOT_TITLES = {"density": "Robot density (robots per 10,000 manufacturing employees)",
                "installations": "Robots installed per year"}


@style.styled
def automation_hindcast(table, until: int, path: str | Path, measure: str = "density") -> Path:
    """Per country with IFR figures: the robot `measure` observed, the model's mean and 5–95% band, the naive
    forecasts after the cutoff (log scale)."""
    observed = table[f"observed_{measure}"]
    codes = [c for c in dict.fromkeys(table["country"]) if observed[table.country == c].notna().any()]
    fig, axes = style.panel_grid(len(codes), 3, 4, 2.9)
    for ax, code in zip(axes.flat, codes):
        t = table[table.country == code]
        years = t.year.to_numpy()
        ax.fill_between(years, t[f"model_{measure}_p05"], t[f"model_{measure}_p95"], color="tab:blue", alpha=0.25,
                        lw=0, label="model 5–95%")
        ax.plot(years, t[f"model_{measure}_mean"], color="tab:blue", lw=1.8, label="model mean")
        seen = t[f"observed_{measure}"].notna()
        ax.plot(years[seen], t[f"observed_{measure}"][seen], "o", color="black", ms=4, label="IFR")
        ax.plot(years, t[f"persistence_{measure}"], color="tab:gray", ls="--", lw=1.2, label="persistence")
        ax.plot(years, t[f"trend_{measure}"], color="tab:orange", ls=":", lw=1.5, label="trend")
        ax.axvline(until + 0.5, color="tab:red", lw=1, alpha=0.7)
        ax.set_yscale("log")
        ax.set_title(code, fontsize=10)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True, nbins=5))
    style.finish_grid(fig, axes, len(codes), f"{ROBOT_TITLES[measure]}: fitted to ≤ {until} (red line)")
    return style.save(fig, path)
