"""The answer first: a few lines a person can act on, before any table.

For any result: what breaks the budget or a limit (said first), the model (size, tokens, shape), and the run (GPUs x
days, dollars, training and serving). Warnings are sorted into those that break something (said in the answer),
extrapolations (grouped into one line naming each law and its factor) and the rest. The CLI prints these lines at
the top of every planning command, and `str(result)` is the same lines, so the library and the CLI say one thing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..schema.units import fmt_count, fmt_dollars, fmt_duration, fmt_number, fmt_sci


@dataclass(frozen=True)
class Line:
    """One line of the answer: a short label ('model', 'run', 'over budget') and its text; `alert` when it breaks
    the budget or a limit."""

    label: str
    text: str
    alert: bool = False

    def __str__(self) -> str:
        return f"{self.label}: {self.text}"


# ---------------------------------------------------------------------------------------------------------------
# Warnings sorted: what breaks a budget or a limit, extrapolations, the rest

# Over the budget (pipeline: 'not the $2.00M the budget gives', 'above the $5.00M given'), or past a limit: memory
# or serving that does not fit.
_BREAKS = re.compile(r"the budget gives|\babove the \S+ given\b|\bdoes not fit\b|\bno model reaches\b")
# '[0] epoch: 1.57e24 FLOPs is 121x above the largest budget it was fitted on (1.3e22); extrapolating'
_FACTOR = re.compile(
    r"^(?:\[\d+\] )?(?P<law>[\w.+-]+): \S+ FLOPs is (?P<factor>[\d.,e+]+)x (?P<side>above|below) the "
    r"(?:largest|smallest) (?:budget|runs)"
)
# 'tao2024: non-vocabulary parameters = 6.78e10 is above the fitted range [3.3e7, 2.87e9]; extrapolated'
_RANGE = re.compile(
    r"^(?:\[\d+\] )?(?P<law>[\w.+-]+): (?P<what>.+?) = (?P<value>\S+) is (?P<side>above|below) the fitted range "
    r"\[(?P<lo>\S+), (?P<hi>\S+)\]; extrapolated$"
)
# '1e26 FLOPs is above the largest budget fitted by epoch 7.7e3x, hoffmann 260x; extrapolating'
_JOINT = re.compile(r"^\S+ FLOPs is (?P<side>above|below) the \w+ budget fitted by (?P<laws>.+); extrapolating$")
# 'Sun et al. fitted 54.0M-1.7B parameters, ...; N = 70.0B, D = 2.00T is an extrapolation'
_SPAN = re.compile(r"^(?P<who>.+?) fitted .+; (?P<at>.+) is an extrapolation$")


@dataclass(frozen=True)
class Sorted:
    breaks: tuple[str, ...]  # over the budget or past a limit: said first, in the answer
    extrapolations: tuple[str, ...]  # 'epoch 121x (FLOPs)': grouped into one line
    others: tuple[str, ...]

    def lines(self, with_breaks: bool = True) -> list[str]:
        """The warnings to print, each once: the breaks (unless the answer already said them), one line for every
        extrapolation, then the rest."""
        grouped = [f"extrapolating beyond the fitted range: {', '.join(self.extrapolations)}"]
        return [*(self.breaks if with_breaks else ()), *(grouped if self.extrapolations else ()), *self.others]


def sort_warnings(warnings) -> Sorted:
    """The warnings of a result sorted (each once; an extrapolation of one law and quantity keeps its largest
    factor)."""
    breaks: list[str] = []
    others: list[str] = []
    factors: dict[tuple[str, str], float | None] = {}
    for w in dict.fromkeys(warnings):
        if _BREAKS.search(w):
            breaks.append(w)
            continue
        found = _extrapolation(w)
        if found is None:
            others.append(w)
        for law, what, factor in found or ():
            old = factors.get((law, what))
            factors[(law, what)] = factor if old is None or (factor is not None and factor > old) else old
    extrapolations = tuple(
        law + ("" if factor is None else f" {fmt_number(factor)}x") + (f" ({what})" if what else "")
        for (law, what), factor in factors.items()
    )
    return Sorted(tuple(breaks), extrapolations, tuple(others))


def scenario_warnings(results, answered: bool = False) -> list[str]:
    """The warnings of several scenarios, each once: every extrapolation of every scenario in one line (each law and
    quantity at its largest factor), then the rest, plain when every scenario shares it, else prefixed with the
    scenarios it concerns. `answered`: each scenario's answer already said what breaks its budget or a limit."""
    every = sort_warnings(w for p in results for w in p.warnings)
    by_text: dict[str, list[str]] = {}
    for i, p in enumerate(results):
        own = sort_warnings(p.warnings)
        for w in (*(() if answered else own.breaks), *own.others):
            names = by_text.setdefault(w, [])
            name = p.name or f"scenario {i + 1}"
            if name not in names:
                names.append(name)
    out = Sorted((), every.extrapolations, ()).lines()
    for w, names in by_text.items():
        prefix = ", ".join(names) + ": "
        # said once: a warning that already starts with its scenario's name ('porian: ...', 'porian predicts ...')
        named = w.startswith(prefix) or (len(names) == 1 and w.startswith(names[0] + " "))
        out.append(w if len(names) == len(results) or named else prefix + w)
    return out


