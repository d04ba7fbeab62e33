"""Validation lives at the entry (issue #19 item 1): one plan_budget checks each value a small fixed number of times,
in every mode, however long its searches run (the serving pricer's 81 designed sizes, quantized serving's 300 steps,
the 200 bootstrap draws of an interval).

The budget is parsed and checked once (Budget.from_mapping, outside the count here); the stages and their search
loops call the unchecked cores (recipe: vocab_at, vocab_for_total, design_checked, default_shape, hparam_rows,
recipe_from, recipe_draws; cluster: cost_breakdown, cluster_run; precision_laws.ouyang_relative_penalty;
constrained.constrained_loss). Before this, one inference-aware plan called pos_float 171 times and fields.parse 40
(the serving pricer's 81 designed sizes each checked their pins and vocabulary; every training-peak lookup re-parsed
the precision), an interval's 200 draws called pos_float 1,200 times, and the law was looked up by name twice.

The calls are counted by code object (cProfile), so a validator imported under another name is counted too; a count
does not depend on what earlier tests left in the caches (the cores below the caches check nothing).
"""

from __future__ import annotations

import cProfile
import pstats
import re
from collections import Counter
from unittest import mock

import pytest

from scaleplan import laws
from scaleplan.cluster import hardware
from scaleplan.core import values
from scaleplan.pipeline.budget import Budget
from scaleplan.pipeline.stages import plan_budget
from scaleplan.recipe import tables
from scaleplan.schema import fields

MODES = {
    "compute-optimal": {"flops": "1e21"},
    "fixed": {"params": "1B", "tokens": "100B"},
    "inference-aware": {"flops": "1e21", "inference_tokens": "2T"},
    "target loss": {"target_loss": "2.4", "inference_tokens": "1e12"},
    "data-constrained": {"flops": "5e22", "unique_tokens": "5e10"},
    "moe": {"flops": "1e21", "moe": True},
    "given moe": {"moe": {"total_params": "47B", "active_params": "13B"}, "tokens": "1T"},
    "cluster": {"flops": "1e21", "gpus": 512, "zero": 3, "serve_bits": 4, "inference_tokens": "2T"},
    "pinned shape": {"flops": "1e21", "layers": 20, "context": 4096},
    "intervals": {"flops": "1e21", "ci": 0.8},  # 200 bootstrap draws, each with its own recipe
}

# At most this many calls in one plan_budget of any mode above, and why that many:
LIMITS = {
    # the budget's FLOPs against the law's smallest budget (limits.check_flops, in Budget.resolve), plus the
    # allocation's own entry where the mode's planner is a public function (fixed_moe: total, active and tokens)
    "check_positive": 4,
    # the cost settings are checked by the Budget; the stages price with cluster.cost_breakdown
    "check_settings": 0,
    # the designed size at the model stage's entry (design_model), and a MoE's DeepSeek budget (hyperparameters)
    "pos_float": 2,
    # a precision is parsed once, in the Budget; a recompute policy once where the cluster prices it
    "fields.parse": 1,
}
# plan_intervals, a public function the intervals stage calls, checks its cost settings once for all its draws
MORE = {("intervals", "check_settings"): 1}
# Name lookups of a law: the Context's one (laws.get with a Law object returns it and looks nothing up).
LAW_LOOKUPS = 1


def _code_key(fn) -> tuple[str, int, str]:
    code = fn.__code__
    return code.co_filename, code.co_firstlineno, code.co_name


VALIDATORS = {
    "check_positive": values.check_positive,
    "check_settings": values.check_settings,
    "pos_float": tables.pos_float,
    "fields.parse": fields.parse,
}


def _calls(budget: Budget) -> tuple[Counter, int]:
    """(calls of each validator, name lookups of a law) during one plan_budget of `budget`."""
    lookups = []
    real_get = laws.get

    def spy_get(name):
        if not isinstance(name, laws.Law):
            lookups.append(name)
        return real_get(name)

    profile = cProfile.Profile()
    with mock.patch.object(laws, "get", spy_get):
        profile.runcall(plan_budget, budget)
    stats = pstats.Stats(profile).stats
    counts = Counter({name: stats[_code_key(fn)][1] for name, fn in VALIDATORS.items() if _code_key(fn) in stats})
    return counts, len(lookups)


@pytest.mark.parametrize("mode", sorted(MODES))
def test_one_plan_checks_each_value_a_fixed_small_number_of_times(mode):
    budget = Budget.from_mapping(MODES[mode])  # the entry: parsed and checked here, outside the count
    counts, lookups = _calls(budget)
    over = {name: counts[name] for name, limit in LIMITS.items() if counts[name] > MORE.get((mode, name), limit)}
    assert not over, f"{mode}: validators called more often than the entry needs: {over} (limits {LIMITS})"
    assert lookups <= LAW_LOOKUPS, f"{mode}: the law looked up by name {lookups} times"


def test_the_count_sees_a_validator_imported_under_another_name():
    """The counter is not blind: cluster.hardware imports fields.parse as parse_field, and a precision it has not
    parsed yet goes through it."""
    profile = cProfile.Profile()
    profile.runcall(hardware.check_precision, " FP8 ")
    stats = pstats.Stats(profile).stats
    assert stats[_code_key(fields.parse)][1] == 1


def test_the_public_entries_still_check_their_arguments():
    """The cores skip the checks; the library functions a caller uses keep them, with their messages."""
    from scaleplan.cluster.cost import training_cost
    from scaleplan.cluster.run import plan_cluster
    from scaleplan.core.errors import ScaleplanError
    from scaleplan.recipe import design as recipe

    cases = [
        (lambda: recipe.optimal_vocab(non_vocab_params=-1.0), "non_vocab_params must be a positive finite number"),
        (lambda: recipe.design_shape(float("nan")), "params_total must be a positive finite number"),
        (lambda: recipe.design_model(-1.0), "params must be a positive finite number"),
        (lambda: recipe.hyperparameters(tokens=0, params=1e9), "tokens must be a positive finite number"),
        (lambda: training_cost(-1e21, "h100", 0.4, 2.0, 1024), "flops must be positive and finite"),
        (lambda: training_cost(1e21, "h100", 1.5, 2.0, 1024), "mfu must be in (0, 1]"),
        (lambda: plan_cluster(flops=1e21, zero=4), "zero must be 0, 1, 2 or 3, got 4"),
        (lambda: plan_cluster(params=7e9, tokens=-1.0), "tokens must be positive and finite, got -1.0"),
        (lambda: plan_cluster(flops=-1.0), "flops must be positive and finite"),
        (lambda: plan_cluster(flops=1e21, price=-2.0), "price must be positive"),
    ]
    for call, message in cases:
        with pytest.raises(ScaleplanError, match=re.escape(message)):
            call()
