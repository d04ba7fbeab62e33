"""The command line's options, each defined once as an `Annotated` alias and listed by every command that takes it.

Typer has no option groups (fastapi/typer #153, #264), so a shared option is one alias here: one flag, one help
text (schema.fields.HELP, which a budget file's key shares) and one parser (schema.fields.parse, called by
the command or by Budget.from_mapping). Shared options arrive as text and are parsed by scaleplan, not by click, so
one bad value gets one message in every command (`--serve-bits 20` says the same in allocate, plan,
inference-aware and precision).

A new option that several commands take goes here (and its parser and cap in scaleplan.schema.fields and
scaleplan.schema.limits); an option one command alone takes stays with that command.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Annotated, Any, Optional

import typer
from typer.models import ArgumentInfo

from .. import laws as laws_mod
from ..present.render import Format
from ..schema.fields import HELP

# What each field's flag takes, as --help shows it (not TEXT: every shared option arrives as text and is parsed by
# scaleplan.schema.fields, so click's type would say nothing).
CHOICES = "bf16|fp8|fp4"
METAVAR = {
    "law": "LAW", "lr_law": "LAW", "ci": "FRACTION",
    "flops": "FLOPS", "gpus": "COUNT", "days": "DAYS", "dollars": "DOLLARS", "total_dollars": "DOLLARS",
    "target_loss": "NATS", "params": "COUNT", "tokens": "COUNT", "model": "PATH", "unique_tokens": "COUNT",
    "inference_tokens": "COUNT", "objective": "flops|cost",
    "hardware": "NAME", "hardware_file": "PATH", "peak_flops": "FLOP/S", "mfu": "FRACTION", "hfu": "FRACTION",
    "price": "DOLLARS", "precision": CHOICES, "recompute": "none|selective|full", "zero": "0-3",
    "micro_batch": "COUNT", "tp": "COUNT", "pp": "COUNT", "ep": "COUNT",
    "context": "TOKENS", "vocab": "COUNT", "layers": "COUNT", "d_model": "COUNT", "heads": "COUNT",
    "arch": "llama|gpt", "granularity": "NUMBER", "expansion": "NUMBER", "total_params": "COUNT",
    "active_params": "COUNT",
    "serve_bits": "BITS", "serving_model": "roofline|fixed-mfu", "kv_bits": "BITS", "serve_precision": CHOICES,
    "prompt_tokens": "TOKENS", "output_tokens": "TOKENS", "serve_tp": "COUNT", "latency": "server|interactive|MS",
    "prefill_mfu": "FRACTION", "bandwidth_fraction": "FRACTION", "memory_fraction": "FRACTION", "batch_cap": "COUNT",
}  # fmt: skip
# The --help panel each field's flag is listed under (typer's rich_help_panel); a command's own options stay under
# "Options".
PANEL = {
    **dict.fromkeys(("flops", "gpus", "days", "dollars", "total_dollars", "target_loss", "inference_tokens",
                     "objective", "unique_tokens", "params", "tokens", "model"), "Budget"),
    **dict.fromkeys(("law", "lr_law", "ci"), "Law"),
    **dict.fromkeys(("context", "vocab", "layers", "d_model", "heads", "arch", "moe", "granularity", "expansion",
                     "total_params", "active_params"), "Model"),
    **dict.fromkeys(("hardware", "hardware_file", "peak_flops", "mfu", "hfu", "price", "precision", "recompute",
                     "zero", "micro_batch", "tp", "pp", "ep"), "Cluster"),
    **dict.fromkeys(("serve_bits", "serving_model", "kv_bits", "serve_precision", "prompt_tokens", "output_tokens",
                     "serve_tp", "latency", "prefill_mfu", "bandwidth_fraction", "memory_fraction", "batch_cap"),
                    "Serving"),
}  # fmt: skip
OUTPUT = "Output"

# What each command's own options take, by flag ("command flag" where one flag means two things); Group applies
# them when the commands are built, so no option shows a bare type (tests/cli/test_conventions.py).
FLAG_METAVAR = {
    "--approach": "parametric|isoflop|both", "--method": "huber|vp", "--schedule": "cosine|wsd|constant|step",
    "--shape": "linear|1-sqrt|cosine", "--train-precision": "FORMAT", "--hardware-precision": "FORMAT",
    "--budget-flops": "FLOPS", "--budgets": "FLOPS", "--flops": "FLOPS", "--max-flops": "FLOPS",
    "--target-flops": "FLOPS", "--price": "DOLLARS", "--inference-price": "DOLLARS", "--kwh-price": "DOLLARS",
    "--cooldown": "FRACTION", "--decode-mfu": "FRACTION", "--drop-early": "FRACTION", "--final": "FRACTION",
    "--holdout": "FRACTION", "--milestone": "FRACTION", "--prefill-mfu": "FRACTION", "--prompt-share": "FRACTION",
    "--tdp-fraction": "FRACTION", "--block-size": "COUNT", "--bootstrap": "COUNT", "--d-ff": "COUNT",
    "--d-model": "COUNT", "--head-dim": "COUNT", "--heads": "COUNT", "--kv-heads": "COUNT", "--layers": "COUNT",
    "--vocab": "COUNT", "--drop-worst": "COUNT", "--levels": "COUNT", "--sizes": "COUNT", "--points": "COUNT",
    "--rows": "COUNT", "--steps": "COUNT", "--params": "COUNT", "--non-vocab-params": "COUNT", "--tokens": "COUNT",
    "--min-tokens": "COUNT", "--inference-tokens": "COUNT", "--warmup": "STEPS", "--from-step": "STEP",
    "--data-dir": "PATH", "--hardware-file": "PATH", "--lr-log": "PATH", "--output": "PATH", "--plot": "PATH",
    "--save": "PATH", "--columns": "FIELD=COLUMN", "--run-column": "COLUMN", "--example": "NAME", "--name": "NAME",
    "--scenario": "NAME", "--hardware": "NAME", "--inference-hardware": "NAME", "--law": "LAW", "--loss": "NATS",
    "--target-loss": "NATS", "--lr": "RATE", "--peak-lr": "RATE", "--inference-bits": "BITS", "--serve-bits": "BITS",
    "--demand": "TOKENS/S", "--factor": "NUMBER", "--pue": "NUMBER", "--server-power": "NUMBER", "--seed": "SEED",
    "--batch": "COUNT", "check --batch": "TOKENS", "curve predict --law": "PATH",
}  # fmt: skip


def option(key: str, *short: str, help: str | None = None, **extra: Any) -> Any:
    """typer.Option for field `key`: the flag is the field with dashes, the help is the field's, the metavar says
    what it takes, and --help lists it in its field's panel."""
    extra.setdefault("metavar", METAVAR.get(key))
    extra.setdefault("rich_help_panel", PANEL.get(key))
    return typer.Option("--" + key.replace("_", "-"), *short, help=help or HELP[key], **extra)


