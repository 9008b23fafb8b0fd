"""`factoryshift discover`: scenario discovery on a finished sweep — in which region of the
levers and uncertainties does an outcome fall below or above a threshold?

The runs of the sweep are the data: the factors' values are the inputs, and a run is a
*case of interest* if its outcome is below (`below`) or above (`above`) a threshold, or
among the `top` fraction of runs. PRIM (`sim.experiments.prim`) finds boxes trading
coverage against density; the chosen box (`box`, default `prim.default_box`) is written
with its limits and quasi-p-values, next to the whole trajectory (so that another box can
be chosen by its index) and a CART tree's leaves. Every run counts once: replicates of a
sample are separate cases, so the density is the chance, over the model's randomness too,
that a run in the box is a case of interest.

>>> d = discover("results/sweeps/us_reshoring_levers", "us_share_2050", below=0.14)  # doctest: +SKIP
>>> d.prim.trajectory; d.prim.limits(); d.select(12).write()                         # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import UserError, did_you_mean
from sim.experiments import policies
from sim.experiments import prim as P
from sim.experiments.analysis import SweepData, load
from sim.experiments.outcomes import Outcome

FRACTIONS = ("production_share",)     # outcomes that are fractions (0.15 = 15%)
CART_DEPTH = 3


@dataclass
class Discovery:
    data: SweepData
    outcome: Outcome
    rule: str                   # "us_share_2050 < 0.14"
    values: np.ndarray          # the outcome of each run used
    inputs: pd.DataFrame        # the factor values of each run used (one column per varied factor)
    cases: np.ndarray           # boolean: the run is a case of interest
    prim: P.PrimResult
    cart: list[P.Leaf]
    policy: str | None = None
    box_rule: str = ""

    def select(self, k: int) -> Discovery:
        """The same discovery with box `k` of the PRIM trajectory chosen."""
        if not 0 <= k < len(self.prim.boxes):
            raise UserError(f"discover: --box: {k} does not exist; the trajectory has boxes 0–"
                            f"{len(self.prim.boxes) - 1} (see the trajectory in discovery.md)")
        return dataclasses.replace(self, prim=self.prim.select(k), box_rule=f"chosen with --box {k}")

    def write(self, out: str | Path | None = None, force: bool = False) -> Path:
        """discovery.md, trajectory.csv, box_limits.csv, cart_leaves.csv, tradeoff.png|svg, box.png|svg and
        manifest.json, swapped in whole (`sim.output.results_folder`)."""
        from sim.output import results_folder, to_json

        out = Path(out) if out is not None else default_out(self.data.out, self.outcome.name, self.policy)
        names = ("discovery.md", "trajectory.csv", "box_limits.csv", "cart_leaves.csv", "tradeoff.png", "tradeoff.svg",
                 "box.png", "box.svg")
        with results_folder(out, "discover", outputs=names, force=force) as tmp:
            self.prim.trajectory.to_csv(tmp / "trajectory.csv", index=False, float_format="%.6g")
            all_limits(self.prim).to_csv(tmp / "box_limits.csv", index=False, float_format="%.6g")
            leaves_table(self.cart).to_csv(tmp / "cart_leaves.csv", index=False, float_format="%.6g")
            plot_tradeoff(self, tmp / "tradeoff")
            plot_box(self, tmp / "box")
            (tmp / "discovery.md").write_text(report(self), encoding="utf-8")
            files = sorted(p.name for p in tmp.iterdir()) + ["manifest.json"]
            (tmp / "manifest.json").write_text(to_json({
                "command": "discover", "sweep": str(self.data.out), "rule": self.rule, "policy": self.policy,
                "box": self.prim.box.index, "files": files}))
        return out / "discovery.md"

    def summary(self) -> str:
        b = self.prim.box
        lines = [f"{self.rule}: {int(self.cases.sum())} of {len(self.cases)} runs"
                 + (f" of policy {self.policy}" if self.policy else "")
                 + f"; PRIM box {b.index} of 0–{len(self.prim.boxes) - 1} ({self.box_rule}): coverage "
                 f"{b.coverage:.2f}, density {b.density:.2f}, mass {b.mass:.2f}"]
        for r in self.prim.limits().itertuples():
            lines.append(f"  {describe_limit(r)}   quasi-p {_qp(r)}")
        return "\n".join(lines)


def default_out(sweep: Path, outcome: str, policy: str | None = None) -> Path:
    """DIR/discovery/OUTCOME, or DIR/discovery/OUTCOME-POLICY for one policy's runs."""
    return Path(sweep) / "discovery" / (outcome + (f"-{policy}" if policy else ""))