def _extrapolation(w: str) -> list[tuple[str, str, float | None]] | None:
    """(law, quantity, factor outside its fitted range) of an extrapolation warning, or None for another warning."""
    if m := _FACTOR.match(w):
        return [(m["law"], "FLOPs", _number(m["factor"]))]
    if m := _RANGE.match(w):
        value, lo, hi = (_number(m[k]) for k in ("value", "lo", "hi"))
        factor = None if None in (value, lo, hi) else (value / hi if m["side"] == "above" else lo / value)  # type: ignore[operator]
        return [(m["law"], m["what"], factor)]
    if m := _JOINT.match(w):
        return [(law, "FLOPs", _number(x)) for law, _, x in (p.rpartition(" ") for p in m["laws"].split(", "))]
    if m := _SPAN.match(w):
        return [(m["who"], m["at"], None)]
    return None


def _number(text: str) -> float | None:
    try:
        return float(text.rstrip("x").replace(",", ""))
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------------------------
# The answer of each kind of result


def answer(result) -> list[Line]:
    """The lines a person acts on, what breaks the budget or a limit first."""
    kind = type(result).__name__
    if np.ndim(getattr(result, "flops", 0)) and hasattr(result, "at"):  # a vectorised plan: one line per budget
        return [Line(f"at {fmt_sci(float(p.flops))} FLOPs", _model_text(p)) for p in result]
    build = _BY_KIND.get(kind) or (
        _plan_answer if hasattr(result, "tokens") and hasattr(result, "params") else _fields_answer
    )
    breaks = [Line("over budget" if "budget" in w or "given" in w else "limit", w, True) for w in _breaks(result)]
    return breaks + build(result)


def _breaks(result) -> tuple[str, ...]:
    return sort_warnings(getattr(result, "warnings", ())).breaks


def summary(result) -> str:
    """`str(result)`: its kind and law, then the answer's lines."""
    law = getattr(result, "law", None)
    law = getattr(law, "name", law)  # a fitted curve carries its CurveLaw, a plan its law's name
    name = getattr(result, "name", None)
    head = type(result).__name__ + "".join(f" {x}" for x in (name, f"({law})" if law else None) if x)
    return "\n".join([head, *(f"  {line}" for line in answer(result))])


def _shape_text(result) -> str:
    """'84 x 8,192, 64 heads (8 KV), d_ff 26,624' of a designed model ('' when none was designed)."""
    recipe = getattr(result, "recipe", None)
    s = getattr(recipe, "shape", None)
    if s is None:
        return ""
    kv = getattr(s, "kv_heads", s.heads)
    text = f"{s.layers} x {s.d_model:,}, {s.heads} heads" + (f", {kv} KV" if kv != s.heads else "")
    if getattr(s, "experts", None):
        return text + f", top-{s.top_k} of {s.experts:,} experts"
    return text + f", d_ff {s.d_ff:,}"


