"""Figures (sim.plots): what they show, not only that they are drawn.

Labels at the line ends of their lines, never overlapping, inside the axes; log scale and
country selection; replicate bands; compare's shared y axis, reference line, paired
difference panels and the ○ mark shared with the table; tornado units and names; the
relocation figure by kind; legends clear of the curves.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection

from sim.api import run_scenario, write_results
from sim.cli import main
from sim.experiments.compare import ZERO_MARK, compare, paired_bands
from sim.plots import RunPlots, style
from sim.plots.compare import compare_figure
from sim.plots.flows import gross_by_kind, relocation_figure
from sim.plots.lines import lines_figure, run_table

FIRMS = 400


@pytest.fixture(scope="module")
def run():
    return run_scenario("baseline", seed=3, firms=FIRMS)


@pytest.fixture(scope="module")
def cmp():
    return compare(["baseline", "west_reshoring", "west_reshoring_with_ai"], replicates=3, firms=FIRMS, year=2040,
                   workers=1)


def shares_figure(result, options=None):
    options = options or RunPlots()
    codes = list(result.model.state.codes)
    table, center, band, _ = run_table(result, "production_share", options)
    return lines_figure(table, options.countries or codes, column="production_share", center=center, band=band,
                        names=dict(zip(codes, result.model.state.names)), scale=options.scale)


def px(ax, x, y):
    return ax.transData.transform((x, y))


def label_geometry(fig):
    ax = fig.axes[0]
    fig.canvas.draw()
    gap = 1.2 * style.LABEL_FONT * fig.dpi / 72
    out = {}
    for note in fig.fs_labels:
        end = px(ax, *note.fs_end)
        label = px(ax, *note.xy)
        out[note.fs_key] = (end, label, gap)
    return out


# --------------------------------------------------------------------------- placement
def test_spread_keeps_order_gap_and_bounds():
    assert np.allclose(style.spread([5.0, 5.0], 2.0, 0, 100), [4.0, 6.0])      # least squares: symmetric
    assert np.allclose(style.spread([10, 50, 90], 5.0, 0, 100), [10, 50, 90])  # room: labels stay put
    ys = style.spread([1, 1.5, 2, 2.2, 60], 3.0, 0, 100)
    assert np.all(np.diff(ys) >= 3.0 - 1e-9) and ys[0] >= 0 and ys[-1] <= 100
    assert ys[-1] == 60                                                          # the far label does not move
    assert np.allclose(style.spread([0, 0, 0], 4.0, 0, 100), [0, 4, 8])        # pushed up from the floor
    assert style.spread(np.zeros(30), 4.0, 0, 100) is None                       # does not fit: None
    rng = np.random.default_rng(0)
    t = rng.uniform(0, 100, 12)
    ys = style.spread(t, 6.0, 0, 100)
    assert list(np.argsort(ys)) == list(np.argsort(t))                           # order of the targets


def test_end_labels_stay_on_their_lines(run):
    """Every label is at its line's last value, or moved just enough and joined by a leader line."""
    fig = shares_figure(run)
    ax = fig.axes[0]
    geometry = label_geometry(fig)
    assert set(geometry) == set(run.model.state.codes)
    last = run.countries[run.countries["year"] == run.countries["year"].max()].set_index("country")
    box = ax.get_window_extent()
    ys = []
    for code, (end, label, gap) in geometry.items():
        assert end[1] == pytest.approx(px(ax, 2050, 100 * last.loc[code, "production_share"])[1])
        assert box.y0 <= label[1] <= box.y1                       # inside the axes: no label below 0%
        if abs(label[1] - end[1]) > 0.25 * gap:                   # moved: a leader line starts at the line's end
            starts = [ln.get_xydata()[0] for ln in ax.lines if len(ln.get_xydata()) == 4]
            assert any(np.allclose(px(ax, *s), end, atol=0.5) for s in starts), code
        ys.append(label[1])
    # never farther than the crowd requires: at most the whole stack of labels away
    assert max(abs(lbl[1] - e[1]) for e, lbl, _ in geometry.values()) <= len(geometry) * geometry["CHN"][2]
    # the isolated leader (China) keeps its label exactly at its line
    end, label, gap = geometry["CHN"]
    assert abs(label[1] - end[1]) < 0.25 * gap
    assert style.overlaps(fig.fs_labels) == []


def test_log_scale_separates_small_countries(run):
    fig = shares_figure(run, RunPlots(scale="log"))
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    geometry = label_geometry(fig)
    # on a log axis the small countries are apart: most labels sit at their line's end
    on_line = [abs(lbl[1] - e[1]) < gap for e, lbl, gap in geometry.values()]
    assert sum(on_line) >= len(on_line) - 3
    assert style.overlaps(fig.fs_labels) == []


