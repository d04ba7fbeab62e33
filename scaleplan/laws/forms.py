"""The few functional forms the bundled laws use; each form owns its maths.

A form object answers, for its constants: the loss L(N, D), the compute-optimal (N, D) at a budget C, the
tokens that reach a loss with N parameters, the smallest N that can reach a loss, the irreducible loss and the
exponents of N_opt ~ C^a, D_opt ~ C^b. `Law` (laws/__init__.py) delegates to its form, so no module outside laws/
branches on a form's name.

* `ParametricForm`: Hoffmann et al. 2022 eq. (2), L = E + A/N^alpha + B/D^beta, with its closed-form optimum.
* `PowerForm`: a published frontier N_opt = n_coef (f C / unit)^a (Kaplan, DeepSeek, ...), optionally with a
  separate loss law (`KaplanLoss`, or a parametric loss) that predicts L(N, D).

Every function takes scalars or numpy arrays and broadcasts; none loops over budgets.
"""

from __future__ import annotations

import numpy as np

from ..core import solvers
from ..schema.conventions import params_for, tokens_for

# ---------------------------------------------------------------------------------------------------------------
# The parametric form's closed forms, on a constants mapping (scalars or arrays of bootstrap draws alike)


def parametric_loss(c: dict, n, d):
    """Hoffmann et al. 2022 eq. (2): L(N, D) = E + A / N^alpha + B / D^beta."""
    n, d = np.asarray(n, float), np.asarray(d, float)
    return c["E"] + c["A"] / n ** c["alpha"] + c["B"] / d ** c["beta"]


def parametric_exponents(c: dict) -> tuple[float, float]:
    """a, b of N_opt ~ C^a and D_opt ~ C^b: a = beta/(alpha+beta), b = alpha/(alpha+beta) (Hoffmann eq. 4)."""
    s = c["alpha"] + c["beta"]
    return c["beta"] / s, c["alpha"] / s


def growth(c: dict):
    """G = (alpha A / (beta B))^(1/(alpha+beta)) of Hoffmann et al. 2022 eq. (4); the project's one copy of it."""
    return (c["alpha"] * c["A"] / (c["beta"] * c["B"])) ** (1.0 / (c["alpha"] + c["beta"]))


def parametric_optimum(c: dict, flops):
    """Hoffmann et al. 2022 eq. (4): minimise L(N, D) subject to 6ND = C, in closed form.

    N_opt = G (C/6)^a, D_opt = G^-1 (C/6)^b, G = (alpha A / (beta B))^(1/(alpha+beta)).
    """
    a, b = parametric_exponents(c)
    g = growth(c)
    x = np.asarray(flops, float) / 6.0
    return g * x**a, x**b / g


def power_optimum(c: dict, flops):
    """N_opt = n_coef (f C / unit)^a; D_opt = d_coef (f C / unit)^b if the law gives it, else None.

    `unit` lets a law be stated in PF-days (Kaplan) and `f` maps the budget onto the law's own compute
    (Kaplan's C_min = C/2).
    """
    x = np.asarray(flops, float) * c.get("flops_fraction", 1.0) / c.get("flops_unit", 1.0)
    n = c["n_coef"] * x ** c["a"]
    d = c["d_coef"] * x ** c["b"] if "d_coef" in c else None
    return n, d


def kaplan_loss(c: dict, n, d):
    """Kaplan et al. 2020 eq. (1.5): L(N, D) = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D."""
    n, d = np.asarray(n, float), np.asarray(d, float)
    return ((c["N_c"] / n) ** (c["alpha_N"] / c["alpha_D"]) + c["D_c"] / d) ** c["alpha_D"]


def isoflop_minimum(loss, flops, points: int = 4001):
    """(N, D) minimising loss(N, C/6N) at each budget, for surfaces without a closed form (Kaplan's).

    A log grid over N (D from 1e2 to 1e14 tokens) finds the valley, golden section refines it (solvers).
    """
    c = np.atleast_1d(np.asarray(flops, float)).reshape(-1)
    grid = np.linspace(np.log(params_for(c, 1e14)), np.log(params_for(c, 1e2)), points, axis=1)

    def isoflop(log_n):
        n = np.exp(log_n)
        return loss(n, tokens_for(c[:, None], n))

    log_n, _ = solvers.scan_minimum(isoflop, grid, iterations=200, xtol=1e-13)
    n = np.exp(log_n).reshape(np.shape(flops))
    n = float(n) if n.ndim == 0 else n
    return n, tokens_for(np.asarray(flops, float), n)


