"""Recomputing a published claim: one small function per kind of claim (`compute: {kind: ...}`), and the bundled
data files the claims live in and point at."""

from __future__ import annotations

import functools
from pathlib import Path

from ..core import _yaml
from ..core.errors import ScaleplanError
from ..schema.conventions import DEFAULT_CONTEXT, training_flops

# ---------------------------------------------------------------------------------------------------------------
# recomputing: one small function per kind of claim


def data_files() -> list[Path]:
    """Every bundled data file: the law files, then scaleplan/data/*.yaml (not the example budgets in configs/)."""
    from .. import laws

    return sorted(Path(laws.__file__).with_name("data").glob("*.yaml")) + sorted(_yaml.DATA.glob("*.yaml"))


def claim_target(path: str, file: str) -> tuple[str, str]:
    """(file, dotted path) of a constant named 'path' (own file), 'FILE.yaml:path', or the old 'recipe:'/'moe:'."""
    path = str(path).strip()
    head, sep, rest = path.partition(":")
    if sep and head.endswith(".yaml"):
        return head, rest
    if sep and head in ("recipe", "moe"):
        return f"{head}.yaml", rest
    return file, path


def _f(spec: dict, key: str) -> float:
    if key not in spec:
        raise ScaleplanError(f"published check needs compute.{key}")
    return float(spec[key])


def _attr(obj, path: str) -> float:
    for part in path.split("."):
        if isinstance(obj, dict):
            obj = obj[part] if part in obj else obj[mapping_key(obj, part)]
        elif isinstance(obj, list):
            obj = obj[int(part)]
        else:
            obj = getattr(obj, part)
    if isinstance(obj, bool) or not isinstance(obj, (int, float)):
        raise TypeError(f"not a number at {path!r}")
    return float(obj)


def mapping_key(mapping: dict, part: str):
    """A YAML key that is a number (moe.yaml's fits: 64, 16) named in a dotted path."""
    for k in mapping:
        if str(k) == part:
            return k
    raise KeyError(part)


def _allocate(spec, law):
    from .optimal import allocate

    return _attr(allocate(_f(spec, "flops"), law=law), spec["output"])


def _exponent(spec, law):
    from .. import laws

    a, b = laws.get(law).exponents
    return a if spec.get("output", "a") == "a" else b


def _loss(spec, law):
    from .. import laws

    return float(laws.get(law).loss(_f(spec, "params"), _f(spec, "tokens")))


def _loss_error_pct(spec, law):
    observed = _f(spec, "observed")
    return 100.0 * abs(_loss(spec, law) - observed) / observed


def _downstream_error_pct(spec, law):
    """Gadre et al.'s top-1 error predicted from the law's predicted loss, relative to an observed error (%)."""
    from .constrained import downstream_error

    observed = _f(spec, "observed")
    predicted = float(downstream_error(_loss(spec, law), law=law, metric=spec.get("metric")))
    return 100.0 * abs(predicted - observed) / observed


def _constrained_loss(spec, law):
    from .constrained import data_constrained_loss

    return float(data_constrained_loss(_f(spec, "params"), _f(spec, "tokens"), _f(spec, "unique_tokens"), law=law))


def _constrained_allocation(spec, law):
    from .constrained import data_constrained_allocation

    return _attr(data_constrained_allocation(_f(spec, "flops"), _f(spec, "unique_tokens"), law=law), spec["output"])


def _inference(spec, law):
    from .. import laws
    from .inference import inference_aware, serving_costs

    if "baseline_params" in spec:  # the loss of the compute-optimal model of this size (Sardana Fig. 1)
        c = laws.get(law).constants
        loss = c["E"] + c["A"] * (c["alpha"] / c["beta"] + 1) / _f(spec, "baseline_params") ** c["alpha"]
    else:
        loss = _f(spec, "target_loss")
    costs = serving_costs(**spec["costs"]) if "costs" in spec else None
    plan = inference_aware(
        _f(spec, "inference_tokens"), target_loss=loss, law=law, objective=spec.get("objective", "flops"), costs=costs
    )
    pa, pb = (
        [_attr(plan, f"{side}.{key}") for key in ("params", "tokens", "total_flops")]
        for side in ("compute_optimal", "inference_aware")
    )
    derived = {
        "params_pct": 100 * pb[0] / pa[0],
        "tokens_pct": 100 * pb[1] / pa[1],
        "flops_pct": 100 * pb[2] / pa[2],
        "saved_flops": pa[2] - pb[2],
    }
    out = spec["output"]
    return float(derived[out]) if out in derived else _attr(plan, out)


