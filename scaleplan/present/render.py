"""Render results as a rich table, JSON, CSV or markdown, all from the same values.

Data goes to stdout; warnings go to stderr (see cli.py), so `--format json | jq` always works.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import numpy as np
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..cluster.cost import price_label
from ..schema.units import (
    fmt_count,
    fmt_dollars,
    fmt_duration,
    fmt_flops,
    fmt_number,
    fmt_percent,
    fmt_ratio,
    fmt_sci,
    plural,
)


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


# ---------------------------------------------------------------------------------------------------------------
# Machine formats


def to_json(obj, nulled: list[str] | None = None) -> str:
    """JSON text: numpy numbers as plain ones, and a number that is not finite (a fit that diverged, a schedule with
    no steps to cool down) as null, its key appended to `nulled` so the caller can warn."""
    import json  # machine formats import their modules when asked: the table path stays lean

    try:  # allow_nan=False: a NaN would be invalid JSON for every reader but Python's.
        return json.dumps(obj, indent=2, allow_nan=False)
    except (ValueError, TypeError):
        found: list[str] = [] if nulled is None else nulled
        return json.dumps(_finite(obj, "", found), indent=2, allow_nan=False)


def _finite(value, where: str, found: list[str]):
    """`value` ready for JSON: non-finite numbers as None (their keys recorded in `found`)."""
    import math

    if hasattr(value, "tolist"):  # a numpy number or array
        value = value.tolist()
    if isinstance(value, dict):
        return {str(k): _finite(v, f"{where}.{k}" if where else str(k), found) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v, f"{where}[{i}]", found) for i, v in enumerate(value)]
    if isinstance(value, float) and not math.isfinite(value):
        found.append(where or "value")
        return None
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    return str(value)


def nulled_warning(keys: list[str]) -> str:
    """'3 numbers are not finite (loss, curve[0].loss_wsd, ...) and are written as null'."""
    shown = ", ".join(keys[:3]) + (", ..." if len(keys) > 3 else "")
    what = "a number is" if len(keys) == 1 else f"{len(keys)} numbers are"
    return f"{what} not finite ({shown}) and written as null: the result does not hold there"


def flatten(record: dict, prefix: str = "") -> dict:
    """{'cost': {'dollars': 1}} -> {'cost_dollars': 1}: a mapping becomes prefixed columns; a list stays one value."""
    out = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, name + "_"))
        else:
            out[name] = value
    return out


def csv_cell(value) -> str:
    """One CSV cell: text as it is, an empty cell for None (and NaN), anything else as JSON text: numbers as Python
    writes them, true/false, and a list (or a mapping inside one) as JSON, so `json.loads` reads every such cell."""
    import json

    value = _json_ready(value)
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, allow_nan=False)


def _json_ready(value):
    """Nested lists and mappings with numpy numbers and arrays as plain ones and non-finite numbers as None."""
    import math

    if hasattr(value, "tolist"):  # a numpy number or array
        value = value.tolist()
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)


def to_csv(records: list[dict]) -> str:
    """One CSV row per record: nested mappings as prefixed columns, lists as JSON text (see csv_cell)."""
    import csv
    import io

    rows = [flatten(r) for r in records]
    columns = list(dict.fromkeys(k for row in rows for k in row))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: csv_cell(v) for k, v in row.items()})
    return buf.getvalue()


def to_markdown(headers: list[str], rows: list[list[str]]) -> str:
    def esc(cell: str) -> str:
        return printable(cell).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(esc(h) for h in headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def short_source(citation: str) -> str:
    """'Tao et al. 2024, arXiv:2407.13623, NeurIPS 2024; constants from ...' -> up to the first '; ' or ': '."""
    for sep in ("; ", ": "):
        citation = citation.split(sep)[0]
    return citation


_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F]}


def printable(text) -> str:
    """Text with control characters written as escapes (a scenario named "a\x1b[31mred" cannot recolour the
    terminal); tabs and newlines stay."""
    return str(text).translate(_CONTROL)


def grid_table(
    title: str | None,
    headers: list[str],
    rows: list[list[str]],
    caption: str | None = None,
    first_column_style: str = "bold",
    width: int | None = None,
    wrap_first: bool = False,
) -> Table:
    """A table whose columns wrap between words at `width`; the first column never wraps unless `wrap_first`."""
    title = None if title is None else printable(title)
    headers = [printable(h) for h in headers]
    rows = [[printable(c) for c in row] for row in rows]
    table = Table(title=title, caption=caption, box=box.SIMPLE_HEAVY, title_justify="left", caption_justify="left")
    columns = [[str(row[i]) for row in rows if i < len(row)] for i in range(len(headers))]
    widths, _ = _column_widths(headers, columns, width, wrap_first)
    for i, (header, cells) in enumerate(zip(headers, columns)):
        numeric = sum(c[:1].isdigit() or c[:1] in "$-+." for c in cells) * 2 >= len(cells)
        table.add_column(
            header,
            style=first_column_style if i == 0 else None,
            justify="right" if i and numeric else "left",
            overflow="fold",
            no_wrap=i == 0 and not wrap_first,
            width=None if widths is None else widths[i],
        )
    for row in rows:
        table.add_row(*row)
    return table


def _column_needs(headers: list[str], columns: list[list[str]], wrap_first: bool = False):
    """(each column's natural width, its longest word up to 24 characters, the table's own width around them)."""
    natural = [max((len(c) for c in cells + [str(h)]), default=1) for h, cells in zip(headers, columns)]
    longest = [
        min(max((len(w) for c in cells + [str(h)] for w in c.split()), default=1), 24)
        for h, cells in zip(headers, columns)
    ]
    if not wrap_first:
        longest[0] = natural[0]  # the first column never wraps
    overhead = 3 * len(headers) + 1  # one space either side of each column, a rule between and outside them
    return natural, longest, overhead


def _column_widths(
    headers: list[str], columns: list[list[str]], width: int | None, wrap_first: bool = False
) -> tuple[list[int] | None, int | None]:
    """Widths that wrap between words, never inside one, when the table does not fit as it is (None: rich decides),
    and the table's width (None: the console's).

    Each column gets at least its longest word (up to 24 characters; the first column, which never wraps, its
    longest cell). When even the longest words do not fit, rich folds them rather than drop columns.
    """
    natural, longest, overhead = _column_needs(headers, columns, wrap_first)
    if width is None or sum(natural) + overhead <= width:
        return None, sum(natural) + overhead
    if sum(longest) + overhead > width:
        return None, width
    widths, spare = list(longest), width - overhead - sum(longest)
    # Unwrap as many columns as the room allows, the cheapest first; the rest of the room widens the one that needs
    # the most.
    for i in sorted(range(len(widths)), key=lambda j: natural[j] - widths[j]):
        need = natural[i] - widths[i]
        if 0 < need <= spare:
            widths[i], spare = natural[i], spare - need
    if spare > 0:
        i = max(range(len(widths)), key=lambda j: natural[j] - widths[j])
        widths[i] += min(spare, natural[i] - widths[i])
    return widths, sum(widths) + overhead


def _stderr() -> Console:
    return Console(stderr=True, highlight=False, emoji=False)


def _write_raw(console: Console, text: str) -> None:
    console.file.write(text)
    console.file.flush()


def emit_grid(
    console: Console,
    fmt: Format,
    title: str | None,
    headers: list[str],
    rows: list[list[str]],
    records: list[dict] | dict,
    caption: str | None = None,
    first_column_style: str = "bold",
    wrap_first: bool = False,
) -> None:
    """One result in the asked format: a table from (headers, rows), or the machine form from `records`.

    `wrap_first` lets the first column wrap between words too (for a column of long text, such as a claim)."""
    match fmt:
        case Format.json:  # machine formats go to the file as they are: no wrapping, no markup (and fast)
            nulled: list[str] = []
            _write_raw(console, to_json(records, nulled) + "\n")
            if nulled:
                _stderr().print(f"warning: {nulled_warning(nulled)}", markup=False, soft_wrap=True)
        case Format.csv:
            _write_raw(console, to_csv(records if isinstance(records, list) else [records]))
        case Format.markdown:
            text = (f"**{title}**\n\n" if title else "") + to_markdown(headers, rows)
            _write_raw(console, text + (f"\n{caption}\n" if caption else ""))
        case Format.table:
            if len(headers) > 2 and not _fits_whole_words(headers, rows, console.width, wrap_first):
                # Too narrow for the columns with whole words (a number split over two lines reads as two): each
                # row as a block of (column, value) lines.
                headers, rows, wrap_first = ["", ""], _stacked(headers, rows), True
            console.print(
                grid_table(title, headers, rows, None, first_column_style, console.width, wrap_first=wrap_first)
            )
            if caption:  # wrapped by us at the table's width: rich's own caption drops a word's last character there
                columns = [[str(row[i]) for row in rows if i < len(row)] for i in range(len(headers))]
                table_width = _column_widths(headers, columns, console.width, wrap_first)[1] or console.width
                console.print(
                    Text(caption, style="table.caption", justify="left"), width=min(table_width, console.width)
                )


def _stacked(headers: list[str], rows: list[list[str]]) -> list[list[str]]:
    """The rows of a wide table as (column, value) lines, one block per row, a blank line between blocks."""
    out: list[list[str]] = []
    for i, row in enumerate(rows):
        out += [["", ""]] if i else []
        out += [[header, cell] for header, cell in zip(headers, row)]
    return out


# ---------------------------------------------------------------------------------------------------------------
# Plans


def _loss(value) -> str:
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
        ("predicted loss", _loss(plan.loss)),
    ]


def _quality_lines(plan, all_rows: bool) -> list[tuple[str, str]]:
    """A serving plan's quality (a budget's compute-optimal loss, or a target loss) and that compute-optimal model."""
    if getattr(plan, "budget_flops", None) is None:
        return [("quality set by", "-"), ("compute-optimal model", "-")] if all_rows else []
    co = plan.compute_optimal
    sized = getattr(plan, "inference", None)
    if sized is not None and sized.flops is None:  # quality given as a loss
        quality = f"target loss {_loss(sized.loss)} (compute-optimal at {fmt_sci(plan.budget_flops)} FLOPs)"
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
    if fmt is Format.table and len(plans) > 1 and not _fits_whole_words(headers, rows, console.width):
        # Too many plans side by side for the terminal: stack them, one two-column table each.
        console.print(title)
        for p, col in zip(plans, columns):  # the same rows as side by side, so the plans still compare
            console.print(grid_table(None, ["", p.name or "plan"], [list(x) for x in col], width=console.width))
        console.print(caption)
        return
    emit_grid(console, fmt, title, headers, rows, machine, caption)


def _fits_whole_words(headers, rows, width: int, wrap_first: bool = False) -> bool:
    """Whether grid_table can show these rows at `width` without breaking a word (as _column_widths plans it)."""
    columns = [[str(row[i]) for row in rows if i < len(row)] for i in range(len(headers))]
    natural, longest, overhead = _column_needs(headers, columns, wrap_first)
    return sum(natural) + overhead <= width or sum(longest) + overhead <= width


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
            _loss(r["loss"]),
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
            _write_raw(console, "\n")
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
        ("predicted loss", _loss(plan.loss)),
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
            _loss(r["loss"]),
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
    caption = (
        f"{fmt_count(d['params'])} parameters on {fmt_count(d['tokens'])} tokens = {fmt_flops(d['flops'])}"
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
        ("predicted loss", _loss(plan.loss)),
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


# ---------------------------------------------------------------------------------------------------------------
# Precision (scaleplan precision): each law's penalty in its own loss


def _signed_pct(x) -> str:
    return "-" if x is None else f"{100 * x:+.2f}%"


def precision_records(report) -> list[dict]:
    """CSV rows of a PrecisionReport: one per table row, tagged with its table."""
    r = report.to_dict()
    rows = [
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


def emit_precision(console: Console, fmt: Format, report) -> None:
    """The three tables of `scaleplan precision` (json: the whole report; csv: every row tagged by table)."""
    if fmt is Format.json:
        return emit_grid(console, fmt, None, [], [], report.to_dict())
    if fmt is Format.csv:
        return emit_grid(console, fmt, None, [], [], precision_records(report))
    _cost_optimal_precision_table(console, fmt, report)
    _gap(console, fmt)
    _training_precision_table(console, fmt, report)
    if report.quantization is not None:
        _gap(console, fmt)
        _serving_precision_table(console, fmt, report.quantization)


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
        "at N = " + fmt_count(report.params) + ", D = " + fmt_count(report.tokens)
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
        _memory_table(console, fmt, plan.layout, c.hardware)


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


def _memory_table(console: Console, fmt: Format, lp, hardware: str) -> None:
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


# Published checks (scaleplan laws check)


def _check_number(x, zeros: bool = False) -> str:
    """One format for a column of published and recomputed numbers: four significant figures, written plainly from
    0.001 to 10,000 and as 3.993e8 (no '+', no padded exponent) outside. `zeros` keeps trailing zeros (a computed
    1.800e5 has four figures); a published number keeps the figures it was printed with (4e8)."""
    if x is None:
        return "-"
    x = float(x)
    if x != 0 and (abs(x) >= 1e4 or abs(x) < 1e-3):
        mantissa, _, exponent = f"{x:.3e}".partition("e")
        if not zeros:
            mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}e{int(exponent)}"
    return f"{x:#.4g}".rstrip(".") if zeros else f"{x:.4g}"


def _plain_exponents(text: str) -> str:
    """'1.92e+19' -> '1.92e19', '4e+08' -> '4e8': the claim texts' numbers in the table's notation."""
    import re

    return re.sub(r"(\d)e([+-]?)0*(\d)", lambda m: f"{m[1]}e{'-' if m[2] == '-' else ''}{m[3]}", text)


def emit_checks(console: Console, fmt: Format, results: list, constants: str = "") -> None:
    """claim | source | published | scaleplan | difference | verdict, one row per published claim; `constants` (the
    count of bundled constants the claims read, and of those with no published value) closes the caption."""
    import re

    rows = []
    for r in results:
        c = r.check
        diff = "-" if r.difference is None else f"{100 * r.difference:+.2f}%"
        tol = c.tolerance
        allowed = f"±{_check_number(tol['abs'])}" if "abs" in tol else f"±{100 * tol['rel']:g}%"
        bound = {"at_least": "≥ ", "at_most": "≤ "}.get(c.compare, "")
        source = re.sub(r" \(arXiv:[^)]*\)", "", short_source(c.where))
        if source.count("(") > source.count(")"):  # cut at '; ' or ': ' inside a parenthesis
            source = source[: source.rfind("(")].rstrip()
        # a path too long for a column (owner/repository) may wrap after its slash
        source = re.sub(r"\S{25,}", lambda m: m.group().replace("/", "/ "), source)
        rows.append(
            [
                _plain_exponents(c.claim),
                _plain_exponents(source),
                bound + _check_number(c.published),
                _check_number(r.value, zeros=True),
                f"{diff} ({allowed})",
                r.verdict,
            ]
        )
    counts = {v: sum(r.verdict == v for r in results) for v in ("pass", "fail", "skipped")}
    caption = (
        f"{len(results)} published claims: {counts['pass']} pass, {counts['fail']} fail, {counts['skipped']} "
        "skipped. Published and scaleplan to four significant figures. Difference: scaleplan / published - 1 "
        "(allowed: the tolerance the printed rounding allows)."
    )
    if counts["skipped"]:
        caption += " " + next(r.reason for r in results if r.verdict == "skipped")
    if constants:
        caption += " " + constants
    headers = ["claim", "source", "published", "scaleplan", "difference", "verdict"]
    if fmt is Format.table and not _fits_whole_words(headers, rows, console.width, wrap_first=True):
        # Too narrow for two columns of text with whole words: the source goes under its claim.
        headers = ["claim and source", *headers[2:]]
        rows = [[f"{row[0]}\nsource: {row[1]}", *row[2:]] for row in rows]
    emit_grid(
        console,
        fmt,
        "Published claims, recomputed",
        headers,
        rows,
        [r.to_dict() for r in results],
        caption,
        first_column_style="",
        wrap_first=True,
    )


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


# ---------------------------------------------------------------------------------------------------------------
# The reference commands' tables: laws, hardware, vocab, hparams, flops, fit, sweep


def emit_laws(console: Console, fmt: Format, entries: list, default: str) -> None:
    """Every bundled law grouped by kind (laws.catalogue): kind | law | source | arXiv | status; an allocation law's
    exponent, N convention and fitted FLOPs ride in the machine formats."""
    records, rows = [], []
    last_kind = None
    for e in entries:
        record = e.to_dict()
        if e.law is not None:
            law = e.law
            low, high = law.fitted_range.get("flops", (None, None))
            a, b = law.exponents
            record |= {
                "form": law.form,
                "params_convention": law.params_convention,
                "a": a,
                "b": b,
                "fitted_flops": [low, high],
                "predicts_loss": law.predicts_loss,
                "citation": law.short_cite,
                "default": law.name == default,
            }
        records.append(record)
        rows.append(
            [
                "" if e.kind == last_kind else e.kind.replace(" ", "\n"),
                e.name + (" *" if e.name == default else ""),
                e.arxiv or e.source,
                e.status_label,
            ]
        )
        last_kind = e.kind
    emit_grid(
        console,
        fmt,
        "Bundled laws",
        ["kind", "law", "arXiv or source", "status"],
        rows,
        records,
        "* the default. Details: scaleplan laws show NAME; the published numbers each reproduces: scaleplan laws "
        "check NAME",
        first_column_style="",
    )


def emit_entry(console: Console, fmt: Format, entry) -> None:
    """`laws show NAME` for a law that is not an allocation law: the rows its catalogue entry reads from its file."""
    rows = [["kind", entry.kind], ["title", entry.title], ["aliases", ", ".join(entry.aliases) or "-"]]
    rows += [[label, text] for label, text in entry.rows]
    rows.append(["file", entry.file])
    emit_grid(console, fmt, f"Law: {entry.name}", ["", "value"], rows, entry.to_dict())


def emit_law(console: Console, fmt: Format, law, conventions: dict) -> None:
    a, b = law.exponents
    record = {
        "law": law.name,
        "title": law.title,
        "aliases": list(law.aliases),
        "form": law.form,
        "equation": law.equation,
        "constants": law.constants,
        "a": a,
        "b": b,
        "loss": law.loss_spec,
        "loss_units": law.loss_units,
        "params_convention": law.params_convention,
        "flop_convention": law.flop_convention,
        "fitted_range": {k: list(v) for k, v in law.fitted_range.items()},
        "model": law.model,
        "citation": law.citation,
        "status": law.status,
        "notes": list(law.notes),
    }
    rows = [
        ["title", law.title],
        ["aliases", ", ".join(law.aliases) or "-"],
        ["form", law.equation],
        ["constants", ", ".join(f"{k} = {v:g}" for k, v in law.constants.items())],
        ["exponents", f"a = {a:.4f} (N ~ C^a), b = {b:.4f} (D ~ C^b)"],
    ]
    if law.loss_spec:
        rows.append(["loss law", law.loss_description])
    rows += [
        ["loss units", law.loss_units or "predicts no loss"],
        ["N counts", conventions[law.params_convention]],
        ["FLOPs", law.flop_convention],
    ]
    rows += [[f"fitted {k}", f"{fmt_sci(v[0])} .. {fmt_sci(v[1])}"] for k, v in law.fitted_range.items()]
    rows += [
        [
            "citation",
            f"{law.citation.get('authors')} ({law.citation.get('year')}). {law.citation.get('title')}. "
            f"arXiv:{law.citation.get('arxiv')}",
        ],
        ["where", str(law.citation.get("where", "-"))],
        ["status", law.status],
    ]
    rows += [["note", n] for n in law.notes]
    emit_grid(console, fmt, f"Law: {law.name}", ["", "value"], rows, record)


def emit_hardware(console: Console, fmt: Format, presets: list) -> None:
    def num(v, f="{:g}"):
        return "-" if v is None else f.format(v)

    def tf(v):
        return "-" if v is None else f"{v / 1e12:.0f}"

    rows = [
        [
            hw.key,
            tf(hw.peak_flops),
            tf(hw.fp8_flops),
            tf(hw.fp4_flops),
            num(hw.memory_vendor, "{}"),
            num(hw.hbm_tb_s, "{:.3g}"),
            num(hw.power_w),
            num(hw.scaleup_gb_s),
            num(hw.price_per_hour, "${:.2f}"),
        ]
        for hw in presets
    ]
    emit_grid(
        console,
        fmt,
        "Hardware presets (dense peak TFLOP/s, never sparse)",
        ["preset", "BF16", "FP8", "FP4", "HBM", "TB/s", "W", "link", "$/h"],
        rows,
        [hw.to_dict() for hw in presets],
        "TB/s: HBM bandwidth. link: scale-up GB/s per device. -: not published,\n"
        "conflicting or no such path (the reason: -f json). $/h: a dated on-demand\n"
        "listing or Sardana et al.'s default (sources: -f json), an assumption.",
    )


def emit_vocab(console: Console, fmt: Format, result) -> None:
    r = result.to_dict()
    rows = [
        ["vocabulary", f"{r['vocab']:,}"],
        ["unrounded", fmt_number(r["vocab_exact"])],
        ["rounded to a multiple of", str(r["multiple"])],
        ["vocabulary params (V x d)", fmt_count(r["vocab_params"])],
        ["non-vocabulary params", fmt_count(r["non_vocab_params"])],
        ["d_model", f"{r['d_model']:,}"],
        ["approach", r["approach"]],
    ]
    rows += [[f"also: {k}", f"{v:,}"] for k, v in r["alternatives"].items()]
    emit_grid(console, fmt, "Optimal vocabulary", ["", "value"], rows, r, f"Source: {short_source(r['citation'])}")


def emit_hparams(console: Console, fmt: Format, rows_: list) -> None:
    rows = [
        [
            row.law + (" (default)" if row.default else ""),
            "-" if row.learning_rate is None else fmt_sci(row.learning_rate, always=True),
            fmt_count(row.batch_tokens),
            f"{row.batch_sequences:,}",
        ]
        for row in rows_
    ]
    caption = "\n".join(f"{row.law}: {short_source(row.citation)}" for row in rows_)
    emit_grid(
        console,
        fmt,
        f"Learning rate and batch size (sequences of {rows_[0].context:,} tokens)",
        ["law", "learning rate", "batch tokens", "batch seqs"],
        rows,
        [row.to_dict() for row in rows_],
        caption,
    )


def emit_flops(console: Console, fmt: Format, shape, count) -> None:
    record = {"shape": shape.to_dict(), **count.to_dict()}
    rows = [[k.replace("_", " "), fmt_sci(v)] for k, v in count.to_dict()["breakdown"].items()]
    rows += [
        ["forward, per token", fmt_sci(count.forward)],
        ["training (3 x forward)", fmt_sci(count.flops_per_token)],
        ["parameters N", fmt_count(count.params)],
        ["6N", fmt_sci(count.six_n)],
        ["ratio to 6N", f"{count.ratio:.4f}"],
        ["DeepSeek M", fmt_sci(count.deepseek_m)],
    ]
    emit_grid(
        console,
        fmt,
        "FLOPs per token (training = forward + backward)",
        ["term", "FLOPs/token"],
        rows,
        record,
        f"Source: {short_source(count.citation)}",
    )


def emit_sweep(console: Console, fmt: Format, design) -> None:
    rows = [
        [str(r.level), fmt_sci(r.flops), fmt_count(r.params), fmt_count(r.tokens), fmt_number(r.tokens / r.params)]
        for r in design.rows
    ]
    emit_grid(
        console,
        fmt,
        "IsoFLOP sweep design",
        ["level", "FLOPs", "params", "tokens", "tokens/param"],
        rows,
        design.to_dict(),
        f"Total {fmt_sci(design.total_flops)} FLOPs of a {fmt_sci(design.budget_flops)} budget; "
        f"target {fmt_sci(design.target_flops)} is {fmt_number(design.extrapolation)}x the largest level. "
        f"Sizes centred on {design.law}'s optimum.",
    )


def _constant_rows(fit, boot) -> tuple[list[str], list[list[str]]]:
    """The fitted constants with their bootstrap intervals, as (headers, rows)."""
    rows = []
    for key in ("E", "A", "B", "alpha", "beta", "a", "b"):
        row = [key, f"{getattr(fit, key):.5g}"]
        if boot is not None:
            row += [f"{lo:.4g} .. {hi:.4g}" for lo, hi in boot.intervals[key].values()]
        rows.append(row)
    return ["constant", "estimate"] + ([f"{k} interval" for k in boot.intervals["E"]] if boot else []), rows


def _or_dash(value, fmt) -> str:
    """A number as `fmt` writes it, or '-' where there is none (a fit that implies no allocation)."""
    import math

    return "-" if value is None or not math.isfinite(value) else fmt(value)


def _allocation_tables(console: Console, fmt: Format, allocation: list[dict], boot) -> None:
    """The implied compute-optimal allocation of a fitted law, and its bootstrap intervals."""
    _gap(console, fmt)
    emit_grid(
        console,
        fmt,
        "Implied compute-optimal allocation",
        ["budget", "params", "tokens", "tokens/param", "loss"],
        [
            [
                fmt_sci(a["flops"]),
                _or_dash(a["params"], fmt_count),
                _or_dash(a["tokens"], fmt_count),
                _or_dash(a["tokens_per_param"], fmt_number),
                _or_dash(a["loss"], lambda v: f"{v:.3f}"),
            ]
            for a in allocation
        ],
        {},
    )
    if boot is None:
        return
    _gap(console, fmt)
    rows = []
    for row in boot.to_dict()["allocation"]:
        for level, (lo, hi) in row["intervals"]["params"].items():
            t_lo, t_hi = row["intervals"]["tokens"][level]
            rows.append(
                [
                    fmt_sci(row["flops"]),
                    level,
                    f"{_or_dash(lo, fmt_count)} .. {_or_dash(hi, fmt_count)}",
                    f"{_or_dash(t_lo, fmt_count)} .. {_or_dash(t_hi, fmt_count)}",
                ]
            )
    emit_grid(
        console,
        fmt,
        f"Bootstrap intervals ({boot.n} resamples)",
        ["budget", "level", "params", "tokens"],
        rows,
        {},
        f"Intervals are {boot.to_dict()['interval']} of the refits; {boot.to_dict()['interval_why']}.",
    )


def _gap(console: Console, fmt: Format) -> None:
    console.print() if fmt is Format.table else console.out("")


def emit_fit(console: Console, fmt: Format, runs, parametric, boot, iso, bias=None, budgets=(1e21, 1e23, 1e25)) -> None:
    """`scaleplan fit` (Huber on log loss): the constants, the implied allocation, the isoFLOP minima."""
    if runs is not None:
        caption = f"{runs.summary().get('n_runs', len(runs))} runs from {runs.source}"
    else:  # a fit rendered by itself (ParametricFit.to_table): its residuals count the runs
        caption = f"{len(parametric.residuals) if parametric is not None else 0} runs"
    if parametric is not None:
        headers, rows = _constant_rows(parametric, boot)
        r = parametric.residuals
        emit_grid(
            console,
            fmt,
            "Fitted law: L = E + A/N^alpha + B/D^beta (Huber, delta 1e-3, on log loss)",
            headers,
            rows,
            {},
            f"{caption}; residual RMS {float((r * r).mean() ** 0.5):.4f} in log loss; "
            f"objective {parametric.objective:.6g}. Method: Hoffmann et al. 2022 App. D.2, Besiroglu et al. 2024.",
        )
        budgets = [a["flops"] for a in boot.to_dict()["allocation"]] if boot else budgets
        _allocation_tables(console, fmt, parametric.allocation(budgets), boot)
    if iso is not None:
        if parametric is not None:
            _gap(console, fmt)
        rows = [
            [fmt_sci(lv.flops), fmt_count(lv.params_opt), fmt_count(lv.tokens_opt), str(lv.n_runs)] for lv in iso.levels
        ]
        emit_grid(
            console,
            fmt,
            "IsoFLOP minima (Approach 2)",
            ["FLOPs", "params", "tokens", "runs"],
            rows,
            {},
            f"N_opt = {iso.n_coef:.4g} C^{iso.a:.4f}; D_opt = {iso.d_coef:.4g} C^{iso.b:.4f}",
        )
        if bias is not None:
            _gap(console, fmt)
            emit_grid(
                console,
                fmt,
                "Approach 2 against the parametric fit",
                ["budget", "tokens (A2)", "tokens (A3)", "A2 / A3"],
                [
                    [
                        fmt_sci(b["flops"]),
                        fmt_count(b["tokens_isoflop"]),
                        fmt_count(b["tokens_parametric"]),
                        f"{b['tokens_ratio']:.2f}",
                    ]
                    for b in bias
                ],
                {},
                "Czech (Open-Athena) finds Approach 2 over-estimating compute-optimal tokens (58-75% on Llama 3's "
                "isoFLOP data).",
            )


def emit_fit_vp(console: Console, fmt: Format, runs, vp, boot, allocation: list[dict]) -> None:
    """`scaleplan fit --method vp` (least squares on the loss): the constants and the implied allocation."""
    import numpy as np

    headers, rows = _constant_rows(vp, boot)
    pad = [""] * (len(headers) - 2)
    rows += [
        ["RSS", f"{vp.rss:.6g}", *pad],
        ["residual RMS", f"{float(np.sqrt(np.mean(vp.residuals**2))):.4f}", *pad],
        ["rows fitted", f"{len(runs) if runs is not None else len(vp.residuals):,}", *pad],
    ]
    emit_grid(
        console,
        fmt,
        "Fitted law, least squares on the loss",
        headers,
        rows,
        {},
        "L = E + A/N^alpha + B/D^beta by variable projection (E. Czech, Open-Athena)"
        + (f"; {boot.n} bootstrap refits" if boot else "")
        + ".",
    )
    _allocation_tables(console, fmt, allocation, boot)


def moe_cost_lines(cost) -> list[tuple[str, str]]:
    """cost_lines of a mixture of experts: serving is priced from the active parameters (a token's forward pass
    touches only the active experts)."""
    return [
        ("inference FLOPs (2 N_active/token)" if k.startswith("inference FLOPs") else k, v) for k, v in cost_lines(cost)
    ]


# ---------------------------------------------------------------------------------------------------------------
# A given model checked against the laws (scaleplan check)


def check_lines(check) -> list[tuple[str, str]]:
    """(label, value) rows of `scaleplan check`: the exact counts and the config's choices against the laws."""
    d = check.to_dict()
    s = check.shape
    kv = getattr(s, "kv_heads", s.heads)
    default = next((r for r in d["hparams"] if r["default"]), d["hparams"][0] if d["hparams"] else None)
    law_row = next((r for r in d["rows"] if r["law"] == check.law), d["rows"][0] if d["rows"] else None)
    lines = [
        ("config", f"{d['config']} ({d['format']})"),
        (
            "shape",
            f"{s.layers} x {s.d_model:,}, {s.heads} heads" + (f" ({kv} KV)" if kv != s.heads else "") + f", d_ff "
            f"{s.d_ff:,}, context {s.context:,}" + (", tied" if s.tied_embeddings else ""),
        ),
        ("parameters", f"{d['params_total']:,} (non-embedding {d['params_non_embedding']:,})"),
        ("FLOPs/token, App. F", f"{fmt_sci(d['flops_per_token'])} = {d['flops_per_token'] / d['six_n']:.3f} x 6N"),
        ("training tokens", f"{fmt_count(d['tokens'])} ({d['tokens_source']})"),
    ]
    if law_row is not None:
        lines.append(
            (
                "tokens per parameter",
                f"{fmt_number(d['tokens_per_param'])}; compute-optimal ({law_row['law']}) "
                f"{fmt_number(law_row['optimal_tokens_per_param'])}: {fmt_number(law_row['overtraining'])}x",
            )
        )
    ia = d["inference_aware"]
    if ia is not None:
        lines.append(
            (
                f"inference-aware ({ia['law']})",
                f"{fmt_count(ia['params'])} params on {fmt_count(ia['tokens'])} tokens "
                f"(D/N {fmt_number(ia['tokens_per_param'])}) reach loss {ia['loss']:.3f} serving "
                f"{fmt_count(ia['inference_tokens'])} tokens",
            )
        )
    if d["learning_rate_given"] is not None:
        lines.append(
            ("learning rate", f"{fmt_sci(d['learning_rate_given'], always=True)} ({d['learning_rate_source']})")
        )
    for r in d["hparams"]:
        if r["learning_rate"] is None:
            continue
        ratio = "" if r["given_lr_ratio"] is None else f"; given is {fmt_number(r['given_lr_ratio'])}x"
        lines.append((f"  LR law {r['law']}", f"{fmt_sci(r['learning_rate'], always=True)}{ratio}"))
    if d["batch_tokens_given"] is not None:
        lines.append(("batch", f"{fmt_count(d['batch_tokens_given'])} tokens ({d['batch_source']})"))
    for r in d["hparams"]:
        ratio = "" if r["given_batch_ratio"] is None else f"; given is {fmt_number(r['given_batch_ratio'])}x"
        lines.append((f"  batch law {r['law']}", f"{fmt_count(r['batch_tokens'])} tokens{ratio}"))
    lines.append(
        (
            "vocabulary",
            f"{d['vocab']:,}; Tao et al. 2024's optimum at this size and width: {d['vocab_optimal']:,}",
        )
    )
    if default is None:
        lines.append(("recipe laws", "none applies"))
    return lines


