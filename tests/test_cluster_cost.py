"""Precision, recompute, implied utilisation, energy and owned hardware against published training runs."""

import math

import pytest

from scaleplan.cluster import cost
from scaleplan.core.errors import ScaleplanError

# Korthikanti et al. 2022 (arXiv 2205.05198) Table 3 shapes (s = 2048, V = 51,200) and the MFU / HFU of Table 5
# (also in the NVIDIA/Megatron-LM README): the paper's MFU uses its eq. 7 FLOPs, so compare HFU/MFU ratios.
KORTHIKANTI = [  # (h, L, MFU %, HFU %)
    (6144, 48, 41.5, 43.7),  # 22B
    (12288, 96, 51.4, 52.8),  # 175B
    (20480, 105, 56.0, 57.0),  # 530B
    (25600, 128, 56.3, 57.0),  # 1T
]


@pytest.mark.parametrize("h, layers, mfu, hfu", KORTHIKANTI)
def test_selective_recompute_ratio_matches_korthikanti(h, layers, mfu, hfu):
    ratio = cost.recompute_ratio("selective", context=2048, d_model=h, layers=layers, vocab=51200)
    published = hfu / mfu
    # each percentage is printed to 0.1: the ratio is good to about 0.05/mfu + 0.05/hfu
    assert ratio == pytest.approx(published, abs=published * (0.05 / mfu + 0.05 / hfu))


def test_full_recompute_is_8nd():
    # one extra forward pass: 8ND over 6ND (bigscience tr11 README: "4*2 co-efficient, instead of 3*2")
    assert cost.recompute_ratio("full") == pytest.approx(4 / 3)
    assert cost.recompute_ratio("none") == 1.0
    with pytest.raises(ScaleplanError, match="selective recompute needs the model's shape"):
        cost.recompute_ratio("selective")


def test_llama31_405b_h100_hours():
    # Dubey et al. 2024 (arXiv 2407.21783): 3.8e25 FLOPs, 30.84M H100-hours; at the default MFU 0.40
    c = cost.training_cost(3.8e25, cost.get_hardware("h100"), 0.40, None, 16384)
    assert c.gpu_hours / 30.84e6 == pytest.approx(1.0, abs=0.15)


def test_bloom_a100_hours_from_hardware_tflops():
    # BLOOM (bigscience tr11-176B-ml README): 149.77 hardware TFLOP/s per A100 with full recompute (8ND);
    # 176B parameters, 366B tokens, 384 A100-80GB; BLOOM paper sec. 3.4.1: 1,082,990 A100-hours
    a100 = cost.get_hardware("a100-80gb")
    hfu = 149.77e12 / 312e12
    mfu = hfu / cost.recompute_ratio("full")
    c = cost.training_cost(6 * 176e9 * 366e9, a100, mfu, None, 384, recompute="full")
    assert c.hfu == pytest.approx(hfu)
    assert c.gpu_hours / 1_082_990 == pytest.approx(1.0, abs=0.15)
    assert c.hardware_flops == pytest.approx(8 * 176e9 * 366e9)


def test_deepseek_v3_fp8_on_h800():
    # DeepSeek-V3 (arXiv 2412.19437) Table 1: pre-training 2,664K H800-hours, $5.328M at $2 per GPU-hour;
    # 37B active parameters, 14.8T tokens, FP8 mixed precision on H800
    flops = 6 * 37e9 * 14.8e12
    h800 = cost.get_hardware("h800")
    implied = cost.implied_utilisation(flops, h800, gpu_hours=2_664_000, precision="fp8")
    # 3.2856e24 / (2.664e6 h x 3600 s x 1.979e15 FLOP/s) = 0.1731 of the dense FP8 peak (0.346 of BF16's)
    assert implied.mfu == pytest.approx(0.1731, abs=0.0005)
    assert implied.warnings == ()
    c = cost.training_cost(flops, h800, implied.mfu, 2.0, 2048, precision="fp8")
    assert c.gpu_hours == pytest.approx(2_664_000, rel=1e-9)
    assert c.dollars == pytest.approx(5.328e6, rel=1e-9)
    # 2,664K hours on 2,048 GPUs is 54.2 days ("3.7 days per trillion tokens" x 14.8 = 54.8)
    assert c.days == pytest.approx(3.7 * 14.8, rel=0.02)


def test_llama2_70b_implied_mfu():
    # Touvron et al. 2023 (arXiv 2307.09288) Table 2: Llama 2 70B, 1,720,320 A100-80GB hours, 2T tokens
    implied = cost.implied_utilisation(6 * 70e9 * 2e12, cost.get_hardware("a100-80gb"), gpu_hours=1_720_320)
    assert implied.mfu == pytest.approx(0.43, abs=0.005)


