"""Inference-aware sizing under a law whose published frontier is not the minimum of its own loss surface (Kaplan).

Issue 11, item 4: Kaplan's frontier is the compute-optimal answer in every command, inference-aware sizing included;
the inference-aware model is the cheapest model on the loss surface that reaches the frontier model's loss, and the
output says how the surface's minimum differs from the frontier.

Published numbers, hard-coded here from the papers (not read from the law file the code uses):
- Kaplan et al. 2020 (arXiv:2001.08361), eq. (1.5)/Table 6: N_opt = 1.3e9 * C_min^0.73 with C_min in PF-days
  (1 PF-day = 8.64e19 FLOPs); C_min = C / 2 as Hoffmann et al. 2022 (arXiv:2203.15556) App. D.4 read it, which
  gives 4.68B parameters at 1e21 FLOPs. N counts non-embedding parameters; D = C / (6 N).
- Kaplan et al. 2020, eq. (1.5) with Table 2: L(N, D) = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D,
  N_c = 6.4e13, D_c = 1.8e13, alpha_N = 0.076, alpha_D = 0.103.
The surface's minimum at 1e23 FLOPs, 88.2B parameters, is issue 11's figure (derived, not published).
"""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import scaleplan
from scaleplan import laws
from scaleplan.cli.app import app
from scaleplan.pipeline.inference import describe_break_even, inference_aware, savings
from scaleplan.pipeline.optimal import allocate
from scaleplan.schema.units import fmt_sci

rel = pytest.approx
runner = CliRunner()
PF_DAY = 8.64e19


def kaplan_frontier(flops):
    """Kaplan et al. 2020 Table 6, C_min = C/2 (Hoffmann et al. 2022 App. D.4): (N_opt, D = C / 6N)."""
    n = 1.3e9 * (0.5 * flops / PF_DAY) ** 0.73
    return n, flops / (6.0 * n)


def kaplan_loss(n, d):
    """Kaplan et al. 2020 eq. (1.5) with Table 2's joint fit."""
    return ((6.4e13 / n) ** (0.076 / 0.103) + 1.8e13 / d) ** 0.103


def test_the_published_frontier():
    assert kaplan_frontier(1e21)[0] == rel(4.68e9, rel=0.005)  # Hoffmann et al. 2022 App. D.4
    assert allocate(1e21, "kaplan").params == rel(4.68e9, rel=0.005)
    assert allocate(1e23, "kaplan").params == rel(kaplan_frontier(1e23)[0], rel=1e-9)  # 135B


@pytest.mark.parametrize("flops", [1e21, 1e23])
def test_the_compute_optimal_column_is_the_frontier(flops):
    plan = inference_aware(2e12, flops=flops, law="kaplan")
    n, d = kaplan_frontier(flops)
    assert plan.compute_optimal.params == rel(n, rel=1e-9)
    assert plan.compute_optimal.tokens == rel(d, rel=1e-9)
    assert plan.compute_optimal.training_flops == rel(flops, rel=1e-9)
    # the quality is the frontier model's loss on the surface; the inference-aware model reaches exactly it
    assert plan.loss == rel(kaplan_loss(n, d), rel=1e-9)
    assert kaplan_loss(plan.inference_aware.params, plan.inference_aware.tokens) == rel(plan.loss, rel=1e-9)


def test_frontier_vs_surface_at_1e23():
    plan = inference_aware(2e12, flops=1e23, law="kaplan")
    f = plan.to_dict()["frontier_vs_surface"]
    assert f["frontier_params"] == rel(135.06e9, rel=1e-3)  # Table 6 at C_min = 5e22 FLOPs
    assert f["surface_params"] == rel(88.2e9, rel=1e-3)  # the surface's minimum (issue 11)
    assert f["surface_vs_frontier_params"] == rel(88.2 / 135.06, rel=1e-3)  # 35% below
    assert f["surface_loss"] < f["frontier_loss"] == rel(plan.loss)
    # the surface reaches the frontier model's loss more cheaply with nothing served
    n0, d0 = f["surface_params_for_frontier_loss"], f["surface_tokens_for_frontier_loss"]
    assert kaplan_loss(n0, d0) == rel(plan.loss, rel=1e-9)
    assert f["surface_flops_for_frontier_loss"] == rel(6 * n0 * d0)
    assert f["saving_without_serving"] == rel(1 - 6 * n0 * d0 / 1e23)
    assert 0.14 < f["saving_without_serving"] < 0.16  # 8.52e22 FLOPs, 14.8% less
    # no model on the surface at that loss trains on fewer FLOPs
    grid = np.geomspace(n0 / 3, n0 * 3, 601)
    d = laws.get("kaplan").tokens_for_loss(grid, plan.loss)
    assert np.all(6 * grid * d >= f["surface_flops_for_frontier_loss"] * (1 - 1e-9))
    note = next(w for w in plan.warnings if "published frontier" in w)
    for text in ("135B", "88.2B", "35% below", "8.52e22", "14.8% less", "not due to serving"):
        assert text in note
    assert sum("published frontier" in w for w in plan.warnings) == 1


