"""Experiment files (``experiments/*.toml``): strict parsing into an `Experiment` and its run table.

An experiment names a base scenario, the levers and uncertainties to vary (dotted
scenario paths), a design, replicates, a seed and the outcomes to measure. Every
problem is found before anything runs and reported as one line
``"<file>: <key path>: <problem> (did you mean …?)"`` (`UserError`, exit status 2).
The format is documented in docs/experiments.md.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sim.errors import UserError, did_you_mean
from sim.experiments import designs, policies
from sim.experiments.designs import DESIGNS, Design, Factor
from sim.experiments.outcomes import Outcome, parse_outcomes
from sim.inputs import duplicates, parse_toml, read_text, single_line
from sim.scenarios import parameters as P
from sim.scenarios.check import Checker, type_name, unfunded_subsidies
from sim.scenarios.scenario import Scenario, check_path, load_scenario, locate, validate

TOP_KEYS = ("experiment", "levers", "uncertainties", "fixed", "outcomes", "policy")
EXPERIMENT_KEYS = ("title", "description", "scenario", "design", "samples", "replicates", "seed", "firms",
                   "second_order", "levels", "policies", "policy_samples")
RANGE_KEYS = ("min", "max", "levels", "also")
VALUES_KEYS = ("values", "also")
MAX_RUNS = 10_000_000


@dataclass
class Experiment:
    name: str
    source: str                   # the file, as named in messages
    text: str                     # the file's content
    title: str
    description: str
    scenario_ref: str
    scenario: Scenario            # the resolved base scenario, before [fixed]
    base: Scenario                # what every run starts from: scenario + [fixed]
    design_kind: str
    samples: int | None
    replicates: int
    seed: int
    firms: int
    factors: tuple[Factor, ...]
    outcomes: tuple[Outcome, ...]
    fixed: dict = field(default_factory=dict)
    second_order: bool = False
    levels: int = designs.DEFAULT_MORRIS_LEVELS
    policy_design: str | None = None      # policies × uncertainties: "grid", "lhs" or "list" (sim.policies)
    policy_samples: int | None = None
    policies: tuple = ()                  # policies = "list": (name, {path: value}) per [[policy]]
    warnings: tuple[str, ...] = ()        # valid but probably not meant (a subsidy rate without a fund)
    _design: Design | None = field(default=None, repr=False)

    def __repr__(self) -> str:   # the dataclass's would print the whole file and scenario
        return f"<Experiment {self.name}: {self.design_text} × {self.replicates} replicates = {self.n_runs:,} runs>"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    @property
    def levers(self) -> tuple[Factor, ...]:
        return tuple(f for f in self.factors if f.role == "lever")

    @property
    def uncertainties(self) -> tuple[Factor, ...]:
        return tuple(f for f in self.factors if f.role == "uncertainty")

    @property
    def scalar_outcomes(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.scalar)

    @property
    def trajectory_outcomes(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if not o.scalar)

    @property
    def design(self) -> Design:
        if self._design is None and self.policy_design is not None:
            self._design = policies.cross_design(self)
        if self._design is None:
            self._design = designs.build(self.design_kind, self.factors, self.samples, self.seed,
                                         second_order=self.second_order, levels=self.levels)
        return self._design

    @property
    def n_futures(self) -> int:
        """Samples of the design over the uncertainties (policies × uncertainties experiments)."""
        return designs.design_size(self.design_kind, self.uncertainties, self.samples)

    @property
    def n_policies(self) -> int:
        return policies.n_policies(self.policy_design, self.levers, self.policy_samples, self.policies) \
            if self.policy_design else 1

    @property
    def n_samples(self) -> int:
        if self.policy_design is not None:
            return self.n_policies * self.n_futures
        return designs.design_size(self.design_kind, self.factors, self.samples, self.second_order)

    @property
    def n_runs(self) -> int:
        return self.n_samples * self.replicates

    @property
    def design_text(self) -> str:
        """The design in words: "lhs design, 256 samples" or "4 policies (grid) × 64 futures (lhs)"."""
        if self.policy_design is not None:
            return (f"{self.n_policies} policies ({self.policy_design}) × {self.n_futures} futures "
                    f"({self.design_kind})")
        return f"{self.design_kind} design, {self.n_samples} samples"

    def seeds(self) -> list[np.random.SeedSequence]:
        """Replicate r of every sample uses child r (common random numbers across samples)."""
        return np.random.SeedSequence(self.seed).spawn(self.replicates)

    def run_index(self, run_id: int) -> tuple[int, int]:
        """(sample, replicate) of a run: runs are numbered sample-major."""
        return divmod(run_id, self.replicates)


# ---------------------------------------------------------------------------------- overrides
def scheduled_entries(data: dict, dotted: str) -> list[int]:
    """Indices of the `[[schedule]]` entries that set the lever at `dotted` (countries.XXX.lever)."""
    parts = dotted.split(".")
    if parts[0] != "countries" or len(parts) < 3:
        return []
    lever = ".".join(parts[2:])
    return [i for i, e in enumerate(data.get("schedule", []))
            if e.get("country") == parts[1] and e.get("lever") == lever]


def target(data: dict, dotted: str) -> str:
    """What setting `dotted` changes: the country table, or the value of a schedule entry."""
    idx = scheduled_entries(data, dotted)
    if not idx:
        return "parameter value"
    e = data["schedule"][idx[0]]
    when = f"from {e['from']}" + (f" to {e['to']}" if "to" in e else "")
    return f"value of schedule[{idx[0]}] ({e.get('shape', 'step')} {when})"


def apply_overrides(scenario: Scenario, overrides: dict, source: str) -> Scenario:
    """`scenario` with dotted-path values set, re-validated.

    A lever the scenario schedules (one ``[[schedule]]`` entry) keeps its timing and shape:
    the value sets that entry's ``value``. Other paths set the parameter itself.
    """
    table, scheduled = {}, {}
    for path, value in overrides.items():
        idx = scheduled_entries(scenario.data, path)
        if idx:
            scheduled[path] = (idx[0], value)
        else:
            table[path] = value
    out = scenario.with_overrides(table, source=source) if table else scenario
    if scheduled:
        data = copy.deepcopy(out.data)
        for i, value in scheduled.values():
            data["schedule"][i]["value"] = value
        validate(data, source)
        out = Scenario(out.name, data, out.path, {**out.overrides, **{p: v for p, (_, v) in scheduled.items()}},
                       out.observed)
    return out


# ---------------------------------------------------------------------------------- parsing
def load_experiment(ref: str | Path) -> Experiment:
    """Load a bundled experiment by name or an experiment file by path."""
    path = ref if isinstance(ref, Path) else locate(str(ref), "experiments")
    text = read_text(path)
    return parse_experiment(text, source=str(path), name=path.stem, base_dir=path.parent)


def parse_experiment(text: str, *, source: str, name: str, base_dir: Path | None = None,
                     scenario: Scenario | None = None) -> Experiment:
    """Parse and validate an experiment's TOML text; `scenario` skips resolving its scenario reference."""
    tree = parse_toml(text, source)
    c = Checker(source)
    c.keys(tree, TOP_KEYS, "")
    head = tree.get("experiment")
    if not isinstance(head, dict):
        c.add("experiment", "missing table [experiment]" if head is None else f"must be a table, got {type_name(head)}")
        raise UserError(c.errors)
    c.keys(head, EXPERIMENT_KEYS, "experiment")
    for key in ("scenario", "design", "seed"):
        if key not in head:
            c.add(f"experiment.{key}", "missing")
    ref = head.get("scenario")
    if ref is not None and not isinstance(ref, str):
        c.add("experiment.scenario", f"must be a bundled scenario name or a path, got {type_name(ref)}")
    if scenario is None and isinstance(ref, str):
        try:
            path = locate(ref, "scenarios", relative_to=base_dir)
            scenario = load_scenario(path)
        except UserError as exc:
            for msg in exc.messages:
                c.add("experiment.scenario", msg)
    kind = head.get("design")
    if kind is not None and kind not in DESIGNS:
        c.add("experiment.design", f"unknown design {kind!r}; designs: {', '.join(DESIGNS)}"
              + did_you_mean(kind, DESIGNS))
    samples = _int(c, head, "samples", 1, None)
    replicates = _int(c, head, "replicates", 1, 1_000_000, default=1)
    seed = _int(c, head, "seed", 0, 2**63 - 1)
    firms = _int(c, head, "firms", 10, 20_000_000)
    levels = _int(c, head, "levels", 2, 100, default=designs.DEFAULT_MORRIS_LEVELS)
    second_order = head.get("second_order", False)
    if not isinstance(second_order, bool):
        c.add("experiment.second_order", f"must be true or false, got {type_name(second_order)}")
    for key in ("title", "description"):
        if key in head and not isinstance(head[key], str):
            c.add(f"experiment.{key}", f"must be a string, got {type_name(head[key])}")
    if isinstance(head.get("title"), str) and not single_line(head["title"]):
        c.add("experiment.title", f"must be one line of text, got {head['title']!r}")
    if kind == "grid" and "samples" in head:
        c.add("experiment.samples", "a grid's size comes from its factors' levels; remove samples")
    if kind in ("lhs", "sobol", "morris") and "samples" not in head:
        c.add("experiment.samples", f"missing (the {kind} design needs a sample size)")
    if kind == "sobol" and samples and samples & (samples - 1):
        c.add("experiment.samples", f"the sobol design needs a power of 2 (Sobol' sequence balance), got {samples}")
    if kind == "morris" and samples is not None and samples < 2:
        c.add("experiment.samples", "the morris design needs at least 2 trajectories")
    if "second_order" in head and kind != "sobol":
        c.add("experiment.second_order", "only the sobol design has second-order indices")
    if "levels" in head and kind != "morris":
        c.add("experiment.levels", "only the morris design takes levels here (grid factors take their own)")
    policy_design, policy_samples = policies.parse_head(c, head, tree, kind)
    if scenario is None or c.errors and any("experiment.scenario" in e for e in c.errors):
        raise UserError(c.errors)

    data = scenario.data
    fixed = _fixed(c, tree.get("fixed", {}), data)
    factors: list[Factor] = []
    listed: list = []
    if policy_design == "list":
        listed, factors = policies.parse_list(c, tree.get("policy"), data, _path_problem, param_for)
        for f in factors:
            if f.path in fixed:
                c.add(f"policy.{f.path}", "also set in [fixed]")
    for role, table in (("lever", "levers"), ("uncertainty", "uncertainties")):
        if policy_design == "list" and table == "levers":
            continue
        section = tree.get(table, {})
        if c.table(section, table):
            for path, spec in section.items():
                factor = _factor(c, table, path, spec, role, policy_design if policy_design and role == "lever"
                                 else kind, data, fixed)
                if factor is not None:
                    factors.append(factor)
    seen: dict[str, str] = {}
    for f in factors:
        for p in f.paths:
            if p in seen:
                c.add(f"{seen[p]}", f"sets {p} twice (also set by another factor)")
            seen[p] = f"{'levers' if f.role == 'lever' else 'uncertainties'}.{f.path}"
    if not factors and not any(e.startswith(f"{source}: levers") or e.startswith(f"{source}: uncertainties")
                               for e in c.errors):
        c.add("levers", "an experiment needs at least one lever or uncertainty")
    if policy_design is not None:
        for table, role in (("levers" if policy_design != "list" else "policy", "lever"),
                            ("uncertainties", "uncertainty")):
            if not any(f.role == role for f in factors) and not any(e.startswith(f"{source}: {table}")
                                                                    for e in c.errors):
                c.add(table, f"a policies × uncertainties experiment needs at least one {role}")
    base, base_ok = scenario, True
    if fixed:   # the merged result is checked even when the file has other errors: all are reported at once
        try:
            base = apply_overrides(scenario, fixed, source=f"{source}: fixed")
        except UserError as exc:
            c.errors.extend(exc.messages)
            base_ok = False
    outcomes = parse_outcomes(c, tree.get("outcomes"), base.data)
    highest = _check_corners(c, base, factors, source) if base_ok and factors else None
    if not c.errors and kind in DESIGNS:
        n = designs.design_size(kind, factors, samples, second_order) * replicates
        if policy_design is not None:
            levers = [f for f in factors if f.role == "lever"]
            n = (policies.n_policies(policy_design, levers, policy_samples, listed) * replicates
                 * designs.design_size(kind, [f for f in factors if f.role == "uncertainty"], samples))
        if n > MAX_RUNS:
            c.add("experiment", f"{n:,} runs is more than the {MAX_RUNS:,} an experiment may have")
    if c.errors:
        raise UserError(c.errors)
    return Experiment(
        name=name, source=source, text=text, title=head.get("title", name), description=head.get("description", ""),
        scenario_ref=ref if isinstance(ref, str) else scenario.name, scenario=scenario, base=base, design_kind=kind,
        samples=samples, replicates=replicates, seed=seed,
        firms=firms if firms is not None else int(base.run["firms"]), factors=tuple(factors),
        outcomes=tuple(outcomes), fixed=fixed, second_order=second_order, levels=levels,
        policy_design=policy_design, policy_samples=policy_samples, policies=tuple(listed),
        warnings=tuple(_warnings(source, highest, factors, fixed)) if highest is not None else ())