def test_implied_from_days_and_dollars():
    h100 = cost.get_hardware("h100")
    a = cost.implied_utilisation(1e24, h100, gpus=1024, days=30)
    assert a.mfu == pytest.approx(1e24 / (1024 * 30 * 86400 * 989e12))
    b = cost.implied_utilisation(1e24, h100, dollars=a.gpu_hours * 2.0, price=2.0)
    assert b.mfu == pytest.approx(a.mfu)
    assert any(
        "above the highest reported" in w for w in cost.implied_utilisation(1e25, h100, gpus=1024, days=30).warnings
    )
    assert any("below 10%" in w for w in cost.implied_utilisation(1e22, h100, gpus=1024, days=30).warnings)
    with pytest.raises(ScaleplanError, match="dollars needs price"):
        cost.implied_utilisation(1e24, cost.get_hardware("b200"), dollars=1e6)


def test_energy_epoch_defaults():
    # Epoch AI (Cottier et al. 2024, App. A.4; training-cost-trends code): H100 server 1.82x chip power,
    # 0.75 of TDP, PUE 1.25 (non-hyperscaler) / 1.1 (hyperscaler)
    h100 = cost.get_hardware("h100")
    c = cost.training_cost(1e24, h100, 0.4, 2.0, 1024)
    assert c.kwh_facility == pytest.approx(c.kwh * 1.82 * 0.75 * 1.25)
    hs = cost.training_cost(1e24, h100, 0.4, 2.0, 1024, energy=cost.Energy(hyperscale=True, dollars_per_kwh=0.1))
    assert hs.kwh_facility == pytest.approx(c.kwh * 1.82 * 0.75 * 1.1)
    assert hs.energy_dollars == pytest.approx(hs.kwh_facility * 0.1)
    tpu = cost.training_cost(1e24, cost.get_hardware("tpu-v6e"), 0.4, 2.70, 1024, energy=cost.Energy())
    v5p = cost.Energy().resolved(cost.get_hardware("tpu-v5p"))
    assert v5p["tdp_fraction"] == 0.43  # TPUs draw 0.43 of TDP (App. A.4) where no measured mean is published
    assert tpu.energy_note == "board power of tpu-v6e: not published"
    with pytest.raises(ScaleplanError, match="pue is at least 1"):
        cost.training_cost(1e24, h100, 0.4, 2.0, 8, energy=cost.Energy(pue=0.9))


def test_owned_hardware_epoch_method():
    # Epoch AI: chip price x 1.64 server factor; interconnect 19% of cluster cost; 0.14 OOM/yr depreciation
    owned = cost.Owned(chip_price=25_000)
    v = owned.cluster_value(1000)
    assert v["acquisition"] == pytest.approx(25_000 * 1.64 * 1000 / 0.81)
    assert v["amortisation_per_year"] == pytest.approx(0.14 * math.log(10))  # 0.322 a year
    # one year old: 10^-0.14 = 72% of the value (paper sec. 2.2: "1 yr -> about 72%")
    old = cost.Owned(server_price_per_gpu=41_000, age_years=1).cluster_value(8)
    assert old["value_at_start"] / old["acquisition"] == pytest.approx(0.724, abs=0.001)
    c = cost.training_cost(1e24, cost.get_hardware("h100"), 0.4, 2.0, 1000, owned=owned)
    run_hours = c.gpu_hours / 1000
    assert c.owned_dollars == pytest.approx(
        v["value_at_start"] * run_hours / 8760 * 0.14 * math.log(10) + c.energy_dollars
    )
    with pytest.raises(ScaleplanError, match="not both"):
        cost.Owned(chip_price=1, server_price_per_gpu=2)
    with pytest.raises(ScaleplanError, match="not both"):
        cost.Owned()


def test_training_cost_old_signature_still_works():
    c = cost.training_cost(1e23, cost.get_hardware("h100"), 0.4, 2.0, 1024)
    assert c.gpu_hours == pytest.approx(1e23 / (989e12 * 0.4 * 3600)) and c.precision == "bf16" and c.hfu == 0.4


from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@given(
    st.floats(1e20, 1e27),
    st.integers(1, 100_000),
    st.floats(1, 365),
    st.sampled_from(["h100", "h800", "b200", "mi300x", "tpu-v6e"]),
    st.sampled_from(["bf16", "fp8"]),
    st.sampled_from(["none", "full"]),
)
def test_implied_utilisation_round_trips(flops, gpus, days, key, precision, recompute):
    hw = cost.get_hardware(key)
    implied = cost.implied_utilisation(flops, hw, gpus=gpus, days=days, precision=precision, recompute=recompute)
    assert implied.hfu >= implied.mfu
    if implied.mfu > 1:  # more work than the peak allows in that time: the cost of such a run is refused
        with pytest.raises(ScaleplanError, match=r"mfu must be in \(0, 1\]"):
            cost.training_cost(flops, hw, implied.mfu, None, gpus, precision=precision, recompute=recompute)
        return
    c = cost.training_cost(flops, hw, implied.mfu, None, gpus, precision=precision, recompute=recompute)
    assert c.days == pytest.approx(days, rel=1e-9)


