"""`scaleplan export megatron|nanotron|torchtitan|litgpt|nanogpt`: each format read back by `scaleplan check` with
the plan's exact counts, each trainer's own rules (Megatron-LM's divisibility checks, nanotron's global batch,
torchtitan's FFN width and the names that exist at the pinned commit), refusals in one line."""

import ast
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from scaleplan.cli.app import app
from scaleplan.present.export_torchtitan import TORCHTITAN_COMMIT, torchtitan_ffn_args
from scaleplan.recipe.trainer_configs import read_config, torchtitan_ffn_dim

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
LLAMA = DATA / "megatron-llama3-8b-h100-fp8.sh"  # Llama 3 8B's shape
PLAN = ["--model", LLAMA, "--tokens", "15T", "--gpus", "8"]
runner = CliRunner()
SUFFIX = {"megatron": ".sh", "nanotron": ".yaml", "torchtitan": ".py", "litgpt": ".yaml", "nanogpt": ".py"}


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
    assert message in lines[-1] and lines[-1].startswith("scaleplan: error:"), result.stderr
    return result


@pytest.fixture(scope="module")
def llama_plan():
    return json.loads(ok("allocate", *PLAN, "--format", "json").stdout)


@pytest.fixture(scope="module")
def exported(tmp_path_factory, llama_plan):
    folder = tmp_path_factory.mktemp("exports")
    plan = folder / "plan.json"
    plan.write_text(json.dumps(llama_plan))
    out = {}
    for kind in ("megatron", "nanotron", "torchtitan", "litgpt"):
        out[kind] = folder / f"{kind}{SUFFIX[kind]}"
        ok("export", kind, plan, "--output", out[kind])
    return out


@pytest.mark.parametrize("kind", ["megatron", "nanotron", "torchtitan", "litgpt"])
def test_every_format_round_trips_the_plans_counts(exported, llama_plan, kind):
    config = read_config(exported[kind])
    assert config.format == kind
    assert {k: config.shape[k] for k in llama_plan["shape"] if k in config.shape} == {
        k: v for k, v in llama_plan["shape"].items() if k in config.shape
    }
    d = json.loads(ok("check", exported[kind], "--tokens", "15T", "--format", "json").stdout)
    assert d["params_total"] == llama_plan["shape"]["params_total"]
    assert d["params_non_embedding"] == llama_plan["shape"]["params_non_embedding"]
    assert d["flops_per_token"] == llama_plan["flops_per_token"]


def test_megatron_arguments(exported, llama_plan):
    from scaleplan.recipe.config_megatron import megatron_arguments

    a = megatron_arguments(exported["megatron"].read_text())
    sched = llama_plan["recipe"]["schedule"]
    batch = llama_plan["batch_sequences"]
    assert a["--lr-decay-style"] == "WSD" and a["--lr-wsd-decay-style"] == "minus_sqrt"
    assert int(a["--lr-wsd-decay-samples"]) == sched["decay_steps"] * batch
    assert int(a["--train-samples"]) == sched["steps"] * batch == int(a["--lr-decay-samples"])
    assert float(a["--lr"]) == pytest.approx(sched["peak_lr"], rel=1e-3)
    layout = llama_plan["cluster"]["memory"]["suggested"]
    assert int(a["--tensor-model-parallel-size"]) == layout["tp"]
    assert int(a["--pipeline-model-parallel-size"]) == layout["pp"]
    for flag in ("--swiglu", "--use-distributed-optimizer", "--disable-bias-linear"):
        assert a[flag] is True
    shape = llama_plan["shape"]
    if shape.get("kv_heads", shape["heads"]) < shape["heads"]:
        assert a["--group-query-attention"] is True and int(a["--num-query-groups"]) == shape["kv_heads"]
    assert a["--normalization"] == "RMSNorm" and a["--position-embedding-type"] == "rope" and a["--bf16"] is True


def test_megatron_fp8_flags(tmp_path):
    ok("export", "megatron", *PLAN, "--precision", "fp8", "--output", tmp_path / "a.sh")
    assert "--fp8-format hybrid" in (tmp_path / "a.sh").read_text()