def emit_check(console: Console, fmt: Format, check) -> None:
    """`scaleplan check`: the model judged by every law, then its counts and choices against the recipe laws."""
    d = check.to_dict()
    if fmt in (Format.json, Format.csv):
        records: list[dict] | dict = d
        if fmt is Format.csv:
            model = {k: v for k, v in d.items() if k not in ("rows", "warnings")}
            records = [{**row, **flatten({"model": model}), "warnings": d["warnings"]} for row in d["rows"]]
        emit_grid(console, fmt, None, [], [], records)
        return
    from dataclasses import replace

    emit_overtrain(console, fmt, replace(check.report, recipe=None), check.report.cost)
    console.print() if fmt is Format.table else console.out("")
    extra = cluster_lines(check.report.cluster) if getattr(check.report, "cluster", None) is not None else []
    emit_grid(
        console,
        fmt,
        "The model against the recipe laws",
        ["", "value"],
        [list(x) for x in check_lines(check) + extra],
        {},
        "LR and batch laws: their peak rates are cosine peaks; 'given is' = the config's (or --lr, --batch) "
        "value over the law's.",
    )


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


# ---------------------------------------------------------------------------------------------------------------
# Results render themselves: the one path from any result to its table, for the CLI and for `result.to_table()`


def _emit_each(emit_one):
    """An emitter of one scalar result applied to each budget of a vectorised one, a blank line between."""

    def emit_all(console: Console, fmt: Format, result) -> None:
        for i, one in enumerate(result if np.ndim(result.flops) else [result]):
            if i:
                _gap(console, fmt)
            emit_one(console, fmt, one)

    return emit_all


