"""`scaleplan precision`: the tables, formats agreeing with the library, bad input as one line with exit 2."""

import csv
import io
import json
import struct

import pytest
from typer.testing import CliRunner

from scaleplan.cli.app import app
from scaleplan.pipeline import precision

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def ok(*args):
    result = run(*args)
    assert result.exit_code == 0, result.stderr + result.stdout
    return result


def test_budget_tables():
    out = ok("precision", "--flops", "1e23").stdout
    for text in (
        "Cost-optimal training precision",
        "E2M1",
        "E4M3",
        "E8M7",
        "fp4 *",
        "7.00 bits",
        "critical D",
        "Dolma",
    ):
        assert text in out
    assert "Serving" not in out  # no trained model and no --serve-bits: no serving table


# The model `precision --params 7B --tokens 2T` judges is the one `allocate --params 7B --tokens 2T` designs:
# 40 layers x d_model 3,584 (56 heads of 64, 8 KV heads), SwiGLU d_ff 12,288. Its non-embedding count, by hand:
# per layer attention 2 x 3584^2 + 2 x 3584 x 512 = 29,360,128, MLP 3 x 3584 x 12288 = 132,120,576, norms
# 2 x 3584; x 40 layers, + the final norm 3,584 = 6,459,518,464. The precision laws count N without embeddings
# (Sun et al. 2025 Table 3: N = L (4 h^2 + 3 h d_ff)).
DESIGNED_7B_NON_EMBEDDING = 6_459_518_464
# The designed 7B's total is 6,977,908,224; the plan keeps the given budget 6 x 7e9 x 2e12 = 8.4e22, so it trains
# on D = 8.4e22 / (6 x 6,977,908,224) = 2.00633e12 tokens (the model as given stays in law_params)
DESIGNED_7B_TOKENS = 8.4e22 / (6 * 6_977_908_224)


def sun_critical_tokens_by_hand(n, e, m, block=128):
    """Sun et al. 2025 (arXiv:2501.02423) Eq. 41 with App. B.1 Table 2's constants typed here (not read from
    precision.yaml): D_crit = [d gamma N^alpha (E+0.5)^delta (M+0.5)^nu / log2 B]^(1/(2 beta))."""
    import math

    d, gamma, alpha, beta, delta, nu = 68973.0621, 11334.5197, 0.2368, 0.5162, 3.1926, 2.9543
    return (d * gamma * n**alpha * (e + 0.5) ** delta * (m + 0.5) ** nu / math.log2(block)) ** (1 / (2 * beta))


def test_model_tables_and_warning_for_an_exceeded_critical_size():
    result = ok("precision", "--params", "7B", "--tokens", "2T")
    assert "Serving the trained model" in result.stdout and "Pythia" in result.stdout
    assert "The plan (as allocate plans it)" in result.stdout and "6.46B non-embedding" in result.stdout
    # FP4 (E2M1, B = 128) critical data size for the designed N = 6,459,518,464 (Sun Eq. 41, Table 2 constants):
    # 6.03e11, i.e. the paper's printed 0.4T for 1B (Sec. 4.3) x 6.46^(alpha / (2 beta)) = 0.393T x 1.534; exceeded
    assert sun_critical_tokens_by_hand(DESIGNED_7B_NON_EMBEDDING, 2, 1) == pytest.approx(6.026e11, rel=1e-3)
    assert "603B !" in result.stdout
    assert "exceed Sun et al.'s critical data size" in result.stderr


def test_json_is_the_library_report_of_the_designed_model():
    data = json.loads(ok("precision", "--params", "7B", "--tokens", "2T", "-f", "json").stdout)
    assert data["shape"]["params_non_embedding"] == DESIGNED_7B_NON_EMBEDDING
    assert data["precision_laws"]["params"] == DESIGNED_7B_NON_EMBEDDING
    assert data["precision_laws"]["params_convention"] == "non_embedding"
    lib = precision.precision_report(params=DESIGNED_7B_NON_EMBEDDING, tokens=DESIGNED_7B_TOKENS).to_dict()
    assert data["cost_optimal"]["bits"] == lib["cost_optimal"]["bits"]
    assert [t["penalty"] for t in data["training"]] == [t["penalty"] for t in lib["training"]]
    assert [r["qid"] for r in data["quantization"]["rows"]] == [r["qid"] for r in lib["quantization"]["rows"]]
    assert data["kumar"]["optimal_bits"] == pytest.approx(7.0, abs=0.01)
    fp8 = next(t for t in data["training"] if t["format"]["name"] == "fp8")  # Sun Eq. 41, E4M3, B = 128
    assert fp8["critical_tokens"] == pytest.approx(sun_critical_tokens_by_hand(DESIGNED_7B_NON_EMBEDDING, 4, 3))