def discover(sweep: str | Path, outcome: str, *, below: float | None = None, above: float | None = None,
             top: float | None = None, box: int | None = None, policy: str | None = None,
             peel_alpha: float = 0.05, paste_alpha: float = 0.05, mass_min: float = 0.05,
             min_density: float = P.MIN_DENSITY, cart_depth: int = CART_DEPTH) -> Discovery:
    """PRIM and CART on the runs of a sweep folder; every bad option is reported at once (`UserError`)."""
    data = load(sweep)
    exp = data.experiment
    errors = []
    names = [o.name for o in exp.scalar_outcomes]
    chosen = next((o for o in exp.outcomes if o.name == outcome), None)
    if chosen is None:
        errors.append(f"discover: --outcome: unknown outcome {outcome!r}" + did_you_mean(outcome, names)
                      + f"; scalar outcomes of {exp.name}: {', '.join(names)}")
    elif not chosen.scalar:
        errors.append(f"discover: --outcome: {outcome} is a trajectory (one value per year); "
                      f"give a scalar outcome: {', '.join(names)}")
    given = [(k, v) for k, v in (("below", below), ("above", above), ("top", top)) if v is not None]
    if len(given) != 1:
        errors.append("discover: give exactly one of --below X, --above X or --top Q"
                      + (f" (got {', '.join('--' + k for k, _ in given)})" if given else ""))
    for key, value in given:
        if not np.isfinite(value):
            errors.append(f"discover: --{key}: must be a finite number, got {value}")
    if top is not None and not 0 < top < 1:
        errors.append(f"discover: --top: must be a fraction of the runs between 0 and 1, got {top}")
    for key, value in given:
        if key != "top" and chosen is not None and chosen.metric in FRACTIONS and abs(value) > 1:
            errors.append(f"discover: --{key}: {outcome} is a {chosen.metric}, a fraction (0.15 = 15%), "
                          f"got {value}")
    for key, value, lo, hi in (("peel-alpha", peel_alpha, 0, 0.5), ("paste-alpha", paste_alpha, 0, 0.5),
                               ("mass-min", mass_min, 0, 1), ("min-density", min_density, 0, 1)):
        if not lo < value < hi and not (key == "min-density" and value == 1):
            errors.append(f"discover: --{key}: must be between {lo} and {hi}, got {value}")
    if cart_depth < 1:
        errors.append(f"discover: --cart-depth: must be at least 1, got {cart_depth}")
    if box is not None and box < 0:
        errors.append(f"discover: --box: must be ≥ 0 (an index of the trajectory), got {box}")
    frame = data.outcomes
    if policy is not None:
        if exp.policy_design is None:
            errors.append(f"discover: --policy: {exp.name} has no policies (it is not a policies × uncertainties "
                          "experiment)")
        else:
            known = policies.names(exp)
            if policy not in known:
                errors.append(f"discover: --policy: unknown policy {policy!r}" + did_you_mean(policy, known)
                              + f"; policies: {', '.join(known)}")
            else:
                frame = policies.label_runs(exp, frame)
                frame = frame[frame["policy"] == policy]
    if errors:
        raise UserError(errors)
    frame = frame[np.isfinite(frame[outcome].to_numpy(dtype=float))]
    values = frame[outcome].to_numpy(dtype=float)
    factors = exp.uncertainties if policy is not None else exp.factors
    inputs = data.runs.set_index("run_id").loc[frame["run_id"], [f.path for f in factors]].astype(float)
    inputs = inputs.loc[:, inputs.nunique() > 1].reset_index(drop=True)
    (key, threshold), = given
    if key == "top":
        cut = np.quantile(values, 1 - top)
        cases, rule = values >= cut, f"{outcome} in the top {top:.0%} of runs (≥ {fmt_value(chosen, cut)})"
    else:
        cases = values < threshold if key == "below" else values > threshold
        rule = f"{outcome} {'<' if key == 'below' else '>'} {fmt_value(chosen, threshold)}"
    if inputs.shape[1] == 0:
        raise UserError(f"discover: {data.out}: no factor varies across the runs used")
    if not cases.any() or cases.all():
        raise UserError(f"discover: {'no' if not cases.any() else 'every'} run has {rule} (the outcome ranges "
                        f"from {fmt_value(chosen, values.min())} to {fmt_value(chosen, values.max())}); "
                        "choose a threshold inside that range")
    result = P.prim(inputs, cases, peel_alpha=peel_alpha, paste_alpha=paste_alpha, mass_min=mass_min,
                    min_density=min_density)
    leaves = P.cart(inputs, cases, max_depth=cart_depth, mass_min=mass_min)
    found = Discovery(data, chosen, rule, values, inputs, cases, result, leaves, policy,
                      f"default: the highest coverage among boxes with density ≥ {min_density:g}"
                      if any(b.density >= min_density for b in result.boxes) else
                      f"default: no box reaches density {min_density:g}, so the knee: the largest harmonic mean of "
                      "coverage and density")
    return found.select(box) if box is not None else found


