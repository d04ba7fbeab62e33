"""One budget schema: every mode prices what it serves, `plan FILE` takes allocate's planning flags (flags override
the file), the quality can be a target loss in a file as on the command line, and the inference-aware model says
when it trains beyond the budget's time or money."""

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import scaleplan
from scaleplan.cli.app import app
from scaleplan.pipeline.inference import serving_costs

runner = CliRunner()
REPO = Path(__file__).resolve().parents[1]

SERVED = 2e12  # tokens to serve


def _per_inference_flop() -> float:
    """Dollars per served FLOP with Sardana et al.'s fixed-MFU pricing (their MFUs on the H100 preset)."""
    return serving_costs("h100", 0.4, serving_model="fixed-mfu").dollars_per_inference_flop


FIXED_MFU = {"serving_model": "fixed-mfu"}  # the budget's serving block: Sardana et al.'s pricing


@pytest.mark.parametrize(
    "fields, serving_params",
    [
        # Llama 2 7B (Touvron et al. 2023): 7e9 parameters, every one used per token -> 2 x 7e9 FLOPs per token
        ({"params": "7B", "tokens": "2T"}, 7e9),
        # DeepSeek-V3 (arXiv 2412.19437): 671B total, 37B active -> a token's forward pass is 2 x 37e9 FLOPs
        ({"moe": {"total_params": "671B", "active_params": "37B"}, "tokens": "14.8T"}, 37e9),
    ],
)
def test_a_given_model_is_priced_for_serving(fields, serving_params):
    fixed = scaleplan.plan(**fields, inference_tokens=SERVED, inference=FIXED_MFU)
    # 2.8e22 and 1.48e23: an MoE is priced at its designed shape's active parameters, within 1% of the given ones
    assert fixed.cost.inference_flops == pytest.approx(2 * serving_params * SERVED, rel=0.01)
    assert fixed.cost.inference_dollars == pytest.approx(fixed.cost.inference_flops * _per_inference_flop())
    p = scaleplan.plan(**fields, inference_tokens=SERVED)  # the serving roofline, by default
    assert p.cost.inference_flops == fixed.cost.inference_flops
    assert 0 < p.cost.inference_dollars < fixed.cost.inference_dollars  # batched serving is far cheaper than 1% MFU
    assert p.cost.total_dollars == pytest.approx(p.cost.dollars + p.cost.inference_dollars)
    # training is what it was without serving
    assert p.cost.dollars == pytest.approx(scaleplan.plan(**fields).cost.dollars)


def test_the_fixed_deepseek_v3_serving_flops():
    from scaleplan.schema.units import fmt_count

    p = scaleplan.plan(moe={"total_params": "671B", "active_params": "37B"}, tokens="14.8T", inference_tokens=SERVED)
    active = p.recipe.shape.active_params  # the designed shape's, within 1% of the 37B given
    assert round(p.flops / 1e24, 2) == 3.29 and p.cost.inference_flops == pytest.approx(1.48e23, rel=0.01)
    assert p.cost.inference_flops == pytest.approx(2 * active * SERVED)
    assert any(f"2 x {fmt_count(active)} active parameters per token" in w for w in p.warnings)


@pytest.mark.parametrize(
    "fields, serving_params",
    [
        ({"flops": "1e22", "unique_tokens": "1e11"}, lambda p: p.params),
        ({"flops": "1e22", "moe": True}, lambda p: p.recipe.shape.active_params),  # the designed MoE's
    ],
)
def test_planned_modes_are_priced_for_serving(fields, serving_params):
    fixed = scaleplan.plan(**fields, inference_tokens=SERVED, inference=FIXED_MFU)
    assert fixed.cost.inference_dollars == pytest.approx(fixed.cost.inference_flops * _per_inference_flop())
    p = scaleplan.plan(**fields, inference_tokens=SERVED)
    assert p.cost.inference_flops == pytest.approx(2 * float(serving_params(p)) * SERVED)
    assert 0 < p.cost.inference_dollars < fixed.cost.inference_dollars
    assert p.to_dict()["cost"]["total_dollars"] > p.to_dict()["cost"]["dollars"]


