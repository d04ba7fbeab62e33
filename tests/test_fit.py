"""Tests for scaleplan.fit.parametric: golden values from Besiroglu et al. 2024, synthetic recovery, bad input.

Golden values: Besiroglu, Erdil, Barnett & You 2024, "Chinchilla Scaling: A replication attempt",
arXiv 2404.10102; repository epoch-research/analyzing-chinchilla (commit 92258837), data_analysis.ipynb
cell 18 (plain Huber-sum L-BFGS-B grid fit: A 477.84, B 2143.86, E 1.81724, alpha 0.34731, beta 0.36718,
objective 0.00101827) and the bootstrap percentile CIs of its final estimates (alpha 95% (0.317, 0.373),
beta (0.331, 0.415), E (1.769, 1.871)). See shared/reference/laws-compute.md section 3.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from scaleplan.core.errors import ScaleplanError
from scaleplan.fit import parametric as fit
from scaleplan.fit import resample
from scaleplan.laws import law_from_dict

EPOCH_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "svg_extracted_data.csv"
# Chinchilla's unrounded constants (TeX source, as used by Epoch), a law with alpha != beta
TEX = {"E": 1.69337, "A": 406.401, "B": 410.723, "alpha": 0.33917084, "beta": 0.2849083}


def law_loss(c, n, d):
    return c["E"] + c["A"] / np.asarray(n, float) ** c["alpha"] + c["B"] / np.asarray(d, float) ** c["beta"]


@pytest.fixture(scope="module")
def epoch_runs(shared_data):
    # shared_data: skips without ../shared/data, and fails instead in CI (see conftest.py)
    if not EPOCH_DATA.exists():
        pytest.skip(f"Epoch data not found at {EPOCH_DATA}")
    return fit.load_runs(EPOCH_DATA, drop_worst=5)


@pytest.fixture(scope="module")
def epoch_fit(epoch_runs):
    return fit.fit_parametric(epoch_runs)


@pytest.fixture(scope="module")
def epoch_boot(epoch_runs, epoch_fit):
    return resample.bootstrap(epoch_runs, n=100, seed=1, fit=epoch_fit)


def synthetic_runs(c, sigma, seed=0):
    n = np.repeat(np.geomspace(7e7, 1.6e10, 8), 6)
    d = n * np.tile(np.geomspace(2, 300, 6), 8)
    noise = np.random.default_rng(seed).normal(0.0, sigma, n.size)
    return fit.Runs.from_arrays(n, law_loss(c, n, d) * np.exp(noise), tokens=d, source="<synthetic>")


# ------------------------------------------------------------------------------------- Epoch golden


def test_epoch_data_loads_as_in_the_replication(epoch_runs):
    # 245 rows; the 5 highest-loss runs (loss >= 3.446995) are the first five rows of the file
    assert epoch_runs.n == 240
    assert epoch_runs.dropped_rows == (1, 2, 3, 4, 5)
    assert epoch_runs.columns == {"params": "Model Size", "flops": "Training FLOP", "loss": "loss"}
    assert epoch_runs.tokens_from_flops
    np.testing.assert_allclose(epoch_runs.tokens, epoch_runs.flops / (6 * epoch_runs.params))
    assert epoch_runs.loss.max() < 3.446995


def test_epoch_huber_grid_fit(epoch_fit):
    """arXiv 2404.10102, repo notebook cell 18: the Huber-sum grid fit, to 1e-3 relative."""
    expected = {"A": 477.84, "B": 2143.86, "E": 1.81724, "alpha": 0.34731, "beta": 0.36718}
    for key, value in expected.items():
        assert getattr(epoch_fit, key) == pytest.approx(value, rel=1e-3), key
    assert epoch_fit.objective == pytest.approx(0.00101827, rel=1e-5)
    assert epoch_fit.converged and not epoch_fit.warnings
    # the paper's printed E (1.8172) is this fit's E to its printed digits
    assert round(epoch_fit.E, 4) == 1.8172
    # paper Table 1 (1.8172, 482.01, 2085.43, 0.3478, 0.3658; SEs 0.03, 124.58, 1293.23, 0.02, 0.02):
    # the Huber-sum fit lies well inside a tenth of a standard error of each
    paper = {
        "E": (1.8172, 0.03),
        "A": (482.01, 124.58),
        "B": (2085.43, 1293.23),
        "alpha": (0.3478, 0.02),
        "beta": (0.3658, 0.02),
    }
    for key, (value, se) in paper.items():
        assert abs(getattr(epoch_fit, key) - value) < 0.1 * se, key
    assert epoch_fit.a == pytest.approx(0.5126, abs=0.002)  # paper: a = 0.5126 (SE 0.02)
    assert epoch_fit.a + epoch_fit.b == pytest.approx(1.0)


def test_epoch_fit_outputs(epoch_fit):
    out = epoch_fit.to_dict()
    json.dumps(out, allow_nan=False)
    assert set(out) >= {"E", "A", "B", "alpha", "beta", "a", "b", "objective", "allocation", "residuals"}
    assert len(out["residuals"]["values"]) == 240
    assert out["residuals"]["rms"] < 0.05
    at_1e21 = out["allocation"][0]
    assert at_1e21["flops"] == 1e21
    # eq. 4 with the paper constants gives 21.6 tokens/param at 1e21 (laws-compute.md); this fit ~21.4
    assert at_1e21["tokens_per_param"] == pytest.approx(21.6, rel=0.03)
    assert 6 * at_1e21["params"] * at_1e21["tokens"] == pytest.approx(1e21)


def test_epoch_bootstrap_near_published_intervals(epoch_runs, epoch_fit, epoch_boot):
    boot = epoch_boot
    assert boot.samples.shape == (100, 5)
    for key in ("E", "A", "B", "alpha", "beta", "a", "b"):
        for level in ("80%", "95%"):
            lo, hi = boot.intervals[key][level]
            assert lo <= boot.point[key] <= hi, (key, level)
        assert boot.intervals[key]["80%"][0] >= boot.intervals[key]["95%"][0]
    # Epoch's 95% percentile intervals from 4,000 resamples (n = 100 here, so generous tolerances)
    published = {"alpha": ((0.317, 0.373), 0.02), "beta": ((0.331, 0.415), 0.02), "E": ((1.769, 1.871), 0.03)}
    for key, ((lo, hi), tol) in published.items():
        got = boot.intervals[key]["95%"]
        assert got[0] == pytest.approx(lo, abs=tol) and got[1] == pytest.approx(hi, abs=tol), key
    # bootstrap SEs (paper: alpha 0.02, beta 0.02, E 0.03; repo: 0.0154, 0.0206, 0.0257)
    assert 0.008 < boot.se["alpha"] < 0.025 and 0.01 < boot.se["beta"] < 0.03 and 0.012 < boot.se["E"] < 0.04
    for row in boot.allocation:
        for key in ("params", "tokens", "tokens_per_param"):
            lo, hi = row["intervals"][key]["95%"]
            assert lo <= row[key] <= hi
    json.dumps(boot.to_dict(), allow_nan=False)


def test_bootstrap_is_reproducible_and_reports_progress(epoch_runs, epoch_fit):
    calls = []
    b1 = resample.bootstrap(epoch_runs, n=5, seed=3, fit=epoch_fit, progress=lambda i, n: calls.append((i, n)))
    b2 = resample.bootstrap(epoch_runs, n=5, seed=3, fit=epoch_fit)
    # the refits run together, in batches: progress is reported after each batch, up to all of them
    assert calls and calls[-1] == (5, 5) and [i for i, _ in calls] == sorted(i for i, _ in calls)
    np.testing.assert_array_equal(b1.samples, b2.samples)


def test_saved_law_is_a_valid_law_file(tmp_path, epoch_runs, epoch_fit, epoch_boot):
    raw = fit.law_dict(epoch_fit, epoch_boot, epoch_runs, name="mine")
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    assert path.stat().st_size < 20_000  # covariance, not 1,000 samples
    law = law_from_dict(yaml.safe_load(path.read_text(encoding="utf-8")), str(path))
    assert law.form == "parametric" and law.name == "mine"
    assert law.constants == pytest.approx(epoch_fit.constants)
    n, d = law.optimum(np.array([1e21, 1e23]))
    n0, d0 = epoch_fit.optimum(np.array([1e21, 1e23]))
    np.testing.assert_allclose(n, n0)
    np.testing.assert_allclose(d, d0)
    assert law.fitted_range["params"] == pytest.approx((epoch_runs.params.min(), epoch_runs.params.max()))
    assert law.intervals["alpha"]["95%"] == pytest.approx(list(epoch_boot.intervals["alpha"]["95%"]))
    cov = np.array(law.fit["bootstrap"]["covariance"])
    assert cov.shape == (5, 5) and np.all(np.linalg.eigvalsh(cov) > 0)
    assert law.fit["data"]["n_runs"] == 240 and law.fit["data"]["dropped_rows"] == [1, 2, 3, 4, 5]
    assert "own fit" in law.citation["authors"]


# ------------------------------------------------------------------------------------ synthetic data


def test_exact_synthetic_data_is_recovered():
    f = fit.fit_parametric(synthetic_runs(TEX, sigma=0.0))
    for key, value in TEX.items():
        assert getattr(f, key) == pytest.approx(value, rel=1e-4), key
    assert f.objective < 1e-12


def test_noisy_synthetic_data_is_recovered():
    f = fit.fit_parametric(synthetic_runs(TEX, sigma=0.002, seed=4))
    assert f.alpha == pytest.approx(TEX["alpha"], abs=0.01)
    assert f.beta == pytest.approx(TEX["beta"], abs=0.01)
    assert f.E == pytest.approx(TEX["E"], rel=0.01)
    assert f.a == pytest.approx(TEX["beta"] / (TEX["alpha"] + TEX["beta"]), abs=0.01)


def test_isoflop_recovers_exponent_from_a_designed_sweep(tmp_path):
    """Approach 2 on isoFLOP data from a known law (sizes centred on another law's optimum)."""
    sweep = fit.design_sweep(1e23, 1e21)
    csv_path = tmp_path / "sweep.csv"
    lines = sweep.csv_text().splitlines()
    rng = np.random.default_rng(0)
    filled = [lines[0]]
    for line in lines[1:]:  # fill in the loss column as a user would
        level, flops, n, d, _ = line.split(",")
        loss = law_loss(TEX, float(n), float(d)) * math.exp(rng.normal(0, 5e-4))
        filled.append(f"{level},{flops},{n},{d},{loss:.6f}")
    csv_path.write_text("\n".join(filled) + "\n", encoding="utf-8")
    runs = fit.load_runs(csv_path)
    assert runs.n == len(sweep.rows) and not runs.tokens_from_flops
    iso = fit.fit_isoflop(runs)
    assert len(iso.levels) == 5 and not iso.skipped
    a_true = TEX["beta"] / (TEX["alpha"] + TEX["beta"])
    assert iso.a == pytest.approx(a_true, abs=0.01)
    assert iso.a + iso.b == pytest.approx(1.0, abs=1e-6)  # D_opt = C / (6 N_opt)
    n_opt, _ = iso.optimum(1e21)
    g = (TEX["alpha"] * TEX["A"] / (TEX["beta"] * TEX["B"])) ** (1 / (TEX["alpha"] + TEX["beta"]))
    assert n_opt == pytest.approx(g * (1e21 / 6) ** a_true, rel=0.05)
    raw = fit.law_dict(iso, runs=runs, name="iso")
    law = law_from_dict(yaml.safe_load(yaml.safe_dump(raw)), "iso.yaml")
    assert law.form == "power" and law.exponents == pytest.approx((iso.a, iso.b))


def test_isoflop_needs_levels_with_a_minimum():
    runs = synthetic_runs(TEX, sigma=0.0)  # a grid of sizes x ratios: no two runs share a FLOP level
    with pytest.raises(ScaleplanError, match="at least 2 FLOP levels"):
        fit.fit_isoflop(runs)


# ------------------------------------------------------------------------------------------ bad input


def write_csv(tmp_path, rows, header="params,tokens,loss", name="runs.csv"):
    path = tmp_path / name
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


GOOD = ["1e8,2e9,3.1", "2e8,4e9,2.9", "4e8,8e9,2.7", "8e8,1.6e10,2.55", "1.6e9,3.2e10,2.4", "3.2e9,6.4e10,2.3"]


def test_good_small_file_loads(tmp_path):
    runs = fit.load_runs(write_csv(tmp_path, GOOD))
    assert runs.n == 6 and runs.flops == pytest.approx(6 * runs.params * runs.tokens)
    assert runs.sha256 and len(runs.sha256) == 64


@pytest.mark.parametrize(
    ("rows", "header", "kwargs", "pattern"),
    [
        (GOOD[:4], "params,tokens,loss", {}, r"4 run\(s\).*at least 5 runs"),
        (GOOD, "params,tokens,loss", {"drop_worst": 2}, r"after dropping the 2 worst.*at least 5"),
        (
            [f"1e9,{2e9 * (i + 1)},{3 - 0.1 * i}" for i in range(6)],
            "params,tokens,loss",
            {},
            r"same params.*column 'params'",
        ),
        (GOOD[:3] + ["8e8,1.6e10,-2.5"] + GOOD[4:], "params,tokens,loss", {}, r"row 4 \(line 5\): column 'loss'.*-2.5"),
        (GOOD[:2] + ["4e8,8e9,nan"] + GOOD[3:], "params,tokens,loss", {}, r"row 3 \(line 4\): column 'loss'"),
        (GOOD[:2] + ["4e8,8e9,inf"] + GOOD[3:], "params,tokens,loss", {}, r"row 3 .*column 'loss'"),
        (GOOD[:1] + ["2e8,,2.9"] + GOOD[2:], "params,tokens,loss", {}, r"row 2 .*column 'tokens' is empty"),
        (GOOD[:1] + ["abc,4e9,2.9"] + GOOD[2:], "params,tokens,loss", {}, r"row 2 .*column 'params'.*'abc'"),
        (
            [r.rsplit(",", 1)[0] for r in GOOD],
            "params,tokens",
            {},
            r"missing column for loss.*columns present: params, tokens",
        ),
        ([r.split(",", 1)[1] for r in GOOD], "tokens,loss", {}, r"missing column for params"),
        ([",".join(r.split(",")[::2]) for r in GOOD], "params,loss", {}, r"missing column for tokens or flops"),
        (GOOD, "params,tokens,loss", {"columns": {"loss": "val"}}, r"no column 'val' \(for loss\)"),
        (GOOD, "params,tokens,loss", {"columns": {"size": "params"}}, r"unknown field 'size'"),
        (GOOD, "params,tokens,loss", {"drop_worst": -1}, r"drop_worst must be"),
    ],
)
def test_bad_input_names_the_row_or_column(tmp_path, rows, header, kwargs, pattern):
    with pytest.raises(ScaleplanError, match=pattern):
        fit.load_runs(write_csv(tmp_path, rows, header), **kwargs)


def test_bad_files(tmp_path):
    with pytest.raises(ScaleplanError, match=r"unknown file type '\.txt'"):
        fit.load_runs(write_csv(tmp_path, GOOD, name="runs.txt"))
    with pytest.raises(ScaleplanError, match="no such file"):
        fit.load_runs(tmp_path / "absent.csv")
    bad = tmp_path / "runs.jsonl"
    bad.write_text('{"params": 1e8, "tokens": 2e9, "loss": 3.1}\n{"params": 2e8,\n', encoding="utf-8")
    with pytest.raises(ScaleplanError, match=r"runs.jsonl, line 2: not valid JSON"):
        fit.load_runs(bad)
    bad = tmp_path / "runs.yaml"
    bad.write_text("runs: [{params: 1e8, tokens: 2e9, loss: 3.1}, {params: 2e8, loss: 2.9}]\n", encoding="utf-8")
    with pytest.raises(ScaleplanError, match=r"runs\[1\]: missing value for column 'tokens'"):
        fit.load_runs(bad)
    with pytest.raises(ScaleplanError, match=r"row 3: loss must be a positive finite number"):
        fit.Runs.from_arrays([1e8, 2e8, 3e8, 4e8, 5e8], [3, 2.9, -1, 2.7, 2.6], tokens=[1e9] * 5)


def test_formats_and_column_names_agree(tmp_path):
    """csv with Epoch-style names, jsonl, yaml (PyYAML reads 1e8 as a string) and a --columns mapping."""
    recs = [dict(zip(("n", "d", "l"), map(float, r.split(",")))) for r in GOOD]
    csv_path = write_csv(
        tmp_path, [f"{r['n']},{6 * r['n'] * r['d']},{r['l']}" for r in recs], header="Model Size,Training FLOP,loss"
    )
    jsonl = tmp_path / "runs.jsonl"
    jsonl.write_text("".join(json.dumps({"N": r["n"], "D": r["d"], "final_loss": r["l"]}) + "\n" for r in recs))
    yml = tmp_path / "runs.yaml"
    yml.write_text("\n".join(f"- {{model: {r['n']:g}, toks: {r['d']:.3e}, y: {r['l']}}}" for r in recs) + "\n")
    runs = [
        fit.load_runs(csv_path),
        fit.load_runs(jsonl),
        fit.load_runs(yml, columns={"params": "model", "tokens": "toks", "loss": "y"}),
    ]
    for r in runs[1:]:
        np.testing.assert_allclose(r.params, runs[0].params)
        np.testing.assert_allclose(r.tokens, runs[0].tokens, rtol=1e-12)
        np.testing.assert_allclose(r.loss, runs[0].loss)
    assert runs[1].columns == {"params": "N", "tokens": "D", "loss": "final_loss"}


# -------------------------------------------------------------------------------------------- sweep


@pytest.mark.parametrize(
    ("target", "budget", "levels", "sizes"),
    [(1e23, 1e20, 5, 7), (1e25, 3e22, 9, 5), (5e21, 1e21, 2, 3), (1e24, 1e19, 4, 9)],
)
def test_design_sweep_stays_within_budget(target, budget, levels, sizes):
    sweep = fit.design_sweep(target, budget, levels=levels, sizes_per_level=sizes)
    assert len(sweep.rows) == levels * sizes and len(sweep.levels) == levels
    cost = sum(6.0 * r.params * r.tokens for r in sweep.rows)
    assert cost == pytest.approx(sweep.total_flops) and cost <= budget
    assert cost > 0.99 * budget  # and uses nearly all of it
    for r in sweep.rows:
        assert 6.0 * r.params * r.tokens <= r.flops
    assert sweep.levels[-1] / sweep.levels[0] == pytest.approx(100.0)
    assert sweep.extrapolation == pytest.approx(target / sweep.levels[-1])
    json.dumps(sweep.to_dict(), allow_nan=False)


def test_design_sweep_rejects_bad_requests():
    with pytest.raises(ScaleplanError, match="must be smaller than target_flops"):
        fit.design_sweep(1e20, 1e21)
    with pytest.raises(ScaleplanError, match="budget_flops must be a positive"):
        fit.design_sweep(1e23, -1)
    with pytest.raises(ScaleplanError, match="sizes_per_level must be a whole number >= 3"):
        fit.design_sweep(1e23, 1e20, sizes_per_level=2)
    assert fit.design_sweep(1e26, 1e20).warnings  # extrapolation over 6 decades


def test_import_does_not_load_scipy():
    code = "import sys, scaleplan.fit.parametric; assert 'scipy' not in sys.modules, 'scipy imported at module level'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[1])


# --------------------------------------------------------------------------- the one bootstrap (issue #20)

# The intervals of 200 resamples (seed 0) of Epoch's 240 runs as scaleplan computed them before the refits were
# vectorised: one scipy BFGS per resample, warm-started from the full fit (scaleplan at fa1ef58, fit.bootstrap).
# Derived numbers, not published ones (Epoch's own, from 4,000 resamples, are in test_epoch_bootstrap_near_...).
ONE_BFGS_PER_RESAMPLE_200 = {
    "E": {"80%": (1.7885960838, 1.8465251606), "95%": (1.7746069107, 1.8727516304)},
    "A": {"80%": (336.12934014, 617.90480526), "95%": (290.48848750, 683.64577800)},
    "B": {"80%": (1444.0750183, 3835.4987580), "95%": (1079.2103024, 6336.1909406)},
    "alpha": {"80%": (0.3266327633, 0.3629239809), "95%": (0.3174975866, 0.3687945893)},
    "beta": {"80%": (0.3471860698, 0.3962934399), "95%": (0.3335980929, 0.4196400487)},
}
ONE_BFGS_PARAMS_AT_1E23 = {"80%": (23993016702.1, 38991602544.9), "95%": (22825146484.2, 43551874800.8)}


def test_vectorised_refits_give_the_intervals_of_one_bfgs_per_resample(epoch_runs, epoch_fit):
    boot = resample.bootstrap(epoch_runs, n=200, seed=0, fit=epoch_fit)
    assert boot.n_unconverged == 0 and boot.estimator == "huber"
    # the same resamples (one multinomial draw each, in order) reach the same optima: the refits agree to ~1e-6,
    # far inside the bootstrap's own noise (its 95% bounds move by ~1% between seeds)
    for key, levels in ONE_BFGS_PER_RESAMPLE_200.items():
        for level, pair in levels.items():
            assert boot.intervals[key][level] == pytest.approx(pair, rel=2e-5), (key, level)
    at_1e23 = boot.allocation[1]
    assert at_1e23["flops"] == 1e23
    for level, pair in ONE_BFGS_PARAMS_AT_1E23.items():
        assert at_1e23["intervals"]["params"][level] == pytest.approx(pair, rel=2e-5), level


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), sigma=st.sampled_from([0.003, 0.01, 0.03]))
def test_each_vectorised_refit_is_as_good_as_its_own_bfgs(seed, sigma):
    """Every resample's vectorised refit reaches a Huber sum no worse than scipy's BFGS from the same start."""
    runs = synthetic_runs(TEX, sigma, seed=seed % 1000)
    full = fit.fit_parametric(runs)
    rng = np.random.default_rng(seed)
    weights = resample.resample_weights(runs, 6, rng)
    data = fit.log_data(runs)
    theta, converged = fit.huber_refits(full.theta, weights, *data, 1e-3)
    for i in range(len(weights)):
        ours = fit.huber_objective(theta[i], *data, weights[i], 1e-3)[0]
        bfgs = fit._minimize(full.theta, (*data, weights[i], 1e-3), tight=False)
        assert ours <= bfgs.fun + 1e-9 * max(1.0, abs(bfgs.fun)), (i, ours, bfgs.fun)
    assert converged.all()


