"""The rows of a plan, label and formatted value: sizes, quality, recipe, cost, serving, intervals, cluster and
precision (the plan table's, the report's and every mode's).
"""

from __future__ import annotations

from ..schema.units import (
    fmt_count,
    fmt_dollars,
    fmt_duration,
    fmt_flops,
    fmt_number,
    fmt_percent,
    fmt_sci,
    plural,
)

# ---------------------------------------------------------------------------------------------------------------
# Plans


def loss_text(value) -> str:
    return "-" if value is None else f"{value:.3f}"


# What N counts, in a few letters (tables are 80 columns wide).
SHORT_CONVENTION = {
    "total": "all",
    "non_embedding": "non-emb.",
    "non_embedding_with_head": "non-emb.+head",
    "flops_per_token": "M, FLOPs/tok",
}


def plan_lines(plan, with_inference: bool | None = None, all_rows: bool = False) -> list[tuple[str, str]]:
    """(label, formatted value) for one scalar plan: the rows of the human table and of markdown.

    A row that would repeat another (total parameters when the law counts all of them) is left out, unless
    `all_rows` (plans side by side need the same rows)."""
    lines = _size_lines(plan, all_rows) + _quality_lines(plan, all_rows)
    if plan.recipe is not None:
        lines += recipe_lines(plan.recipe)
    lines += cost_lines(plan.cost, with_inference)
    return lines + _stage_lines(plan, with_inference, all_rows)


def _size_lines(plan, all_rows: bool) -> list[tuple[str, str]]:
    """The law, FLOPs, parameters in each count, tokens and loss."""
    lines = [
        ("law", plan.law),
        ("training FLOPs", fmt_flops(plan.flops)),
        (
            "parameters",
            f"{fmt_count(plan.params)} ({SHORT_CONVENTION.get(plan.params_convention, plan.params_convention)})",
        ),
    ]
    # no row repeats another: side by side (all_rows), the law's own count says "as above" in its row
    if all_rows or plan.params_convention != "total":
        own = plan.params_convention == "total"
        lines.append(("params, total", "as above" if own else fmt_count(plan.params_total)))
    if all_rows or plan.params_convention != "non_embedding":
        own = plan.params_convention == "non_embedding"
        lines.append(("params, non-embedding", "as above" if own else fmt_count(plan.params_non_embedding)))
    if plan.flops_per_token_m is not None:
        lines.append(("FLOPs per token M", fmt_sci(plan.flops_per_token_m)))
    return lines + [
        ("training tokens", fmt_count(plan.tokens)),
        ("tokens per param", fmt_number(plan.tokens_per_param)),
        ("predicted loss", loss_text(plan.loss)),
    ]


def _quality_lines(plan, all_rows: bool) -> list[tuple[str, str]]:
    """A serving plan's quality (a budget's compute-optimal loss, or a target loss) and that compute-optimal model."""
    if getattr(plan, "budget_flops", None) is None:
        return [("quality set by", "-"), ("compute-optimal model", "-")] if all_rows else []
    co = plan.compute_optimal
    sized = getattr(plan, "inference", None)
    if sized is not None and sized.flops is None:  # quality given as a loss
        quality = f"target loss {loss_text(sized.loss)} (compute-optimal at {fmt_sci(plan.budget_flops)} FLOPs)"
    else:
        quality = f"{fmt_sci(plan.budget_flops)} FLOPs, compute-optimal"
    return [
        ("quality set by", quality),
        ("compute-optimal model", f"{fmt_count(co.params)}, {fmt_count(co.tokens)} tokens"),
    ]


