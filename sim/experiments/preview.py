"""What a file is and what a sweep would run, without running or writing anything.

* `load_any`: a scenario or an experiment file (by its ``[experiment]`` table) or bundled name,
  loaded and validated — `factoryshift validate` accepts both.
* `run_table`: the first runs of an experiment as the sweep would submit them (ids, sample,
  replicate, factor values, seed) — `factoryshift sweep --dry-run`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sim.errors import UserError, did_you_mean
from sim.scenarios.scenario import Scenario, bundled_names, load_scenario, locate, read_toml

if TYPE_CHECKING:   # imported when needed: validating a scenario file needs neither (nor NumPy)
    import pandas as pd

    from sim.experiments.experiment import Experiment


def load_any(ref: str) -> Scenario | Experiment:
    """Load `ref` as an experiment if it has an [experiment] table (or names a bundled one), else as a scenario."""
    if ref.endswith(".toml") or "/" in ref or Path(ref).is_file():
        path = locate(ref)
        return _experiment(path) if "experiment" in read_toml(path) else load_scenario(path)
    if ref in bundled_names("scenarios"):
        return load_scenario(ref)
    if ref in bundled_names("experiments"):
        return _experiment(ref)
    known = bundled_names("scenarios") + bundled_names("experiments")
    raise UserError(f"{ref}: no bundled scenario or experiment of that name and no such file"
                    + did_you_mean(ref, known) + f"; bundled: {', '.join(known)}")


def _experiment(ref):
    from sim.experiments.experiment import load_experiment  # here: a scenario file needs none of it

    return load_experiment(ref)


def run_table(experiment: Experiment, rows: int = 10) -> pd.DataFrame:
    """The first `rows` runs: run_id, sample, replicate, (policy, future,) factor values, seed entropy, spawn key."""
    import pandas as pd

    from sim.experiments import policies
    from sim.experiments.sweep import tasks

    frame = pd.DataFrame([{"run_id": t.run_id, "sample": t.sample, "replicate": t.replicate, **t.values,
                           "seed_entropy": t.entropy, "spawn_key": list(t.spawn_key)}
                          for t in tasks(experiment, range(min(rows, experiment.n_runs)))])
    if experiment.policy_design is not None and not frame.empty:
        labelled = policies.label_runs(experiment, frame)
        frame.insert(3, "policy", labelled["policy"])
        frame.insert(4, "future", labelled["future"])
    return frame


def describe(experiment: Experiment) -> str:
    """One line: the design, replicates, runs and firms."""
    return (f"{experiment.title}: {experiment.design_text} × {experiment.replicates} replicates = "
            f"{experiment.n_runs:,} runs of {experiment.firms:,} firms")