def test_one_bootstrap_for_either_estimator(epoch_runs):
    from scaleplan.fit import vp as fit_vp

    runs = fit_vp.below_flops(epoch_runs, 1e21)
    vp = fit_vp.fit_vp(runs)
    assert isinstance(vp, fit.ParametricFit) and vp.estimator == "vp" and vp.rss == vp.objective
    boot = resample.bootstrap(runs, n=20, seed=0, fit=vp)
    assert boot.estimator == "vp" and boot.samples.shape == (20, 5)
    raw = fit.law_dict(vp, boot, runs, name="vp")
    assert raw["fit"]["estimator"] == "vp" and "Czech" in raw["citation"]["method_source"]
    assert law_from_dict(raw, "vp.yaml").constants["alpha"] == pytest.approx(vp.alpha)


def test_a_fits_intervals_say_which_they_are_and_why_a_plans_differ(epoch_runs, epoch_fit, epoch_boot, tmp_path):
    """Issue #26: fit --bootstrap and allocate --ci with the saved law give different 80% intervals; each says which
    interval it is (percentiles of the refits vs draws from their normal) and why they differ."""
    from scaleplan.pipeline import intervals

    out = epoch_boot.to_dict()
    assert out["interval"] == "bootstrap percentiles" and "normal" in out["interval_why"]
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(fit.law_dict(epoch_fit, epoch_boot, epoch_runs, name="mine"), sort_keys=False))
    iv = intervals.plan_intervals(str(path), 1e23, 0.8, recipe_draws=2)
    assert iv["interval"] == "normal draws" and "fit --bootstrap" in iv["interval_why"]
    ours, theirs = iv["params"], out["allocation"][1]["intervals"]["params"]["80%"]
    assert ours != pytest.approx(theirs, rel=1e-9)  # they do differ, which is why both say so
    assert ours == pytest.approx(theirs, rel=0.1)  # ... by little: the normal of the same refits
    shipped = intervals.plan_intervals("epoch", 1e23, 0.8, recipe_draws=2)  # draws shipped: percentiles, as fit's
    assert shipped["interval"] == "bootstrap percentiles" and "interval_why" not in shipped
