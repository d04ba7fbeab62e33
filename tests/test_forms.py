"""Law forms own their maths (scaleplan/laws/forms.py): loss, optimum, tokens for a loss, smallest N for a loss."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scaleplan import laws
from scaleplan.core.errors import ScaleplanError
from scaleplan.laws import forms

# Hoffmann et al. 2022 (arXiv:2203.15556), eq. (10) / App. D.2: the printed Approach 3 fit.
HOFFMANN = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
# Kaplan et al. 2020 (arXiv:2001.08361), eq. (1.5) with Table 2: alpha_N, alpha_D, N_c, D_c.
KAPLAN = {"alpha_N": 0.076, "alpha_D": 0.103, "N_c": 6.4e13, "D_c": 1.8e13}
budgets = st.floats(1e16, 1e26)


def test_growth_is_hoffmanns_g_written_out():
    # G = (alpha A / (beta B))^(1/(alpha+beta)) = (0.34 * 406.4 / (0.28 * 410.7))^(1/0.62)
    g = (0.34 * 406.4 / (0.28 * 410.7)) ** (1 / 0.62)
    assert forms.growth(HOFFMANN) == pytest.approx(g, rel=1e-15)
    assert forms.ParametricForm(HOFFMANN).growth == forms.growth(HOFFMANN)


def test_parametric_exponents_are_eq_4():
    # a = beta / (alpha + beta) = 0.28 / 0.62, b = alpha / (alpha + beta) = 0.34 / 0.62
    assert forms.ParametricForm(HOFFMANN).exponents == pytest.approx((0.45161, 0.54839), abs=1e-5)


@settings(max_examples=40, deadline=None)
@given(budgets)
def test_parametric_optimum_spends_the_budget_and_is_the_isoflop_minimum(c):
    form = forms.ParametricForm(HOFFMANN)
    n, d = form.optimum(c)
    assert 6 * n * d == pytest.approx(c, rel=1e-12)
    assert form.loss_optimum(c) == (n, d)
    for step in (0.999, 1.001):
        assert form.loss(n * step, c / (6 * n * step)) > form.loss(n, d)


@settings(max_examples=40, deadline=None)
@given(budgets)
def test_compute_for_loss_inverts_the_optimal_loss(c):
    form = forms.ParametricForm(HOFFMANN)
    loss = form.loss(*form.optimum(c))
    assert float(form.compute_for_loss(loss)) == pytest.approx(c, rel=1e-9)
    assert math.isinf(float(form.compute_for_loss(HOFFMANN["E"])))  # no model reaches E itself


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(["parametric", "kaplan"]), st.floats(1e7, 1e12), st.floats(1e9, 1e14))
def test_tokens_for_loss_inverts_each_loss_form(kind, n, d):
    form = forms.ParametricLoss(HOFFMANN) if kind == "parametric" else forms.KaplanLoss(KAPLAN)
    loss = float(form.loss(n, d))
    assert float(form.tokens_for_loss(n, loss)) == pytest.approx(d, rel=1e-6)
    n_min = form.smallest_params_for_loss(loss)
    assert n_min < n
    assert math.isinf(float(form.tokens_for_loss(n_min * 0.999, loss)))  # below it no data is enough
    assert math.isfinite(float(form.tokens_for_loss(n_min * 1.001, loss)))


def test_kaplan_smallest_params_is_eq_1_1_inverted():
    # Kaplan eq. (1.1): L(N) = (N_c / N)^alpha_N with unlimited data; the smallest N reaching L solves it.
    n = forms.KaplanLoss(KAPLAN).smallest_params_for_loss(2.5)
    assert (6.4e13 / n) ** 0.076 == pytest.approx(2.5, rel=1e-12)


def test_kaplan_loss_minimum_differs_from_its_frontier():
    kaplan = laws.get("kaplan")
    assert not kaplan.frontier_is_loss_minimum and laws.get("epoch").frontier_is_loss_minimum
    n_surface, d_surface = kaplan.loss_optimum(1e23)
    assert n_surface == pytest.approx(88.2e9, rel=1e-3)  # the surface's minimum (issue 11's figure)
    assert kaplan.optimum(1e23)[0] > n_surface  # Table 6's frontier puts more in N
    for step in (0.99, 1.01):
        assert kaplan.loss(n_surface * step, 1e23 / (6 * n_surface * step)) > kaplan.loss(n_surface, d_surface)
    arr = kaplan.loss_optimum(np.array([1e21, 1e23]))[0]
    assert arr[1] == pytest.approx(n_surface, rel=1e-12)


def test_law_delegates_to_its_form():
    epoch, kaplan, deepseek = laws.get("epoch"), laws.get("kaplan"), laws.get("deepseek")
    assert epoch.irreducible_loss == pytest.approx(1.8172, abs=1e-4)  # Besiroglu et al. 2024, Table 1
    assert kaplan.irreducible_loss == 0.0 and deepseek.irreducible_loss is None
    assert deepseek.loss(1e9, 1e10) is None and not deepseek.predicts_loss
    assert epoch.is_parametric and not kaplan.is_parametric
    assert epoch.equation.startswith("L(N, D) = E + A / N^alpha") and kaplan.equation.startswith("N_opt")
    assert kaplan.loss_description.startswith("kaplan: N_c = 6.4e+13") and epoch.loss_description is None
    assert kaplan.form == "power" and epoch.form == "parametric"  # still the file's words, for display


def test_range_warnings_live_with_the_laws():
    from scaleplan.pipeline.optimal import range_warnings  # the old home re-exports it

    assert range_warnings is laws.range_warnings
    epoch = laws.get("epoch")
    # Besiroglu et al. 2024 fitted runs up to 1.30e22 FLOPs (their released data)
    assert epoch.range_warnings(1e23) == laws.range_warnings(epoch, 1e23)
    assert "above the largest budget it was fitted on (1.3e22)" in epoch.range_warnings(1e23)[0]
    assert epoch.range_warnings(1e21) == []


def test_compute_for_loss_on_a_frontier_needs_the_search():
    kaplan = laws.get("kaplan")
    _, d, native = laws.common_convention_optimum(kaplan, np.array([1e22]))
    assert kaplan.compute_for_loss(float(kaplan.loss(native, d)[0])) == pytest.approx(1e22, rel=1e-6)


def test_data_constrained_refuses_a_non_parametric_law():
    from scaleplan.pipeline.constrained import data_constrained_allocation

    with pytest.raises(ScaleplanError, match="has form 'power'"):
        data_constrained_allocation(1e21, 1e9, law="kaplan")


@settings(max_examples=25, deadline=None)
@given(budgets)
def test_numeric_isoflop_minimum_agrees_with_the_closed_form(c):
    # A power-form law carrying Hoffmann's parametric loss: its loss minimum is found by the grid + golden search,
    # which must land on eq. (4)'s closed form (golden section on a flat valley resolves ln N to ~1e-8).
    law = laws.law_from_dict(
        {
            "name": "mixed",
            "form": "power",
            "constants": {"n_coef": 1.0, "a": 0.5},
            "loss": {"form": "parametric", "constants": HOFFMANN},
            "citation": {},
        }
    )
    assert law.irreducible_loss == 1.69 and law.predicts_loss
    n, d = law.loss_optimum(c)
    assert n == pytest.approx(forms.parametric_optimum(HOFFMANN, c)[0], rel=1e-6)
    assert 6 * n * d == pytest.approx(c, rel=1e-12)
