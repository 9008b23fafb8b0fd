"""Scenario discovery on a table of inputs X and a binary outcome y: PRIM and a small CART.

PRIM (Friedman & Fisher 1999) looks for one box — an interval per input — in which the
cases of interest (y true) are dense. *Peeling* repeatedly removes the slice of the box
(a fraction `peel_alpha` of its points, at the top or bottom of one input) whose removal
raises the share of cases of interest the most per point removed (the "lenient"
objective of the EMA Workbench), until the box holds less than `mass_min` of the data or
no slice helps. *Pasting* then grows the last box back along a restricted input wherever
that raises the density. Every box on the way is kept: the *trajectory* trades coverage
(the share of all cases of interest inside the box) against density (the share of the
box's points that are cases of interest), and the analyst picks one (Bryant & Lempert
2010). For each restricted limit of a box, the quasi-p-value is the one-sided binomial
probability of finding at least the box's cases of interest among its points if the
density were that of the box without the limit: small means the limit matters.

CART (Breiman et al. 1984) splits the data recursively on the input and threshold that
reduce the Gini impurity most; its leaves are boxes too. It is written out here (about 60
lines) rather than taken from scikit-learn, which would be a large dependency for one
function; the tree is deterministic (ties go to the first input, then the lowest threshold).

Both work on floats; discrete inputs (a list of levels) are peeled a whole level at a time,
because a cut never separates equal values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: The default choice of box: the one with the highest coverage among those at least this dense.
MIN_DENSITY = 0.8


def cut_point(values: np.ndarray, q: float) -> float:
    """Where to cut the lowest (q < 0.5) or highest (q > 0.5) fraction of `values`.

    The cut lies halfway between the q-quantile's order statistic and the next distinct
    value towards the centre, so it never separates tied values and always removes at least
    one point (the quantile rule of sdtoolkit, which the EMA Workbench follows too).
    """
    data = np.sort(values)
    pos = (len(data) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    if q > 0.5:
        while lo > 0 and data[lo] == data[hi]:
            lo -= 1
    else:
        while hi < len(data) - 1 and data[lo] == data[hi]:
            hi += 1
    return float((data[lo] + data[hi]) / 2)


def lenient(y_old: np.ndarray, y_new: np.ndarray) -> float:
    """Gain in density per point added or removed (EMA's 'lenient1' objective)."""
    if len(y_new) == 0 or len(y_new) == len(y_old):
        return 0.0
    return (y_new.mean() - y_old.mean()) / abs(len(y_old) - len(y_new))


@dataclass
class Box:
    """One box of the trajectory: its limits (2 × d: lower, upper) and the points inside."""

    index: int
    phase: str                  # "start", "peel" or "paste"
    limits: np.ndarray
    inside: np.ndarray          # boolean mask over the data
    coverage: float
    density: float
    mass: float
    restricted: list[int]       # inputs whose limits differ from the data's range
    qp: dict[int, tuple[float, float]] = field(default_factory=dict)   # input -> (lower, upper); NaN = not cut

    @property
    def n(self) -> int:
        return int(self.inside.sum())


@dataclass
class PrimResult:
    names: list[str]
    X: np.ndarray
    y: np.ndarray
    boxes: list[Box]
    chosen: int

    @property
    def trajectory(self) -> pd.DataFrame:
        """One row per box: index, phase, coverage, density, mass, points, restricted inputs."""
        return pd.DataFrame([{"box": b.index, "phase": b.phase, "coverage": b.coverage, "density": b.density,
                              "mass": b.mass, "n": b.n, "cases": int(self.y[b.inside].sum()),
                              "restricted": len(b.restricted)} for b in self.boxes])

    def select(self, k: int) -> PrimResult:
        """The same result with box `k` as the chosen one (the trajectory's indices, 0 = all data)."""
        if not 0 <= k < len(self.boxes):
            raise IndexError(f"box {k} does not exist (boxes 0–{len(self.boxes) - 1})")
        return PrimResult(self.names, self.X, self.y, self.boxes, k)

    @property
    def box(self) -> Box:
        return self.boxes[self.chosen]

    def limits(self, k: int | None = None) -> pd.DataFrame:
        """The restricted inputs of box `k` (default: the chosen one) with their limits and quasi-p-values."""
        box = self.boxes[self.chosen if k is None else k]
        full = self.boxes[0].limits
        rows = []
        for j in box.restricted:
            qp_lo, qp_hi = box.qp[j]
            rows.append({"input": self.names[j], "lower": box.limits[0, j], "upper": box.limits[1, j],
                         "min": full[0, j], "max": full[1, j], "qp_lower": qp_lo, "qp_upper": qp_hi})
        return pd.DataFrame(rows, columns=["input", "lower", "upper", "min", "max", "qp_lower", "qp_upper"])


def default_box(boxes: list[Box], min_density: float = MIN_DENSITY) -> int:
    """The box with the highest coverage among those with density ≥ `min_density` (ties: fewer
    restricted inputs, then the earlier box); if none is that dense, the knee of the trade-off: the
    box with the largest harmonic mean of coverage and density."""
    dense = [b for b in boxes if b.density >= min_density]
    if dense:
        return max(dense, key=lambda b: (b.coverage, -len(b.restricted), -b.index)).index
    return max(boxes, key=lambda b: (2 * b.coverage * b.density / (b.coverage + b.density), -b.index)).index


def in_box(X: np.ndarray, limits: np.ndarray) -> np.ndarray:
    return ((X >= limits[0]) & (X <= limits[1])).all(axis=1)


def prim(X, y, names: list[str] | None = None, *, peel_alpha: float = 0.05, paste_alpha: float = 0.05,
         mass_min: float = 0.05, min_density: float = MIN_DENSITY) -> PrimResult:
    """Peel and paste one box for the cases `y` (booleans) in the inputs `X` (n × d)."""
    if isinstance(X, pd.DataFrame):
        names = names or [str(c) for c in X.columns]
        X = X.to_numpy(dtype=float)
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=bool)
    names = names or [f"x{j}" for j in range(X.shape[1])]
    if X.ndim != 2 or len(X) != len(y) or len(y) == 0:
        raise ValueError(f"X must be n × d and y of length n, got {X.shape} and {y.shape}")
    if not y.any():
        raise ValueError("no case of interest: nothing to discover")
    n = len(y)
    full = np.vstack([X.min(axis=0), X.max(axis=0)])
    boxes: list[Box] = []

    def record(limits: np.ndarray, inside: np.ndarray, phase: str) -> Box:
        boxes.append(make_box(X, y, limits, full, len(boxes), phase, inside))
        return boxes[-1]

    def best(candidates, old_inside):
        """The candidate with the largest objective, then the fewest restricted inputs, then the first."""
        scored = []
        for order, (limits, inside) in enumerate(candidates):
            obj = lenient(y[old_inside], y[inside])
            free = int(((limits[0] == full[0]) & (limits[1] == full[1])).sum())
            scored.append((obj, free, -order, limits, inside))
        return max(scored, key=lambda s: s[:3]) if scored else None

    box = record(full.copy(), np.ones(n, dtype=bool), "start")
    while True:                                                   # peeling
        candidates = []
        for j in range(X.shape[1]):
            xj = X[box.inside, j]
            for side, q in ((1, 1 - peel_alpha), (0, peel_alpha)):
                cut = cut_point(xj, q)
                limits = box.limits.copy()
                limits[side, j] = cut
                keep = X[:, j] <= cut if side else X[:, j] >= cut
                candidates.append((limits, box.inside & keep))
        found = best(candidates, box.inside)
        if found is None:
            break
        obj, _, _, limits, inside = found
        if not (obj > 0 and inside.sum() / n >= mass_min and inside.sum() < box.inside.sum()):
            break
        box = record(limits, inside, "peel")
    while box.restricted:                                         # pasting
        candidates = []
        for j in box.restricted:
            for side in (0, 1):
                span = box.limits.copy()
                span[:, j] = (full[0, j], box.limits[0, j]) if side == 0 else (box.limits[1, j], full[1, j])
                slab = X[in_box(X, span), j]
                limits = box.limits.copy()
                if slab.size == 0:
                    limits[side, j] = full[side, j]
                else:
                    limits[side, j] = cut_point(slab, 1 - paste_alpha if side == 0 else paste_alpha)
                candidates.append((limits, in_box(X, limits)))
        found = best(candidates, box.inside)
        if found is None:
            break
        obj, _, _, limits, inside = found
        if not (obj > 0 and inside.sum() > box.inside.sum() and y[inside].mean() > y[box.inside].mean()):
            break
        box = record(limits, inside, "paste")
    return PrimResult(names, X, y, boxes, default_box(boxes, min_density))


