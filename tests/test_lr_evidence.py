"""Which learning-rate/batch law is the default: each bundled law at published large runs' own N and D.

Published values (hard-coded; each checked in its primary source):
- Llama 2 7B / 70B: peak LR 3.0e-4 / 1.5e-4, global batch 4M tokens, 2.0T tokens, context 4,096 (Touvron et al.
  2023, arXiv:2307.09288, Table 1 and its caption). Shapes: HF config.json (32 x 4,096, d_ff 11,008, MHA; 80 x
  8,192, d_ff 28,672, 8 KV heads; vocabulary 32,000).
- Llama 3 8B / 70B / 405B: peak LR 3e-4 / 1.5e-4 / 8e-5 (Grattafiori et al. 2024, arXiv:2407.21783, Table 3);
  405B batch 4M tokens, then 8M after 252M tokens, 16M after 2.87T tokens, 15.6T tokens (Sec. 3.4.1); 8B and 70B
  "similar recipes" (Sec. 3.4), over 15T tokens (model card). Shapes: Table 3, vocabulary 128,256.
- DeepSeek LLM 7B / 67B: LR 4.2e-4 / 3.2e-4, batch 2,304 / 4,608 sequences of 4,096 tokens, 2T tokens, multi-step
  schedule (deepseek-ai/DeepSeek-LLM README.md, "Pre-Training Details"; arXiv:2401.02954 Table 2). Shapes: HF
  config.json (30 x 4,096, d_ff 11,008, MHA; 95 x 8,192, d_ff 22,016, 8 KV heads; vocabulary 102,400).
- OLMo 7B: LR 3.0e-4, batch 2,048 sequences of 2,048 tokens, linear decay (allenai/OLMo
  configs/official/OLMo-7B.yaml: optimizer.learning_rate, global_train_batch_size, max_sequence_length); trained to
  2.46T tokens (model card allenai/OLMo-7B, revision step556000-tokens2460B). Shape: same file (32 x 4,096,
  mlp_hidden_size 22,016 = 2 x 11,008, embedding 50,304, untied).

Run as a script (`python tests/test_lr_evidence.py`) to print the README table.
"""

import math
import re
import sys
from pathlib import Path

from scaleplan.recipe import design as R

README = Path(__file__).resolve().parents[1] / "README.md"

# name: (layers, d_model, heads, d_ff, context, vocab, kv_heads, tokens, published LR, published batch tokens)
RUNS = {
    "Llama 2 7B": (32, 4096, 32, 11008, 4096, 32000, 32, 2.0e12, 3.0e-4, 4.0e6),
    "Llama 2 70B": (80, 8192, 64, 28672, 4096, 32000, 8, 2.0e12, 1.5e-4, 4.0e6),
    "Llama 3 8B": (32, 4096, 32, 14336, 8192, 128256, 8, 15e12, 3.0e-4, None),
    "Llama 3 70B": (80, 8192, 64, 28672, 8192, 128256, 8, 15e12, 1.5e-4, None),
    "Llama 3 405B": (126, 16384, 128, 53248, 8192, 128256, 8, 15.6e12, 8.0e-5, 16.0e6),
    "DeepSeek LLM 7B": (30, 4096, 32, 11008, 4096, 102400, 32, 2.0e12, 4.2e-4, 2304 * 4096),
    "DeepSeek LLM 67B": (95, 8192, 64, 22016, 4096, 102400, 8, 2.0e12, 3.2e-4, 4608 * 4096),
    "OLMo 7B": (32, 4096, 32, 11008, 2048, 50304, 32, 2.46e12, 3.0e-4, 2048 * 2048),
}
LAWS = ("deepseek", "steplaw", "porian", "steplaw-paper")  # kaplan-bcrit gives a batch from a loss, no LR