def _text(key: str, *short: str, help: str | None = None) -> Any:
    return Annotated[Optional[str], option(key, *short, help=help)]


FormatOpt = Annotated[
    Format,
    typer.Option(
        "--format",
        "-f",
        metavar="FORMAT",
        help="Output format: table, json, csv (one row per table row) or markdown.",
        case_sensitive=False,
        rich_help_panel=OUTPUT,
    ),
]
PlotOpt = Annotated[
    Optional[str],
    typer.Option(
        "--plot",
        metavar="PATH",
        help="Also draw the figure to this new PNG file (needs matplotlib: pip install 'scaleplan\\[plot]').",
        rich_help_panel=OUTPUT,
    ),
]
QuietOpt = Annotated[
    bool,
    typer.Option(
        "--quiet", "-q", help="Print only the answer (and errors): no warnings, no full table.", rich_help_panel=OUTPUT
    ),
]
ForceOpt = Annotated[
    bool,
    typer.Option("--force", help="Replace output files that already exist (never an input).", rich_help_panel=OUTPUT),
]

LawOpt = _text("law", "-l", help=f"Law name or law file (default {laws_mod.DEFAULT_LAW}); see `scaleplan laws`.")
# the budget, one of three ways (or a fixed model's params and tokens)
FlopsOpt = _text("flops")
GpusOpt = _text("gpus")
DaysOpt = _text("days")
DollarsOpt = _text("dollars")
TotalDollarsOpt = _text("total_dollars")
TargetLossOpt = _text("target_loss")
ParamsOpt = _text("params")
TokensOpt = _text("tokens")
ModelOpt = _text("model")
UniqueTokensOpt = _text("unique_tokens")
# the hardware and how well it is used
HardwareOpt = _text("hardware")
HardwareFileOpt = _text("hardware_file")
PeakOpt = _text("peak_flops")
MfuOpt = _text("mfu")
HfuOpt = _text("hfu")
PriceOpt = _text("price")
PrecisionOpt = _text("precision")
RecomputeOpt = _text("recompute")
ZeroOpt = _text("zero")
MicroBatchOpt = _text("micro_batch")
TpOpt = _text("tp")
PpOpt = _text("pp")
EpOpt = _text("ep")
# the model's shape and recipe
ContextOpt = _text("context")
VocabOpt = _text("vocab")
LayersOpt = _text("layers")
DModelOpt = _text("d_model")
HeadsOpt = _text("heads")
ArchOpt = _text("arch")
LrLawOpt = _text("lr_law")
# serving, intervals, mixtures of experts
InferenceTokensOpt = _text("inference_tokens")
ObjectiveOpt = _text("objective")
ServeBitsOpt = _text("serve_bits")
# the serving roofline (scaleplan.cluster.serving): the same flags in allocate, plan, inference-aware and serve
ServingModelOpt = _text("serving_model")
KvBitsOpt = _text("kv_bits")
ServePrecisionOpt = _text("serve_precision")
PromptTokensOpt = _text("prompt_tokens")
OutputTokensOpt = _text("output_tokens")
ServeTpOpt = _text("serve_tp")
LatencyOpt = _text("latency")
PrefillMfuOpt = _text("prefill_mfu")
BandwidthFractionOpt = _text("bandwidth_fraction")
MemoryFractionOpt = _text("memory_fraction")
BatchCapOpt = _text("batch_cap")
CiOpt = _text("ci")
MoeOpt = Annotated[bool, option("moe")]
GranularityOpt = _text("granularity")
ExpansionOpt = _text("expansion")
TotalParamsOpt = _text("total_params")
ActiveParamsOpt = _text("active_params")


