"""Intervals on a plan's decisions (scaleplan.pipeline.intervals) from the epoch law's shipped bootstrap draws.

Published numbers (hard-coded here with their source, never read from the files the code reads):
Besiroglu, Erdil, Barnett & You 2024, "Chinchilla Scaling: A replication attempt" (arXiv 2404.10102), repository
epoch-research/analyzing-chinchilla (commit 92258837), data_analysis.ipynb: 4,000 bootstrap resamples, 95%
percentile intervals alpha (0.317, 0.373), beta (0.331, 0.415), E (1.769, 1.871) and bootstrap standard errors
alpha 0.01540, beta 0.02060, E 0.02566 (shared/reference/laws-compute.md section 3). The runs file's sha256
193478df...1b30 is the one shared/data/SOURCES.md records for the repository's copy.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from scaleplan import laws
from scaleplan.core.errors import ScaleplanError
from scaleplan.pipeline import intervals
from scaleplan.pipeline.optimal import allocate, with_recipe
from scaleplan.recipe import design as recipe

EPOCH_CI95 = {"alpha": (0.317, 0.373), "beta": (0.331, 0.415), "E": (1.769, 1.871)}
EPOCH_SE = {"alpha": 0.01540, "beta": 0.02060, "E": 0.02566}
EPOCH_RESAMPLES = 4000
RUNS_SHA256 = "193478df4e90f040016431996c45682659306840ecdadf83cfb9cd5ca0aa1b30"


@pytest.fixture(scope="module")
def epoch_draws():
    return intervals.law_draws("epoch")


def _monte_carlo_tolerance(se: float, n_ours: int, p: float = 0.025) -> float:
    """Printed rounding (half the last digit, 0.0005) plus two standard errors of the difference between two
    bootstrap percentiles: each has SD sqrt(p(1-p)/n) / phi(z_p) * SE (normal approximation), theirs from 4,000
    resamples and ours from n_ours."""
    z = 1.959964
    phi = math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    sd = lambda n: math.sqrt(p * (1 - p) / n) / phi * se
    return 0.0005 + 2 * math.hypot(sd(EPOCH_RESAMPLES), sd(n_ours))


def test_shipped_draws_reproduce_epochs_published_95_percent_intervals(epoch_draws):
    consts, method, meta = epoch_draws
    n = consts["alpha"].size
    assert n == 4000 and meta["n"] == 4000 and meta["seed"] == 0
    assert meta["data_sha256"] == RUNS_SHA256
    for key, (lo, hi) in EPOCH_CI95.items():
        got_lo, got_hi = np.percentile(consts[key], [2.5, 97.5])
        tol = _monte_carlo_tolerance(EPOCH_SE[key], n)
        assert got_lo == pytest.approx(lo, abs=tol) and got_hi == pytest.approx(hi, abs=tol), (key, got_lo, got_hi)
    # alpha, the brief's check: (0.3165, 0.3716) against (0.317, 0.373); tolerance 0.0023
    assert _monte_carlo_tolerance(EPOCH_SE["alpha"], n) < 0.0025
    for key, se in EPOCH_SE.items():  # bootstrap SDs; a 4,000-draw SD has a Monte Carlo SD of about 1.1%
        assert np.std(consts[key], ddof=1) == pytest.approx(se, rel=0.05), key
    assert "bootstrap" in method and "seed 0" in method


def test_draws_are_package_data_not_shared(epoch_draws):
    path = laws.data_dir() / "epoch-bootstrap.csv"
    assert path.is_file() and path.stat().st_size < 200_000
    assert "shared" not in str(path.resolve().relative_to(Path(intervals.__file__).resolve().parents[1]))


def test_draws_regenerate_from_the_runs(shared_data, epoch_draws):
    # the first resamples of the same seed are the same resamples (one multinomial draw per resample, in order)
    from scaleplan.fit import parametric as fit
    from scaleplan.fit import resample

    runs = fit.load_runs(shared_data / "svg_extracted_data.csv", drop_worst=5)
    assert runs.n == 240
    boot = resample.bootstrap(runs, n=8, seed=0)
    shipped = np.column_stack([epoch_draws[0][k][:8] for k in intervals.COLUMNS])
    np.testing.assert_allclose(boot.samples, shipped, rtol=2e-4)
    text = intervals.draws_text(boot.samples, {"n": 8, "seed": 0})
    assert text.splitlines()[2] == "E,A,B,alpha,beta" and len(text.splitlines()) == 3 + 8


@pytest.mark.parametrize("flops", [1e19, 1e22, 1e25])
@pytest.mark.parametrize("level", [0.8, 0.95])
def test_intervals_contain_the_point_estimate(flops, level):
    # The point is the paper's Table 1 law; the draws scatter around scaleplan's Huber-sum refit (alpha 0.3473 vs
    # 0.3478), so at narrow levels (e.g. 0.3) the point can sit just outside; at 0.8 and above it is inside.
    # StepLaw's LR moves with N and D; the default DeepSeek law's depends on C = M D alone (a near-zero spread)
    plan = with_recipe(allocate(flops, "epoch"), hparams_law="steplaw")
    iv = intervals.plan_intervals("epoch", flops, level, recipe_draws=100, hparams_law="steplaw")
    points = {
        "params": plan.params,
        "tokens": plan.tokens,
        "loss": plan.loss,
        "learning_rate": plan.recipe.learning_rate,
        "batch_tokens": plan.recipe.batch_tokens,
        "gpu_hours": plan.cost.gpu_hours,
        "dollars": plan.cost.dollars,
    }
    for key, point in points.items():
        lo, hi = iv[key]
        assert lo <= point * (1 + 1e-12) and point <= hi * (1 + 1e-12), (key, lo, point, hi)
    assert iv["params"][0] < iv["params"][1] and iv["learning_rate"][0] < iv["learning_rate"][1]  # a spread
    assert iv["level"] == level and iv["draws"] == 4000 and iv["recipe_draws"] == 100


@settings(max_examples=12, deadline=None)
@given(flops_exp=st.floats(18, 26), a=st.floats(0.05, 0.98), b=st.floats(0.05, 0.98))
def test_a_wider_level_gives_a_wider_interval(flops_exp, a, b):
    narrow, wide = sorted((a, b))
    flops = 10.0**flops_exp
    small = intervals.plan_intervals("epoch", flops, narrow, recipe_draws=20)
    large = intervals.plan_intervals("epoch", flops, wide, recipe_draws=20)
    for key in intervals.NAMES:
        assert large[key][0] <= small[key][0] <= small[key][1] <= large[key][1], key


def test_learning_rate_batch_and_cost_follow_the_direction_of_n_and_d(epoch_draws):
    flops, level, k = 1e23, 0.8, 200
    iv = intervals.plan_intervals(
        "epoch", flops, level, recipe_draws=k, inference_tokens=2e12, serving=_serving(), hparams_law="steplaw"
    )
    consts = {key: v[:k] for key, v in epoch_draws[0].items()}
    from scaleplan.laws import forms

    n, _d = forms.parametric_optimum(consts, flops)
    n_lo, n_hi = np.percentile(n, [10, 90])
    # at a fixed budget D = C/6N: the larger model trains on fewer tokens
    lr_big = recipe.recipe(n_hi, flops / (6 * n_hi), flops, law="steplaw").learning_rate
    lr_small = recipe.recipe(n_lo, flops / (6 * n_lo), flops, law="steplaw").learning_rate
    assert lr_big < lr_small  # StepLaw: a larger model on fewer tokens wants a smaller peak learning rate
    assert iv["learning_rate"][0] == pytest.approx(lr_big, rel=0.03)
    assert iv["learning_rate"][1] == pytest.approx(lr_small, rel=0.03)
    batch_big = recipe.recipe(n_hi, flops / (6 * n_hi), flops, law="steplaw").batch_tokens
    batch_small = recipe.recipe(n_lo, flops / (6 * n_lo), flops, law="steplaw").batch_tokens
    assert batch_big < batch_small  # batch grows with D, which falls as N grows
    assert iv["batch_tokens"][0] == pytest.approx(batch_big, rel=0.05)
    assert iv["batch_tokens"][1] == pytest.approx(batch_small, rel=0.05)
    # training dollars are set by the budget; serving dollars (2 N per token) scale with N exactly
    plan = allocate(flops, "epoch", inference_tokens=2e12, serving=_serving())
    assert iv["dollars"] == [pytest.approx(plan.cost.dollars, rel=1e-12)] * 2
    assert iv["gpu_hours"] == [pytest.approx(plan.cost.gpu_hours, rel=1e-12)] * 2
    per_param = plan.cost.inference_dollars / plan.params
    assert iv["serving_dollars"] == pytest.approx([per_param * x for x in iv["params"]], rel=1e-9)
    assert "do not vary" in iv["note"]


def _serving():
    from scaleplan.pipeline.inference import serving_costs

    return serving_costs(None, 0.4, 2.0, serving_model="fixed-mfu")  # 2N per token: dollars exactly in N


def test_a_law_without_draws_gives_the_clear_error():
    for name in ("chinchilla", "kaplan"):
        with pytest.raises(ScaleplanError, match=f"needs a law with bootstrap uncertainty; {name} has none"):
            intervals.plan_intervals(name, 1e21, 0.8)
    for bad in (0, 1, 1.5, -0.2, True, "0.8"):
        with pytest.raises(ScaleplanError, match="between 0 and 1"):
            intervals.plan_intervals("epoch", 1e21, bad)
    for flops in (-1e21, 0, "lots", [1e21, 1e22]):
        with pytest.raises(ScaleplanError, match=r"flops|one budget"):
            intervals.plan_intervals("epoch", flops, 0.8)
    with pytest.raises(ScaleplanError, match="recipe_draws"):
        intervals.plan_intervals("epoch", 1e21, 0.8, recipe_draws=0)
    with pytest.raises(ScaleplanError, match="unknown hardware"):
        intervals.plan_intervals("epoch", 1e21, 0.8, hardware="h1000", recipe_draws=2)


def test_a_fitted_law_file_with_covariance_or_draws(tmp_path):
    consts, _, _ = intervals.law_draws("epoch")
    theta = np.column_stack(
        [np.log(consts["A"]), np.log(consts["B"]), np.log(consts["E"]), consts["alpha"], consts["beta"]]
    )
    raw = yaml.safe_load((laws.data_dir() / "epoch.yaml").read_text())
    raw.pop("published_checks")
    raw["name"] = "mine"
    raw["fit"] = {"bootstrap": {"mean": theta.mean(0).tolist(), "covariance": np.cov(theta.T).tolist()}}
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump(raw))
    iv = intervals.plan_intervals(str(tmp_path / "mine.yaml"), 1e22, 0.8, recipe_draws=20)
    assert "normal of the bootstrap mean and covariance" in iv["method"]
    shipped = intervals.plan_intervals("epoch", 1e22, 0.8, recipe_draws=20)
    assert iv["params"] == pytest.approx(shipped["params"], rel=0.05)  # the normal matches the draws it summarises
    raw["fit"] = {"bootstrap": {"draws": "bad.csv"}}
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(raw))
    (tmp_path / "bad.csv").write_text("E,A,B\n1,2,3\n")
    with pytest.raises(ScaleplanError, match="not a bootstrap draws file"):
        intervals.plan_intervals(str(tmp_path / "bad.yaml"), 1e22, 0.8)


def test_json_names_are_plain_and_stable():
    iv = intervals.plan_intervals("epoch", 1e23, 0.8, recipe_draws=20)
    assert set(iv) >= {"level", "draws", "method", *intervals.NAMES}
    for key in intervals.NAMES:
        lo, hi = iv[key]
        assert isinstance(lo, float) and isinstance(hi, float) and lo <= hi
    json.dumps(iv, allow_nan=False)


def _tool(name: str):
    """A maintainer's script of tools/ (outside the package), imported from its path."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "tools" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"tools_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_regeneration_script_writes_and_never_overwrites(shared_data, tmp_path, capsys):
    # the maintainer's entry point lives in tools/, not in the library (issue #20)
    assert not hasattr(intervals, "main")
    main = _tool("epoch_draws").main
    out = tmp_path / "draws.csv"
    runs = str(shared_data / "svg_extracted_data.csv")
    assert main([runs, "--n", "3", "--out", str(out)]) == 0
    draws, meta = intervals._read_draws(str(out))
    assert draws.shape == (3, 5) and meta["n"] == 3 and meta["seed"] == 0 and meta["data_sha256"] == RUNS_SHA256
    assert "not published" in meta["what"] and meta["regenerate"].startswith("python tools/epoch_draws.py")
    assert main([runs, "--n", "3", "--out", str(out)]) == 2  # exists: needs --force
    assert "exists" in capsys.readouterr().err
    assert main([runs, "--n", "3", "--out", str(out), "--force"]) == 0
    assert main([runs, "--n", "1", "--out", str(out), "--force"]) == 2
    assert main([str(tmp_path / "missing.csv"), "--out", str(tmp_path / "x.csv")]) == 2
