"""The CLI through typer's CliRunner: outputs, formats agreeing, and every bad input exiting 2 with one line."""

import csv
import io
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import scaleplan
from scaleplan.cli.app import app

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def ok(*args):
    result = run(*args)
    assert result.exit_code == 0, result.stderr + result.stdout
    return result


def test_allocate_default_plan():
    result = ok("allocate", "--flops", "1e21")
    out = result.stdout
    # the designed model's counts (2.75B on 60.5B tokens); the law's own optimum is 2.78B on 60.0B tokens
    for text in ("epoch", "2.75B", "60.5B", "2.306", "GPU-hours", "training cost", "Besiroglu et al. 2024"):
        assert text in out


def test_allocate_json_contract_matches_library():
    data = json.loads(ok("allocate", "--flops", "1e21", "--law", "chinchilla", "--format", "json").stdout)
    plan = scaleplan.allocate(1e21, law="chinchilla")  # the law's own optimum: law_params beside the designed counts
    own = data["law_params"]
    assert own["params"] == plan.params and own["tokens"] == plan.tokens and own["loss"] == plan.loss
    assert data["params"] == data["shape"]["params_total"] and data["params"] * data["tokens"] * 6 == pytest.approx(
        1e21
    )
    for key in (
        "law",
        "flops",
        "params",
        "params_total",
        "params_non_embedding",
        "tokens",
        "tokens_per_param",
        "loss",
        "cost",
        "warnings",
        "citation",
    ):
        assert key in data
    for key in ("gpu_hours", "days", "dollars", "kwh", "mfu", "hardware"):
        assert key in data["cost"]
    assert isinstance(data["flops"], float) and isinstance(data["warnings"], list)


def test_formats_agree():
    args = ("allocate", "--flops", "3e22", "--law", "kaplan")
    data = json.loads(ok(*args, "--format", "json").stdout)
    (row,) = csv.DictReader(io.StringIO(ok(*args, "--format", "csv").stdout))
    assert float(row["params"]) == data["params"] and float(row["cost_dollars"]) == data["cost"]["dollars"]
    table = ok(*args).stdout
    markdown = ok(*args, "--format", "markdown").stdout
    from scaleplan.schema.units import fmt_count, fmt_dollars

    for text in (fmt_count(data["params"]), fmt_count(data["tokens"]), fmt_dollars(data["cost"]["dollars"])):
        assert text in table and text in markdown
    assert markdown.splitlines()[2].startswith("| ---") or "|---|" in markdown


def test_allocate_reproduces_table_3_row():
    # Hoffmann et al. 2022 Table 3: 67B parameters at Gopher's 5.76e23 FLOPs (Approach 1).
    data = json.loads(ok("allocate", "--flops", "5.76e23", "--law", "chinchilla-approach1", "-f", "json").stdout)
    assert abs(data["params"] / 67e9 - 1) < 0.015


def test_budget_by_hardware_time_and_money():
    data = json.loads(
        ok("allocate", "--gpus", 1024, "--days", 30, "--hardware", "h100", "--mfu", 0.4, "-f", "json").stdout
    )
    assert data["flops"] == pytest.approx(1024 * 30 * 86400 * 9.89e14 * 0.4)
    assert data["cost"]["days"] == pytest.approx(30)
    data = json.loads(
        ok("allocate", "--dollars", "$2M", "--price", 2.5, "--hardware", "h100", "--mfu", 0.4, "-f", "json").stdout
    )
    assert data["cost"]["dollars"] == pytest.approx(2e6)


def test_extrapolation_warns_on_stderr_and_keeps_stdout_clean():
    result = ok("allocate", "--flops", "1e25", "-f", "json")
    # every extrapolation in one line, each law with its factor (the JSON keeps each warning whole)
    assert "extrapolating beyond the fitted range: epoch 769x (FLOPs)" in result.stderr
    data = json.loads(result.stdout)
    assert any("extrapolating" in w for w in data["warnings"])


