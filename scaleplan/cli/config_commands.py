"""A model given as a trainer's config, checked against the laws (check); a plan written as one (export)."""

# Annotations stay source text until typer builds the command that runs (scaleplan.cli.main): building all
# ~150 typer.Option objects at import would cost ~2.5 ms of every command's start-up.
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..core.errors import ScaleplanError
from ..core.files import check_target, write_files
from ..pipeline.budget import load_budget_file
from ..pipeline.stages import plan_budget
from ..present.render import Format
from ..schema.units import (
    parse_count,
    parse_positive,
)
from .base import (
    app,
    err,
    flag_budget,
    out,
    warn,
)
from .options import (
    ForceOpt,
    FormatOpt,
    GpusOpt,
    HardwareFileOpt,
    HardwareOpt,
    InferenceTokensOpt,
    LawOpt,
    LrLawOpt,
    MfuOpt,
    PrecisionOpt,
    PriceOpt,
    budget_options,
)

# ---------------------------------------------------------------------------------------------------------------
# A model given as a trainer's config: checked against the laws; a plan written as one


@app.command()
def check(
    path: Annotated[
        str,
        typer.Argument(
            metavar="CONFIG",
            help="A trainer's model config: HF config.json, Megatron arguments, nanotron or litgpt YAML, or an export.",
        ),
    ],
    tokens: Annotated[
        Optional[str], typer.Option("--tokens", help="Training tokens, e.g. 2T (default: the config's own).")
    ] = None,
    lr: Annotated[
        Optional[str], typer.Option("--lr", help="The peak learning rate to check (default: the config's).")
    ] = None,
    batch: Annotated[
        Optional[str],
        typer.Option("--batch", help="The global batch in tokens to check, e.g. 4M (default: the config's)."),
    ] = None,
    law: LawOpt = None,
    lr_law: LrLawOpt = None,
    inference_tokens: InferenceTokensOpt = None,
    hardware: HardwareOpt = None,
    hardware_file: HardwareFileOpt = None,
    gpus: GpusOpt = None,
    mfu: MfuOpt = None,
    price: PriceOpt = None,
    precision: PrecisionOpt = None,
    fmt: FormatOpt = Format.table,
):
    """An existing model against the laws: its exact parameters and FLOPs per token, tokens per parameter against
    the compute-optimal (and, with --inference-tokens, the inference-aware) choice, each law's loss, its learning
    rate, batch and vocabulary against the recipe laws, and its cost.

    Example: scaleplan check config.json --tokens 2T
    Example: scaleplan check config_smollm1_135M.yaml --hardware h100 --gpus 64
    Example: scaleplan check train_llama3_8b.sh --tokens 15T --lr 3e-4 --batch 16M --inference-tokens 1e13
    """
    from ..pipeline.audit import check_model
    from ..present.render import emit_check

    learning_rate = None if lr is None else parse_positive(lr, "--lr")
    if learning_rate is not None and learning_rate >= 10:
        raise ScaleplanError(f"--lr must be below 10, got {lr!r}")
    batch_tokens = None if batch is None else parse_count(batch, "--batch")
    if batch_tokens is not None and not 1 <= batch_tokens <= 1e12:
        raise ScaleplanError(f"--batch must be from 1 to 1e12 tokens, got {batch!r}")
    try:  # the config is the CONFIG argument here, not the --model flag of allocate and plan
        given = dict(tokens=tokens, law=law, lr_law=lr_law, inference_tokens=inference_tokens, hardware=hardware)
        given |= dict(hardware_file=hardware_file, gpus=gpus, mfu=mfu, price=price, precision=precision)
        budget = flag_budget({"model": path, **given})
        result = check_model(budget, learning_rate=learning_rate, batch_tokens=batch_tokens)
    except ScaleplanError as exc:
        text = exc.for_flags()
        if "--model" not in text:
            raise
        raise ScaleplanError(text.replace("--model: ", "CONFIG ", 1).replace("--model", "CONFIG")) from None
    warn(result.warnings)
    emit_check(out, fmt, result)


def _export_targets(kind: str, output: str, inputs: list, force: bool) -> tuple[dict, Path | None]:
    """The files an export writes, checked before any work: ({name: path}, folder to create or None).

    hf writes a folder (config.json beside training.yaml, as a model folder holds them); other formats one file."""
    from ..present.export import SUFFIXES

    if output == "-":
        return {}, None
    if kind != "hf":
        return {"": check_target(output, inputs, SUFFIXES.get(kind), force=force, what="--output")}, None
    folder = Path(output)
    if folder.exists() and not folder.is_dir():
        raise ScaleplanError(f"--output {output}: a file; the hf export writes a folder (config.json, training.yaml)")
    create = None
    if not folder.exists():
        check_target(folder, inputs, what="--output")  # the parent exists and is writable
        create = folder
    names = ("config.json", "training.yaml")
    paths = {n: folder / n for n in names}
    if create is None:
        for p in paths.values():
            check_target(p, inputs, force=force, what="--output")
    return paths, create


# The planning flags export takes: those that shape a dense model's plan and recipe
EXPORT_FLAGS = (
    "flops", "gpus", "days", "dollars", "price", "hardware", "peak_flops", "mfu", "precision", "law",
    "inference_tokens", "objective", "target_loss", "context", "vocab", "layers", "d_model", "lr_law", "params",
    "tokens", "model", "recompute", "zero", "micro_batch", "hardware_file", "arch",
)  # fmt: skip