def law_values(name: str) -> dict[str, tuple[float, float]]:
    layers, d, heads, ff, ctx, vocab, kv, tokens, _lr, _b = RUNS[name]
    s = R.Shape(layers, d, heads, d // heads, ff, ctx, vocab, tied_embeddings=False, kv_heads=kv, arch="llama")
    rows = R.hyperparameters(shape=s, tokens=tokens, law="steplaw-paper")  # every law with an LR at (N, D)
    return {h.law: (h.learning_rate, h.batch_tokens_raw) for h in rows}


def factor(a: float, b: float) -> float:
    """How many times apart two positive numbers are (>= 1)."""
    return math.exp(abs(math.log(a / b)))


def table() -> str:
    head = "| run | tokens | published LR | " + " | ".join(LAWS) + " | published batch | deepseek | steplaw |"
    lines = [head, "|" + "---|" * (len(LAWS) + 6)]
    for name, run in RUNS.items():
        v, tokens, lr, batch = law_values(name), run[7], run[8], run[9]
        cells = [f"{v[law][0]:.2e} ({factor(v[law][0], lr):.1f}x)" for law in LAWS]
        pub_b = "-" if batch is None else f"{batch / 1e6:.1f}M"
        bs = [f"{v[law][1] / 1e6:.1f}M" for law in ("deepseek", "steplaw")]
        lines.append(
            f"| {name} | {tokens / 1e12:g}T | {lr:.1e} | " + " | ".join(cells) + f" | {pub_b} | {' | '.join(bs)} |"
        )
    return "\n".join(lines)


def test_published_values_as_the_sources_print_them():
    assert RUNS["Llama 2 7B"][8] == 3.0e-4 and RUNS["Llama 2 70B"][8] == 1.5e-4  # Touvron 2023 Table 1
    assert [RUNS[f"Llama 3 {s}"][8] for s in ("8B", "70B", "405B")] == [3e-4, 1.5e-4, 8e-5]  # Llama 3 Table 3
    assert RUNS["DeepSeek LLM 7B"][8:] == (4.2e-4, 9_437_184) and RUNS["DeepSeek LLM 67B"][8:] == (3.2e-4, 18_874_368)
    assert RUNS["OLMo 7B"][8:] == (3.0e-4, 4_194_304)
    # the shapes are the released models: Llama 2 7B 6,738,415,616 and Llama 3 405B 405,853,388,800 parameters
    layers, d, heads, ff, ctx, vocab, kv = RUNS["Llama 3 405B"][:7]
    s = R.Shape(layers, d, heads, 128, ff, ctx, vocab, tied_embeddings=False, kv_heads=kv)
    assert s.total_params == 405_853_388_800


def test_the_default_lr_law_is_the_one_closest_to_large_runs():
    worst = {law: max(factor(law_values(n)[law][0], RUNS[n][8]) for n in RUNS) for law in LAWS}
    mean = {law: sum(math.log(factor(law_values(n)[law][0], RUNS[n][8])) for n in RUNS) for law in LAWS}
    assert min(mean, key=mean.get) == "deepseek" and worst["deepseek"] < 2.5 < 6 < worst["steplaw"]
    # DeepSeek's eq. 1 reproduces its own 7B run (4.24e-4 vs 4.2e-4) and is off most at Llama 3 405B (1.96e-4 vs 8e-5)
    assert law_values("DeepSeek LLM 7B")["deepseek"][0] == pytest_approx(4.24e-4, 0.01)
    assert law_values("Llama 3 405B")["deepseek"][0] == pytest_approx(1.96e-4, 0.01)
    rows = R.hyperparameters(params=7e9, tokens=2e12)
    assert [h.law for h in rows if h.default] == ["deepseek"]


def pytest_approx(x: float, rel: float):
    import pytest

    return pytest.approx(x, rel=rel)


def test_readme_carries_the_table_as_computed():
    text = README.read_text()
    assert table() in text, "README's learning-rate evidence table is stale: python tests/test_lr_evidence.py"


def test_one_learning_rate_under_one_name_and_the_spread():
    import json

    from typer.testing import CliRunner

    from scaleplan.cli import app as cli

    res = CliRunner().invoke(cli.app, ["allocate", "--flops", "1e23", "-f", "json"])
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    sched = data["recipe"]["schedule"]
    assert data["learning_rate"] == sched["peak_lr"] == data["cosine_peak_lr"] / 2
    assert sched["cosine_peak_lr"] == data["recipe"]["cosine_peak_lr"] == data["cosine_peak_lr"]
    assert sched["warmup_steps"] + sched["stable_steps"] + sched["decay_steps"] == sched["steps"]
    assert sched["min_lr"] == 0.0 and sched["decay_shape"] == "1-sqrt"
    lo, hi = data["recipe"]["lr_spread"]
    rates = [h["learning_rate"] for h in data["recipe"]["hparams"] if h["learning_rate"] is not None]
    assert (lo, hi) == (min(rates), max(rates)) and lo < data["cosine_peak_lr"] <= hi
    table_text = CliRunner().invoke(cli.app, ["allocate", "--flops", "1e23"]).stdout
    rows = [line.split("  ")[1:] for line in table_text.splitlines()]
    labels = [line.strip().split("  ")[0] for line in table_text.splitlines() if line.strip()]
    first_lr = next(label for label in labels if "learning rate" in label or "LR" in label)
    assert first_lr == "learning rate (wsd peak)" and rows
    assert f"{data['learning_rate']:.2e}".replace("e-0", "e-") in table_text
    assert "cosine peak LR" in table_text
    assert re.search(r"LR spread across laws\s+\d\.\d\de-\d - \d\.\d\de-\d", table_text)


if __name__ == "__main__":
    print(table())
    sys.exit(0)