def _int(c: Checker, table: dict, key: str, lo: int, hi: int | None, default=None) -> int | None:
    if key not in table:
        return default
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, int):
        c.add(f"experiment.{key}", f"must be an integer, got {type_name(value)} {value!r}")
        return default
    if value < lo or (hi is not None and value > hi):
        c.add(f"experiment.{key}", f"out of range: {value} not in [{lo}, {'inf' if hi is None else f'{hi:,}'}]")
        return default
    return value


def param_for(dotted: str) -> P.Param:
    parts = dotted.split(".")
    if parts[0] == "run":
        return P.RUN[parts[1]]
    if parts[0] == "model":
        return P.MODEL[parts[1]]
    return P.COUNTRY["tariffs" if len(parts) == 4 else parts[2]]


def _path_problem(dotted: str, data: dict) -> str | None:
    problem = check_path(data, dotted)
    if problem is None and dotted.startswith("run."):
        return "run parameters cannot vary within an experiment (set experiment.firms, or fix run.end_year in [fixed])"
    parts = dotted.split(".")
    if problem is None and len(parts) == 4 and parts[3] == "default":
        named = data["countries"][parts[1]]["tariffs"]
        if all(code in named for code in data["countries"] if code != parts[1]):
            # like a tariff on itself: a value no run would apply, so an experiment over it measures noise
            return (f"the default tariff applies to no origin: countries.{parts[1]}.tariffs names every other "
                    "country; vary a named origin instead")
    idx = scheduled_entries(data, dotted) if problem is None else []
    if len(idx) > 1:
        entries = ", ".join(f"schedule[{i}]" for i in idx)
        return (f"the scenario schedules this lever in {len(idx)} entries ({entries}); "
                "a factor sets the value of a single entry — use a scenario that schedules it once")
    return problem


