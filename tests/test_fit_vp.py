"""Variable projection (scaleplan.fit_vp) against the published Open-Athena numbers on Epoch's Chinchilla runs.

Golden values: E. Czech, "Problems with Chinchilla Approach 2" (Open-Athena/scaling-law-analysis @3e0656e,
results/paper/paper.tex, App. "VPNLS Implementation Validation", Table tab:vpnls_validation; also
results/experiments/exp0/reproductions.txt): Epoch's svg_extracted_data.csv with the 5 highest-loss runs left out
and C = 6ND < 1e21 kept (217 points) gives E = 1.9051, A = 4.0005, B = 1.0509 (N / 1e6, D / 1e9), alpha = 0.3511,
beta = 0.4587, a = 0.5665, RSS 0.062414 (reproduced in shared/reference/laws-precision-curves.md section 7).
Without the 5-row drop (222 points): alpha = 0.3794, beta = 0.6802, a = 0.6419.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaleplan.core.errors import ScaleplanError
from scaleplan.fit import parametric as fit
from scaleplan.fit import resample
from scaleplan.fit import vp as fit_vp
from scaleplan.laws import law_from_dict

EPOCH_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "svg_extracted_data.csv"


@pytest.fixture(scope="module")
def epoch_217(shared_data):
    # shared_data: skips without ../shared/data, and fails instead in CI (see conftest.py)
    if not EPOCH_DATA.exists():
        pytest.skip(f"Epoch data not found at {EPOCH_DATA}")
    return fit_vp.below_flops(fit.load_runs(EPOCH_DATA, drop_worst=5), 1e21)


def test_open_athena_numbers_on_epoch_runs(epoch_217):
    assert len(epoch_217) == 217
    vp = fit_vp.fit_vp(epoch_217)
    assert vp.E == pytest.approx(1.9051, abs=5e-5)
    assert vp.alpha == pytest.approx(0.3511, abs=5e-5)
    assert vp.beta == pytest.approx(0.4587, abs=5e-5)
    assert vp.rss == pytest.approx(0.062414, abs=5e-7)
    assert vp.a == pytest.approx(0.5665, abs=5e-5)
    assert vp.A / fit_vp.N_SCALE**vp.alpha == pytest.approx(4.0005, abs=5e-4)  # normalised units
    assert vp.B / fit_vp.D_SCALE**vp.beta == pytest.approx(1.0509, abs=5e-4)
    assert not vp.warnings


def test_without_the_row_drop(epoch_217):
    runs = fit_vp.below_flops(fit.load_runs(EPOCH_DATA), 1e21)
    assert len(runs) == 222
    vp = fit_vp.fit_vp(runs)
    assert vp.alpha == pytest.approx(0.3794, abs=5e-5)
    assert vp.beta == pytest.approx(0.6802, abs=5e-5)
    assert vp.a == pytest.approx(0.6419, abs=5e-5)


def test_vp_matches_the_five_parameter_least_squares_optimum(epoch_217):
    """The default for least-squares fits only if its RSS equals the grid least-squares optimum to six digits:
    a 5-parameter least-squares fit (ln A, ln B, ln E, alpha, beta) from the best of Epoch's 4,500 grid starts."""
    from scipy.optimize import least_squares

    n, d, y = epoch_217.params, epoch_217.tokens, epoch_217.loss
    ln_n, ln_d = np.log(n), np.log(d)

    def resid(t):
        return np.exp(t[2]) + np.exp(t[0] - t[3] * ln_n) + np.exp(t[1] - t[4] * ln_d) - y

    g = fit.EPOCH_GRID
    pred = np.exp(g[:, 2:3]) + np.exp(g[:, 0:1] - g[:, 3:4] * ln_n) + np.exp(g[:, 1:2] - g[:, 4:5] * ln_d)
    with np.errstate(over="ignore", invalid="ignore"):
        score = np.nansum((pred - y) ** 2, axis=1)
    best = None
    for i in np.argsort(np.where(np.isfinite(score), score, np.inf))[:16]:
        with np.errstate(over="ignore", invalid="ignore"):
            res = least_squares(resid, g[i], xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=20000)
        if best is None or res.cost < best.cost:
            best = res
    grid_rss = 2 * best.cost
    vp = fit_vp.fit_vp(epoch_217)
    assert vp.rss == pytest.approx(grid_rss, rel=5e-7)
    assert vp.rss <= grid_rss * (1 + 1e-9)


