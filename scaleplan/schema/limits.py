"""One set of sanity limits, shared by every command: what scaleplan refuses, and what it answers with a warning.

Refused (ScaleplanError): budgets outside [the smallest plannable budget, 1e35 FLOPs], epochs far beyond the
data-constrained law, output sizes above the caps below. Warned: training MFU outside [10%, 55.2%], contexts whose
exact FLOPs per token exceed 6N by more than 25%, shapes with one head or a width below 128.

The caps on output sizes are the CLI's: the library keeps accepting large arrays (benchmarks call it on 1e6
budgets).
"""

from __future__ import annotations

import numpy as np

from ..core.errors import ScaleplanError
from .units import fmt_count, fmt_number, fmt_percent, fmt_sci

# About 1e35 FLOPs is ~10 orders of magnitude beyond the largest training run published (~5e25, 2024): a larger
# number is a unit mistake, not a plan.
MAX_FLOPS = 1e35
# The smallest model scaleplan plans: 1M parameters in total, a little above the smallest shape its recipe can
# build (one layer of width 128 with a Tao et al. vocabulary). Kaplan et al. 2020 trained smaller models, but no
# allocation law bundled here was fitted below ~1e7 parameters.
MIN_PARAMS = 1e6
# Training MFU outside this band is far from anything reported: PaLM 46.2% (arXiv 2204.02311), MegaScale 55.2%
# at 12,288 GPUs (arXiv 2402.15627, the highest reported at scale); below 10% a run is mostly idle.
MFU_LOW, MFU_HIGH = 0.10, 0.552
# The exact App. F FLOPs per token above 6N by more than this: the 6ND cost understates the work.
CONTEXT_FLOPS_RATIO = 1.25
# Above 100 epochs Muennighoff et al. 2023's effective data D' is within 0.2% of its limit (1 + R_D*) U
# (1 - exp(-99 / 15.39) = 0.9984): far past the ~16 epochs beyond which their Sec. 6 finds returns vanish.
MAX_EPOCHS = 100.0
# Caps on what one command produces (rows of a table or file, resamples). Chosen so that every command answers in
# a few seconds in every format on a 2-core machine; benchmarks/bench.py measures the worst cases.
MAX_OUTPUT_ROWS = 2000  # rows a command produces (budgets x laws, demands, sweep runs)
MAX_PRINTED_ROWS = 10_000  # rows of any printed table of a training curve (`curve predict --rows`)
MAX_INPUT_ROWS = 5_000_000  # rows read from one runs or checkpoints file
MAX_BOOTSTRAP = 100_000
MAX_SCENARIOS = 200  # plan FILE: ~2.5 s for 200 serving scenarios in any format
MAX_REPORT_SCENARIOS = 12  # plan FILE --report: up to ~25 figures at ~0.5 s each
# 2^24 tokens: above the longest context any published model claims (10M, Llama 4 Scout, 2025).
MAX_CONTEXT = 2**24
# More sequences per device per micro-batch than any memory holds at a useful context (2^16).
MAX_MICRO_BATCH = 65_536
# Ten million accelerators: ~100x the largest cluster announced (xAI Colossus, 200K GPUs, 2025).
MAX_GPUS = 10_000_000
# Weight bits a model is served at: 2 (the fewest Ouyang et al. 2024 and Kumar et al. 2024 quantize to) to 16
# (unquantized bf16 weights).
SERVE_BITS = (2, 16)
MAX_REQUEST_TOKENS = 10_000_000  # prompt or output tokens of one request: far beyond any context window
MAX_SERVE_TP = 4096  # GPUs in one serving replica (beyond a node: pipeline stages)
MAX_SERVE_BATCH = 1_000_000  # sequences in one decode batch
MAX_SHAPE = 1_000_000  # layers, width, heads, d_ff, vocabulary: a million of any is a typo
# A designed shape: at most 1,000 layers (Llama 3 405B has 126, Dubey et al. 2024 arXiv:2407.21783 Table 3; PaLM
# 540B 118, arXiv:2204.02311 Table 1), and a pinned width of at least one attention head of 64 (the smallest head
# size of recipe.yaml, Chinchilla's Table A9 kv_size). A pin that needs more layers is refused, not designed.
MAX_LAYERS = 1000
MIN_D_MODEL = 64


def check_flops(flops, what: str = "flops", law=None) -> np.ndarray:
    """Budgets as a float array inside [law.min_flops(), MAX_FLOPS], or a ScaleplanError naming the bad one.

    `law` is a resolved Law (scaleplan.laws); the schema knows laws only through this one method."""
    from ..core.values import check_positive

    arr = check_positive(flops, what)
    high = arr[arr > MAX_FLOPS]
    if high.size:
        raise ScaleplanError(
            f"{what}: {fmt_sci(high.flat[0])} FLOPs is beyond any plan (more than "
            f"{fmt_sci(MAX_FLOPS)}); check the units"
        )
    if law is not None:
        name = law.name
        floor = law.min_flops()
        low = arr[arr < floor]
        if low.size:
            raise ScaleplanError(
                f"{what}: budget too small: the smallest budget scaleplan can plan with {name} is "
                f"{fmt_sci(floor)} FLOPs (a {MIN_PARAMS:,.0f}-parameter model); got {fmt_sci(low.flat[0])}"
            )
    return arr