@pytest.mark.parametrize(
    "argv, label",
    [
        (["--params", "7B", "--tokens", "2T"], "inference FLOPs (2N/token)"),
        (["--flops", "1e22", "--unique-tokens", "1e11"], "inference FLOPs (2N/token)"),
        (["--flops", "1e22", "--moe"], "inference FLOPs (2 N_active/token)"),
        (["--moe", "--total-params", "671B", "--active-params", "37B", "--tokens", "14.8T"], "2 N_active/token"),
    ],
)
def test_every_mode_shows_its_serving_cost(argv, label):
    result = runner.invoke(app, ["allocate", *argv, "--inference-tokens", "2e12"])
    assert result.exit_code == 0, result.stderr
    assert label in result.stdout and "inference cost" in result.stdout and "total cost" in result.stdout


@pytest.mark.parametrize(
    "argv", [["--params", "7B", "--tokens", "2T"], ["--flops", "1e22", "--moe"], ["--flops", "1e22"]]
)
def test_serving_without_a_price_is_refused_in_one_line(argv):
    # the b200 preset has no published price: serving cannot be priced against training, in any mode
    result = runner.invoke(app, ["allocate", *argv, "--hardware", "b200", "--inference-tokens", "2e12"])
    assert result.exit_code == 2 and "needs --price" in result.stderr and len(result.stderr.splitlines()) == 1


# ---------------------------------------------------------------------------------------------------------------
# plan FILE takes the planning flags


