"""The project's one-dimensional solvers, vectorised over numpy arrays: every problem in an array is solved at once.

* `golden_section(fun, lo, hi)`: minimum of a unimodal function in [lo, hi] (golden-section search).
* `scan_minimum(fun, grid)`: a grid scan finds the basin (robust to kinks), golden section refines between the
  grid neighbours of the best point. `minimise_log` is the same over a symmetric grid about a centre.
* `bracket(on_low_side, start, step)` and `bisect(on_low_side, lo, hi)`: the point where a predicate flips (a root
  of a monotone function), first bracketed by growing steps, then halved to a tolerance or a number of steps.

Bracketing, tolerance and the maximum number of iterations are parameters; nothing here knows about laws. A loop
runs a fixed small number of numpy operations per iteration over the whole array, never a Python loop over
problems.
"""

from __future__ import annotations

import math

import numpy as np

INV_PHI = (math.sqrt(5.0) - 1.0) / 2.0  # the golden section: 1/phi = 0.618...


def golden_section(fun, lo, hi, *, iterations: int = 200, xtol: float = 0.0):
    """Midpoint of the final bracket of a golden-section search for the minimum of `fun` in [lo, hi].

    `fun` maps an array of x (shaped like lo and hi broadcast) to values of the same shape. Stops after
    `iterations` steps or once every bracket is narrower than `xtol`.
    """
    lo, hi = np.broadcast_arrays(np.asarray(lo, float), np.asarray(hi, float))
    for _ in range(iterations):
        x1, x2 = hi - INV_PHI * (hi - lo), lo + INV_PHI * (hi - lo)
        left = fun(x1) <= fun(x2)
        lo, hi = np.where(left, lo, x1), np.where(left, x2, hi)
        if xtol and np.all(hi - lo < xtol):
            break
    return 0.5 * (lo + hi)


def scan_minimum(fun, grid, *, iterations: int = 200, xtol: float = 0.0):
    """Minimise `fun` row by row over the rows of `grid` (shape (m, k)), then refine by golden section.

    `fun` maps an array x of shape (m, j) to values of the same shape, row i belonging to problem i. The refined
    point is kept unless a grid point is better (only at a grid edge, or on a plateau). Returns (x, f), each (m,).
    """
    grid = np.asarray(grid, float)
    values = fun(grid)
    i = np.argmin(values, axis=1)
    rows = np.arange(grid.shape[0])
    last = grid.shape[1] - 1
    x = golden_section(
        lambda v: fun(v[:, None])[:, 0],
        grid[rows, np.clip(i - 1, 0, last)],
        grid[rows, np.clip(i + 1, 0, last)],
        iterations=iterations,
        xtol=xtol,
    )
    fx = fun(x[:, None])[:, 0]
    grid_best = values[rows, i]
    better = grid_best < fx
    return np.where(better, grid[rows, i], x), np.where(better, grid_best, fx)


def minimise_log(fun, centre, span: float, points: int = 401, iterations: int = 90):
    """`scan_minimum` over x in [centre - span, centre + span] with `points` grid points for each row.

    `fun` maps an array x of shape (m, k) to values of the same shape (row i belongs to problem i).
    """
    centre = np.asarray(centre, float).reshape(-1)
    return scan_minimum(fun, centre[:, None] + np.linspace(-span, span, points)[None, :], iterations=iterations)


def bracket(on_low_side, start, step, *, grow: float = 2.0, max_steps: int = 200):
    """(lo, hi) with on_low_side(lo) true and on_low_side(hi) false, searching from `start` in the direction of `step`.

    `on_low_side(start)` is taken as true; the step grows by `grow` until the far end is past the flip (or after
    `max_steps`, leaving hi where it got). `step` may be negative; arrays broadcast.
    """
    start, step = np.broadcast_arrays(np.asarray(start, float), np.asarray(step, float))
    lo, step = start.copy(), step.copy()
    hi = start + step
    for _ in range(max_steps):
        short = on_low_side(hi)
        if not np.any(short):
            break
        lo = np.where(short, hi, lo)
        step = np.where(short, grow * step, step)
        hi = np.where(short, hi + step, hi)
    return lo, hi


def bisect(on_low_side, lo, hi, *, iterations: int = 200, xtol: float = 0.0, rtol: float = 0.0):
    """Halve [lo, hi] (either order) towards where `on_low_side` flips from true (at lo) to false (at hi).

    Returns the final (lo, hi). Stops after `iterations` halvings, or once every bracket is within
    max(`xtol`, `rtol` times the larger magnitude of its starting ends); with neither, it runs all `iterations`.
    """
    lo, hi = np.broadcast_arrays(np.asarray(lo, float), np.asarray(hi, float))
    tol = np.maximum(xtol, rtol * np.maximum(np.abs(lo), np.abs(hi)))  # once: the check below stays cheap
    check = bool(xtol or rtol)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        low = on_low_side(mid)
        lo, hi = np.where(low, mid, lo), np.where(low, hi, mid)
        if check and np.all(np.abs(hi - lo) <= tol):
            break
    return lo, hi


__all__ = ["INV_PHI", "bisect", "bracket", "golden_section", "minimise_log", "scan_minimum"]
