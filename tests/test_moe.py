"""Fine-grained mixture of experts (Krajewski et al. 2024, arXiv:2402.07871) against the paper's own numbers.

Constants: Table 1 (E = 64) and Table 8 (E = 16); FLOPs: eqs. (10)-(11) with c_f = 6, c_r = 14 (App. E) and
d_model = 64 n_blocks (Sec. 6.1); compute-optimal configurations: Table 2, bootstrap percentiles: Table 6.
"""

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scaleplan.core.errors import ScaleplanError
from scaleplan.laws import forms
from scaleplan.pipeline import moe


def rel(x, y):
    return abs(x / y - 1)


def test_constants_are_table_1_and_table_8():
    fits = moe.constants()["fits"]
    assert fits[64.0] == {
        "where": "Table 1",
        "a": 18.1,
        "alpha": 0.115,
        "b": 30.8,
        "beta": 0.147,
        "g": 2.1,
        "gamma": 0.58,
        "c": 0.47,
    }
    assert {k: fits[16.0][k] for k in ("a", "alpha", "b", "beta", "g", "gamma", "c")} == {
        "a": 19.64,
        "alpha": 0.124,
        "b": 57.07,
        "beta": 0.169,
        "g": 1.18,
        "gamma": 0.986,
        "c": 0.472,
    }
    dense = moe.constants()["dense"]
    assert (dense["a"], dense["alpha"], dense["b"], dense["beta"], dense["c"]) == (16.3, 0.126, 26.7, 0.127, 0.47)
    conv = moe.constants()["conventions"]
    assert (conv["c_f"], conv["c_r"], conv["d_model_per_block"]) == (6, 14, 64)


# Table 2: N (E x active), D, G, FLOPs, loss. Table 6: 10th/90th bootstrap percentiles of D and G.
TABLE_2 = [
    (100e6, 4.37e9, 8, 2.95e18, 3.133, (2.97e9, 5.98e9), (8, 8)),
    (1e9, 28.94e9, 16, 1.93e20, 2.491, (21.17e9, 40.73e9), (16, 16)),
    (3e9, 72.90e9, 16, 1.41e21, 2.245, (50.20e9, 105.88e9), (16, 32)),
    (7e9, 137.60e9, 32, 6.46e21, 2.076, (101.06e9, 205.40e9), (32, 32)),
    (70e9, 941.07e9, 32, 4.16e23, 1.694, (638.49e9, 1.59e12), (32, 64)),
    (300e9, 2.96e12, 64, 5.69e24, 1.503, (1.99e12, 5.62e12), (64, 64)),
    (1e12, 7.94e12, 64, 4.97e25, 1.367, (5.29e12, 16.87e12), (64, 64)),
]


@pytest.mark.parametrize("active, tokens, g, flops, loss, d_range, g_range", TABLE_2)
def test_reproduces_table_2(active, tokens, g, flops, loss, d_range, g_range):
    plan = moe.moe_allocation(flops)
    assert plan.granularity == g  # exact: the optimum over powers of two
    assert g_range[0] <= plan.granularity <= g_range[1]
    assert rel(plan.active_params, active) < 0.03
    assert rel(plan.tokens, tokens) < 0.025
    assert d_range[0] <= plan.tokens <= d_range[1]  # Table 6
    # Table 2's losses sit 0.011-0.024 above what Table 1's rounded constants give (they were presumably computed
    # with the unrounded fit); the same offset at every row, so compare loosely.
    assert -0.03 < plan.loss - loss < 0
    assert plan.experts == g * 64 and plan.expansion == 64


@pytest.mark.parametrize("active, tokens, g, flops, loss, d_range, g_range", TABLE_2)
def test_table_2_flops_follow_equations_10_and_11(active, tokens, g, flops, loss, d_range, g_range):
    # The table's FLOPs column is F = (12 d^2 c_f + d E G c_r) D n_blocks with 12 d^2 n_blocks = active, d = 64 n_blocks.
    d_model = (active * 64 / 12) ** (1 / 3)
    assert moe.shape_params(d_model)[0] == pytest.approx(active, rel=1e-12)
    assert rel(moe.flops_per_token(d_model, g) * tokens, flops) < 0.006