def make_box(X: np.ndarray, y: np.ndarray, limits: np.ndarray, full: np.ndarray, index: int = 0,
             phase: str = "given", inside: np.ndarray | None = None) -> Box:
    """The box with `limits` on data (X, y) whose range is `full`, with its statistics and quasi-p-values."""
    inside = in_box(X, limits) if inside is None else inside
    restricted = [j for j in range(X.shape[1]) if limits[0, j] != full[0, j] or limits[1, j] != full[1, j]]
    k = int(y[inside].sum())
    box = Box(index, phase, limits, inside, k / max(int(y.sum()), 1), k / max(int(inside.sum()), 1),
              inside.sum() / len(y), restricted)
    box.qp = quasi_p(X, y, box, full)
    return box


def quasi_p(X: np.ndarray, y: np.ndarray, box: Box, full: np.ndarray) -> dict[int, tuple[float, float]]:
    """One-sided binomial quasi-p-value of each cut limit (Bryant & Lempert 2010): the chance of at
    least the box's cases of interest among its points at the density of the box without that limit."""
    from scipy.stats import binomtest

    k, m = int(y[box.inside].sum()), int(box.inside.sum())
    out = {}
    for j in box.restricted:
        pair = []
        for side in (0, 1):
            if box.limits[side, j] == full[side, j]:
                pair.append(float("nan"))
                continue
            wider = box.limits.copy()
            wider[side, j] = full[side, j]
            inside = in_box(X, wider)
            pair.append(float(binomtest(k, m, y[inside].mean(), alternative="greater").pvalue))
        out[j] = tuple(pair)
    return out


