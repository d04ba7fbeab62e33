"""The planning tables: plans side by side, laws compared, inference-aware sizing, and the data-constrained,
fixed-model and mixture-of-experts plans.
"""

from __future__ import annotations

from rich.console import Console

from ..cluster.cost import price_label
from ..schema.units import (
    fmt_count,
    fmt_dollars,
    fmt_flops,
    fmt_number,
    fmt_percent,
    fmt_ratio,
    fmt_sci,
)
from .plan_rows import (
    cluster_lines,
    cost_lines,
    loss_text,
    moe_cost_lines,
    moe_recipe_caption,
    moe_recipe_lines,
    plan_lines,
    precision_lines,
    recipe_lines,
)
from .tables import Format, emit_grid, fits_whole_words, flatten, grid_table, short_source, write_raw


def emit_plans(console: Console, fmt: Format, plans: list, title: str | None = None) -> None:
    if title is None:  # with tokens to serve, the plan is the inference-aware model, not the compute-optimal one
        serving = all(p.budget_flops is not None for p in plans)
        title = "Inference-aware plan" if serving else "Compute-optimal plan"
    records = [p.to_dict() for p in plans]
    with_inference = any(p.cost.inference_flops is not None for p in plans)
    mixed = (
        len(
            {
                (
                    p.params_convention,
                    p.flops_per_token_m is None,
                    p.recipe is None,
                    p.intervals is None,
                    p.budget_flops is None,
                    getattr(p, "serving", None) is None,
                    getattr(p, "total_budget", None) is None,
                )
                for p in plans
            }
        )
        > 1
    )
    columns = [plan_lines(p, with_inference, all_rows=mixed) for p in plans]
    labels = [label for label, _ in columns[0]]
    headers = [""] + [p.name or f"plan {i + 1}" for i, p in enumerate(plans)] if len(plans) > 1 else ["", "value"]
    if len(plans) == 1 and plans[0].name:
        headers = ["", plans[0].name]
    rows = [[label] + [col[i][1] for col in columns] for i, label in enumerate(labels)]
    cites = list(dict.fromkeys(p.citation for p in plans))
    caption = "\n".join(f"Source: {c}" for c in cites)
    machine = records[0] if len(records) == 1 else {"plans": records}
    if fmt == Format.csv:
        machine = records
    if fmt is Format.table and len(plans) > 1 and not fits_whole_words(headers, rows, console.width):
        # Too many plans side by side for the terminal: stack them, one two-column table each.
        console.print(title)
        for p, col in zip(plans, columns):  # the same rows as side by side, so the plans still compare
            console.print(grid_table(None, ["", p.name or "plan"], [list(x) for x in col], width=console.width))
        console.print(caption)
        return
    emit_grid(console, fmt, title, headers, rows, machine, caption)


def emit_comparison(console: Console, fmt: Format, comparison) -> None:
    headers = ["FLOPs", "law", "params", "tokens", "tokens per param", "params vs 1st", "tokens vs 1st", "loss"]
    rows = [
        [
            fmt_sci(r["flops"]),
            r["law"],
            fmt_count(r["params"]),
            fmt_count(r["tokens"]),
            fmt_number(r["tokens_per_param"]),
            fmt_ratio(r["params_ratio"]),
            fmt_ratio(r["tokens_ratio"]),
            loss_text(r["loss"]),
        ]
        for r in comparison.rows
    ]
    records = comparison.to_dict() if fmt == Format.json else list(comparison.rows)
    caption = (
        f"Convention: {comparison.convention}. Losses are each law's own units and data, not comparable across laws."
    )
    emit_grid(console, fmt, "Compute-optimal allocations compared", headers, rows, records, caption)
    if fmt in (Format.table, Format.markdown):  # the machine formats carry `why` on every row
        why = {r["law"]: r.get("why", "") for r in comparison.rows}
        if fmt is Format.markdown:
            write_raw(console, "\n")
        emit_grid(console, fmt, "Why they differ", ["law", "why"], [[k, v] for k, v in why.items()], [], None)


# ---------------------------------------------------------------------------------------------------------------
# Inference-aware plans


def _pct(x) -> str:
    return f"{100 * float(x):.1f}%"