def _fixed(c: Checker, table: object, data: dict) -> dict:
    if not c.table(table, "fixed"):
        return {}
    out = {}
    for path, value in table.items():
        problem = check_path(data, path)
        if problem is None and len(scheduled_entries(data, path)) > 1:
            problem = _path_problem(path, data)
        if problem is None and path in ("run.firms", "run.seed"):
            problem = f"set experiment.{path[4:]} instead"
        if problem:
            c.add(f"fixed.{path}", problem)
        else:
            out[path] = value
    return out


def _factor(c: Checker, table: str, path: str, spec: object, role: str, kind: str | None, data: dict,
            fixed: dict) -> Factor | None:
    where = f"{table}.{path}"
    problem = _path_problem(path, data)
    if problem:
        c.add(where, problem)
        return None
    if path in fixed:
        c.add(where, "also set in [fixed]")
    if not isinstance(spec, dict):
        c.add(where, "must be a table: { min = …, max = … } or { values = […] }")
        return None
    param = param_for(path)
    n_errors = len(c.errors)
    also = spec.get("also", [])
    if not (isinstance(also, list) and all(isinstance(a, str) for a in also)):
        c.add(f"{where}.also", "must be a list of dotted paths")
        also = []
    for twice in duplicates([path, *also]):
        c.add(f"{where}.also", f"lists {twice} twice")
    for other in also:
        problem = _path_problem(other, data)
        if problem:
            c.add(f"{where}.also.{other}", problem)
        elif param_for(other).kind != param.kind:
            c.add(f"{where}.also.{other}", f"is a {param_for(other).kind} parameter, {path} a {param.kind} one")
    also = [other for other in also if not _path_problem(other, data)]   # the values are checked for these only
    integer = param.kind == "int"
    if "values" in spec:
        c.keys(spec, VALUES_KEYS, where)
        values = spec["values"]
        if not isinstance(values, list) or not values:
            c.add(f"{where}.values", "must be a non-empty list")
            return None
        for i, v in enumerate(values):
            if param.kind == "bool":
                if not isinstance(v, bool):
                    c.add(f"{where}.values[{i}]", f"must be true or false, got {type_name(v)}")
            else:
                for p in (path, *also):
                    c.number(v, f"{where}.values[{i}]" + (f" (for {p})" if p != path else ""), param_for(p),
                             integer=integer)
        if duplicates(values):
            c.add(f"{where}.values", "has duplicates")
        elif len(values) < 2:
            c.add(f"{where}.values", "needs at least two values (a single value belongs in [fixed])")
        if len(c.errors) > n_errors:
            return None
        return Factor(path, role, values=tuple(values), integer=integer, also=tuple(also))
    c.keys(spec, RANGE_KEYS, where)
    if param.kind == "bool":
        c.add(where, "a true/false parameter takes { values = [false, true] }")
        return None
    for key in ("min", "max"):
        if key not in spec:
            c.add(f"{where}.{key}", "missing (give min and max, or values)")
        else:
            for p in (path, *also):
                c.number(spec[key], f"{where}.{key}" + (f" (for {p})" if p != path else ""), param_for(p),
                         integer=integer)
    levels = spec.get("levels")
    if "levels" in spec:
        if kind != "grid":
            c.add(f"{where}.levels", f"only grid designs take levels (this is {kind!r})")
        elif isinstance(levels, bool) or not isinstance(levels, int) or levels < 2:
            c.add(f"{where}.levels", f"must be an integer ≥ 2, got {levels!r}")
    if len(c.errors) > n_errors:
        return None
    lo, hi = spec["min"], spec["max"]
    if lo >= hi:
        c.add(where, f"min = {lo} must be less than max = {hi}" + (" (a fixed value belongs in [fixed])"
                                                                     if lo == hi else ""))
        return None
    return Factor(path, role, lo=lo, hi=hi, levels=levels, integer=integer, also=tuple(also))


