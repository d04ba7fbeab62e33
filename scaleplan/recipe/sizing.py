"""``design_shape``: a shape a trainer can lay out whose size in the law's convention is the plan's, pins checked,
from the ladder (unpinned) or the pinned search, with the design's warnings."""

from __future__ import annotations

from ..core.errors import ScaleplanError
from ..schema import limits
from ..schema.conventions import DEFAULT_CONTEXT
from ..schema.units import fmt_sci
from .ladder import default_tolerance, ladder_shape, smooth_size
from .pinned import fit_shape
from .shape import ARCHS, Shape, check_convention, measure
from .tables import constants, pos_float, pos_int
from .vocab import vocab_at


def check_pins(vocab, context, layers, d_model, heads, head_dim, d_ff, tolerance, arch) -> tuple[dict, int, float]:
    """(pins, context, tolerance) checked: the pins (layers, d_model, heads, head_dim, d_ff, vocab) whole numbers
    or None, that fit together (a d_model from heads x head_dim when only they are pinned); ``design_checked`` takes
    them as they are."""
    context = pos_int("context", context)
    vocab = None if vocab is None else pos_int("vocab", vocab)
    layers = None if layers is None else pos_int("layers", layers)
    d_model = None if d_model is None else pos_int("d_model", d_model)
    heads = None if heads is None else pos_int("heads", heads)
    head_dim = None if head_dim is None else pos_int("head_dim", head_dim)
    d_ff = None if d_ff is None else pos_int("d_ff", d_ff)
    tol = default_tolerance(arch) if tolerance is None else pos_float("tolerance", tolerance)
    if layers is not None:
        limits.check_pin("layers", layers)
    if d_model is not None:
        limits.check_pin("d_model", d_model, heads_pinned=heads is not None or head_dim is not None)
    if d_model is not None and heads is not None and d_model % heads:
        raise ScaleplanError(f"heads = {heads} must divide d_model = {d_model}")
    if d_model is not None and head_dim is not None and d_model % head_dim:
        raise ScaleplanError(f"head_dim = {head_dim} must divide d_model = {d_model}")
    if heads is not None and head_dim is not None:
        if d_model is not None and heads * head_dim != d_model:
            raise ScaleplanError(f"heads × head_dim = {heads * head_dim} must equal d_model = {d_model}")
        if d_model is None:
            d_model = heads * head_dim
    pins = dict(layers=layers, d_model=d_model, heads=heads, head_dim=head_dim, d_ff=d_ff, vocab=vocab)
    return pins, context, float(tol)


def _pins_text(**pins) -> str:
    given = [f"{k}={v}" for k, v in pins.items() if v is not None]
    return ", ".join(given) if given else "no pins"


def design_shape(
    params_total,
    *,
    vocab=None,
    context=DEFAULT_CONTEXT,
    layers=None,
    d_model=None,
    heads=None,
    head_dim=None,
    d_ff=None,
    tied_embeddings: bool | None = None,
    arch: str = "llama",
    tolerance=None,
    convention: str = "total",
) -> Shape:
    """Layers, d_model, heads, d_ff whose size in ``convention`` is ``params_total`` within ``tolerance`` (3 %).

    ``convention`` is the law's own count: ``total`` (all parameters), ``non_embedding``, ``non_embedding_with_head``
    (Porian et al.) or ``flops_per_token`` (DeepSeek's M = 6 N_non-embedding + 12 n_layer d l_seq at ``context``).

    ``arch`` is ``llama`` (SwiGLU, RMSNorm, rotary positions, grouped-query attention; untied unless
    ``tied_embeddings``) or ``gpt`` (GPT-2: GELU MLP, LayerNorm and biases, learned positions, multi-head attention;
    tied unless ``tied_embeddings=False``). Sizes are exact parameter counts of that architecture (``Shape``).

    Unpinned (only vocab, context, tied_embeddings, arch given), the shape is a monotone ladder in the target that a
    trainer can lay out: the width is the smooth model's d_model at the d_model/n_layer of Chinchilla's Table A9
    (64 below 250M parameters rising to ~100 at 10B+), rounded to a multiple of 128, of 512 from ~1,536 and of 1,024
    from ~4,096, and never falls as the target grows; d_model = heads × head_dim with head_dim 128 where d_model is
    a multiple of 1,024 (from 2,048), else 64, so the heads are a multiple of 8 from d_model 1,536 (every model of
    1e9 parameters and more) and even below; KV heads 8 from d_model 1,536 (llama), a quarter of the heads or fewer
    below, all of them (gpt). At one width the layer count never falls, so layers drop only where the width steps
    up; layers are a multiple of 4 from 32 up (every design of ~20B parameters and more); at least 3 (9 for M at
    2,048 context). llama's d_ff starts at 3.25·d_model and moves within 2.6-4·d_model, in multiples of 256 (of 128,
    64, 32 below d_model 1,536), to absorb what whole layers cannot; gpt's is exactly 4·d_model (GPT-2, nanoGPT),
    so its default ``tolerance`` is 6.5 % (whole layers absorb the rounding alone). ``vocab=None``:
    V = N_v / d_model with Tao et al.'s N_v for the smooth model's non-vocabulary parameters, a multiple of 128, so
    N_v never falls as the target grows, while V may step down where the width steps up.

    With pins (layers, d_model, heads, head_dim or d_ff) the shape closest to Table A9's ratio among those within
    tolerance of the total parameters is searched; a target in another convention is first converted to total
    parameters through the smooth model.
    """
    shape, _vocab, _warnings = designed(
        params_total,
        vocab,
        context,
        layers,
        d_model,
        heads,
        head_dim,
        d_ff,
        tied_for(tied_embeddings, arch),
        check_arch(arch),
        tolerance,
        convention,
        strict=True,
    )
    return shape


