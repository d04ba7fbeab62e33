"""`scaleplan serve` through typer's CliRunner: formats carrying the same numbers, side-by-side rows, bad input."""

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scaleplan.cli import app as cli
from scaleplan.cli.app import app

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def ok(*args):
    result = run(*args)
    assert result.exit_code == 0, result.stderr + result.stdout
    return result


LLAMA_70B = ["--layers", 80, "--d-model", 8192, "--heads", 64, "--d-ff", 28672, "--vocab", 128256]


def test_serve_rows_side_by_side_and_formats_agree():
    args = [
        "serve",
        "--params",
        "8B",
        "--hardware",
        "h100",
        "--hardware",
        "h200",
        "--serve-bits",
        16,
        "--serve-bits",
        8,
    ]
    data = json.loads(ok(*args, "-f", "json").stdout)
    rows = data["rows"]
    assert [(r["hardware"], r["weight_bits"]) for r in rows] == [("h100", 16), ("h100", 8), ("h200", 16), ("h200", 8)]
    for r in rows:
        for key in ("batch", "bound", "tp", "tokens_per_s_per_gpu", "dollars_per_million", "kv_bytes_per_token"):
            assert key in r
        assert r["bound"] in ("compute", "bandwidth", "memory", "latency", "communication")
    # 8-bit weights and KV serve more tokens per GPU than 16-bit on the same chip
    assert rows[1]["tokens_per_s_per_gpu"] > rows[0]["tokens_per_s_per_gpu"]
    table = csv.DictReader(io.StringIO(ok(*args, "-f", "csv").stdout))
    assert [float(r["tokens_per_s_per_gpu"]) for r in table] == [r["tokens_per_s_per_gpu"] for r in rows]
    text = ok(*args).stdout
    assert "h200" in text and "8/8" in text and f"{rows[0]['tokens_per_s_per_gpu']:,.0f}" in text
    assert "bandwidth x0.65" in " ".join(text.split())  # the table says what it assumed
    assert "| h100 |" in ok(*args, "-f", "markdown").stdout


def test_serve_an_explicit_shape_with_tp_and_lengths():
    data = json.loads(
        ok(
            "serve", *LLAMA_70B, "--serve-bits", 8, "--serve-tp", 2, "--prompt-tokens", 1000, "--output-tokens", 1000,
            "--price", 2, "-f", "json",
        ).stdout
    )  # fmt: skip
    assert data["tp"] == 2 and data["prompt_tokens"] == 1000 and data["precision"] == "fp8"
    assert data["dollars_per_million"] > 0 and data["price"] == 2


def test_serve_latency_target_sets_the_batch():
    free = json.loads(ok("serve", "--params", "8B", "--serve-tp", 1, "-f", "json").stdout)
    tight = json.loads(ok("serve", "--params", "8B", "--serve-tp", 1, "--latency", "10", "-f", "json").stdout)
    assert tight["batch"] < free["batch"] and tight["bound"] == "latency"
    assert tight["time_per_output_token_s"] <= 0.010


def test_serve_a_budget_file_and_a_plan_json(tmp_path):
    budget = ok("serve", CONFIGS / "lab-1e23-h100.yaml", "-f", "json").stdout
    assert json.loads(budget)
    plan = ok("allocate", "--flops", "1e21", "-f", "json").stdout
    path = tmp_path / "plan.json"
    path.write_text(plan)
    served = json.loads(ok("serve", path, "-f", "json").stdout)
    assert served["model"] and served["tokens_per_s_per_gpu"] > 0


def test_serve_plot(tmp_path):
    pytest.importorskip("matplotlib")
    target = tmp_path / "serve.png"
    ok("serve", "--params", "1B", "--plot", target)
    assert target.read_bytes()[:4] == b"\x89PNG"
    assert run("serve", "--params", "1B", "--plot", target).exit_code == 2  # never over an existing file


