"""Learning rate and batch size: every bundled law's values for a model (StepLaw, DeepSeek, Porian et al., Kaplan's
B_crit), one marked default, and the batch rounding."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from ..core.errors import ScaleplanError
from ..schema.conventions import DEFAULT_CONTEXT
from .shape import Shape, flops_per_token
from .sizing import design_shape
from .tables import HPARAM_LAWS, cite, constants, law_name, pos_float, pos_int, range_warning, round_multiple


@dataclass(frozen=True)
class HParams:
    """One learning-rate/batch law's peak learning rate and batch for a model (`default`: the one the plan uses)."""

    law: str
    title: str
    citation: str
    learning_rate: float | None
    batch_tokens: int  # batch_sequences × context
    batch_sequences: int
    batch_tokens_raw: float  # the law's value before rounding
    context: int
    basis: str  # the inputs the law was evaluated at
    status: str
    default: bool = False
    note: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def batch_sequences_raw(self) -> float:
        """The law's batch in sequences before rounding."""
        return self.batch_tokens_raw / self.context

    def to_dict(self) -> dict:
        return {
            "law": self.law,
            "title": self.title,
            "citation": self.citation,
            "learning_rate": self.learning_rate,
            "batch_tokens": self.batch_tokens,
            "batch_sequences": self.batch_sequences,
            "batch_tokens_raw": self.batch_tokens_raw,
            "context": self.context,
            "basis": self.basis,
            "status": self.status,
            "default": self.default,
            "note": self.note,
            "warnings": list(self.warnings),
        }


def batch_multiple(sequences: float) -> int:
    """The multiple a law's batch of `sequences` is rounded to without a cluster: the largest power of two at most
    sequences / batch_power_share (16), and at least batch_sequence_multiple (8). So 2^k-way data parallelism up to
    that multiple divides the batch, which stays within 1/32 (3.1 %) of the law's from 128 sequences up
    (2,184 -> 2,176 = 17 x 128)."""
    conv = constants()["conventions"]
    floor, share = int(conv["batch_sequence_multiple"]), float(conv["batch_power_share"])
    if sequences / share < floor:
        return floor
    return max(floor, 2 ** int(math.floor(math.log2(sequences / share))))


def _batch(tokens_raw: float, context: int) -> tuple[int, int]:
    seqs = tokens_raw / context
    mult = batch_multiple(seqs)
    n = max(1, round(seqs)) if seqs < mult else round_multiple(seqs, mult)
    return n * context, n


def _row(name: str, lr, tokens_raw: float, context: int, basis: str, warnings: list[str]) -> HParams:
    c = constants()["hparams"][name]
    bt, bs = _batch(tokens_raw, context)
    return HParams(
        law=name,
        title=c.get("title", name),
        citation=cite(c["citation"]),
        learning_rate=None if lr is None else float(lr),
        batch_tokens=bt,
        batch_sequences=bs,
        batch_tokens_raw=float(tokens_raw),
        context=context,
        basis=basis,
        status=str(c.get("status", "")),
        note=" ".join(str(c.get("note", "")).split()),
        warnings=tuple(warnings),
    )


def steplaw(non_embedding_params, tokens, *, law: str = "steplaw") -> tuple[float, float]:
    """StepLaw's learning rate and batch size in tokens: eta = c N^a D^b, B = k D^e (Li et al. 2025).

    ``law`` is ``steplaw`` (the authors' bootstrap-mean constants, as their fit_tool.py uses) or
    ``steplaw-paper`` (the paper's rounded constants).

    >>> lr, batch = steplaw(1.08e9, 1e11)
    >>> f"{lr:.3e}", round(batch)
    ('1.574e-03', 1107467)
    """
    name = law_name(law)
    if name not in ("steplaw", "steplaw-paper"):
        raise ScaleplanError(f"steplaw: law must be steplaw or steplaw-paper, got {law!r}")
    return _steplaw(pos_float("non_embedding_params", non_embedding_params), pos_float("tokens", tokens), name)


def _steplaw(n: float, d: float, name: str) -> tuple[float, float]:
    """StepLaw's (learning rate, batch in tokens) at checked N and D."""
    c = constants()["hparams"][name]
    return (c["eta_coef"] * n ** c["eta_n_exp"] * d ** c["eta_d_exp"], c["batch_coef"] * d ** c["batch_d_exp"])


def hyperparameters(
    params=None,
    tokens=None,
    flops=None,
    *,
    loss=None,
    law=None,
    context=DEFAULT_CONTEXT,
    shape: Shape | None = None,
    deepseek_flops=None,
) -> list[HParams]:
    """Learning rate and batch size from every law that applies, one marked ``default``.

    ``params`` is total parameters (turned into a shape with ``design_shape`` for the non-embedding count and
    DeepSeek's M) unless ``shape`` is given. DeepSeek's C is ``deepseek_flops`` when given (a DeepSeek plan's own
    M·D), else M·D when the shape and ``tokens`` are known, else ``flops`` as given (read as DeepSeek's M·D).
    Raises ``ScaleplanError`` when nothing applies or ``law`` does not.
    """
    context = pos_int("context", shape.context if shape is not None else context)
    tokens = None if tokens is None else pos_float("tokens", tokens)
    flops = None if flops is None else pos_float("flops", flops)
    loss = None if loss is None else pos_float("loss", loss)
    deepseek_flops = None if deepseek_flops is None else pos_float("deepseek_flops", deepseek_flops)
    chosen = None if law is None else law_name(law)
    if shape is None and params is not None:
        shape = design_shape(pos_float("params", params), context=context)
    return hparam_rows(shape, tokens, flops, loss, chosen, context, deepseek_flops)