def _json(argv) -> dict:
    result = runner.invoke(app, [*argv, "-f", "json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _strip(record: dict) -> dict:
    return {k: v for k, v in record.items() if k != "name"}


def test_a_flag_overrides_the_file(tmp_path):
    path = tmp_path / "limited.yaml"
    path.write_text("flops: 1e23\nunique_tokens: 200B\nhardware: h100\nmfu: 0.4\n")
    by_file = _json(["plan", str(path), "--mfu", "0.5"])
    by_flags = _json(["allocate", "--flops", "1e23", "--unique-tokens", "200B", "--hardware", "h100", "--mfu", "0.5"])
    assert by_file["cost"]["mfu"] == 0.5 and _strip(by_file) == _strip(by_flags)


def test_a_budget_flag_replaces_the_files_budget(tmp_path):
    path = tmp_path / "b.yaml"
    path.write_text("flops: 1e23\nhfu: 0.5\n")
    by_file = _json(["plan", str(path), "--dollars", "1M", "--mfu", "0.3"])
    by_flags = _json(["allocate", "--dollars", "1M", "--mfu", "0.3"])
    assert _strip(by_file) == _strip(by_flags)


def test_flags_override_every_scenario(tmp_path):
    path = tmp_path / "two.yaml"
    path.write_text(
        "hardware: h100\nscenarios:\n  - {name: a, flops: 1e21, mfu: 0.3}\n  - {name: b, flops: 1e22, gpus: 64}\n"
    )
    plans = _json(["plan", str(path), "--mfu", "0.5", "--inference-tokens", "1e12", "--context", "4096"])["plans"]
    assert [p["cost"]["mfu"] for p in plans] == [0.5, 0.5]
    assert all(p["cost"]["inference_flops"] > 0 and p["shape"]["context"] == 4096 for p in plans)
    assert [p["budget_flops"] for p in plans] == [1e21, 1e22]  # the files' own budgets stay


def test_tokens_to_serve_from_a_flag_replace_the_files_serving_block_tokens():
    path = REPO / "configs" / "serving-2t-tokens.yaml"
    plans = _json(["plan", str(path), "--inference-tokens", "1e13"])["plans"]
    assert [p["inference_aware"]["inference_tokens"] for p in plans] == [1e13] * len(plans)
    # the rest of the serving block stays the file's: 8-bit serving, dollar-optimal
    assert plans[1]["inference_aware"]["objective"] == "cost"


def test_moe_flags_merge_into_the_files_moe(tmp_path):
    path = tmp_path / "moe.yaml"
    path.write_text("flops: 1e22\nmoe: {expansion: 64}\n")
    record = _json(["plan", str(path), "--moe", "--granularity", "8"])
    assert record["granularity"] == 8 and record["expansion"] == 64


@pytest.mark.parametrize(
    "body, argv, message",
    [
        ("flops: 1e21\n", ["--mfu", "2"], "--mfu must be in (0, 1]"),
        ("flops: 1e21\n", ["--objective", "speed"], "--objective must be 'flops' or 'cost'"),
        ("flops: 1e21\n", ["--granularity", "8"], "need --moe"),
        ("flops: 1e21\nunique_tokens: 1e10\n", ["--ci", "0.8"], "--ci gives intervals on the compute-optimal plan"),
    ],
)
def test_a_bad_flag_on_plan_names_the_flag(tmp_path, body, argv, message):
    path = tmp_path / "b.yaml"
    path.write_text(body)
    result = runner.invoke(app, ["plan", str(path), *argv])
    assert result.exit_code == 2 and message in result.stderr, result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_a_given_moe_refuses_a_shape_it_would_not_use():
    result = runner.invoke(
        app,
        [
            "allocate",
            "--moe",
            "--total-params",
            "671B",
            "--active-params",
            "37B",
            "--tokens",
            "1T",
            "--expansion",
            "64",
        ],
    )
    assert result.exit_code == 2 and "drop --expansion" in result.stderr, result.stderr


def test_a_scenarios_budget_replaces_the_top_levels(tmp_path):
    path = tmp_path / "b.yaml"
    path.write_text("flops: 1e23\nscenarios:\n  - {name: money, dollars: 1M}\n  - {name: default}\n")
    budgets = scaleplan.load_budget_file(path)
    assert (budgets[0].flops, budgets[0].dollars) == (None, 1e6) and budgets[1].flops == 1e23


# ---------------------------------------------------------------------------------------------------------------
# The quality as a target loss, in a file as on the command line


SARDANA_COST_EXAMPLE = """\
law: chinchilla-sardana
target_loss: 1.947
hardware: a100-80gb
mfu: 0.5
price: 1.40
inference:
  tokens: 1.25e13
  hardware: a100-40gb
  price: 0.60
  prefill_mfu: 0.4
  decode_mfu: 0.2
  prompt_share: 0.8
  bits: 8
  objective: cost
  serving_model: fixed-mfu
"""


def test_a_target_loss_in_a_file_reproduces_sardanas_cost_optimal_example(tmp_path):
    # Sardana et al. 2024 repository README (cost_optimal.py): loss 1.947, 1e10 requests of 1000 prompt + 250
    # generated tokens; training A100-80GB at $1.40/h, MFU 0.5; serving A100-40GB int8 at $0.60/h, prefill MFU 0.4,
    # decode MFU 0.2 -> optimal 20.53B / 3.302T, total $1,425,059.70; Chinchilla-style total $1,605,531.94.
    path = tmp_path / "sardana.yaml"
    path.write_text(SARDANA_COST_EXAMPLE)
    record = _json(["plan", str(path)])
    sized = record["inference_aware"]  # the law's own model (the plan's counts are the designed shape's)
    assert record["law_params"]["params"] == pytest.approx(2.053e10, rel=1e-3)
    assert record["law_params"]["tokens"] == pytest.approx(3.302e12, rel=1e-3)
    assert sized["inference_aware"]["cost"]["total_dollars"] == pytest.approx(1425059.70, rel=1e-6)
    assert record["compute_optimal"]["cost"]["total_dollars"] == pytest.approx(1605531.94, rel=1e-6)
    assert record["params"] == record["shape"]["params_total"] == pytest.approx(2.053e10, rel=0.03)
    assert "vocab" in record and record["cost"]["gpu_hours"] > 0  # the recommended model in full


def test_target_loss_asks_what_inference_aware_asks(tmp_path):
    argv = ["--target-loss", "2.1", "--inference-tokens", "1e13", "--objective", "cost"]
    asked = _json(["inference-aware", *argv])["recommended"]
    assert _json(["allocate", *argv]) == asked
    path = tmp_path / "q.yaml"
    path.write_text("target_loss: 2.1\ninference_tokens: 1e13\ninference: {objective: cost}\n")
    assert _strip(_json(["plan", str(path)])) == _strip(asked)
    again = _strip(_json(["plan", str(path), "--target-loss", "2.2"]))
    assert again["law_params"]["loss"] == pytest.approx(2.2, rel=1e-9)
    assert again["loss"] == pytest.approx(2.2, rel=1e-3)  # the designed model's, on the same budget


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"target_loss": 2.1}, "target_loss is the quality of inference-aware sizing: give inference_tokens"),
        ({"target_loss": 2.1, "flops": 1e21, "inference_tokens": 1e12}, "give the budget one way"),
        ({"target_loss": 2.1, "unique_tokens": 1e10, "inference_tokens": 1e12}, "does not combine with unique_tokens"),
        ({"target_loss": "nan", "inference_tokens": 1e12}, "target_loss must be a finite number"),
        ({"target_loss": 1.0, "inference_tokens": 1e12}, "not reachable under epoch"),
        ({"target_loss": 50, "inference_tokens": 1e12}, "target_loss 50 is the compute-optimal loss of .* too small"),
        ({"inference": {"target_loss": 2.1, "tokens": 1e12}}, "target_loss is a top-level key"),
    ],
)
def test_target_loss_is_one_question(fields, message):
    with pytest.raises(scaleplan.ScaleplanError, match=message):
        scaleplan.plan(**fields)