@app.command()
@budget_options(*EXPORT_FLAGS)
def export(
    kind: Annotated[
        str, typer.Argument(metavar="FORMAT", help="Trainer format: hf (Hugging Face config.json + training.yaml).")
    ],
    source: Annotated[
        Optional[str],
        typer.Argument(metavar="[BUDGET.yaml|PLAN.json]", help="A budget file, or a plan from --format json."),
    ] = None,
    output: Annotated[
        Optional[str],
        typer.Option("--output", "-o", help="Where to write: a folder for hf, a file otherwise; - prints it."),
    ] = None,
    scenario: Annotated[
        Optional[str], typer.Option("--scenario", help="The scenario of a budget file or plan with several.")
    ] = None,
    force: ForceOpt = False,
    *,
    flags: dict,
):
    """Write a plan as the configuration a trainer reads: the plan of the budget flags, of a budget file's scenario,
    or of a plan saved with --format json.

    Example: scaleplan export hf --flops 1e21 --output my-model/
    Example: scaleplan export hf configs/lab-1e23-h100.yaml --scenario baseline --output my-model/
    Example: scaleplan allocate --flops 1e22 --format json > plan.json && scaleplan export hf plan.json -o model/
    """
    from ..present.export import EXPORT_FORMATS, export_files

    kind = kind.strip().lower()
    if kind not in EXPORT_FORMATS:
        raise ScaleplanError(f"FORMAT must be one of {', '.join(EXPORT_FORMATS)}, got {kind!r}")
    if output is None:
        raise ScaleplanError("give --output: a folder for hf, a file otherwise, or - to print")
    given = {k: v for k, v in flags.items() if v is not None}
    inputs = [x for x in (source, flags["hardware_file"], flags["model"]) if x]
    targets, create = _export_targets(kind, output, inputs, force)
    plan_dict, described = _plan_to_export(kind, source, scenario, given, flags["law"])
    files = export_files(kind, plan_dict, described, where=source or "plan")
    if output == "-":
        for i, (name, text) in enumerate(files.items()):
            if len(files) > 1:
                out.file.write(("\n" if i else "") + f"==> {name} <==\n")
            out.file.write(text)
        out.file.flush()
        return
    items = {targets.get(name, targets.get("")): text for name, text in files.items()}
    written = _write_export(items, create, output, inputs, force)
    err.print("wrote " + ", ".join(str(p) for p in written), markup=False, soft_wrap=True)


def _write_export(items: dict, create: Path | None, output: str, inputs: list, force: bool) -> list:
    """Write an export's files, creating its folder first (and removing it again if the writing fails)."""
    if create is not None:
        try:
            create.mkdir()
        except OSError as exc:
            raise ScaleplanError(f"--output {output}: cannot create the folder ({exc.strerror or exc})") from None
    try:
        return write_files(items, inputs, force=force, what="--output")
    except BaseException:
        if create is not None:
            try:
                create.rmdir()
            except OSError:
                pass
        raise


def _plan_to_export(kind: str, source, scenario, flags: dict, law) -> tuple[dict, str]:
    """(the plan's JSON, what it came from) for export: a PLAN.json, a budget file's scenario, or the flags."""
    import json

    from ..present.export import MAX_PLAN_BYTES

    if source is not None and source.lower().endswith(".json"):
        if flags:
            raise ScaleplanError(
                f"{source} is a finished plan; planning flags (--{next(iter(flags)).replace('_', '-')}) "
                "do not change it: export the budget instead"
            )
        from ..core.files import read_text

        try:
            plan = json.loads(read_text(source, "plan file", max_bytes=MAX_PLAN_BYTES))
        except json.JSONDecodeError as exc:
            raise ScaleplanError(f"{source}:{exc.lineno}: not valid JSON ({exc.msg})") from None
        except RecursionError:
            raise ScaleplanError(f"{source}: nested too deeply to be a plan") from None
        if isinstance(plan, dict) and isinstance(plan.get("plans"), list):
            names = [p.get("name") for p in plan["plans"] if isinstance(p, dict)]
            if scenario is None:
                raise ScaleplanError(
                    f"{source} holds {len(names)} plans; name one with --scenario ({', '.join(map(str, names))})"
                )
            if scenario not in names:
                raise ScaleplanError(f"--scenario {scenario!r} is not in {source} ({', '.join(map(str, names))})")
            plan = plan["plans"][names.index(scenario)]
        elif scenario is not None and isinstance(plan, dict) and plan.get("name") != scenario:
            raise ScaleplanError(f"--scenario {scenario!r}: {source} holds one plan, named {plan.get('name')!r}")
        return plan, source + (f" (scenario {scenario})" if scenario else "")
    budget_flags = {k: v for k, v in flags.items() if k != "law"}
    overrides = flag_budget(budget_flags)
    if source is not None:
        budgets = load_budget_file(source, law, overrides)
        names = [b.name for b in budgets]
        if scenario is None and len(budgets) > 1:
            raise ScaleplanError(
                f"{source} has {len(budgets)} scenarios; name one with --scenario ({', '.join(map(str, names))})"
            )
        if scenario is not None and scenario not in names:
            raise ScaleplanError(f"--scenario {scenario!r} is not in {source} ({', '.join(map(str, names))})")
        budget = budgets[0 if scenario is None else names.index(scenario)]
        described = source + (f" (scenario {scenario})" if scenario else "")
    else:
        if scenario is not None:
            raise ScaleplanError("--scenario names a scenario of a budget file or plan; give the file")
        budget = flag_budget(flags)
        described = f"scaleplan export {kind} " + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in flags.items())
    result = plan_budget(budget, law)
    warn(result.warnings)
    if getattr(result, "recipe", None) is None:
        raise ScaleplanError("export writes a dense model's recipe; this plan has none (a mixture of experts?)")
    return result.to_dict(), described