def inference_rows(plan) -> tuple[list[str], list[list[str]]]:
    """Compute-optimal and inference-aware models side by side, for one demand."""
    a, b = plan.compute_optimal, plan.inference_aware

    def row(label, x, y, fmt, change=True):
        ratio = fmt_ratio(float(y) / float(x)) if change and float(x) else "-"
        return [label, fmt(x), fmt(y), ratio]

    rows = [
        row("parameters", a.params, b.params, fmt_count),
        row("training tokens", a.tokens, b.tokens, fmt_count),
        row("tokens per param", a.tokens_per_param, b.tokens_per_param, fmt_number),
        row("training FLOPs", a.training_flops, b.training_flops, fmt_sci),
        row("inference FLOPs", a.inference_flops, b.inference_flops, fmt_sci),
        row("total FLOPs", a.total_flops, b.total_flops, fmt_sci),
        row("training $", a.training_dollars, b.training_dollars, fmt_dollars),
        row("prefill $", a.prefill_dollars, b.prefill_dollars, fmt_dollars),
        row("decode $", a.decode_dollars, b.decode_dollars, fmt_dollars),
        row("total $", a.total_dollars, b.total_dollars, fmt_dollars),
    ]
    return ["", "compute-optimal", "inference-aware", "change"], rows


def _roofline_words(c) -> str:
    a = c.pricer.assumptions()
    latency = f", latency {a['latency']}" if a.get("latency") else ""
    return (
        f"{a['serve_bits']}-bit weights, {a['kv_bits']}-bit KV, {a['prompt_tokens']}/{a['output_tokens']} tokens, "
        f"HBM x{a['bandwidth_fraction']:g}, prefill MFU {fmt_percent(c.prefill_mfu)}{latency}"
    )


def _serving_price_label(c) -> str:
    """The serving price as an assumption, or 'the same price' when serving runs on the training hardware's."""
    same = c.inference_hardware.key == c.train_hardware.key and c.inference_price == c.train_price
    return "the same price" if same else price_label(c.inference_hardware, c.inference_price)


def _prices(c) -> str:
    """'Training h100 at $2.00/h, assumed: <source>; serving h100 at the same price': what the dollars assume."""
    return (
        f"Training {c.train_hardware.key} at {price_label(c.train_hardware, c.train_price)}; serving "
        f"{c.inference_hardware.key} at {_serving_price_label(c)}"
    )


def _savings(flops, dollars) -> str:
    """'Saves 20.2% of FLOPs, 34.2% of dollars'; where the model costs more in one of them (never in the quantity
    it was sized for, but it can in the other): 'Costs 68.2% more FLOPs, saves 64.3% of dollars'."""
    f, d = float(flops), float(dollars)
    if f >= 0 and d >= 0:
        return f"Saves {_pct(f)} of FLOPs, {_pct(d)} of dollars"
    first = f"saves {_pct(f)} of FLOPs" if f >= 0 else f"costs {_pct(-f)} more FLOPs"
    second = f"saves {_pct(d)} of dollars" if d >= 0 else f"costs {_pct(-d)} more dollars"
    return (first[0].upper() + first[1:]) + ", " + second


def inference_caption(plan, break_even: str) -> str:
    c = plan.costs
    serving_price = _serving_price_label(c)
    return (
        f"Same loss {plan.loss:.4f} ({plan.law}); {fmt_sci(plan.inference_tokens)} tokens served at "
        f"{'2N' if not plan.context else f'2N + attention over {plan.context:g}'} FLOPs/token; optimised for "
        f"{plan.objective}. {_savings(plan.flops_saving, plan.dollars_saving)}.\n"
        f"Training {c.train_hardware.key} at MFU {fmt_percent(c.train_mfu)}, "
        f"{price_label(c.train_hardware, c.train_price)}; serving {c.inference_hardware.key} "
        + (
            f"({c.inference_bits}-bit) at prefill MFU {fmt_percent(c.prefill_mfu)}, decode MFU "
            f"{fmt_percent(c.decode_mfu)}, {serving_price}; {c.prompt_share:.0%} of tokens prompt "
            "(Sardana et al.'s fixed MFU).\n"
            if c.fixed_mfu
            else f"priced by the serving roofline at each size's designed shape ({_roofline_words(c)}), "
            f"{serving_price}.\n"
        )
        + (f"{plan.objective_note}\n" if getattr(plan, "objective_note", None) else "")
        + f"{break_even}.\nSource: {plan.citation}"
    )


