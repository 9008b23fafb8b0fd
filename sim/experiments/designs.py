"""Experimental designs: which parameter values each sample of an experiment runs with.

Every design is first drawn in the unit hypercube [0, 1]^d, one column per factor,
and then mapped to parameter values by `Factor.from_unit` (a range maps linearly, an
integer range or a ``values`` list maps to discrete levels of equal width). Grid
designs are built from the levels directly.

* ``grid``   every combination of the factors' levels (``values`` or ``levels`` points
             from min to max); the last factor varies fastest.
* ``lhs``    Latin hypercube, `scipy.stats.qmc.LatinHypercube`, ``samples`` points.
* ``sobol``  Saltelli's cross-sampling of a scrambled Sobol' sequence
             (`SALib.sample.sobol`, itself on `scipy.stats.qmc.Sobol`):
             ``samples·(d + 2)`` points, ``samples·(2d + 2)`` with second-order indices.
             Analysed with `SALib.analyze.sobol` on the same (unit) problem.
* ``morris`` Morris elementary-effect trajectories (`SALib.sample.morris`):
             ``samples·(d + 1)`` points on a ``levels``-point grid.

The sample is drawn from ``SeedSequence(seed, spawn_key=(DESIGN_SPAWN_KEY,))`` — a
stream that never coincides with the replicate streams (children 0 … R−1 of
``SeedSequence(seed)``), so adding replicates does not change the design.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

DESIGNS = ("grid", "lhs", "sobol", "morris")
DESIGN_SPAWN_KEY = 2**32 - 1
DEFAULT_GRID_LEVELS = 5
DEFAULT_MORRIS_LEVELS = 4


@dataclass(frozen=True)
class Factor:
    """One lever or uncertainty: a dotted scenario path and the values it may take."""

    path: str
    role: str = "lever"                     # "lever" | "uncertainty"
    lo: float | None = None                 # a range …
    hi: float | None = None
    values: tuple | None = None             # … or a list of discrete levels
    levels: int | None = None               # grid points of a range (grid designs)
    integer: bool = False                   # the parameter takes integers
    also: tuple[str, ...] = ()              # further paths set to the same value

    @property
    def discrete(self) -> bool:
        return self.values is not None

    @property
    def paths(self) -> tuple[str, ...]:
        return (self.path, *self.also)

    def levels_list(self) -> list:
        """The factor's levels in a grid design."""
        if self.values is not None:
            return list(self.values)
        if self.integer:
            n = self.levels or int(self.hi - self.lo + 1)
            return sorted({int(round(v)) for v in np.linspace(self.lo, self.hi, n)})
        n = self.levels or DEFAULT_GRID_LEVELS
        return [float(v) for v in np.linspace(self.lo, self.hi, n)]

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Map points of [0, 1] to the factor's values (as float; bools as 0/1)."""
        u = np.asarray(u, dtype=float)
        if self.values is not None:
            k = len(self.values)
            idx = np.minimum((u * k).astype(int), k - 1)
            return np.asarray([float(v) for v in self.values])[idx]
        if self.integer:
            width = int(self.hi - self.lo + 1)
            return self.lo + np.minimum((u * width).astype(int), width - 1).astype(float)
        return self.lo + u * (self.hi - self.lo)

    def python_value(self, x: float):
        """A design value as the scenario expects it (bool, int or float)."""
        if self.values is not None and isinstance(self.values[0], bool):
            return bool(x)
        if self.integer:
            return int(round(x))
        return float(x)

    def overrides(self, x: float) -> dict[str, object]:
        value = self.python_value(x)
        return {p: value for p in self.paths}


@dataclass
class Design:
    """The samples of an experiment: ``X`` (samples × factors, parameter values as floats).

    A grid's rows are computed when asked for (`row`): a grid of millions of samples need not be
    built for a sweep that runs a few of them (``--limit``); ``X`` builds the whole matrix on first use.
    Sampled designs (lhs, sobol, morris) are drawn whole: a Latin hypercube or Saltelli's scheme is
    one joint draw (about 1.6 s for 2.5 million samples of 4 factors).
    """

    kind: str
    factors: tuple[Factor, ...]
    matrix: np.ndarray | None = None        # samples × factors; None for a grid until `X` is used
    unit: np.ndarray | None = None          # the unit-cube sample (lhs, sobol, morris)
    second_order: bool = False
    levels: int = DEFAULT_MORRIS_LEVELS
    grid: tuple[tuple[float, ...], ...] | None = None   # a grid's levels per factor (last varies fastest)

    @property
    def X(self) -> np.ndarray:
        if self.matrix is None:
            self.matrix = np.array(list(itertools.product(*self.grid)), dtype=float).reshape(-1, len(self.factors))
        return self.matrix

    @property
    def n(self) -> int:
        if self.matrix is None:
            return int(np.prod([len(levels) for levels in self.grid]))
        return self.matrix.shape[0]

    def row(self, sample: int) -> tuple[float, ...]:
        """One sample's values (floats), without building the whole design."""
        if self.matrix is not None:
            return tuple(self.matrix[sample])
        out = []
        for levels in reversed(self.grid):      # mixed radix: the last factor varies fastest
            sample, k = divmod(sample, len(levels))
            out.append(levels[k])
        return tuple(reversed(out))

    def point(self, sample: int) -> dict[str, object]:
        """Scenario overrides of one sample."""
        out: dict[str, object] = {}
        for factor, x in zip(self.factors, self.row(sample)):
            out.update(factor.overrides(x))
        return out

    def values(self, sample: int) -> dict[str, object]:
        """Factor path → value of one sample (linked ``also`` paths omitted)."""
        return {f.path: f.python_value(x) for f, x in zip(self.factors, self.row(sample))}

    def problem(self) -> dict:
        return unit_problem(self.factors)


def unit_problem(factors) -> dict:
    """The SALib problem the unit sample was drawn on (every factor on [0, 1])."""
    return {"num_vars": len(factors), "names": [f.path for f in factors], "bounds": [[0.0, 1.0]] * len(factors)}


def design_size(kind: str, factors, samples: int | None, second_order: bool = False) -> int:
    """Number of samples a design has (before replicates)."""
    d = len(factors)
    if kind == "grid":
        return int(np.prod([len(f.levels_list()) for f in factors]))
    if kind == "lhs":
        return samples
    if kind == "sobol":
        return samples * (2 * d + 2 if second_order else d + 2)
    if kind == "morris":
        return samples * (d + 1)
    raise ValueError(f"unknown design {kind!r}")


def design_rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(DESIGN_SPAWN_KEY,)))


def build(kind: str, factors, samples: int | None, seed: int, *, second_order: bool = False,
          levels: int = DEFAULT_MORRIS_LEVELS) -> Design:
    """Draw the design: deterministic for given factors, sizes and seed."""
    factors = tuple(factors)
    d = len(factors)
    if kind == "grid":
        return Design(kind, factors, grid=tuple(tuple(float(v) for v in f.levels_list()) for f in factors))
    rng = design_rng(seed)
    if kind == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d, rng=rng).random(samples)
    elif kind == "sobol":
        from SALib.sample import sobol

        unit = sobol.sample(unit_problem(factors), samples, calc_second_order=second_order, seed=rng)
    elif kind == "morris":
        from SALib.sample import morris

        unit = morris.sample(unit_problem(factors), samples, num_levels=levels, seed=rng)
    else:
        raise ValueError(f"unknown design {kind!r}")
    X = np.column_stack([f.from_unit(unit[:, j]) for j, f in enumerate(factors)])
    return Design(kind, factors, X, unit, second_order, levels)