def _stage_lines(plan, with_inference: bool | None, all_rows: bool) -> list[tuple[str, str]]:
    """The later stages' rows: the total budget's split, serving, intervals, cluster, precision, quantized serving."""
    lines = []
    tb = getattr(plan, "total_budget", None)
    if tb is not None:
        lines.append(
            (
                "total budget, split",
                f"{fmt_dollars(tb.total_dollars)}: training {fmt_dollars(tb.training_dollars)} + serving "
                f"{fmt_dollars(tb.serving_dollars)} ({fmt_sci(tb.inference_tokens)} tokens)",
            )
        )
    elif all_rows:
        lines.append(("total budget, split", "-"))
    if getattr(plan, "serving", None) is not None:
        lines += serving_lines(plan.serving)
    elif all_rows and with_inference:
        lines += [("serving", "-"), ("serving assumed", "-")]
    if plan.intervals is not None:
        lines += interval_lines(plan.intervals)
    if getattr(plan, "cluster", None) is not None:
        lines += cluster_lines(plan.cluster)
    elif all_rows:
        lines += [("layout", "-"), ("memory per device", "-")]
    if getattr(plan, "precision", None) is not None:
        lines += precision_lines(plan.precision, plan.cost)
    return lines + _quantized_lines(getattr(plan, "quantized", None))


def _quantized_lines(q) -> list[tuple[str, str]]:
    """The model sized for low-bit serving (the served loss in the objective)."""
    if q is None:
        return []
    return [
        (
            f"sized for {q.bits:g}-bit serving",
            "no model reaches the loss"
            if not q.feasible
            else f"{fmt_count(q.params)} on {fmt_count(q.tokens)} ({fmt_number(q.tokens_per_param)} tokens/param), "
            f"{fmt_flops(q.total_flops)} in all",
        )
    ]


def precision_lines(block, cost) -> list[tuple[str, str]]:
    """The plan's precision block: each penalty in its own law's loss, never added to the plan's loss."""
    out = []
    t = block.training
    if t is not None:
        out.append(
            (
                f"{t.format.name} training penalty",
                f"{t.penalty:+.4f} ({100 * t.relative:+.2f}%, Sun et al., Dolma loss)",
            )
        )
        if cost is not None and getattr(cost, "precision", "bf16") != "bf16":
            from ..cluster.cost import get_hardware

            try:
                bf16 = get_hardware(cost.hardware).peak_flops
            except Exception:  # a custom accelerator: no BF16 figure to compare with
                bf16 = None
            if bf16:
                hours_bf16 = cost.gpu_hours * cost.peak_flops / bf16
                saved = f"{fmt_number(hours_bf16 - cost.gpu_hours)} GPU-hours"
                if cost.dollars is not None:
                    saved += f", {fmt_dollars(cost.dollars * (cost.peak_flops / bf16 - 1))}"
                out.append(
                    (
                        f"saved by {cost.precision.upper()} vs BF16",
                        f"{saved} (peak x{cost.peak_flops / bf16:.2g} at the same MFU)",
                    )
                )
        out.append(
            (
                f"{t.format.name} critical data size",
                fmt_count(t.critical_tokens) + (" (exceeded)" if t.exceeds_critical else ""),
            )
        )
    if block.serving_bits is not None:
        out.append(
            (
                f"serving at {block.serving_bits:g} bits",
                f"{block.qid:+.4f} ({100 * block.qid_relative:+.2f}%, Ouyang et al., Pythia loss)",
            )
        )
        out.append(
            (
                "quantization erases the gain past",
                f"{fmt_number(block.ouyang_critical_tokens_per_param)} tokens/param (Ouyang); "
                f"{fmt_number(block.kumar_critical_tokens_per_param)} (Kumar)",
            )
        )
    return out


