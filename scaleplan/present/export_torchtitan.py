"""torchtitan: a Python module returning ``Trainer.Config`` for torchtitan at ``TORCHTITAN_COMMIT``."""

from __future__ import annotations

from ..core.errors import ScaleplanError
from ..recipe.config_python import torchtitan_ffn_dim
from .export_plan import (
    ROPE_THETA,
    ExportPlan,
    check_layout,
    layout_note,
    llama_only,
    number,
    plan_header,
)

# The torchtitan version the module is written for: b5bcd76c (2026-08-21), after the 2026-02 refactor to Python
# configs ("[BC Breaking] Config System Refactor: TOML to Python Dataclass Registry", #2386); every name the module
# uses exists at this commit (tests/data/torchtitan-b5bcd76c-fields.json, checked by the tests).
TORCHTITAN_COMMIT = "b5bcd76c66d0acb1a08b176d9639425bc55e0b2a"


def torchtitan_ffn_args(dim: int, d_ff: int) -> tuple[int, float]:
    """(multiple_of, ffn_dim_multiplier) with which torchtitan's compute_ffn_hidden_dim builds exactly `d_ff`:
    the largest power-of-two multiple dividing d_ff, and the shortest decimal multiplier that reaches it."""
    base = int(2 * 4 * dim / 3)
    for multiple_of in (1024, 512, 256, 128, 64, 32, 16, 8, 4, 2, 1):
        if d_ff % multiple_of:
            continue
        for digits in range(1, 9):
            m = round(d_ff / base, digits)
            if m > 0 and torchtitan_ffn_dim(dim, multiple_of, m) == d_ff:
                return multiple_of, m
    raise ScaleplanError(f"no ffn_dim_multiplier makes torchtitan build d_ff {d_ff:,} at dim {dim:,}")


def torchtitan_module(p: ExportPlan, source: str) -> str:
    """A Python module for torchtitan's --module/--config: the model as a llama3 flavor and a Trainer.Config."""
    llama_only(p, "torchtitan")
    check_layout(p, "torchtitan")
    s = p.shape
    multiple_of, multiplier = torchtitan_ffn_args(s["d_model"], s["d_ff"])
    model = {
        "dim": s["d_model"],
        "n_layers": s["layers"],
        "n_heads": s["heads"],
        "n_kv_heads": s["kv_heads"],
        "vocab_size": s["vocab"],
        "ffn_dim_multiplier": multiplier,
        "multiple_of": multiple_of,
        "max_context_length": s["context"],
        "rope_theta": ROPE_THETA,
        "enable_weight_tying": s["tied_embeddings"],
    }
    model_text = "MODEL = {\n" + "".join(f"    {k!r}: {v!r},\n" for k, v in model.items()) + "}"
    fp8 = p.precision == "fp8"
    converters = "converters=[Float8LinearConverter.Config(model_compile_enabled=True)]" if fp8 else "converters=None"
    # float8 wants torch.compile to fuse its casts (torchtitan/components/quantization/float8.md, as llama3_8b_mxfp8)
    compile_line = '\n        compile=CompileConfig(enable=True, components=["model"]),' if fp8 else ""
    header = [
        '"""torchtitan configuration written by scaleplan.',
        "",
        f"For torchtitan at commit {TORCHTITAN_COMMIT[:8]} ({TORCHTITAN_COMMIT}, 2026-08-21), after its",
        "2026-02 config refactor (Python configs returning Trainer.Config); every name used here exists there.",
        "Run it with torchtitan's --module and --config (torchtitan/config/README.md), e.g.",
        "    NGPU=8 MODULE=scaleplan_torchtitan CONFIG=scaleplan_config ./run_train.sh",
        *(line.lstrip("# ") for line in plan_header(p, source)),
        layout_note(p, "").strip(),
        f"SwiGLU width {s['d_ff']:,} = compute_ffn_hidden_dim({s['d_model']}, multiple_of={multiple_of}, "
        f"ffn_dim_multiplier={multiplier}).",
        "Schedule: WSD, warm-up then constant then a 1-sqrt cool-down over the last decay_ratio of the steps.",
        '"""',
    ]
    body = _IMPORTS + model_text + _MODEL_FUNCTION + _config_function(p, converters, compile_line)
    return "\n".join(header) + "\n" + body