@given(st.floats(1e20, 1e27), st.floats(0.05, 0.6))
def test_fp8_halves_h100_hours(flops, mfu):
    h100 = cost.get_hardware("h100")
    bf16 = cost.training_cost(flops, h100, mfu, 2.0, 64)
    fp8 = cost.training_cost(flops, h100, mfu, 2.0, 64, precision="fp8")
    assert fp8.gpu_hours == pytest.approx(bf16.gpu_hours * 989 / 1979)


def test_budget_precision_sets_the_peak():
    # DeepSeek-V3 (arXiv 2412.19437): 2,048 H800 for 2,664K GPU-hours (54.2 days) at FP8
    import scaleplan
    from scaleplan.pipeline.budget import Budget

    days = 2_664_000 / 2048 / 24
    r = Budget.from_mapping(
        {"gpus": 2048, "days": days, "hardware": "h800", "precision": "fp8", "mfu": 0.1731}
    ).resolve()
    assert r.flops == pytest.approx(6 * 37e9 * 14.8e12, rel=0.001)  # 3.2856e24 model FLOPs
    plan = scaleplan.plan_budget(Budget.from_mapping({"flops": "1e23", "hardware": "h100", "precision": "fp8"}))
    assert plan.cost.precision == "fp8" and plan.cost.peak_flops == 1.979e15
    with pytest.raises(ScaleplanError, match="--precision must be one of"):
        Budget.from_mapping({"flops": "1e23", "precision": "fp16"}, flags=True)
    with pytest.raises(ScaleplanError, match="no dense FP8 peak"):
        Budget.from_mapping({"flops": "1e23", "hardware": "a100", "precision": "fp8"}).resolve()


# Published dense FP8-vs-BF16 end-to-end training speed-ups (same model and cluster): torchao float8 README
# (pytorch/ao torchao/float8/README.md): up to 1.25x for Llama 3 8B on 8 H100 and up to 1.5x for Llama 3.1 405B on
# 512 H100; PyTorch blog on 2K H200 with float8 rowwise: 1.34-1.43x.
PUBLISHED_FP8_SPEEDUPS = (1.25, 1.5, 1.34, 1.43)


def test_default_fp8_mfu_is_a_published_speedup_not_twice_bf16():
    h100 = cost.get_hardware("h100")
    s = cost.precision_speedup("fp8", h100)
    assert min(PUBLISHED_FP8_SPEEDUPS) <= s <= max(PUBLISHED_FP8_SPEEDUPS)
    assert cost.default_mfu("bf16", h100) == 0.40
    assert cost.default_mfu("fp8", h100) == pytest.approx(0.40 * s * 989 / 1979, rel=1e-3)  # 26.8% of the FP8 peak
    bf16 = cost.training_cost(1e24, h100, cost.default_mfu("bf16", h100), 2.0, 1024)
    fp8 = cost.training_cost(1e24, h100, cost.default_mfu("fp8", h100), 2.0, 1024, precision="fp8")
    assert bf16.gpu_hours / fp8.gpu_hours == pytest.approx(s)  # issue 22: was 2.0 (0.40 of the FP8 peak)
    assert fp8.speedup_over_bf16 == pytest.approx(s) and bf16.speedup_over_bf16 is None


def test_no_fp8_speedup_where_fp8_runs_at_the_bf16_rate():
    # Google's TPU7x doc table: v5p FP8 459 = BF16 459 TFLOP/s; Intel Hot Chips 2024: Gaudi 3 1,835 both
    for key in ("tpu-v5p", "gaudi3"):
        hw = cost.get_hardware(key)
        assert cost.default_mfu("fp8", hw) == cost.default_mfu("bf16", hw) == 0.40


def test_fp8_mfu_above_the_best_published_warns():
    # NeMo 24.07 performance summary (NVIDIA/NeMo docs/source/performance/performance_summary.md): GPT3-175B on 512
    # H100 at FP8, 842 model TFLOP/s per GPU = 42.5% of the 1,979 dense FP8 peak, the best published dense FP8 run
    h100 = cost.get_hardware("h100")
    assert cost.precision_warnings(842 / 1979, "fp8", h100) == []
    (w,) = cost.precision_warnings(0.5, "fp8", h100)
    assert "above the best published FP8 training run: 42.5%" in w and "2.50x a BF16 run" in w
    # DeepSeek-V3 (arXiv 2412.19437): 2.664M H800-hours, 14.8T tokens, 37B active: 17.3% of the dense FP8 peak
    implied = 6 * 37e9 * 14.8e12 / (2.664e6 * 3600 * 1.979e15)
    assert implied == pytest.approx(0.173, abs=0.0005)
    assert cost.precision_warnings(implied, "fp8", cost.get_hardware("h800"), moe=True) == []
    (w,) = cost.precision_warnings(cost.default_mfu("fp8", h100), "fp8", h100, moe=True)
    assert "published MoE FP8 runs reached 17.3%" in w
