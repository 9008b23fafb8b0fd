"""Scenario discovery: PRIM and CART on synthetic data whose box is known, and against the EMA Workbench."""

import numpy as np
import pandas as pd
import pytest

from sim.experiments.prim import cart, make_box, prim


def synthetic(noise: float, seed: int = 7, n: int = 1000):
    """Four uniform inputs; the cases of interest are x0 > 0.6 and x1 < 0.4, a share `noise` of labels flipped."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, 4))
    truth = (X[:, 0] > 0.6) & (X[:, 1] < 0.4)
    return X, truth ^ (rng.uniform(size=n) < noise)


def test_prim_recovers_the_true_box():
    X, y = synthetic(noise=0.0)
    res = prim(pd.DataFrame(X, columns=["x0", "x1", "x2", "x3"]), y, min_density=0.95)
    box = res.box
    assert box.coverage >= 0.95 and box.density >= 0.95
    lim = res.limits().set_index("input")
    assert list(lim.index) == ["x0", "x1"]                    # the noise inputs stay free
    assert abs(lim.loc["x0", "lower"] - 0.6) < 0.02 and abs(lim.loc["x1", "upper"] - 0.4) < 0.02
    assert lim.loc["x0", "qp_lower"] < 1e-10 and lim.loc["x1", "qp_upper"] < 1e-10
    assert np.isnan(lim.loc["x0", "qp_upper"])                # not cut on that side


def test_trajectory_peels_nested_boxes_then_pastes_denser_ones():
    X, y = synthetic(noise=0.05)
    res = prim(X, y)
    phases = [b.phase for b in res.boxes]
    assert phases[0] == "start" and "paste" in phases
    peeled = [b for b in res.boxes if b.phase in ("start", "peel")]
    pasted = [b for b in res.boxes if b.phase == "paste"]
    assert phases == ["start"] + ["peel"] * (len(peeled) - 1) + ["paste"] * len(pasted)
    for a, b in zip(peeled, peeled[1:]):
        assert b.mass < a.mass and b.coverage <= a.coverage
        assert not (b.inside & ~a.inside).any()               # each peel is inside the last box
        assert (b.limits[0] >= a.limits[0]).all() and (b.limits[1] <= a.limits[1]).all()
    assert peeled[-1].mass >= 0.05 - 1 / len(y)
    for a, b in zip([peeled[-1], *pasted], pasted):
        assert b.mass > a.mass and b.density > a.density
    t = res.trajectory
    assert list(t["box"]) == list(range(len(res.boxes)))
    assert res.select(3).box is res.boxes[3] and res.select(3).chosen == 3
    with pytest.raises(IndexError):
        res.select(len(res.boxes))


def test_quasi_p_small_for_true_limits_large_for_noise():
    X, y = synthetic(noise=0.05)
    full = np.vstack([X.min(axis=0), X.max(axis=0)])
    true_box = full.copy()
    true_box[0, 0], true_box[1, 1] = 0.6, 0.4
    noisy = true_box.copy()
    noisy[1, 2] = 0.7                                         # a limit on x2, which plays no part
    box = make_box(X, y, noisy, full)
    assert box.restricted == [0, 1, 2]
    assert box.qp[0][0] < 1e-20 and box.qp[1][1] < 1e-20
    assert box.qp[2][1] > 0.3
    assert np.isnan(box.qp[2][0])


# The EMA Workbench 3.0.0 (ema_workbench.analysis.prim.Prim, defaults: lenient1 objective,
# peel_alpha = paste_alpha = mass_min = 0.05) on synthetic(noise=0.05): its last box.
EMA_LAST_BOX = {
    "boxes": 48, "coverage": 0.722488038277512, "density": 0.9869281045751634,
    "lower": [0.604759688952693, 0.011733161670243852], "upper": [0.9928731186540631, 0.3970074896039212],
    "qp": {0: (3.563409278958368e-50, 0.4297855713595802), 1: (0.43848317815450444, 9.892418012603328e-55)},
}


def test_prim_agrees_with_the_ema_workbench():
    X, y = synthetic(noise=0.05)
    res = prim(X, y)
    last = res.boxes[-1]
    assert len(res.boxes) == EMA_LAST_BOX["boxes"]
    assert last.coverage == pytest.approx(EMA_LAST_BOX["coverage"], rel=1e-12)
    assert last.density == pytest.approx(EMA_LAST_BOX["density"], rel=1e-12)
    np.testing.assert_allclose(last.limits[0, :2], EMA_LAST_BOX["lower"], rtol=1e-12)
    np.testing.assert_allclose(last.limits[1, :2], EMA_LAST_BOX["upper"], rtol=1e-12)
    for j, pair in EMA_LAST_BOX["qp"].items():
        np.testing.assert_allclose(last.qp[j], pair, rtol=1e-9)


def test_prim_agrees_with_a_live_ema_workbench():
    """Dev-only: the whole trajectory, when ema_workbench is installed (pip install ema_workbench)."""
    ema = pytest.importorskip("ema_workbench.analysis.prim")
    for noise in (0.0, 0.05, 0.2):
        X, y = synthetic(noise=noise, seed=11)
        frame = pd.DataFrame(X, columns=["x0", "x1", "x2", "x3"])
        theirs = ema.Prim(frame, y.astype(int), peel_alpha=0.05, paste_alpha=0.05, mass_min=0.05).find_box()
        ours = prim(frame, y).trajectory
        t = theirs.peeling_trajectory
        np.testing.assert_allclose(ours["coverage"], t["coverage"], rtol=1e-12)
        np.testing.assert_allclose(ours["density"], t["density"], rtol=1e-12)
        np.testing.assert_array_equal(ours["restricted"], t["res_dim"])


def test_cart_leaves_partition_the_data_and_find_the_box():
    X, y = synthetic(noise=0.05)
    leaves = cart(X, y, ["x0", "x1", "x2", "x3"], max_depth=3)
    assert sum(leaf.inside.sum() for leaf in leaves) == len(y)
    assert not np.logical_and.reduce([leaf.inside for leaf in leaves]).any()
    assert sum(leaf.coverage for leaf in leaves) == pytest.approx(1.0)
    top = leaves[0]
    assert top.density > 0.9
    assert {r.split()[0] for r in top.rules} == {"x0", "x1"}
    # the cuts of sklearn's DecisionTreeClassifier(max_depth=3, min_samples_leaf=50) on the same data
    assert "x1 ≤ 0.4038" in top.rules and "x0 > 0.6012" in top.rules