def _check_corners(c: Checker, base: Scenario, factors: list[Factor], source: str) -> Scenario | None:
    """Cross-field rules (e.g. mva_share summing to 1) at the lowest and highest values of every factor;
    returns the scenario with every factor at its highest value (None if it is invalid)."""
    highest = None
    for label, pick in (("lowest", min), ("highest", max)):
        overrides: dict = {}
        for f in factors:
            vals = f.values if f.values is not None else (f.lo, f.hi)
            if not isinstance(vals[0], bool):
                overrides.update(f.overrides(pick(vals)))
        try:
            highest = apply_overrides(base, overrides, source=f"{source}: every factor at its {label} value")
        except UserError as exc:
            c.errors.extend(exc.messages)
            highest = None
    return highest


def _warnings(source: str, highest: Scenario, factors: list[Factor], fixed: dict) -> list[str]:
    """An AI subsidy rate without a fund even where every factor is at its highest value (so in every run
    the fund is 0 while some run sets a rate): named at the factor or [fixed] path that sets the rate,
    else at the base scenario."""
    out = []
    for code, problem in unfunded_subsidies(highest.data):
        path = f"countries.{code}.ai_subsidy_rate"
        where = next((f"{'levers' if f.role == 'lever' else 'uncertainties'}.{f.path}" for f in factors
                      if path in f.paths), f"fixed.{path}" if path in fixed else f"experiment.scenario: {path}")
        out.append(f"{source}: {where}: {problem}")
    return out

