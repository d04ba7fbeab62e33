"""Laws from checkpoints (scaleplan.fit.checkpoints), following Choshen, Zhang & Andreas 2024 (arXiv 2410.11840):
fit intermediate checkpoints, drop early ones (section 6.1: before 10B tokens), >= 3 model sizes (section 3),
and here each run weighs the same. Synthetic checkpoints from Chinchilla's unrounded constants (Hoffmann et al.
2022, as used by Epoch: E 1.69337, A 406.401, B 410.723, alpha 0.33917, beta 0.28491)."""

from __future__ import annotations

import numpy as np
import pytest

from scaleplan.core.errors import ScaleplanError
from scaleplan.fit import checkpoints, resample
from scaleplan.fit import parametric as fit
from scaleplan.fit import vp as fit_vp

TEX = {"E": 1.69337, "A": 406.401, "B": 410.723, "alpha": 0.33917084, "beta": 0.2849083}


def law(n, d):
    return TEX["E"] + TEX["A"] / n ** TEX["alpha"] + TEX["B"] / d ** TEX["beta"]


def write(path, sizes=(5e7, 1e8, 2e8, 4e8, 8e8, 1.6e9), per_run=40, early_bump=0.3, dense=None, seed=0):
    rng = np.random.default_rng(seed)
    lines = ["run,params,tokens,loss"]
    for k, n in enumerate(sizes):
        count = dense if (dense and k == 0) else per_run
        d_final = 20 * n
        for d in np.geomspace(d_final / 100, d_final, count):
            # early checkpoints sit above the law (warm-up, high LR): the bump decays with tokens
            loss = law(n, d) + early_bump * np.exp(-d / (0.05 * d_final)) + rng.normal(0, 0.002)
            lines.append(f"run-{k},{n:.6g},{d:.6g},{loss:.6f}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_checkpoints_recover_the_law(tmp_path):
    runs = checkpoints.load_checkpoints(write(tmp_path / "ck.csv"))
    info = runs.checkpoints
    assert info["runs"] == 6 and info["model_sizes"] == 6 and info["dropped_early"] == 6 * 20
    f = fit.fit_parametric(runs)
    assert f.alpha == pytest.approx(TEX["alpha"], rel=0.1) and f.beta == pytest.approx(TEX["beta"], rel=0.1)
    vp = fit_vp.fit_vp(runs)
    assert vp.E == pytest.approx(TEX["E"], rel=0.02)


def test_dropping_early_checkpoints_helps(tmp_path):
    path = write(tmp_path / "ck.csv", early_bump=0.3)
    kept = fit_vp.fit_vp(checkpoints.load_checkpoints(path, drop_fraction=0.1))
    everything = fit_vp.fit_vp(checkpoints.load_checkpoints(path, drop_fraction=0.0))
    # the early bump biases the exponents; dropping each run's first 10% of tokens removes most of it
    assert abs(kept.alpha - TEX["alpha"]) < 0.5 * abs(everything.alpha - TEX["alpha"])
    assert kept.alpha == pytest.approx(TEX["alpha"], rel=0.05)


def test_each_run_weighs_the_same(tmp_path):
    runs = checkpoints.load_checkpoints(write(tmp_path / "ck.csv", dense=400))
    per_run = np.bincount(runs.run_ids, weights=runs.weights)
    assert np.allclose(per_run, 1.0) and runs.weights.sum() == pytest.approx(6)
    boot = resample.bootstrap(runs, n=20, seed=0)
    assert boot.samples.shape == (20, 5)


def test_absolute_token_cut_and_too_few_sizes(tmp_path):
    path = write(tmp_path / "ck.csv")
    runs = checkpoints.load_checkpoints(path, min_tokens=3e9)
    assert runs.tokens.min() >= 3e9 and runs.checkpoints["model_sizes"] == 4
    assert any("safe bet" in w for w in runs.checkpoints["warnings"])
    with pytest.raises(ScaleplanError, match="2 model size"):  # a small sweep: the guide's 10B cut leaves too few
        checkpoints.load_checkpoints(path, min_tokens=10e9)


def test_load_any_switches_on_repeated_run_ids(tmp_path):
    path = write(tmp_path / "ck.csv")
    assert checkpoints.load_any(path).checkpoints is not None
    plain = tmp_path / "plain.csv"
    plain.write_text(
        "name,params,tokens,loss\n"
        + "".join(
            f"r{i},{n:.4g},{d:.4g},{law(n, d):.5f}\n"
            for i, (n, d) in enumerate([(1e8, 2e9), (2e8, 4e9), (4e8, 8e9), (8e8, 1.6e10), (1.6e9, 3.2e10), (1e8, 8e9)])
        )
    )
    assert checkpoints.load_any(plain).checkpoints is None


def test_bad_checkpoint_files(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("run,params,tokens,loss\na,1e8,1e9,3\na,2e8,2e9,2.9\n")
    with pytest.raises(ScaleplanError, match="different params"):
        checkpoints.load_checkpoints(bad)
    with pytest.raises(ScaleplanError, match="drop_fraction"):
        checkpoints.load_checkpoints(bad, drop_fraction=1.5)
    with pytest.raises(ScaleplanError, match="no run column"):
        checkpoints.load_checkpoints(bad, run_column="seed")


def test_repeated_seeds_are_counted(tmp_path):
    path = write(tmp_path / "ck.csv")
    text = path.read_text().splitlines()
    extra = [line.replace("run-2,", "run-2b,", 1) for line in text if line.startswith("run-2,")]
    path.write_text("\n".join(text + extra) + "\n")
    info = checkpoints.load_checkpoints(path).checkpoints
    assert info["runs"] == 7 and info["sizes_with_repeated_runs"] == 1 and "seeds" in info["seed_noise"]


def test_seed_noise_widens_the_intervals(tmp_path):
    # Two seeds of every size. When the seeds agree, resampling whole runs changes little; when each seed sits
    # 0.02 nats off the other (run-to-run noise of that order, Choshen et al. 2024 Sec. 5), the same bootstrap
    # gives wider intervals: the spread between seeds reaches the decision.
    def with_seeds(offset):
        base = write(tmp_path / f"ck-{offset}.csv").read_text().splitlines()
        twin = []
        for line in base[1:]:
            run, n, d, loss = line.split(",")
            twin.append(f"{run}b,{n},{d},{float(loss) + offset:.6f}")
        path = tmp_path / f"seeds-{offset}.csv"
        path.write_text("\n".join(base + twin) + "\n")
        runs = checkpoints.load_checkpoints(path)
        assert runs.checkpoints["sizes_with_repeated_runs"] == 6
        boot = resample.bootstrap(runs, n=200, seed=0, fit=fit_vp.fit_vp(runs))
        lo, hi = (
            boot.intervals["alpha"]["95%"]
            if "95%" in boot.intervals["alpha"]
            else next(iter(boot.intervals["alpha"].values()))
        )
        return hi - lo

    assert with_seeds(0.02) > 1.5 * with_seeds(0.0)
