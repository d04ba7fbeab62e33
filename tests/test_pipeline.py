"""One plan pipeline: the same question asked as `allocate` flags, as a `plan` file and from Python gives the same
JSON, in every mode, and every result carries its cost (and, for a dense model, its recipe)."""

import json

import pytest
from typer.testing import CliRunner

import scaleplan
from scaleplan.cli.app import app

runner = CliRunner()

MODES = {
    "compute-optimal": {"flops": "1e21"},
    "money": {"dollars": "2e6", "hardware": "h100", "mfu": "0.35"},
    "data-constrained": {"flops": "1e22", "unique_tokens": "5e10"},
    "fixed": {"params": "7e9", "tokens": "2e12", "law": "epoch"},
    "moe": {"flops": "1e22", "moe": {"expansion": 64}},
    "recipe pins": {"flops": "1e21", "context": 4096, "lr_law": "deepseek", "vocab": 32000},
    "serving": {"flops": "1e22", "inference_tokens": "2e12"},
    # every mode prices what it serves (2 N per token; 2 N_active for a mixture of experts)
    "serving, data-constrained": {"flops": "1e22", "unique_tokens": "1e11", "inference_tokens": "2e12"},
    "serving, fixed": {"params": "7B", "tokens": "2T", "inference_tokens": "2e12"},
    "serving, moe": {"flops": "1e22", "moe": {"expansion": 64}, "inference_tokens": "2e12"},
    "serving, fixed moe": {
        "moe": {"total_params": "671B", "active_params": "37B"},
        "tokens": "14.8T",
        "inference_tokens": "2e12",
    },
    "serving, dollar-optimal": {"flops": "1e22", "inference_tokens": "2e12", "inference": {"objective": "cost"}},
    "serving, target loss": {"target_loss": 2.1, "inference_tokens": "1e13", "objective": "cost"},
}


def _flags(fields: dict) -> list[str]:
    args = []
    for key, value in fields.items():
        if key == "moe":
            args += ["--moe"] + [x for k, v in value.items() for x in (f"--{k.replace('_', '-')}", str(v))]
        elif key == "inference":  # the serving block's objective is allocate's --objective
            args += ["--objective", value["objective"]]
        else:
            args += [f"--{key.replace('_', '-')}", str(value)]
    return args


def _yaml(fields: dict) -> str:
    return "".join(f"{k}: {json.dumps(v)}\n" for k, v in fields.items())


def _strip(record: dict) -> dict:
    return {k: v for k, v in record.items() if k != "name"}


@pytest.mark.parametrize("mode", sorted(MODES))
def test_flags_file_and_python_agree(mode, tmp_path):
    fields = MODES[mode]
    by_flags = runner.invoke(app, ["allocate", *_flags(fields), "-f", "json"])
    assert by_flags.exit_code == 0, by_flags.stderr
    path = tmp_path / "question.yaml"
    path.write_text(_yaml(fields))
    by_file = runner.invoke(app, ["plan", str(path), "-f", "json"])
    assert by_file.exit_code == 0, by_file.stderr
    by_python = scaleplan.plan(**fields).to_dict()
    flags_json, file_json = json.loads(by_flags.stdout), json.loads(by_file.stdout)
    assert _strip(flags_json) == _strip(file_json) == _strip(json.loads(json.dumps(by_python)))
    assert "cost" in flags_json and flags_json["cost"]["gpu_hours"] > 0


@pytest.mark.parametrize("mode", ["compute-optimal", "data-constrained", "fixed", "recipe pins"])
def test_every_dense_plan_carries_its_recipe(mode):
    record = scaleplan.plan(**MODES[mode]).to_dict()
    for key in ("vocab", "learning_rate", "batch_tokens", "shape", "cost"):
        assert key in record, key
    # the same recipe block, under the same names, as a compute-optimal plan's (schedule included)
    plain = scaleplan.plan(flops=1e21).to_dict()
    for key in ("batch_sequences", "flops_per_token", "flops_exact", "recipe"):
        assert key in record, key
    assert set(record["recipe"]) == set(plain["recipe"])
    assert record["recipe"]["schedule"]["steps"] > 0