# ---------------------------------------------------------------------------------- CART
@dataclass
class Leaf:
    limits: np.ndarray
    inside: np.ndarray
    rules: list[str]
    coverage: float
    density: float
    mass: float


def cart(X, y, names: list[str] | None = None, *, max_depth: int = 3, mass_min: float = 0.05) -> list[Leaf]:
    """A classification tree (Gini, binary splits at midpoints); its leaves as boxes, densest first."""
    if isinstance(X, pd.DataFrame):
        names = names or [str(c) for c in X.columns]
        X = X.to_numpy(dtype=float)
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=bool)
    names = names or [f"x{j}" for j in range(X.shape[1])]
    n, total = len(y), max(int(y.sum()), 1)
    min_leaf = max(1, int(mass_min * n))
    leaves: list[Leaf] = []

    def grow(inside: np.ndarray, limits: np.ndarray, rules: list[str], depth: int) -> None:
        split = best_split(X[inside], y[inside], min_leaf) if depth < max_depth else None
        if split is None:
            k = int(y[inside].sum())
            leaves.append(Leaf(limits, inside, rules, k / total, k / inside.sum(), inside.sum() / n))
            return
        j, t = split
        low, high = limits.copy(), limits.copy()
        low[1, j], high[0, j] = t, t
        grow(inside & (X[:, j] <= t), low, [*rules, f"{names[j]} ≤ {t:.4g}"], depth + 1)
        grow(inside & (X[:, j] > t), high, [*rules, f"{names[j]} > {t:.4g}"], depth + 1)

    grow(np.ones(n, dtype=bool), np.vstack([X.min(axis=0), X.max(axis=0)]), [], 0)
    return sorted(leaves, key=lambda leaf: (-leaf.density, -leaf.coverage))


def best_split(X: np.ndarray, y: np.ndarray, min_leaf: int) -> tuple[int, float] | None:
    """(input, threshold) with the largest decrease of the Gini impurity, or None if no split helps."""
    n = len(y)

    def gini_sum(k, m):      # m × Gini impurity of a node with k cases among m points
        return 2 * k * (m - k) / np.maximum(m, 1)

    parent = gini_sum(y.sum(), n)
    best, best_gain = None, 1e-12
    for j in range(X.shape[1]):
        order = np.argsort(X[:, j], kind="stable")
        xs, ks = X[order, j], np.cumsum(y[order])
        m = np.arange(1, n)                     # points on the left of a cut after position m - 1
        valid = (xs[1:] > xs[:-1]) & (m >= min_leaf) & (n - m >= min_leaf)
        if not valid.any():
            continue
        left = ks[:-1]
        gain = parent - gini_sum(left, m) - gini_sum(ks[-1] - left, n - m)
        gain[~valid] = -np.inf
        i = int(np.argmax(gain))
        if gain[i] > best_gain:
            best, best_gain = (j, float((xs[i] + xs[i + 1]) / 2)), gain[i]
    return best