def check_arch(arch) -> str:
    if arch not in ARCHS:
        raise ScaleplanError(f"arch must be one of {', '.join(ARCHS)}, got {arch!r}")
    return str(arch)


def tied_for(tied_embeddings, arch) -> bool:
    """Tied input and output embeddings: as given, else gpt ties them (GPT-2) and llama does not."""
    return (check_arch(arch) == "gpt") if tied_embeddings is None else bool(tied_embeddings)


_CONVENTION_WORDS = {
    "total": "parameters",
    "non_embedding": "non-embedding parameters",
    "non_embedding_with_head": "non-embedding + head parameters",
    "flops_per_token": "non-embedding FLOPs per token (DeepSeek's M)",
}


def designed(
    params_total,
    vocab,
    context,
    layers,
    d_model,
    heads,
    head_dim,
    d_ff,
    tied,
    arch,
    tolerance,
    convention="total",
    strict=False,
    name="params_total",
):
    """(shape, VocabResult or None, warnings) — the shared engine of design_shape and recipe: the arguments checked
    (``name`` is the size's argument in messages), then ``design_checked``.

    ``strict`` (design_shape) raises when no shape is within tolerance; a recipe warns instead, so a plan at a
    tiny budget still gets its numbers.
    """
    convention = check_convention(convention)
    target = pos_float(name, params_total)
    pins, context, tol = check_pins(vocab, context, layers, d_model, heads, head_dim, d_ff, tolerance, arch)
    return design_checked(target, convention, context, pins, tied, arch, tol, strict)


def design_checked(
    target: float, convention: str, context: int, pins: dict, tied: bool, arch: str, tol: float, strict: bool = False
):
    """``designed`` on arguments already checked (``pins``: layers, d_model, heads, head_dim, d_ff and vocab, each
    None or a whole number): the ladder when nothing but the vocabulary is pinned, else the pinned search."""
    if all(pins[k] is None for k in ("layers", "d_model", "heads", "head_dim", "d_ff")):
        shape, vres, warnings = _unpinned(target, convention, pins["vocab"], context, tied, arch, tol, pins, strict)
    else:
        shape, vres = _pinned(target, convention, context, tied, arch, tol, pins)
        warnings = []
    return shape, vres, warnings + _shape_warnings(shape, pins["d_model"], vres)


def default_shape(params_total: float) -> Shape:
    """``design_shape(params_total)`` with every default (llama, untied, context 2,048, no pins), for a size a
    search has checked already (the serving pricer's grid of sizes): the same shape, nothing checked again."""
    arch, no_pins = "llama", dict.fromkeys(("layers", "d_model", "heads", "head_dim", "d_ff", "vocab"))
    return design_checked(
        float(params_total), "total", DEFAULT_CONTEXT, no_pins, False, arch, default_tolerance(arch), True
    )[0]