@pytest.mark.parametrize(
    ("layout", "rule"),
    [
        ({"tp": 3}, "attention heads (32) must be a multiple of the tensor-parallel size (3)"),
        ({"tp": 64}, "attention heads (32) must be a multiple of the tensor-parallel size (64)"),
        ({"pp": 3}, "layers (32) must divide evenly into 3 pipeline stages (megatron/core/transformer/"),
        ({"dp": 7}, "must be a multiple of micro-batch x data-parallel (1 x 7)"),
    ],
)
def test_a_layout_breaking_megatrons_rules_is_refused_in_one_line(tmp_path, llama_plan, layout, rule):
    plan = json.loads(json.dumps(llama_plan))
    plan["cluster"]["memory"]["suggested"].update(layout)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    for kind in ("megatron", "nanotron", "torchtitan"):
        fails("export", kind, path, "--output", tmp_path / f"x{SUFFIX[kind]}", message=rule)
        assert not (tmp_path / f"x{SUFFIX[kind]}").exists()


def test_query_groups_must_divide_or_be_divided_by_tp(tmp_path, llama_plan):
    plan = json.loads(json.dumps(llama_plan))
    plan["shape"].update(heads=48, kv_heads=12, head_dim=128, d_model=6144)
    plan["cluster"]["memory"]["suggested"].update(tp=8)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    fails("export", "megatron", path, "--output", tmp_path / "x.sh", message="key-value heads (12) must be a multiple")


def test_nanotron_global_batch_is_exact(exported, llama_plan):
    y = yaml.safe_load(exported["nanotron"].read_text())
    t, par = y["tokens"], y["parallelism"]
    tokens = t["micro_batch_size"] * t["batch_accumulation_per_replica"] * par["dp"] * t["sequence_length"]
    assert tokens == llama_plan["batch_sequences"] * llama_plan["shape"]["context"]
    sched = y["optimizer"]["learning_rate_scheduler"]
    plan_sched = llama_plan["recipe"]["schedule"]
    assert sched["lr_decay_style"] == "1-sqrt" and sched["lr_decay_steps"] == plan_sched["decay_steps"]
    assert sched["lr_decay_starting_step"] + sched["lr_decay_steps"] == t["train_steps"] == plan_sched["steps"]


def test_torchtitan_ffn_width_through_its_own_formula():
    # Llama 3 8B / 70B / 405B (Dubey et al. 2024, Table 3: FFN 14,336 / 28,672 / 53,248)
    for dim, d_ff in ((4096, 14336), (8192, 28672), (16384, 53248), (576, 1536), (2560, 6912)):
        multiple_of, multiplier = torchtitan_ffn_args(dim, d_ff)
        assert torchtitan_ffn_dim(dim, multiple_of, multiplier) == d_ff
    assert torchtitan_ffn_args(4096, 14336) == (1024, 1.3)  # torchtitan's own 8B flavor


def test_torchtitan_module_names_only_what_exists_at_the_pinned_commit(exported):
    manifest = json.loads((DATA / "torchtitan-b5bcd76c-fields.json").read_text())
    assert manifest["commit"] == TORCHTITAN_COMMIT
    text = exported["torchtitan"].read_text()
    assert TORCHTITAN_COMMIT in text
    tree = ast.parse(text)
    classes, functions, modules = manifest["classes"], manifest["functions"], manifest["modules"]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                module = f"{node.module}.{alias.name}"  # `from torchtitan.models import llama3`: a module
                assert alias.name in modules.get(node.module, ()) or module in modules, alias.name
    checked = 0
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = ast.unparse(node.func).removeprefix("llama3.")
        keywords = {k.arg for k in node.keywords}
        if name in classes:
            assert keywords <= set(classes[name]), (name, keywords - set(classes[name]))
            checked += 1
        elif name in functions:
            assert keywords <= set(functions[name]), (name, keywords - set(functions[name]))
            checked += 1
        if isinstance(node.func, ast.Attribute) and ast.unparse(node.func.value) == "llama3":
            assert node.func.attr in modules["torchtitan.models.llama3"]
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "llama3":
            assert node.attr in modules["torchtitan.models.llama3"], node.attr
    assert checked >= 12  # Trainer.Config, TrainingConfig, ParallelismConfig, LRSchedulersContainer.Config, ...
    assert 'decay_type="sqrt"' in text and "decay_ratio=" in text