def cluster_lines(cluster) -> list[tuple[str, str]]:
    """Memory per device and the suggested layout of a plan on its cluster (scaleplan.cluster.memory)."""
    lp = cluster.layout
    if lp is None:
        return [("layout", "-"), ("memory per device", "not judged: the hardware has no memory figure")]
    m = lp.suggested or lp.fewest
    if m is None:
        return [("layout", "-"), ("memory per device", lp.note)]
    where = f"on {plural(int(lp.gpus), 'GPU')}" if lp.suggested is not None else "fewest devices"
    fewest = "" if lp.fewest is None else f"; fewest devices {lp.fewest.devices:,}"
    ep = f", EP {m.ep:,}" if m.ep > 1 else ""
    batch = []
    if lp.batch_sequences is not None and lp.suggested is not None:
        acc = lp.batch_sequences // (m.dp * lp.micro_batch)
        batch = [
            (
                "tokens per step",
                f"{fmt_count(lp.tokens_per_step)} = {lp.batch_sequences:,} seqs = DP {m.dp:,} x micro "
                f"{lp.micro_batch:,} x {acc:,} accumulation",
            )
        ]
    return [
        ("layout", f"{m.tp}x{m.pp}x{m.dp} TPxPPxDP{ep} {where}, ZeRO-{lp.zero}{fewest}"),
        *batch,
        (
            "memory per device",
            f"{m.total_bytes / 1e9:,.1f} of {m.usable_bytes / 1e9:,.1f} GB usable"
            + ("" if m.fits else f": does not fit, {m.shortfall_bytes / 1e9:,.1f} GB over"),
        ),
        (
            "device memory",
            f"{m.capacity_bytes / 1e9:,.1f} GB as reported, {1 - m.usable_bytes / m.capacity_bytes:.0%} reserved",
        ),
    ]


def cost_lines(c, with_inference: bool | None = None) -> list[tuple[str, str]]:
    """The cost breakdown of any plan, with its assumptions next to it (none for a plan never priced)."""
    if c is None:
        return []
    precision = getattr(c, "precision", "bf16")
    lines = [
        ("hardware", c.hardware),
        (f"peak FLOP/s, dense {precision.upper()}", fmt_sci(c.peak_flops)),
        ("MFU", fmt_percent(c.mfu)),
    ]
    if getattr(c, "speedup_over_bf16", None) is not None:
        lines.append((f"{precision.upper()} speed-up assumed", f"{c.speedup_over_bf16:.2f}x a BF16 run at 40% MFU"))
    if getattr(c, "recompute", "none") != "none" and c.hfu is not None:
        lines.append((f"HFU ({c.recompute} recompute)", f"{c.hfu:.1%}"))
    lines += [
        ("GPU-hours", fmt_number(c.gpu_hours)),
        (f"wall-clock on {plural(int(c.gpus), 'GPU')}", fmt_duration(c.days)),
        ("$ per GPU-hour", getattr(c, "price_label", None) or fmt_dollars(c.price)),
        ("training cost", fmt_dollars(c.dollars)),
        ("energy, GPUs only", "-" if c.kwh is None else f"{fmt_number(c.kwh)} kWh"),
    ]
    if getattr(c, "kwh_facility", None) is not None:
        a = c.energy_assumptions
        lines += [
            (
                "energy, facility",
                f"{fmt_number(c.kwh_facility)} kWh (x{a['server_power_x']:g} server"
                + (" extending Epoch" if str(a.get("server_power_basis", "")).startswith("extension") else "")
                + ", "
                + (
                    a["average_draw"]
                    if str(a.get("average_draw", "")).startswith("measured")
                    else f"{a['tdp_fraction']:g} of TDP"
                )
                + f", PUE {a['pue']:g})",
            ),
            ("energy cost", f"{fmt_dollars(c.energy_dollars)} at ${a['dollars_per_kwh']:g}/kWh"),
        ]
    elif getattr(c, "energy_note", None):
        lines.append(("energy", c.energy_note))
    if getattr(c, "owned_dollars", None) is not None:
        o = c.owned_assumptions
        lines.append(
            (
                "owned: amortised + energy",
                f"{fmt_dollars(c.owned_dollars)} (cluster {fmt_dollars(o['acquisition'])}, {o['age_years']:g} y old)",
            )
        )
    if with_inference is None:
        with_inference = c.inference_flops is not None
    if with_inference:
        lines += [
            ("inference FLOPs (2N/token)", fmt_flops(c.inference_flops)),
            ("serving $ per GPU-hour", _serving_price(c)),
            ("inference cost", fmt_dollars(c.inference_dollars)),
            ("total cost", fmt_dollars(c.total_dollars)),
        ]
    return lines