def test_selected_countries_get_their_own_scale(run):
    fig = shares_figure(run, RunPlots(countries=["VNM", "MEX"]))
    ax = fig.axes[0]
    assert [n.fs_key for n in fig.fs_labels] == ["VNM", "MEX"]
    assert len([ln for ln in ax.lines if len(ln.get_xdata()) > 4]) == 2
    top = 100 * run.countries[run.countries["country"].isin(["VNM", "MEX"])]["production_share"].max()
    assert ax.get_ylim()[1] < 1.2 * top                      # not squashed under China's 45%


def test_legend_by_last_value_when_labels_do_not_fit():
    years = np.arange(2024, 2031)
    codes = [f"C{i:02d}" for i in range(40)]
    table = pd.DataFrame([(y, c, 0.01 * (i % 7) + 0.001 * i) for c, i in zip(codes, range(40)) for y in years],
                         columns=["year", "country", "value"])
    fig = lines_figure(table, codes, column="production_share", size=(6, 3))
    legend = fig.axes[0].get_legend()
    assert fig.fs_labels == [] and legend is not None
    shown = [t.get_text().split()[0] for t in legend.get_texts()]
    last = table[table["year"] == 2030].set_index("country")["value"]
    assert shown == list(last.sort_values(ascending=False, kind="stable").index)
    fig.canvas.draw()
    assert not legend.get_window_extent().overlaps(fig.axes[0].get_window_extent())


def test_cli_run_replicates_bands_and_svg(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["run", "baseline", "--firms", "300", "--until", "2030", "--replicates", "3", "--countries",
                 "USA,VNM", "--scale", "log", "--out", str(out)]) == 0
    for stem in ("shares", "automation", "relocations"):
        assert (out / f"{stem}.png").stat().st_size > 5000 and (out / f"{stem}.svg").stat().st_size > 5000
    svg = (out / "shares.svg").read_text()
    assert "3 replicates" in svg and "Vietnam" in svg and "China" not in svg
    assert main(["run", "baseline", "--countries", "XYZ", "--out", str(tmp_path / "bad")]) == 2
    assert "unknown country 'XYZ'" in capsys.readouterr().err


def test_replicate_bands_hold_the_mean():
    result = run_scenario("baseline", seed=2, firms=300, until=2030)
    reps = compare(["baseline"], replicates=4, firms=300, workers=1, base_seed=2).runs
    reps = reps[reps["year"] <= 2030]
    fig = shares_figure(result, RunPlots(replicates=reps, countries=["USA"]))
    ax = fig.axes[0]
    assert len([c for c in ax.collections if isinstance(c, PolyCollection)]) == 1
    mean = 100 * reps[(reps["country"] == "USA") & (reps["year"] == 2030)]["production_share"].mean()
    assert fig.fs_labels[0].fs_end[1] == pytest.approx(mean)


# --------------------------------------------------------------------------- compare
def test_compare_shared_y_and_difference_panels(cmp):
    diffs = paired_bands(cmp.runs, cmp.scenarios)
    own = compare_figure(cmp.bands, diffs, cmp.scenarios, ["CHN", "VNM"], year=cmp.year)
    shared = compare_figure(cmp.bands, diffs, cmp.scenarios, ["CHN", "VNM"], year=cmp.year, shared_y=True)
    assert own.fs_levels[0].get_ylim() != own.fs_levels[1].get_ylim()
    assert shared.fs_levels[0].get_ylim() == shared.fs_levels[1].get_ylim()
    assert shared.fs_differences[0].get_ylim() == shared.fs_differences[1].get_ylim()
    lo, hi = shared.fs_levels[0].get_ylim()
    assert lo < 1 and hi > 25                                 # Vietnam (< 1%) on China's scale (> 25%)
    table = cmp.table.set_index(["scenario", "country"])
    for ax, code in zip(own.fs_differences, ["CHN", "VNM"]):
        reference = [ln for ln in ax.lines
                     if ln.get_color() == "black" and ln.get_zorder() == style.REFERENCE["zorder"]]
        assert len(reference) == 1 and set(reference[0].get_ydata()) == {0}        # the reference is zero
        marks = [ln for ln in ax.lines if ln.get_marker() == "o"]
        assert len(marks) == 2
        for mark, name in zip(marks, cmp.scenarios[1:]):
            row = table.loc[(name, code)]
            assert mark.get_ydata()[0] == pytest.approx(row["diff_pp"])             # the table's statistic
            assert (mark.get_markerfacecolor() == "white") == bool(row["diff_range_has_zero"])


def test_reference_visible_when_scenarios_coincide(tmp_path):
    twin = tmp_path / "twin.toml"
    twin.write_text('extends = "baseline"\n')
    result = compare(["baseline", twin], replicates=2, firms=FIRMS, workers=1)
    fig = compare_figure(result.bands, paired_bands(result.runs, result.scenarios), result.scenarios, ["USA"],
                         year=result.year)
    ax = fig.fs_levels[0]
    ref = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    others = [ln for ln in ax.lines if ln.get_linestyle() == "-"]
    assert len(ref) == 1 and ref[0].get_zorder() > max(ln.get_zorder() for ln in others)
    np.testing.assert_allclose(ref[0].get_ydata(), others[0].get_ydata())        # same curve, reference on top