def _emit_inference_plan(console: Console, fmt: Format, plan) -> None:
    from ..pipeline.inference import describe_break_even

    if np.ndim(plan.inference_tokens):
        emit_inference_sweep(console, fmt, list(plan), describe_break_even(plan))
    else:
        emit_inference(console, fmt, plan, describe_break_even(plan))


def _emit_fit(console: Console, fmt: Format, fit) -> None:
    """A parametric fit by itself: its constants and implied allocation (the CLI's `fit` adds the runs, bootstrap
    and isoFLOP tables)."""
    if fmt in (Format.json, Format.csv):
        return emit_grid(console, fmt, None, [], [], fit.to_dict())
    if fit.estimator == "vp":  # the one ParametricFit type: a least-squares fit has its own table
        return emit_fit_vp(console, fmt, None, fit, None, fit.allocation((1e21, 1e23, 1e25)))
    emit_fit(console, fmt, None, fit, None, None)


def _emit_isoflop(console: Console, fmt: Format, iso) -> None:
    """Approach 2 by itself: the minimum of each FLOP level and the power laws through them."""
    rows = [
        [fmt_sci(lv.flops), fmt_count(lv.params_opt), fmt_count(lv.tokens_opt), str(lv.n_runs)] for lv in iso.levels
    ]
    emit_grid(
        console,
        fmt,
        "IsoFLOP minima (Approach 2)",
        ["FLOPs", "params", "tokens", "runs"],
        rows,
        iso.to_dict() if fmt is Format.json else [dict(vars(lv)) for lv in iso.levels],
        f"N_opt = {iso.n_coef:.4g} C^{iso.a:.4f}; D_opt = {iso.d_coef:.4g} C^{iso.b:.4f}",
    )


