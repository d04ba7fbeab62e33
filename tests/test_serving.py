"""The serving roofline (scaleplan.cluster.serving) against published figures: worked cases T1-T13 of
../shared/reference/serving.md §6.3, each hard-coded here with its primary source, and its invariants."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaleplan.cluster import serving
from scaleplan.cluster.serving import Device, ServedModel, critical_batch, decode_step_time, dollars_per_million
from scaleplan.core.errors import ScaleplanError
from scaleplan.recipe.design import Shape

# Shapes of Dubey et al. 2024 (Llama 3 paper, Table 3) with the published parameter counts (8.03B, 70.6B, 405B;
# the 70B and 405B to the precision their shapes give: 70.55B and 405.85B, serving.md §1.1).
LLAMA_8B = ServedModel(layers=32, d_model=4096, heads=32, kv_heads=8, head_dim=128, params=8.03e9, active_params=8.03e9)
LLAMA_70B = ServedModel(
    layers=80, d_model=8192, heads=64, kv_heads=8, head_dim=128, params=70.55e9, active_params=70.55e9
)
LLAMA_405B = ServedModel(
    layers=126, d_model=16384, heads=128, kv_heads=8, head_dim=128, params=405.85e9, active_params=405.85e9
)
# OPT-13B / LLaMA-2-13B: 40 layers, 5,120 wide, 40 heads of 128, multi-head attention
MHA_13B = ServedModel(layers=40, d_model=5120, heads=40, kv_heads=40, head_dim=128, params=13e9, active_params=13e9)

# kipply, "Transformer Inference Arithmetic" (2022): A100 "312e12 flops per second and 1.5e12 bytes per second",
# 40 GB per GPU (SI bytes, as the text counts them)
KIPPLY_A100 = Device("a100 (kipply)", bandwidth=1.5e12, memory=40e9, peaks=(("bf16", 312e12),))
EXACT = serving.efficiency(bandwidth_fraction=1.0, memory_fraction=1.0, compute_fraction=1.0)


# T1 -------------------------------------------------------------------------------------------------------------


def test_t1_kv_bytes_per_token():
    # Kwon et al. 2023 (vLLM, arXiv 2309.06180) §3: "the KV cache of a single token demands 800 KB of space,
    # calculated as 2 (key and value vectors) × 5120 (hidden state size) × 40 (number of layers) × 2 (bytes per FP16)"
    assert MHA_13B.kv_bytes_per_token(16) == 800 * 1024
    # JAX scaling book (inference.md): LLaMA-13B "8192 (T) × 40 (K) × 128 (H) × 40 (L) × 2 (bytes) × 2 = 6.7GB"
    assert MHA_13B.kv_bytes_per_token(16) * 8192 == pytest.approx(6.7e9, rel=0.005)
    # GQA shapes of the Llama 3 paper, Table 3: 8 KV heads of 128
    assert LLAMA_8B.kv_bytes_per_token(16) == 131_072
    assert LLAMA_70B.kv_bytes_per_token(16) == 327_680
    assert LLAMA_70B.kv_bytes_per_token(8) == 163_840
    assert LLAMA_405B.kv_bytes_per_token(16) == 516_096
    # kipply: 52B, "2·2·n_layers·n_heads·d_head ... 4·64·8192 = 2,097,152 bytes"
    assert serving.kv_bytes_per_token(64, 64, 128, 16) == 2_097_152


# T2, T3: the JAX scaling book ---------------------------------------------------------------------------------


def test_t2_jax_book_pop_quiz_step_times():
    # JAX scaling book inference.md, pop quiz: a 30B model in int8 on 16 TPU v5e (8.1e11 B/s, 1.97e14 FLOP/s each),
    # 100 kB of KV cache per token, 8192 context: "2.5 ms" at batch 4 and "21ms" at batch 256 (the book rounds;
    # 21.05 ms = KV 16.18 + max(MLP compute 4.87, weights 2.31)).
    bw, peak = 16 * 8.1e11, 16 * 1.97e14
    kv_seq = 8192 * 100e3
    small = decode_step_time(4, 30e9, kv_seq, 2 * 30e9, bw, peak)
    large = decode_step_time(256, 30e9, kv_seq, 2 * 30e9, bw, peak)
    assert float(small) * 1e3 == pytest.approx(2.57, rel=0.03)
    assert float(large) * 1e3 == pytest.approx(21.05, rel=0.03)
    assert float(large) * 1e3 == pytest.approx(21, rel=0.03)


def test_t3_jax_book_llama2_13b_on_8_v5e():
    # JAX scaling book inference.md, LLaMA-2-13B on 8×v5e: total bandwidth 6.56e12 B/s (8 × 8.2e11; the book's
    # table says "TiB/s" and "GiB" but its numbers only reproduce in SI bytes, serving.md §1.1), parameters 26e9 B,
    # KV 6.7e9 B per sequence at 8192 (the GQA variant 1.34e9). Printed: batch 1 4.98 ms and 200.61 tokens/s;
    # GQA batch 240 52.99 ms and 4,529.34 tokens/s; "We OOM beyond batch size 16" in 128 GiB.
    bw, peak = 6.56e12, 8 * 1.97e14
    t1 = float(decode_step_time(1, 26e9, 6.7e9, 2 * 13e9, bw, peak))
    assert t1 * 1e3 == pytest.approx(4.98, rel=0.005)
    assert 1 / t1 == pytest.approx(200.61, rel=0.005)
    t240 = float(decode_step_time(240, 26e9, 1.34e9, 2 * 13e9, bw, peak))
    assert t240 * 1e3 == pytest.approx(52.99, rel=0.005)
    assert 240 / t240 == pytest.approx(4529.34, rel=0.005)
    # the same through the shape-level model: 8 chips as one replica, 128 GiB, 8192 tokens per sequence
    v5e = Device("8 v5e", bandwidth=8.2e11, memory=16 * 1024**3, peaks=(("bf16", 1.97e14),), max_tp=8)
    wl = serving.workload(prompt_tokens=8192 - 1, output_tokens=1)
    out = serving.roofline(MHA_13B, v5e, wl, EXACT, tp=8)
    assert out["max_batch"][0] == 16  # OOM beyond 16 (16.6 in GB, as the book counts)


# T4, T5, T6: kipply --------------------------------------------------------------------------------------------


def test_t4_critical_batch():
    # kipply: A100 "312e12 ... 1.5e12 ... we get a distinct ratio here of 208"
    assert critical_batch(312e12, 1.5e12) == pytest.approx(208, abs=0.5)
    # JAX scaling book inference.md: "1.97E+14/8.20E+11 = 240"; "int8 parameters but ... computation in bf16, the
    # critical batch size drops to 120"
    assert critical_batch(1.97e14, 8.2e11) == pytest.approx(240, abs=0.5)
    assert critical_batch(1.97e14, 8.2e11, weight_bits=8) == pytest.approx(120, abs=0.5)
    # H100 SXM (NVIDIA datasheet: 989 TFLOP/s dense BF16, 3.35 TB/s): 295 (serving.md §1.4, DERIVED)
    h100 = serving.device("h100")
    assert critical_batch(h100.peak("bf16"), h100.bandwidth) == pytest.approx(295, abs=0.5)
    assert critical_batch(h100.peak("fp8"), h100.bandwidth, weight_bits=8) == pytest.approx(295, abs=0.5)


def test_t5_kv_capacity_on_three_a100s():
    # kipply: a 52B model (64 layers, 8192 wide, MHA) in 16-bit on 3 × A100-40GB: "120−104 = 16GB left for our kv
    # cache ... 16/0.002 ≈ 8000" tokens, "batch size 4 where each request has up to 2048 tokens"
    model = ServedModel(layers=64, d_model=8192, heads=64, kv_heads=64, head_dim=128, params=52e9, active_params=52e9)
    wl = serving.workload(prompt_tokens=1, output_tokens=1)
    out = serving.roofline(model, KIPPLY_A100, wl, EXACT, tp=3)
    tokens = out["max_batch"][0] * 2  # sequences of two tokens: the capacity in tokens
    assert tokens == pytest.approx(8000, rel=0.05)
    wl_2048 = serving.workload(prompt_tokens=1024, output_tokens=1024)
    assert serving.roofline(model, KIPPLY_A100, wl_2048, EXACT, tp=3)["max_batch"][0] == 3  # 3.7: "batch size 4"


def test_t6_single_stream_decode_floor_below_kipplys_measurement():
    # kipply (and llm-analysis examples/fastertransformer): 13B in FP16 on one A100-40GB, batch 1, 512 context:
    # FasterTransformer measured 22.0 ms per token. The roofline is a floor: at or below it, and within 25% of it
    # at 90% of the bandwidth (kipply: "up to about 90% of our full memory bandwidth").
    wl = serving.workload(prompt_tokens=512, output_tokens=10)
    shape = Shape(layers=40, d_model=5120, heads=40, head_dim=128, d_ff=4 * 5120, context=2048, vocab=50272, arch="gpt")
    model = ServedModel.from_shape(shape)
    full = serving.roofline(model, KIPPLY_A100, wl, EXACT, tp=1, batch=1)["decode_step_s"][0]
    ninety = serving.efficiency(bandwidth_fraction=0.9, memory_fraction=1.0, compute_fraction=1.0)
    at90 = serving.roofline(model, KIPPLY_A100, wl, ninety, tp=1, batch=1)["decode_step_s"][0]
    assert full * 1e3 <= 22.0
    assert at90 * 1e3 <= 22.0 and at90 * 1e3 >= 0.75 * 22.0


# T7, T8: NVIDIA NIM 1.8.0, Llama-3.3-70B-Instruct FP8 on 2 × H100 (TP2), 5,000 in / 500 out -----------------------


def test_t7_nim_single_stream_within_20_percent():
    # NIM benchmarking "Performance" page (LLM 1.0.0 docs), Llama-3.3-70b-instruct, concurrency 1: TTFT 406.77 ms,
    # ITL 18.58 ms
    r = serving.serve(LLAMA_70B, "h100", tp=2, prompt_tokens=5000, output_tokens=500, serve_bits=8, batch=1)
    assert r.time_per_output_token_s * 1e3 == pytest.approx(18.58, rel=0.20)
    assert r.time_to_first_token_s * 1e3 == pytest.approx(406.77, rel=0.20)


def test_t8_nim_saturated_within_20_percent():
    # same page, concurrency 150 (the throughput plateau): 920.9 output tokens/s, ITL 92.86 ms
    r = serving.serve(LLAMA_70B, "h100", tp=2, prompt_tokens=5000, output_tokens=500, serve_bits=8)
    assert r.output_tokens_per_s_per_gpu * 2 == pytest.approx(920.9, rel=0.20)
    assert r.time_per_output_token_s * 1e3 == pytest.approx(92.86, rel=0.20)


# T9, T10: TensorRT-LLM v1.0 max-throughput tables ------------------------------------------------------------------

# NVIDIA/TensorRT-LLM docs/source/performance/perf-overview.md (commit 00f3768, "NEW for v1.0"), "Total Output
# Throughput (tokens/sec)" of the whole TP group, FP8 checkpoints, trtllm-bench max throughput. Every row below was
# read in that table ("Llama 3.1 8B" H100 TP1; "Llama 3.3 70B" H100 TP2 and H200 TP1). The 8B 500/2000 row (17,660)
# is in the table though serving.md §2 row 19 leaves it out of its cited list.
TRT10 = [
    (LLAMA_8B, "h100", 1, 1000, 1000, 15_220),
    (LLAMA_8B, "h100", 1, 2048, 128, 3_450),
    (LLAMA_8B, "h100", 1, 128, 2048, 22_714),
    (LLAMA_8B, "h100", 1, 5000, 500, 3_459),
    (LLAMA_8B, "h100", 1, 500, 2000, 17_660),
    (LLAMA_8B, "h100", 1, 20000, 2000, 1_351),
    (LLAMA_70B, "h100", 2, 1000, 1000, 4_205),
    (LLAMA_70B, "h100", 2, 2048, 128, 762),
    (LLAMA_70B, "h100", 2, 128, 2048, 6_651),
    (LLAMA_70B, "h100", 2, 5000, 500, 898),
    (LLAMA_70B, "h100", 2, 20000, 2000, 437),
    (LLAMA_70B, "h200", 1, 1000, 1000, 2_909),
    (LLAMA_70B, "h200", 1, 2048, 128, 442),
    (LLAMA_70B, "h200", 1, 128, 2048, 4_336),
    (LLAMA_70B, "h200", 1, 5000, 500, 566),
    (LLAMA_70B, "h200", 1, 20000, 2000, 283),
]


@pytest.mark.parametrize(("model", "hw", "tp", "isl", "osl", "published"), TRT10)
def test_t9_tensorrt_llm_throughput_within_25_percent(model, hw, tp, isl, osl, published):
    # FP8 weights, FP8 compute and FP8 KV cache (the KV dtype of NVIDIA's FP8 checkpoints is unstated; with BF16 KV
    # the decode-heavy rows drop ~40%, so the test pins it), every efficiency at its default
    r = serving.serve(model, hw, tp=tp, prompt_tokens=isl, output_tokens=osl, serve_bits=8, kv_bits=8)
    assert r.precision == "fp8"
    assert r.output_tokens_per_s_per_gpu * tp == pytest.approx(published, rel=0.25)


# Llama 3.1 405B, H100 TP8 and H200 TP8, same table: 1000/1000, 2048/128, 128/2048, 5000/500
TRT10_405B = {"h100": (2_919, 453, 4_340, 610), "h200": (3_330, 456, 5_348, 650)}
LENGTHS_405B = ((1000, 1000), (2048, 128), (128, 2048), (5000, 500))


def t10_ratios(hw: str) -> list[float]:
    out = []
    for (isl, osl), published in zip(LENGTHS_405B, TRT10_405B[hw]):
        r = serving.serve(LLAMA_405B, hw, tp=8, prompt_tokens=isl, output_tokens=osl, serve_bits=8)
        out.append(r.output_tokens_per_s_per_gpu * 8 / published)
    return out


def test_t10_405b_at_tp8_calibration_is_reported():
    # A calibration target, not a pass/fail: the roofline over-predicts TP8 (serving.md T10: 1.19-1.55 without a
    # communication model). With the NCCL latency model and the link-bandwidth term it lands at 1.15-1.39
    # (README "Serving"); this test pins that it still over-predicts, by less than the reference's 1.55.
    ratios = t10_ratios("h100") + t10_ratios("h200")
    assert all(1.0 < x < 1.45 for x in ratios), ratios


# T12, T13: dollars per million -------------------------------------------------------------------------------------


def test_t12_mha_shape_prices_about_8_cents_per_million():
    # serving.md T12: a ~16.7B dense MHA model (44 layers × 5,632, 44 heads of 128, vocab 50k), BF16 weights and KV,
    # on H100 at $2/h (Sardana et al. 2024's price), 70/215 tokens: about $0.08-0.09 per million tokens, where
    # Sardana's fixed MFU prices it at $1.42 per million. Market prices for 8B-class models: $0.03-0.22 per million
    # (DeepInfra, cloudprice.net listings, serving.md §3).
    shape = Shape(
        layers=44, d_model=5632, heads=44, head_dim=128, d_ff=4 * 5632, context=2048, vocab=50_000, arch="gpt"
    )
    r = serving.serve(ServedModel.from_shape(shape), "h100", price=2.0)
    assert r.fits and 0.07 <= r.dollars_per_million <= 0.095
    assert r.dollars_per_million * 10 <= 1.42
    single = serving.serve(ServedModel.from_shape(shape), "h100", price=2.0, tp=1)
    # serving.md T12: B_max 132 on one H100 taken as 80e9 B at 0.9. The device reports 81,559 MiB (85.52e9 B, issue 22):
    # 4.97e9 more usable bytes / (2 x 44 x 5,632 x 2 B x 285 tokens = 0.2825e9 B per sequence) = 17 more sequences
    assert single.max_batch == 149
    assert 0.07 <= single.dollars_per_million <= 0.095


def test_t13_measured_throughput_prices_below_market():
    # TensorRT-LLM v1.0 table: Llama-3.3-70B FP8 on 2 × H100, 1000/1000: 4,205 output tokens/s; at $2 per GPU-hour
    # that is $0.264 per million output tokens, below DeepInfra's $0.38 for Llama-3.3-70B-Instruct-Turbo (fp8)
    per_m = float(dollars_per_million(4205 / 2, 2.0))
    assert per_m == pytest.approx(0.264, abs=0.001)
    assert per_m < 0.38


# Choices and labels -----------------------------------------------------------------------------------------------


def test_tp_is_the_cheapest_fitting_power_of_two():
    r = serving.serve(LLAMA_70B, "h100", serve_bits=16)
    assert r.tp in (2, 4, 8) and r.fits  # 141 GB of BF16 weights do not fit one 80 GB H100
    per_tp = [serving.serve(LLAMA_70B, "h100", tp=t).tokens_per_s_per_gpu for t in (2, 4, 8)]
    assert r.tokens_per_s_per_gpu == pytest.approx(max(per_tp))


def test_a_model_beyond_a_node_says_so():
    big = ServedModel(layers=126, d_model=16384, heads=128, kv_heads=8, head_dim=128, params=2e12, active_params=2e12)
    r = serving.serve(big, "h100")
    assert r.fits and r.tp > 8 and "pipeline" in r.notes[0]


def test_latency_target_sets_the_batch():
    free = serving.serve(LLAMA_8B, "h100", tp=1)
    tight = serving.serve(LLAMA_8B, "h100", tp=1, latency="interactive")
    assert tight.bound == "latency" and tight.batch < free.batch
    assert tight.time_per_output_token_s <= 0.040 + 1e-12


def test_moe_flops_from_active_bytes_from_stored():
    dense = ServedModel(layers=32, d_model=4096, heads=32, kv_heads=8, head_dim=128, params=47e9, active_params=47e9)
    moe = ServedModel(layers=32, d_model=4096, heads=32, kv_heads=8, head_dim=128, params=47e9, active_params=13e9)
    a = serving.serve(dense, "h100", tp=2, batch=256)
    b = serving.serve(moe, "h100", tp=2, batch=256)
    assert a.weight_bytes == b.weight_bytes and a.max_batch == b.max_batch
    assert b.compute_s < a.compute_s and b.prefill_s < a.prefill_s


def test_bad_inputs_name_the_argument():
    with pytest.raises(ScaleplanError, match="serve_bits"):
        serving.serve(LLAMA_8B, "h100", serve_bits=1)
    with pytest.raises(ScaleplanError, match="serve_tp"):
        serving.serve(LLAMA_8B, "h100", tp=3)
    with pytest.raises(ScaleplanError, match="latency"):
        serving.serve(LLAMA_8B, "h100", latency="fast")
    with pytest.raises(ScaleplanError, match="kv_heads"):
        ServedModel(layers=2, d_model=64, heads=4, kv_heads=3, head_dim=16, params=1e6, active_params=1e6)
    with pytest.raises(ScaleplanError, match="bandwidth_fraction"):
        serving.serve(LLAMA_8B, "h100", bandwidth_fraction=1.5)


def test_vectorised_over_candidates_matches_one_at_a_time():
    models = [LLAMA_8B, LLAMA_70B, MHA_13B]
    dev = serving.device("h100", price=2.0)
    out = serving.roofline(models, dev, serving.workload(), serving.efficiency())
    for i, m in enumerate(models):
        one = serving.serve(m, dev)
        assert out["tokens_per_s_per_gpu"][i] == pytest.approx(one.tokens_per_s_per_gpu)
        assert out["tp"][i] == one.tp


# Invariants (at a fixed TP) ---------------------------------------------------------------------------------------

DEV = serving.device("h100", price=2.0)


def _rate(model, tp=2, **wl):
    out = serving.roofline(model, DEV, serving.workload(**wl), serving.efficiency(), tp=tp)
    return float(out["tokens_per_s_per_gpu"][0]) if out["fits"][0] else 0.0


def _scaled(scale: float) -> ServedModel:
    """A 4,096-wide, 32-layer GQA model grown at fixed shape ratios (width and depth both ∝ scale^(1/3))."""
    k = scale ** (1 / 3)
    layers, heads = max(1, round(32 * k)), max(1, round(32 * k))
    n = 12.0 * layers * (heads * 128) ** 2
    return ServedModel(
        layers=layers, d_model=heads * 128, heads=heads, kv_heads=1, head_dim=128, params=n, active_params=n
    )


@given(st.floats(0.05, 4.0), st.floats(1.01, 3.0), st.integers(16, 8192), st.integers(16, 8192))
def test_throughput_never_rises_with_size(scale, grow, prompt, output):
    small, large = _scaled(scale), _scaled(scale * grow)
    assert _rate(large, prompt_tokens=prompt, output_tokens=output) <= _rate(
        small, prompt_tokens=prompt, output_tokens=output
    ) * (1 + 1e-9)


@given(st.integers(2, 15), st.integers(1, 14), st.integers(2, 16))
def test_throughput_never_rises_with_bits(bits, more, kv):
    hi = min(16, bits + more)
    assert _rate(LLAMA_8B, tp=1, serve_bits=hi, kv_bits=kv) <= _rate(LLAMA_8B, tp=1, serve_bits=bits, kv_bits=kv) * (
        1 + 1e-9
    )
    kv_hi = min(16, kv + more)
    assert _rate(LLAMA_8B, tp=1, serve_bits=bits, kv_bits=kv_hi) <= _rate(
        LLAMA_8B, tp=1, serve_bits=bits, kv_bits=kv
    ) * (1 + 1e-9)


@given(st.floats(0.3e12, 8e12), st.floats(0.1, 0.99))
def test_throughput_never_rises_when_bandwidth_falls(bw, fall):
    wl, eff = serving.workload(), serving.efficiency()
    hi = serving.roofline(LLAMA_70B, serving.device(DEV, bandwidth=bw), wl, eff, tp=4)
    lo = serving.roofline(LLAMA_70B, serving.device(DEV, bandwidth=bw * fall), wl, eff, tp=4)
    assert lo["tokens_per_s_per_gpu"][0] <= hi["tokens_per_s_per_gpu"][0] * (1 + 1e-9)


@given(st.floats(5.0, 500.0), st.floats(0.1, 0.99))
def test_cost_never_falls_when_the_latency_target_tightens(ms, tighten):
    def cost(target):
        r = serving.serve(LLAMA_8B, DEV, tp=1, latency=target)
        return r.dollars_per_million if r.fits else np.inf

    assert cost(ms * tighten) >= cost(ms) * (1 - 1e-9)


# The plan prices serving with the roofline (issue 23 items 2-4) -------------------------------------------------


def test_t12_the_plan_of_1e23_flops_serving_2e12_tokens():
    # serving.md T12: `allocate --flops 1e23 --inference-tokens 2e12` priced serving at $1.42 per million (Sardana
    # et al.'s fixed MFU 0.5/0.01; $2.85M); the roofline prices the same plan at least 10x lower and inside the
    # market range for 8B-class models, $0.03-0.22 per million (serving.md §3)
    import scaleplan

    p = scaleplan.plan(flops=1e23, inference_tokens=2e12)
    assert p.serving is not None and p.serving.fits
    per_m = p.serving.dollars_per_million
    assert per_m * 10 <= 1.42 and 0.03 <= per_m <= 0.22
    assert p.cost.inference_dollars == pytest.approx(2e12 * per_m / 1e6)
    assert p.cost.total_dollars == pytest.approx(p.cost.dollars + p.cost.inference_dollars)
    fixed = scaleplan.plan(flops=1e23, inference_tokens=2e12, inference={"serving_model": "fixed-mfu"})
    assert fixed.serving is None
    assert fixed.cost.inference_dollars / 2e12 * 1e6 == pytest.approx(1.42, abs=0.01)  # Sardana's form, as before


def test_serving_flags_reach_the_plan():
    import scaleplan

    p = scaleplan.plan(flops=1e22, inference_tokens=1e12, serve_bits=8, inference={"kv_bits": 8, "latency": "40"})
    s = p.serving
    assert (s.weight_bits, s.kv_bits, s.latency) == (8, 8, "40 ms")
    assert s.time_per_output_token_s <= 0.040
    with pytest.raises(ScaleplanError, match="fixed-mfu"):
        scaleplan.plan(flops=1e22, inference_tokens=1e12, inference={"decode_mfu": 0.1})


def test_cost_objective_says_how_it_differs_from_the_flop_objective():
    from scaleplan.pipeline.inference import inference_aware

    cost = inference_aware(2e12, flops=1e23, objective="cost")
    flops = inference_aware(2e12, flops=1e23, objective="flops")
    f = cost.flop_optimal
    assert f["params"] == pytest.approx(float(flops.inference_aware.params), rel=1e-6)
    assert "Cost-optimal" in f["note"] and "FLOP-optimal" in f["note"]
    # priced by the roofline, the cost optimum is cheaper in dollars than the FLOP optimum (same loss)
    assert cost.inference_aware.total_dollars <= flops.inference_aware.total_dollars * (1 + 1e-9)


def test_cost_sizing_is_vectorised_over_demand():
    from scaleplan.pipeline.inference import inference_aware

    demands = np.geomspace(1e10, 1e14, 7)
    many = inference_aware(demands, flops=1e22, objective="cost", break_even=False)
    for i in (0, 3, 6):
        one = inference_aware(float(demands[i]), flops=1e22, objective="cost", break_even=False)
        assert many.inference_aware.params[i] == pytest.approx(float(one.inference_aware.params), rel=1e-6)
    assert np.all(np.diff(many.inference_aware.params) <= 0)  # more to serve: a smaller model


def test_total_dollars_is_the_lowest_loss_model_that_fits():
    import scaleplan
    from scaleplan import laws
    from scaleplan.pipeline.inference import serving_costs
    from scaleplan.pipeline.total_budget import within_total

    p = scaleplan.plan(total_dollars=2e6, inference_tokens=5e12)
    tb = p.total_budget
    assert tb.training_dollars + tb.serving_dollars == pytest.approx(2e6)
    # at the designed shape (its exact count, within 3% of the law's N since issue 21's layout rules): within 1%
    assert p.cost.total_dollars == pytest.approx(2e6, rel=0.01)
    # no other size spending the same money reaches a lower loss
    law, costs = laws.get("epoch"), serving_costs()
    for scale in (0.7, 0.9, 1.1, 1.4):
        n = tb.params * scale
        serve = 5e12 * float(costs.dollars_per_token(n))
        d = (2e6 - serve) / (6 * n * costs.dollars_per_training_flop)
        assert float(law.loss(n, d)) >= tb.loss - 1e-9
    again = within_total("epoch", 2e6, 5e12, costs)
    assert again.params == pytest.approx(tb.params, rel=1e-6)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"total_dollars": 2e6}, "inference_tokens"),
        ({"total_dollars": 2e6, "inference_tokens": 5e12, "flops": 1e22}, "drop"),
        ({"total_dollars": 2e6, "inference_tokens": 5e12, "dollars": 1e6}, "drop"),
        ({"total_dollars": 10.0, "inference_tokens": 5e15}, "does not pay"),
    ],
)
def test_total_dollars_refuses_what_it_cannot_answer(fields, message):
    import scaleplan

    with pytest.raises(ScaleplanError, match=message):
        scaleplan.plan(**fields)


def test_over_budget_is_said_first():
    import scaleplan

    p = scaleplan.plan(dollars=1e5, inference_tokens=1e13)
    assert p.warnings[0].startswith("the inference-aware model trains on")
