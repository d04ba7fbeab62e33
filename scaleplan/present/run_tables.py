"""A run's own tables: training and serving precision, a run on a cluster (memory per device), serving on
chips, and a cost or a layout by itself.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console

from ..schema.units import (
    fmt_count,
    fmt_dollars,
    fmt_duration,
    fmt_flops,
    fmt_number,
    fmt_sci,
)
from .plan_rows import cost_lines, serving_assumptions
from .tables import Format, emit_grid, gap

# ---------------------------------------------------------------------------------------------------------------
# Precision (scaleplan precision): each law's penalty in its own loss


def _signed_pct(x) -> str:
    return "-" if x is None else f"{100 * x:+.2f}%"


def precision_records(report) -> list[dict]:
    """CSV rows of a PrecisionReport: one per table row, tagged with its table (the plan it judges first)."""
    r = report.to_dict()
    rows = _plan_records(report.plan)
    rows += [
        {
            "table": "cost_optimal",
            "precision": "continuous",
            "bits": r["cost_optimal"]["bits"],
            "layout": r["cost_optimal"]["nearest_layout"],
            "params": r["cost_optimal"]["params"],
            "tokens": r["cost_optimal"]["tokens"],
            "loss": r["cost_optimal"]["loss"],
        }
    ]
    rows += [
        {
            "table": "cost_optimal",
            "precision": ch["format"]["name"],
            "bits": ch["format"]["bits"],
            "layout": ch["format"]["layout"],
            "params": ch["params"],
            "tokens": ch["tokens"],
            "loss": ch["loss"],
            "speedup": ch["speedup"],
            "available": ch["available"],
        }
        for ch in r["cost_optimal"]["choices"]
    ]
    rows += [
        {
            "table": "training",
            "precision": t["format"]["name"],
            "bits": t["format"]["bits"],
            "layout": t["format"]["layout"],
            "params": t["params"],
            "tokens": t["tokens"],
            "loss": t["loss"],
            "penalty": t["penalty"],
            "relative": t["relative"],
            "critical_tokens": t["critical_tokens"],
        }
        for t in r["training"]
    ]
    if r["quantization"]:
        q = r["quantization"]
        rows += [
            {
                "table": "serving",
                "bits": row["bits"],
                "params": q["params"],
                "tokens": q["tokens"],
                "loss": row["loss_quantized"],
                "penalty": row["qid"],
                "relative": row["relative"],
                "kumar_ptq_delta": row["kumar_ptq_delta"],
                "critical_tokens_per_param": row["ouyang_critical_tokens_per_param"],
            }
            for row in q["rows"]
        ]
    return rows


def _plan_records(plan: dict | None) -> list[dict]:
    """The plan's row of the CSV: its common keys (the law's convention), tagged `plan`."""
    if plan is None:
        return []
    cost = plan.get("cost") or {}
    keys = ("law", "flops", "params", "params_total", "params_non_embedding", "tokens", "loss")
    return [
        {
            "table": "plan",
            **{k: plan.get(k) for k in keys},
            "gpu_hours": cost.get("gpu_hours"),
            "dollars": cost.get("dollars"),
        }
    ]


def emit_precision(console: Console, fmt: Format, report) -> None:
    """The tables of `scaleplan precision`: the plan it judges, then each law's (json: the whole report; csv:
    every row tagged by table)."""
    if fmt is Format.json:
        return emit_grid(console, fmt, None, [], [], report.to_dict())
    if fmt is Format.csv:
        return emit_grid(console, fmt, None, [], [], precision_records(report))
    if report.plan is not None:
        _precision_plan_table(console, fmt, report)
        gap(console, fmt)
    _cost_optimal_precision_table(console, fmt, report)
    gap(console, fmt)
    _training_precision_table(console, fmt, report)
    if report.quantization is not None:
        gap(console, fmt)
        _serving_precision_table(console, fmt, report.quantization)


def _precision_plan_table(console: Console, fmt: Format, report) -> None:
    """The plan the report judges, as `allocate` plans it (its law's counts and convention), and the N the
    precision laws count (without embeddings)."""
    p = report.plan
    shape, cost = p.get("shape"), p.get("cost")
    rows = [
        ["law", str(p["law"])],
        ["training FLOPs", fmt_flops(p["flops"])],
        ["parameters", fmt_count(p["params"])],
        ["training tokens", fmt_count(p["tokens"])],
        ["predicted loss", "-" if p.get("loss") is None else f"{p['loss']:.3f}"],
    ]
    if shape is not None and "d_ff" in shape:
        rows.insert(3, ["shape (designed)", f"{shape['layers']} x {shape['d_model']:,}, d_ff {shape['d_ff']:,}"])
        rows.insert(
            4,
            [
                "designed counts",
                f"{fmt_count(shape['params_total'])} total, {fmt_count(shape['params_non_embedding'])} non-embedding",
            ],
        )
    if cost is not None:
        rows.append(
            [
                "training cost",
                f"{fmt_dollars(cost['dollars'])}, {fmt_duration(cost['days'])} on {int(cost['gpus']):,} "
                f"{cost['hardware']}",
            ]
        )
    if report.params is not None:
        judged = f"its designed model: N = {fmt_count(report.params)} non-embedding, D = {fmt_count(report.tokens)}"
    else:
        judged = "each format at the precision laws' own N, D for these FLOPs (not the plan's model)"
    emit_grid(
        console,
        fmt,
        "The plan (as allocate plans it)",
        ["", "value"],
        rows,
        {},
        f"Counts and loss in the plan's law. The precision laws count N without embeddings and take C = 6 N D at "
        f"16 bits; below they judge {judged}.",
    )


def _cost_optimal_precision_table(console: Console, fmt: Format, report) -> None:
    """Sun et al.'s continuous optimum and each hardware precision at its own best N, D."""
    opt = report.cost_optimal
    rows = [
        [
            "optimum",
            f"{opt.bits:.2f}",
            f"E{opt.exponent_bits:.2f}M{opt.mantissa_bits:.2f}",
            "-",
            fmt_count(opt.params),
            fmt_count(opt.tokens),
            f"{opt.loss:.4f}",
        ]
    ]
    rows += [
        [
            ch.format.name + (" *" if ch.format.name == opt.best else ""),
            str(ch.format.bits),
            ch.format.layout,
            f"{ch.speedup:.2f}x" if ch.available else "-",
            fmt_count(ch.params) if ch.available else "unavailable",
            fmt_count(ch.tokens) if ch.available else "-",
            f"{ch.loss:.4f}" if ch.loss is not None else "-",
        ]
        for ch in opt.choices
    ]
    if opt.hardware is None:
        speed = "cost (6/16) P N D: speed-up 16/P over BF16 (Sun's assumption)"
    else:
        speed = (
            f"on {opt.hardware}: only its dense paths, at the published end-to-end speed-up over BF16 "
            "(FP8 1.34x at twice the BF16 peak; cost 6ND / speed-up)"
        )
        speed += "".join(f"; {ch.format.name}: {ch.unavailable}" for ch in opt.choices if not ch.available)
    kumar = ", ".join(f"{m:.2f} at {b}" for b, m in report.kumar_multipliers.items())
    emit_grid(
        console,
        fmt,
        f"Cost-optimal training precision at {fmt_sci(report.flops)} FLOPs (16-bit 6ND)",
        ["precision", "bits", "layout", "speed", "params", "tokens", "Sun loss"],
        rows,
        {},
        f"Sun et al. 2025 (Dolma loss; {speed}; block {report.block_size:g}): the continuous "
        f"optimum (Eq. 54, nearest layout {opt.nearest_layout}) and each hardware precision at its own best "
        f"N, D; * lowest loss. Kumar et al. 2024 (integer training, Dolma): compute-optimal precision "
        f"{report.kumar_optimal_bits:.2f} bits at any budget; N/N_eff {kumar} bits.",
    )


def _training_precision_table(console: Console, fmt: Format, report) -> None:
    """Each training precision's penalty against BF16 (Sun et al.), at the given N, D or each at its own."""
    where = (
        "at N = " + fmt_count(report.params) + " (non-emb.), D = " + fmt_count(report.tokens)
        if report.params
        else "each at its cost-optimal N, D"
    )
    rows = [
        [
            t.format.name,
            t.format.layout,
            fmt_count(t.params),
            f"{t.loss:.4f}",
            f"{t.penalty:+.4f}",
            _signed_pct(t.relative),
            fmt_count(t.critical_tokens) + (" !" if t.exceeds_critical else ""),
        ]
        for t in report.training
    ]
    emit_grid(
        console,
        fmt,
        f"Training precision against BF16, {where}",
        ["precision", "layout", "params", "Sun loss", "vs BF16", "change", "critical D"],
        rows,
        {},
        "Sun et al. 2025, arXiv:2501.02423: loss on Dolma (nats/token); change = penalty / BF16 loss at the "
        "same N, D. Critical D: beyond it more tokens make that precision worse (! = exceeded).",
    )


def _serving_precision_table(console: Console, fmt: Format, q) -> None:
    """The trained model served at lower weight bits (Ouyang et al., Kumar et al.)."""
    rows = [
        [
            f"{row.bits:g}",
            f"{row.qid:.4f}",
            f"{row.loss_quantized:.4f}",
            _signed_pct(row.relative),
            f"{row.kumar_ptq_delta:.4f}",
            _signed_pct(row.kumar_relative),
            fmt_number(row.ouyang_critical_tokens_per_param)
            + (" !" if q.tokens_per_param > row.ouyang_critical_tokens_per_param else ""),
        ]
        for row in q.rows
    ]
    emit_grid(
        console,
        fmt,
        f"Serving the trained model at lower weight bits (D/N = {q.tokens_per_param:.3g})",
        ["bits", "QiD", "loss", "change", "Kumar dPTQ", "change", "max D/N"],
        rows,
        {},
        f"Ouyang et al. 2024, arXiv:2411.17691, GPTQ (Fig. 6): QiD added to the 16-bit Pythia loss "
        f"{q.loss_16bit:.4f} (Fig. 7). Kumar et al. 2024 Eq. 2, in its own Dolma loss "
        f"({q.kumar_loss_bf16:.4f} at 16 bits). Max D/N: past it, training longer and then quantizing makes "
        f"the served model worse (derived from Ouyang's Figs. 6-7; ! = past). Weight-only: memory and "
        f"bandwidth change, compute does not.",
    )


# ---------------------------------------------------------------------------------------------------------------
# A run on a cluster (scaleplan cluster)


def _gb(x) -> str:
    return f"{x / 1e9:,.1f} GB"


def emit_cluster(console: Console, fmt: Format, plan) -> None:
    """Utilisation, cost and energy, then memory per device for the fewest devices and for --gpus."""
    c = plan.cost
    rows = _cluster_rows(plan)
    caption = (
        "MFU = 6ND / (devices x time x dense peak at the precision); HFU adds recomputed work "
        "(full: 8ND; selective: Korthikanti et al. 2022 eq. 8 / eq. 7)."
    )
    if c.energy_assumptions:
        caption += "\nEnergy: Epoch AI (Cottier et al. 2024, App. A.4) defaults unless set."
    record = plan.to_dict()
    if fmt in (Format.json, Format.csv):
        emit_grid(console, fmt, "", ["", "value"], rows, record)
        return
    emit_grid(console, fmt, "A training run on a cluster", ["", "value"], rows, record, caption)
    if plan.layout is not None:
        console.print()
        memory_table(console, fmt, plan.layout, c.hardware)


def _cluster_rows(plan) -> list[list[str]]:
    """The run's FLOPs, model and designed shape, utilisation, and its cost rows."""
    c = plan.cost
    rows = [["training FLOPs (6ND)", fmt_flops(plan.flops)]]
    if plan.params is not None:
        active = "" if plan.params_active is None else f", {fmt_count(plan.params_active)} active"
        rows += [["parameters", fmt_count(plan.params) + active], ["tokens", fmt_count(plan.tokens)]]
        s = plan.shape
        if "experts" in s:  # a mixture of experts (scaleplan.recipe.moe_shape): its experts on a line of their own
            rows.append(
                ["shape (designed)", f"{s['layers']} x {s['d_model']:,}, {s['heads']} heads, context {s['context']:,}"]
            )
            rows.append(["experts", f"top-{s['top_k']} of {s['experts']:,}, each of width {s['expert_d_ff']:,}"])
        else:
            rows.append(
                [
                    "shape (designed)",
                    f"{s['layers']} x {s['d_model']:,}, {s['heads']} heads, d_ff {s['d_ff']:,}, "
                    f"context {s['context']:,}",
                ]
            )
    rows.append(["MFU", f"{plan.mfu:.1%} ({plan.utilisation_source})"])
    rows.append([f"HFU ({'no' if c.recompute == 'none' else c.recompute} recompute)", f"{plan.hfu:.1%}"])
    return rows + [list(pair) for pair in cost_lines(c) if not pair[0].startswith(("MFU", "HFU"))]


def memory_table(console: Console, fmt: Format, lp, hardware: str) -> None:
    """Memory per device (states, activations) for the fewest devices and for the GPUs given."""
    layouts = [("fewest", lp.fewest)] + ([(f"on {lp.gpus:,}", lp.suggested)] if lp.suggested else [])
    mrows = [
        [
            label,
            "-" if m is None else f"{m.tp}x{m.pp}x{m.dp}",
            "-" if m is None or m.ep <= 1 else f"{m.ep:,}",
            "-" if m is None else f"{m.devices:,}",
            "-" if m is None else _gb(m.states_bytes),
            "-" if m is None else _gb(m.activation_bytes),
            "-" if m is None else _gb(m.total_bytes),
            "-" if m is None else ("yes" if m.fits else "no"),
        ]
        for label, m in layouts
    ]
    recompute = "no" if lp.recompute == "none" else lp.recompute
    emit_grid(
        console,
        fmt,
        f"Memory per device (ZeRO-{lp.zero}, micro-batch {lp.micro_batch}, {recompute} recompute)",
        ["layout", "TPxPPxDP", "EP", "devices", "states", "activ.", "total", "fits"],
        mrows,
        {},
        _memory_caption(lp, layouts, hardware),
    )


def _memory_caption(lp, layouts, hardware: str) -> str:
    one = lp.fewest or lp.suggested
    usable, cap = (one.usable_bytes, one.capacity_bytes) if one else (0.0, 0.0)
    uneven = dict.fromkeys(
        f"{m.layers} layers on {m.pp} uneven pipeline stages: the fullest holds {m.stage_layers}.\n"
        for _, m in layouts
        if m is not None and m.uneven
    )
    batch = (
        f"Global batch {lp.batch_sequences:,} sequences = {fmt_count(lp.tokens_per_step)} tokens per step "
        f"(the law's {lp.batch_sequences_law:,.0f} rounded to a multiple of DP x micro-batch).\n"
        if lp.batch_sequences is not None and lp.batch_sequences_law is not None
        else ""
    )
    ep = (
        "EP: expert parallelism within the data-parallel degree (experts split EP ways, the rest DP ways).\n"
        if any(m is not None and m.ep > 1 for _, m in layouts)
        else ""
    )
    return (
        f"{hardware}: {_gb(usable)} usable per device ({_gb(cap)} as the device reports it, "
        f"{1 - usable / cap if cap else 0.1:.0%} reserved); {lp.note}.\n"
        + "".join(uneven)
        + batch
        + ep
        + "States: ZeRO (Rajbhandari et al. 2020), 2+2+12 bytes per parameter.\n"
        "Activations: Korthikanti et al. 2022 Table 2"
        + (", flash attention" if lp.flash else "")
        + ".\nAll assumptions: -f json."
    )


def serving_rows(rows: list[tuple[str, Any]]) -> tuple[list[str], list[list[str]]]:
    headers = ["model", "chip", "bits", "TP", "batch", "bound", "tok/s/GPU", "$/M", "TPOT", "TTFT"]

    def ms(x):
        return "-" if x is None or x != x else f"{x * 1e3:,.3g}" if x < 1 else f"{x * 1e3:,.0f}"

    table = []
    for label, s in rows:
        table.append(
            [
                label,
                s.hardware,
                f"{s.weight_bits}/{s.kv_bits}",
                str(s.tp),
                f"{s.batch:,}" if s.fits else "-",
                s.bound if s.fits else "no fit",
                f"{s.tokens_per_s_per_gpu:,.0f}" if s.fits else "-",
                "-" if s.dollars_per_million is None else f"${s.dollars_per_million:.3g}",
                ms(s.time_per_output_token_s),
                ms(s.time_to_first_token_s),
            ]
        )
    if len({label for label, _ in rows}) == 1:
        headers, table = headers[1:], [r[1:] for r in table]
    return headers, table


def emit_serving(console: Console, fmt: Format, rows: list[tuple[str, Any]], title: str) -> None:
    """`scaleplan serve`: one row per model x chip x bits."""
    headers, table = serving_rows(rows)
    records = [{"model": label, **s.to_dict()} for label, s in rows]
    first = rows[0][1]
    kv = ", ".join(dict.fromkeys(f"{s.kv_bytes_per_token / 1e3:,.1f} kB" for _, s in rows))
    caption = (
        f"bits: weights/KV cache. tok/s and $/M count prompt + output tokens. TPOT: ms per output token with "
        f"prefill interleaved; TTFT: ms of prefill alone (no queueing). KV cache per token: {kv}. Assumed: "
        f"{serving_assumptions(first)}. Roofline: KV read + max(weight read, compute) + TP all-reduces "
        f"(JAX scaling book; ../shared/reference/serving.md)."
    )
    notes = [n for _, s in rows for n in s.notes]
    if notes:
        caption += " " + " ".join(dict.fromkeys(notes)) + "."
    machine = records[0] if len(records) == 1 else records if fmt is Format.csv else {"rows": records}
    if len({label for label, _ in rows}) == 1:
        title = f"{title}: {rows[0][0]}"
    emit_grid(console, fmt, title, headers, table, machine, caption)


def emit_cost(console: Console, fmt: Format, cost) -> None:
    rows = [list(pair) for pair in cost_lines(cost)]
    emit_grid(console, fmt, "Training cost", ["", "value"], rows, cost.to_dict())


def emit_layout(console: Console, fmt: Format, layout) -> None:
    if fmt in (Format.json, Format.csv):
        return emit_grid(console, fmt, None, [], [], layout.to_dict())
    memory_table(console, fmt, layout, layout.hardware)