def _model_text(p) -> str:
    """'71.3B parameters (84 x 8,192, ...) on 3.67T tokens (51.4 per parameter), loss 1.951'."""
    total = getattr(p, "total_params", None)
    active = getattr(p, "active_params", None)
    if active is not None and total is not None:
        size = f"{fmt_count(float(active))} active of {fmt_count(float(total))} parameters"
    else:
        size = f"{fmt_count(float(getattr(p, 'params_total', p.params)))} parameters"
    shape = _shape_text(p)
    text = size + (f" ({shape})" if shape else "") + f" on {fmt_count(float(p.tokens))} tokens"
    text += f" ({fmt_number(float(p.tokens) / float(p.params))} per parameter)"
    epochs = getattr(p, "epochs", None)
    if epochs is not None:
        text += f", {fmt_number(float(epochs))} epochs"
    loss = getattr(p, "loss", None)
    return text + ("" if loss is None else f", loss {float(loss):.3f}")


def _run_lines(cost, inference_tokens=None, serving=None) -> list[Line]:
    """'512 x h100 for 90 days (1.10M GPU-hours), $2.21M to train'; serving and the total on a line of their own."""
    if cost is None:
        return []
    run = f"{int(cost.gpus):,} x {cost.hardware} for {fmt_duration(float(cost.days))}"
    run += f" ({fmt_number(float(cost.gpu_hours))} GPU-hours)"
    run += ", no price" if cost.dollars is None else f", {fmt_dollars(float(cost.dollars))} to train"
    lines = [Line("run", run)]
    if cost.inference_dollars is not None:
        served = "" if inference_tokens is None else f"{fmt_sci(float(inference_tokens))} tokens "
        text = f"{served}for {fmt_dollars(float(cost.inference_dollars))}"
        if serving is not None and serving.fits and serving.dollars_per_million is not None:
            text += (
                f" (${serving.dollars_per_million:.3g} per million, {serving.tokens_per_s_per_gpu:,.0f} tokens/s per "
                f"{serving.hardware})"
            )
        if cost.total_dollars is not None:
            text += f"; training and serving {fmt_dollars(float(cost.total_dollars))}"
        lines.append(Line("serving", text))
    return lines


def _inference_tokens(p):
    for block, key in (("inference", "inference_tokens"), ("total_budget", "inference_tokens")):
        value = getattr(getattr(p, block, None), key, None)
        if value is not None:
            return value
    return None


def _plan_answer(p) -> list[Line]:
    """Any plan of the pipeline: compute-optimal, inference-aware, data-constrained, MoE, a given MoE."""
    lines = [Line("model", _model_text(p))]
    return lines + _run_lines(getattr(p, "cost", None), _inference_tokens(p), getattr(p, "serving", None))


def _overtrain_answer(r) -> list[Line]:
    """A given model (params, tokens) judged by every law: the model and run, and the law's loss range."""
    losses = [row.loss for row in r.rows if row.loss is not None]
    text = _model_text(r)
    if losses:
        text += f"; loss {min(losses):.3f} to {max(losses):.3f} across {len(losses)} laws (each its own units)"
    return [Line("model", text), *_run_lines(r.cost)]


def _cluster_answer(c) -> list[Line]:
    lines = []
    if c.params is not None:
        text = f"{fmt_count(float(c.params))} parameters on {fmt_count(float(c.tokens))} tokens"
        loss = None if c.plan is None else c.plan.get("loss")
        lines.append(Line("model", text if loss is None else f"{text}, loss {float(loss):.3f} ({c.plan['law']})"))
    lines += _run_lines(c.cost)
    lp = c.layout
    m = None if lp is None else (lp.suggested or lp.fewest)
    if m is not None:
        fits = "fits" if m.fits else "does not fit"
        lines.append(
            Line(
                "layout",
                f"{m.tp}x{m.pp}x{m.dp} TPxPPxDP: {m.total_bytes / 1e9:,.1f} of {m.usable_bytes / 1e9:,.1f} GB per "
                f"device, {fits}",
            )
        )
    return lines