def emit_inference(console: Console, fmt: Format, plan, break_even: str, title: str = "Inference-aware sizing") -> None:
    headers, rows = inference_rows(plan)
    emit_grid(console, fmt, title, headers, rows, plan.to_dict(), inference_caption(plan, break_even))


def emit_inference_sweep(console: Console, fmt: Format, plans: list, break_even: str) -> None:
    headers = ["inference tokens", "params", "train tokens", "tokens/param", "FLOPs saved", "$ saved"]
    rows = [
        [
            fmt_sci(p.inference_tokens),
            fmt_count(p.inference_aware.params),
            fmt_count(p.inference_aware.tokens),
            fmt_number(p.inference_aware.tokens_per_param),
            _pct(p.flops_saving),
            _pct(p.dollars_saving),
        ]
        for p in plans
    ]
    first = plans[0]
    caption = (
        f"Compute-optimal at the same loss {first.loss:.4f}: {fmt_count(first.compute_optimal.params)} "
        f"parameters on {fmt_count(first.compute_optimal.tokens)} tokens ({first.law}). {break_even}.\n"
        f"{_prices(first.costs)}.\nSource: {first.citation}"
    )
    records = (
        {"plans": [p.to_dict() for p in plans]}
        if fmt == Format.json
        else [
            {
                "inference_tokens": p.inference_tokens,
                **{k: v for k, v in p.to_dict().items() if k != "inference_tokens"},
            }
            for p in plans
        ]
    )
    emit_grid(console, fmt, "Inference-aware sizing against demand", headers, rows, records, caption)


# ---------------------------------------------------------------------------------------------------------------
# Constrained plans: limited unique data, a fixed (over-trained) choice, mixture of experts


def emit_constrained(console: Console, fmt: Format, plan, cost) -> None:
    lines = [
        ("law", plan.law),
        ("training FLOPs", fmt_flops(plan.flops)),
        ("parameters", fmt_count(plan.params)),
        ("training tokens", fmt_count(plan.tokens)),
        ("unique tokens", fmt_count(plan.unique_tokens)),
        ("epochs", fmt_number(plan.epochs)),
        ("tokens per param", fmt_number(plan.tokens_per_param)),
        ("effective params N'", fmt_count(plan.effective_params)),
        ("effective tokens D'", fmt_count(plan.effective_tokens)),
        ("predicted loss", loss_text(plan.loss)),
        (
            "with unlimited data",
            f"{fmt_count(plan.unconstrained_params)} params, "
            f"{fmt_count(plan.unconstrained_tokens)} tokens, loss {plan.unconstrained_loss:.3f}",
        ),
        ("loss penalty", f"{plan.loss_penalty:+.4f}"),
        *(recipe_lines(plan.recipe) if getattr(plan, "recipe", None) is not None else []),
        *cost_lines(cost),
    ]
    record = {**plan.to_dict(), "cost": None if cost is None else cost.to_dict()}
    emit_grid(
        console,
        fmt,
        "Data-constrained plan",
        ["", "value"],
        [list(x) for x in lines],
        record,
        f"Source: {short_source(plan.citation)}",
    )


