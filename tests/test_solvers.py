"""scaleplan.core.solvers: vectorised golden-section search and bisection, the only copies in the project."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scaleplan.core import solvers


def test_golden_ratio():
    # 1/phi = (sqrt(5) - 1) / 2 = 0.6180339887498949 (phi = 1.6180339887498949)
    assert solvers.INV_PHI == pytest.approx(0.6180339887498949, rel=1e-15)
    assert 1.0 / solvers.INV_PHI == pytest.approx(1.0 + solvers.INV_PHI, rel=1e-15)


def test_golden_section_is_vectorised_and_accurate():
    centres = np.array([-3.0, 0.25, 1.0, 7.5])
    x = solvers.golden_section(lambda v: (v - centres) ** 2 + 1.0, np.full(4, -10.0), np.full(4, 10.0))
    assert x == pytest.approx(centres, abs=1e-7)


def test_golden_section_shrinks_by_the_golden_ratio_each_step():
    # After k steps the bracket is INV_PHI^k of the start; the minimum of cos on [2, 4] is pi.
    for k in (5, 10, 20):
        x = solvers.golden_section(np.cos, 2.0, 4.0, iterations=k)
        assert abs(x - math.pi) <= 0.5 * 2.0 * solvers.INV_PHI**k + 1e-15


def test_golden_section_stops_at_the_tolerance():
    calls = []

    def f(v):
        calls.append(1)
        return (v - 0.3) ** 2

    solvers.golden_section(f, 0.0, 1.0, iterations=500, xtol=1e-6)
    # 1e-6 needs ceil(log(1e-6)/log(0.618)) = 29 steps of two evaluations each
    assert len(calls) == 2 * 29


def test_bisect_finds_the_square_root_of_two_to_the_last_bits():
    lo, hi = solvers.bisect(lambda x: x * x < 2.0, 0.0, 2.0)
    assert abs(0.5 * (lo + hi) - 1.4142135623730951) <= 4 * np.spacing(1.4142135623730951)


def test_bisect_works_in_either_order_and_over_arrays():
    targets = np.array([2.0, 3.0, 10.0])
    lo, hi = solvers.bisect(lambda x: x * x < targets, np.zeros(3), np.full(3, 10.0))
    assert 0.5 * (lo + hi) == pytest.approx(np.sqrt(targets), rel=1e-14)
    # on the low side means x*x > t here, so lo starts at the large end
    lo, hi = solvers.bisect(lambda x: x * x > targets, np.full(3, 10.0), np.zeros(3))
    assert 0.5 * (lo + hi) == pytest.approx(np.sqrt(targets), rel=1e-14)


def test_bisect_iterations_and_relative_tolerance():
    lo, hi = solvers.bisect(lambda x: x < 0.3, 0.0, 1.0, iterations=10)
    assert abs(hi - lo) == pytest.approx(2.0**-10)
    # rtol is relative to the bracket's larger starting end (1000): width at most 1e-3, and no narrower than needed
    lo, hi = solvers.bisect(lambda x: x < 300.0, 0.0, 1000.0, rtol=1e-6)
    assert 5e-4 < abs(hi - lo) <= 1e-3 and lo <= 300.0 <= hi
    lo, hi = solvers.bisect(lambda x: x < 300.0, 0.0, 1000.0, xtol=0.01)
    assert 5e-3 < abs(hi - lo) <= 0.01


def test_bracket_grows_until_the_flip_in_either_direction():
    lo, hi = solvers.bracket(lambda x: x < 1e6, 0.0, 1.0)
    assert lo < 1e6 <= hi and hi < 2e6 + 2  # steps double, so the overshoot is at most one step
    lo, hi = solvers.bracket(lambda x: x > -50.0, np.array([0.0, 10.0]), -0.05)
    assert np.all(lo > -50.0) and np.all(hi <= -50.0)


def test_scan_minimum_finds_the_global_basin_past_a_kink_and_a_local_minimum():
    # |x - 2| has a kink at its minimum 2; the cosine dip near -3 is only local (value ~4)
    def f(x):
        return np.abs(x - 2.0) + 0.5 * np.cos(x) * (x < 0)

    x, fx = solvers.scan_minimum(f, np.linspace(-6.0, 6.0, 121)[None, :])
    assert x[0] == pytest.approx(2.0, abs=1e-9) and fx[0] == pytest.approx(0.0, abs=1e-9)


def test_scan_minimum_keeps_the_grid_edge_of_a_monotone_function():
    x, fx = solvers.scan_minimum(lambda v: v, np.linspace(1.0, 2.0, 11)[None, :])
    assert x[0] == 1.0 and fx[0] == 1.0


def test_minimise_log_is_vectorised_over_centres():
    centres = np.array([np.log(1e9), np.log(3e10)])

    def f(x):
        return (x - centres[:, None] - 0.1) ** 2

    x, fx = solvers.minimise_log(f, centres, span=5.0)
    assert x == pytest.approx(centres + 0.1, abs=1e-8) and np.all(fx < 1e-15)


@settings(max_examples=60, deadline=None)
@given(st.floats(-1e6, 1e6))
def test_bisect_root_of_a_monotone_cubic(t):
    # x^3 + x - t is strictly increasing: one real root, in (-101, 101) for |t| <= 1e6
    def below(x):
        return x**3 + x < t

    lo, hi = solvers.bracket(below, -101.0, 1.0)
    lo, hi = solvers.bisect(below, lo, hi)
    x = 0.5 * (lo + hi)
    assert abs(x**3 + x - t) <= 1e-9 * max(1.0, abs(t))


@settings(max_examples=60, deadline=None)
@given(st.floats(-50.0, 50.0), st.floats(0.01, 100.0))
def test_golden_section_minimum_of_any_parabola(centre, curvature):
    x = solvers.golden_section(lambda v: curvature * (v - centre) ** 2, centre - 60.0, centre + 70.0, xtol=1e-10)
    assert x == pytest.approx(centre, abs=1e-8)