# ---------------------------------------------------------------------------------------------------------------
# Loss forms


class ParametricLoss:
    """L(N, D) = E + A / N^alpha + B / D^beta (Hoffmann et al. 2022 eq. 2)."""

    name = "parametric"
    loss_equation = "L(N, D) = E + A / N^alpha + B / D^beta"

    def __init__(self, constants: dict):
        self.constants = constants

    @property
    def irreducible_loss(self) -> float:
        return self.constants["E"]

    def loss(self, n, d):
        return parametric_loss(self.constants, n, d)

    def tokens_for_loss(self, n, loss):
        """D with L(N, D) = loss (inf where N alone cannot reach it)."""
        c = self.constants
        with np.errstate(divide="ignore", invalid="ignore"):
            rest = loss - c["E"] - c["A"] / np.asarray(n, float) ** c["alpha"]
            return np.where(rest > 0, (c["B"] / rest) ** (1.0 / c["beta"]), np.inf)

    def smallest_params_for_loss(self, loss):
        """The N below which no amount of data reaches `loss`."""
        c = self.constants
        return (c["A"] / (loss - c["E"])) ** (1.0 / c["alpha"])


class KaplanLoss:
    """L(N, D) = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D (Kaplan et al. 2020 eq. 1.5); no irreducible term."""

    name = "kaplan"
    loss_equation = "L(N, D) = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D"
    irreducible_loss = 0.0

    def __init__(self, constants: dict):
        self.constants = constants

    def loss(self, n, d):
        return kaplan_loss(self.constants, n, d)

    def tokens_for_loss(self, n, loss):
        c = self.constants
        with np.errstate(divide="ignore", invalid="ignore"):
            rest = loss ** (1.0 / c["alpha_D"]) - (c["N_c"] / np.asarray(n, float)) ** (c["alpha_N"] / c["alpha_D"])
            return np.where(rest > 0, c["D_c"] / rest, np.inf)

    def smallest_params_for_loss(self, loss):
        c = self.constants
        return c["N_c"] / loss ** (1.0 / c["alpha_N"])


LOSS_FORMS = {"parametric": ParametricLoss, "kaplan": KaplanLoss}


# ---------------------------------------------------------------------------------------------------------------
# Law forms: a frontier (optimum) and, where the law has one, a loss