def _moe(spec, law):
    from .moe import moe_allocation

    return _attr(moe_allocation(_f(spec, "flops")), spec["output"])


def _vocab(spec, law):
    from ..recipe.design import optimal_vocab

    d_model = int(spec["d_model"]) if "d_model" in spec else None
    return _attr(optimal_vocab(non_vocab_params=_f(spec, "non_vocab_params"), d_model=d_model), spec["output"])


def _steplaw(spec, law):
    from ..recipe.design import steplaw

    lr, batch = steplaw(_f(spec, "params"), _f(spec, "tokens"), law=spec.get("law", "steplaw"))
    return {"learning_rate": lr, "batch_tokens": batch}[spec["output"]]


def _shape(spec):
    from ..recipe.design import Shape

    d = int(spec["d_model"])
    head_dim = int(spec.get("head_dim", 128))
    return Shape(
        int(spec["layers"]),
        d,
        int(spec.get("heads", d // head_dim)),
        head_dim,
        int(spec.get("d_ff", 4 * d)),
        int(spec.get("context", DEFAULT_CONTEXT)),
        int(spec.get("vocab", 32000)),
        arch="gpt",  # the papers' blocks: an MLP of two matrices, multi-head attention
    )


def _hparams(spec, law):
    from ..recipe.design import hyperparameters

    shape = _shape(spec) if "layers" in spec else None
    rows = hyperparameters(
        tokens=spec.get("tokens"), flops=spec.get("flops"), loss=spec.get("loss"), law=spec["law"], shape=shape
    )
    (row,) = [r for r in rows if r.default]
    return _attr(row, spec["output"])


def _flops_per_token(spec, law):
    from ..recipe.design import flops_per_token

    return _attr(flops_per_token(_shape(spec)), spec["output"])


def gopher_params(layers: int, d_model: int, d_ff: int, vocab: int = 32000) -> int:
    """Chinchilla/Gopher parameter count as Karpathy reconstructed it (nanoGPT scaling_laws.ipynb,
    chinchilla_params): QKV with biases, relative-position weights, output projection, FFN with biases, layer norms
    and ONE d x V matrix."""
    d, f = d_model, d_ff
    per_layer = (3 * d * d + 3 * d) + (d * d + 2 * d) + (d * d + d) + (d * f + f) + (f * d + d) + 4 * d
    return layers * per_layer + 2 * d + d * vocab


def _table_a4_ratio(spec, law):
    """Chinchilla Table A4 'FLOP Ratio (Ours/6ND)': App. F layer terms (no embeddings, no final logits) over 6N."""
    from ..recipe.design import flops_per_token

    s = _shape(spec)
    six_n = training_flops(gopher_params(s.layers, s.d_model, s.d_ff, s.vocab), 1.0)  # 6N per token
    return 3 * flops_per_token(s).transformer_blocks / six_n


def _training_run(spec, law):
    from ..cluster.cost import get_hardware, gpu_hours_for

    flops = _f(spec, "flops") if "flops" in spec else training_flops(_f(spec, "params"), _f(spec, "tokens"))
    hours = float(gpu_hours_for(flops, get_hardware(spec["hardware"]), _f(spec, "mfu")))
    out = spec["output"]
    if out == "gpu_hours":
        return hours
    if out == "days":
        return hours / _f(spec, "gpus") / 24.0
    raise ScaleplanError(f"training_run output must be gpu_hours or days, got {out!r}")


def _constant(spec, law):
    """A stored constant, read from its bundled file by path ('epoch.yaml:constants.A', 'hardware.yaml:h100.memory')."""
    file, path = claim_target(spec["path"], "")
    try:
        return _attr(_raw(file), path)
    except (KeyError, IndexError, AttributeError, TypeError, ValueError):
        raise ScaleplanError(f"{file} has no number at {path!r}") from None


def _precision(spec, law):
    """A precision law's quantity (precision.yaml's own check format): one element of a list, or the value farthest
    from the middle of a printed range ('within')."""
    import numpy as np

    from .precision import published_quantity

    got = published_quantity(spec["quantity"], dict(spec.get("inputs") or {}))
    if "index" in spec:
        return float(list(got)[int(spec["index"])])
    if "within" in spec:
        low, high = spec["within"]
        values = np.atleast_1d(np.asarray(got, float))
        return float(values[np.argmax(np.abs(values - low - (high - low) / 2))])
    return float(np.asarray(got, float))


def _zero_states(spec, law):
    """Per-device model-state memory in GB (1e9 B) under ZeRO stage `stage` over `dp` data-parallel ranks."""
    from ..cluster.memory import model_state_bytes

    return model_state_bytes(_f(spec, "params"), int(spec["stage"]), _f(spec, "dp")) / 1e9


def _activations(spec, law):
    """One layer's stored activations per device, in units of s*b*h (Korthikanti et al. 2022 Table 2)."""
    from ..cluster.memory import ModelSpec, activation_bytes_per_layer

    m = ModelSpec(
        _f(spec, "params"), int(spec["layers"]), int(spec["d_model"]), int(spec["heads"]), int(spec["context"])
    )
    sbh = float(m.context) * _f(spec, "micro_batch") * m.d_model
    per = activation_bytes_per_layer(
        m,
        _f(spec, "micro_batch"),
        int(spec["tp"]),
        sequence_parallel=bool(spec.get("sequence_parallel", False)),
        recompute=spec.get("recompute", "none"),
        flash=bool(spec.get("flash", False)),
    )
    if spec.get("output") == "saving":  # 1 - selective / none, the saving Korthikanti sec. 5 prints
        full = activation_bytes_per_layer(
            m,
            _f(spec, "micro_batch"),
            int(spec["tp"]),
            sequence_parallel=bool(spec.get("sequence_parallel", False)),
            flash=False,
        )
        return 1.0 - float(per) / float(full)
    return float(per) / sbh


def _recompute_ratio(spec, law):
    """Hardware over model FLOPs with recomputation (Korthikanti et al. 2022 Table 5's HFU / MFU)."""
    from ..cluster.cost import recompute_ratio

    keys = ("context", "d_model", "layers", "vocab")
    return recompute_ratio(spec.get("recompute", "selective"), **{k: int(spec[k]) for k in keys if k in spec})


def _curve_areas(spec, law):
    """S1 or S2 (Tissue et al. 2024) at the last step of a schedule, lambda from the bundled curve law."""
    from ..curves.law import Schedule, areas, example_law

    sched = Schedule(
        spec["schedule"],
        int(spec["steps"]),
        _f(spec, "peak_lr"),
        warmup=int(spec.get("warmup", 0)),
        cooldown=float(spec.get("cooldown", 0.2)),
        shape=spec.get("shape", "1-sqrt"),
    )
    s1, s2 = areas(sched.lr(), sched.warmup, example_law().lam)
    return float({"S1": s1, "S2": s2}[spec["output"]][-1])


def _schedule_lr(spec, law):
    """The learning rate of a schedule at one step, as a fraction of the peak (Hagele et al.'s wsd_schedule)."""
    from ..curves.law import Schedule

    sched = Schedule(
        spec["schedule"],
        int(spec["steps"]),
        1.0,
        warmup=int(spec.get("warmup", 0)),
        cooldown=float(spec.get("cooldown", 0.2)),
        shape=spec.get("shape", "1-sqrt"),
    )
    return float(sched.lr()[int(spec["step"]) - 1])


def _cooldown_suite(spec, law):
    from ..curves.law import cooldown_suite_cost

    return cooldown_suite_cost(tuple(spec["multiples"]), _f(spec, "cooldown"))


def _curve_loss(spec, law):
    """The bundled example curve law's loss at the end of a schedule."""
    from ..curves.law import Schedule, example_law

    sched = Schedule(
        spec["schedule"],
        int(spec["steps"]),
        _f(spec, "peak_lr"),
        cooldown=float(spec.get("cooldown", 0.2)),
        shape=spec.get("shape", "1-sqrt"),
    )
    return example_law().final_loss(sched)


def _serving(spec, law):
    """The serving roofline (cluster.serving) on one published case: `what` picks the function, `scale` converts
    the output (1000: seconds to ms; tp: per GPU to the whole tensor-parallel group)."""
    from ..cluster import serving

    what = spec["what"]
    if what == "kv_bytes_per_token":
        value = serving.kv_bytes_per_token(
            int(spec["layers"]), int(spec["kv_heads"]), int(spec["head_dim"]), _f(spec, "kv_bits")
        )
    elif what == "critical_batch":
        value = serving.critical_batch(_f(spec, "peak"), _f(spec, "bandwidth"), _f(spec, "weight_bits"))
    elif what == "decode_step":
        value = serving.decode_step_time(
            _f(spec, "batch"),
            _f(spec, "weight_bytes"),
            _f(spec, "kv_bytes_per_sequence"),
            _f(spec, "flops_per_token"),
            _f(spec, "bandwidth"),
            _f(spec, "peak"),
        )
        if spec.get("output") == "tokens_per_s":
            value = _f(spec, "batch") / float(value)
    elif what == "serve":
        m = spec["model"]
        model = serving.ServedModel(
            layers=int(m["layers"]),
            d_model=int(m["d_model"]),
            heads=int(m["heads"]),
            kv_heads=int(m["kv_heads"]),
            head_dim=int(m["head_dim"]),
            params=float(m["params"]),
            active_params=float(m["params"]),
        )
        keys = ("tp", "prompt_tokens", "output_tokens", "serve_bits", "kv_bits", "batch")
        result = serving.serve(model, spec["hardware"], **{k: int(spec[k]) for k in keys if k in spec})
        value = _attr(result, spec["output"])
    else:
        raise ScaleplanError(f"serving check: unknown what {what!r}")
    return float(value) * float(spec.get("scale", 1.0))


@functools.cache
def _raw(file: str):
    """A bundled data file as stored (read once; treat as read-only)."""
    files = {p.name: p for p in data_files()}
    if file not in files:
        raise ScaleplanError(f"no bundled data file {file!r}")
    return _yaml.read(files[file])


class NeedsData(Exception):
    pass


def refit(spec, law, data_dir=None):
    if data_dir is None:
        raise NeedsData(f"needs {spec['data']} (the authors' released runs): scaleplan laws check --data-dir DIR")
    path = Path(data_dir) / spec["data"]
    if not path.is_file():
        raise ScaleplanError(f"data folder {data_dir} has no {spec['data']} (the authors' released runs)")
    return float(getattr(_refit_cached(str(path.resolve()), int(spec.get("drop_worst", 0))), spec["output"]))


@functools.lru_cache(maxsize=4)
def _refit_cached(path: str, drop_worst: int):
    from ..fit import parametric as fit

    return fit.fit_parametric(fit.load_runs(path, drop_worst=drop_worst))


KINDS = {
    "allocate": _allocate,
    "exponent": _exponent,
    "loss": _loss,
    "loss_error_pct": _loss_error_pct,
    "downstream_error_pct": _downstream_error_pct,
    "constrained_loss": _constrained_loss,
    "constrained_allocation": _constrained_allocation,
    "inference": _inference,
    "moe": _moe,
    "vocab": _vocab,
    "steplaw": _steplaw,
    "hparams": _hparams,
    "flops_per_token": _flops_per_token,
    "table_a4_ratio": _table_a4_ratio,
    "training_run": _training_run,
    "refit": refit,
    "constant": _constant,
    "precision": _precision,
    "zero_states": _zero_states,
    "activations": _activations,
    "recompute_ratio": _recompute_ratio,
    "curve_areas": _curve_areas,
    "schedule_lr": _schedule_lr,
    "cooldown_suite": _cooldown_suite,
    "curve_loss": _curve_loss,
    "serving": _serving,
}
