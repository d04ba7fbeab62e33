"""Results render themselves (issue #20 item 5): a table as text, markdown, CSV or JSON without a Console, a notebook's
markdown, and a short summary for str() and repr(); the CLI prints the same tables (one rendering path)."""

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import scaleplan
from scaleplan.cli import app as cli
from scaleplan.core.errors import ScaleplanError
from scaleplan.core.values import Rendered

RESULT_TYPES = [
    "Plan",
    "Comparison",
    "InferencePlan",
    "ConstrainedPlan",
    "OvertrainReport",
    "MoePlan",
    "FixedMoePlan",
    "PrecisionReport",
    "ClusterPlan",
    "Serving",
    "ParametricFit",
    "VPFit",
    "Sweep",
    "VocabResult",
    "IsoflopFit",
    "LayoutPlan",
    "CostBreakdown",
]


@pytest.fixture(scope="module")
def plan():
    return scaleplan.plan(flops=1e23)


@pytest.mark.parametrize("name", RESULT_TYPES)
def test_the_result_types_are_exported_and_render_themselves(name):
    assert name in scaleplan.__all__
    assert issubclass(getattr(scaleplan, name), Rendered)


def test_str_and_repr_are_a_short_summary(plan):
    text = str(plan)
    assert text == repr(plan)
    assert len(text) < 400 and len(text.splitlines()) <= 4  # the dataclass repr ran to ~10,000 characters
    # Besiroglu et al. 2024 (epoch, the default law) at 1e23 FLOPs: 29.4B parameters on 567B tokens
    assert text.startswith("Plan (epoch)") and "29.4B parameters" in text and "567B tokens" in text
    assert "loss 2.032" in text and "1,024 x h100" in text and "to train" in text


def test_to_table_formats_carry_the_same_numbers(plan):
    md = plan.to_table("markdown")
    assert md.startswith("**Compute-optimal plan**") and "| training tokens | 567B |" in md
    assert json.loads(plan.to_table("json")) == json.loads(json.dumps(plan.to_dict()))
    rows = list(csv.DictReader(io.StringIO(plan.to_table("csv"))))
    assert len(rows) == 1 and float(rows[0]["params"]) == pytest.approx(plan.params)
    text = plan.to_table("text", width=80)
    assert "training tokens" in text and "\x1b[" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    assert plan.to_table() == plan.to_table("text", width=100)


def test_a_notebook_shows_the_summary_then_the_table(plan):
    md = plan._repr_markdown_()
    assert md.startswith("- **model**: 29.4B parameters") and "**Compute-optimal plan**" in md


def test_the_cli_prints_the_same_table(plan):
    old = cli.out.width
    cli.out.width = 100
    try:
        stdout = CliRunner().invoke(cli.app, ["allocate", "--flops", "1e23"]).stdout
    finally:
        cli.out.width = old
    table = "".join(line.rstrip() + "\n" for line in stdout.splitlines())
    assert table.endswith(plan.to_table("text", width=100))


@pytest.mark.parametrize("fmt, width", [("html", None), ("table ", None), ("text", 10), ("text", True)])
def test_a_bad_format_or_width_is_refused(plan, fmt, width):
    with pytest.raises(ScaleplanError, match=r"fmt|width"):
        plan.to_table(fmt, width)


EXAMPLE_LOG = Path(__file__).resolve().parents[1] / "configs" / "example-train-log.csv"
SAMPLE_RUNS = EXAMPLE_LOG.with_name("sample-runs.csv")
RESULTS = {
    "Comparison": lambda: scaleplan.compare(["epoch", "chinchilla"], [1e21, 1e23]),
    "InferencePlan": lambda: scaleplan.inference_aware(2e12, flops=1e23),
    "InferencePlan-sweep": lambda: scaleplan.inference_aware(np.array([1e12, 1e13]), flops=1e23),
    "ConstrainedPlan": lambda: scaleplan.data_constrained_allocation(1e23, 1e11),
    "OvertrainReport": lambda: scaleplan.fixed_allocation(7e9, 2e12),
    "MoePlan": lambda: scaleplan.moe_allocation(1e22),
    "FixedMoePlan": lambda: scaleplan.plan(
        moe={"total_params": "671B", "active_params": "37B"}, tokens="14.8T", hardware="h800"
    ),
    "PrecisionReport": lambda: scaleplan.precision_report(1e23),
    "ClusterPlan": lambda: scaleplan.plan_cluster(params=7e9, tokens=2e12, gpus=256, hardware="h100"),
    "Sweep": lambda: scaleplan.design_sweep(1e23, 1e21),
    "VocabResult": lambda: scaleplan.optimal_vocab(7e9),
    "Plan-vectorised": lambda: scaleplan.allocate([1e21, 1e23]),  # one column per budget
    "CostBreakdown": lambda: scaleplan.training_cost(1e23, scaleplan.get_hardware("h100"), 0.4, 2.0, 512),
    "LayoutPlan": lambda: scaleplan.plan_layout(
        scaleplan.ModelSpec(params=7e9, layers=32, d_model=4096, heads=32, context=4096, d_ff=11008, glu=True),
        scaleplan.get_hardware("h100"),
        64,
    ),
    "CurveFit": lambda: scaleplan.fit_curves([scaleplan.load_log(EXAMPLE_LOG)]),
    # results with no table of their own render their JSON fields, one row each
    "Shape": lambda: scaleplan.design_shape(7e9),
    "ServingCosts": lambda: scaleplan.serving_costs(hardware="h100"),
    "QuantizationReport": lambda: scaleplan.quantization_report(7e9, 2e12),
    "PenaltyBlock": lambda: scaleplan.plan_penalties(7e9, 2e12, "fp8", serving_bits=4),
    "Bootstrap": lambda: scaleplan.bootstrap(scaleplan.load_runs(SAMPLE_RUNS), n=20, seed=0),
}


