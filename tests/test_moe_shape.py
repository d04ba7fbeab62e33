"""Mixtures of experts as integer models: exact counts of published MoEs, designed shapes within tolerance of the
plan's counts, the MoE recipe, and published MoE layouts in memory.

Published numbers are written here with their source; none is read from the YAML the code uses."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from scaleplan.cli import app as cli
from scaleplan.cluster import memory
from scaleplan.cluster.cost import get_hardware
from scaleplan.pipeline import moe
from scaleplan.recipe import moe_shape
from scaleplan.recipe.moe_shape import Mla, MoeShape, _base

runner = CliRunner()


def mixtral() -> MoeShape:
    # Jiang et al. 2024 (Mixtral of Experts, arXiv:2401.04088), Table 1: dim 4096, n_layers 32, head_dim 128,
    # hidden_dim 14336, n_heads 32, n_kv_heads 8, context_len 32768, vocab_size 32000, num_experts 8, top_k_experts 2;
    # untied output head (Hugging Face config.json: tie_word_embeddings false).
    return MoeShape(
        _base(32, 4096, 32, 128, 14336, 32768, 32000, True, kv_heads=8), experts=8, top_k=2, expert_d_ff=14336
    )


def deepseek_v3() -> MoeShape:
    # DeepSeek-AI 2024 (DeepSeek-V3, arXiv:2412.19437) Sec. 4.2: 61 layers, hidden 7168, 128 heads of 128,
    # KV compression 512, query compression 1536, decoupled RoPE head 64; MoE in all but the first 3 layers,
    # 1 shared + 256 routed experts of width 2048, 8 routed per token; vocabulary 128K (129,280 in config.json);
    # the first 3 dense layers' width 18,432 and the router's bias from the released config.json.
    return MoeShape(
        _base(61, 7168, 128, 128, 18432, 4096, 129280, True),
        experts=256,
        top_k=8,
        expert_d_ff=2048,
        shared_experts=1,
        moe_layers=58,
        router_bias=True,
        mla=Mla(kv_lora_rank=512, qk_nope_head_dim=128, qk_rope_head_dim=64, v_head_dim=128, q_lora_rank=1536),
    )


def deepseek_v2() -> MoeShape:
    # DeepSeek-AI 2024 (DeepSeek-V2, arXiv:2405.04434) Sec. 3.1.2: 60 layers, hidden 5120, 128 heads of 128,
    # KV compression 512, query compression 1536, RoPE head 64; all FFNs but the first MoE: 2 shared + 160 routed
    # experts of width 1536, 6 routed per token; vocabulary 100K (102,400); the dense layer's 12,288 from config.json.
    return MoeShape(
        _base(60, 5120, 128, 128, 12288, 4096, 102400, True),
        experts=160,
        top_k=6,
        expert_d_ff=1536,
        shared_experts=2,
        moe_layers=59,
        mla=Mla(kv_lora_rank=512, qk_nope_head_dim=128, qk_rope_head_dim=64, v_head_dim=128, q_lora_rank=1536),
    )


def olmoe() -> MoeShape:
    # Muennighoff et al. 2024 (OLMoE, arXiv:2409.02060): 16 layers, d_model 2048, 16 heads, 64 experts of width 1024
    # (SwiGLU), 8 per token, QK-norm, vocabulary 50,304 (embedding size), untied (allenai/OLMoE configs).
    return MoeShape(
        _base(16, 2048, 16, 128, 1024, 4096, 50304, True), experts=64, top_k=8, expert_d_ff=1024, qk_norm=True
    )


def test_mixtral_counts_exactly():
    """Mixtral-8x7B: 46.7B total and 12.9B active (Mixtral paper Sec. 2 and 3: "47B parameters", "13B active");
    Counted exactly with the router and RMSNorm weights: 46,702,792,704 total (as Hugging Face's MixtralForCausalLM
    holds them) and 12,879,925,248 active with both embedding matrices."""
    m = mixtral()
    assert round(m.total_params / 1e9, 2) == 46.70
    assert round(m.active_params / 1e9, 2) == 12.88
    assert m.total_params == 46_702_792_704
    assert m.active_params == 12_879_925_248
    assert m.kv_heads == 8 and m.experts == 8 and m.top_k == 2


def test_deepseek_v3_counts():
    """DeepSeek-V3 (arXiv:2412.19437, abstract): 671B total, 37B activated per token. The activated count matches
    without the input-embedding lookup (36.6B); with it 37.6B."""
    m = deepseek_v3()
    assert round(m.total_params / 1e9) == 671
    assert round((m.active_params - m.vocab * m.d_model) / 1e9) == 37
    assert m.dense_layers == 3 and m.moe_layers == 58


def test_deepseek_v2_counts():
    """DeepSeek-V2 (arXiv:2405.04434, abstract): 236B total, 21B activated."""
    m = deepseek_v2()
    assert round(m.total_params / 1e9) == 236
    assert round((m.active_params - m.vocab * m.d_model) / 1e9) == 21


def test_olmoe_counts():
    """OLMoE-1B-7B (arXiv:2409.02060): 6.9B total, 1.3B active."""
    m = olmoe()
    assert round(m.total_params / 1e9, 1) == 6.9
    assert round(m.active_params / 1e9, 1) == 1.3


def test_integer_fields_are_ints():
    d = deepseek_v3().to_dict()
    for key in ("layers", "d_model", "heads", "kv_heads", "head_dim", "experts", "top_k", "expert_d_ff"):
        assert type(d[key]) is int, key
    for key in ("shared_experts", "moe_layers", "dense_layers", "vocab", "params_total", "params_active"):
        assert type(d[key]) is int, key


@pytest.mark.parametrize(
    "flops",
    # Krajewski et al. 2024 Table 2's compute-optimal budgets (1e8 to 1e12 active parameters)
    [2.95e18, 1.93e20, 1.41e21, 6.46e21, 1e22, 4.16e23, 5.69e24, 4.97e25],
)
def test_optimal_moe_shape_within_3_percent(flops):
    plan = moe.moe_allocation(flops)
    shape, warnings = moe_shape.design_law_moe(
        plan.active_params, plan.total_params, plan.d_model, plan.granularity, plan.expansion
    )
    active, total = shape.law_counts
    assert abs(active / plan.active_params - 1) <= 0.03
    assert abs(total / plan.total_params - 1) <= 0.03
    assert shape.experts == round(plan.granularity * plan.expansion)
    assert shape.top_k == round(plan.granularity)
    assert shape.shared_experts == 0  # Krajewski et al.'s family has none
    assert not any("closest whole shape" in w for w in warnings)


@pytest.mark.parametrize(
    "total, active",
    [
        (671e9, 37e9),  # DeepSeek-V3 (arXiv:2412.19437)
        (236e9, 21e9),  # DeepSeek-V2 (arXiv:2405.04434)
        (46.7e9, 12.9e9),  # Mixtral-8x7B (arXiv:2401.04088)
        (6.9e9, 1.3e9),  # OLMoE-1B-7B (arXiv:2409.02060)
        (141e9, 39e9),  # Mixtral-8x22B (Mistral AI, 2024)
        (1e12, 1e9),  # 1,000 to 1: thousands of experts, the router counted
        (10e9, 10e9),  # total = active: every expert used
    ],
)
def test_given_moe_within_1_percent(total, active):
    s = moe_shape.design_given_moe(total, active)
    assert abs(s.total_params / total - 1) <= 0.01
    assert abs(s.active_params / active - 1) <= 0.01
    assert s.top_k <= s.experts


@given(
    active=st.floats(min_value=5e8, max_value=2e11),
    ratio=st.floats(min_value=2.0, max_value=30.0),
)
def test_given_moe_property(active, ratio):
    """Any given pair of counts with a few experts' worth of spread gets a shape within 1% of both."""
    s = moe_shape.design_given_moe(active * ratio, active)
    assert abs(s.total_params / (active * ratio) - 1) <= 0.01
    assert abs(s.active_params / active - 1) <= 0.01