_IMPORTS = """
from torchtitan.components.data import ConcatThenSplitPackingConfig, GrainDataLoader
from torchtitan.components.loss import ChunkedLossWrapper, CrossEntropyLoss
from torchtitan.components.optimizer import LRSchedulersContainer, default_adamw
from torchtitan.components.quantization import Float8LinearConverter
from torchtitan.config import CompileConfig, ParallelismConfig, TrainingConfig
from torchtitan.distributed.activation_checkpoint import SelectiveAC
from torchtitan.hf_datasets.text_datasets import DATASETS
from torchtitan.models import llama3
from torchtitan.models.common import ComplexRoPE, Embedding, Linear, RMSNorm, compute_ffn_hidden_dim
from torchtitan.models.common.config_utils import decoder_vocab_size
from torchtitan.models.llama3 import Llama3Model
from torchtitan.trainer import Trainer

"""

_MODEL_FUNCTION = '''


def scaleplan_model(attn_backend: str = "flex", tp_gemm_backend: str = "default") -> Llama3Model.Config:
    """The planned model as a llama3 flavor, built as torchtitan builds its own (llama3/__init__.py)."""
    dim, n_heads, vocab_size = MODEL["dim"], MODEL["n_heads"], MODEL["vocab_size"]
    return Llama3Model.Config(
        dim=dim,
        vocab_size=vocab_size,
        enable_weight_tying=MODEL["enable_weight_tying"],
        tok_embeddings=Embedding.Config(
            num_embeddings=vocab_size, embedding_dim=dim, param_init=llama3._EMBEDDING_INIT
        ),
        norm=RMSNorm.Config(normalized_shape=dim, param_init=llama3._NORM_INIT),
        lm_head=Linear.Config(
            in_features=dim, out_features=vocab_size, param_init=llama3._output_linear_init(dim)
        ),
        layers=llama3._build_llama3_layers(
            fuse_qkv=True,
            n_layers=MODEL["n_layers"],
            dim=dim,
            n_heads=n_heads,
            n_kv_heads=MODEL["n_kv_heads"],
            hidden_dim=compute_ffn_hidden_dim(
                dim, multiple_of=MODEL["multiple_of"], ffn_dim_multiplier=MODEL["ffn_dim_multiplier"]
            ),
            rope=ComplexRoPE.Config(
                dim=dim // n_heads,
                max_context_length=MODEL["max_context_length"],
                theta=MODEL["rope_theta"],
                scaling="none",
            ),
            attn_backend=attn_backend,
            tp_gemm_backend=tp_gemm_backend,
        ),
    )
'''


def _config_function(p: ExportPlan, converters: str, compile_line: str) -> str:
    """The module's scaleplan_config(): the plan's run (model, WSD schedule, batch, steps and layout)."""
    s = p.shape
    return f'''

def scaleplan_config() -> Trainer.Config:
    """The plan's run: model, WSD schedule, batch, steps and layout."""
    llama3.llama3_configs["scaleplan"] = scaleplan_model
    model_spec = llama3.model_registry("scaleplan", {converters})
    return Trainer.Config(
        loss=ChunkedLossWrapper.Config(
            loss_fn=CrossEntropyLoss.Config(global_vocab_size=decoder_vocab_size(model_spec)),
        ),
        hf_assets_path="./assets/hf/CHANGE-ME",  # your tokenizer: its vocabulary must have vocab_size entries
        model_spec=model_spec,
        optimizer=default_adamw(lr={number(p.peak_lr, 4)}),
        lr_scheduler=LRSchedulersContainer.Config(
            warmup_steps={p.warmup_steps},
            decay_ratio={p.decay_steps / p.steps!r},
            decay_type="sqrt",
            min_lr_factor={number(p.min_lr / p.peak_lr if p.peak_lr else 0.0, 4)},
        ),
        training=TrainingConfig(
            num_tokens_per_microbatch_per_dp_rank={p.micro_batch * s["context"]},
            num_tokens_per_train_step={p.batch_sequences * s["context"]},
            max_context_length={s["context"]},
            steps={p.steps},
        ),
        dataloader=GrainDataLoader.Config(
            dataset=ConcatThenSplitPackingConfig(dataset=DATASETS["c4"]),  # your data
        ),
        parallelism=ParallelismConfig(
            data_parallel_replicate_degree=1,
            data_parallel_shard_degree={p.dp},
            tensor_parallel_degree={p.tp},
            pipeline_parallel_degree={p.pp},
        ),
        activation_checkpoint=SelectiveAC.Config(),{compile_line}
    )
'''