# ---------------------------------------------------------------------------------- tables
def all_limits(result: P.PrimResult) -> pd.DataFrame:
    """Every box's restricted limits with quasi-p-values (one row per box and restricted input)."""
    frames = [result.limits(b.index).assign(box=b.index) for b in result.boxes if b.restricted]
    if not frames:
        return pd.DataFrame(columns=["box", "input", "lower", "upper", "min", "max", "qp_lower", "qp_upper"])
    frame = pd.concat(frames, ignore_index=True)
    return frame[["box", *[c for c in frame.columns if c != "box"]]]


def leaves_table(leaves: list[P.Leaf]) -> pd.DataFrame:
    return pd.DataFrame([{"leaf": i, "rule": " and ".join(leaf.rules) or "(all runs)", "coverage": leaf.coverage,
                          "density": leaf.density, "mass": leaf.mass, "runs": int(leaf.inside.sum())}
                         for i, leaf in enumerate(leaves)])


def fmt_value(outcome: Outcome | None, x: float) -> str:
    if outcome is not None and outcome.metric in FRACTIONS:
        return f"{x:.4g} ({100 * x:.2f}%)"
    if outcome is not None and outcome.metric.endswith("_usd"):
        return f"{x:.4g} (US${x / 1e9:.3g}B)"
    return f"{x:.4g}"


def describe_limit(r) -> str:
    """"0.25 ≤ countries.USA.tariffs.CHN" or "3.1 ≤ model.theta ≤ 4.9"."""
    lower = r.lower > r.min
    upper = r.upper < r.max
    text = f"{r.lower:.4g} ≤ " if lower else ""
    text += r.input
    return text + (f" ≤ {r.upper:.4g}" if upper else "")


def _qp(r) -> str:
    parts = [f"{'lower' if i == 0 else 'upper'} {v:.2g}" for i, v in enumerate((r.qp_lower, r.qp_upper))
             if np.isfinite(v)]
    return ", ".join(parts)


def levels_in_box(d: Discovery, name: str, lower: float, upper: float) -> str:
    """For a factor with a list of levels: the levels inside the box."""
    factor = next((f for f in d.data.experiment.factors if f.path == name), None)
    if factor is None or factor.values is None:
        return ""
    return ", ".join(str(v) for v in factor.values if lower <= float(v) <= upper)


