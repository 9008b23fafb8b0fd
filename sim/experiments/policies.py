"""Policies × uncertainties: every policy (a set of lever values) meets the same sampled futures.

An experiment with ``policies = "grid" | "lhs" | "list"`` in ``[experiment]`` crosses two
designs, as the EMA Workbench's ``perform_experiments(scenarios=…, policies=…)`` does:

* the **policies**: the levers' grid, a Latin hypercube of ``policy_samples`` points over
  ``[levers]``, or the named ``[[policy]]`` tables of the file;
* the **futures**: ``design`` (grid or lhs) over ``[uncertainties]``, drawn exactly as an
  experiment without policies would draw it.

Sample ``s`` is policy ``s // F`` in future ``s % F`` (F futures); replicate r of every sample
uses the same seed, so all policies meet identical futures with identical random numbers,
and a difference between two policies in one future is the policies' doing.
The analysis ranks policies by regret: in each future, how far a policy's outcome (the mean
over replicates) falls short of the best policy's in that future.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from sim.errors import did_you_mean
from sim.experiments import designs
from sim.experiments.designs import Design, Factor
from sim.scenarios.check import Checker, type_name

POLICY_DESIGNS = ("grid", "lhs", "list")
FUTURE_DESIGNS = ("grid", "lhs")
POLICY_SPAWN_KEY = 2**32 - 2       # the policies' own stream, disjoint from the futures' and the replicates'
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")
REGRET_QUANTILE = 0.9

if TYPE_CHECKING:   # imported where used: validating an experiment file needs no pandas
    import pandas as pd


# ---------------------------------------------------------------------------------- parsing
def parse_head(c: Checker, head: dict, tree: dict, kind: str | None) -> tuple[str | None, int | None]:
    """Check ``experiment.policies`` and ``experiment.policy_samples``; return them (None when absent)."""
    policy_kind = head.get("policies")
    samples = head.get("policy_samples")
    if policy_kind is None:
        if samples is not None:
            c.add("experiment.policy_samples", "goes with policies = \"lhs\"")
        if "policy" in tree:
            c.add("policy", "[[policy]] tables need policies = \"list\" in [experiment]")
        return None, None
    if policy_kind not in POLICY_DESIGNS:
        c.add("experiment.policies", f"unknown policy design {policy_kind!r}; policy designs: "
              f"{', '.join(POLICY_DESIGNS)}" + did_you_mean(str(policy_kind), POLICY_DESIGNS))
        policy_kind = None
    if kind is not None and kind not in FUTURE_DESIGNS:
        c.add("experiment.design", f"a policies × uncertainties experiment samples its futures with "
              f"{' or '.join(FUTURE_DESIGNS)}, got {kind!r}")
    if policy_kind == "lhs":
        if samples is None:
            c.add("experiment.policy_samples", "missing (policies = \"lhs\" needs the number of policies)")
        elif isinstance(samples, bool) or not isinstance(samples, int) or not 2 <= samples <= 100_000:
            c.add("experiment.policy_samples", f"must be an integer from 2 to 100,000, got {samples!r}")
            samples = None
    elif samples is not None:
        c.add("experiment.policy_samples", f"only policies = \"lhs\" takes policy_samples (this is {policy_kind!r})")
        samples = None
    if policy_kind != "list" and "policy" in tree:
        c.add("policy", "[[policy]] tables need policies = \"list\" in [experiment]")
    if policy_kind == "list" and "levers" in tree:
        c.add("levers", "with policies = \"list\" the levers are the paths the [[policy]] tables set; remove [levers]")
    return policy_kind, samples


def parse_list(c: Checker, entries: object, data: dict, path_problem, param_for) -> tuple[list, list[Factor]]:
    """The ``[[policy]]`` tables: [(name, {path: value})] and one lever `Factor` per path they set.

    A path a policy does not set keeps the base scenario's value in that policy.
    """
    if entries is None:
        c.add("policy", "missing: policies = \"list\" needs [[policy]] tables (name and lever values)")
        return [], []
    if not (isinstance(entries, list) and all(isinstance(e, dict) for e in entries)):
        c.add("policy", "must be an array of tables ([[policy]])")
        return [], []
    policies, seen = [], {}
    for i, entry in enumerate(entries):
        where = f"policy[{i}]"
        name = entry.get("name")
        if not isinstance(name, str) or not NAME.match(name):
            c.add(f"{where}.name", "missing" if name is None else
                  f"must be a name of letters, digits, _ and - (an identifier), got {name!r}")
            name = None
        elif name in seen:
            c.add(f"{where}.name", f"{name!r} is also the name of policy[{seen[name]}]")
        else:
            seen[name] = i
        values = {}
        for path, value in entry.items():
            if path == "name":
                continue
            problem = path_problem(path, data)
            if problem:
                c.add(f"{where}.{path}", problem)
                continue
            param = param_for(path)
            if param.kind == "bool":
                if not isinstance(value, bool):
                    c.add(f"{where}.{path}", f"must be true or false, got {type_name(value)}")
                    continue
            elif not c.number(value, f"{where}.{path}", param, integer=param.kind == "int"):
                continue
            values[path] = value
        if not values and name is not None:
            c.add(where, "sets no lever (add dotted paths, e.g. \"countries.USA.tariffs.CHN\" = 0.25)")
        policies.append((name, values))
    if len(entries) < 2:
        c.add("policy", f"needs at least two [[policy]] tables to compare, got {len(entries)}")
    paths = list(dict.fromkeys(p for _, values in policies for p in values))
    factors = []
    for path in paths:
        levels = [values.get(path, base_value(data, path)) for _, values in policies]
        if len(set(levels)) == 1 and len(policies) > 1:
            c.add(f"policy.{path}", f"every policy has the same value {levels[0]!r} (the base scenario's where a "
                  "policy does not set it); a value common to all belongs in [fixed]")
        param = param_for(path)
        factors.append(Factor(path, "lever", values=tuple(sorted(set(levels))), integer=param.kind == "int"))
    return policies, factors


def base_value(data: dict, path: str):
    """What `path` is in the base scenario: the value its single schedule entry reaches, or the parameter."""
    from sim.experiments.experiment import scheduled_entries

    idx = scheduled_entries(data, path)
    if idx:
        return data["schedule"][idx[0]]["value"]
    node = data
    *parents, leaf = path.split(".")
    for part in parents:
        node = node[part]
    if parents[-1:] == ["tariffs"] and leaf not in node:   # an origin the table does not name pays its default
        return node["default"]
    return node[leaf]


# ---------------------------------------------------------------------------------- the design
def policy_matrix(exp) -> np.ndarray:
    """The policies' lever values (policies × levers)."""
    levers = exp.levers
    if exp.policy_design == "list":
        base = exp.base.data
        return np.array([[float(values.get(f.path, base_value(base, f.path))) for f in levers]
                         for _, values in exp.policies], dtype=float).reshape(-1, len(levers))
    if exp.policy_design == "grid":
        return designs.build("grid", levers, None, exp.seed).X
    from scipy.stats import qmc

    rng = np.random.default_rng(np.random.SeedSequence(exp.seed, spawn_key=(POLICY_SPAWN_KEY,)))
    unit = qmc.LatinHypercube(len(levers), rng=rng).random(exp.policy_samples)
    return np.column_stack([f.from_unit(unit[:, j]) for j, f in enumerate(levers)])