def _emit_cost(console: Console, fmt: Format, cost) -> None:
    rows = [list(pair) for pair in cost_lines(cost)]
    emit_grid(console, fmt, "Training cost", ["", "value"], rows, cost.to_dict())


def _emit_layout(console: Console, fmt: Format, layout) -> None:
    if fmt in (Format.json, Format.csv):
        return emit_grid(console, fmt, None, [], [], layout.to_dict())
    _memory_table(console, fmt, layout, layout.hardware)


_EMITTERS = {
    "Plan": lambda console, fmt, plan: emit_plans(console, fmt, list(plan)),
    "ConstrainedPlan": _emit_each(lambda console, fmt, p: emit_constrained(console, fmt, p, p.cost)),
    "MoePlan": _emit_each(lambda console, fmt, p: emit_moe(console, fmt, p, p.cost)),
    "OvertrainReport": lambda console, fmt, r: emit_overtrain(console, fmt, r, r.cost),
    "FixedMoePlan": emit_fixed_moe,
    "InferencePlan": _emit_inference_plan,
    "PrecisionReport": emit_precision,
    "ClusterPlan": emit_cluster,
    "Serving": lambda console, fmt, s: emit_serving(console, fmt, [("model", s)], "Serving"),
    "Comparison": emit_comparison,
    "ParametricFit": _emit_fit,  # either estimator (scaleplan.VPFit is the same type)
    "Sweep": emit_sweep,
    "VocabResult": emit_vocab,
    "IsoflopFit": _emit_isoflop,
    "CostBreakdown": _emit_cost,
    "LayoutPlan": _emit_layout,
}