def _inference_answer(ip) -> list[Line]:
    if np.ndim(ip.inference_tokens):  # a sweep over demands: the first and last (the table has every one)
        plans = list(ip)
        return [
            Line(
                f"serving {fmt_sci(float(p.inference_tokens))} tokens",
                f"{fmt_count(float(p.inference_aware.params))} parameters on "
                f"{fmt_count(float(p.inference_aware.tokens))} tokens, {100 * float(p.dollars_saving):.1f}% of "
                "dollars saved",
            )
            for p in (plans[0], plans[-1])[: len(plans)]
        ]
    a, b = ip.compute_optimal, ip.inference_aware
    return [
        Line(
            "model",
            f"{fmt_count(float(b.params))} parameters on {fmt_count(float(b.tokens))} tokens (compute-optimal: "
            f"{fmt_count(float(a.params))} on {fmt_count(float(a.tokens))}), loss {float(ip.loss):.3f}",
        ),
        Line(
            "cost",
            f"{fmt_dollars(float(b.total_dollars))} to train and serve {fmt_sci(float(ip.inference_tokens))} tokens "
            f"(compute-optimal {fmt_dollars(float(a.total_dollars))}; {100 * float(ip.dollars_saving):.1f}% saved)",
        ),
    ]


def _precision_answer(r) -> list[Line]:
    opt = r.cost_optimal
    best = next((ch for ch in opt.choices if ch.format.name == opt.best), None)
    lines = _judged_model_lines(r) if r.params is not None else []
    if best is None:
        return [*lines, Line("precision", f"continuous optimum {opt.bits:.2f} bits (no hardware format available)")]
    return [
        *lines,
        Line(
            "lowest loss",
            f"{best.format.name}: {fmt_count(float(best.params))} parameters on {fmt_count(float(best.tokens))} "
            f"tokens, Sun loss {best.loss:.4f} (lowest of {len(opt.choices)} formats at {fmt_sci(r.flops)} FLOPs)",
        ),
    ]


def _judged_model_lines(r) -> list[Line]:
    """A given model's precision answer: what training in each low-precision format and serving at fewer bits cost
    in loss (Sun et al.; Ouyang et al.), each against 16 bits in its own law's loss."""
    training = [t for t in r.training if t.format.name != "bf16"]
    lines = []
    if training:
        said = ", ".join(f"{t.format.name} {100 * float(t.relative):+.2f}%" for t in training)
        lines.append(
            Line(
                "training",
                f"{fmt_count(float(r.params))} non-embedding parameters on {fmt_count(float(r.tokens))} tokens: "
                f"loss {said} against BF16 (Sun et al.)",
            )
        )
    q = r.quantization
    if q is not None and q.rows:
        said = ", ".join(f"{row.bits:g} bits {100 * row.relative:+.2f}%" for row in q.rows)
        lines.append(Line("serving", f"weights at {said} loss against 16 bits (Ouyang et al.)"))
    return lines


def _serving_answer(s) -> list[Line]:
    if not s.fits:
        return [Line("serving", "does not fit: " + ("; ".join(s.notes) or s.hardware), True)]
    price = "" if s.dollars_per_million is None else f"${s.dollars_per_million:.3g} per million tokens, "
    return [
        Line(
            "serving",
            f"{price}{s.tokens_per_s_per_gpu:,.0f} tokens/s per {s.hardware} at batch {s.batch:,} ({s.bound}-bound, "
            f"TP {s.tp}), {s.time_per_output_token_s * 1e3:.3g} ms per output token",
        )
    ]


def serving_answer(rows: list) -> list[Line]:
    """`scaleplan serve`'s rows (label, Serving): the cheapest configuration that fits (the fastest when none is
    priced), and how many do not fit."""
    fits = [(label, s) for label, s in rows if s.fits]
    lines = []
    if len(fits) < len(rows):
        lines.append(Line("limit", f"{len(rows) - len(fits)} of {len(rows)} configurations do not fit", True))
    if fits:
        priced = [(label, s) for label, s in fits if s.dollars_per_million is not None]
        label, best = (
            min(priced, key=lambda r: r[1].dollars_per_million)
            if priced
            else max(fits, key=lambda r: r[1].tokens_per_s_per_gpu)
        )
        line = _serving_answer(best)[0]
        what = f"{label}, {best.weight_bits}-bit" if len(rows) > 1 else label
        lines.append(Line("cheapest" if priced and len(rows) > 1 else "serving", f"{what}: {line.text}"))
    return lines