@given(flops=st.floats(min_value=1e18, max_value=1e26))
def test_optimal_moe_shape_property(flops):
    """Any budget's integer MoE stays within 3% of the law's active and total counts, with whole fields."""
    plan = moe.moe_allocation(flops)
    shape, _ = moe_shape.design_law_moe(
        plan.active_params, plan.total_params, plan.d_model, plan.granularity, plan.expansion
    )
    active, total = shape.law_counts
    assert abs(active / plan.active_params - 1) <= 0.03
    assert abs(total / plan.total_params - 1) <= 0.03
    assert shape.d_model == shape.heads * shape.head_dim


def test_given_moe_impossible_is_one_line():
    res = runner.invoke(
        cli.app, ["allocate", "--moe", "--total-params", "100T", "--active-params", "1B", "--tokens", "1T"]
    )
    assert res.exit_code == 2
    assert "router" in res.output and "Traceback" not in res.output


def test_recipe_from_active_compute():
    """The recipe reads DeepSeek's eq. 1 at C = M_active D: for DeepSeek-V3's own shape on 14.8T tokens it gives a
    rate within a factor 1.5 of the 2.2e-4 the run used (arXiv:2412.19437 Sec. 4.2)."""
    r = moe_shape.moe_recipe(deepseek_v3(), 14.8e12)
    assert r.hparams.law == "deepseek"
    assert 2.2e-4 / 1.5 < r.cosine_peak_lr < 2.2e-4 * 1.5
    assert "extrapolated" in r.basis and "dense" in r.basis
    fields = r.plan_fields()
    assert {"vocab", "learning_rate", "batch_tokens", "shape"} <= set(fields)
    assert {"experts", "top_k", "expert_d_ff", "shared_experts", "moe_layers"} <= set(fields["shape"])


