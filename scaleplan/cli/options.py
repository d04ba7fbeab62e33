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

from typing import Annotated, Any, Optional

import typer

from .. import laws as laws_mod
from ..present.render import Format
from ..schema.fields import HELP


def option(key: str, *short: str, help: str | None = None, **extra: Any) -> Any:
    """typer.Option for field `key`: the flag is the field with dashes, the help is the field's."""
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
    ),
]
PlotOpt = Annotated[
    Optional[str],
    typer.Option(
        "--plot", help="Also draw the figure to this new PNG file (needs matplotlib: pip install 'scaleplan\\[plot]')."
    ),
]
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help="Print only the answer (and errors): no warnings, no full table.")
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Replace output files that already exist (never an input).")]

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