def _comparison_answer(c) -> list[Line]:
    lines = []
    for flops in dict.fromkeys(r["flops"] for r in c.rows):
        rows = [r for r in c.rows if r["flops"] == flops]
        params = [r["params"] for r in rows]
        lines.append(
            Line(
                f"at {fmt_sci(flops)} FLOPs",
                f"{fmt_count(min(params))} to {fmt_count(max(params))} parameters across {len(rows)} laws",
            )
        )
    return lines


def _fit_answer(f) -> list[Line]:
    return [
        Line(
            "fitted",
            f"L = {f.E:.4g} + {f.A:.4g}/N^{f.alpha:.4g} + {f.B:.4g}/D^{f.beta:.4g}; N_opt ~ C^{f.a:.3f}, "
            f"D_opt ~ C^{f.b:.3f}",
        )
    ]


def _fields_answer(r) -> list[Line]:
    """A result that is not a plan: its first few numbers, as its JSON names them."""
    numbers = [
        f"{k} {v:,}"
        if isinstance(v, int)
        else f"{k} {fmt_sci(v) if abs(v) >= 1e5 or 0 < abs(v) < 1e-3 else f'{v:.4g}'}"
        for k, v in r.to_dict().items()
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    ]
    return [Line(type(r).__name__, ", ".join(numbers[:6]) or "see its table")]


def _curve_answer(c) -> list[Line]:
    law, h = c.law, c.holdout
    held = f"; held-out max error {h['max_rel_error']:.2%} ({h['n_points']:,} points)" if h else ""
    return [
        Line(
            "fitted",
            f"L = {law.L0:.4g} + {law.A:.4g} S1^-{law.alpha:.4g} - {law.C:.4g} S2 on {c.n_points:,} points, "
            f"RMSE {c.rmse:.3g}{held}",
        )
    ]


def _sweep_answer(s) -> list[Line]:
    return [
        Line(
            "sweep",
            f"{len(s.rows)} runs, {fmt_sci(s.total_flops)} FLOPs of a {fmt_sci(s.budget_flops)} budget; the target is "
            f"{fmt_number(s.extrapolation)}x the largest level",
        )
    ]


def _vocab_answer(v) -> list[Line]:
    return [Line("vocabulary", f"{v.vocab:,} at d_model {v.d_model:,} ({v.approach})")]


def _isoflop_answer(iso) -> list[Line]:
    return [
        Line(
            "fitted",
            f"N_opt = {iso.n_coef:.4g} C^{iso.a:.4f}, D_opt = {iso.d_coef:.4g} C^{iso.b:.4f} from "
            f"{len(iso.levels)} FLOP levels",
        )
    ]


def _layout_answer(lp) -> list[Line]:
    m = lp.suggested or lp.fewest
    if m is None:
        return [Line("layout", lp.note, True)]
    where = f"on {lp.gpus:,} {lp.hardware}" if lp.suggested is not None else f"fewest {lp.hardware}: {m.devices:,}"
    fits = "fits" if m.fits else "does not fit"
    return [
        Line(
            "layout",
            f"{m.tp}x{m.pp}x{m.dp} TPxPPxDP {where}: {m.total_bytes / 1e9:,.1f} of {m.usable_bytes / 1e9:,.1f} GB "
            f"per device, {fits}",
            alert=not m.fits,
        )
    ]


_BY_KIND = {
    "IsoflopFit": _isoflop_answer,
    "LayoutPlan": _layout_answer,
    "CostBreakdown": lambda cost: _run_lines(cost),
    "OvertrainReport": _overtrain_answer,
    "ClusterPlan": _cluster_answer,
    "InferencePlan": _inference_answer,
    "PrecisionReport": _precision_answer,
    "Serving": _serving_answer,
    "Comparison": _comparison_answer,
    "ParametricFit": _fit_answer,  # either estimator (scaleplan.VPFit is the same type)
    "Sweep": _sweep_answer,
    "VocabResult": _vocab_answer,
    "CurveFit": _curve_answer,
}
