"""Numeric health: a run stops at the first non-finite country value instead of writing NaN.

`check(model)` is called once per step. It looks only at per-country numbers (the row just
recorded and the country state), O(countries), so a step of a million firms costs the same.
Every firm quantity the outputs depend on is summed into some country value, so a NaN or
inf among the firms shows up there too.

When the scenario holds parameters at the ends of their documented ranges, the run stops
with a `NumericalInputError` (a `UserError`: exit status 2) naming them; ranges admit each
parameter at its ends alone (tests/test_faults.py runs every one), but several extremes
together can overwhelm the arithmetic. Without such parameters a non-finite value is a bug
(`NumericalBug`, an internal error).
"""

from __future__ import annotations

import math

import numpy as np

from sim.errors import UserError
from sim.scenarios import parameters as P

#: Values that may be +inf: an uncapped AI fund (`ai_fund = inf`).
MAY_BE_INFINITE = ("ai_fund", "ai_fund_usd")
#: How far from its default (a factor) a value counts as extreme when its range has no end there.
FAR = 1e6
#: Parameters named in a message, at most.
SHOWN = 8
#: A firm population this many times its start (and above `GROWTH_FLOOR`) stops the run: demand compounding
#: over a long horizon would otherwise grow it until memory runs out.
GROWTH_CAP = 100
GROWTH_FLOOR = 100_000


class NumericalInputError(UserError):
    """The run went non-finite with parameters at the ends of their ranges: the input's doing."""


class NumericalBug(RuntimeError):
    """The run went non-finite with every parameter well inside its range: a bug of the model."""


def check(model) -> None:
    """Raise at the first non-finite per-country value recorded since the last call, or in the state,
    or when the firm population has outgrown what the run was sized for."""
    from sim.model.turnover import target_firm_count  # here: turnover imports this module

    # the demand-implied target, not the population: entry filters can keep the population just under the cap
    # while the target runs away
    firms = max(len(model.firms), target_firm_count(model.start.firms, float(model.state.demand.sum()),
                                                    model.start.demand, model.par["firm_count_elasticity"]))
    if firms > max(GROWTH_CAP * model.n0, GROWTH_FLOOR):
        spec = model.spec
        raise NumericalInputError(
            f"{spec.path or spec.name}: the firm population would grow to {firms:,} in {model.year}, more than "
            f"{GROWTH_CAP}×"
            f" the {model.n0:,} of the start (demand growth compounding over the run, firm_count_elasticity = "
            f"{model.par.get('firm_count_elasticity')}); shorten run.end_year or lower demand_growth")
    rows = getattr(model.recorder, "_rows", None) or {}
    names = model.__dict__.get("_health_names")
    if names is None:   # which arrays to test, found once per model (a few microseconds per step after)
        state = [n for n, v in vars(model.state).items() if isinstance(v, np.ndarray) and v.dtype.kind == "f"]
        recorded = [n for n, parts in rows.items() if parts and parts[0].dtype.kind == "f"]
        names = model.__dict__["_health_names"] = (
            [n for n in recorded if not _may_be_infinite(n)], [n for n in recorded if _may_be_infinite(n)],
            [n for n in state if not _may_be_infinite(n)], [n for n in state if _may_be_infinite(n)])
    done = model.__dict__.get("_health_rows", 0)
    end = len(rows.get("year", ()))
    model.__dict__["_health_rows"] = end
    strict_rows, loose_rows, strict_state, loose_state = names
    strict = [rows[n][i] for n in strict_rows for i in range(done, end)]
    strict += [getattr(model.state, n) for n in strict_state]
    loose = [rows[n][i] for n in loose_rows for i in range(done, end)] + [getattr(model.state, n) for n in loose_state]
    if _finite("all", np.concatenate([a.ravel() for a in strict])) and \
            (not loose or _finite("ai_fund", np.concatenate([a.ravel() for a in loose]))):
        return
    for name, parts in rows.items():   # the slow search, only when something is wrong
        for i in range(done, end):
            if parts[i].dtype.kind == "f" and not _finite(name, parts[i]):
                raise diagnose(model, name, parts[i], int(rows["year"][i][0]))
    for name in strict_state + loose_state:
        if not _finite(name, getattr(model.state, name)):
            raise diagnose(model, f"state.{name}", getattr(model.state, name), model.year)


def _may_be_infinite(name: str) -> bool:
    return name.rpartition(".")[2] in MAY_BE_INFINITE


def _finite(name: str, values: np.ndarray) -> bool:
    if _may_be_infinite(name):
        return not (np.isnan(values).any() or np.isneginf(values).any())
    return bool(np.isfinite(values).all())


def diagnose(model, name: str, values: np.ndarray, year: int) -> Exception:
    codes = model.state.codes
    flat = np.asarray(values, dtype=float)
    where = [codes[i] for i in np.flatnonzero(~np.isfinite(flat))] if flat.ndim == 1 and len(flat) == len(codes) \
        else []
    sample = flat.ravel()[~np.isfinite(flat.ravel())][0]
    spec = model.spec
    source = str(spec.path or spec.name)
    what = f"{name} is {sample}" + (f" for {', '.join(where[:5])}{'…' if len(where) > 5 else ''}" if where else "")
    extremes = extreme_parameters(spec.data)
    if not extremes:
        return NumericalBug(f"{source}: the run became non-finite in {year} ({what}) with every parameter inside "
                            f"its range: a bug, please report it with this scenario")
    shown = ", ".join(extremes[:SHOWN]) + (f" and {len(extremes) - SHOWN} more" if len(extremes) > SHOWN else "")
    return NumericalInputError(f"{source}: the run became non-finite in {year} ({what}); parameters at the ends "
                               f"of their ranges: {shown}; move them inward (docs/scenarios.md, 'Numeric health')")


def extreme_parameters(data: dict) -> list[str]:
    """Dotted paths of the parameters at (or within a hair of) an end of their range, or FAR from their default
    where the range has no end; values equal to the default do not count."""
    found = [f"model.{p.name} = {data['model'][p.name]:g}" for p in P.MODEL_PARAMS
             if _extreme(p, data["model"].get(p.name), p.default)]
    countries = data["countries"]
    for p in P.COUNTRY_PARAMS:
        if p.kind not in ("float", "int"):
            continue
        values = [c.get(p.name) for c in countries.values() if isinstance(c.get(p.name), (int, float))]
        reference = p.default if isinstance(p.default, (int, float)) else (float(np.median(values)) if values else None)
        for code, country in countries.items():
            if _extreme(p, country.get(p.name), reference):
                found.append(f"countries.{code}.{p.name} = {country[p.name]:g}")
    return found


def _extreme(p: P.Param, value, reference) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value == reference:
        return False
    if not math.isfinite(value):
        return not (p.name in MAY_BE_INFINITE and value > 0)
    lo, hi = p.lo, p.hi
    if lo is not None and hi is not None:
        hair = 1e-6 * (hi - lo)
        return value - lo <= hair or hi - value <= hair
    scale = abs(reference) if isinstance(reference, (int, float)) and reference else 1.0
    if lo is not None and value - lo <= 1e-6 * scale:
        return True
    return abs(value) >= FAR * scale or (0 < abs(value) <= scale / FAR)