def test_csv_rows_tagged_by_table():
    text = ok("precision", "--params", "1B", "--tokens", "100B", "--serve-bits", "4", "-f", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["table"] for r in rows} == {"plan", "cost_optimal", "training", "serving"}
    plan = next(r for r in rows if r["table"] == "plan")
    data = json.loads(ok("precision", "--params", "1B", "--tokens", "100B", "--serve-bits", "4", "-f", "json").stdout)
    assert float(plan["params"]) == data["params"] == data["shape"]["params_total"] == 996_109_824  # the designed 1B
    assert float(plan["flops"]) == data["flops"] and data["law_params"]["params"] == 1e9
    serving = [r for r in rows if r["table"] == "serving"]
    n = data["precision_laws"]["params"]  # the designed 1B model's non-embedding count
    assert n == data["shape"]["params_non_embedding"] < 1e9
    assert float(serving[0]["params"]) == n
    assert len(serving) == 1 and float(serving[0]["penalty"]) == pytest.approx(
        precision.ouyang_qid(n, data["tokens"], 4)
    )


def test_markdown_and_chosen_formats():
    out = ok(
        "precision", "--flops", "1e22", "--train-precision", "nvfp4", "--train-precision", "e5m2", "-f", "markdown"
    ).stdout
    assert "| precision |" in out and "| nvfp4 | E2M1 |" in out and "| e5m2 | E5M2 |" in out


def test_tables_fit_80_columns():
    from scaleplan.cli import app as cli

    old = cli.out.width
    cli.out.width = 80
    try:
        text = ok("precision", "--params", "70B", "--tokens", "15T").stdout
    finally:
        cli.out.width = old
    assert "Serving" in text and max(len(line) for line in text.splitlines()) <= 80