def check_params(params, what: str = "params") -> None:
    """A model below MIN_PARAMS cannot be designed."""
    arr = np.atleast_1d(np.asarray(params, float))
    low = arr[arr < MIN_PARAMS]
    if low.size:
        count = fmt_count(low[0])
        raise ScaleplanError(
            f"{what}: {count} parameter{'' if count == '1' else 's'} is below the smallest model "
            f"scaleplan plans ({MIN_PARAMS:,.0f})"
        )


def check_rows(n: int, what: str) -> None:
    if n > MAX_OUTPUT_ROWS:
        raise ScaleplanError(
            f"{what} would give {n:,} rows; the limit is {MAX_OUTPUT_ROWS:,} "
            "(ask for fewer points or split the question)"
        )


def check_epochs(epochs, law_name: str = "muennighoff") -> None:
    arr = np.atleast_1d(np.asarray(epochs, float))
    high = arr[arr > MAX_EPOCHS]
    if high.size:
        raise ScaleplanError(
            f"{fmt_number(high[0])} epochs over the unique data is far beyond the data-constrained law "
            f"({law_name}, Muennighoff et al. 2023): above {MAX_EPOCHS:g} epochs repeated data is worth nothing "
            "more and the answer would be meaningless; give more unique tokens or a smaller budget"
        )


def mfu_warnings(mfu: float, what: str = "MFU") -> list[str]:
    """Training MFU far from anything reported (serving MFUs are not judged by this)."""
    if mfu > MFU_HIGH:
        return [
            f"{what} {fmt_percent(mfu)} is above the highest reported for large-scale training "
            f"({MFU_HIGH:.1%}, MegaScale 2024)"
        ]
    if mfu < MFU_LOW:
        return [
            f"{what} {fmt_percent(mfu)} is below {MFU_LOW:.0%}: far below any reported training run "
            "(typically 30-55%); the time and cost assume the accelerators mostly idle"
        ]
    return []


MAX_PARAMS = 1e16  # 10 quadrillion parameters: ~5,000x the largest published dense model
MAX_TOKENS = 1e18  # a million trillion tokens: ~30,000x the largest published training set


def check_model(
    params: float, tokens: float | None = None, what: str = "<params>", what_tokens: str = "<tokens>"
) -> tuple[float, float | None]:
    """A model size (and tokens) inside [MIN_PARAMS, MAX_PARAMS] and (0, MAX_TOKENS]."""
    if params > MAX_PARAMS:
        raise ScaleplanError(
            f"{what}: {fmt_count(params)} parameters is beyond any plan (more than "
            f"{fmt_sci(MAX_PARAMS)}); check the units"
        )
    check_params(params, what)
    if tokens is not None and tokens > MAX_TOKENS:
        raise ScaleplanError(
            f"{what_tokens}: {fmt_sci(tokens)} tokens is beyond any plan (more than "
            f"{fmt_sci(MAX_TOKENS)}); check the units"
        )
    return params, tokens


def check_inference_tokens(tokens, what: str = "<inference_tokens>") -> None:
    """Tokens to serve at most MAX_TOKENS (the cap on training tokens, and `inference-aware`'s): more is a unit
    mistake, and the inference-aware model such demand implies (a tiny model trained on ~1e30 tokens) is absurd."""
    arr = np.atleast_1d(np.asarray(tokens, float))
    high = arr[arr > MAX_TOKENS]
    if high.size:
        raise ScaleplanError(
            f"{what}: {fmt_sci(high[0])} tokens is beyond any plan (more than {fmt_sci(MAX_TOKENS)}); check the units"
        )


def check_pin(name: str, value: int, what: str | None = None, heads_pinned: bool = False) -> None:
    """A pinned `layers` or `d_model` a transformer can have: at most MAX_LAYERS layers; a width of at least one
    64-wide head and, from 128 up, whole heads of 64 or 128 (unless heads or head_dim are pinned too)."""
    what = what or f"<{name}>"
    if name == "layers" and value > MAX_LAYERS:
        raise ScaleplanError(
            f"{what} {value:,} is more than {MAX_LAYERS:,}: far deeper than any published model (Llama 3 405B has 126)"
        )
    if name == "d_model" and value < MIN_D_MODEL:
        raise ScaleplanError(
            f"{what} {value} is below {MIN_D_MODEL}, narrower than one attention head of 64 (the smallest head size "
            "recipe.yaml uses); give at least 64, best a multiple of 128"
        )
    if name == "d_model" and not heads_pinned and value >= 128 and value % 64:
        raise ScaleplanError(
            f"{what} {value} splits into no whole number of attention heads of 64 or 128 (recipe.yaml's head "
            "sizes); give a multiple of 64, best of 128"
        )
