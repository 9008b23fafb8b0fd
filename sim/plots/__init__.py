"""Every figure of FactoryShift, in one style (`sim.plots.style`): PNG with SVG next to it.

* `lines`: a line per country with bands and end labels (run outputs, dashboard)
* `flows`: relocations by country and kind of move (run and compare outputs, dashboard)
* `compare`: scenarios per country with paired differences (compare outputs, dashboard)
* `hindcast`: the hindcast against observed shares
* the figures of `factoryshift analyze` are in `sim.experiments.analysis_plots`, in this style
"""

from sim.plots.hindcast import hindcast
from sim.plots.lines import RunPlots, lines_figure, run_figures, trajectories
from sim.plots.style import country_colors, save

__all__ = ["RunPlots", "country_colors", "hindcast", "lines_figure", "run_figures", "save", "trajectories"]