@pytest.mark.parametrize(
    "args, message",
    [
        (["allocate", "--flops", "-1"], "--flops must be positive, got '-1'"),
        (["allocate", "--flops", "0"], "--flops must be positive"),
        (["allocate", "--flops", "nan"], "--flops must be finite"),
        (["allocate", "--flops", "inf"], "--flops must be finite"),
        (["allocate", "--flops", "abc"], "--flops must be a number"),
        (["allocate", "--flops", "1e40"], "--flops: 1e40 FLOPs is beyond any plan"),
        (["allocate", "--flops", "1e21", "--law", "chinchila"], "did you mean 'chinchilla'"),
        (["allocate", "--flops", "1e21", "--mfu", "0"], r"--mfu must be in (0, 1]"),
        (["allocate", "--flops", "1e21", "--mfu", "1.2"], r"--mfu must be in (0, 1]"),
        (["allocate", "--flops", "1e21", "--hardware", "h1000"], "unknown hardware 'h1000'"),
        (["allocate", "--flops", "1e21", "--dollars", "5"], "give the budget one way"),
        (["allocate"], "give the budget one way"),
        (["compare", "kaplan", "nope", "--flops", "1e21"], "unknown law 'nope'"),
        (["compare", "kaplan", "--flops", "1e25..1e18"], "from low to high"),
        (["plan", "does-not-exist.yaml"], "no such file"),
        (["laws", "show", "kaplin"], "did you mean 'kaplan'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, message):
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    "text, message",
    [
        ("flops: 1e21\nfoo: 1\n", ":2: foo: unknown key"),
        ("scenarios:\n  - flops: 1e21\n    mfu: 2\n", ":3: scenarios.0.mfu must be in (0, 1]"),
        ("scenarios:\n  - flops: -5\n", ":2: scenarios.0.flops must be positive"),
        ("scenarios:\n  - flops: 1e21\n    gpus: many\n", ":3: scenarios.0.gpus must be a number"),
        ("flops: [1\n", "not valid YAML"),
    ],
)
def test_bad_budget_files(tmp_path, text, message):
    path = tmp_path / "b.yaml"
    path.write_text(text)
    result = run("plan", path)
    assert result.exit_code == 2 and message in result.stderr and str(path) in result.stderr


def test_compare_side_by_side_in_one_convention():
    result = ok("compare", "chinchilla", "kaplan", "--flops", "1e21", "-f", "json")
    data = json.loads(result.stdout)
    assert "total" in data["convention"]
    laws_seen = [r["law"] for r in data["rows"]]
    assert laws_seen == ["chinchilla", "kaplan"]
    kaplan = data["rows"][1]
    assert kaplan["params_ratio"] > 2  # Kaplan's frontier wants ~2.6x Chinchilla's printed-constant model here
    for row in data["rows"]:
        assert 6 * row["params"] * row["tokens"] == pytest.approx(1e21, rel=1e-9)


def test_compare_many_budgets_and_ranges():
    data = json.loads(ok("compare", "epoch", "porian", "--flops", "1e18..1e25", "--points", 8, "-f", "json").stdout)
    assert len(data["rows"]) == 16
    data = json.loads(
        ok("compare", "epoch", "--flops", "1e19", "--flops", "1e21", "--flops", "1e23", "-f", "json").stdout
    )
    assert [r["flops"] for r in data["rows"]] == [1e19, 1e21, 1e23]
    table = ok("compare", "chinchilla", "kaplan", "--flops", "1e21").stdout
    assert "Convention" in table and "kaplan" in table


def test_plan_file_prints_every_scenario():
    path = REPO / "configs" / "lab-1e23-h100.yaml"
    data = json.loads(ok("plan", path, "-f", "json").stdout)
    assert [p["name"] for p in data["plans"]] == [
        "30 days on 1,024 H100s",
        "1e23 FLOPs",
        "1e23 FLOPs, serving 2T tokens",
    ]
    assert data["plans"][2]["cost"]["inference_flops"] == pytest.approx(2 * data["plans"][2]["params_total"] * 2e12)
    rows = list(csv.DictReader(io.StringIO(ok("plan", path, "-f", "csv").stdout)))
    assert len(rows) == 3


def test_laws_list_and_show():
    out = ok("laws").stdout
    for name in scaleplan.law_names():
        assert name in out
    data = json.loads(ok("laws", "-f", "json").stdout)
    assert {d["law"] for d in data if d["kind"] == "allocation"} == set(scaleplan.law_names())
    show = ok("laws", "show", "epoch").stdout
    for text in ("482.01", "2404.10102", "all parameters", "1.39e18"):
        assert text in show
    assert json.loads(ok("laws", "show", "kaplan", "-f", "json").stdout)["params_convention"] == "non_embedding"


def test_version_and_short_help():
    assert re.match(r"scaleplan \d+\.\d+", ok("--version").stdout)
    assert "Usage" in ok("-h").stdout


def _commands(group, prefix=()):
    import typer.main

    click_group = typer.main.get_command(group)
    for name, command in click_group.commands.items():
        yield (*prefix, name), command
        for sub, subcommand in getattr(command, "commands", {}).items():
            yield (*prefix, name, sub), subcommand


@pytest.mark.parametrize(
    "path, command", list(_commands(app)), ids=lambda v: " ".join(v) if isinstance(v, tuple) else ""
)
def test_every_command_has_help_an_example_and_is_in_the_readme(path, command):
    assert command.help and "Example:" in command.help
    for param in command.params:
        if param.param_type_name == "option" and param.name not in ("help",):
            assert param.help, f"{' '.join(path)} {param.name} has no help"
    result = ok(*path, "--help")
    assert "Example" in result.stdout
    readme = (REPO / "README.md").read_text()
    assert f"scaleplan {' '.join(path)}" in readme


def test_allocate_shows_the_recipe():
    data = json.loads(ok("allocate", "--flops", "1e21", "-f", "json").stdout)
    for key in ("vocab", "learning_rate", "batch_tokens", "batch_sequences", "shape", "flops_per_token", "flops_exact"):
        assert key in data
    for key in ("layers", "d_model", "heads", "d_ff", "context"):
        assert key in data["shape"]
    assert data["shape"]["d_model"] % 128 == 0 and data["vocab"] % 128 == 0
    assert abs(data["shape"]["params_total"] / data["params_total"] - 1) < 0.05
    table = ok("allocate", "--flops", "1e21").stdout
    assert "vocabulary" in table and "learning rate (wsd peak)" in table and "App. F" in table


def test_allocate_pins_shape_and_context():
    data = json.loads(
        ok(
            "allocate",
            "--flops",
            "1e21",
            "--layers",
            24,
            "--context",
            4096,
            "--vocab",
            32000,
            "--lr-law",
            "deepseek",
            "-f",
            "json",
        ).stdout
    )
    assert data["shape"]["layers"] == 24 and data["shape"]["context"] == 4096 and data["vocab"] == 32000
    assert data["recipe"]["hparams_law"] == "deepseek"
    assert data["batch_sequences"] * 4096 == pytest.approx(data["batch_tokens"], rel=0.01)


def test_vocab_command():
    # Tao et al. 2024 (arXiv:2407.13623) abstract: Llama2-70B's optimal vocabulary is at least 216K.
    data = json.loads(ok("vocab", "--params", "70e9", "-f", "json").stdout)
    assert data["vocab"] >= 216_000 and data["vocab"] % 128 == 0
    assert "2407.13623" in data["citation"]
    assert run("vocab").exit_code == 2


def test_hparams_command():
    rows = json.loads(ok("hparams", "--params", "7B", "--tokens", "2T", "-f", "json").stdout)
    assert [r["law"] for r in rows if r["default"]] == ["deepseek"]
    (row,) = json.loads(ok("hparams", "--flops", "8.4557e22", "--law", "deepseek", "-f", "json").stdout)
    # DeepSeek LLM 2024 eq. (1) at the 7B model's C = 8.4557e22: eta = 4.246e-4, B = 9.2226e6 tokens.
    assert row["learning_rate"] == pytest.approx(4.246e-4, rel=1e-3)
    assert row["batch_tokens_raw"] == pytest.approx(9.2226e6, rel=1e-3)


def test_flops_command():
    data = json.loads(
        ok(
            "flops",
            "--layers",
            80,
            "--d-model",
            8192,
            "--heads",
            64,
            "--d-ff",
            32768,
            "--vocab",
            32000,
            "--context",
            2048,
            "-f",
            "json",
        ).stdout
    )
    # Hoffmann et al. 2022 App. F terms summed by hand for this shape (tests/test_recipe.py
    # test_flops_issue_example_chinchilla_70b_shape): 405,893,283,840 FLOPs per token, 1.0412 x 6N.
    assert data["flops_per_token"] == 405_893_283_840
    assert data["ratio"] == pytest.approx(1.0412, abs=1e-4)
    result = run("flops", "--layers", 80, "--d-model", 8192, "--heads", 60, "--vocab", 32000)
    assert result.exit_code == 2 and "--heads 60 must divide --d-model 8192" in result.stderr
    assert run("flops", "--layers", 0, "--d-model", 8192, "--heads", 64, "--vocab", 32000).exit_code == 2


def test_inference_aware_side_by_side():
    result = ok("inference-aware", "--flops", "1e23", "--inference-tokens", "2e12")
    for text in ("compute-optimal", "inference-aware", "total FLOPs", "prefill $", "decode $", "Sardana et al. 2024"):
        assert text in result.stdout
    data = json.loads(ok("inference-aware", "--flops", "1e23", "--inference-tokens", "2e12", "-f", "json").stdout)
    assert data["inference_aware"]["params"] < data["compute_optimal"]["params"]
    for key in ("training_dollars", "prefill_dollars", "decode_dollars", "total_dollars"):
        assert key in data["inference_aware"]["cost"]
    assert data["break_even_tokens"] > 0


def test_inference_aware_target_loss_and_cost_objective():
    data = json.loads(
        ok(
            "inference-aware",
            "--target-loss",
            "1.947",
            "--inference-tokens",
            "1.25e13",
            "--law",
            "chinchilla-sardana",
            "--objective",
            "cost",
            "--hardware",
            "a100-80gb",
            "--mfu",
            "0.5",
            "--price",
            "1.40",
            "--inference-hardware",
            "a100-40gb",
            "--inference-price",
            "0.60",
            "--inference-bits",
            "8",
            "--prefill-mfu",
            "0.4",
            "--decode-mfu",
            "0.2",
            "--prompt-share",
            "0.8",
            "--serving-model",
            "fixed-mfu",
            "-f",
            "json",
        ).stdout
    )
    # Sardana et al. repository README, cost_optimal.py example: optimal total $1,425,059.70.
    assert data["inference_aware"]["cost"]["total_dollars"] == pytest.approx(1425059.70, rel=1e-6)


def test_inference_aware_sweep():
    data = json.loads(
        ok("inference-aware", "--flops", "1e22", "--inference-tokens", "1e10..1e14", "--points", 5, "-f", "json").stdout
    )
    params = [p["inference_aware"]["params"] for p in data["plans"]]
    assert len(params) == 5 and params == sorted(params, reverse=True)
    assert "Above" in ok("inference-aware", "--flops", "1e22", "--inference-tokens", "1e10..1e14").stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["--flops", "1e21", "--inference-tokens", "-5"], "--inference-tokens must be zero or positive"),
        (["--flops", "1e21", "--inference-tokens", "1e12", "--mfu", "0"], "--mfu must be in (0, 1]"),
        (["--flops", "1e21", "--inference-tokens", "1e12", "--prefill-mfu", "2"], "--prefill-mfu must be in (0, 1]"),
        (
            ["--flops", "1e21", "--inference-tokens", "1e12", "--prompt-share", "1.5"],
            "--prompt-share must be in [0, 1]",
        ),
        (["--target-loss", "1.5", "--inference-tokens", "1e12"], "irreducible loss is E = 1.8172"),
        (["--flops", "1e21", "--inference-tokens", "1e12", "--law", "porian"], "gives N_opt(C) only"),
        (["--inference-tokens", "1e12"], "give the quality one way"),
        (
            ["--flops", "1e21", "--inference-tokens", "1e12", "--objective", "speed"],
            "--objective must be 'flops' or 'cost'",
        ),
        (
            ["--flops", "1e21", "--inference-tokens", "1e12", "--inference-bits", "4"],
            "--inference-bits must be 16 or 8",
        ),
    ],
)
def test_inference_aware_bad_input(args, message):
    result = run("inference-aware", *args)
    assert result.exit_code == 2 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_plan_file_with_a_serving_block():
    path = REPO / "configs" / "serving-2t-tokens.yaml"
    data = json.loads(ok("plan", path, "-f", "json").stdout)
    for p in data["plans"]:
        sized = p["inference_aware"]
        assert sized["inference_aware"]["params"] < sized["compute_optimal"]["params"]
        assert p["cost"]["inference_dollars"] > 0
    assert "Inference-aware sizing" in ok("plan", path).stdout