def test_saved_law_loads(epoch_217):
    vp = fit_vp.fit_vp(epoch_217)
    raw = fit.law_dict(vp, runs=epoch_217, name="vp-epoch")
    law = law_from_dict(raw, "vp-epoch.yaml")
    assert law.constants["alpha"] == pytest.approx(vp.alpha)
    assert raw["fit"]["rss"] == pytest.approx(0.062414, abs=5e-7)


@given(alpha=st.floats(0.2, 0.8), beta=st.floats(0.2, 0.8), e=st.floats(1.0, 3.0))
def test_noise_free_recovery(alpha, beta, e):
    n = np.geomspace(1e7, 1e10, 6).repeat(6)
    d = np.tile(np.geomspace(1e9, 1e12, 6), 6)
    loss = e + 400 * n**-alpha + 2000 * d**-beta
    vp = fit_vp.fit_vp(fit.Runs.from_arrays(n, loss, tokens=d), grid=16)
    assert vp.alpha == pytest.approx(alpha, rel=1e-4)
    assert vp.beta == pytest.approx(beta, rel=1e-4)
    assert vp.E == pytest.approx(e, rel=1e-4)


@given(data=st.lists(st.floats(-3, 3), min_size=12, max_size=12))
def test_nnls3_matches_scipy_nnls(data):
    rng = np.random.default_rng(0)
    X = np.abs(rng.normal(size=(12, 3))) + 0.1
    y = np.asarray(data)
    coef, rss = fit_vp.nnls3(X, y)
    assert np.all(coef >= 0)
    from scipy.optimize import nnls

    _, rnorm = nnls(X, y)
    assert rss == pytest.approx(rnorm**2, rel=1e-7, abs=1e-10)


def test_bad_arguments(epoch_217):
    with pytest.raises(ScaleplanError, match="grid"):
        fit_vp.fit_vp(epoch_217, grid=2)
    with pytest.raises(ScaleplanError, match="bounds"):
        fit_vp.fit_vp(epoch_217, bounds=(0.5, 0.1))
    with pytest.raises(ScaleplanError, match="at least 5"):
        fit_vp.below_flops(epoch_217, 1e18)


def test_vectorised_bootstrap_matches_independent_refits(epoch_217):
    from dataclasses import replace

    vp = fit_vp.fit_vp(epoch_217)
    boot = resample.bootstrap(epoch_217, n=200, seed=3, fit=vp)
    assert boot.n_unconverged == 0 and boot.samples.shape == (200, 5)
    rng = np.random.default_rng(3)  # the same resamples: multinomial counts as row weights
    counts = rng.multinomial(217, np.full(217, 1 / 217), size=200).astype(float)
    for i in (0, 1, 2):
        ref = fit_vp.fit_vp(replace(epoch_217, weights=counts[i]))
        assert boot.samples[i, 3] == pytest.approx(ref.alpha, abs=1e-6)
        assert boot.samples[i, 4] == pytest.approx(ref.beta, abs=1e-6)
        assert boot.samples[i, 0] == pytest.approx(ref.E, abs=1e-6)
    lo, hi = boot.intervals["alpha"]["95%"]
    assert lo < vp.alpha < hi
    raw = fit.law_dict(vp, boot, epoch_217, name="vp-boot")
    assert law_from_dict(raw, "vp-boot.yaml").constants["beta"] == pytest.approx(vp.beta)
    assert "intervals" in raw
