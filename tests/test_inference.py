"""Inference-aware allocation against Sardana et al. 2024 (arXiv:2401.00448) and its invariants."""

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import scaleplan
from scaleplan import laws
from scaleplan.core.errors import ScaleplanError
from scaleplan.pipeline.inference import inference_aware, optimum_for_loss, serving_costs, tokens_for_loss

SARDANA = "chinchilla-sardana"  # the Chinchilla constants as their code uses them (alpha 0.336, beta 0.283)


def test_figure_1_thirteen_billion_model_serving_two_trillion_tokens():
    # Sardana et al. 2024 Fig. 1: instead of a 13B Chinchilla-style model (576.5B tokens), with 2T inference tokens
    # train ~7B on more data and save 1.7e22 FLOPs (17%). Their repository gives 6.9686e9 / 1.2478e12 / 1.6917e22.
    c = laws.get(SARDANA).constants
    loss = c["E"] + c["A"] * (c["alpha"] / c["beta"] + 1) / 13e9 ** c["alpha"]  # the 13B baseline's loss
    plan = inference_aware(2e12, target_loss=loss, law=SARDANA)
    assert plan.compute_optimal.params == pytest.approx(13e9, rel=1e-9)
    assert plan.compute_optimal.tokens == pytest.approx(576.5e9, rel=1e-3)
    assert plan.inference_aware.params == pytest.approx(6.9686e9, rel=1e-4)
    assert plan.inference_aware.tokens == pytest.approx(1.2478e12, rel=1e-4)
    saved = plan.compute_optimal.total_flops - plan.inference_aware.total_flops
    assert saved == pytest.approx(1.7e22, rel=0.01) and round(plan.flops_saving * 100) == 17


def test_repository_compute_optimal_example():
    # Sardana et al. repository README (compute_optimal.py): loss 1.947, 2T inference tokens ->
    # Chinchilla-style 34.08B / 1.810T, optimal 24.18B / 2.657T: 70.96% params, 146.77% tokens, 95.22% FLOPs.
    plan = inference_aware(2e12, target_loss=1.947, law=SARDANA)
    a, b = plan.compute_optimal, plan.inference_aware
    assert (a.params, a.tokens) == pytest.approx((3.408e10, 1.810e12), rel=1e-3)
    assert (b.params, b.tokens) == pytest.approx((2.418e10, 2.657e12), rel=1e-3)
    assert b.params / a.params * 100 == pytest.approx(70.96, abs=0.01)
    assert b.tokens / a.tokens * 100 == pytest.approx(146.77, abs=0.01)
    assert b.total_flops / a.total_flops * 100 == pytest.approx(95.22, abs=0.01)


def test_repository_cost_optimal_example():
    # Sardana et al. repository README (cost_optimal.py): loss 1.947, 1e10 requests of 1000 prompt + 250 generated
    # tokens; training A100-80GB bf16 at $1.40/h, MFU 0.5; serving A100-40GB int8 at $0.60/h, prefill MFU 0.4,
    # decode MFU 0.2 -> optimal 20.53B / 3.302T; Chinchilla-style total $1,605,531.94, optimal $1,425,059.70.
    costs = serving_costs(
        hardware="a100-80gb",
        mfu=0.5,
        price=1.40,
        inference_hardware="a100-40gb",
        inference_price=0.60,
        prefill_mfu=0.4,
        decode_mfu=0.2,
        prompt_share=0.8,
        inference_bits=8,
        serving_model="fixed-mfu",  # Sardana et al.'s own pricing: 2N per token at fixed prefill and decode MFU
    )
    plan = inference_aware(1e10 * 1250, target_loss=1.947, law=SARDANA, objective="cost", costs=costs)
    assert plan.inference_aware.params == pytest.approx(2.053e10, rel=1e-3)
    assert plan.inference_aware.tokens == pytest.approx(3.302e12, rel=1e-3)
    assert plan.compute_optimal.total_dollars == pytest.approx(1605531.94, rel=1e-6)
    assert plan.inference_aware.total_dollars == pytest.approx(1425059.70, rel=1e-6)
    assert plan.compute_optimal.training_dollars == pytest.approx(9.228e5, rel=1e-3)
    assert (1 - plan.dollars_saving) * 100 == pytest.approx(88.76, abs=0.01)


@pytest.mark.parametrize("law", ["epoch", "chinchilla", "chinchilla-tex", SARDANA])
def test_zero_demand_gives_back_the_compute_optimal_plan_exactly(law):
    plan = inference_aware(0.0, flops=1e22, law=law)
    ref = scaleplan.allocate(1e22, law=law)
    assert plan.inference_aware.params == pytest.approx(ref.params, rel=1e-12)
    assert plan.inference_aware.tokens == pytest.approx(ref.tokens, rel=1e-12)
    assert plan.compute_optimal.params == pytest.approx(ref.params, rel=1e-12)


demands = st.floats(min_value=1e8, max_value=1e16)
loss_laws = st.sampled_from(["epoch", "chinchilla", "chinchilla-tex", SARDANA, "kaplan"])


@given(loss_laws, st.floats(min_value=1e19, max_value=1e25), demands)
def test_inference_aware_is_smaller_trains_longer_and_never_costs_more(law, flops, tokens):
    plan = inference_aware(tokens, flops=flops, law=law, break_even=False)
    a, b = plan.compute_optimal, plan.inference_aware
    if plan.frontier is not None:  # Kaplan: smaller than the surface's cheapest model, not than its frontier's
        f = plan.frontier
        a = replace(a, params=f["surface_params_for_frontier_loss"], tokens=f["surface_tokens_for_frontier_loss"])
    assert b.params <= a.params * (1 + 1e-9) and b.tokens >= a.tokens * (1 - 1e-9)
    assert b.total_flops <= plan.compute_optimal.total_flops * (1 + 1e-9)


