"""Layouts a trainer accepts (issue 21): the suggested TP divides the heads and is a multiple or divisor of the KV
heads, PP divides the layers, and DP x micro-batch divides the global batch, which is rounded with the layout.

Megatron-LM's checks (NVIDIA/Megatron-LM at d98e8a64): transformer_config.py:1446 heads % TP == 0, :1462 query
groups a multiple or divisor of TP; transformer_block.py:158 layers % PP == 0 unless uneven stages are asked for;
num_microbatches_calculator.py:381 global batch % (micro-batch x DP) == 0.
"""

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from scaleplan.cli.app import app
from scaleplan.cluster import memory
from scaleplan.cluster.cost import get_hardware
from scaleplan.recipe.design import batch_multiple

runner = CliRunner()
GPUS = [8, 64, 512, 1024, 4096, 16384]


def run_json(*args):
    result = runner.invoke(app, [str(a) for a in args] + ["-f", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@settings(max_examples=12)
@given(st.floats(17, 26), st.sampled_from(GPUS), st.sampled_from([1, 2]))
def test_allocate_layout_divides_the_shape_and_the_batch(log_flops, gpus, micro):
    d = run_json("allocate", "--flops", f"{10**log_flops:.4g}", "--gpus", gpus, "--micro-batch", micro)
    shape, mem = d["shape"], d["cluster"]["memory"]
    s = mem["suggested"]
    tp, pp, dp = s["tp"], s["pp"], s["dp"]
    assert tp * pp * dp == gpus
    assert shape["heads"] % tp == 0
    assert shape["kv_heads"] % tp == 0 or tp % shape["kv_heads"] == 0
    assert shape["layers"] % pp == 0
    batch = d["batch_sequences"]
    assert batch == mem["batch_sequences"] and batch % (dp * micro) == 0
    assert d["batch_tokens"] == batch * shape["context"] == mem["tokens_per_step"]
    law = mem["batch_sequences_law"]
    moved = abs(batch - law) > memory.BATCH_TOLERANCE * law
    assert moved == any("global batch moves" in w for w in d["warnings"])  # said whenever it moves more than 5%
    # cluster, given the same model and tokens, chooses the same layout and batch
    c = run_json(
        "cluster",
        "--params",
        shape["params_total"],
        "--tokens",
        f"{d['tokens']:.17g}",
        "--gpus",
        gpus,
        "--micro-batch",
        micro,
        "--layers",
        shape["layers"],
        "--d-model",
        shape["d_model"],
        "--heads",
        shape["heads"],
    )
    cs = c["memory"]["suggested"]
    assert (cs["tp"], cs["pp"], cs["dp"]) == (tp, pp, dp)
    # cluster designs its own vocabulary (28,672 against allocate's 28,288 at 1e20), so the law's batch may differ
    # slightly and round to the neighbouring multiple of DP x micro-batch
    assert c["memory"]["batch_sequences_law"] == pytest.approx(law, rel=0.02)
    assert abs(c["memory"]["batch_sequences"] - batch) <= max(dp * micro, 0.02 * law)


@settings(max_examples=30)
@given(st.floats(17, 26))
def test_batch_without_a_cluster_is_a_power_of_two_multiple_within_3_percent(log_flops):
    d = run_json("allocate", "--flops", f"{10**log_flops:.4g}")
    row = next(h for h in d["recipe"]["hparams"] if h.get("default"))
    raw = row["batch_tokens_raw"] / d["shape"]["context"]
    m = batch_multiple(raw)
    assert m & (m - 1) == 0 and d["batch_sequences"] % m == 0
    if raw >= 128:
        assert m >= raw / 32 and abs(d["batch_sequences"] - raw) <= raw / 32  # within 3.1 % of the law's
        assert abs(d["batch_sequences"] - raw) <= 0.05 * raw


def test_the_issue_plan_admits_wide_data_parallelism():
    # issue 21: 2,184 sequences = 2^3.3.7.13 allowed at most 8-way DP; the law's 2,184.x now rounds to 2,176 = 17 x 128
    # (StepLaw's batch, the issue's plan; the default law is now DeepSeek's, whose batch rounds the same way)
    d = run_json("allocate", "--flops", "1e23", "--inference-tokens", "2e12", "--lr-law", "steplaw")
    assert d["batch_sequences"] == 2176
    g = run_json("allocate", "--flops", "1e23", "--inference-tokens", "2e12", "--gpus", 1024)
    s = g["cluster"]["memory"]["suggested"]
    assert g["batch_sequences"] % s["dp"] == 0 and s["dp"] >= 64


def test_tp_choices_follow_the_kv_heads():
    hw = get_hardware("h100")
    spec = memory.ModelSpec(7e9, 32, 4096, 32, 4096, kv_heads=2)  # 2 query groups: TP 1, 2, 4, 8 (multiples of 2)
    assert memory.tp_choices(spec, hw) == [1, 2, 4, 8]
    spec = memory.ModelSpec(7e9, 30, 3840, 30, 4096, kv_heads=6)  # 30 heads, 6 groups: TP 4 divides neither
    assert memory.tp_choices(spec, hw) == [1, 2]
    assert memory.pp_choices(spec) == [1, 2, 3, 5, 6, 10, 15, 30]


def test_llama3_405b_published_layout_is_accepted():
    # Llama 3 405B (Dubey et al. 2024, arXiv:2407.21783, Table 4: TP 8, PP 16, DP 128 on 16,384 GPUs at 8K context;
    # 16M tokens per batch; Table 3: 126 layers, 128 heads, 8 KV heads). 126 layers on 16 stages is uneven (sec. 3.3.2
    # takes a layer off the first and last stages), so only a pinned PP gives it.
    spec = memory.ModelSpec(405.85e9, 126, 16384, 128, 8192, d_ff=53248, kv_heads=8, glu=True)
    hw = get_hardware("h100")
    assert 8 in memory.tp_choices(spec, hw) and 16 not in memory.pp_choices(spec)
    lp = memory.plan_layout(spec, hw, 16384, tp=8, pp=16, batch=2048)  # Table 4: 16 per DP rank x 128
    s = lp.suggested
    assert (s.tp, s.pp, s.dp) == (8, 16, 128) and s.uneven and s.stage_layers == math.ceil(126 / 16)
    assert lp.batch_sequences == 2048 and lp.tokens_per_step == 2048 * 8192  # 16M tokens per step (sec. 3.4.1)
    free = memory.plan_layout(spec, hw, 16384, batch=2048).suggested
    assert 126 % free.pp == 0 and 2048 % free.dp == 0