def serving_lines(s) -> list[tuple[str, str]]:
    """How the plan's model serves (the roofline) and what that assumed."""
    if not s.fits:
        return [("serving", "; ".join(s.notes) or "does not fit"), ("serving assumed", serving_assumptions(s))]
    per_m = "-" if s.dollars_per_million is None else f"${s.dollars_per_million:.3g} per million tokens"
    return [
        (
            "serving",
            f"{per_m}: {s.tokens_per_s_per_gpu:,.0f} tokens/s per GPU at batch {s.batch:,} ({s.bound}-bound), "
            f"TP {s.tp}, {s.time_per_output_token_s * 1e3:.3g} ms per output token",
        ),
        (
            "serving assumed",
            f"{s.hardware}, {s.weight_bits}-bit weights, {s.kv_bits}-bit KV ({s.kv_bytes_per_token / 1e3:,.1f} kB per "
            f"token), {s.precision.upper()} compute; " + serving_assumptions(s, with_price=False),
        ),
    ]


def _serving_price(c) -> str:
    label = getattr(c, "inference_price_label", None)
    if label is None:
        return "-"
    return "as training" if label == getattr(c, "price_label", None) else label


def recipe_lines(r) -> list[tuple[str, str]]:
    s, default = r.shape, next(row for row in r.hparams if row.default)
    return [
        ("vocabulary", f"{s.vocab:,}" + ("" if r.vocab is None else f" ({r.vocab.law})")),
        ("shape", f"{s.layers} x {s.d_model:,}, {s.heads} heads ({s.kv_heads} KV), d_ff {s.d_ff:,}, {s.arch}"),
        ("context", f"{s.context:,}"),
        *lr_lines(r, default.law, default.warnings),
        ("batch", f"{fmt_count(default.batch_tokens)} tokens = {default.batch_sequences:,} seqs"),
        ("FLOPs/token, App. F", f"{fmt_sci(r.flops.flops_per_token)} = {r.flops.ratio:.3f} x 6N"),
    ] + ([] if r.schedule is None else r.schedule.lines())


def lr_lines(r, law: str, extrapolated=(), spread=None) -> list[tuple[str, str]]:
    """'learning rate (wsd peak)', 'cosine peak LR' and, when the default law is used outside its fitted range,
    'LR spread across laws' (their cosine peaks)."""
    if r.cosine_peak_lr is None:
        return [("learning rate", "-")]
    sci = lambda x: fmt_sci(x, always=True)
    if r.schedule is None:
        return [("cosine peak LR", f"{sci(r.cosine_peak_lr)} ({law})")]
    rows = [
        ("learning rate (wsd peak)", f"{sci(r.learning_rate)} ({law})"),
        ("cosine peak LR", sci(r.cosine_peak_lr)),
    ]
    spread = spread if spread is not None else getattr(r, "lr_spread", None)
    if extrapolated and spread is not None:
        rows.append(("LR spread across laws", f"{sci(spread[0])} - {sci(spread[1])}"))
    return rows


def moe_recipe_lines(r) -> list[tuple[str, str]]:
    """An MoE plan's integer model and recipe (scaleplan.recipe.moe_shape.MoeRecipe)."""
    if r is None:
        return []
    s, h = r.shape, r.hparams
    attention = "MLA" if s.mla is not None else f"{s.kv_heads} KV heads" if s.kv_heads != s.heads else "MHA"
    experts = f"{s.experts:,} of width {s.expert_d_ff:,}, top-{s.top_k}"
    if s.shared_experts:
        experts += f", {s.shared_experts} shared"
    if s.dense_layers:
        experts += f", first {s.dense_layers} layers dense"
    return [
        ("model", f"{s.layers} x {s.d_model:,}, {s.heads} heads x {s.head_dim}, {attention}"),
        ("experts", experts),
        *(
            [("law's count: active / total", f"{fmt_count(s.law_counts[0])} / {fmt_count(s.law_counts[1])}")]
            if r.law_convention
            else []
        ),
        ("all weights: active / total", f"{fmt_count(s.active_params)} / {fmt_count(s.total_params)}"),
        ("vocabulary", f"{s.vocab:,}" + ("" if r.vocab is None else f" ({r.vocab.law}, active)")),
        ("context", f"{s.context:,}"),
        *lr_lines(r, f"{h.law}, M_active"),
        ("batch", f"{fmt_count(h.batch_tokens)} tokens = {h.batch_sequences:,} seqs"),
    ] + ([] if r.schedule is None else r.schedule.lines())