def test_a_fixed_model_costs_its_own_6nd():
    # Llama 2 7B: 7e9 parameters on 2e12 tokens (Touvron et al. 2023) -> 6ND = 8.4e22 FLOPs
    report = scaleplan.plan(params="7B", tokens="2T")
    assert report.flops == pytest.approx(8.4e22)
    assert report.cost.gpu_hours == pytest.approx(8.4e22 / (9.89e14 * 0.4 * 3600))


def test_recipe_pins_reach_the_recipe():
    p = scaleplan.plan(**MODES["recipe pins"])
    assert p.recipe.shape.context == 4096 and p.recipe.shape.vocab == 32000
    assert next(r for r in p.recipe.hparams if r.default).law == "deepseek"


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"params": "7e9"}, "a fixed model needs both params and tokens"),
        ({"params": "7e9", "tokens": "2e12", "flops": "1e21"}, "drop flops"),
        ({"flops": "1e22", "moe": True, "unique_tokens": "1e10"}, "moe does not combine with unique_tokens"),
        ({"flops": "1e22", "unique_tokens": "1e10", "ci": 0.8}, "ci gives intervals on the compute-optimal plan only"),
        ({"flops": "1e22", "moe": {"expansion": 7}}, "must be 64 or 16"),
        ({"flops": "1e22", "context": 0}, "context must be a whole number from 1"),
    ],
)
def test_one_question_at_a_time(fields, message):
    with pytest.raises(scaleplan.ScaleplanError, match=message):
        scaleplan.plan(**fields)


def test_a_given_moe_is_priced_from_its_active_parameters():
    # DeepSeek-V3 (arXiv 2412.19437): 671B total, 37B active, 14.8T tokens -> 6 x 37e9 x 14.8e12 = 3.29e24 FLOPs;
    # Table 1 reports 2,664K H800-hours for pre-training, which an MFU of 0.173 at FP8 reproduces.
    p = scaleplan.plan(
        moe={"total_params": "671B", "active_params": "37B"},
        tokens="14.8T",
        hardware="h800",
        precision="fp8",
        mfu=0.173,
        gpus=2048,
    )
    assert p.flops == pytest.approx(6 * 37e9 * 14.8e12) and round(p.flops / 1e24, 2) == 3.29
    assert p.cost.gpu_hours == pytest.approx(2.664e6, rel=0.01)
    record = p.to_dict()  # the designed shape's counts, within 1% of the given ones, which stay as law_params
    assert abs(record["params_active"] / 37e9 - 1) <= 0.01 and abs(record["params_total"] / 671e9 - 1) <= 0.01
    assert record["law_params"]["params_active"] == 37e9 and record["law_params"]["params_total"] == 671e9


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"moe": {"total_params": "671B"}, "tokens": "14.8T"}, "needs moe.total_params, moe.active_params and tokens"),
        ({"moe": {"total_params": "37B", "active_params": "671B"}, "tokens": "1T"}, "cannot exceed"),
        ({"moe": {"total_params": "671B", "active_params": "37B"}, "tokens": "1T", "flops": "1e24"}, "drop flops"),
    ],
)
def test_a_given_moe_is_one_question(fields, message):
    with pytest.raises(scaleplan.ScaleplanError, match=message):
        scaleplan.plan(**fields)