def hparam_rows(shape: Shape | None, tokens, flops, loss, chosen: str | None, context: int, deepseek_flops=None):
    """``hyperparameters`` on arguments already checked (positive floats or None, ``chosen`` a law's own name):
    what a recipe of a designed shape calls, without checking its tokens and budget again."""
    hp = constants()["hparams"]
    rows: dict[str, HParams] = {}
    if shape is not None and tokens is not None:
        for name in ("steplaw", "steplaw-paper") if chosen == "steplaw-paper" else ("steplaw",):
            rows[name] = _steplaw_row(name, shape, tokens, context)
    deepseek = _deepseek_row(shape, tokens, flops, deepseek_flops, context)
    if deepseek is not None:
        rows["deepseek"] = deepseek
    if shape is not None:
        rows["porian"] = _porian_row(shape, context)
    if loss is not None:
        c = hp["kaplan-bcrit"]
        b = c["b_star"] / loss ** (1.0 / c["alpha_b"])
        rows["kaplan-bcrit"] = _row("kaplan-bcrit", None, b, context, f"L={loss:.4g} nats/token", [])

    if not rows:
        raise ScaleplanError(
            "hyperparameters needs params and tokens (StepLaw, DeepSeek, Porian), flops "
            "(DeepSeek), params alone (Porian) or a loss (Kaplan B_crit); got none of these"
        )
    if chosen is not None and chosen not in rows:
        needs = {
            "steplaw": "params and tokens",
            "steplaw-paper": "params and tokens",
            "deepseek": "flops, or params and tokens",
            "porian": "params",
            "kaplan-bcrit": "a loss",
        }[chosen]
        raise ScaleplanError(f"law {chosen!r} needs {needs}; applicable here: {', '.join(rows)}")
    default = chosen or next(name for name in hp["default_order"] if name in rows)
    return [replace(rows[name], default=(name == default)) for name in HPARAM_LAWS if name in rows]


def _steplaw_row(name: str, shape: Shape, tokens: float, context: int) -> HParams:
    """StepLaw (or the paper's rounded constants) at the shape's non-embedding parameters and ``tokens``."""
    n, d = float(shape.non_embedding_params), tokens
    lr, b = _steplaw(n, d, name)
    rng = constants()["hparams"][name].get("fitted_range", {})
    return _row(
        name,
        lr,
        b,
        context,
        f"N_non_embedding={n:.4g}, D={d:.4g}",
        range_warning("N (non-embedding)", n, rng.get("params"), name)
        + range_warning("D (tokens)", d, rng.get("tokens"), name),
    )


def _deepseek_row(shape: Shape | None, tokens, flops, deepseek_flops, context: int) -> HParams | None:
    """DeepSeek eq. 1 at its C: ``deepseek_flops`` (a DeepSeek plan's M·D), else M·D from the shape and tokens,
    else ``flops`` as given; None when none is known."""
    if deepseek_flops is not None:
        c_ds, basis = deepseek_flops, "C = M·D of the DeepSeek plan"
    elif shape is not None and tokens is not None:
        c_ds, basis = flops_per_token(shape).deepseek_m * tokens, "C = M·D (DeepSeek eq. 2 M from the shape)"
    elif flops is not None:
        c_ds, basis = flops, "C = flops as given (read as DeepSeek's M·D)"
    else:
        return None
    c = constants()["hparams"]["deepseek"]
    lr = c["eta_coef"] * c_ds ** c["eta_exp"]
    b = c["batch_coef"] * c_ds ** c["batch_exp"]
    return _row(
        "deepseek",
        lr,
        b,
        context,
        f"{basis}, C={c_ds:.4g}",
        range_warning("C", c_ds, c["fitted_range"]["flops"], "deepseek"),
    )


def _porian_row(shape: Shape, context: int) -> HParams:
    """Porian et al. at non-embedding + output head parameters."""
    c = constants()["hparams"]["porian"]
    # non-embedding + output head, as Porian et al. count it: the weight matrices (norms and biases are 0.1 %)
    n = float(shape.matrix_params + shape.vocab_params)
    x = n / c["n_ref"]
    lr = c["eta_coef"] * x ** c["eta_exp"]
    b = c["batch_seq_coef"] * x ** c["batch_exp"] * c["batch_context"]
    return _row(
        "porian",
        lr,
        b,
        context,
        f"N (non-embedding + head)={n:.4g}",
        range_warning("N", n, c["fitted_range"]["params"], "porian"),
    )