def test_dense_comparison_figure_1b():
    # Sec. 1: "a compute-optimal MoE model trained with a budget of 1e20 FLOPs will achieve the same quality as a
    # dense Transformer trained with a 20x greater computing budget, with the compute savings rising steadily".
    # With the rounded Table 1 constants we get 21.3x at 1e20. The paper's "exceeding 40x" above 1e25 is not
    # reproduced: 32x at 1e25, 34x at 1e26 (rounded constants again, or a different dense accounting).
    budgets = np.geomspace(1e18, 1e26, 9)
    plan = moe.moe_allocation(budgets)
    assert np.all(np.diff(plan.compute_multiplier) > 0)
    at_1e20 = moe.moe_allocation(1e20)
    assert at_1e20.compute_multiplier == pytest.approx(20, rel=0.1)
    assert 25 < moe.moe_allocation(1e25).compute_multiplier < 45
    # Sec. 6.3: MoE "can be always considered more efficient than dense Transformers, regardless of the model size".
    assert np.all(plan.loss_difference < 0)
    dense_loss = forms.parametric_loss(
        {"E": 0.47, "A": 16.3, "B": 26.7, "alpha": 0.126, "beta": 0.127}, plan.dense_params, plan.dense_tokens
    )
    np.testing.assert_allclose(plan.dense_loss, dense_loss, rtol=1e-12)
    np.testing.assert_allclose(6 * plan.dense_params * plan.dense_tokens, budgets, rtol=1e-12)


def test_standard_moe_g1_is_worse_than_fine_grained():
    # Abstract / Sec. 8: "the common practice of setting the size of experts in MoE to mirror the feed-forward layer
    # is not optimal at almost any computational budget".
    for c in (1e19, 1e21, 1e23, 1e25):
        assert moe.moe_allocation(c, granularity=1).loss > moe.moe_allocation(c).loss


def test_expansion_16_uses_appendix_d():
    plan = moe.moe_allocation(1e21, expansion=16)
    assert plan.expansion == 16 and plan.experts == 16 * plan.granularity
    assert plan.total_params == pytest.approx(plan.active_params * (8 * 16 + 4) / 12, rel=1e-12)
    assert any("Table 8" in w for w in plan.warnings)


def test_warnings_and_extrapolation():
    plan = moe.moe_allocation(1e23)
    assert any("above the largest runs" in w for w in plan.warnings)
    assert any("granularity 32 is beyond" in w for w in plan.warnings)
    inside = moe.moe_allocation(1e19, granularity=8)
    assert not inside.warnings
    tiny = moe.moe_allocation(1e15, granularity=1024)
    assert any("router" in w for w in tiny.warnings)


@pytest.mark.parametrize("g", [0.5, 0, -2, float("nan"), float("inf")])
def test_granularity_below_one_is_a_user_error(g):
    with pytest.raises(ScaleplanError, match="granularity must be at least 1"):
        moe.moe_allocation(1e21, granularity=g)


def test_unfitted_expansion_and_bad_budget_are_user_errors():
    with pytest.raises(ScaleplanError, match="expansion rate must be one of 16, 64"):
        moe.moe_allocation(1e21, expansion=32)
    with pytest.raises(ScaleplanError, match="flops must be positive"):
        moe.moe_allocation(0)


def test_json_contract():
    d = moe.moe_allocation(1e23).to_dict()
    for key in (
        "law",
        "flops",
        "params",
        "tokens",
        "tokens_per_param",
        "loss",
        "granularity",
        "params_active",
        "params_total",
        "experts",
        "warnings",
        "citation",
        "dense",
        "loss_difference",
        "compute_multiplier",
    ):
        assert key in d
    assert d["params"] == d["params_active"] < d["params_total"]  # the output contract's names (DESIGN.md)
    assert "2407.04153" in d["see_also"][0]  # PEER (He 2024) noted, not modelled
    json.dumps(d, allow_nan=False)
    many = moe.moe_allocation(np.array([1e20, 1e22])).to_dict()
    assert len(many["granularity"]) == 2
    json.dumps(many, allow_nan=False)


