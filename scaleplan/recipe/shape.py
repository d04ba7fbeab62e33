"""The one parameter counter: a decoder-only transformer's ``Shape`` (llama or gpt, counted exactly as the framework
counts it), its training FLOPs per token (Hoffmann et al. 2022 App. F; DeepSeek's M) and its size in a law's
convention (``measure``)."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.errors import ScaleplanError
from ..core.values import Rendered
from ..schema.conventions import training_flops
from .tables import cite, constants, pos_int

ARCHS = ("llama", "gpt")


@dataclass(frozen=True, repr=False)
class Shape(Rendered):
    """A decoder-only transformer of one of two architectures, with its exact parameter count.

    ``arch="llama"`` (the default): RMSNorm, rotary positions, SwiGLU MLP (gate, up and down: 3·d·d_ff), grouped-query
    attention with ``kv_heads`` key/value heads (q and o are d × heads·head_dim, k and v d × kv_heads·head_dim), no
    biases; weights of two RMSNorms per layer (2·d) and a final one (d). This is Hugging Face's LlamaForCausalLM.
    ``arch="gpt"``: GPT-2 (Radford et al. 2019; Hugging Face GPT2LMHeadModel): learned positions (context × d),
    LayerNorm with weight and bias (2 per layer, one final: 2·d each), attention with biases (c_attn, c_proj), a GELU
    MLP of 2 matrices with biases. ``tied_embeddings``: the output head is the input embedding (one V × d matrix).
    ``kv_heads`` defaults to ``heads`` (multi-head attention).
    """

    layers: int
    d_model: int
    heads: int
    head_dim: int
    d_ff: int
    context: int
    vocab: int
    tied_embeddings: bool = False
    kv_heads: int | None = None
    arch: str = "llama"

    def __post_init__(self):
        for name in ("layers", "d_model", "heads", "head_dim", "d_ff", "context", "vocab"):
            object.__setattr__(self, name, pos_int(name, getattr(self, name)))
        kv = self.heads if self.kv_heads is None else pos_int("kv_heads", self.kv_heads)
        if self.heads % kv:
            raise ScaleplanError(f"kv_heads = {kv} must divide heads = {self.heads}")
        object.__setattr__(self, "kv_heads", kv)
        if self.arch not in ARCHS:
            raise ScaleplanError(f"arch must be one of {', '.join(ARCHS)}, got {self.arch!r}")
        object.__setattr__(self, "tied_embeddings", bool(self.tied_embeddings))

    @property
    def tied(self) -> bool:
        """The output head is the input embedding (``tied_embeddings``)."""
        return self.tied_embeddings

    @property
    def glu(self) -> bool:
        """A gated (SwiGLU) MLP: the llama architecture."""
        return self.arch == "llama"

    @property
    def attn_dim(self) -> int:
        """key_size × num_heads (= d_model for the usual shapes)."""
        return self.heads * self.head_dim

    @property
    def kv_dim(self) -> int:
        """key_size × num_kv_heads: the width of K (and of V)."""
        return int(self.kv_heads or self.heads) * self.head_dim

    @property
    def ffn_matrices(self) -> int:
        return 3 if self.glu else 2

    @property
    def layer_matrix_params(self) -> int:
        """One layer's weight matrices: q, k, v, o and the MLP (no norms, no biases)."""
        d = self.d_model
        return 2 * d * self.attn_dim + 2 * d * self.kv_dim + self.ffn_matrices * d * self.d_ff

    @property
    def layer_params(self) -> int:
        """One layer's parameters, exactly: its matrices plus norm weights (and, for gpt, biases)."""
        d = self.d_model
        if self.arch == "llama":
            return self.layer_matrix_params + 2 * d  # two RMSNorm weights
        biases = (self.attn_dim + 2 * self.kv_dim) + d + self.d_ff + d  # c_attn, attn c_proj, c_fc, mlp c_proj
        return self.layer_matrix_params + biases + 2 * 2 * d  # two LayerNorms (weight and bias)

    @property
    def final_norm_params(self) -> int:
        return self.d_model if self.arch == "llama" else 2 * self.d_model

    @property
    def matrix_params(self) -> int:
        """The layers' weight matrices alone (what 12·L·d² approximates; DeepSeek's eq. 2 counts these)."""
        return self.layers * self.layer_matrix_params

    @property
    def non_embedding_params(self) -> int:
        """Every parameter but the token embedding, the output head and learned positions."""
        return self.layers * self.layer_params + self.final_norm_params

    @property
    def vocab_params(self) -> int:
        """Tao et al.'s N_v = V·d_model: one V × d matrix."""
        return self.vocab * self.d_model

    @property
    def embedding_params(self) -> int:
        """Input embedding plus output head: V·d_model, ×2 unless the two are tied."""
        return self.vocab_params * (1 if self.tied_embeddings else 2)

    @property
    def position_params(self) -> int:
        """Learned position embeddings (gpt: context × d_model); rotary positions (llama) have none."""
        return self.context * self.d_model if self.arch == "gpt" else 0

    @property
    def total_params(self) -> int:
        """Every parameter, exactly as the framework counts them (Hugging Face's num_parameters())."""
        return self.non_embedding_params + self.embedding_params + self.position_params

    @property
    def non_vocab_params(self) -> int:
        """Tao et al.'s N_nv: everything but the vocabulary matrices (total − embedding_params)."""
        return self.total_params - self.embedding_params

    @property
    def aspect_ratio(self) -> float:
        return self.d_model / self.layers

    def to_dict(self) -> dict:
        return {
            "arch": self.arch,
            "layers": self.layers,
            "d_model": self.d_model,
            "heads": self.heads,
            "kv_heads": self.kv_heads,
            "head_dim": self.head_dim,
            "d_ff": self.d_ff,
            "vocab": self.vocab,
            "context": self.context,
            "tied_embeddings": self.tied_embeddings,
            "glu": self.glu,
            "params_total": self.total_params,
            "params_non_embedding": self.non_embedding_params,
            "params_embedding": self.embedding_params,
            "aspect_ratio": self.aspect_ratio,
        }