class ParametricForm(ParametricLoss):
    """The parametric loss with its closed-form compute-optimal frontier, which is the minimum of its own loss."""

    equation = "L(N, D) = E + A / N^alpha + B / D^beta; optimum N = G (C/6)^a, D = G^-1 (C/6)^b"
    predicts_loss = True
    frontier_is_loss_minimum = True

    @property
    def loss_form(self) -> ParametricLoss:
        return self

    @property
    def exponents(self) -> tuple[float, float]:
        return parametric_exponents(self.constants)

    @property
    def growth(self) -> float:
        return growth(self.constants)

    def optimum(self, flops):
        return parametric_optimum(self.constants, flops)

    def loss_optimum(self, flops):
        """(N, D) minimising the loss at 6ND = C: the closed-form optimum itself."""
        return self.optimum(flops)

    def params_for_tokens(self, tokens):
        """Compute-optimal N for a model trained on D tokens: N = G (D G)^(beta/alpha) (Muennighoff's D_to_N)."""
        c, g = self.constants, self.growth
        return g * (np.asarray(tokens, float) * g) ** (c["beta"] / c["alpha"])

    def optimal_loss_curve(self) -> tuple[float, float, float]:
        """(E, K, p) with L*(C) = E + K (C/6)^-p along the compute-optimal frontier.

        At eq. (4)'s optimum both terms scale as (C/6)^-p with p = alpha beta / (alpha + beta):
        K = A G^-alpha + B G^beta.
        """
        c, g = self.constants, self.growth
        a, b = c["alpha"], c["beta"]
        return c["E"], c["A"] * g**-a + c["B"] * g**b, a * b / (a + b)

    def compute_for_loss(self, loss):
        """C = 6ND of the compute-optimal model reaching `loss` (inf if loss <= E, which no model reaches)."""
        e, k, p = self.optimal_loss_curve()
        gap = np.asarray(loss, float) - e
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(gap > 0, 6.0 * (k / np.where(gap > 0, gap, 1.0)) ** (1.0 / p), np.inf)

    def inference_optimum(self, loss: float, weighted_tokens):
        """(N, D) minimising 6ND + 2 N T at L(N, D) = loss, vectorised over the (weighted) inference tokens T.

        Sardana et al. 2024's stationarity equation in D,
            (beta B / alpha + B) D^-beta + (T beta B / (3 alpha)) D^(-beta-1) + E - loss = 0,
        falls monotonically in D, so a bracketed bisection in log D solves it; N follows from the loss.
        """
        c = self.constants
        t = np.asarray(weighted_tokens, float)
        a, b = c["alpha"], c["beta"]
        first, second = (b * c["B"] / a + c["B"]), t * b * c["B"] / (3.0 * a)

        def above(log_d):
            d = np.exp(log_d)
            return first * d**-b + second * d ** (-b - 1.0) + c["E"] - loss > 0

        # At T = 0 the root is closed form; it brackets the root from below for every T > 0.
        closed = np.full(t.shape, np.log(first / (loss - c["E"])) / b)
        lo, hi = solvers.bracket(above, closed, 1.0, grow=3.0)
        lo, hi = solvers.bisect(above, lo, hi, rtol=1e-15)
        d = np.exp(np.where(t == 0, closed, 0.5 * (lo + hi)))
        n = (c["A"] / (loss - c["E"] - c["B"] * d**-b)) ** (1.0 / a)
        return n, d


class PowerForm:
    """A published frontier N_opt = n_coef (f C / unit)^a, D from d_coef or the budget; a loss law if it has one."""

    equation = "N_opt = n_coef (f C / unit)^a; D_opt = d_coef (...)^b or C / (6 N)"
    frontier_is_loss_minimum = False

    def __init__(self, constants: dict, loss_form=None):
        self.constants = constants
        self.loss_form = loss_form

    @property
    def predicts_loss(self) -> bool:
        return self.loss_form is not None

    @property
    def irreducible_loss(self) -> float | None:
        return None if self.loss_form is None else self.loss_form.irreducible_loss

    @property
    def exponents(self) -> tuple[float, float]:
        a = self.constants["a"]
        return a, self.constants.get("b", 1.0 - a)

    def optimum(self, flops):
        n, d = power_optimum(self.constants, flops)
        if d is None:  # the law gives N only; D closes the budget C = 6ND
            d = tokens_for(np.asarray(flops, float), n)
        return n, d

    def loss(self, n, d):
        return None if self.loss_form is None else self.loss_form.loss(n, d)

    def tokens_for_loss(self, n, loss):
        return self.loss_form.tokens_for_loss(n, loss)

    def smallest_params_for_loss(self, loss):
        return self.loss_form.smallest_params_for_loss(loss)

    def loss_optimum(self, flops):
        """(N, D) minimising the loss law at 6ND = C; for Kaplan this differs from the published frontier."""
        return isoflop_minimum(self.loss_form.loss, flops)

    def compute_for_loss(self, loss):
        return None  # no closed form: laws.Law.compute_for_loss searches the frontier

    def inference_optimum(self, loss, weighted_tokens):
        return None  # no closed form: inference.py searches over N


def make(form: str, constants: dict, loss_spec: dict | None = None):
    """The form object for a validated law file's `form`, `constants` and optional `loss` block."""
    if form == "parametric":
        return ParametricForm(constants)
    loss_form = None if loss_spec is None else LOSS_FORMS[loss_spec["form"]](loss_spec["constants"])
    return PowerForm(constants, loss_form)