def report(d: Discovery) -> str:
    exp, res = d.data.experiment, d.prim
    b = res.box
    n, k = len(d.cases), int(d.cases.sum())
    L = [f"# Scenario discovery: {d.rule}", "",
         f"Sweep `{exp.name}` ({d.data.out}), {exp.design_text}, written by `factoryshift discover`.", "",
         f"Cases of interest: runs with {d.rule}: **{k} of {n} runs ({k / n:.1%})**"
         + (f", among the runs of policy `{d.policy}`" if d.policy else "") + ". "
         "Inputs: " + ", ".join(f"`{c}`" for c in d.inputs.columns) + ". Each run is one case; the replicates "
         "of a sample count separately, so densities include the model's randomness.", "",
         f"## The chosen box: {b.index} ({d.box_rule})", "",
         f"Coverage **{b.coverage:.2f}** (share of all cases of interest inside the box), density "
         f"**{b.density:.2f}** (share of the box's runs that are cases of interest; {k / n:.2f} in all runs), "
         f"mass {b.mass:.2f} ({b.n} runs).", ""]
    lim = res.limits()
    if lim.empty:
        L += ["The box is the whole space (no input restricted).", ""]
    else:
        L += ["| input | box | full range | levels in the box | quasi-p (lower, upper) |", "|---|---|---|---|---|"]
        for r in lim.itertuples():
            L.append(f"| `{r.input}` | {r.lower:.4g} – {r.upper:.4g} | {r.min:.4g} – {r.max:.4g} | "
                     f"{levels_in_box(d, r.input, r.lower, r.upper) or '–'} | {_qp(r)} |")
        L += ["", "A limit's quasi-p-value is the one-sided binomial probability of finding at least the box's "
              "cases of interest among its runs if the density were that of the box without the limit "
              "(Bryant & Lempert 2010): below 0.05 the limit matters; near 1 it could be dropped.", ""]
    L += ["![coverage–density trade-off](tradeoff.png)", "", "![box limits](box.png)", "",
          "## The trajectory", "",
          "Peeling removes a slice of the box at a time, pasting then widens the last box where that raises the "
          "density. Choose another box with `factoryshift discover ... --box K` (or `Discovery.select(K)` in "
          "Python). Limits of every box: box_limits.csv.", "",
          "| box | phase | coverage | density | mass | runs | restricted inputs |", "|---|---|---|---|---|---|---|"]
    for box in res.boxes:
        mark = " ← chosen" if box.index == b.index else ""
        L.append(f"| {box.index}{mark} | {box.phase} | {box.coverage:.3f} | {box.density:.3f} | {box.mass:.3f} | "
                 f"{box.n} | {', '.join(res.names[j] for j in box.restricted) or '–'} |")
    L += ["", f"## CART (depth {max((len(leaf.rules) for leaf in d.cart), default=0)})", "",
          "A classification tree's leaves, densest first (cart_leaves.csv): an alternative description of where the "
          "cases of interest lie, with the tree's own cuts.", "",
          "| leaf | rule | coverage | density | mass |", "|---|---|---|---|---|"]
    for i, leaf in enumerate(d.cart):
        L.append(f"| {i} | {' and '.join(leaf.rules) or '(all runs)'} | {leaf.coverage:.3f} | {leaf.density:.3f} | "
                 f"{leaf.mass:.3f} |")
    L += ["", "Files: trajectory.csv, box_limits.csv, cart_leaves.csv, tradeoff.png|svg, box.png|svg.", ""]
    return "\n".join(L)


# ---------------------------------------------------------------------------------- plots
def plot_tradeoff(d: Discovery, path: Path) -> None:
    from sim.experiments.analysis_plots import plt, save

    t = d.prim.trajectory
    fig, ax = plt.subplots(figsize=(6.5, 5))
    sc = ax.scatter(t["coverage"], t["density"], c=t["restricted"], cmap="viridis", s=28, zorder=3)
    ax.plot(t["coverage"], t["density"], color="0.7", lw=0.8, zorder=2)
    for r in t.itertuples():
        ax.annotate(str(r.box), (r.coverage, r.density), fontsize=6, xytext=(3, 2), textcoords="offset points")
    b = d.prim.box
    ax.scatter([b.coverage], [b.density], s=160, facecolors="none", edgecolors="#c0392b", lw=2, zorder=4,
               label=f"chosen box {b.index}")
    fig.colorbar(sc, ax=ax, label="restricted inputs")
    ax.set_xlabel("coverage")
    ax.set_ylabel("density")
    ax.set_title(f"PRIM trade-off: {d.rule}", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    save(fig, path)


def plot_box(d: Discovery, path: Path) -> None:
    """Each restricted input's limits as a share of its full range, with quasi-p-values."""
    from sim.experiments.analysis_plots import plt, save, short

    lim = d.prim.limits()
    fig, ax = plt.subplots(figsize=(7.5, 1.4 + 0.55 * max(len(lim), 1)))
    for i, r in enumerate(lim.itertuples()):
        span = r.max - r.min
        lo, hi = (r.lower - r.min) / span, (r.upper - r.min) / span
        ax.plot([0, 1], [i, i], color="0.85", lw=8, solid_capstyle="butt")
        ax.plot([lo, hi], [i, i], color="#2471a3", lw=8, solid_capstyle="butt")
        ax.text(lo, i + 0.28, f"{r.lower:.3g}", ha="center", fontsize=7)
        ax.text(hi, i + 0.28, f"{r.upper:.3g}", ha="center", fontsize=7)
        ax.text(1.02, i, f"qp {_qp(r)}", va="center", fontsize=7)
    ax.set_yticks(range(len(lim)), [short(x) for x in lim["input"]])
    ax.set_xlim(0, 1.35)
    ax.set_ylim(-0.6, max(len(lim), 1) - 0.2)
    ax.set_xlabel("share of the input's range (grey: full range, blue: the box)")
    b = d.prim.box
    ax.set_title(f"box {b.index}: coverage {b.coverage:.2f}, density {b.density:.2f} — {d.rule}", fontsize=9)
    save(fig, path)
