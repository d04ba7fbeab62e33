"""`allocate --ci`: intervals from the epoch law's shipped bootstrap draws, in JSON and in an 80-column table."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from scaleplan.cli.app import app

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def ok(*args):
    result = run(*args)
    assert result.exit_code == 0, result.stderr + result.stdout
    return result


def test_allocate_ci_with_the_bundled_law_json():
    plan = json.loads(ok("allocate", "--flops", "1e23", "--ci", "0.8", "-f", "json").stdout)
    iv = plan["intervals"]
    assert iv["level"] == 0.8 and iv["draws"] == 4000 and "bootstrap" in iv["method"]
    points = {
        "params": plan["params"],
        "tokens": plan["tokens"],
        "loss": plan["loss"],
        "learning_rate": plan["learning_rate"],
        "batch_tokens": plan["batch_tokens"],
        "gpu_hours": plan["cost"]["gpu_hours"],
        "dollars": plan["cost"]["dollars"],
    }
    for key, point in points.items():
        lo, hi = iv[key]
        assert lo <= point * (1 + 1e-12) and point <= hi * (1 + 1e-12), key
    # the larger model of the interval trains on fewer tokens: N and D move in opposite directions at fixed C
    assert iv["params"][0] * iv["tokens"][1] == pytest.approx(1e23 / 6, rel=0.05)


def test_allocate_ci_table_has_one_row_per_quantity_within_80_columns():
    from rich.console import Console

    from scaleplan.pipeline.budget import Budget
    from scaleplan.pipeline.stages import plan_budget
    from scaleplan.present.render import Format, emit_plans

    plan = plan_budget(Budget.from_mapping({"flops": "1e23", "inference_tokens": "2e12"}), ci=0.8)
    console = Console(width=80, record=True)
    emit_plans(console, Format.table, [plan])
    out = console.export_text()
    rows = [line for line in out.splitlines() if "80% interval" in line]
    labels = [line.split(",")[0].strip() for line in rows]
    assert labels == [
        "params",
        "tokens",
        "loss",
        "learning rate",
        "batch tokens",
        "GPU-hours",
        "training cost",
        "serving cost",
        "total cost",
    ]
    for line in rows:  # label and whole value on one line of at most 80 columns
        assert len(line.rstrip()) <= 80 and (".." in line or "(set by the budget)" in line), line
    assert "4,000 bootstrap refits (200 for the recipe)" in out
    assert "80% interval" in ok("allocate", "--flops", "1e23", "--ci", "0.8").stdout


def test_ci_refuses_what_it_cannot_answer():
    result = run("allocate", "--flops", "1e21", "--law", "kaplan", "--ci", "0.8")
    assert result.exit_code == 2 and "needs a law with bootstrap uncertainty; kaplan has none" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    result = run("allocate", "--params", "7e9", "--tokens", "2e12", "--ci", "0.8")
    assert result.exit_code == 2 and "--ci gives intervals on the compute-optimal plan" in result.stderr