@pytest.mark.parametrize(
    "fields",
    [
        {"params": "7B", "tokens": "2T"},
        {"flops": "1e22", "moe": True},
        {"flops": "1e22", "unique_tokens": "1e11"},
    ],
)
def test_an_objective_is_not_dropped_where_nothing_is_sized_by_it(fields):
    for serving in (
        {"inference": {"tokens": 2e12, "objective": "cost"}},
        {"inference_tokens": 2e12, "objective": "cost"},
    ):
        with pytest.raises(scaleplan.ScaleplanError, match="objective chooses how a dense model is sized"):
            scaleplan.plan(**fields, **serving)


def test_objective_is_a_key_as_it_is_a_flag(tmp_path):
    # `objective:` is shorthand for the inference block's, as inference_tokens is for its tokens; a flag wins
    path = tmp_path / "o.yaml"
    path.write_text("flops: 1e22\ninference_tokens: 2e12\nobjective: cost\n")
    by_key = _json(["plan", str(path)])
    assert by_key["inference_aware"]["objective"] == "cost"
    assert _strip(by_key) == _strip(
        _json(["allocate", "--flops", "1e22", "--inference-tokens", "2e12", "--objective", "cost"])
    )
    path.write_text("flops: 1e22\ninference: {tokens: 2e12, objective: cost}\n")
    assert _json(["plan", str(path), "--objective", "flops"])["inference_aware"]["objective"] == "flops"


def test_objective_needs_tokens_to_serve():
    result = runner.invoke(app, ["allocate", "--flops", "1e21", "--objective", "cost"])
    assert result.exit_code == 2 and "--objective chooses how the inference-aware model is sized" in result.stderr
    assert "give --inference-tokens too" in result.stderr


# ---------------------------------------------------------------------------------------------------------------
# The inference-aware model beyond the budget's time or money


def test_beyond_the_days_the_budget_gives_is_said_once():
    result = runner.invoke(
        app, ["allocate", "--gpus", "1024", "--days", "30", "--inference-tokens", "2e13", "-f", "json"]
    )
    record = json.loads(result.stdout)
    assert record["cost"]["days"] > 30  # it trains longer by design: the same loss, cheaper to serve
    said = [w for w in record["warnings"] if "the budget gives" in w]
    assert len(said) == 1 and "on 1,024 GPUs, not the 30 days the budget gives" in said[0]