# The planning flags: each a Budget field, taken whole by allocate and plan (and in part by export), added to those
# commands by budget_options and handed to them as one mapping. Listed in --help in this order, within their panels.
PLANNING = {
    "flops": FlopsOpt, "gpus": GpusOpt, "days": DaysOpt, "dollars": DollarsOpt, "total_dollars": TotalDollarsOpt,
    "target_loss": TargetLossOpt, "inference_tokens": InferenceTokensOpt, "objective": ObjectiveOpt,
    "unique_tokens": UniqueTokensOpt, "params": ParamsOpt, "tokens": TokensOpt, "model": ModelOpt,
    "law": LawOpt, "lr_law": LrLawOpt, "ci": CiOpt,
    "context": ContextOpt, "vocab": VocabOpt, "layers": LayersOpt, "d_model": DModelOpt, "arch": ArchOpt,
    "moe": MoeOpt, "granularity": GranularityOpt, "expansion": ExpansionOpt, "total_params": TotalParamsOpt,
    "active_params": ActiveParamsOpt,
    "hardware": HardwareOpt, "hardware_file": HardwareFileOpt, "peak_flops": PeakOpt, "mfu": MfuOpt, "hfu": HfuOpt,
    "price": PriceOpt, "precision": PrecisionOpt, "recompute": RecomputeOpt, "zero": ZeroOpt,
    "micro_batch": MicroBatchOpt, "tp": TpOpt, "pp": PpOpt, "ep": EpOpt,
    "serve_bits": ServeBitsOpt, "serving_model": ServingModelOpt, "kv_bits": KvBitsOpt,
    "serve_precision": ServePrecisionOpt, "prompt_tokens": PromptTokensOpt, "output_tokens": OutputTokensOpt,
    "serve_tp": ServeTpOpt, "latency": LatencyOpt, "prefill_mfu": PrefillMfuOpt,
    "bandwidth_fraction": BandwidthFractionOpt, "memory_fraction": MemoryFractionOpt, "batch_cap": BatchCapOpt,
}  # fmt: skip


def _metadata(annotation: Any) -> tuple:
    return getattr(annotation, "__metadata__", ())


def budget_options(*keys: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Add the planning flags `keys` (all of PLANNING when none are named) to a command, after its own arguments
    and before its own options; the command receives them as one mapping, its parameter `flags` ({key: value as
    typed, None when not given}), to hand to scaleplan.cli.base.flag_budget. The flags are written once, here."""
    chosen = {key: PLANNING[key] for key in keys or PLANNING}

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        # the command's own few annotations are built here (typer reads a given signature as it is)
        own = [p for p in inspect.signature(command, eval_str=True).parameters.values() if p.name != "flags"]
        arguments = [
            p for p in own if any(isinstance(m, ArgumentInfo) for m in getattr(p.annotation, "__metadata__", ()))
        ]
        shared = [
            inspect.Parameter(
                key, inspect.Parameter.KEYWORD_ONLY, default=False if key == "moe" else None, annotation=alias
            )
            for key, alias in chosen.items()
        ]
        params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in arguments]
        params += shared + [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own if p not in arguments]

        @functools.wraps(command)
        def with_flags(**values: Any) -> None:
            flags = {key: values.pop(key) for key in chosen}
            return command(**values, flags=flags)

        # a fresh dict (functools.wraps shares the command's), as the signature says
        with_flags.__annotations__ = {p.name: p.annotation for p in params}
        with_flags.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        return with_flags

    return decorate