def emit(console: Console, fmt: Format, result) -> None:
    """Any result in `fmt`, by its own table: what the CLI prints and `result.to_table()` returns."""
    emitter = _EMITTERS.get(type(result).__name__)
    if emitter is None:  # a plan of another type with the Plan's fields
        emitter = _EMITTERS["Plan"] if hasattr(result, "params_convention") else None
    if emitter is None:
        from ..core.errors import ScaleplanError

        raise ScaleplanError(f"no table for a {type(result).__name__}")
    emitter(console, fmt, result)


TABLE_FORMATS = ("text", "markdown", "csv", "json")


def render_result(result, fmt: str = "text", width: int | None = None) -> str:
    """`result.to_table(fmt, width)`: the CLI's table as text (plain, `width` columns), markdown, CSV or JSON;
    "notebook" is the summary and the markdown table (a notebook's `_repr_markdown_`)."""
    import io

    from ..core.errors import ScaleplanError

    if fmt not in (*TABLE_FORMATS, "notebook"):
        raise ScaleplanError(f"<fmt> must be one of {', '.join(TABLE_FORMATS)}, got {fmt!r}")
    if width is not None and (isinstance(width, bool) or not isinstance(width, int) or not 40 <= width <= 1000):
        raise ScaleplanError(f"<width> must be a whole number of columns from 40 to 1000, got {width!r}")
    buf = io.StringIO()
    console = Console(
        file=buf,
        width=width or 100,
        color_system=None,
        force_terminal=False,
        highlight=False,
        markup=False,
        emoji=False,
    )
    kind = {"text": Format.table, "notebook": Format.markdown}.get(fmt) or Format(fmt)
    if fmt == "notebook":
        print_answer(console, Format.markdown, result)
    emit(console, kind, result)
    text = buf.getvalue()
    return "".join(line.rstrip() + "\n" for line in text.splitlines()) if kind is Format.table else text