def test_break_even_is_zero_when_the_surface_saves_with_nothing_served():
    plan = inference_aware(2e12, flops=1e23, law="kaplan")
    assert plan.break_even_tokens == 0.0
    text = describe_break_even(plan)
    assert "at any demand, even none" in text and "14.8% fewer" in text
    # the serving part: against the surface's own cheapest model, where the saving crosses 1%
    serving = plan.frontier["serving_break_even_tokens"]
    law = laws.get("kaplan")
    assert savings(law, plan.loss, serving * 1.01, "flops", plan.costs, None) > 0.01
    assert savings(law, plan.loss, serving * 0.99, "flops", plan.costs, None) < 0.01
    assert f"above {fmt_sci(serving)} inference tokens" in text


def test_break_even_is_a_demand_where_the_frontier_is_close_to_the_surface():
    # at 1e22 FLOPs Kaplan's frontier (25.1B) is within 7% of the surface's minimum and costs 0.4% more FLOPs
    plan = inference_aware(2e12, flops=1e22, law="kaplan")
    assert 0 < plan.frontier["saving_without_serving"] < 0.01
    t = plan.break_even_tokens
    assert t > 0
    law, base = laws.get("kaplan"), (plan.compute_optimal.params, plan.compute_optimal.tokens)
    assert savings(law, plan.loss, t * 1.01, "flops", plan.costs, None, base) > 0.01
    assert savings(law, plan.loss, t * 0.99, "flops", plan.costs, None, base) < 0.01
    assert describe_break_even(plan).startswith(f"Above {fmt_sci(t)} inference tokens")


def test_a_target_loss_finds_the_frontier_model_that_reaches_it():
    n, d = kaplan_frontier(1e23)
    plan = inference_aware(2e12, target_loss=kaplan_loss(n, d), law="kaplan", objective="cost")
    assert plan.compute_optimal.params == rel(n, rel=1e-9)
    assert plan.compute_optimal.tokens == rel(d, rel=1e-9)
    assert plan.frontier["flops"] == rel(1e23, rel=1e-9)


def test_a_sweep_compares_every_demand_with_the_same_frontier_model():
    t = np.geomspace(1e9, 1e15, 7)
    plan = inference_aware(t, flops=1e23, law="kaplan")
    assert np.allclose(plan.compute_optimal.params, kaplan_frontier(1e23)[0], rtol=1e-9)
    assert np.all(np.asarray(plan.flops_saving) > 0.14)  # the surface's 14.8% and more with demand
    assert np.allclose(kaplan_loss(plan.inference_aware.params, plan.inference_aware.tokens), plan.loss, rtol=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.floats(min_value=1e19, max_value=1e25), st.floats(min_value=0.0, max_value=1e16))
def test_same_loss_and_never_dearer_at_any_budget(flops, tokens):
    plan = inference_aware(tokens, flops=flops, law="kaplan", break_even=False)
    n, d = kaplan_frontier(flops)
    assert plan.compute_optimal.params == rel(n, rel=1e-9)
    assert plan.loss == rel(kaplan_loss(n, d), rel=1e-9)
    assert kaplan_loss(plan.inference_aware.params, plan.inference_aware.tokens) == rel(plan.loss, rel=1e-9)
    assert plan.inference_aware.total_flops <= plan.compute_optimal.total_flops * (1 + 1e-9)
    assert plan.inference_aware.params <= plan.frontier["surface_params_for_frontier_loss"] * (1 + 1e-6)