def test_beyond_the_money_the_budget_gives():
    p = scaleplan.plan(dollars="1M", inference_tokens=2e13)
    assert p.cost.dollars > 1e6
    assert any("to train, not the $1.00M the budget gives" in w for w in p.warnings)


@pytest.mark.parametrize("fields", [{"gpus": 1024, "days": 30}, {"dollars": "1M"}, {"flops": 1e23}])
def test_no_such_warning_without_serving_or_within_budget(fields):
    assert not any("the budget gives" in w for w in scaleplan.plan(**fields).warnings)
    assert not any("the budget gives" in w for w in scaleplan.plan(**fields, inference_tokens=0).warnings)


# ---------------------------------------------------------------------------------------------------------------
# Invariants


GIVEN = {
    "fixed": ({"params": "7B", "tokens": "2T"}, lambda p: p.recipe.shape.total_params),  # the designed 7B
    # an MoE: the designed shape's active parameters (embeddings included, as a dense model's total)
    "fixed moe": (
        {"moe": {"total_params": "671B", "active_params": "37B"}, "tokens": "14.8T"},
        lambda p: p.recipe.shape.active_params,
    ),
    "data-constrained": ({"flops": "1e22", "unique_tokens": "1e11"}, lambda p: p.params),
    "moe": ({"flops": "1e22", "moe": True}, lambda p: p.recipe.shape.active_params),
}


@settings(max_examples=15, deadline=None)
@given(
    mode=st.sampled_from(sorted(GIVEN)),
    served=st.floats(min_value=0.0, max_value=1e15),
    mfu=st.floats(min_value=0.05, max_value=1.0),
)
def test_serving_cost_is_two_flops_per_served_parameter_in_every_mode(mode, served, mfu):
    fields, serving_params = GIVEN[mode]
    p = scaleplan.plan(**fields, inference_tokens=served, mfu=mfu)
    assert p.cost.inference_flops == pytest.approx(2 * float(serving_params(p)) * served, abs=1e-6)
    assert p.cost.total_dollars == pytest.approx(p.cost.dollars + p.cost.inference_dollars)
    assert p.cost.mfu == mfu  # training at the budget's MFU; serving at Sardana et al.'s prefill/decode MFUs


@pytest.mark.parametrize(
    "fields",
    [
        {"flops": 1e22},
        {"flops": 1e22, "unique_tokens": 1e11},
        {"params": "7B", "tokens": "2T"},
        {"flops": 1e22, "moe": True},
        {"moe": {"total_params": "671B", "active_params": "37B"}, "tokens": "14.8T"},
    ],
)
def test_every_mode_labels_its_serving_price(fields):
    # the H100 preset's price is Sardana et al. 2024's stated default ($2.00/h), labelled as an assumption
    cost = scaleplan.plan(inference_tokens=2e12, **fields).cost
    assert cost.inference_price_label.startswith("$2.00/h, assumed: Sardana et al. 2024")


def test_a_target_loss_says_it_set_the_quality():
    from typer.testing import CliRunner

    from scaleplan.cli.app import app

    argv = ["allocate", "--target-loss", "2.0", "--inference-tokens", "2e12"]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, result.stderr
    assert "target loss 2.000 (compute-optimal at" in result.stdout and "FLOPs, compute-optimal" not in result.stdout
    record = scaleplan.plan(target_loss=2.0, inference_tokens=2e12).to_dict()
    assert record["target_loss"] == 2.0 and record["loss"] == pytest.approx(2.0, rel=1e-3)
    assert record["law_params"]["loss"] == pytest.approx(2.0)
    assert "target_loss" not in scaleplan.plan(flops=1e23, inference_tokens=2e12).to_dict()


def test_a_data_constrained_plan_says_serving_did_not_size_it():
    plan = scaleplan.plan(flops=1e22, unique_tokens=1e11, inference_tokens=2e12)
    assert plan.cost.inference_flops > 0
    assert any("not sized for it" in w for w in plan.warnings)
    assert not any("not sized" in w for w in scaleplan.plan(flops=1e22, unique_tokens=1e11).warnings)
