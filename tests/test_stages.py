"""The plan pipeline (scaleplan.pipeline.stages): every mode through the same stages, one Plan shape, one count.

- every mode's JSON has the output contract's common keys, and flags, a budget file and scaleplan.plan() agree;
- a non-default option changes every mode's plan (its values, or a warning saying why a stage does not apply) or
  is refused naming the mode: never silently dropped;
- every reported count is the designed model's, and k N D equals the plan's FLOPs in the law's own convention;
- inference-aware --law FILE plans with the file throughout, as allocate --law FILE does.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import scaleplan
from scaleplan import laws
from scaleplan.cli.app import app
from scaleplan.core.values import CONTRACT_KEYS
from scaleplan.recipe import design as recipe

REPO = Path(__file__).resolve().parents[1]

# Each mode as budget fields (the YAML keys; the flags are the same names with dashes).
MODES = {
    "compute-optimal": {"flops": "1e21"},
    "inference-aware": {"flops": "1e21", "inference_tokens": "1e12"},
    "target loss": {"target_loss": "2.4", "inference_tokens": "1e12"},
    "data-constrained": {"flops": "5e22", "unique_tokens": "5e10"},
    "fixed": {"params": "1B", "tokens": "100B"},
    "moe": {"flops": "1e21", "moe": True},
    "given moe": {"moe": {"total_params": "47B", "active_params": "13B"}, "tokens": "1T"},
}


def _flags(fields: dict) -> list[str]:
    out = []
    for key, value in fields.items():
        if key == "moe":
            out.append("--moe")
            for k, v in (value if isinstance(value, dict) else {}).items():
                out += ["--" + k.replace("_", "-"), str(v)]
        else:
            out += ["--" + key.replace("_", "-"), str(value)]
    return out


def _cli_json(args: list[str]) -> dict:
    result = CliRunner().invoke(app, [*args, "-f", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("mode", sorted(MODES))
def test_every_mode_has_the_common_keys_and_flags_file_and_python_agree(tmp_path, mode):
    fields = MODES[mode]
    flags = _cli_json(["allocate", *_flags(fields)])
    path = tmp_path / "budget.yaml"
    path.write_text(yaml.safe_dump({"name": "budget", **fields}))
    from_file = _cli_json(["plan", str(path)])
    from_python = json.loads(json.dumps(scaleplan.plan(**fields).to_dict()))
    assert from_file.pop("name") == "budget"
    assert flags == from_file == from_python
    assert set(CONTRACT_KEYS) <= set(flags), set(CONTRACT_KEYS) - set(flags)
    assert list(flags)[-2:] == ["warnings", "citation"]


OPTIONS = {"zero": 3, "serve_bits": 4, "precision": "fp8", "gpus": 512, "ci": 0.8}


@pytest.mark.parametrize(("mode", "option"), [(m, o) for m in sorted(MODES) for o in OPTIONS])
def test_a_non_default_option_changes_every_mode_or_is_refused_naming_it(mode, option):
    fields = MODES[mode]
    if option == "ci" and mode != "compute-optimal":  # intervals exist for the compute-optimal plan only
        with pytest.raises(scaleplan.ScaleplanError) as refused:
            scaleplan.plan(**fields, ci=OPTIONS["ci"])
        named = {"target loss": "inference-aware", "given moe": "fixed-moe"}.get(mode, mode)
        assert str(refused.value).startswith("ci") and named in str(refused.value), str(refused.value)
        return
    base = scaleplan.plan(**fields).to_dict()
    given = scaleplan.plan(**fields, **{option: OPTIONS[option]}).to_dict()
    changed = {k for k in given if given[k] != base.get(k)}
    assert changed - {"warnings"} or len(given["warnings"]) > len(base["warnings"]), (mode, option)


def test_ci_gives_intervals_on_the_compute_optimal_plan():
    assert scaleplan.plan(flops=1e21, ci=0.8).to_dict()["intervals"]["level"] == 0.8


# Every law at budgets from 1e17 to 1e25 (from its smallest plannable budget up).
LAW_BUDGETS = [
    (name, c)
    for name in laws.names()
    for c in (1e17, 1e19, 1e21, 1e23, 1e25)
    if laws.get(name).params_convention != "active" and c >= laws.min_flops(name)
]


@pytest.mark.parametrize(("law", "flops"), LAW_BUDGETS)
def test_reported_counts_are_the_designed_models(law, flops):
    p = scaleplan.plan(flops=flops, law=law)
    shape = p.recipe.shape
    assert p.params_total == shape.total_params and p.params_non_embedding == shape.non_embedding_params
    convention = "flops_per_token" if p.flops_per_token_m is not None else p.params_convention
    native = recipe.measure(shape, convention)
    own = p.law_params
    k = own["flops_per_token_m" if p.flops_per_token_m is not None else "params"] * own["tokens"]
    k = flops / k  # the law's own C = k N D (6 for parameter counts, 1 for DeepSeek's M)
    assert k * native * p.tokens == pytest.approx(flops, rel=1e-9)
    if p.loss is not None:
        assert p.loss == pytest.approx(float(laws.get(law).loss(native, p.tokens)), rel=1e-12)


def test_a_fixed_models_counts_are_the_designed_models_and_6_n_d_is_its_budget():
    """A fixed model (7B on 2T) trains the shape designed for it: every count is that shape's, tokens re-derived so
    that 6 N D stays the budget the model given sets (6 x 7e9 x 2e12 = 8.4e22), each law judging the shape in its
    own convention (Kaplan's N is the shape's non-embedding count); the model as given is law_params."""
    p = scaleplan.plan(params="7B", tokens="2T")
    shape = p.recipe.shape
    assert p.params == p.params_total == shape.total_params and p.params_non_embedding == shape.non_embedding_params
    assert 6 * p.params * p.tokens == pytest.approx(8.4e22, rel=1e-12) and p.flops == pytest.approx(8.4e22)
    assert p.law_params["params"] == 7e9 and p.law_params["tokens"] == 2e12
    assert p.row("kaplan").params == shape.non_embedding_params
    assert p.row("chinchilla").loss == pytest.approx(float(laws.get("chinchilla").loss(p.params, p.tokens)), rel=1e-12)
    assert p.cost.gpu_hours == pytest.approx(8.4e22 / (989e12 * 0.4 * 3600))  # H100 dense BF16 peak, default MFU
    top = p.to_dict()  # the default law at top level, every law under `fixed`
    assert top["law"] == laws.DEFAULT_LAW == "epoch" and top["loss"] == p.row("epoch").loss
    assert len(top["fixed"]["rows"]) == len(p.rows) > 1


def test_a_trainer_configs_counts_are_its_own(tmp_path):
    # Llama 2 7B's released config (Touvron et al. 2023): 32 x 4,096, d_ff 11,008, 32,000 vocabulary, untied
    # embeddings = 6,738,415,616 parameters, trained on 2T tokens
    config = tmp_path / "config.json"
    hf = {"model_type": "llama", "hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32}
    hf |= {"num_attention_heads": 32, "num_key_value_heads": 32, "vocab_size": 32000, "tie_word_embeddings": False}
    config.write_text(json.dumps(hf))
    p = scaleplan.plan(model=str(config), tokens="2T")
    assert p.params_total == 6_738_415_616 and p.tokens == pytest.approx(2e12, rel=1e-12)


def test_inference_aware_with_a_law_file_uses_the_file_throughout():
    """configs/laws/example-fitted-law.yaml is not a bundled law: inference-aware sized it, recipe and loss
    included, exactly as allocate --law FILE --inference-tokens plans it."""
    law = str(REPO / "configs" / "laws" / "example-fitted-law.yaml")
    asked = _cli_json(["inference-aware", "--law", law, "--flops", "1e21", "--inference-tokens", "1e12"])
    planned = _cli_json(["allocate", "--law", law, "--flops", "1e21", "--inference-tokens", "1e12"])
    assert asked["law"] == asked["recommended"]["law"] == "example-fitted-law"
    assert asked["recommended"] == planned
    fitted = laws.get(law)
    own = planned["law_params"]
    assert own["loss"] == pytest.approx(float(fitted.loss(own["params"], own["tokens"])), rel=1e-12)


@pytest.mark.parametrize("flops", [1e19, 1e21, 1e23, 1e25])
def test_moe_counts_are_the_designed_models_and_spend_the_budget(flops):
    """An optimal MoE reports its integer shape's counts; its tokens spend the budget in Krajewski et al.'s own
    convention (arXiv:2402.07871, eqs. 10-11 with App. E's c_f = 6 and c_r = 14: C = (6 N_active + 14 d_model E G
    n_blocks) D, N_active non-embedding without router and norms), its loss is eq. (9) at the designed N."""
    from scaleplan.pipeline import moe

    p = scaleplan.plan(flops=flops, moe=True)
    shape, d = p.recipe.shape, p.to_dict()
    active, total = shape.law_counts
    assert (d["params"], d["params_active"], d["params_total"]) == (active, shape.active_params, shape.total_params)
    assert d["params_non_embedding"] == shape.non_embedding_params
    router = shape.moe_layers * shape.d_model * shape.experts
    assert (6 * active + 14 * router) * d["tokens"] == pytest.approx(flops, rel=1e-12)
    assert d["loss"] == pytest.approx(float(moe.moe_loss(total, d["tokens"], d["granularity"])), rel=1e-12)
    law = moe.moe_allocation(flops)
    assert (d["law_params"]["params"], d["law_params"]["tokens"]) == (law.active_params, law.tokens)
    assert "moe" not in d  # no note that the counts are the law's: they are the shape's


def test_a_given_moes_counts_are_the_designed_models_and_6_n_d_is_its_budget():
    """47B total, 13B active (Mixtral 8x7B's published counts, Jiang et al. 2024, arXiv:2401.04088) on 1T tokens:
    the designed shape's counts at top level (within 1% of the given), C = 6 N_active D kept (Kaplan et al. 2020)."""
    p = scaleplan.plan(**MODES["given moe"])
    shape, d = p.recipe.shape, p.to_dict()
    assert (d["params_active"], d["params_total"]) == (shape.active_params, shape.total_params)
    assert d["params"] == shape.active_params
    assert 6 * d["params_active"] * d["tokens"] == pytest.approx(6 * 13e9 * 1e12, rel=1e-12) == d["flops"]
    assert abs(d["params_total"] / 47e9 - 1) <= 0.01 and abs(d["params_active"] / 13e9 - 1) <= 0.01
    assert (d["law_params"]["params_total"], d["law_params"]["params_active"], d["law_params"]["tokens"]) == (
        47e9,
        13e9,
        1e12,
    )


def test_deepseek_with_tokens_to_serve_spends_m_d_not_6_m_d():
    """DeepSeek's law allocates FLOPs per token M with C = M D (DeepSeek-AI 2024, arXiv:2401.02954, eq. 4:
    M_opt = 0.1715 C^0.5243, D_opt = 5.8316 C^0.4757; at C = 1e22, 5.8731e10 and 1.7029e11). It predicts no loss,
    so tokens to serve leave the compute-optimal plan (with a note): its FLOPs are the budget, M·D is the budget
    within the constants' rounding (0.1715 x 5.8316 = 1.0001), not 6 M D."""
    d = _cli_json(["allocate", "--law", "deepseek", "--flops", "1e22", "--inference-tokens", "1e12"])
    assert d["flops"] == 1e22
    own = d["law_params"]
    assert own["flops_per_token_m"] == pytest.approx(5.8731e10, rel=1e-4)
    assert own["tokens"] == pytest.approx(1.7029e11, rel=1e-4)
    assert d["flops_per_token_m"] * d["tokens"] == pytest.approx(1.0001e22, rel=1e-4)
    assert d["params"] < d["flops_per_token_m"] / 6  # params are N (M = 6N + attention), not M
    assert any("predicts no loss" in w for w in d["warnings"])
    for flag in ("--total-dollars", "--target-loss"):  # the other serving modes need a loss: refused, not mis-sized
        value = "2M" if flag == "--total-dollars" else "2.1"
        refused = CliRunner().invoke(app, ["allocate", "--law", "deepseek", flag, value, "--inference-tokens", "1e12"])
        assert refused.exit_code == 2 and "predicts loss" in refused.stderr
