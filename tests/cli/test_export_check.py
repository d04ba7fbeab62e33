"""`scaleplan export` and `scaleplan check`: files a trainer reads, read back with the plan's exact counts, and the
project's file-safety rules (never over a file without --force, never over an input, nothing left on failure)."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scaleplan.cli.app import app
from scaleplan.recipe.trainer_configs import read_config

REPO = Path(__file__).resolve().parents[2]

runner = CliRunner()
DATA = REPO / "tests" / "data"


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def ok(*args):
    result = run(*args)
    assert result.exit_code == 0, result.stderr + result.stdout
    return result


def fails(*args, message):
    result = run(*args)
    assert result.exit_code == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    return result


@pytest.fixture(scope="module")
def plan_1e21():
    return json.loads(ok("allocate", "--flops", "1e21", "--gpus", "64", "--format", "json").stdout)


def test_export_hf_round_trips_the_plans_counts(tmp_path, plan_1e21):
    ok("export", "hf", "--flops", "1e21", "--gpus", "64", "--output", tmp_path / "model")
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == ["config.json", "training.yaml"]
    config = read_config(tmp_path / "model" / "config.json")
    for key in ("layers", "d_model", "heads", "head_dim", "d_ff", "vocab", "context", "tied_embeddings"):
        assert config.shape[key] == plan_1e21["shape"][key]
    checked = json.loads(ok("check", tmp_path / "model" / "config.json", "--tokens", "60B", "--format", "json").stdout)
    assert checked["params_total"] == plan_1e21["shape"]["params_total"]
    assert checked["params_non_embedding"] == plan_1e21["shape"]["params_non_embedding"]
    assert checked["flops_per_token"] == plan_1e21["flops_per_token"]


def test_export_hf_training_settings(tmp_path, plan_1e21):
    import yaml

    ok("export", "hf", "--flops", "1e21", "--gpus", "64", "--output", tmp_path / "m")
    s = yaml.safe_load((tmp_path / "m" / "training.yaml").read_text())
    sched = plan_1e21["recipe"]["schedule"]
    assert s["parameters"] == plan_1e21["shape"]["params_total"]
    assert s["global_batch_sequences"] == plan_1e21["batch_sequences"] and s["steps"] == sched["steps"]
    lr = s["learning_rate"]
    assert lr["peak"] == pytest.approx(sched["peak_lr"], rel=1e-3)
    assert lr["cosine_peak"] == pytest.approx(sched["cosine_peak_lr"], rel=1e-3)
    assert lr["warmup_steps"] + lr["stable_steps"] + lr["decay_steps"] == s["steps"]
    assert s["layout"]["gpus"] == 64


def test_export_from_a_plan_json_and_a_budget_file(tmp_path, plan_1e21):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(plan_1e21))
    ok("export", "hf", plan, "--output", tmp_path / "a")
    ok("export", "hf", "--flops", "1e21", "--gpus", "64", "--output", tmp_path / "b")
    assert (tmp_path / "a" / "config.json").read_text() == (tmp_path / "b" / "config.json").read_text()
    budget = tmp_path / "budget.yaml"
    budget.write_text("scenarios:\n  - {name: small, flops: 1e21, gpus: 64}\n  - {name: big, flops: 1e22}\n")
    fails("export", "hf", budget, "--output", tmp_path / "c", message="has 2 scenarios; name one with --scenario")
    ok("export", "hf", budget, "--scenario", "small", "--output", tmp_path / "c")
    assert (tmp_path / "c" / "config.json").read_text() == (tmp_path / "b" / "config.json").read_text()
    fails("export", "hf", plan, "--flops", "1e22", "--output", tmp_path / "d", message="is a finished plan")


def test_export_file_safety(tmp_path):
    out = tmp_path / "m"
    ok("export", "hf", "--flops", "1e21", "--output", out)
    before = (out / "config.json").read_text()
    fails("export", "hf", "--flops", "1e22", "--output", out, message="exists; pass --force")
    assert (out / "config.json").read_text() == before
    ok("export", "hf", "--flops", "1e22", "--output", out, "--force")
    assert (out / "config.json").read_text() != before
    budget = tmp_path / "b.yaml"
    budget.write_text("flops: 1e21\n")
    fails("export", "hf", budget, "--output", budget, message="a file; the hf export writes a folder")
    fails("export", "hf", "--flops", "1e21", "--output", tmp_path / "no" / "m", message="does not exist")
    fails("export", "hf", "--flops", "1e21", message="give --output")
    fails("export", "tflite", "--flops", "1e21", "--output", tmp_path / "x", message="FORMAT must be one of")
    assert not (tmp_path / "x").exists()
    fails("export", "hf", "--flops", "1e-30", "--output", tmp_path / "y", message="--flops")
    assert not (tmp_path / "y").exists()  # refused before the folder was made


def test_export_to_stdout():
    out = ok("export", "hf", "--flops", "1e21", "--output", "-").stdout
    assert "==> config.json <==" in out and "==> training.yaml <==" in out


def test_check_smollm_from_its_nanotron_config():
    d = json.loads(ok("check", DATA / "smollm1-135M-nanotron.yaml", "--format", "json").stdout)
    assert d["tokens"] == 600_000 * 512 * 2048 and d["tokens_source"].startswith("the config")
    assert d["learning_rate_given"] == 0.003 and d["batch_tokens_given"] == 512 * 2048
    assert d["vocab"] == 49152 and d["vocab_optimal"] > 0
    assert {r["law"] for r in d["rows"]} >= {"epoch", "chinchilla"}
    assert all(r["given_lr_ratio"] is None or r["given_lr_ratio"] > 0 for r in d["hparams"])


def test_check_table_and_options():
    out = ok(
        "check",
        DATA / "megatron-llama3-8b-h100-fp8.sh",
        "--tokens",
        "15T",
        "--lr",
        "3e-4",
        "--batch",
        "16M",
        "--inference-tokens",
        "1e13",
    ).stdout
    for text in (
        "A fixed model judged by every law",
        "The model against the recipe laws",
        "inference-aware",
        "given is",
        "Tao et al. 2024",
    ):
        assert text in out
    fails("check", DATA / "megatron-llama3-8b-h100-fp8.sh", "--lr", "-1", message="--lr")
    fails("check", DATA / "megatron-llama3-8b-h100-fp8.sh", "--batch", "1e13", message="--batch")
    fails("check", DATA / "nope.json", message="no such file")


def test_allocate_model_plans_the_same_model():
    d = json.loads(
        ok("allocate", "--model", DATA / "smollm1-135M-nanotron.yaml", "--tokens", "2T", "--format", "json").stdout
    )
    checked = json.loads(ok("check", DATA / "smollm1-135M-nanotron.yaml", "--tokens", "2T", "--format", "json").stdout)
    assert d["params"] == checked["params_total"] and d["tokens"] == 2e12
    assert d["shape"]["heads"] == 9 and d["shape"]["d_ff"] == 1536
    fails("allocate", "--model", DATA / "smollm1-135M-nanotron.yaml", "--layers", "12", message="drop --layers")
    fails("allocate", "--model", DATA / "smollm1-135M-nanotron.yaml", "--params", "1B", message="drop --params")


def test_hf_export_loads_with_transformers_llamaconfig(tmp_path):
    """transformers' own LlamaConfig (v5) reads the exported config.json; the count from its attributes, through
    recipe.Shape, is the plan's."""
    from transformers import LlamaConfig

    from scaleplan.recipe.trainer_configs import ModelConfig

    source = DATA / "megatron-llama3-8b-h100-fp8.sh"
    plan = json.loads(ok("allocate", "--model", source, "--tokens", "15T", "--format", "json").stdout)
    ok("export", "hf", "--model", source, "--tokens", "15T", "--output", tmp_path / "llama")
    cfg = LlamaConfig.from_pretrained(tmp_path / "llama")
    shape = {
        "arch": "llama",
        "layers": cfg.num_hidden_layers,
        "d_model": cfg.hidden_size,
        "heads": cfg.num_attention_heads,
        "kv_heads": cfg.num_key_value_heads,
        "head_dim": cfg.head_dim,
        "d_ff": cfg.intermediate_size,
        "vocab": cfg.vocab_size,
        "context": cfg.max_position_embeddings,
        "tied_embeddings": cfg.tie_word_embeddings,
    }
    assert shape == read_config(source).shape
    assert ModelConfig("loaded", "hf", shape).to_shape().total_params == plan["shape"]["params_total"]
