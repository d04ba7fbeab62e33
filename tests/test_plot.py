"""Figures: the plotted numbers are the library's (JSON) numbers, and each PNG is written whole at its fixed size."""

import struct
import subprocess
import sys

import numpy as np
import pytest

from scaleplan import allocate, compare, laws
from scaleplan.core.errors import ScaleplanError
from scaleplan.fit import parametric as fit
from scaleplan.fit import resample
from scaleplan.pipeline import inference
from scaleplan.present import plot

POINTS = 30  # small series keep the whole file at a few seconds


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from the IHDR chunk, which must come first after the PNG signature."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_import_and_series_do_not_load_matplotlib():
    code = (
        "import sys, scaleplan.present.plot as p, scaleplan.present.report\n"
        "p.allocation_series(['epoch', 'kaplan'], 1e21, points=5)\n"
        "p.isoflop_series('chinchilla', 1e21, points=5)\n"
        "print('matplotlib' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# ------------------------------------------------------------------------------------------- allocation series


def test_one_law_marks_are_the_allocate_numbers():
    s = plot.allocation_series(["epoch"], [1e21, 1e23], points=POINTS)
    record = allocate(np.array([1e21, 1e23]), "epoch").to_dict()
    assert s.convention == "native"
    np.testing.assert_array_equal(s.budget_params[0], record["params"])
    np.testing.assert_array_equal(s.budget_tokens[0], record["tokens"])
    # the curve is the same function: its value at a grid budget is allocate's answer there
    np.testing.assert_allclose(s.params[0, 7], allocate(s.flops[7], "epoch").params, rtol=1e-12)


def test_several_laws_are_marked_with_the_compare_rows():
    names = ["epoch", "kaplan", "deepseek"]
    s = plot.allocation_series(names, [1e21, 1e23], points=POINTS)
    rows = compare(names, [1e21, 1e23]).to_dict()["rows"]
    assert s.convention == "total" and s.laws == ("epoch", "kaplan", "deepseek")
    for row in rows:
        i, j = s.laws.index(row["law"]), list(s.budgets).index(row["flops"])
        assert s.budget_params[i, j] == row["params"]
        assert s.budget_tokens[i, j] == row["tokens"]
    assert "Kaplan et al. 2020" in s.labels[1]


def test_fitted_range_is_where_the_line_is_solid():
    s = plot.allocation_series(["chinchilla"], 1e21, points=POINTS)
    low, high = laws.get("chinchilla").fitted_range["flops"]
    np.testing.assert_array_equal(s.in_range[0], (s.flops >= low) & (s.flops <= high))
    assert s.in_range[0].any() and not s.in_range[0].all()


def test_mixed_conventions_need_the_common_one():
    with pytest.raises(ScaleplanError, match="one convention"):
        plot.allocation_series(["epoch", "kaplan"], 1e21, common=False)


# ------------------------------------------------------------------------------------------------- isoFLOP band


@pytest.mark.parametrize("name", ["epoch", "chinchilla", "kaplan"])
def test_band_edges_have_loss_exactly_one_plus_x_times_the_optimum(name):
    law = laws.get(name)
    c = np.array([1e20, 1e23])
    s = plot.isoflop_series(law, c, within=0.005, points=POINTS)
    for k in range(2):
        lo, hi = s.band_params[k]
        assert lo < s.params_opt[k] < hi
        edge_loss = law.loss(s.band_params[k], c[k] / (6.0 * s.band_params[k]))
        np.testing.assert_allclose(edge_loss, 1.005 * s.loss_opt[k], rtol=1e-13)
        # the optimum is the valley's minimum and the curve never dips below it
        assert s.loss[k].min() >= s.loss_opt[k] * (1 - 1e-12)
        for f in (0.99, 1.01):
            n = s.params_opt[k] * f
            assert law.loss(n, c[k] / (6 * n)) > s.loss_opt[k]
    np.testing.assert_array_equal(s.band_loss, 1.005 * s.loss_opt)
    np.testing.assert_array_equal(s.plan_params, allocate(c, law).params)


def test_parametric_optimum_is_the_allocate_answer():
    s = plot.isoflop_series("chinchilla", 1e21, points=POINTS)
    plan = allocate(1e21, "chinchilla")
    np.testing.assert_allclose(s.params_opt[0], plan.params, rtol=1e-14)
    np.testing.assert_allclose(s.loss_opt[0], plan.loss, rtol=1e-14)
    # Chinchilla's printed constants at 1e21: about -46% / +86% of N keep the loss within 0.5%
    np.testing.assert_allclose(s.band_ratio[0], [0.5411, 1.8621], atol=1e-3)


def test_kaplan_frontier_is_not_its_own_loss_minimum():
    s = plot.isoflop_series("kaplan", 1e21, points=POINTS)
    assert s.plan_params[0] == pytest.approx(4.68e9, rel=0.01)  # Table 6 frontier, what allocate answers
    assert s.params_opt[0] > s.plan_params[0] and s.plan_loss[0] > s.loss_opt[0]


def test_isoflop_needs_a_law_with_a_loss_and_a_sane_tolerance():
    with pytest.raises(ScaleplanError, match="no loss"):
        plot.isoflop_series("porian", 1e21)
    with pytest.raises(ScaleplanError, match="within"):
        plot.isoflop_series("epoch", 1e21, within=0)


# ----------------------------------------------------------------------------------------------------- inference


def test_inference_marks_are_the_plan_json_numbers():
    plan = inference.inference_aware(2e12, flops=1e23, law="epoch")
    s = plot.inference_series(plan, points=POINTS, demand_points=8)
    record = plan.to_dict()
    assert s.aware_params[0] == record["inference_aware"]["params"]
    assert s.aware_total[0] == record["inference_aware"]["total_flops"]
    assert s.compute_optimal_params[0] == record["compute_optimal"]["params"]
    assert s.compute_optimal_total[0] == record["compute_optimal"]["total_flops"]
    # the inference-aware model is the minimum of the plotted total-cost curve
    assert s.total[0].min() >= s.aware_total[0] * (1 - 1e-12)
    np.testing.assert_allclose(s.total, s.training + s.inference, rtol=1e-12)
    # training tokens along the curve all reach the target loss
    np.testing.assert_allclose(laws.get("epoch").loss(s.params, s.tokens), record["loss"], rtol=1e-12)
    assert np.all(np.diff(s.sweep_params) < 0)  # more demand, smaller model


def test_inference_in_dollars_marks_dollars():
    plan = inference.inference_aware([1e11, 1e13], flops=1e22, law="chinchilla", objective="cost")
    s = plot.inference_series(plan, points=POINTS, demand_points=8)
    assert s.measure == "dollars"
    np.testing.assert_array_equal(s.aware_total, plan.to_dict()["inference_aware"]["cost"]["total_dollars"])
    assert s.params.shape == (2, POINTS)


# ------------------------------------------------------------------------------------------------------------ fit


@pytest.fixture(scope="module")
def fitted():
    law = laws.get("chinchilla")
    rng = np.random.default_rng(0)
    c = np.repeat([1e18, 1e19, 1e20], 5)
    n = np.tile(np.geomspace(0.3, 3.0, 5), 3) * law.optimum(c)[0]
    d = c / (6 * n)
    loss = law.loss(n, d) * np.exp(rng.normal(0, 0.003, n.size))
    runs = fit.Runs.from_arrays(n, loss, tokens=d, source="synthetic.csv")
    f = fit.fit_parametric(runs)
    return runs, f, resample.bootstrap(runs, n=12, fit=f, budgets=(1e21, 1e23))


def test_fit_series_plots_the_fit_and_bootstrap_numbers(fitted):
    runs, f, boot = fitted
    s = plot.fit_series(runs, f, boot, points=POINTS, grid_points=POINTS)
    np.testing.assert_array_equal(s.residuals, f.residuals)
    assert sorted(set(s.level.tolist())) == [0, 1, 2]  # the three designed FLOP levels
    np.testing.assert_allclose(s.level_flops, [1e18, 1e19, 1e20], rtol=1e-12)
    np.testing.assert_allclose(s.curve_opt_params, f.optimum(s.level_flops)[0], rtol=1e-14)
    # the band, evaluated at the bootstrap's budgets, is the JSON's intervals
    band = plot.nopt_band(boot.samples, list(boot.budgets), boot.levels)
    for j, row in enumerate(boot.to_dict()["allocation"]):
        for level, (lo, hi) in row["intervals"]["params"].items():
            np.testing.assert_allclose(band[level][:, j], [lo, hi], rtol=1e-12)
    assert s.marks == tuple(boot.to_dict()["allocation"])


# ------------------------------------------------------------------------------------------- PNG files


def test_allocate_figure_with_valley(tmp_path):
    path = plot.save_plan_figure(allocate(1e21, "epoch"), tmp_path / "alloc.png", points=POINTS)
    assert png_size(path.read_bytes()) == plot.SIZES["allocation+isoflop"] == (1600, 1400)


def test_compare_figure(tmp_path):
    comparison = compare(["epoch", "kaplan", "porian"], [1e20, 1e22])
    path = plot.save_comparison_figure(comparison, tmp_path / "compare.png", points=POINTS)
    assert png_size(path.read_bytes()) == plot.SIZES["allocation"] == (1600, 800)


def test_inference_figure(tmp_path):
    plan = inference.inference_aware(2e12, flops=1e22, law="epoch")
    path = plot.save_inference_figure(plan, tmp_path / "inference.png", points=POINTS)
    assert png_size(path.read_bytes()) == plot.SIZES["inference"]


def test_fit_figure(tmp_path, fitted):
    runs, f, boot = fitted
    path = plot.save_fit_figure(runs, f, tmp_path / "fit.png", boot=boot)
    assert png_size(path.read_bytes()) == plot.SIZES["fit"]


def test_isoflop_figure_and_no_temporary_files(tmp_path):
    plot.plot_isoflop(plot.isoflop_series("kaplan", 1e21, points=POINTS), tmp_path / "valley.png")
    assert [p.name for p in tmp_path.iterdir()] == ["valley.png"]
    assert png_size((tmp_path / "valley.png").read_bytes()) == plot.SIZES["isoflop"]


def test_a_figure_never_replaces_an_input(tmp_path):
    source = tmp_path / "runs.png"
    source.write_bytes(b"my data")
    series = plot.allocation_series("epoch", 1e21, points=5)
    with pytest.raises(ScaleplanError, match="input"):
        plot.plot_allocation(series, source, inputs=[source])
    assert source.read_bytes() == b"my data"


def test_the_file_name_must_say_png(tmp_path):
    with pytest.raises(ScaleplanError, match=r"\.png"):
        plot.save_plan_figure(allocate(1e21, "epoch"), tmp_path / "plot.pdf")
    assert not list(tmp_path.iterdir())


def test_a_failed_write_leaves_nothing(tmp_path, monkeypatch):
    old = tmp_path / "alloc.png"
    old.write_bytes(b"old figure")

    def boom(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.replace", boom)
    with pytest.raises(ScaleplanError, match="No space left"):
        plot.plot_isoflop(plot.isoflop_series("epoch", 1e21, points=5), old, force=True)
    assert old.read_bytes() == b"old figure" and [p.name for p in tmp_path.iterdir()] == ["alloc.png"]