@pytest.mark.parametrize(
    "args, words",
    [
        (["--serve-bits", "1"], "--serve-bits"),
        (["--serve-bits", "17"], "--serve-bits"),
        (["--serve-tp", "3"], "--serve-tp"),
        (["--latency", "soon"], "--latency"),
        (["--kv-bits", "x"], "--kv-bits"),
        (["--hardware", "h1000"], "h1000"),
        (["--bandwidth-fraction", "2"], "--bandwidth-fraction"),
        (["--prompt-tokens", "0"], "--prompt-tokens"),
        (["--price", "1", "--price", "2"], "--price"),
    ],
)
def test_serve_bad_input_is_one_line_and_exit_2(args, words):
    result = run("serve", "--params", "8B", *args)
    assert result.exit_code == 2, result.stdout
    assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_serve_needs_a_model():
    result = run("serve")
    assert result.exit_code == 2 and "--params" in result.stderr


def test_serve_table_fits_80_columns():
    old = cli.out.width
    cli.out.width = 80
    try:
        result = runner.invoke(app, ["serve", "--params", "70B", "--hardware", "h100", "--hardware", "mi300x"])
    finally:
        cli.out.width = old
    assert result.exit_code == 0, result.stderr
    assert max(len(line.rstrip()) for line in result.stdout.splitlines()) <= 80


def test_allocate_total_dollars_shows_the_split_and_fits_80_columns():
    old = cli.out.width
    cli.out.width = 80
    try:
        result = runner.invoke(app, ["allocate", "--total-dollars", "2M", "--inference-tokens", "5e12"])
    finally:
        cli.out.width = old
    assert result.exit_code == 0, result.stderr
    assert max(len(line.rstrip()) for line in result.stdout.splitlines()) <= 80
    text = " ".join(result.stdout.split())
    assert "total budget, split" in text and "$2.00M: training" in text and "+ serving" in text
    data = json.loads(ok("allocate", "--total-dollars", "2M", "--inference-tokens", "5e12", "-f", "json").stdout)
    tb = data["total_budget"]
    assert tb["training_dollars"] + tb["serving_dollars"] == pytest.approx(2e6)
    assert run("allocate", "--total-dollars", "2M", "--flops", "1e22", "--inference-tokens", "1e12").exit_code == 2


def test_serving_flags_are_the_same_in_allocate_plan_and_inference_aware(tmp_path):
    flags = ["--serve-bits", "8", "--kv-bits", "8", "--prompt-tokens", "500", "--output-tokens", "250"]
    data = json.loads(ok("allocate", "--flops", "1e22", "--inference-tokens", "1e12", *flags, "-f", "json").stdout)
    s = data["serving"]
    assert (s["weight_bits"], s["kv_bits"], s["prompt_tokens"], s["output_tokens"]) == (8, 8, 500, 250)
    budget = tmp_path / "b.yaml"
    budget.write_text("flops: 1e22\ninference_tokens: 1e12\n")
    planned = json.loads(ok("plan", budget, *flags, "-f", "json").stdout)
    assert planned["serving"]["kv_bits"] == 8 and planned["serving"]["prompt_tokens"] == 500
    ia = json.loads(ok("inference-aware", "--flops", "1e22", "--inference-tokens", "1e12", *flags, "-f", "json").stdout)
    assert ia["recommended"]["serving"]["kv_bits"] == 8
    for command in (["allocate"], ["plan", budget], ["inference-aware"], ["serve", "--params", "1B"]):
        extra = (
            ["--flops", "1e22", "--inference-tokens", "1e12"] if command[0] in ("allocate", "inference-aware") else []
        )
        result = run(*command, *extra, "--kv-bits", "1")
        assert result.exit_code == 2 and "--kv-bits" in result.stderr, (command, result.stderr)


def test_cost_objective_explains_itself():
    text = " ".join(
        ok("inference-aware", "--flops", "1e23", "--inference-tokens", "2e12", "--objective", "cost").stdout.split()
    )
    assert "Cost-optimal" in text and "vs FLOP-optimal" in text and "training FLOPs" in text


def test_fixed_mfu_alone_takes_sardanas_settings():
    ia = ["inference-aware", "--flops", "1e21", "--inference-tokens", "1e12"]
    result = run(*ia, "--decode-mfu", "0.1")
    assert result.exit_code == 2 and "--serving-model fixed-mfu" in result.stderr
    assert run(*ia, "--decode-mfu", "0.1", "--serving-model", "fixed-mfu").exit_code == 0
    result = run(*ia, "--kv-bits", "8", "--serving-model", "fixed-mfu")
    assert result.exit_code == 2 and "--kv-bits" in result.stderr
