"""Constants are claims (issue 25): every number a bundled data file gives that scaleplan computes with is read by a
published claim, or marked in its file with why it has no published value; a drifted constant fails `laws check`.

The full sweep over every constant is benchmarks/bench_drift.py; here a fixed-seed sample runs in-process.
"""

import random

import pytest
from typer.testing import CliRunner

from scaleplan.cli.app import app
from scaleplan.pipeline import checks, checks_constants

runner = CliRunner()

# The constants with no published value, each marked in its file with why (`unpublished:`): scaleplan's own
# conventions, extensions of a published figure to hardware its source does not cover, and a fit no output prints.
EXEMPT = {
    ("gadre.yaml", "downstream.metrics.top1_error_46.epsilon"),
    ("gadre.yaml", "downstream.metrics.top1_error_46.k"),
    ("gadre.yaml", "downstream.metrics.top1_error_46.gamma"),
    ("hardware.yaml", "a800.server_power_x"),
    ("hardware.yaml", "h800.server_power_x"),
    ("hardware.yaml", "h200.server_power_x"),
    *(("moe.yaml", f"conventions.granularity_grid.{i}") for i in range(11)),
    ("precision.yaml", "kumar.conventions.min_bits"),
    # Ouyang et al.'s per-width laws, recovered by scaleplan from Table 1's cells (not printed; issue 22)
    *(("precision.yaml", f"ouyang.per_width.{w}.{k}") for w in (3, 4) for k in ("k", "beta", "alpha")),
    ("recipe.yaml", "conventions.vocab_multiple"),
    ("recipe.yaml", "conventions.batch_sequence_multiple"),
    ("recipe.yaml", "conventions.d_model_multiple"),
    ("recipe.yaml", "conventions.shape_tolerance"),
    ("recipe.yaml", "conventions.gpt_shape_tolerance"),  # gpt keeps d_ff = 4 d_model (nanoGPT)
    ("recipe.yaml", "conventions.ff_min_ratio"),  # issue 21: the low end of the d_ff band (shapes)
    ("recipe.yaml", "conventions.batch_power_share"),  # issue 21: the batch a power-of-two multiple (layout)
    ("serving.yaml", "efficiency.bandwidth_fraction.value"),
    ("serving.yaml", "efficiency.compute_fraction.value"),
}


def test_every_constant_is_read_by_a_claim_or_marked_with_why():
    assert checks.coverage_problems() == []
    table = checks.constants()
    assert len(table) > 400
    exempt = {(k.file, k.path) for k in table if k.unpublished}
    assert exempt == EXEMPT
    assert all(len(k.unpublished) > 20 for k in table if k.unpublished)  # a reason, not a tick


def test_the_rule_finds_an_uncovered_constant_a_stale_mark_and_a_stale_cover(monkeypatch):
    from dataclasses import replace

    claims = checks.all_checks()
    without = tuple(c for c in claims if c.id != "epoch:constants.A")
    stale = replace(claims[0], id="stale", covers=(("epoch.yaml", "constants.nothing"),))
    monkeypatch.setattr(checks_constants, "all_checks", lambda: (*without, stale))  # the coverage rule reads it there
    checks.constants.cache_clear()
    try:
        problems = checks.coverage_problems()
    finally:
        checks.constants.cache_clear()
    assert any("epoch.yaml: constants.A = 482.01: no claim reads it" in p for p in problems)
    assert any("stale covers epoch.yaml:constants.nothing, which is no constant" in p for p in problems)


def test_a_sample_of_drifted_constants_fails_laws_check():
    table = [k for k in checks.constants() if k.claims]
    sample = random.Random(25).sample(table, 12)
    missed = [(k.file, k.path) for k in sample if not checks.drift_caught(k.file, k.path, 1.01)[0]]
    assert missed == []
    assert checks.run_checks("kaplan")[0].verdict == "pass"  # the data is restored


def test_epoch_a_482_to_582_makes_laws_check_exit_1_without_data_dir():
    # The example: epoch.yaml's A changed from 482.01 to 582.01 passed `laws check epoch` before.
    with checks.drifted("epoch.yaml", "constants.A", 582.01 / 482.01) as (old, new):
        assert (old, round(new, 2)) == (482.01, 582.01)
        result = runner.invoke(app, ["laws", "check", "epoch"])
        assert result.exit_code == 1, result.output
        assert "epoch:constants.A" in result.stdout or "482" in result.stdout
    assert runner.invoke(app, ["laws", "check", "epoch"]).exit_code == 0


def test_a_drift_that_breaks_loading_still_fails():
    # scaleup_devices must be whole; 8 -> 9 stays valid and is caught by its printed value
    caught, by = checks.drift_caught("hardware.yaml", "h100.scaleup_devices")
    assert caught and by == "hardware:h100.scaleup_devices"


def test_laws_check_passes_on_the_bundled_data_and_says_how_many_constants():
    result = runner.invoke(app, ["laws", "check", "-f", "markdown"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "| fail |" not in text and " 0 fail" in text
    assert "constants in the bundled data files" in text
    assert f"{len(EXEMPT)} with no published value" in text


@pytest.mark.shared_data
def test_laws_check_passes_with_the_released_runs(shared_data):
    result = runner.invoke(app, ["laws", "check", "--data-dir", str(shared_data), "-f", "json"])
    assert result.exit_code == 0, result.output
    assert '"skipped"' not in result.stdout and '"fail"' not in result.stdout