def test_deepseek_v3_published_layout_fits_h800():
    """DeepSeek-V3 (arXiv:2412.19437 Sec. 3.2): 2,048 H800s, 16-way pipeline, 64-way expert parallelism, ZeRO-1 data
    parallelism, no tensor parallelism: 61 layers on 16 stages (uneven), and it fits in an H800's memory."""
    m = deepseek_v3()
    spec = memory.ModelSpec(
        float(m.total_params),
        m.layers,
        m.d_model,
        m.heads,
        4096,
        d_ff=m.active_ffn_width,
        glu=True,
        expert_params=float(m.routed_expert_params),
    )
    lay = memory.plan_layout(spec, get_hardware("h800"), 2048, zero=1, tp=1, pp=16, ep=64)
    s = lay.suggested
    assert (s.tp, s.pp, s.dp, s.ep) == (1, 16, 128, 64)
    assert s.uneven and s.stage_layers == 4
    assert s.fits


def test_pins_are_checked():
    spec = memory.ModelSpec(70e9, 80, 8192, 64, 4096)
    hw = get_hardware("h100")
    with pytest.raises(Exception, match="expert parallel"):
        memory.plan_layout(spec, hw, 1024, ep=8)
    with pytest.raises(Exception, match="divide the 64"):
        memory.plan_layout(spec, hw, 1024, tp=3)
    lay = memory.plan_layout(spec, hw, 1024, tp=8, pp=4)
    assert (lay.suggested.tp, lay.suggested.pp, lay.suggested.ep) == (8, 4, 1)