def moe_recipe_caption(r) -> str:
    return "" if r is None else f"\nRecipe: {r.basis}."


# ---------------------------------------------------------------------------------------------------------------
# Intervals (scaleplan.pipeline.intervals): one row per quantity


def _interval_text(pair, fmt) -> str:
    if pair is None:
        return "-"
    lo, hi = pair
    if lo == hi or abs(hi - lo) <= 1e-9 * abs(hi):
        return f"{fmt(lo)} (set by the budget)"
    return f"{fmt(lo)} .. {fmt(hi)}"


def interval_lines(iv: dict) -> list[tuple[str, str]]:
    """'params, 80% interval  24.4B .. 37.8B' rows for the plan table, N to dollars."""
    pct = f"{iv['level']:.0%}" if round(iv["level"] * 100, 6) == round(iv["level"] * 100) else f"{iv['level']:.1%}"
    lr = lambda x: fmt_sci(x, always=True)
    rows = [
        ("params", fmt_count),
        ("tokens", fmt_count),
        ("loss", lambda x: f"{x:.3f}"),
        ("learning_rate", lr),
        ("batch_tokens", fmt_count),
        ("gpu_hours", fmt_number),
        ("dollars", fmt_dollars),
        ("serving_dollars", fmt_dollars),
        ("total_dollars", fmt_dollars),
    ]
    names = {
        "learning_rate": "learning rate",
        "batch_tokens": "batch tokens",
        "gpu_hours": "GPU-hours",
        "dollars": "training cost",
        "serving_dollars": "serving cost",
        "total_dollars": "total cost",
    }
    out = [(f"{names.get(key, key)}, {pct} interval", _interval_text(iv[key], fmt)) for key, fmt in rows if key in iv]
    label = iv.get("draws_label") or f"{iv['draws']:,} bootstrap draws ({iv['recipe_draws']:,} for the recipe)"
    out.append(("interval draws", label))
    if iv.get("interval_why"):  # a fitted law's normal draws: say why fit --bootstrap printed other intervals
        out.append((f"interval kind: {iv['interval']}", iv["interval_why"]))
    return out


def moe_cost_lines(cost) -> list[tuple[str, str]]:
    """cost_lines of a mixture of experts: serving is priced from the active parameters (a token's forward pass
    touches only the active experts)."""
    return [
        ("inference FLOPs (2 N_active/token)" if k.startswith("inference FLOPs") else k, v) for k, v in cost_lines(cost)
    ]


# ---------------------------------------------------------------------------------------------------------------
# Serving (scaleplan serve)


def serving_assumptions(s, with_price: bool = True) -> str:
    """What a serving figure assumed, in one line: lengths, bits, efficiencies, price."""
    e = s.efficiency
    price = "no price" if s.price is None else f"${s.price:.2f}/GPU-h ({s.price_source or 'preset'})"
    latency = f"; latency target {s.latency}" if s.latency else ""
    return (
        f"{s.prompt_tokens}/{s.output_tokens} prompt/output tokens; HBM bandwidth x{e.bandwidth_fraction:g}, "
        f"prefill MFU {e.prefill_mfu:g}, memory x{e.memory_fraction:g}, batch cap {e.batch_cap:,}{latency}"
        + (f"; {price}" if with_price else "")
    )
