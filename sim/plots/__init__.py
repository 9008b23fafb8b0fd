"""Every figure of FactoryShift, in one style (`sim.plots.style`): PNG with SVG next to it.

* `lines`: a line per country with bands and end labels (run outputs, dashboard)
* `flows`: relocations by country and kind of move (run and compare outputs, dashboard)
* `compare`: scenarios per country with paired differences (compare outputs, dashboard)
* `hindcast`: the hindcast against observed shares
* `calibration`: the calibration's objective profiles
* the figures of `factoryshift analyze` are in `sim.experiments.analysis_plots`, in this style
"""

from sim.plots.calibration import profiles
from sim.plots.hindcast import automation_hindcast, hindcast
from sim.plots.lines import RunPlots, lines_figure, run_figures, trajectories
from sim.plots.style import country_colors, save

__all__ = ["RunPlots", "automation_hindcast", "country_colors", "hindcast", "lines_figure", "profiles", "run_figures",
           "save", "trajectories"]