@dataclass(frozen=True)
class FlopCount:
    """Appendix-F FLOPs per token. Breakdown terms are forward FLOPs per token summed over layers."""

    embeddings: float
    qkv: float
    attention_logits: float
    softmax: float
    attention_values: float
    attention_output: float
    feed_forward: float
    final_logits: float
    forward: float
    flops_per_token: float  # training: forward + backward = 3 × forward
    params: float  # N used for 6·N (shape.total_params)
    six_n: float
    ratio: float  # flops_per_token / six_n
    deepseek_m: float  # DeepSeek eq. 2 M: 6·(layer weight matrices) + 12·n_layer·(k·h)·l_seq
    citation: str = ""

    @property
    def transformer_blocks(self) -> float:
        """Forward FLOPs per token of the layers alone (no embeddings, no final logits)."""
        return self.forward - self.embeddings - self.final_logits

    def to_dict(self) -> dict:
        return {
            "flops_per_token": self.flops_per_token,
            "six_n": self.six_n,
            "ratio": self.ratio,
            "params": self.params,
            "forward": self.forward,
            "deepseek_m": self.deepseek_m,
            "breakdown": {
                k: getattr(self, k)
                for k in (
                    "embeddings",
                    "qkv",
                    "attention_logits",
                    "softmax",
                    "attention_values",
                    "attention_output",
                    "feed_forward",
                    "final_logits",
                )
            },
            "citation": self.citation,
        }


def flops_per_token(shape: Shape) -> FlopCount:
    """Hoffmann et al. 2022 App. F, divided by seq_len: training FLOPs per token = 3 × forward.

    Per token (s = context, kh = heads × head_dim, kv = kv_heads × head_dim, d = d_model, f = d_ff, V = vocab):
    embeddings 2Vd; per layer QKV 2d·(kh + 2kv) (the paper's 6d·kh without grouped-query attention), logits
    2s·kh, softmax 3h·s, values 2s·kh, output 2kh·d, FFN 2(d·f + d·f) (3 matrices for SwiGLU); final logits 2dV.
    No causal-mask discount, as in the paper. Norms and biases are not counted (as in the paper).
    """
    if not isinstance(shape, Shape):
        raise ScaleplanError(f"flops_per_token needs a Shape, got {type(shape).__name__}")
    s, d, kh, h, f, v, n_layers = (
        shape.context,
        shape.d_model,
        shape.attn_dim,
        shape.heads,
        shape.d_ff,
        shape.vocab,
        shape.layers,
    )
    emb = 2.0 * v * d
    qkv = n_layers * 2.0 * d * (kh + 2 * shape.kv_dim)
    logits = n_layers * 2.0 * s * kh
    softmax = n_layers * 3.0 * h * s
    values = n_layers * 2.0 * s * kh
    out = n_layers * 2.0 * kh * d
    ffn = n_layers * 2.0 * shape.ffn_matrices * d * f
    final = 2.0 * d * v
    fwd = emb + qkv + logits + softmax + values + out + ffn + final
    train = 3.0 * fwd
    n = float(shape.total_params)
    m = 6.0 * shape.matrix_params + 12.0 * n_layers * kh * s  # eq. 2 counts the layers' weight matrices
    return FlopCount(
        embeddings=emb,
        qkv=qkv,
        attention_logits=logits,
        softmax=softmax,
        attention_values=values,
        attention_output=out,
        feed_forward=ffn,
        final_logits=final,
        forward=fwd,
        flops_per_token=train,
        params=n,
        six_n=training_flops(n, 1.0),
        ratio=train / training_flops(n, 1.0),
        deepseek_m=m,
        citation=cite(constants()["flops"]["citation"]),
    )


CONVENTIONS = ("total", "non_embedding", "non_embedding_with_head", "flops_per_token")


def check_convention(convention: str) -> str:
    if convention not in CONVENTIONS:
        raise ScaleplanError(f"convention must be one of {', '.join(CONVENTIONS)}, got {convention!r}")
    return convention


def measure(shape: Shape, convention: str = "total") -> float:
    """The shape's size in a law's convention: total, non-embedding, non-embedding + head, or DeepSeek's M."""
    convention = check_convention(convention)
    if convention == "total":
        return float(shape.total_params)
    if convention == "non_embedding":
        return float(shape.non_embedding_params)
    if convention == "non_embedding_with_head":
        return float(shape.non_embedding_params + shape.vocab_params)
    return float(flops_per_token(shape).deepseek_m)