@given(loss_laws, st.lists(demands, min_size=2, max_size=30))
def test_more_demand_never_grows_the_model(law, tokens):
    t = np.sort(np.asarray(tokens))
    plan = inference_aware(t, target_loss=2.2, law=law, break_even=False)
    assert np.all(np.diff(plan.inference_aware.params) <= 1e-9 * plan.inference_aware.params[:-1])


@given(loss_laws, st.floats(min_value=1.9, max_value=3.5), demands)
def test_loss_constraint_holds(law_name, loss, tokens):
    law = laws.get(law_name)
    n, d = optimum_for_loss(law, loss, np.array([tokens]))
    assert float(law.loss(n, d)[0]) == pytest.approx(loss, rel=1e-9)


def test_vectorised_sweep_matches_scalars():
    t = np.geomspace(1e9, 1e15, 25)
    sweep = inference_aware(t, flops=1e23, law="epoch", break_even=False)
    for i, one in enumerate(sweep):
        scalar = inference_aware(t[i], flops=1e23, law="epoch", break_even=False)
        assert one.inference_aware.params == pytest.approx(scalar.inference_aware.params, rel=1e-12)


def test_break_even_demand_is_where_saving_crosses_one_percent():
    from scaleplan.pipeline.inference import savings

    plan = inference_aware(1e12, flops=1e23, law="epoch")
    law = laws.get("epoch")
    t = plan.break_even_tokens
    assert savings(law, plan.loss, t * 1.01, "flops", plan.costs, None) > 0.01
    assert savings(law, plan.loss, t * 0.99, "flops", plan.costs, None) < 0.01


def test_attention_flops_make_serving_dearer_and_the_model_smaller():
    plain = inference_aware(1e13, flops=1e23, law="epoch")
    with_attention = inference_aware(1e13, flops=1e23, law="epoch", context=8192)
    assert with_attention.inference_aware.params < plain.inference_aware.params
    assert with_attention.compute_optimal.inference_flops > plain.compute_optimal.inference_flops


def test_laws_without_a_loss_are_a_clear_error():
    with pytest.raises(ScaleplanError, match="gives N_opt\\(C\\) only"):
        inference_aware(1e12, flops=1e21, law="chinchilla-approach1")


def test_target_loss_at_or_below_irreducible_is_a_clear_error():
    with pytest.raises(ScaleplanError, match=r"irreducible loss is E = 1\.8172"):
        inference_aware(1e12, target_loss=1.8, law="epoch")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"prefill_mfu": 0.0}, "prefill_mfu must be in"),
        ({"decode_mfu": 1.5}, "decode_mfu must be in"),
        ({"prompt_share": 1.2}, "prompt_share must be in"),
        ({"inference_bits": 4}, "inference_bits must be 16 or 8"),
    ],
)
def test_serving_assumptions_are_validated(kwargs, message):
    with pytest.raises(ScaleplanError, match=message):
        serving_costs(**kwargs)


def test_negative_demand_is_an_error():
    with pytest.raises(ScaleplanError, match="zero or positive"):
        inference_aware(-1.0, flops=1e21)


def test_tokens_for_loss_inverts_the_law():
    law = laws.get("kaplan")
    d = tokens_for_loss(law, 1e9, 2.5)
    assert float(law.loss(1e9, d)) == pytest.approx(2.5, rel=1e-12)


def test_8_bit_serving_takes_the_chips_own_8_bit_path():
    # Presets (vendor data sheets, via shared/reference/hardware-memory-cost.md): A100 has no FP8 but INT8 624 TOPS
    # dense (2 x 312 BF16); H100 SXM FP8 1,979 TFLOP/s dense (2 x 989.4).
    from scaleplan.cluster.cost import get_hardware
    from scaleplan.pipeline.serving_costs import serving_peak

    assert serving_peak(get_hardware("a100-80gb"), 8) == pytest.approx(624e12)
    assert serving_peak(get_hardware("h100"), 8) == pytest.approx(1.979e15, rel=1e-3)
    assert serving_peak(get_hardware("h100"), 16) == pytest.approx(9.89e14, rel=1e-3)


def test_training_precision_halves_training_hours_on_fp8():
    from scaleplan.pipeline.inference import serving_costs

    bf16, fp8 = serving_costs("h100"), serving_costs("h100", precision="fp8")
    assert fp8.dollars_per_training_flop == pytest.approx(bf16.dollars_per_training_flop / 2, rel=1e-3)


def test_sizing_for_quantized_serving_trains_less_far():
    # Ouyang et al. 2024 (arXiv 2411.17691): the quantization penalty grows with D/N (GPTQ: k D^0.5251 /
    # (N^0.2261 P^5.4967)), so sizing for the loss *as served* at fewer bits picks a larger model trained on fewer
    # tokens per parameter than plain inference-aware sizing (Sardana et al. 2024), and more so at fewer bits.
    from scaleplan.pipeline import precision
    from scaleplan.pipeline.inference import inference_aware
    from scaleplan.pipeline.quantized import quantized_serving

    plan = inference_aware(2e12, flops=1e23)
    q8, q4 = quantized_serving(plan, 8), quantized_serving(plan, 4)
    ia = plan.inference_aware.tokens / plan.inference_aware.params
    assert q4.tokens_per_param < q8.tokens_per_param < ia
    law = scaleplan.get_law(plan.law)
    for q in (q8, q4):  # the served loss is the target
        rel = precision.ouyang_qid(q.params, q.tokens, q.bits) / precision.ouyang_loss_16bit(q.params, q.tokens)
        assert float(law.loss(q.params, q.tokens)) * (1 + float(rel)) == pytest.approx(plan.loss, rel=1e-6)