def emit_overtrain(console: Console, fmt: Format, report, cost) -> None:
    headers = ["law", "loss", "D/N", "optimal D/N", "over", "extra C", "top-1 err"]
    rows = [
        [
            r["law"],
            loss_text(r["loss"]),
            fmt_number(r["tokens_per_param"]),
            fmt_number(r["optimal_tokens_per_param"]),
            fmt_number(r["overtraining"]),
            fmt_ratio(r["extra_compute"]),
            "-" if r["top1_error"] is None else f"{r['top1_error']:.1%}",
        ]
        for r in report.to_dict()["rows"]
    ]
    d = report.to_dict()
    epochs = (
        "" if d["epochs"] is None else f", {fmt_number(d['epochs'])} epochs over {fmt_count(d['unique_tokens'])} unique"
    )
    costs = (
        ""
        if cost is None
        else f"; costs {fmt_dollars(cost.dollars)} ({fmt_number(cost.gpu_hours)} {cost.hardware} GPU-hours "
        f"at MFU {fmt_percent(cost.mfu)}; {cost.price_label})"
    )
    given = d.get("law_params")
    designed = (  # the model stage's network: its counts, its tokens re-derived so that 6ND stays the budget
        ""
        if not given
        else f" (the shape designed for the {fmt_count(given['params'])} on {fmt_count(given['tokens'])} given)"
    )
    caption = (
        f"{fmt_count(d['params'])} parameters on {fmt_count(d['tokens'])} tokens{designed} = {fmt_flops(d['flops'])}"
        f"{epochs}{costs}. Losses are each law's own units. "
        "'over' = D/N over the law's optimal D/N; "
        "'extra C' = this run's FLOPs over the compute-optimal model's for the same loss; top-1 error: Gadre et "
        "al. 2024's 17-task average."
    )
    priced = None if cost is None else cost.to_dict()
    record: list[dict] | dict = {**d, "cost": priced}
    if fmt is Format.csv:  # one row per law, as the table; the model, its recipe and cost beside each
        model = {k: v for k, v in d.items() if k not in ("rows", "warnings")}
        record = [{**row, **flatten({"model": model, "cost": priced}), "warnings": d["warnings"]} for row in d["rows"]]
    emit_grid(console, fmt, "A fixed model judged by every law", headers, rows, record, caption)
    if report.recipe is not None and fmt in (Format.table, Format.markdown):  # the machine formats carry it in d
        console.print() if fmt is Format.table else console.out("")
        extra = cluster_lines(report.cluster) if getattr(report, "cluster", None) is not None else []
        if getattr(report, "precision", None) is not None:
            extra += precision_lines(report.precision, cost)
        emit_grid(
            console,
            fmt,
            "Its recipe and cost",
            ["", "value"],
            [list(x) for x in recipe_lines(report.recipe) + cost_lines(cost) + extra],
            {},
        )


def emit_moe(console: Console, fmt: Format, plan, cost) -> None:
    d = plan.to_dict()
    dense = d["dense"]
    lines = [
        ("law", plan.law),
        ("training FLOPs", fmt_flops(plan.flops)),
        ("active parameters", fmt_count(plan.active_params)),
        ("total parameters", fmt_count(plan.total_params)),
        ("training tokens", fmt_count(plan.tokens)),
        ("tokens per active param", fmt_number(plan.tokens_per_param)),
        ("granularity G", fmt_number(plan.granularity)),
        ("expansion rate E", fmt_number(plan.expansion)),
        ("experts (G x E)", fmt_number(plan.experts)),
        ("predicted loss", loss_text(plan.loss)),
        (
            "dense model",
            f"{fmt_count(dense['params'])} params, {fmt_count(dense['tokens'])} tokens, loss {dense['loss']:.3f}",
        ),
        ("loss difference", f"{d['loss_difference']:+.3f}"),
        ("dense FLOPs for same loss", f"{fmt_sci(dense['flops_for_same_loss'])} ({d['compute_multiplier']:.1f}x)"),
        *moe_recipe_lines(plan.recipe),
        *moe_cost_lines(cost),
        *(cluster_lines(plan.cluster) if getattr(plan, "cluster", None) is not None else []),
    ]
    caption = (
        f"Source: {short_source(plan.citation)}"
        + "".join(f"\nSee also: {short_source(x)}" for x in d["see_also"])
        + moe_recipe_caption(plan.recipe)
    )
    emit_grid(
        console,
        fmt,
        "Fine-grained mixture-of-experts plan",
        ["", "value"],
        [list(x) for x in lines],
        {**d, "cost": None if cost is None else cost.to_dict()},
        caption,
    )


def emit_fixed_moe(console: Console, fmt: Format, plan) -> None:
    """A given mixture of experts, priced from its active parameters."""
    lines = [
        ("training FLOPs (6 N_active D)", fmt_flops(plan.flops)),
        ("active parameters", fmt_count(plan.active_params)),
        ("total parameters", fmt_count(plan.total_params)),
        ("training tokens", fmt_count(plan.tokens)),
        ("tokens per active param", fmt_number(plan.tokens_per_param)),
        *moe_recipe_lines(plan.recipe),
        *moe_cost_lines(plan.cost),
        *(cluster_lines(plan.cluster) if getattr(plan, "cluster", None) is not None else []),
    ]
    emit_grid(
        console,
        fmt,
        "A given mixture of experts",
        ["", "value"],
        [list(x) for x in lines],
        plan.to_dict(),
        f"Source: {plan.citation}. Every expert is held in memory: scaleplan cluster --params TOTAL "
        "--active-params ACTIVE sizes that." + moe_recipe_caption(plan.recipe),
    )
