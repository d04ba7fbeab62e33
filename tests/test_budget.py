from pathlib import Path

import pytest

import scaleplan
from scaleplan.core.errors import ScaleplanError
from scaleplan.pipeline.budget import Budget, load_budget_file

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.yaml"))


def test_example_configs_exist_and_load():
    assert len(CONFIGS) >= 5
    for path in CONFIGS:
        for budget in load_budget_file(path):
            plan = scaleplan.plan_budget(budget)
            assert plan.cost.gpu_hours > 0  # every mode is priced
            if not isinstance(plan, scaleplan.Plan):
                continue  # MoE and data-constrained examples: tests/test_pipeline.py
            # every compute-optimal scenario holds the named law's compute-optimal plan at the budget's FLOPs (beside the
            # inference-aware recommendation when it serves tokens), costed at its MFU
            optimal = plan.compute_optimal or plan
            ref = scaleplan.allocate(optimal.flops, law=budget.law_spec())
            own = optimal.law_params["params"] if optimal.law_params else optimal.params  # the law's, not the shape's
            assert own == pytest.approx(ref.params, rel=1e-12)
            assert plan.budget_flops in (None, optimal.flops)
            assert plan.cost.gpu_hours == pytest.approx(plan.flops / (plan.cost.peak_flops * plan.cost.mfu * 3600))


def test_example_configs_resolve_to_hand_computed_budgets():
    configs = {path.stem: load_budget_file(path) for path in CONFIGS}
    # academic-1e21.yaml: 1e21 FLOPs on A100-80GB (312 TFLOP/s) at MFU 0.4 and $1.50/h
    plan = scaleplan.plan_budget(configs["academic-1e21"][0])
    assert plan.cost.gpu_hours == pytest.approx(1e21 / (312e12 * 0.4 * 3600))  # 2,225.6 GPU-hours
    assert plan.cost.dollars == pytest.approx(1.5 * 1e21 / (312e12 * 0.4 * 3600))
    assert plan.cost.days == pytest.approx(1e21 / (312e12 * 0.4 * 3600) / 64 / 24)
    # lab-1e23-h100.yaml: 1,024 H100s (989 TFLOP/s) for 30 days at MFU 0.4
    lab = configs["lab-1e23-h100"][0].resolve()
    assert lab.flops == pytest.approx(1024 * 30 * 86400 * 9.89e14 * 0.4)
    # startup-2m-dollars.yaml: $2M at $2.50/h buys 800,000 H100-hours at MFU 0.35
    startup = configs["startup-2m-dollars"][0].resolve()
    assert startup.flops == pytest.approx(2e6 / 2.5 * 3600 * 9.89e14 * 0.35)


def test_hardware_time_budget():
    # 1,024 H100s x 30 days x 86,400 s x 9.89e14 FLOP/s x 0.4
    budget = Budget.from_mapping({"gpus": "1024", "days": "30", "hardware": "h100", "mfu": "0.4"})
    assert budget.resolve().flops == pytest.approx(1024 * 30 * 86400 * 9.89e14 * 0.4)
    plan = scaleplan.plan_budget(budget)
    assert plan.cost.days == pytest.approx(30)


def test_money_budget():
    budget = Budget.from_mapping({"dollars": "$2M", "price": 2.5, "hardware": "h100", "mfu": 0.4})
    plan = scaleplan.plan_budget(budget)
    assert plan.cost.dollars == pytest.approx(2e6)
    assert plan.flops == pytest.approx(2e6 / 2.5 * 3600 * 9.89e14 * 0.4)


def test_custom_peak_flops():
    budget = Budget.from_mapping({"gpus": 8, "days": 1, "peak_flops": "1e15", "mfu": 0.5})
    assert budget.resolve().flops == pytest.approx(8 * 86400 * 1e15 * 0.5)


def test_high_mfu_warns():
    plan = scaleplan.plan_budget(Budget.from_mapping({"flops": "1e21", "mfu": 0.9}))
    assert any("MFU 90%" in w for w in plan.warnings)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({}, "give the budget one way"),
        ({"flops": 1e21, "dollars": 5}, "got flops and dollars"),
        ({"days": 3}, "days needs gpus"),
        ({"flops": "1e40"}, "beyond any plan"),
        ({"flops": 1e21, "hardware": "h10"}, "did you mean 'h100'"),
    ],
)
def test_budget_errors(fields, message):
    with pytest.raises(ScaleplanError, match=message):
        Budget.from_mapping(fields).resolve()


def write(tmp_path, text):
    path = tmp_path / "budget.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text, message",
    [
        ("flops: 1e21\nfoo: 3\n", r"budget.yaml:2: foo: unknown key"),
        (
            "scenarios:\n  - flops: 1e21\n  - flops: 1e21\n    mfu: 1.5\n",
            r"budget.yaml:4: scenarios.1.mfu must be in \(0, 1\]",
        ),
        ("scenarios:\n  - flops: -3\n", r"budget.yaml:2: scenarios.0.flops must be positive"),
        ("scenarios:\n  - flops: abc\n", r"budget.yaml:2: scenarios.0.flops must be a number"),
        ("scenarios:\n  - flops: 1e21\n    gpus: [1, 2]\n", r"budget.yaml:3: scenarios.0.gpus must be a number"),
        ("flops: [1e21\n", r"budget.yaml:2: not valid YAML"),
        ("- 1\n- 2\n", "must be a mapping"),
        ("scenarios: 3\n", r"budget.yaml:1: scenarios: must be a non-empty list"),
        ("scenarios:\n  - flops: 1e21\n    bogus: 1\n", r"budget.yaml:3: scenarios.0.bogus: unknown key"),
        ("scenarios:\n  - name: 3\n    flops: 1e21\n", r"scenarios.0.name must be a non-empty string"),
    ],
)
def test_budget_file_errors_name_file_line_and_key(tmp_path, text, message):
    with pytest.raises(ScaleplanError, match=message):
        load_budget_file(write(tmp_path, text))


def test_missing_file(tmp_path):
    with pytest.raises(ScaleplanError, match="no such file"):
        load_budget_file(tmp_path / "nope.yaml")


def test_top_level_fields_are_defaults(tmp_path):
    path = write(
        tmp_path,
        "hardware: a100\nmfu: 0.5\nscenarios:\n  - {name: x, flops: 1e21}\n  - {name: y, flops: 1e21, mfu: 0.3}\n",
    )
    x, y = load_budget_file(path)
    assert (x.hardware, x.mfu, y.mfu) == ("a100", 0.5, 0.3)


def test_yaml_scientific_notation_is_a_quantity(tmp_path):
    # PyYAML reads 1e21 as the string '1e21' (YAML 1.1); it must still be a number here.
    (budget,) = load_budget_file(write(tmp_path, "flops: 1e21\n"))
    assert budget.flops == 1e21 and budget.name == "budget"


def test_serving_block_with_a_law_without_loss_warns(tmp_path):
    (budget,) = load_budget_file(write(tmp_path, "flops: 1e22\nlaw: porian\ninference:\n  tokens: 1e12\n"))
    plan = scaleplan.plan_budget(budget)
    assert plan.inference is None and plan.cost.inference_dollars > 0
    assert any("predicts no loss" in w for w in plan.warnings)
