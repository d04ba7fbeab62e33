"""Reference commands: laws (list, show, check), hardware, vocab, hparams, flops and init."""

# Annotations stay source text until typer builds the command that runs (scaleplan.cli.main): building all
# ~150 typer.Option objects at import would cost ~2.5 ms of every command's start-up.
from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Optional

import typer

from .. import laws as laws_mod
from ..core.errors import ScaleplanError
from ..present.render import Format
from ..schema import fields, limits
from ..schema.conventions import DEFAULT_CONTEXT
from .base import (
    Group,
    app,
    err,
    flops_flag,
    model_size,
    out,
    size_flags,
    warn,
)
from .options import (
    ContextOpt,
    DModelOpt,
    FormatOpt,
    option,
)

laws_app = typer.Typer(cls=Group, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
app.add_typer(laws_app, name="laws")


@laws_app.callback()
def laws_list(ctx: typer.Context, fmt: FormatOpt = Format.table):
    """List every bundled law, grouped by kind (allocation, recipe, MoE, precision, training curves, serving
    defaults), with its source, arXiv id and status.

    Example: scaleplan laws
    """
    if ctx.invoked_subcommand is not None:
        return
    from ..laws import catalogue
    from ..present.render import emit_laws

    emit_laws(out, fmt, list(catalogue.entries()), laws_mod.DEFAULT_LAW)


@laws_app.command("show")
def laws_show(
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="Any bundled law (see `scaleplan laws`), an alias, or a law file.")
    ],
    fmt: FormatOpt = Format.table,
):
    """Show one law: form, constants, conventions, fitted range, citation and status. Any bundled law: allocation,
    recipe (tao2024, steplaw, deepseek-lr-batch, porian-lr-batch, kaplan-bcrit), MoE (krajewski), precision (sun,
    ouyang, kumar), training curves (tissue), serving defaults (serving); or a law file.

    Example: scaleplan laws show epoch

    Example: scaleplan laws show steplaw
    """
    from ..laws import catalogue
    from ..present.render import emit_entry, emit_law

    if str(name).strip().endswith((".yaml", ".yml")):
        emit_law(out, fmt, laws_mod.get(name), laws_mod.PARAMS_CONVENTIONS)
        return
    entry = catalogue.get(name)
    if entry.law is not None:
        emit_law(out, fmt, entry.law, laws_mod.PARAMS_CONVENTIONS)
    else:
        emit_entry(out, fmt, entry)


@app.command()
def hardware(
    hardware_file: Annotated[
        Optional[str],
        typer.Option(
            "--hardware-file",
            help="A YAML file of presets that adds to or overrides the bundled ones (default: scaleplan/hardware.yaml in $XDG_CONFIG_HOME, if present).",
        ),
    ] = None,
    fmt: FormatOpt = Format.table,
):
    """List the hardware presets: dense peak FLOP/s per precision, HBM, bandwidth, power, links, price.

    Example: scaleplan hardware
    Example: scaleplan hardware -f json
    """
    from ..cluster.cost import presets
    from ..present.render import emit_hardware

    emit_hardware(out, fmt, list({hw.key: hw for hw in presets(hardware_file).values()}.values()))


def _recipe():
    from ..recipe import design as recipe  # the recipe tables load only for the commands that use them

    return recipe


@app.command()
def vocab(
    params: Annotated[Optional[str], option("params", help="Total parameters, e.g. 70e9 or 7B.")] = None,
    non_vocab_params: Annotated[
        Optional[str], typer.Option("--non-vocab-params", help="Non-vocabulary parameters (Tao et al.'s N_nv).")
    ] = None,
    flops: Annotated[Optional[str], option("flops", help="Training FLOPs (Tao et al.'s IsoFLOP approach).")] = None,
    d_model: DModelOpt = None,
    fmt: FormatOpt = Format.table,
):
    """The compute-optimal vocabulary size (Tao et al. 2024), rounded to a multiple of 128.

    Example: scaleplan vocab --params 70e9
    Example: scaleplan vocab --flops 2.3e21
    """
    given = [x for x in (params, non_vocab_params, flops) if x is not None]
    if len(given) != 1:
        raise ScaleplanError("give one of --params, --non-vocab-params or --flops")
    (width,) = size_flags(d_model=d_model)
    result = _recipe().optimal_vocab(
        non_vocab_params=model_size(non_vocab_params, "non_vocab_params"),
        flops=flops_flag(flops),
        params_total=model_size(params),
        d_model=width,
    )
    warn(result.warnings)
    from ..present.render import emit_vocab

    emit_vocab(out, fmt, result)


@app.command()
def hparams(
    params: Annotated[Optional[str], option("params", help="Total parameters, e.g. 7B.")] = None,
    tokens: Annotated[Optional[str], option("tokens", help="Training tokens, e.g. 2T.")] = None,
    flops: Annotated[Optional[str], option("flops", help="Training FLOPs (DeepSeek's laws use compute).")] = None,
    loss: Annotated[
        Optional[float], typer.Option("--loss", help="Predicted loss in nats, for Kaplan's critical batch.")
    ] = None,
    law: Annotated[
        Optional[str],
        typer.Option(
            "--law", "-l", help="Which law is the default: steplaw, deepseek, porian, kaplan-bcrit, steplaw-paper."
        ),
    ] = None,
    context: ContextOpt = None,
    fmt: FormatOpt = Format.table,
):
    """Peak learning rate and batch size from every law that applies, side by side.

    Example: scaleplan hparams --params 7B --tokens 2T
    Example: scaleplan hparams --flops 1e21 --law deepseek
    """
    rec = _recipe()
    (ctx,) = size_flags(context=context)
    if loss is not None and not (math.isfinite(loss) and 0.1 <= loss <= 20):
        # ln(1e6) = 13.8 nats is the loss of guessing uniformly over a million-token vocabulary; published
        # language-model losses stay above 1 nat
        raise ScaleplanError(f"--loss must be a positive number of nats from 0.1 to 20, got {loss:g}")
    rows_ = rec.hyperparameters(
        params=model_size(params),
        tokens=fields.optional("tokens", tokens),
        flops=flops_flag(flops),
        loss=loss,
        law=law,
        context=ctx or DEFAULT_CONTEXT,
    )
    warn(w for row in rows_ for w in row.warnings)
    from ..present.render import emit_hparams

    emit_hparams(out, fmt, rows_)