# Properties ------------------------------------------------------------------------------------------------------


@given(st.floats(min_value=1e7, max_value=1e13), st.floats(min_value=1e9, max_value=1e14))
def test_granularity_one_is_the_chinchilla_form_with_a_plus_g(n, d):
    # Eq. (9) at G = 1 is eq. (1) with a -> a + g (a standard MoE, experts as large as the FFN). It does not reduce to
    # the dense fit of Table 1, which is a separate law (a 16.3, alpha 0.126, ...).
    f = moe.constants()["fits"][64.0]
    chinchilla = forms.parametric_loss(
        {"E": f["c"], "A": f["a"] + f["g"], "B": f["b"], "alpha": f["alpha"], "beta": f["beta"]}, n, d
    )
    assert float(moe.moe_loss(n, d, 1.0)) == pytest.approx(float(chinchilla), rel=1e-12)
    # and G -> infinity approaches a alone (Sec. 5.3: the constant a bounds the gain from granularity)
    limit = forms.parametric_loss({"E": f["c"], "A": f["a"], "B": f["b"], "alpha": f["alpha"], "beta": f["beta"]}, n, d)
    assert float(moe.moe_loss(n, d, 1e12)) == pytest.approx(float(limit), rel=1e-6)


@given(
    st.floats(min_value=1e7, max_value=1e13),
    st.floats(min_value=1e9, max_value=1e14),
    st.floats(min_value=1.0, max_value=1e3),
    st.floats(min_value=1.0, max_value=10.0),
)
def test_finer_experts_never_raise_the_predicted_loss(n, d, g, more):
    assert float(moe.moe_loss(n, d, g * more)) <= float(moe.moe_loss(n, d, g)) + 1e-12


@settings(max_examples=40, deadline=None)
@given(st.floats(min_value=1e17, max_value=1e27), st.sampled_from([1.0, 2.0, 4.0, 8.0, 16.0, 64.0]))
def test_the_optimum_spends_the_budget_and_beats_fixed_granularity(c, g):
    best = moe.moe_allocation(c)
    fixed = moe.moe_allocation(c, granularity=g)
    assert best.loss <= fixed.loss + 1e-12
    for plan in (best, fixed):
        spent = moe.flops_per_token(plan.d_model, plan.granularity) * plan.tokens
        assert spent == pytest.approx(c, rel=1e-9)
        assert plan.loss == pytest.approx(
            float(moe.moe_loss(plan.total_params, plan.tokens, plan.granularity)), rel=1e-12
        )
        for f in (0.9, 1.1):  # no neighbouring width does better at this granularity
            d = plan.d_model * f
            tokens = c / moe.flops_per_token(d, plan.granularity)
            assert float(moe.moe_loss(moe.shape_params(d)[1], tokens, plan.granularity)) >= plan.loss - 1e-12


@settings(max_examples=30, deadline=None)
@given(st.floats(min_value=1e17, max_value=1e26), st.floats(min_value=1.001, max_value=100.0))
def test_more_compute_gives_lower_loss_and_a_larger_model(c, factor):
    small, big = moe.moe_allocation(c), moe.moe_allocation(c * factor)
    assert big.loss < small.loss and big.active_params > small.active_params * 0.99


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(min_value=1e17, max_value=1e26), min_size=1, max_size=6))
def test_vectorised_equals_scalar(cs):
    vector = moe.moe_allocation(np.array(cs))
    for c, one in zip(cs, vector):
        scalar = moe.moe_allocation(c)
        assert one.granularity == scalar.granularity
        assert one.active_params == pytest.approx(scalar.active_params, rel=1e-9)
        assert one.loss == pytest.approx(scalar.loss, rel=1e-12)


def test_importing_the_planners_stays_light():
    code = (
        "import sys, scaleplan.pipeline.constrained, scaleplan.pipeline.moe\n"
        "scaleplan.pipeline.moe.moe_allocation(1e21); scaleplan.pipeline.constrained.data_constrained_allocation(1e21, 1e10)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'scipy', 'matplotlib', 'pandas', 'typer'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