# ---------------------------------------------------------------------------------------------------------------
# The answer first, then the warnings grouped (scaleplan.present.answer)


def print_answer(console: Console, fmt: Format, result, title: str | None = None) -> None:
    """The answer's lines at the top of a planning command: what breaks the budget first, then the model and the
    run (table: coloured where the terminal allows; markdown: a list; the machine formats carry it in their data).
    `result` may be the lines themselves (scaleplan.present.answer.Line); `title` names a scenario among several."""
    from .answer import answer

    lines = result if isinstance(result, list) else answer(result)
    if fmt is Format.markdown:
        head = f"**{printable(title)}**\n\n" if title else ""
        _write_raw(console, head + "".join(f"- **{x.label}**: {printable(x.text)}\n" for x in lines) + "\n")
    elif fmt is Format.table:
        if title:
            console.print(Text(printable(title), style="bold underline"))
        for line in lines:
            style = "bold red" if line.alert else "bold"
            console.print(Text.assemble((f"{line.label}: ", style), printable(line.text)), soft_wrap=False)
        console.print()


def print_warnings(console: Console, warnings, with_breaks: bool = True) -> None:
    """Each warning once on `console` (stderr): every extrapolation in one line, 'warning:' in yellow where the
    terminal allows. `with_breaks=False` leaves out what the answer already said (over the budget, past a limit)."""
    from .answer import sort_warnings

    for w in sort_warnings(warnings).lines(with_breaks):
        console.print(Text.assemble(("warning: ", "yellow"), printable(w)), soft_wrap=True)