def test_cli_moe_plan_has_a_model_and_recipe():
    res = runner.invoke(cli.app, ["allocate", "--flops", "1e22", "--moe", "-f", "json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert isinstance(d["vocab"], int) and d["learning_rate"] > 0 and isinstance(d["batch_tokens"], int)
    s = d["shape"]
    assert s["experts"] == 2048 and isinstance(s["layers"], int) and isinstance(s["d_model"], int)
    law = d["params_law_convention"]  # the designed shape's, in Krajewski et al.'s convention: the plan's counts
    assert law["active"] == d["params"] and (d["params_active"], d["params_total"]) == (
        s["params_active"],
        s["params_total"],
    )
    assert abs(law["active"] / d["law_params"]["params_active"] - 1) <= 0.03  # within 3% of the law's optimum
    assert abs(law["total"] / d["law_params"]["params_total"] - 1) <= 0.03


def test_cli_given_moe_has_a_shape():
    args = ["allocate", "--moe", "--total-params", "671B", "--active-params", "37B", "--tokens", "14.8T", "-f", "json"]
    res = runner.invoke(cli.app, args)
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert abs(d["shape"]["params_total"] / 671e9 - 1) <= 0.01
    assert abs(d["shape"]["params_active"] / 37e9 - 1) <= 0.01
    assert d["learning_rate"] > 0 and "top_k" in d["shape"]


def test_cli_cluster_pinned_deepseek_layout():
    args = (
        "cluster --params 671B --active-params 37B --tokens 14.8T --hardware h800 --gpus 2048 --precision fp8 "
        "--layers 61 --d-model 7168 --heads 128 --context 4096 --tp 1 --pp 16 --ep 64 -f json"
    ).split()
    res = runner.invoke(cli.app, args)
    assert res.exit_code == 0, res.output
    s = json.loads(res.stdout)["memory"]["suggested"]
    assert (s["tp"], s["pp"], s["ep"], s["dp"]) == (1, 16, 64, 128)
    assert s["fits"]


def test_cli_bad_pin_is_one_line():
    args = "cluster --params 70B --tokens 2T --gpus 1000 --pp 3 --tp 8".split()
    res = runner.invoke(cli.app, args)
    assert res.exit_code == 2
    assert "must divide" in res.output and "Traceback" not in res.output


def test_allocate_given_moe_on_pinned_layout():
    """allocate and budget files take --tp/--pp/--ep (keys tp, pp, ep): DeepSeek-V3's counts on its published
    PP 16 x EP 64 layout of 2,048 H800s (arXiv:2412.19437 Sec. 3.2)."""
    args = (
        "allocate --moe --total-params 671B --active-params 37B --tokens 14.8T --hardware h800 --precision fp8 "
        "--mfu 0.173 --gpus 2048 --tp 1 --pp 16 --ep 64 --context 4096 --layers 61 --d-model 7168 -f json"
    ).split()
    res = runner.invoke(cli.app, args)
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    s = d["cluster"]["memory"]["suggested"]
    assert (s["tp"], s["pp"], s["ep"], s["dp"]) == (1, 16, 64, 128)
    assert s["stage_layers"] == 4 and d["shape"]["layers"] == 61


def test_optimal_moe_plan_on_a_cluster_shows_ep():
    res = runner.invoke(cli.app, ["allocate", "--flops", "1e22", "--moe", "--gpus", "256", "-f", "json"])
    assert res.exit_code == 0, res.output
    m = json.loads(res.stdout)["cluster"]["memory"]["suggested"]
    assert m["ep"] > 1 and m["dp"] % m["ep"] == 0


def test_budget_file_keys_tp_pp_ep(tmp_path):
    """A budget file pins the layout with tp, pp and ep, parsed by the same field parser as the flags."""
    from scaleplan.pipeline.budget import Budget

    b = Budget.from_mapping({"flops": "1e22", "moe": True, "gpus": 256, "tp": 1, "pp": 4, "ep": 16})
    assert (b.tp, b.pp, b.ep) == (1, 4, 16) and b.on_cluster
    path = tmp_path / "b.yaml"
    path.write_text("flops: 1.0e+22\nmoe: true\ngpus: 256\nep: 0\n")
    res = runner.invoke(cli.app, ["plan", str(path)])
    assert res.exit_code == 2 and "ep" in res.output and "Traceback" not in res.output