@pytest.mark.parametrize("kind", RESULTS)
def test_every_result_renders_in_every_format(kind):
    result = RESULTS[kind]()
    assert type(result).__name__ == kind.split("-")[0]
    assert 0 < len(str(result)) < 600
    assert result.to_table("text").strip() and result.to_table("markdown").strip()
    json.loads(result.to_table("json"))
    assert result.to_table("csv").count("\n") >= 2  # a header and at least one row
    assert result._repr_markdown_().startswith("- **")


def test_fits_and_serving_render():
    from scaleplan.cluster import serving
    from scaleplan.fit import parametric as fit
    from scaleplan.fit.vp import fit_vp  # scaleplan.fit_vp is also its module's name (issue #20)

    n = np.repeat(np.geomspace(7e7, 1.6e10, 5), 4)
    d = n * np.tile(np.geomspace(2, 300, 4), 5)
    # Hoffmann et al. 2022's Approach 3 constants (Eq. 10, as Besiroglu et al. 2024 read them): a noiseless loss
    loss = 1.69 + 406.4 / n**0.34 + 410.7 / d**0.28
    runs = fit.Runs.from_arrays(n, loss, tokens=d, source="<synthetic>")
    # three isoFLOP levels of five sizes each (C = 6ND), for Approach 2
    c = np.repeat([1e18, 1e19, 1e20], 5)
    n_iso = np.tile(np.geomspace(0.25, 4, 5), 3) * 2.4e8 * (c / 1e19) ** 0.45  # about the optimum at each level
    iso_runs = fit.Runs.from_arrays(n_iso, 1.69 + 406.4 / n_iso**0.34 + 410.7 / (c / (6 * n_iso)) ** 0.28, flops=c)
    iso = scaleplan.fit_isoflop(iso_runs)
    assert str(iso).startswith("IsoflopFit") and "IsoFLOP minima" in iso.to_table("text")
    for result in (scaleplan.fit_parametric(runs), fit_vp(runs)):
        assert str(result).startswith(type(result).__name__) and "fitted: L = 1.69" in str(result)
        assert "Implied compute-optimal allocation" in result.to_table("text")
        assert json.loads(result.to_table("json"))["E"] == pytest.approx(1.69, rel=1e-3)
    shape = scaleplan.plan(flops=1e21).recipe.shape
    served = serving.serve(serving.ServedModel.from_shape(shape), "h100")
    assert "tokens/s per h100" in str(served) and "tok/s/GPU" in served.to_table("text")


def test_a_result_without_a_table_of_its_own_shows_its_json_fields():
    # Llama 2 7B's shape (Touvron et al. 2023, Table 1 / its config.json): 32 x 4,096, 32 heads, d_ff 11,008
    shape = scaleplan.Shape(
        layers=32, d_model=4096, heads=32, head_dim=128, d_ff=11008, context=4096, vocab=32000, tied_embeddings=False
    )
    assert shape.total_params == 6_738_415_616  # the released model's count
    text = shape.to_table("text", width=80)
    assert "d_ff" in text and "11,008" in text and "6,738,415,616" in text
    assert json.loads(shape.to_table("json"))["d_ff"] == 11008
    header, row = list(csv.reader(io.StringIO(shape.to_table("csv"))))[:2]
    assert dict(zip(header, row))["layers"] == "32"
    assert str(shape).splitlines()[0] == "Shape" and "d_ff 11,008" in str(shape)