def n_policies(policy_design: str, levers, policy_samples: int | None, listed) -> int:
    if policy_design == "list":
        return len(listed)
    if policy_design == "lhs":
        return policy_samples
    return designs.design_size("grid", levers, None)


def cross_design(exp) -> Design:
    """Every policy in every future: rows policy-major (sample = policy × F + future)."""
    futures = designs.build(exp.design_kind, exp.uncertainties, exp.samples, exp.seed)
    P, F = policy_matrix(exp), futures.X
    X = np.hstack([np.repeat(P, len(F), axis=0), np.tile(F, (len(P), 1))])
    return Design(exp.design_kind, (*exp.levers, *exp.uncertainties), X)


def names(exp) -> list[str]:
    if exp.policy_design == "list":
        return [name for name, _ in exp.policies]
    return [f"P{i}" for i in range(exp.n_policies)]


def policy_table(exp) -> pd.DataFrame:
    """One row per policy: its index, name and lever values."""
    import pandas as pd

    frame = pd.DataFrame(policy_matrix(exp), columns=[f.path for f in exp.levers])
    frame.insert(0, "policy", names(exp))
    frame.insert(0, "policy_id", range(len(frame)))
    return frame


def label_runs(exp, frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` (with a ``sample`` column) with ``policy_id``, ``policy`` and ``future`` columns added."""
    policy_id, future = np.divmod(frame["sample"].to_numpy(), exp.n_futures)
    return frame.assign(policy_id=policy_id, policy=np.asarray(names(exp))[policy_id], future=future)


# ---------------------------------------------------------------------------------- regret
def regret(values: np.ndarray, goal: str) -> np.ndarray:
    """Regret of each policy (rows) in each future (columns): the distance to the best policy there."""
    values = np.asarray(values, dtype=float)
    if goal == "max":
        return np.nanmax(values, axis=0, keepdims=True) - values
    return values - np.nanmin(values, axis=0, keepdims=True)


def robustness(values: np.ndarray, goal: str | None, policy_names: list[str],
               quantile: float = REGRET_QUANTILE) -> pd.DataFrame:
    """Per policy: the outcome across futures (mean, 10/50/90%) and, with a goal, its regret
    (mean, `quantile`, max) and rank (by the regret quantile, then the mean regret; 1 = most robust)."""
    import pandas as pd

    values = np.asarray(values, dtype=float)
    q10, q50, q90 = np.nanquantile(values, [0.1, 0.5, 0.9], axis=1)
    table = pd.DataFrame({"policy": policy_names, "futures": np.isfinite(values).sum(axis=1),
                          "mean": np.nanmean(values, axis=1), "p10": q10, "p50": q50, "p90": q90})
    if goal is None:
        return table
    r = regret(values, goal)
    table["regret_mean"] = np.nanmean(r, axis=1)
    table[f"regret_p{round(100 * quantile)}"] = np.nanquantile(r, quantile, axis=1)
    table["regret_max"] = np.nanmax(r, axis=1)
    table["best_in"] = (r == 0).sum(axis=1)
    order = np.lexsort((table["regret_mean"].to_numpy(), table[f"regret_p{round(100 * quantile)}"].to_numpy()))
    table["rank"] = np.empty(len(table), dtype=int)
    table.loc[order, "rank"] = np.arange(1, len(table) + 1)
    return table


def outcome_matrix(exp, outcomes: pd.DataFrame, name: str) -> np.ndarray:
    """Policies × futures of the outcome's mean over replicates (NaN where no run succeeded)."""
    means = outcomes.groupby("sample")[name].mean().reindex(range(exp.n_samples))
    return means.to_numpy(dtype=float).reshape(exp.n_policies, exp.n_futures)


def results(exp, outcomes: pd.DataFrame) -> pd.DataFrame:
    """`robustness` for every scalar outcome, stacked (the table analysis/policies.csv)."""
    import pandas as pd

    frames = [robustness(outcome_matrix(exp, outcomes, o.name), o.goal, names(exp)).assign(outcome=o.name)
              for o in exp.scalar_outcomes]
    return pd.concat(frames, ignore_index=True)


def section(data, tables) -> list[str]:
    """The "Policies across futures" part of analysis.md; writes analysis/policies.csv (and policy_costs.csv)."""
    from sim.experiments import magnitudes as M
    from sim.experiments.analysis_plots import short

    exp = data.experiment
    table = results(exp, data.outcomes)
    table.to_csv(tables / "policies.csv", index=False, float_format="%.6g")
    levers = policy_table(exp)
    q = f"regret_p{round(100 * REGRET_QUANTILE)}"
    L = ["## Policies across futures", "",
         f"{exp.n_policies} policies ({exp.policy_design}), each run in the same {exp.n_futures} futures "
         f"({exp.design_kind} over the uncertainties) with the same {exp.replicates} replicate seeds. Per policy: "
         "the outcome across futures (each future's mean over replicates) and, for outcomes with a `goal`, the "
         "regret — in each future, how far the policy falls short of the best policy in that future. Policies are "
         f"ranked by the {round(100 * REGRET_QUANTILE)}th percentile of their regret (then its mean): the most "
         "robust policy is the one whose bad futures cost least (analysis/policies.csv).", "",
         "| policy | " + " | ".join(f"`{short(f.path)}`" for f in exp.levers) + " |",
         "|---|" + "---|" * len(exp.levers)]
    for r in levers.itertuples(index=False):
        L.append(f"| {r[1]} | " + " | ".join(f"{v:g}" for v in r[2:]) + " |")
    L.append("")
    for o in exp.scalar_outcomes:
        part = table[table["outcome"] == o.name]
        L += [f"### `{o.name}` — {o.describe()}" + (f", goal: {o.goal}" if o.goal else ""), ""]
        if o.goal is None:
            L += ["| policy | mean | 10% | median | 90% |", "|---|---|---|---|---|"]
            L += [f"| {r.policy} | {M.show(r.mean, o.metric, True)} | {M.show(r.p10, o.metric, True)} | "
                  f"{M.show(r.p50, o.metric, True)} | {M.show(r.p90, o.metric, True)} |" for r in part.itertuples()]
            L += ["", f"No regret: add `goal = \"max\"` or `goal = \"min\"` to outcomes.{o.name} to rank the "
                  "policies.", ""]
            continue
        scale, name = M.unit(o.metric)
        L += [f"| rank | policy | mean | 10% | median | 90% | mean regret ({name}) | "
              f"{round(100 * REGRET_QUANTILE)}% regret | max regret | best in |", "|---" * 10 + "|"]
        for r in part.sort_values("rank").itertuples():
            L.append(f"| {r.rank:.0f} | {r.policy} | {M.show(r.mean, o.metric, True)} | "
                     f"{M.show(r.p10, o.metric, True)} | {M.show(r.p50, o.metric, True)} | "
                     f"{M.show(r.p90, o.metric, True)} | "
                     f"{scale * r.regret_mean:.3g} | {scale * getattr(r, q):.3g} | {scale * r.regret_max:.3g} | "
                     f"{r.best_in:.0f} of {r.futures:.0f} |")
        L.append("")
    costs = policy_costs(exp, data.outcomes)
    if not costs.empty:
        costs.to_csv(tables / "policy_costs.csv", index=False, float_format="%.6g")
        first = names(exp)[0]
        L += ["### Cost-effectiveness against the first policy", "",
              f"Extra public spending per percentage point of share gained by choosing a policy over `{first}`, "
              "means over futures, 5–95% ranges resampling futures (analysis/policy_costs.csv).", "",
              "| policy | spending → share | Δ spending | Δ share | cost per pp |", "|---|---|---|---|---|"]
        for r in costs.itertuples():
            L.append(f"| {r.level} | `{r.spending}` → `{r.share}` | {r.d_spend_usd / 1e9:+.3g} US$ bn | "
                     f"{r.d_share_pp:+.3g} pp [{r.d_share_lo:+.3g}, {r.d_share_hi:+.3g}] | {M.describe_cost(r)} |")
        L.append("")
    return L


def policy_costs(exp, outcomes: pd.DataFrame) -> pd.DataFrame:
    """US$ per pp of share of each policy against the first, over the futures (means over replicates)."""
    import pandas as pd

    from sim.experiments import magnitudes as M

    frames = []
    for spend, share in M.cost_pairs(exp.outcomes):
        S, Y = outcome_matrix(exp, outcomes, spend.name), outcome_matrix(exp, outcomes, share.name)
        ok = np.isfinite(S).all(axis=0) & np.isfinite(Y).all(axis=0)
        codes = np.repeat(np.arange(exp.n_policies), ok.sum())
        futures = np.tile(np.flatnonzero(ok), exp.n_policies)
        table = M.cost_per_gain(S[:, ok].ravel(), Y[:, ok].ravel(), codes, names(exp), futures)
        frames.append(table.assign(spending=spend.name, share=share.name))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