def _unpinned(target, convention, vocab, context, tied, arch, tol, pins, strict):
    """(shape, VocabResult or None, warnings) of the ladder: refused when the embeddings alone exceed the target,
    refused (``strict``) or warned about when no whole-layer shape is within tolerance."""
    shape = ladder_shape(target, convention, vocab, context, tied, arch)
    warnings: list[str] = []
    k = 1 if tied else 2
    if vocab is not None and k * vocab * shape.d_model >= target and convention in ("total", "non_embedding_with_head"):
        raise ScaleplanError(
            f"no shape fits {target:.4g} {_CONVENTION_WORDS[convention]} with {_pins_text(**pins)}: the "
            f"embeddings alone ({k * vocab * shape.d_model:.4g} at d_model {shape.d_model}) exceed the target; "
            "pin a smaller vocab or raise params"
        )
    err = measure(shape, convention) / target - 1.0
    if abs(err) > tol:
        layers_text = f"{shape.layers} layer{'s' if shape.layers != 1 else ''} × d_model {shape.d_model}"
        if strict:
            raise ScaleplanError(
                f"no transformer shape has {target:.4g} {_CONVENTION_WORDS[convention]} within {tol * 100:g}%: the "
                f"closest ({layers_text}) is {err:+.1%} off; the model is too small to design (give a larger "
                "budget or model)"
            )
        warnings.append(
            f"shape: {layers_text} has {measure(shape, convention):.4g} {_CONVENTION_WORDS[convention]}, "
            f"{err:+.1%} from the law's {target:.4g}: "
            + (
                "no transformer is that small"
                if err > 0 and shape.layers == 1 and shape.d_model == 128
                else f"whole layers this narrow are too coarse at context {context:,}"
            )
        )
    vres = None
    if vocab is None:
        nnv, _d, _nv = smooth_size(target, convention, context, None, tied)
        vres = vocab_at(nnv, shape.d_model)
    return shape, vres, warnings


def _pinned(target, convention, context, tied, arch, tol, pins):
    """(shape, VocabResult or None) of the pinned search, in total parameters (another convention's target is
    converted through the smooth model); refused when nothing is within tolerance or the shape is too deep."""
    vocab = pins["vocab"]
    if convention != "total":
        nnv, d_s, emb = smooth_size(target, convention, context, vocab, tied)
        target = nnv + (1 if tied else 2) * (emb if vocab is None else vocab * d_s)
    fitted, closest = fit_shape(
        target, vocab, context, pins["layers"], pins["d_model"], pins["heads"], pins["head_dim"], pins["d_ff"],
        tied, arch, tol,
    )  # fmt: skip
    if fitted is None:
        if closest is None:
            raise ScaleplanError(
                f"no shape fits params_total = {target:.4g} with {_pins_text(**pins)}: the embeddings alone "
                f"exceed the target, or heads/head_dim divide no allowed d_model; pin fewer values or raise params"
            )
        err, d, n_layers = closest[:3]
        layers_text = f"{n_layers} layer{'s' if n_layers != 1 else ''} × d_model {d}"
        raise ScaleplanError(
            f"the pinned {_pins_text(**pins)} cannot reach {target:.4g} parameters within {tol * 100:g}%: "
            f"the closest shape ({layers_text}) is {err:.1%} off; pin fewer values or change them"
        )
    shape = fitted
    if shape.layers > limits.MAX_LAYERS:
        pinned = [f"<{k}> {v:,}" for k, v in pins.items() if v is not None and k != "vocab"]
        raise ScaleplanError(
            f"{' with '.join(pinned)}: a model of {fmt_sci(target)} parameters would need {shape.layers:,} layers, "
            f"more than {limits.MAX_LAYERS:,} (Llama 3 405B has 126); pin a wider d_model or plan a smaller model"
        )
    vres = None
    if vocab is None:
        vres = vocab_at(shape.non_vocab_params, shape.d_model)
    return shape, vres


def _shape_warnings(shape: Shape, d_model, vres) -> list[str]:
    """What a designed shape says about itself: too deep, off the aspect ratios, a pinned odd width, too narrow,
    a single head; then the vocabulary's own warnings."""
    warnings = []
    if shape.layers > limits.MAX_LAYERS:  # unpinned: only budgets far beyond any run go this deep (~1e31 FLOPs)
        warnings.append(
            f"shape: {shape.layers:,} layers, more than {limits.MAX_LAYERS:,} and far deeper than any published model "
            "(Llama 3 405B has 126)"
        )
    lo, hi = constants()["shape"]["aspect_range"]
    if not lo <= shape.aspect_ratio <= hi:
        warnings.append(
            f"shape: d_model/layers = {shape.aspect_ratio:.3g} is outside [{lo}, {hi}], the range "
            f"Kaplan et al. 2020 Fig. 5 shows with near-equal loss"
        )
    if d_model is not None and d_model % int(constants()["conventions"]["d_model_multiple"]):
        warnings.append(f"shape: pinned d_model = {d_model} is not a multiple of 128 (slower matrix multiplies)")
    if shape.d_model < 128:
        warnings.append(
            f"shape: d_model = {shape.d_model} is below 128, narrower than any published scaling-law "
            "model (Kaplan et al. 2020's smallest widths)"
        )
    if shape.heads == 1:
        warnings.append("shape: a single attention head; published models of this size use 4 or more")
    if vres is not None:
        warnings.extend(vres.warnings)
    return warnings