def test_bad_serving_block(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("flops: 1e22\ninference:\n  tokens: 1e12\n  decode_mfu: 3\n")
    result = run("plan", path)
    assert result.exit_code == 2 and ":4: inference.decode_mfu must be in (0, 1]" in result.stderr
    path.write_text("flops: 1e22\ninference:\n  prompt_share: 0.5\n")
    result = run("plan", path)
    assert result.exit_code == 2 and "inference needs tokens" in result.stderr


SHARED_RUNS = REPO.parent / "shared" / "data" / "svg_extracted_data.csv"


@pytest.fixture
def epoch_runs(shared_data):
    # shared_data: skips without ../shared/data, and fails instead in CI (see tests/conftest.py)
    if not SHARED_RUNS.exists():
        pytest.skip("../shared/data has no svg_extracted_data.csv")
    return SHARED_RUNS


def test_fit_epoch_data_and_plan_with_it(epoch_runs, tmp_path):
    # Besiroglu et al. 2024 (arXiv:2404.10102), notebook cell 18: E 1.81724, A 477.84, B 2143.86,
    # alpha 0.34731, beta 0.36718 on the 240 runs left after dropping the 5 highest-loss ones.
    law_file = tmp_path / "mylaw.yaml"
    result = ok("fit", epoch_runs, "--drop-worst", 5, "--bootstrap", 60, "--save", law_file, "-f", "json")
    data = json.loads(result.stdout)
    fitted = data["parametric"]
    assert fitted["E"] == pytest.approx(1.81724, rel=1e-3) and fitted["alpha"] == pytest.approx(0.34731, rel=1e-3)
    assert data["bootstrap"]["n"] == 60 and law_file.exists()
    plan = json.loads(ok("allocate", "--flops", "1e22", "--law", law_file, "--ci", "0.8", "-f", "json").stdout)
    lo, hi = plan["intervals"]["params"]
    assert lo < plan["params"] < hi
    # issue #26: two 80% intervals for one quantity, each saying which it is and why the other differs
    assert data["bootstrap"]["interval"] == "bootstrap percentiles" and "normal" in data["bootstrap"]["interval_why"]
    assert plan["intervals"]["interval"] == "normal draws" and "fit --bootstrap" in plan["intervals"]["interval_why"]
    table = ok("allocate", "--flops", "1e22", "--law", law_file, "--ci", "0.8").stdout
    assert "80% interval" in table and "interval kind: normal draws" in table
    assert "Fitted law" in ok("fit", epoch_runs, "--drop-worst", 5).stdout
    fit_table = " ".join(ok("fit", epoch_runs, "--drop-worst", 5, "--bootstrap", 20).stdout.split())
    assert "Intervals are bootstrap percentiles of the refits; a law saved from this fit keeps only" in fit_table


def test_fit_refuses_to_overwrite_its_input(epoch_runs, tmp_path):
    copy = tmp_path / "runs.csv"
    copy.write_text(epoch_runs.read_text())
    result = run("fit", copy, "--save", copy)
    assert result.exit_code == 2 and "give a file name ending in .yaml" in result.stderr
    assert copy.read_text() == epoch_runs.read_text()


def test_sweep_then_fit_round_trip(tmp_path):
    path = tmp_path / "sweep.csv"
    data = json.loads(
        ok("sweep", "--target-flops", "1e23", "--budget-flops", "1e20", "--output", path, "-f", "json").stdout
    )
    assert data["total_flops"] <= 1e20
    # Fill the losses with a known law, then fit both approaches on it.
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    law = scaleplan.get_law("chinchilla")
    with path.open("w") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        for r in rows:
            r["loss"] = repr(float(law.loss(float(r["params"]), float(r["tokens"]))))
            writer.writerow(r)
    fitted = json.loads(ok("fit", path, "--approach", "both", "-f", "json").stdout)
    assert fitted["parametric"]["alpha"] == pytest.approx(0.34, abs=0.01)
    assert fitted["isoflop"]["a"] == pytest.approx(law.exponents[0], abs=0.02)


@pytest.mark.parametrize(
    "args, message",
    [
        (["fit", "missing.csv"], "missing.csv"),
        (["fit", "x.csv", "--approach", "magic"], "--approach must be parametric, isoflop or both"),
        (["fit", "x.csv", "--columns", "loss"], "--columns takes FIELD=COLUMN"),
        (["sweep", "--target-flops", "1e20", "--budget-flops", "1e21"], "must be smaller than --target-flops"),
        (
            ["allocate", "--flops", "1e21", "--law", "chinchilla", "--ci", "0.8"],
            "needs a law with bootstrap uncertainty",
        ),
    ],
)
def test_fit_and_sweep_bad_input(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.csv").write_text("params,tokens,loss\n1e8,1e9,3\n")
    result = run(*args)
    assert result.exit_code == 2 and message in result.stderr, result.stderr


def test_allocate_with_limited_unique_data():
    data = json.loads(ok("allocate", "--flops", "1e23", "--unique-tokens", "5e10", "-f", "json").stdout)
    block = data["constrained"]  # the mode's block; the common keys (params, tokens, loss...) at top level
    assert data["law"] == "muennighoff" and block["epochs"] > 4 and block["loss_penalty"] > 0
    assert data["cost"]["dollars"] > 0
    result = ok("allocate", "--flops", "1e23", "--unique-tokens", "5e10")
    assert "epochs" in result.stdout and "16 epochs" in result.stderr
    # Plenty of unique data: the constrained plan is the unconstrained one.
    data = json.loads(ok("allocate", "--flops", "1e21", "--unique-tokens", "1e13", "-f", "json").stdout)
    block = data["constrained"]
    assert block["epochs"] <= 1 and data["law_params"]["params"] == pytest.approx(
        block["unconstrained_params"], rel=1e-9
    )


def test_allocate_fixed_choice_judged_by_every_law():
    data = json.loads(ok("allocate", "--params", "7e9", "--tokens", "2e12", "-f", "json").stdout)
    assert data["flops"] == pytest.approx(8.4e22)
    gadre = next(r for r in data["rows"] if r["law"] == "gadre")
    assert 0 < gadre["top1_error"] < 1 and gadre["overtraining"] > 1
    assert {"epoch", "chinchilla", "kaplan"} <= {r["law"] for r in data["rows"]}
    assert "top-1 err" in ok("allocate", "--params", "7e9", "--tokens", "2e12").stdout


def test_allocate_moe():
    data = json.loads(ok("allocate", "--flops", "1e23", "--moe", "-f", "json").stdout)
    for key in ("granularity", "params_active", "params_total", "experts", "loss_difference"):
        assert key in data
    assert data["params_total"] > data["params_active"] and data["loss_difference"] < 0
    data = json.loads(
        ok("allocate", "--flops", "1e21", "--moe", "--granularity", 8, "--expansion", 16, "-f", "json").stdout
    )
    assert data["granularity"] == 8 and data["expansion"] == 16


@pytest.mark.parametrize(
    "args, message",
    [
        (["--flops", "1e23", "--unique-tokens", "0"], "--unique-tokens must be positive"),
        (["--flops", "1e23", "--unique-tokens", "-5"], "--unique-tokens must be positive"),
        (["--params", "7e9"], "needs both --params and --tokens"),
        (["--params", "7e9", "--tokens", "2e12", "--flops", "1e21"], "drop --flops"),
        (["--flops", "1e23", "--moe", "--granularity", "0.5"], "granularity"),
        (["--flops", "1e23", "--moe", "--expansion", "7"], "expansion"),
        (["--flops", "1e23", "--granularity", "8"], "need --moe"),
    ],
)
def test_constrained_bad_input(args, message):
    result = run("allocate", *args)
    assert result.exit_code == 2 and message in result.stderr, result.stderr


def _png_size(path):
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_plot_flags_write_pngs(tmp_path):
    a, c, i = tmp_path / "a.png", tmp_path / "c.png", tmp_path / "i.png"
    ok("allocate", "--flops", "1e21", "--plot", a)
    ok("compare", "epoch", "kaplan", "--flops", "1e19..1e23", "--points", 3, "--plot", c)
    ok("inference-aware", "--flops", "1e22", "--inference-tokens", "1e12", "--plot", i)
    assert _png_size(a) == (1600, 1400) and _png_size(c) == (1600, 800) and _png_size(i) == (1600, 800)
    result = run("allocate", "--flops", "1e21", "--plot", tmp_path / "missing" / "a.png")
    assert result.exit_code == 2 and "does not exist" in result.stderr


def test_plan_report_folder(tmp_path):
    folder = tmp_path / "report"
    result = ok("plan", REPO / "configs" / "serving-2t-tokens.yaml", "--report", folder)
    names = sorted(p.name for p in folder.iterdir())
    assert "README.md" in names and sum(n.endswith(".png") for n in names) >= 3
    text = (folder / "README.md").read_text()
    for png in (n for n in names if n.endswith(".png")):
        assert png in text
    assert "wrote" in result.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["--vocab", "0"], "--vocab must be a whole number from 1"),
        (["--context", "0"], "--context must be a whole number from 1"),
        (["--layers", "0"], "--layers must be a whole number from 1"),
        (["--layers", "1000"], "cannot reach 2.778e+09 parameters"),
        (["--lr-law", "stepla"], "did you mean 'steplaw'"),
    ],
)
def test_recipe_pins_bad_input(args, message):
    result = run("allocate", "--flops", "1e21", *args)
    assert result.exit_code == 2 and message in result.stderr, result.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["allocate", "--flop", "1e21"], "No such option: --flop (Possible options: --flops"),
        (["compar"], "Did you mean 'compare'?"),
        (["fit"], "Missing argument 'RUNS'"),
        (["allocate", "--flops", "1e21", "--format", "xml"], "'xml' is not one of"),
        (["--bogus"], "No such option: --bogus"),
    ],
)
def test_usage_errors_are_one_line_too(args, message):
    result = run(*args)
    assert result.exit_code == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "╭" not in result.stderr