def test_inference_aware_gives_the_recommended_model_in_full():
    # Issue 11's example: at 1e23 FLOPs serving 2e12 tokens, Sardana et al.'s FLOP-optimal model is 16.7B on 1.15T
    # tokens (1.16e23 training FLOPs) where the compute-optimal one is 29.4B on 566B (epoch law).
    result = CliRunner().invoke(app, ["inference-aware", "--flops", "1e23", "--inference-tokens", "2e12", "-f", "json"])
    assert result.exit_code == 0, result.stderr
    rec = json.loads(result.stdout)["recommended"]
    assert round(rec["params"] / 1e9, 1) == 16.7 and round(rec["tokens"] / 1e12, 2) == 1.15
    assert round(rec["flops"] / 1e23, 2) == 1.16 and rec["budget_flops"] == 1e23
    assert round(rec["compute_optimal"]["params"] / 1e9, 1) == 29.4
    for key in ("vocab", "learning_rate", "batch_tokens", "shape", "cost"):
        assert key in rec
    assert rec["cost"]["gpu_hours"] > 0 and rec["cost"]["inference_flops"] > 0
    # the same recommendation as a budget file or allocate flags would give
    same = scaleplan.plan(flops=1e23, inference_tokens=2e12).to_dict()
    assert same["params"] == rec["params"] and same["tokens"] == rec["tokens"]
    # and allocate's table says which model it shows
    table = CliRunner().invoke(app, ["allocate", "--flops", "1e23", "--inference-tokens", "2e12"])
    assert table.stdout.startswith("model: 16.7B") and "\nInference-aware plan" in table.stdout
    assert "\nCompute-optimal plan" in CliRunner().invoke(app, ["allocate", "--flops", "1e23"]).stdout


def test_implied_mfu_of_a_fixed_model_on_a_cluster():
    # Llama 2 70B (Touvron et al. 2023, Table 2): 1,720,320 A100-80GB GPU-hours for 2T tokens; as 2,048 GPUs for
    # 1,720,320 / 2,048 / 24 = 35 days, 6ND = 8.4e23 FLOPs implies MFU 8.4e23 / (1,720,320 h x 3600 x 312e12) = 0.435.
    p = scaleplan.plan(params="70B", tokens="2T", hardware="a100-80gb", gpus=2048, days=1_720_320 / 2048 / 24)
    assert p.cost.mfu == pytest.approx(0.4347, abs=5e-4)
    assert p.cost.gpu_hours == pytest.approx(1_720_320, rel=1e-9)
    assert p.cluster.layout.suggested.fits  # and it fits on them


def test_a_run_that_cannot_finish_is_refused():
    with pytest.raises(scaleplan.ScaleplanError, match="cannot finish"):
        scaleplan.plan(params="70B", tokens="2T", hardware="a100-80gb", gpus=8, days=1)


def test_bloom_on_its_cluster():
    # BLOOM-176B (bigscience tr11 README): 384 A100-80GB, full recompute, 366B tokens; laid out TP4 x PP12 x DP8
    # with ZeRO-1 and checkpointing it fitted, so the memory model must find a fitting layout on 384 devices.
    p = scaleplan.plan(params="176B", tokens="366B", hardware="a100-80gb", gpus=384, recompute="full", zero=1)
    assert p.cluster.layout.suggested.fits and p.cluster.layout.suggested.devices == 384
    assert p.cost.hfu == pytest.approx(p.cost.mfu * 4 / 3)  # full recompute: 8ND of hardware FLOPs for 6ND


def test_a_plan_that_does_not_fit_says_by_how_much():
    p = scaleplan.plan(flops=1e25, gpus=16, hardware="a100-80gb")
    m = p.cluster.layout.suggested
    assert not m.fits and m.shortfall_bytes > 0
    assert any("does not fit on 16" in w for w in p.warnings)


def test_a_plan_in_fp8_shows_suns_penalty_and_its_critical_data_size():
    # Sun et al. 2025 (arXiv 2501.02423) §4.3: FP8 E4M3's critical data size for a 1B model at block 128 is 27T;
    # the plan reports the penalty in Sun's own Dolma loss, never added to the plan's own loss.
    p = scaleplan.plan(params="1B", tokens="30T", precision="fp8")
    t = p.precision.training
    assert t.format.name == "fp8" and round(t.critical_tokens / 1e12) == 27 and t.exceeds_critical
    assert any("exceed Sun et al.'s critical data size" in w for w in p.warnings)
    record = p.to_dict()
    assert record["precision"]["training"]["penalty"] > 0