@app.command()
def flops(
    layers: Annotated[int, typer.Option("--layers", help="Number of transformer layers.")],
    d_model: Annotated[int, typer.Option("--d-model", help="Model width.")],
    heads: Annotated[int, typer.Option("--heads", help="Attention heads.")],
    vocab: Annotated[int, typer.Option("--vocab", help="Vocabulary size.")],
    d_ff: Annotated[Optional[int], typer.Option("--d-ff", help="Feed-forward width (default 4 x d_model).")] = None,
    head_dim: Annotated[
        Optional[int], typer.Option("--head-dim", help="Per-head width (default d_model / heads).")
    ] = None,
    context: ContextOpt = None,
    fmt: FormatOpt = Format.table,
):
    """Training FLOPs per token of a network, counted as in Chinchilla's Appendix F, next to 6N.

    Example: scaleplan flops --layers 80 --d-model 8192 --heads 64 --d-ff 32768 --vocab 32000 --context 2048
    """
    given = {"--layers": layers, "--d-model": d_model, "--heads": heads, "--vocab": vocab}
    for flag, size in {**given, "--d-ff": d_ff, "--head-dim": head_dim}.items():
        if size is not None:  # sizes of a given network, not pins of a designed one
            fields.whole(size, flag, 1, limits.MAX_SHAPE)
    seq: int = fields.optional("context", context) or DEFAULT_CONTEXT
    rec = _recipe()
    if head_dim is None:
        if heads <= 0 or d_model % heads:
            raise ScaleplanError(f"--heads {heads} must divide --d-model {d_model} (or give --head-dim)")
        head_dim = d_model // heads
    shape = rec.Shape(
        layers=layers,
        d_model=d_model,
        heads=heads,
        head_dim=head_dim,
        d_ff=4 * d_model if d_ff is None else d_ff,
        context=seq,
        vocab=vocab,
        arch="gpt",  # Chinchilla's App. F block: an MLP of two matrices, every head its own K and V
    )
    from ..present.render import emit_flops

    emit_flops(out, fmt, shape, rec.flops_per_token(shape))


@laws_app.command("check")
def laws_check(
    name: Annotated[
        Optional[str],
        typer.Argument(
            metavar="[NAME]",
            help="A law (or alias), a recipe law (tao2024, steplaw, deepseek, porian, kaplan-bcrit, chinchilla-flops), krajewski, sun, ouyang, kumar, tissue, hagele, memory, serving, hardware, published-runs, a data file (recipe, moe, precision, ...) or one check's id; all when omitted.",
        ),
    ] = None,
    data_dir: Annotated[
        Optional[Path],
        typer.Option(
            "--data-dir",
            help="Folder with the authors' released runs (svg_extracted_data.csv) for the refit checks; skipped without it.",
        ),
    ] = None,
    fmt: FormatOpt = Format.table,
):
    """Recompute every published number the bundled laws, recipe and hardware presets must reproduce.

    Prints claim | source | published | scaleplan | difference | verdict; exits 1 if any claim fails.

    Example: scaleplan laws check

    Example: scaleplan laws check epoch --data-dir ../shared/data
    """
    from ..pipeline import checks
    from ..present.render import emit_checks

    results = checks.run_checks(name, data_dir=data_dir)
    emit_checks(out, fmt, results, checks.constants_summary() if name is None else "")
    if any(r.verdict == "fail" for r in results):
        raise typer.Exit(1)


@app.command()
def init(
    folder: Annotated[
        str, typer.Argument(metavar="[DIR]", help="Folder to write the example budget files into (created if missing).")
    ] = "configs",
    example: Annotated[
        Optional[list[str]],
        typer.Option("--example", "-e", help="Write only this example (repeatable); all when omitted."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite example files that already exist.")] = False,
    list_only: Annotated[bool, typer.Option("--list", help="List the bundled examples and write nothing.")] = False,
):
    """Write the bundled example budget files, e.g. for the README's `scaleplan plan configs/...` examples.

    Example: scaleplan init

    Example: scaleplan init my-budgets --example academic-1e21
    """
    from ..schema.examples import example_names, write_examples

    if list_only:
        for name in example_names():
            out.print(name, markup=False)
        return
    written = write_examples(folder, names=example, force=force)
    budgets = [p for p in written if p.parent.name != "laws" and p.suffix == ".yaml"]
    law_files = sum(p.parent.name == "laws" for p in written)
    data = sum(p.suffix == ".csv" for p in written)  # a training log, a runs file (their SOURCES.md comes along)
    err.print(
        f"wrote {len(budgets)} example{'s' if len(budgets) != 1 else ''}"
        + (f", {law_files} law file{'s' if law_files != 1 else ''}" if law_files else "")
        + (f" and {data} data file{'s' if data != 1 else ''} with their sources" if data else "")
        + f" to {folder}: "
        + ", ".join(p.name for p in written)
        + f". Try: scaleplan plan {written[0]}",
        markup=False,
        soft_wrap=True,
    )