def test_torchtitan_float8_converter_when_the_plan_trains_in_fp8(tmp_path):
    ok("export", "torchtitan", *PLAN, "--precision", "fp8", "--output", tmp_path / "t.py")
    text = (tmp_path / "t.py").read_text()
    ast.parse(text)
    assert "Float8LinearConverter.Config(model_compile_enabled=True)" in text and "CompileConfig(" in text


def test_litgpt_says_it_carries_the_cosine_peak(exported, llama_plan):
    text = exported["litgpt"].read_text()
    y = yaml.safe_load(text)
    sched = llama_plan["recipe"]["schedule"]
    assert y["optimizer"]["init_args"]["lr"] == pytest.approx(sched["cosine_peak_lr"], rel=1e-3)
    assert "cosine only" in text
    mc = y["model_config"]
    assert (mc["norm_class_name"], mc["mlp_class_name"], mc["rotary_percentage"]) == ("RMSNorm", "LLaMAMLP", 1.0)
    assert mc["parallel_residual"] is False and mc["bias"] is False


def test_nanogpt_for_gpt2_style_plans_only(tmp_path):
    gpt2 = tmp_path / "config.json"  # GPT-2 small's shape (Radford et al. 2019; openai-community/gpt2 config.json)
    gpt2.write_text(json.dumps({"model_type": "gpt2", "n_embd": 768, "n_layer": 12, "n_head": 12, "vocab_size": 50257}))
    ok("export", "nanogpt", "--model", gpt2, "--tokens", "10B", "--output", tmp_path / "train_x.py")
    text = (tmp_path / "train_x.py").read_text()
    ast.parse(text)
    back = read_config(tmp_path / "train_x.py")
    assert back.format == "nanogpt" and back.shape == read_config(gpt2).shape and not back.warnings
    a = json.loads(ok("check", gpt2, "--tokens", "10B", "--format", "json").stdout)
    b = json.loads(ok("check", tmp_path / "train_x.py", "--tokens", "10B", "--format", "json").stdout)
    assert a["params_total"] == b["params_total"]
    fails("export", "nanogpt", *PLAN, "--output", tmp_path / "y.py", message="nanoGPT trains GPT-2-style models")
    assert not (tmp_path / "y.py").exists()


def test_designed_gpt_plan_round_trips_through_nanogpt(tmp_path):
    """Issue 21: a designed `--arch gpt` plan keeps d_ff = 4 d_model (nanoGPT's fixed MLP), so the exporter takes it
    and `check` reads back the plan's exact counts (at 1e21 the designer used to pick d_ff 9,216 for d_model 2,560)."""
    plan = json.loads(ok("allocate", "--flops", "1e21", "--arch", "gpt", "--format", "json").stdout)
    shape = plan["shape"]
    assert shape["d_ff"] == 4 * shape["d_model"]
    out = tmp_path / "train_gpt.py"
    ok("export", "nanogpt", "--flops", "1e21", "--arch", "gpt", "--output", out)
    back = read_config(out)
    assert back.format == "nanogpt" and not back.warnings
    assert all(back.shape[k] == shape[k] for k in ("layers", "d_model", "heads", "d_ff", "vocab", "context"))
    b = json.loads(ok("check", out, "--format", "json").stdout)
    assert (b["params_total"], b["params_non_embedding"]) == (plan["params_total"], plan["params_non_embedding"])
    assert b["flops_per_token"] == pytest.approx(plan["flops_per_token"], rel=1e-12)


def test_output_names_and_safety(tmp_path):
    fails("export", "megatron", *PLAN, "--output", tmp_path / "a.yaml", message="give a file name ending in .sh")
    ok("export", "megatron", *PLAN, "--output", tmp_path / "a.sh")
    fails("export", "megatron", *PLAN, "--output", tmp_path / "a.sh", message="exists; pass --force")
    fails(
        "export",
        "megatron",
        "--model",
        tmp_path / "a.sh",
        "--tokens",
        "1T",
        "--output",
        tmp_path / "a.sh",
        "--force",
        message="an input of this command",
    )
