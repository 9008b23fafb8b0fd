# %% [markdown]
# # FactoryShift from Python: run, compare, sweep, analyse, plot
#
# This tutorial walks the Python API behind the `factoryshift` command. It is a
# percent-format script (`docs/tutorial.py`) with the same cells as the notebook
# `docs/tutorial.ipynb` (regenerate it with `make docs`); `make test` runs it
# (tests/test_tutorial.py), so every line here works on the current code. Runs use few
# firms to stay fast; real studies use the scenarios' defaults (10,000 firms).
#
# Outputs go to `results/tutorial/` (or the folder in `FACTORYSHIFT_TUTORIAL_OUT`).

# %%
import os
import tempfile
from pathlib import Path

import sim
from sim.api import write_results
from sim.plots import RunPlots

OUT = Path(os.environ.get("FACTORYSHIFT_TUTORIAL_OUT") or Path("results") / "tutorial")
OUT.mkdir(parents=True, exist_ok=True)
FIRMS = 1000

# %% [markdown]
# ## 1. One run
#
# `sim.run_scenario` runs a bundled scenario (or a `.toml` path, or a `Scenario`) with one
# seed. The result holds `countries` (one row per year and country), `flows` (relocated
# firms) and a `manifest` with everything needed to reproduce it.

# %%
result = sim.run_scenario("baseline", seed=1, firms=FIRMS)
summary = result.summary()
print(summary.round(4).head(6))
print(result.countries.columns.tolist())

# %% [markdown]
# `write_results` writes the CSV files, the manifest and the figures (PNG with SVG next to
# it). `RunPlots` chooses countries and a log scale, which keeps small countries readable
# next to China.

# %%
folder = write_results(result, OUT / "baseline", plot=RunPlots(countries=["USA", "CHN", "IND", "VNM", "MEX"],
                                                                scale="log"))
print(sorted(p.name for p in folder.iterdir()))

# %% [markdown]
# A scenario can be changed in code: `with_overrides` takes dotted paths, as the
# experiment files and the command line do. A subsidy rate needs a fund to pay it
# (`ai_fund`, US$ a year); without one, `scenario.warnings` says that no subsidy is paid.

# %%
subsidy = sim.load_scenario("baseline").with_overrides({"countries.USA.ai_subsidy_rate": 0.3,
                                                        "countries.USA.ai_fund": 20e9})
us = sim.run_scenario(subsidy, seed=1, firms=FIRMS).shares["USA"]
print(f"US share in 2050: {100 * result.shares['USA'].iloc[-1]:.2f}% → {100 * us.iloc[-1]:.2f}% with the subsidy")

# %% [markdown]
# ## 2. Compare scenarios over replicates
#
# One seed is one draw of the model's randomness. `compare` runs every scenario with the
# same replicate seeds (common random numbers), so a difference between scenarios is a
# difference of levers; the table gives the mean, the 5–95% range, and the paired
# difference from the first scenario with its range (○ where that range includes zero).

# %%
from sim.experiments.compare import compare  # noqa: E402

cmp = compare(["baseline", "west_reshoring"], replicates=4, firms=FIRMS, year=2040, workers=1)
print(cmp.format_table(["USA", "CHN", "VNM"]))

# %% [markdown]
# `write` saves the table, the replicates, the flows and two figures: scenarios per
# country above their paired differences (`shared_y=True` puts every country on one scale,
# so a small country's change does not look as large as a big one's), and relocations.

# %%
cmp.write(OUT / "compare", shared_y=True)
print(sorted(p.name for p in (OUT / "compare").iterdir()))

# %% [markdown]
# ## 3. A small sweep
#
# An experiment varies levers and uncertainties over a design and measures outcomes. It
# is normally a TOML file in `experiments/`; here it is written inline. `also` makes one
# factor set several paths (one subsidy rate for Germany and the rest of the EU).

# %%
from sim.experiments.analysis import analyze  # noqa: E402
from sim.experiments.experiment import parse_experiment  # noqa: E402
from sim.experiments.sweep import run_sweep  # noqa: E402

EXPERIMENT = """
[experiment]
title = "European AI subsidy and US tariffs (tutorial)"
scenario = "west_reshoring"
design = "lhs"
samples = 16
replicates = 2
seed = 7
firms = 400

[fixed]
"countries.DEU.ai_fund" = 5e9
"countries.XEU.ai_fund" = 15e9

[levers]
"countries.DEU.ai_subsidy_rate" = { min = 0.0, max = 0.5, also = ["countries.XEU.ai_subsidy_rate"] }
"countries.USA.tariffs.CHN" = { values = [0.0, 0.25, 0.6] }

[uncertainties]
"model.theta" = { min = 3.0, max = 8.0 }

[outcomes]
eu_share_2040 = { metric = "production_share", country = ["DEU", "XEU"], year = 2040 }
us_share = { metric = "production_share", country = "USA" }
"""
experiment = parse_experiment(EXPERIMENT, source="tutorial.toml", name="tutorial")
assert not experiment.warnings and not subsidy.warnings
sweep_dir = Path(tempfile.mkdtemp(prefix="sweep-", dir=OUT))
summary = run_sweep(experiment, sweep_dir, workers=1, progress=False)
print(summary.line(experiment.name))

# %% [markdown]
# ## 4. Analysis
#
# `analyze` writes `analysis.md` with tables in `analysis/` and figures in `plots/`. The
# tornado gives each factor's effect in percentage points of share per step of the
# factor (the step is in the label, e.g. "per +0.1" of a subsidy rate), fitted together.

# %%
import pandas as pd  # noqa: E402

report = analyze(sweep_dir)
effects = pd.read_csv(sweep_dir / "analysis" / "per_unit.csv")
print(effects[["outcome", "factor", "per_unit", "lo", "hi"]].round(4))
print(sorted(p.name for p in (sweep_dir / "plots").glob("*.png")))

# %% [markdown]
# ## 5. Figures in code
#
# Every figure is a `matplotlib.figure.Figure` drawn in one style (`sim.plots.style`):
# build one from any tidy table and save it as PNG + SVG. In a notebook, evaluating `fig`
# shows it.

# %%
from sim.experiments.compare import paired_bands  # noqa: E402
from sim.plots import lines_figure, save  # noqa: E402
from sim.plots.compare import compare_figure  # noqa: E402

fig = lines_figure(cmp.bands[cmp.bands["scenario"] == "west_reshoring"], ["USA", "XEU", "MEX", "VNM"],
                   column="production_share", center="mean", band=("p5", "p95"), scale="log",
                   names=cmp.country_names, title="west_reshoring: mean and 5–95% band over 4 replicates")
print(save(fig, OUT / "west_reshoring_shares.png"))

fig = compare_figure(cmp.bands, paired_bands(cmp.runs, cmp.scenarios), cmp.scenarios, ["USA", "MEX"],
                     year=cmp.year, shared_y=False, country_names=cmp.country_names)
print(save(fig, OUT / "usa_mex_compare.png"))
fig  # noqa: B018 (a notebook shows the figure)