def test_a_parametric_law_has_nothing_to_say():
    plan = inference_aware(2e12, flops=1e23, law="chinchilla")
    assert plan.frontier is None and "frontier_vs_surface" not in plan.to_dict()
    assert plan.compute_optimal.params == rel(allocate(1e23, "chinchilla").params, rel=1e-9)


# ---------------------------------------------------------------------------------------------------------------
# every route gives the frontier as the compute-optimal model


def _json(*args):
    result = runner.invoke(app, [*args, "-f", "json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_every_route_gives_the_frontier(tmp_path):
    n, d = kaplan_frontier(1e23)
    assert _json("allocate", "--law", "kaplan", "--flops", "1e23")["law_params"]["params"] == rel(n, rel=1e-9)
    ia = _json("inference-aware", "--law", "kaplan", "--flops", "1e23", "--inference-tokens", "2e12")
    flags = _json("allocate", "--law", "kaplan", "--flops", "1e23", "--inference-tokens", "2e12")
    path = tmp_path / "serve.yaml"
    path.write_text('law: kaplan\nflops: "1e23"\ninference:\n  tokens: "2e12"\n')
    by_file = _json("plan", str(path))
    python = scaleplan.plan(flops=1e23, inference_tokens=2e12, law="kaplan").to_dict()
    for record in (ia["recommended"], flags, by_file, python):
        assert record["compute_optimal"]["params"] == rel(n, rel=1e-9)
        assert record["compute_optimal"]["tokens"] == rel(d, rel=1e-9)
        assert record["inference_aware"]["compute_optimal"]["params"] == rel(n, rel=1e-9)
        assert record["inference_aware"]["frontier_vs_surface"] == ia["frontier_vs_surface"]
        own = record["law_params"]  # the law's model; the plan's counts are the designed shape's
        assert own["params"] == ia["inference_aware"]["params"]  # the recommendation: the same model
        assert own["loss"] == rel(kaplan_loss(n, d), rel=1e-9)  # at the frontier model's loss
    assert ia["compute_optimal"]["params"] == rel(n, rel=1e-9)
    assert ia["break_even_tokens"] == 0.0


def test_the_table_says_it_once():
    result = runner.invoke(app, ["inference-aware", "--law", "kaplan", "--flops", "1e23", "--inference-tokens", "2e12"])
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("published frontier") == 1
    assert "135B" in result.stdout and "88.2B" not in result.stdout  # the surface's minimum is not a column
    assert "even none" in result.stdout.replace("\n", " ")


def test_the_figure_marks_the_frontier_and_draws_no_break_even_line():
    from scaleplan.present import plot

    plan = inference_aware(2e12, flops=1e23, law="kaplan")
    s = plot.inference_series(plan, points=30, demand_points=8)
    assert s.compute_optimal_params[0] == rel(kaplan_frontier(1e23)[0], rel=1e-9)
    assert s.break_even == 0.0
    # the frontier model is on the surface's curve at the target loss, above its minimum (the inference-aware model)
    assert s.total[0].min() >= s.aware_total[0] * (1 - 1e-12)
    assert s.compute_optimal_total[0] > s.aware_total[0]
    png = plot.render_inference(s)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_serving_is_priced_the_same_in_the_comparison_and_in_the_plan():
    # Kaplan's N is non-embedding; the comparison and the recommended plan's cost both serve at 2 N_total FLOPs per
    # token, so the two sections of one output give the same serving FLOPs and dollars.
    from scaleplan.pipeline.inference import inference_aware

    plan = scaleplan.plan(flops=1e23, inference_tokens=2e12, law="kaplan")
    side = inference_aware(2e12, flops=1e23, law="kaplan").inference_aware
    own = plan.law_params  # the sizing's model; the plan serves its designed shape, at its own 2 N_total
    assert own["params"] == pytest.approx(float(side.params), rel=1e-9)
    assert plan.cost.inference_flops == pytest.approx(2.0 * plan.params_total * 2e12, rel=1e-9)
    assert float(side.inference_flops) == pytest.approx(2.0 * own["params_total"] * 2e12, rel=1e-9)
