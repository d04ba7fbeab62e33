"""The reference commands' tables: published checks, laws, hardware, vocabulary, hyperparameters, FLOPs per
token, sweep designs, and a given model checked against the laws.
"""

from __future__ import annotations

from rich.console import Console

from ..schema.units import (
    fmt_count,
    fmt_number,
    fmt_sci,
)
from .plan_rows import cluster_lines
from .plan_tables import emit_overtrain
from .tables import Format, emit_grid, fits_whole_words, flatten, short_source

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
    if fmt is Format.table and not fits_whole_words(headers, rows, console.width, wrap_first=True):
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
