"""Memory feasibility against the papers' own numbers (ZeRO, Korthikanti et al.) and BLOOM's published layout."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaleplan.cluster import cost
from scaleplan.cluster import memory as M
from scaleplan.core.errors import ScaleplanError


def test_zero_worked_example():
    # Rajbhandari et al. 2020 (arXiv 1910.02054) sec. 5.1-5.3 / Fig. 1: Psi = 7.5B, N_d = 64, K = 12:
    # 120 GB baseline, 31.4 GB P_os, 16.6 GB P_os+g, 1.9 GB P_os+g+p (printed to 0.1 GB)
    printed = [120.0, 31.4, 16.6, 1.9]
    for stage, gb in enumerate(printed):
        assert M.model_state_bytes(7.5e9, stage, 64) / 1e9 == pytest.approx(gb, abs=0.05)


def test_zero_fits_claims():
    # ZeRO sec. 5: on 32 GB V100s with N_d = 64, up to 7.5B (P_os), 14B (P_os+g), 128B (P_os+g+p) fit (model states)
    for stage, params in ((1, 7.5e9), (2, 14e9), (3, 128e9)):
        assert M.model_state_bytes(params, stage, 64) <= 32e9
    # sec. 5.3: 1T parameters on 1,024 devices with P_os+g+p: 16 TB / 1024 = 16 GB each
    assert M.model_state_bytes(1e12, 3, 1024) / 1e9 == pytest.approx(15.625)


GPT3 = M.ModelSpec(175e9, layers=96, d_model=12288, heads=96, context=2048)


def test_korthikanti_score_terms():
    # Korthikanti et al. 2022 (arXiv 2205.05198) sec. 4.2: GPT-3 5as/h = 80; MT-NLG (a=128, h=20480) 64
    assert GPT3.score_term == 80
    assert M.ModelSpec(530e9, 105, 20480, 128, 2048).score_term == 64


def test_korthikanti_table2():
    # Table 2, bytes per layer in units of s*b*h, at t = 8 (flash attention off: the paper's accounting)
    s, b, h, t = 2048, 1, 12288, 8
    sbh = s * b * h

    def per(**kw):
        return M.activation_bytes_per_layer(GPT3, b, kw.pop("tp", t), flash=False, **kw) / sbh

    assert per(tp=1, sequence_parallel=False) == pytest.approx(34 + 80)  # eq. 1
    assert per(sequence_parallel=False) == pytest.approx(10 + 24 / t + 80 / t)  # eq. 2
    assert per(sequence_parallel=True) == pytest.approx(34 / t + 80 / t)  # eq. 4
    assert per(sequence_parallel=False, recompute="selective") == pytest.approx(10 + 24 / t)
    assert per(sequence_parallel=True, recompute="selective") == pytest.approx(34 / t)
    assert per(tp=1, sequence_parallel=False, recompute="full") == pytest.approx(2)
    # full recompute stores the layer input, 2sbh, at any t with or without sequence parallelism (Table 2's last row;
    # sec. 5 sets aside splitting it over t): at TP 8, 2 and not 2/8
    assert per(sequence_parallel=True, recompute="full") == pytest.approx(2)
    assert per(sequence_parallel=False, recompute="full") == pytest.approx(2)


def test_full_recompute_at_tp8_for_gpt3():
    # Korthikanti Table 2 full recompute, GPT-3 175B (Table 3: a=96, h=12288, L=96, s=2048, TP 8), micro-batch 1:
    # 2sbh x L = 2 x 2048 x 12288 x 96 = 4.83e9 bytes stored, plus one layer rebuilt in full (eq. 4 at t = 8 with
    # sequence parallelism, flash off: (34 + 80) / 8 sbh) while its backward runs
    r = M.device_memory(GPT3, cost.get_hardware("a100-80gb"), 8, 8, 1, recompute="full", flash=False)
    sbh = 2048 * 12288
    assert r.activation_bytes == pytest.approx(2 * sbh * 96 + (34 + 80) / 8 * sbh)


def test_reserve_is_ten_percent_of_the_device_bytes():
    # an H100 reports 81,559 MiB (nvidia-smi memory.total); 10% reserved leaves 76.97e9 bytes to plan with
    r = M.device_memory(GPT3, cost.get_hardware("h100"), 8, 8, 1)
    assert r.capacity_bytes == 81_559 * 2**20
    assert r.usable_bytes == pytest.approx(0.9 * 81_559 * 2**20)
    assert r.to_dict()["reserve_fraction"] == 0.10


def test_selective_recompute_savings():
    # Korthikanti sec. 5: selective recompute saves 70% (GPT-3) / 65% (MT-NLG) of activation memory
    for spec, saving in ((GPT3, 0.70), (M.ModelSpec(530e9, 105, 20480, 128, 2048), 0.65)):
        full = M.activation_bytes_per_layer(spec, 1, 8, flash=False)
        sel = M.activation_bytes_per_layer(spec, 1, 8, flash=False, recompute="selective")
        assert 1 - sel / full == pytest.approx(saving, abs=0.005)


def test_flash_attention_equals_selective():
    a = M.activation_bytes_per_layer(GPT3, 2, 4, flash=True)
    b = M.activation_bytes_per_layer(GPT3, 2, 4, flash=False, recompute="selective")
    assert a == pytest.approx(b)


def test_gqa_and_swiglu_coefficients():
    # SwiGLU at d_ff = 8h/3 stores as much as GeLU at 4h (19 s*b*h); 8 KV heads of 128 shrink attention 11 -> 7.25
    swiglu = M.ModelSpec(7e9, 32, 4096, 32, 4096, d_ff=4096 * 8 // 3, glu=True)
    assert sum(swiglu.layer_coefficients()) == pytest.approx(34, abs=0.01)
    gqa = M.ModelSpec(7e9, 32, 4096, 128, 4096, kv_heads=8)
    assert sum(gqa.layer_coefficients()) == pytest.approx(34 - 11 + 7.25)


BLOOM = M.ModelSpec(176e9, layers=70, d_model=14336, heads=112, context=2048)


def test_bloom_layout_is_feasible():
    # bigscience tr11-176B-ml README: 384 A100 80GB, TP 4 x PP 12 x DP 8, MBS 2, seq 2048, ZeRO-1 (BF16_Optimizer),
    # activation checkpointing on
    r = M.device_memory(
        BLOOM,
        cost.get_hardware("a100-80gb"),
        4,
        12,
        8,
        zero=1,
        micro_batch=2,
        recompute="full",
        flash=False,
        sequence_parallel=False,
    )
    assert r.devices == 384 and r.fits
    # states: the fullest stage holds 6 of the 70 layers, / t = 3.77e9 parameters, 4 + 12/8 bytes each = 20.7 GB
    assert r.states_bytes / 1e9 == pytest.approx(176e9 * 6 / 70 / 4 * 5.5 / 1e9)
    # without checkpointing or ZeRO the same layout would not fit
    assert not M.device_memory(
        BLOOM, cost.get_hardware("a100-80gb"), 4, 12, 8, zero=0, micro_batch=2, flash=False, sequence_parallel=False
    ).fits


def test_plan_layout_for_bloom_cluster():
    lp = M.plan_layout(BLOOM, cost.get_hardware("a100-80gb"), 384, zero=1, micro_batch=2, recompute="full")
    s = lp.suggested
    assert s.fits and s.devices == 384 and s.tp <= 8
    assert lp.fewest.fits and lp.fewest.devices <= 384
    # 16 bytes x 176B = 2.8 TB of states alone cannot sit on fewer than 2.8e12 / 72e9 = 40 devices at ZeRO-1, dp = 1
    assert lp.fewest.devices >= 39


def test_does_not_fit_says_by_how_much():
    lp = M.plan_layout(BLOOM, cost.get_hardware("a100-80gb"), 8, zero=1, micro_batch=2, recompute="full")
    assert not lp.suggested.fits and "GB short" in lp.note and lp.suggested.shortfall_bytes > 0


def test_moe_holds_every_expert():
    # 671B total, 37B active (DeepSeek-V3): the experts are the difference, split over expert parallelism
    spec = M.ModelSpec(671e9, 61, 7168, 128, 4096, expert_params=671e9 - 37e9)
    dense_only = M.ModelSpec(37e9, 61, 7168, 128, 4096)
    h800 = cost.get_hardware("h800")
    a = M.device_memory(spec, h800, 1, 16, 128, ep=64, zero=1)
    b = M.device_memory(dense_only, h800, 1, 16, 128, ep=64, zero=1)
    assert a.states_bytes > b.states_bytes
    share = 4 / 61  # the fullest of 16 stages holds 4 of the 61 layers
    assert a.states_bytes == pytest.approx(
        M.model_state_bytes(37e9 * share, 1, 128) + M.model_state_bytes(634e9 * share / 64, 1, 2)
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"zero": 4}, "ZeRO stage"),
        ({"tp": 0}, "tensor parallel"),
        ({"pp": 71}, "exceeds the 70 layers"),
        ({"recompute": "some"}, "recompute must be one of"),
    ],
)
def test_bad_layouts(kwargs, message):
    with pytest.raises(ScaleplanError, match=message):
        M.device_memory(BLOOM, cost.get_hardware("a100"), **kwargs)


@given(st.floats(1e8, 1e13), st.integers(1, 4096))
def test_zero_stages_never_add_memory(params, dp):
    states = [M.model_state_bytes(params, s, dp) for s in range(4)]
    assert all(a >= b * (1 - 1e-12) for a, b in zip(states, states[1:]))


@given(st.sampled_from([1, 2, 4, 8]), st.sampled_from(["none", "selective", "full"]), st.booleans())
def test_more_tensor_parallel_never_adds_activations(tp, recompute, flash):
    a = M.activation_bytes_per_layer(GPT3, 1, tp, recompute=recompute, flash=flash, sequence_parallel=True)
    b = M.activation_bytes_per_layer(GPT3, 1, tp * 2, recompute=recompute, flash=flash, sequence_parallel=True)
    assert b <= a