def test_serving_bits_add_ouyangs_quantization_penalty():
    p = scaleplan.plan(flops=1e23, serve_bits=4)
    assert p.precision.serving_bits == 4 and p.precision.qid > 0
    with pytest.raises(scaleplan.ScaleplanError, match="serve_bits must be a whole number from 2 to 16"):
        scaleplan.plan(flops=1e23, serve_bits=1)


def test_inference_aware_says_where_quantized_serving_erases_the_gain():
    # Ouyang et al. 2024 (arXiv 2411.17691), GPTQ: the quantization penalty grows with D/N, so the inference-aware
    # model (16.7B on 1.15T, 68.9 tokens/param at 1e23 serving 2e12) quantized to 4 bits is past the D/N beyond which
    # training longer and then quantizing makes the served model worse; the tool says so, in its own loss.
    result = CliRunner().invoke(
        app, ["inference-aware", "--flops", "1e23", "--inference-tokens", "2e12", "--serve-bits", "4", "-f", "json"]
    )
    assert result.exit_code == 0, result.stderr
    block = json.loads(result.stdout)["recommended"]["precision"]
    assert block["serving_bits"] == 4 and block["qid"] > 0
    assert block["tokens_per_param"] > block["ouyang_critical_tokens_per_param"]
    assert "makes the served model worse" in result.stderr


@pytest.mark.parametrize(
    "library, argv, python_says, cli_says",
    [
        (
            lambda: scaleplan.plan(flops=1e21, inference_tokens=2e12, serve_bits=4, mfu=-0.5),
            ["allocate", "--flops", "1e21", "--mfu", "-0.5"],
            "mfu must be",
            "--mfu must be",
        ),
        (
            lambda: __import__("scaleplan.pipeline.inference", fromlist=["x"]).serving_costs(prefill_mfu=0.0),
            ["inference-aware", "--flops", "1e23", "--inference-tokens", "2e12", "--prefill-mfu", "0"],
            "prefill_mfu must be in (0, 1]",
            "--prefill-mfu must be in (0, 1]",
        ),
        (
            lambda: __import__("scaleplan.cluster.run", fromlist=["x"]).plan_cluster(params=7e9, tokens=2e12, days=3),
            ["cluster", "--params", "7B", "--tokens", "2T", "--days", "3"],
            "days needs gpus",
            "--days needs --gpus",
        ),
    ],
)
def test_one_message_names_the_argument_in_python_and_the_flag_on_the_command_line(
    library, argv, python_says, cli_says
):
    with pytest.raises(scaleplan.ScaleplanError) as caught:
        library()
    assert python_says in str(caught.value) and "--" not in str(caught.value)
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 2 and cli_says in result.stderr, result.stderr


def test_plan_takes_arrays_of_budgets_one_plan_each():
    import numpy as np

    import scaleplan

    plans = scaleplan.plan(flops=np.array([1e21, 1e23]), hardware="h100")
    assert isinstance(plans, list) and len(plans) == 2
    for p, c in zip(plans, (1e21, 1e23)):
        assert p.to_dict() == scaleplan.plan(flops=c, hardware="h100").to_dict()
    both = scaleplan.plan(dollars=["1M", "2M"], gpus=[256], hardware="h100")  # broadcast: gpus 256 for each
    assert [p.cost.gpus for p in both] == [256, 256] and both[1].cost.dollars > both[0].cost.dollars
    with pytest.raises(scaleplan.ScaleplanError, match="do not broadcast"):
        scaleplan.plan(flops=[1e21, 1e22], gpus=[1, 2, 3])
    with pytest.raises(scaleplan.ScaleplanError, match="empty"):
        scaleplan.plan(flops=[])