@pytest.mark.parametrize(
    "args, flag",
    [
        (["--flops", "-1"], "--flops"),
        (["--flops", "1e40"], "--flops"),
        (["--params", "7B"], "--tokens"),
        (["--flops", "1e23", "--params", "7B", "--tokens", "1T"], "not both"),
        (["--params", "2e16", "--tokens", "1T"], "--params"),
        (["--params", "7B", "--tokens", "1e19"], "--tokens"),
        (["--flops", "1e23", "--train-precision", "int4"], "--train-precision"),
        (["--flops", "1e23", "--block-size", "1"], "--block-size"),
        (["--params", "7B", "--tokens", "1T", "--serve-bits", "0"], "--serve-bits"),
        (["--flops", "1e23", "--plot", "out.txt"], ".png"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, flag):
    result = run("precision", *args)
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert "\n" not in line and flag in line and "Traceback" not in line


def png_size(data: bytes):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_plot_is_written_and_never_over_an_existing_file(tmp_path):
    target = tmp_path / "precision.png"
    ok("precision", "--params", "7B", "--tokens", "2T", "--plot", target)
    assert png_size(target.read_bytes()) == (1600, 800)
    again = run("precision", "--params", "7B", "--tokens", "2T", "--plot", target)
    assert again.exit_code == 2 and "--force" in again.stderr
    ok("precision", "--flops", "1e22", "--plot", target, "--force")


def test_plot_series_is_the_librarys_numbers():
    from scaleplan.present import precision_plot

    s = precision_plot.penalty_series(7e9, 2e12, points=11)
    assert s.sun_penalty[list(s.bits).index(4)] == pytest.approx(precision.training_penalty(7e9, 2e12, "fp4").penalty)
    assert s.ouyang_qid[list(s.ouyang_bits).index(3)] == pytest.approx(precision.ouyang_qid(7e9, 2e12, 3))
    assert s.critical_ratio["fp4"] == pytest.approx(precision.sun_critical_tokens(7e9, 2, 1) / 7e9)


def test_hardware_precisions_limit_the_best_of_comparison():
    data = json.loads(
        ok(
            "precision", "--flops", "1e24", "--hardware-precision", "bf16", "--hardware-precision", "fp8", "-f", "json"
        ).stdout
    )
    assert [c["format"]["name"] for c in data["cost_optimal"]["choices"]] == ["bf16", "fp8"]
    assert data["cost_optimal"]["best"] == "fp8"  # Sun: 8 bits beats 16 at 1e24 (the optimum is 4-8 bits)
    bad = run("precision", "--flops", "1e24", "--hardware-precision", "fp99")
    assert bad.exit_code == 2 and "--hardware-precision" in bad.stderr


def test_precision_command_imports_neither_scipy_nor_matplotlib():
    import subprocess
    import sys

    code = (
        "import io, contextlib, sys\nfrom scaleplan.cli.app import app\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        "    try:\n        app(['precision', '--params', '7B', '--tokens', '2T'], standalone_mode=False)\n"
        "    except SystemExit:\n        pass\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    loaded = set(
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    )
    assert "scaleplan" in loaded and not loaded & {"scipy", "matplotlib"}


def test_hardware_ranks_only_its_dense_paths():
    # issue 22: `precision --flops 1e23` recommended FP4 with no notion of hardware. An H100 has dense BF16 and FP8
    # paths but no FP4 (NVIDIA H100 datasheet via ml-engineering: FP8 1,979 dense, no FP4 tensor path on Hopper)
    d = json.loads(ok("precision", "--flops", "1e23", "--hardware", "h100", "-f", "json").stdout)["cost_optimal"]
    rows = {ch["format"]["name"]: ch for ch in d["choices"]}
    assert d["hardware"] == "h100" and d["best"] in ("bf16", "fp8") and "best" in d
    assert not rows["fp4"]["available"] and "no dense FP4 path" in rows["fp4"]["unavailable"]
    assert rows["fp4"]["loss"] is None and rows["bf16"]["speedup"] == 1.0
    # the speed-up it assumes is the published end-to-end one (1.25-1.51x in dense comparisons), not Sun's 16/8 = 2
    assert 1.25 <= rows["fp8"]["speedup"] <= 1.51
    out = ok("precision", "--flops", "1e23", "--hardware", "h100").stdout
    assert "unavailable" in out and "1.34x" in out
    # an A100 (Ampere) has only BF16: the only ranked format is bf16
    d = json.loads(ok("precision", "--flops", "1e23", "--hardware", "a100", "-f", "json").stdout)["cost_optimal"]
    assert d["best"] == "bf16" and [c["available"] for c in d["choices"]] == [True, False, False]
    # without hardware, Sun et al.'s own cost k P N D (16/P speed-up) is kept, and FP4 can win
    d = json.loads(ok("precision", "--flops", "1e23", "-f", "json").stdout)["cost_optimal"]
    assert d["hardware"] is None and [c["speedup"] for c in d["choices"]] == [1.0, 2.0, 4.0]


def test_serve_bits_in_budget_mode():
    # --serve-bits was ignored for a budget: it now gives the best choice's model at those bits
    d = json.loads(ok("precision", "--flops", "1e22", "--serve-bits", "4", "-f", "json").stdout)
    assert [r["bits"] for r in d["quantization"]["rows"]] == [4.0]
    bad = run("precision", "--flops", "1e22", "--serve-bits", "1")
    assert bad.exit_code == 2 and "--serve-bits" in bad.stderr


# ---------------------------------------------------------------------------------------------------------------
# On the one pipeline (issue #19): the plan's common keys, the designed model's count, allocate's numbers


REPORT_KEYS = ("flops", "params", "tokens", "block_size", "cost_optimal", "training", "kumar", "quantization")


@pytest.mark.parametrize("args", [["--params", "7B", "--tokens", "2T"], ["--flops", "1e22"]])
def test_json_has_the_contract_keys_and_every_report_key(args):
    from scaleplan.core.values import CONTRACT_KEYS

    data = json.loads(ok("precision", *args, "-f", "json").stdout)
    assert set(CONTRACT_KEYS) <= set(data) and set(REPORT_KEYS) <= set(data)
    assert list(data)[: len(CONTRACT_KEYS) - 2] == list(CONTRACT_KEYS[:-2])  # the common keys first
    assert data["params"] > 0 and data["tokens"] > 0 and data["shape"]["layers"] > 0 and data["cost"]["dollars"] > 0


def test_penalties_are_allocates_for_the_same_model():
    """`precision` and `allocate --precision fp8 --serve-bits 4` judge the same designed model with the same laws."""
    data = json.loads(ok("precision", "--params", "7B", "--tokens", "2T", "-f", "json").stdout)
    plan = json.loads(
        ok(
            "allocate", "--params", "7B", "--tokens", "2T", "--precision", "fp8", "--serve-bits", "4", "-f", "json"
        ).stdout
    )
    block = plan["precision"]
    fp8 = next(t for t in data["training"] if t["format"]["name"] == "fp8")
    assert fp8["params"] == block["training"]["params"] == block["params"] == DESIGNED_7B_NON_EMBEDDING
    assert fp8["tokens"] == block["tokens"] == pytest.approx(DESIGNED_7B_TOKENS, rel=1e-12)
    for key in ("penalty", "relative", "loss", "critical_tokens"):
        assert fp8[key] == pytest.approx(block["training"][key], rel=1e-12), key
    row = next(r for r in data["quantization"]["rows"] if r["bits"] == 4)
    assert data["quantization"]["params"] == block["params"]
    assert row["qid"] == pytest.approx(block["qid"], rel=1e-12)
    assert row["kumar_ptq_delta"] == pytest.approx(block["kumar_ptq_delta"], rel=1e-12)
    assert row["ouyang_critical_tokens_per_param"] == pytest.approx(block["ouyang_critical_tokens_per_param"])
    # and the plan's common keys are allocate's for the same model
    for key in ("law", "flops", "params", "params_total", "tokens", "loss", "vocab", "shape", "learning_rate"):
        assert data[key] == plan[key], key


@pytest.mark.parametrize("args", [["--flops", "1e22"], ["--flops", "1e23", "--hardware", "h100"]])
def test_a_budget_plans_as_allocate_does(args):
    """For a budget the plan is allocate's compute-optimal plan; Sun et al.'s own N, D per format stay beside it."""
    from scaleplan.core.values import CONTRACT_KEYS

    data = json.loads(ok("precision", *args, "-f", "json").stdout)
    plan = json.loads(ok("allocate", *args, "-f", "json").stdout)
    for key in CONTRACT_KEYS[:-2]:  # warnings are each command's own
        assert data[key] == plan[key], key
    assert data["citation"] == plan["citation"]
    laws = data["precision_laws"]
    assert laws["flops"] == plan["flops"] and laws["params"] is None and laws["tokens"] is None
    assert data["cost_optimal"]["params"] != plan["params"]  # the precision laws' own allocation, labelled apart


def test_table_and_markdown_say_which_count_is_which():
    out = ok("precision", "--flops", "1e22").stdout
    assert "The plan (as allocate plans it)" in out and "not the plan's model" in out
    md = ok("precision", "--params", "7B", "--tokens", "2T", "-f", "markdown").stdout
    assert (
        "**The plan (as allocate plans it)**" in md and "| designed counts | 6.98B total, 6.46B non-embedding |" in md
    )
    assert "at N = 6.46B (non-emb.), D = 2.01T" in md


@pytest.mark.parametrize(
    "args",
    [
        ["--flops", "-1"],
        ["--flops", "1e40"],
        ["--flops", "1"],
        ["--flops", "$2M"],
        ["--params", "1", "--tokens", "1T"],
        ["--params", "2e16", "--tokens", "1T"],
        ["--params", "7B", "--tokens", "1e19"],
        ["--params", "7B", "--tokens", "1e-300"],
        ["--params", "7B", "--tokens", "abc"],
    ],
)
def test_a_bad_budget_flag_gets_allocates_message(args):
    """The budget's flags go through allocate's Budget parsers: the same one line, exit 2."""
    said = []
    for command in ("precision", "allocate"):
        result = run(command, *args)
        assert result.exit_code == 2 and "Traceback" not in result.output
        said.append(result.stderr.strip())
    assert "\n" not in said[0] and said[0] == said[1]


def test_the_precision_stage_adds_the_report_to_any_plan_without_changing_it():
    """plan_budget(..., precision_report=options): the stage judges the designed model; the plan is otherwise the
    same plan (its own keys unchanged; its warnings gain the report's, once)."""
    from scaleplan.pipeline.budget import Budget
    from scaleplan.pipeline.stages import plan_budget

    options = {"formats": ["fp8"], "choices": ["bf16", "fp8"], "block_size": None, "serve_bits": (4,)}
    budget = Budget.from_mapping({"params": "7B", "tokens": "2T"}, flags=True)
    with_report, alone = plan_budget(budget, precision_report=options), plan_budget(budget)
    report = with_report.precision_report
    assert alone.precision_report is None and report is not None
    assert report.params == with_report.recipe.shape.non_embedding_params == DESIGNED_7B_NON_EMBEDDING
    assert report.tokens == pytest.approx(DESIGNED_7B_TOKENS, rel=1e-12)
    assert report.flops == pytest.approx(6 * DESIGNED_7B_NON_EMBEDDING * DESIGNED_7B_TOKENS)
    assert [r.bits for r in report.quantization.rows] == [4.0] and report.training[0].format.name == "fp8"
    a, b = with_report.to_dict(), alone.to_dict()
    assert {k: v for k, v in a.items() if k != "warnings"} == {k: v for k, v in b.items() if k != "warnings"}
    assert set(b["warnings"]) <= set(a["warnings"]) and set(report.warnings) <= set(a["warnings"])