def test_table_marks_ranges_that_include_zero(cmp):
    text = cmp.format_table()
    table = cmp.table.set_index(["country", "scenario"])
    for line in text.splitlines()[2:]:
        code, name = line.split()[:2]
        if name == "baseline":
            assert ZERO_MARK not in line
        else:
            assert (ZERO_MARK in line) == bool(table.loc[(code, name), "diff_range_has_zero"])
    assert cmp.table.loc[cmp.table["scenario"] == "baseline", "diff_range_has_zero"].all()


def test_compare_writes_both_figures(cmp, tmp_path):
    cmp.write(tmp_path, shared_y=True)
    for name in ("compare.png", "compare.svg", "relocations.png", "relocations.svg", "flows.csv"):
        assert (tmp_path / name).is_file(), name
    assert "one y scale for all countries" in (tmp_path / "compare.svg").read_text()


# --------------------------------------------------------------------------- relocations
def flows_with_kinds():
    return pd.DataFrame({"year": [2030, 2030, 2031, 2032], "hq": ["USA", "USA", "DEU", "CHN"],
                         "origin": ["CHN", "CHN", "CHN", "CHN"], "destination": ["USA", "MEX", "VNM", "VNM"],
                         "kind": ["reshoring", "nearshoring", "third_country", "offshoring"],
                         "firms": [5, 3, 2, 4]})


def test_relocation_balance_by_kind():
    codes = ["CHN", "USA", "MEX", "VNM", "DEU"]
    inflow, outflow = gross_by_kind(flows_with_kinds(), codes)
    assert list(inflow.columns) == ["reshoring", "nearshoring", "offshoring", "third_country"]
    assert inflow.loc["USA", "reshoring"] == 5 and inflow.loc["VNM"].sum() == 6
    assert outflow.loc["CHN"].sum() == 14 and outflow.loc["USA"].sum() == 0
    fig = relocation_figure({"run": flows_with_kinds()}, codes, {}, {}, "t", yearly=flows_with_kinds())
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["reshoring", "nearshoring", "offshoring", "third country", "net (in − out)"]
    net = fig.axes[0].collections[0].get_offsets()[:, 0]
    assert list(net) == [-14, 5, 3, 6, 0]                         # in − out per country, in order
    # old flows (no kind): one kind, "relocations"
    inflow, _ = gross_by_kind(flows_with_kinds().drop(columns=["kind", "hq"]), codes)
    assert list(inflow.columns) == ["relocations"]


def test_run_writes_relocations(run, tmp_path):
    write_results(run, tmp_path, plot=RunPlots(countries=["USA", "CHN"]))
    assert (tmp_path / "relocations.png").is_file() and (tmp_path / "relocations.svg").is_file()


# --------------------------------------------------------------------------- analyze
def test_tornado_full_names_and_pp_per_step():
    from sim.experiments.analysis_plots import lever_name, step, tornado_figure, tornado_table
    from sim.experiments.designs import Factor
    from sim.experiments.outcomes import Outcome

    both = Factor("countries.DEU.ai_subsidy_rate", lo=0.0, hi=0.5, also=("countries.XEU.ai_subsidy_rate",))
    theta = Factor("model.theta", role="uncertainty", lo=3.0, hi=8.0)
    mixed = Factor("countries.USA.tariffs.CHN", values=(0.0, 0.6), also=("countries.XEU.coordination",))
    assert lever_name(both) == "DEU+XEU.ai_subsidy_rate" and lever_name(theta) == "theta"
    assert lever_name(mixed) == "USA.tariffs.CHN + XEU.coordination"
    assert (step(both), step(theta), step(mixed)) == (0.1, 1.0, 0.1)
    outcome = Outcome("eu_share", "production_share", ("DEU", "XEU"), year=2040)
    part = pd.DataFrame({"factor": [both.path, theta.path], "role": ["lever", "uncertainty"],
                         "per_unit": [0.02, -0.001], "lo": [0.01, -0.002], "hi": [0.03, 0.0]})
    table = tornado_table(part, outcome, [both, theta])
    row = table.set_index("factor").loc[both.path]
    assert row["effect"] == pytest.approx(100 * 0.1 * 0.02) and row["unit"] == "pp"   # pp per +0.1
    assert "DEU+XEU.ai_subsidy_rate" in row["label"] and "+0.1" in row["label"]
    fig = tornado_figure(table, outcome, 0.6)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert any(lbl.startswith("DEU+XEU.ai_subsidy_rate") for lbl in labels)
    assert "(pp)" in ax.get_xlabel()
    fig.canvas.draw()
    legend = fig.legends[0]
    assert [t.get_text() for t in legend.get_texts()][:2] == ["raises the outcome", "lowers the outcome"]
    assert not legend.get_window_extent().overlaps(ax.get_window_extent())
